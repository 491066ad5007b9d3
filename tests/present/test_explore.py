"""The page of ``overhang-jax explore``: its settings compute exactly ``oj.compare``; bad values are refused
naming the parameter; saved priors files reproduce the page; and, in headless Chromium, a lever moved
through the page changes the headline to the sentences ``compare`` writes."""

from __future__ import annotations

import html
import json
import math
import os
import time

import numpy as np
import pytest

import overhang_jax as oj
from overhang_jax.cli import main
from overhang_jax.present._explore import PAGES, Exploration, _Page, compile_seconds, free_port, start_server

from browser import Session, chromium

DRAWS = 2000  # enough draws for every headline sentence; the page's default (20,000) is for people


def assert_same_comparison(got, want):
    """Every variable of both runs and of the differences, bit for bit."""
    for group in ("a", "b", "prior_predictive"):
        for name in want[group].to_dataset().data_vars:
            assert np.array_equal(got[group][name].values, want[group][name].values, equal_nan=True), (group, name)
    # The sentences name each world's scenario (a saved file's name, say): the rest must be the same.
    assert [_unnamed(s) for s in oj.comparison_findings(got)] == [_unnamed(s) for s in oj.comparison_findings(want)]


def _unnamed(sentence: str) -> str:
    import re

    return re.sub(r"\b([AB]) = [^:;,]+", r"\1 = (scenario)", sentence)


def test_a_value_sets_both_worlds_where_their_scenarios_agree_and_the_comparison_is_compare():
    x = Exploration("trajectory", draws=DRAWS, seed=3)
    x.set("D", 7.0)  # no_policy and hard_cap_sudden_end agree on the cap's length: both worlds
    x.set("cap_headroom", 0.5)  # no_policy's is 1000 OOM (no cap): world B only
    x.set("E_tai", 33.0)
    a, b = x.priors()
    assert a.distributions["D"].point_value == b.distributions["D"].point_value == 7.0
    assert (a.distributions["cap_headroom"].point_value, b.distributions["cap_headroom"].point_value) == (1000, 0.5)
    assert a.distributions["E_tai"].point_value == b.distributions["E_tai"].point_value == 33.0
    first = x.compare()
    # Built independently of the page: the shipped scenarios with the same values fixed.
    want_a = oj.load_priors("trajectory", "no_policy").with_point("D", 7.0).with_point("E_tai", 33.0)
    want_b = (oj.load_priors("trajectory", "hard_cap_sudden_end").with_point("D", 7.0)
              .with_point("cap_headroom", 0.5).with_point("E_tai", 33.0))
    assert_same_comparison(first, oj.compare("trajectory", want_a, want_b, draws=DRAWS, seed=3))
    # The worlds differ only in their cap: growth "after the cap" is measured in the same years in both.
    assert not any(s.startswith("A and B differ in the world without") for s in oj.comparison_findings(first))
    # Another value, or a control fixed for the first time, compiles nothing: priors are data of the
    # compiled programs.
    compiled = compile_seconds()
    x.set("D", 9.0)
    x.set("alpha", 0.3)
    x.compare()
    assert compile_seconds() == compiled
    x.set("D", 7.0)
    x.set("alpha", None)
    # A value for world B alone reuses world A: still exactly compare's answer, and a different one.
    x.set("cap_headroom", 0.0)
    second = x.compare()
    assert_same_comparison(second, oj.compare("trajectory", want_a, want_b.with_point("cap_headroom", 0.0),
                                              draws=DRAWS, seed=3))
    assert oj.comparison_findings(second) != oj.comparison_findings(first)
    x.set("D", None)  # back to the scenarios' prior, in both worlds
    assert not any(p.distributions["D"].is_point for p in x.priors())


@pytest.mark.parametrize("name, value, words", [
    ("D", -4.0, ["'D'", "(0, inf)"]),
    ("alpha", 1.5, ["'alpha'", "[0, 1]"]),
    ("e_share", math.nan, ["e_share", "finite"]),
    ("no_such_lever", 1.0, ["'no_such_lever'", "controls are"]),
])
def test_a_bad_value_is_refused_naming_it_and_changes_nothing(name, value, words):
    x = Exploration("trajectory", draws=DRAWS)
    x.set("D", 6.0)
    with pytest.raises(oj.PriorsError) as refused:
        x.set(name, value)
    assert all(word in str(refused.value) for word in words), str(refused.value)
    assert "\n" not in str(refused.value)
    assert x.fixed == {"D": 6.0}


