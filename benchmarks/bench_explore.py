"""Time from a changed lever to updated numbers on the page of ``overhang-jax explore``.

In process (default): the page's widgets without a browser; setting the cap's length (D) runs the
callback the browser would, to the end: world B re-run, the headline sentences and table rebuilt, the fan
chart's and histograms' sources refilled. With ``--browser``, the same through headless Chromium: the
value typed into the page's input, the clock stopped when the page shows the new headline.

Baseline, in the same run: ``oj.compare`` of the same settings (both worlds computed, no page). XLA's
compile seconds during the timed changes are reported: a lever change should compile nothing.

    python benchmarks/bench_explore.py [--draws 20000] [--repeats 7] [--browser]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).parent))
from _common import CompileClock, OtherLoad, count, cpu_name  # noqa: E402

import overhang_jax as oj  # noqa: E402

# One XLA CPU device per core, as the command line sets them (oj.configure), before any JAX
# computation; no persistent compilation cache, so the compile times measured are a cold process's.
oj.configure(compilation_cache=False)
from overhang_jax.present._explore import Exploration, free_port, start_server  # noqa: E402

LENGTHS = (3.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0)
HEADROOMS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 1.0, 1.5)


def in_process(draws: int, repeats: int, lever: str = "D", values=LENGTHS) -> list[float]:
    from overhang_jax.present._explore import _Page  # the page without a server

    page = _Page(Exploration("trajectory", draws=draws, seed=0))
    entry = page.controls[lever][1]
    entry.value = 5.0 if lever == "D" else 0.0  # the first fixed value compiles (see RESULTS.md)
    times = []
    for value in (values * repeats)[:repeats]:
        before = page.headline.object
        started = time.perf_counter()
        entry.value = value
        times.append(time.perf_counter() - started)
        assert page.headline.object != before and page.message.object == "", page.message.object
    return times


def through_browser(draws: int, repeats: int) -> list[float]:
    sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "present"))
    from browser import Session  # the DevTools driver of the tests

    port = free_port()
    server = start_server("trajectory", port=port, draws=draws, threaded=True)
    time.sleep(2)
    headline = "__deep('.explore-headline li').map(e => e.textContent)"

    def type_length(value: float) -> None:
        page.evaluate(f"""(() => {{ const i = __deep('.explore-lever-D')[0].shadowRoot.querySelector('input');
                          i.value = '{value}'; i.dispatchEvent(new Event('change', {{bubbles: true}})); }})()""")

    def changed(before):
        while (now := page.evaluate(headline)) in ([], before):
            time.sleep(0.01)
        return now

    try:
        with Session(f"http://127.0.0.1:{port}/", Path(tempfile.mkdtemp())) as page:
            shown = page.wait_until(f"(() => {{ const h = {headline}; return h.length ? h : null; }})()", 600)
            type_length(5.0)
            shown = changed(shown)
            times = []
            for value in (LENGTHS * repeats)[:repeats]:
                started = time.perf_counter()
                type_length(value)
                shown = changed(shown)
                times.append(time.perf_counter() - started)
            return times
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=count, default=20_000)
    parser.add_argument("--repeats", type=count, default=7)
    parser.add_argument("--browser", action="store_true", help="also time it through headless Chromium")
    args = parser.parse_args()
    clock = CompileClock()
    print(f"{cpu_name()}; {jax.device_count()} XLA CPU device(s); jax {jax.__version__}; overhang_jax "
          f"{oj.__version__}; {args.draws:,} paired draws")

    x = Exploration("trajectory", draws=args.draws, seed=0)
    x.set("D", 5.0)
    priors = x.priors()
    oj.compare("trajectory", *priors, draws=args.draws, seed=0)  # compiled before timing
    baseline = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        oj.compare("trajectory", *priors, draws=args.draws, seed=0)
        baseline.append(time.perf_counter() - started)

    in_process(args.draws, 1)  # warm: the page's own first run and first fixed values
    in_process(args.draws, 1, "cap_headroom", HEADROOMS)
    compiled = clock.seconds
    with OtherLoad() as load:
        times = in_process(args.draws, args.repeats)
        headroom = in_process(args.draws, args.repeats, "cap_headroom", HEADROOMS)
    compiled_after = clock.seconds - compiled
    rows = [("oj.compare (both worlds, no page): baseline", baseline),
            ("cap length (both worlds re-run), in process", times),
            ("cap headroom (world B re-run), in process", headroom)]
    if args.browser:
        rows.append(("cap length through Chromium (typed -> headline shown)", through_browser(args.draws,
                                                                                           args.repeats)))
    print(f"other processes' load while timing the page: {load.cores:.2f} cores; XLA compile seconds during "
          f"the timed lever changes: {compiled_after:.2f}")
    print(f"{'':58s} median    max   / baseline median")
    base = statistics.median(baseline)
    for label, values in rows:
        print(f"{label:58s} {statistics.median(values):6.3f} s {max(values):6.3f} s   "
              f"{statistics.median(values) / base:.2f}")


if __name__ == "__main__":
    main()