def test_a_broken_priors_file_is_refused_and_the_policy_stays(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('model = "trajectory"\n[params]\nD = { dist = "uniform", lo = 5 }\n')
    x = Exploration("trajectory", draws=DRAWS)
    with pytest.raises(oj.PriorsError, match="broken.toml"):
        x.set_policy(broken)
    assert x.policy_source == "hard_cap_sudden_end"


def test_a_value_outside_the_prior_is_run_with_a_note():
    x = Exploration("trajectory", draws=DRAWS)
    x.set("t_cap", 2040.0)  # the scenario's prior: uniform 2026-2030
    notes = x.outside_prior()
    assert len(notes) == 1 and "t_cap = 2040" in notes[0] and "[2026, 2030]" in notes[0]
    x.set("t_cap", 2028.0)
    assert x.outside_prior() == []


def test_saved_priors_files_reproduce_the_page(tmp_path):
    x = Exploration("trajectory", draws=DRAWS, seed=5)
    x.set("D", 4.0)
    x.set("alpha", 0.9)
    x.set("lam", 0.2)
    page = x.compare()
    a, b = x.save_priors(tmp_path / "mine")
    assert (a.name, b.name) == ("mine_a.toml", "mine_b.toml")
    assert_same_comparison(oj.compare("trajectory", a, b, draws=DRAWS, seed=5), page)
    # The command line takes them too: a run of world B is the page's world B.
    out = tmp_path / "b.nc"
    assert main(["run", "trajectory", "--priors", str(b), "--draws", str(DRAWS), "--seed", "5", "--out", str(out),
                 "--no-plots"]) == 0
    run = oj.load(out)
    for name in oj.outputs(page["b"]).data_vars:
        assert np.array_equal(oj.outputs(run)[name].values, oj.outputs(page["b"])[name].values, equal_nan=True)


@pytest.mark.parametrize("model", sorted(PAGES))
def test_every_control_and_figure_of_a_page_is_in_its_model(model):
    m = oj.get_model(model)
    page = PAGES[model]
    names = [name for name, _ in page.levers] + list(page.uncertain)
    assert len(set(names)) == len(names)
    assert all(name in m.parameter_names and name not in m.static_names for name in names)
    assert all(output in m.output_names for output, _ in page.distributions)
    assert all(name in m.trajectories.names for name in page.fan)
    assert page.sweep[0] in names
    for scenario in (page.baseline, page.policy):
        assert oj.load_priors(model, scenario).name == scenario


def test_the_page_saves_what_the_command_line_writes_and_sweeps_and_refines(tmp_path):
    page = _Page(Exploration("trajectory", draws=DRAWS, seed=1))  # no server: the widgets' callbacks alone
    page.controls["D"][1].value = 8.0
    assert page.x.fixed == {"D": 8.0} and page.controls["D"][0].value  # typing a value fixes it
    want = oj.compare("trajectory", oj.load_priors("trajectory", "no_policy").with_point("D", 8.0),
                      oj.load_priors("trajectory", "hard_cap_sudden_end").with_point("D", 8.0), draws=DRAWS, seed=1)
    assert_same_comparison(page.comparison, want)
    page.stem.value = str(tmp_path / "run")
    page._save("results")
    page._save("report")
    page._save("priors")
    assert_same_comparison(oj.load(tmp_path / "run.nc"), want)
    assert "<html" in (tmp_path / "run.html").read_text() and "Paired differences" in (tmp_path / "run.html").read_text()
    assert "overhang-jax compare" in page.saved.object and (tmp_path / "run_b.toml").is_file()
    page.stem.value = str(tmp_path / "missing" / "run")
    page._save("results")
    assert "does not exist" in page.message.object
    # The sweep over one lever: oj.sweep of world B.
    page.sweep_lever.value, page.sweep_values.value = "alpha", "0, 1"
    page._sweep()
    assert "alpha" in page.sweep_out.object and page.message.object == ""
    page.sweep_values.value = "0, 2"
    page._sweep()
    assert "'alpha'" in html.unescape(page.message.object) and "[0, 1]" in page.message.object
    # More draws: the same comparison with four times the draws (computed here in the foreground).
    assert_same_comparison(page.x.compare(4 * DRAWS), oj.compare("trajectory", *page.x.priors(), draws=4 * DRAWS,
                                                                  seed=1))


def test_oj_explore_gives_the_page_for_jupyter():
    import panel as pn

    layout = oj.explore("takeoff", draws=DRAWS)
    assert isinstance(layout, pn.layout.Panel)
    headline = [p for p in layout.select(pn.pane.HTML) if "explore-headline-pane" in p.css_classes]
    assert len(headline) == 1 and "B delays takeoff" in headline[0].object


def test_cli_serves_the_page_on_127_0_0_1_and_prints_where(tmp_path):
    import subprocess
    import sys
    import urllib.request

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", "import sys; from overhang_jax.cli import main; "
                               f"sys.exit(main(['explore', '--port', '{port}']))"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == f"overhang-jax explore: http://127.0.0.1:{port}/ (Ctrl-C to stop)"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as reply:
                    page = reply.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read()
                time.sleep(0.2)
        assert "overhang-jax explore: trajectory" in page
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_cli_refuses_a_port_in_use_and_a_bad_one(capsys):
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert main(["explore", "--port", str(port)]) == 2
    assert f"--port {port}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["explore", "--port", "70000"])
    assert "port number in [1, 65535]" in capsys.readouterr().err


# ---- in headless Chromium -------------------------------------------------------------------------------
def need_chromium():
    """Skip where Chromium is missing, except in CI, which installs it (.ci/run): there, fail."""
    if chromium() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (Debian package `chromium`); CI installs it and runs this test")

HEADLINE = "__deep('.explore-headline li').map(e => e.textContent)"
ERROR = "__deep('.explore-error').map(e => e.textContent).join(' ')"


def type_into(session: Session, css_class: str, text: str) -> None:
    """Type ``text`` into the input of the widget with ``css_class`` and commit it, as Enter does."""
    session.evaluate(f"""(() => {{
        const input = __deep('.{css_class}')[0].shadowRoot.querySelector('input');
        input.value = {json.dumps(text)};
        input.dispatchEvent(new Event('change', {{bubbles: true}}));
    }})()""")


def changed_headline(session: Session, before: list[str], timeout: float = 300) -> list[str]:
    deadline = time.monotonic() + timeout
    while (now := session.evaluate(HEADLINE)) in ([], before):
        assert time.monotonic() < deadline, "the headline did not change"
        time.sleep(0.05)
    return now


@pytest.fixture(scope="module")
def page_url():
    import socket

    port = free_port()
    server = start_server("trajectory", port=port, draws=DRAWS, seed=0, threaded=True)
    deadline = time.monotonic() + 60
    while True:  # the server thread listens in a moment
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.stop()


def test_moving_a_lever_in_the_page_gives_compares_headline(page_url, tmp_path):
    need_chromium()
    with Session(page_url, tmp_path / "profile") as page:
        first = page.wait_until(f"(() => {{ const h = {HEADLINE}; return h.length ? h : null; }})()", timeout=300)
        want_a = oj.load_priors("trajectory", "no_policy")
        want_b = oj.load_priors("trajectory", "hard_cap_sudden_end")
        assert first == oj.comparison_findings(oj.compare("trajectory", want_a, want_b, draws=DRAWS, seed=0))
        type_into(page, "explore-lever-D", "7")  # the cap's length: both worlds
        second = changed_headline(page, first)
        want_a, want_b = want_a.with_point("D", 7.0), want_b.with_point("D", 7.0)
        assert second == oj.comparison_findings(oj.compare("trajectory", want_a, want_b, draws=DRAWS, seed=0))
        assert page.evaluate(ERROR) == ""
        # More draws: computed in the background, then shown.
        page.evaluate("__deep('.explore-more')[0].shadowRoot.querySelector('button').click()")
        more = changed_headline(page, second)
        assert more == oj.comparison_findings(oj.compare("trajectory", want_a, want_b, draws=4 * DRAWS, seed=0))
        # Nothing fetched from outside this machine: Panel serves its own scripts and styles.
        outside = [u for u in page.requests if u.startswith(("http:", "https:", "ws:", "wss:"))
                   and not u.startswith("http://127.0.0.1:")]
        assert outside == []


def test_bad_input_in_the_page_shows_a_message_and_the_page_keeps_working(page_url, tmp_path):
    need_chromium()
    broken = tmp_path / "broken.toml"
    broken.write_text('model = "trajectory"\n[params]\nalpha = 7\n')
    with Session(page_url, tmp_path / "profile") as page:
        first = page.wait_until(f"(() => {{ const h = {HEADLINE}; return h.length ? h : null; }})()", timeout=300)
        type_into(page, "explore-lever-D", "-4")
        message = page.wait_until(ERROR)
        assert "'D'" in message and "(0, inf)" in message
        assert page.evaluate(HEADLINE) == first  # the last good comparison stays
        type_into(page, "explore-priors-file", str(broken))
        message = page.wait_until(f"(() => {{ const m = {ERROR}; return m.includes('broken.toml') ? m : ''; }})()")
        assert "'alpha'" in message and "[0, 1]" in message
        type_into(page, "explore-lever-alpha", "0.25")
        second = changed_headline(page, first)
        assert page.evaluate(ERROR) == ""
        want_a = oj.load_priors("trajectory", "no_policy").with_point("alpha", 0.25)
        want_b = oj.load_priors("trajectory", "hard_cap_sudden_end").with_point("alpha", 0.25)
        assert second == oj.comparison_findings(oj.compare("trajectory", want_a, want_b, draws=DRAWS, seed=0))
