"""A report a person opens in a browser: one self-contained HTML page of results files.

Every figure is embedded as a PNG data URI and the page carries a Content
Security Policy that forbids any request outside it, so the file can be
mailed or archived alone and shows the same everywhere.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .._version import __version__

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222;
       line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e4e4e4; text-align: right; }
th:first-child, td:first-child, table.provenance td, table.priors td, table.priors th { text-align: left; }
thead th { border-bottom: 2px solid #999; }
pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; font-size: .8rem; }
img { max-width: 100%; display: block; margin: 1rem 0; }
.findings li { margin: .4rem 0; }
.note { color: #555; font-size: .9rem; }
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""Nothing may be fetched: images come from data URIs, the style sheet is inline."""

LIMITATIONS = (
    "The models are simple: one frontier, a few growth terms added in log space, no economy, no compute "
    "market, no politics. They leave out how a cap would be enforced, who would repeal it, how labs and "
    "governments would respond to one another, and any effect of the cap on safety research itself.",
    "The policy is hypothetical: its start year, length, height and ending are ranges chosen to be "
    "representative, not forecasts. Every share averages over them; the figures at fixed cap lengths "
    "say how much the answer depends on the length.",
    "Several results rest on priors with no empirical source, marked as assumptions: above all alpha, the "
    "share of the overhang caught up after the cap (no cap of this kind has ever been lifted), which drives "
    "much of the TAI delay; the figures at alpha = 0, 0.5 and 1 say how much.",
    "TAI is a threshold of effective compute, and the danger band a fixed number of orders of magnitude "
    "below it: both are stylised, and their priors are wide.",
    "Every number is an estimate from a finite number of draws: a share p from N draws has a standard error "
    "of about sqrt(p(1 - p)/N) (0.3 percentage points for p = 0.1 and N = 10,000; 0.03 for N = 1,000,000); a "
    "result that changes sign with the seed is not a result.",
)
"""What the models leave out, which results rest on assumptions, and sampling error: the report's and
docs/findings.md's limitations section."""

GLOSSARY = {
    "draw": "One set of parameter values drawn from the priors, and the model's outputs for it.",
    "paired comparison": "Scenarios A and B run on the same random numbers, draw by draw, so that each "
                         "difference B - A is what B changes in that draw.",
    "TAI": "Transformative AI: here, the frontier's effective compute reaching the threshold E_tai. The TAI year "
           "is the first year it does (not reached by 2100: never).",
    "danger band": "The last w orders of magnitude of effective compute below TAI; the years spent in it are "
                   "the time to notice and respond before TAI.",
    "overhang": "Capability that could be had quickly because its inputs have piled up: here, the gap between "
                "the world without the cap and the capped frontier when the cap ends.",
    "cap": "A limit on the largest training run, in force for D years from t_cap, then repealed at once or "
           "lifted gradually.",
    "catch-up (alpha)": "After the cap, the capped frontier closes the share alpha of the overhang (0: none, "
                        "1: all), at rate kappa per year, at most k_max OOM/yr faster than otherwise.",
    "evaders": "Frontier actors outside the cap's regime; the lead over evaders is how far ahead of them the "
               "regulated actors are when they reach TAI, in OOM.",
    "backfire": "A draw where the policy makes the world worse on a headline outcome: TAI earlier, or less "
                "time in the danger band. Faster growth after the cap is not a backfire but the mechanism, "
                "reported on its own line.",
    "tolerance": "The difference within which A and B count as the same: 0.05 years for years, 0.01 OOM for "
                 "compute, 0.01 OOM/yr for growth.",
    "median over all draws": "The number to quote: the middle of the changes of every draw compared, zeros "
                             "included, with the share of draws that do not change beside it.",
    "OOM": "Order of magnitude: a factor of ten (1 OOM of compute is ten times as much).",
    "90% interval": "The range holding the middle 90% of the draws (from the 5th to the 95th percentile).",
}
"""The words the report uses, defined on the page itself, so that it reads with nothing else (the same
words as docs/glossary.md and docs/outcomes.md)."""
CITATION_AUTHORS = "The overhang_jax contributors"


def write_report(results: Sequence[xr.DataTree], path: str | os.PathLike,
                 sources: Sequence[str] | None = None) -> Path:
    """Write one HTML page about ``results`` (runs, comparisons or Sobol indices) to ``path``.

    ``sources`` names where each came from (file paths), shown beside each section.
    """
    from .._io import write_atomic

    path = Path(path)
    sources = list(sources) if sources is not None else [""] * len(results)
    sweeps = {str(tree.attrs.get("param")): tree for tree in results if tree.attrs.get("kind") == "sweep"}
    sections = [_section(tree, source, index) for index, (tree, source) in enumerate(zip(results, sources))]
    headline = "".join(_headline(tree, sweeps) for tree in results if tree.attrs.get("kind") == "comparison")
    contents = "".join(f'<li><a href="#section-{i}">{html.escape(title)}</a></li>'
                       for i, (title, _) in enumerate(sections))
    created = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>overhang_jax report</title><style>{STYLE}</style></head>
<body><h1>overhang_jax report</h1>
<p class="note">Written {created} by overhang_jax {__version__}. Every number below is computed from the
results files; the words it uses are defined in the <a href="#glossary">glossary</a> at the end of this page,
and its <a href="#limitations">limitations</a> say how far to trust it.</p>
{_how_to_cite(results)}
{headline}
<ul>{contents}<li><a href="#limitations">Limitations</a></li><li><a href="#glossary">Glossary</a></li></ul>
{"".join(body for _, body in sections)}
<section id="limitations"><h2>Limitations</h2><ul>{"".join(f"<li>{html.escape(x)}</li>" for x in LIMITATIONS)}</ul>
</section>
<section id="glossary"><h2>Glossary</h2><dl>{"".join(f"<dt><b>{html.escape(k)}</b></dt><dd>{html.escape(v)}</dd>"
                                                     for k, v in GLOSSARY.items())}</dl></section>
</body></html>
"""
    write_atomic(path, lambda temp: temp.write_text(page, encoding="utf-8"))
    return path


def _commit() -> str:
    """The git commit of the code writing the report (with "-dirty" for uncommitted changes), or a note
    when it is not run from a git checkout."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return commit + ("-dirty" if dirty else "")


def how_to_cite(results: Sequence[xr.DataTree]) -> str:
    """One line to cite the results: the package's version and commit, each file's seed and draws."""
    runs = "; ".join(f"{_title(tree)}: seed {tree.attrs.get('seed', 'none')}, "
                     f"{int(tree.attrs.get('draws', tree.attrs.get('base_samples', 0))):,} draws"
                     for tree in results)
    year = datetime.date.today().year
    return (f"{CITATION_AUTHORS} ({year}). overhang_jax, version {__version__} (commit {_commit()}) [software]. "
            f"Results: {runs}. See CITATION.cff.")


def _how_to_cite(results: Sequence[xr.DataTree]) -> str:
    return f'<p><b>How to cite:</b> {html.escape(how_to_cite(results))}</p>'


def _headline(comparison: xr.DataTree, sweeps: dict[str, xr.DataTree]) -> str:
    """The first screen: the policy in words, the quotable numbers of the comparison, the same at fixed
    cap lengths and at alpha = 0, 0.5, 1 where the sweeps are given, and the policy's priors, open."""
    from ..studies._comparison import POLICY_PARAMETERS, comparison_findings, policy_in_words

    attrs = comparison.attrs
    model = str(attrs.get("model"))
    b = {"model": model, **comparison["b"].attrs} if "b" in comparison.children else dict(attrs)
    findings = comparison_findings(comparison)
    quoted = [f for f in findings if f.startswith("Backfire") or "The median change in" in f][:3]
    parts = [f"<h2>Headline: {html.escape(_scenario(attrs['scenario_b']))} against "
             f"{html.escape(_scenario(attrs['scenario_a']))}</h2>",
             f"<p><b>The policy:</b> {html.escape(policy_in_words(b))}.</p>",
             '<ul class="findings">' + "".join(f"<li>{html.escape(x)}</li>" for x in quoted) + "</ul>"]
    conditional = _conditional(sweeps)
    if conditional:
        parts.append(conditional)
    names = POLICY_PARAMETERS.get(model, ())
    if names and "priors_toml" in b:
        parts.append(_policy_priors(model, str(b["priors_toml"]), names))
    return "<section id=\"headline\">" + "".join(parts) + "</section>"


def _conditional(sweeps: dict[str, xr.DataTree]) -> str:
    """The headline at fixed values of the cap's length D and of alpha, from paired sweeps: one
    quotable sentence (the first value against the last) and a table of every value."""
    from ..studies._comparison import percent
    from ..studies._sweep import is_conditioned_sweep, sweep_headline

    words = {"D": ("a cap lasting {v:g} years", "By the cap's length", "D (yr)"),
             "alpha": ("catch-up closing {v:.0%} of the overhang (alpha = {v:g})", "By catch-up", "alpha")}
    parts = []
    for param, (phrase, heading, column) in words.items():
        tree = sweeps.get(param)
        table = sweep_headline(tree) if tree is not None else None
        if table is None:
            continue
        basis = ""
        if is_conditioned_sweep(tree):  # the posterior where it is reliable at every value; else the prior, said
            observed = html.escape(str(tree.attrs["posterior_observations"]))
            if int(tree.attrs["posterior_reliable"]):
                table = sweep_headline(tree, posterior=True)
                basis = (f" Posterior given the observations <b>{observed}</b>: at each value, its draws resampled "
                         "by weight (reliable at every value).")
            else:
                basis = (f" <b>Prior figures</b> (every draw): the posterior given <b>{observed}</b> is not reliable "
                         "at every value (see the sweep's section).")
        scenario = html.escape(_scenario(str(tree.attrs["priors_source"])))
        (first, low), (last, high) = next(table.iterrows()), list(table.iterrows())[-1]
        sentence = (f"With {phrase.format(v=first)}, TAI comes a median {low['median_delay_years']:.2g} years later "
                    f"than without a cap (over all {int(low['delay_draws']):,} draws, no change in "
                    f"{percent(low['no_change'])}); with {phrase.format(v=last)}, "
                    f"{high['median_delay_years']:.2g} years (no change in {percent(high['no_change'])}).")
        rows = "".join(f"<tr><td>{v:g}</td><td>{row['median_delay_years']:.2g}</td>"
                       f"<td>{percent(row['no_change'])}</td><td>{percent(row['backfire'])} of "
                       f"{int(row['backfire_draws']):,}</td></tr>" for v, row in table.iterrows())
        parts.append(
            f"<h3>{heading}</h3><p>{html.escape(sentence)}</p>"
            f'<p class="note">A paired sweep: the same {int(tree.attrs["draws"]):,} draws at each value, seed '
            f"{tree.attrs['seed']}, everything else as in {scenario}. The median delay is over all draws, zeros "
            "included; backfire: TAI earlier or less time in the danger band, of the draws where the cap starts "
            f"before TAI without it and both can be compared.{basis}</p>"
            f"<table><thead><tr><th>{column}</th><th>median TAI delay (yr)</th><th>no change</th>"
            f"<th>backfire</th></tr></thead><tbody>{rows}</tbody></table>")
    return "".join(parts)


def _policy_priors(model: str, text: str, names) -> str:
    """The policy's priors, one row each, open on the page, each marked sourced or an assumption."""
    from ..priors._priors import load_priors
    from ..studies._comparison import ASSUMPTIONS

    priors = load_priors(model, text=text)
    rows = "".join(f"<tr><td><code>{html.escape(n)}</code></td><td><code>"
                   f"{html.escape(priors.distributions[n].to_toml())}</code></td><td>"
                   + ("assumption: no empirical source" if n in ASSUMPTIONS.get(model, ()) else
                      "sourced in the priors file") + "</td></tr>"
                   for n in names if n in priors.distributions)
    return ("<h3>The policy's priors (every headline averages over them)</h3>"
            f'<table class="priors"><thead><tr><th>parameter</th><th>prior</th><th>source</th></tr></thead><tbody>{rows}'
            "</tbody></table>")


def _title(tree: xr.DataTree) -> str:
    kind = tree.attrs.get("kind", "run")
    if kind == "comparison":
        return f"{_scenario(tree.attrs['scenario_b'])} against {_scenario(tree.attrs['scenario_a'])}"
    if kind == "sweep":
        return f"{tree.attrs['param']} swept ({_scenario(tree.attrs['priors_source'])})"
    return f"{tree.attrs.get('model')} {kind}"


def _section(tree: xr.DataTree, source: str, index: int) -> tuple[str, str]:
    kind = tree.attrs.get("kind", "run")
    if kind == "comparison":
        title = (f"{tree.attrs['model']}: {_scenario(tree.attrs['scenario_b'])} (B) against "
                 f"{_scenario(tree.attrs['scenario_a'])} (A)")
        body = _comparison(tree)
    elif kind == "sweep":
        title = f"{tree.attrs['model']}: {tree.attrs['param']} swept ({_scenario(tree.attrs['priors_source'])})"
        body = _sweep(tree)
    elif kind == "sobol_indices":
        title = f"{tree.attrs['model']}: what drives {', '.join(map(str, tree.to_dataset()['output'].values))}"
        body = _sensitivity(tree)
    else:
        title = f"{tree.attrs['model']}: {_scenario(_run_label(tree.attrs))}"
        body = _run(tree)
    where = f'<p class="note">File: <code>{html.escape(source)}</code></p>' if source else ""
    return title, f'<section id="section-{index}"><h2>{html.escape(title)}</h2>{where}{body}</section>\n'


def _scenario(source: str) -> str:
    """A scenario as a reader names it: 'default priors', 'priors given as text', or its name (a path
    becomes its file's stem)."""
    from .._results import scenario_name

    name = scenario_name(source)
    return {"defaults": "default priors", "priors text": "priors given as text"}.get(name, name)


def _run(tree: xr.DataTree) -> str:
    from ..studies._summaries import outputs_left_out, summary

    attrs = tree.attrs
    table = summary(tree)
    left_out = outputs_left_out(tree, list(table.index))
    notes = "".join(f"<li>{html.escape(name)}: {html.escape(why)}</li>" for name, why in left_out.items())
    parts = [_provenance(attrs), _conditioning(tree), "<h3>Summary</h3>",
             '<p class="note">Over the finite draws of each output (ArviZ statistics); <i>nonfinite</i> counts '
             "the draws that were NaN or infinite, for example a threshold never reached by the horizon.</p>",
             _table(table.drop(index=list(left_out)), attrs["draws"]),
             f'<p class="note">Not in the table:</p><ul class="note">{notes}</ul>' if notes else "",
             "<h3>Figures</h3>", _figures(tree), _priors(attrs)]
    return "".join(parts)


def _comparison(tree: xr.DataTree) -> str:
    from ..studies._summaries import summary
    from ..studies._comparison import compare_summary, comparison_display, comparison_findings, comparison_notes

    attrs = tree.attrs
    a, b = _scenario(attrs["scenario_a"]), _scenario(attrs["scenario_b"])
    findings = "".join(f"<li>{html.escape(sentence)}</li>" for sentence in comparison_findings(tree))
    table = compare_summary(tree)
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in comparison_notes(table))
    parts = [
        f"<p>A = <b>{html.escape(a)}</b>, B = <b>{html.escape(b)}</b>: {int(attrs['draws']):,} paired draws "
        f"(seed {attrs['seed']}, {attrs['dtype']}); draw <i>i</i> of A and of B share every random number, so "
        "each difference B - A is what B changes in that draw.</p>",
        f'<h3>What it says</h3><ul class="findings">{findings}</ul>',
        _conditioning(tree),
        "<h3>Paired differences B - A</h3>",
        '<p class="note"><i>worse if</i>: the direction that is worse from a safety view (earlier TAI, faster '
        "growth after the cap, a bigger overhang, a shorter danger band or takeoff, a smaller lead over evaders; "
        "n/a for quantities that only describe a scenario); <i>B worse</i>, <i>same</i> (within <i>same "
        "within</i>, in the output's units) and <i>B better</i>: shares of the draws with a finite "
        "difference.</p>",
        _table(comparison_display(table)),
        f'<p class="note">Not in the table:</p><ul class="note">{notes}</ul>' if notes else "",
        "<h3>Figures</h3>", _figures(tree),
    ]
    for label in ("a", "b"):
        run = tree[label]
        parts.append(f"<details><summary>Scenario {label.upper()} ({html.escape(_scenario(_run_label(run.attrs)))}"
                     f"): provenance, summary and priors</summary>{_provenance(run.attrs)}"
                     f"{_table(summary(run), run.attrs['draws'])}{_priors(run.attrs)}</details>")
    return "".join(parts)


def _conditioning(tree: xr.DataTree) -> str:
    """What the observations changed (a run or comparison conditioned on them): the observations, the
    verdict on the weights, prior against posterior for the headline outputs, and their figure."""
    from ..studies._conditioning import is_conditioned, observation_lines, prior_posterior, prior_posterior_display
    from ._figures import plot_prior_posterior

    comparison = tree.attrs.get("kind") == "comparison"
    if not is_conditioned(tree) or (comparison and not is_conditioned(tree["a"])):
        return ""
    attrs = tree.attrs
    source = tree["a"] if comparison else tree
    observations = "".join(f"<li>{html.escape(line)}</li>" for line in observation_lines(source))
    names = None
    if comparison:
        from ..models._registry import get_model

        names = [h.output for h in get_model(attrs["model"]).headlines]
    what = ("paired differences B - A of the pairs resampled by weight (both worlds of a pair carry A's weight)"
            if comparison else "the draws resampled by weight")
    return "".join([
        f"<h3>What the data since 2023 changed</h3><p>Conditioned on the observations "
        f"<b>{html.escape(str(attrs['posterior_observations']))}</b> (docs/observations.md gives the method and "
        f"each number's source):</p><ul>{observations}</ul>",
        f"<p><b>{html.escape(str(attrs['posterior_verdict']))}</b></p>",
        f'<p class="note">Prior: every draw. Posterior: {what}. Medians and 90% intervals over all draws, a year '
        "never reached counted as after every other.</p>",
        _table(prior_posterior_display(prior_posterior(tree, names))),
        _image(lambda: plot_prior_posterior(tree, names), "prior and posterior")])


def _run_label(attrs) -> str:
    return str(attrs.get("scenario", attrs.get("priors_source", "")))


def _sweep(tree: xr.DataTree) -> str:
    from ..studies._comparison import SHARE_LABELS
    from ..studies._sweep import is_conditioned_sweep, sweep_shares, sweep_summary, sweep_values

    attrs = tree.attrs
    param = attrs["param"]
    values = sweep_values(tree)
    parts = [_provenance(attrs),
             f"<p>{param} fixed to each of {', '.join(f'{v:g}' for v in values)} in turn, on the same "
             f"{int(attrs['draws']):,} draws (the same seed, every other parameter drawn with the same random "
             f"numbers): the change from one value to the next is the effect of {html.escape(param)} alone.</p>"]
    conditioned = is_conditioned_sweep(tree)
    if conditioned:
        parts.append(_sweep_conditioning(tree))
    for posterior in ((True, False) if conditioned else (False,)):
        which = ("Posterior" if posterior else "Prior") if conditioned else ""
        basis = ("each value's draws resampled by weight" if posterior else "unweighted") if conditioned else ""
        shares = sweep_shares(tree, posterior=posterior)
        if shares is not None:
            from ..studies._sweep import share_cell

            table = pd.DataFrame({f"{param} = {v:g}": [share_cell(column, shares.loc[v]) for column in SHARE_LABELS]
                                  for v in shares.index}, index=list(SHARE_LABELS.values()))
            parts += [f"<h3>{which + ': t' if which else 'T'}he policy world at each value</h3>",
                      f'<p class="note">Shares of all draws{" (" + basis + ")" if basis else ""}, the policy world '
                      "against the default world draw by draw; sizes in years or OOM/yr.</p>", _table(table, digits=3)]
        table = sweep_summary(tree, posterior=posterior)[["units", "q5", "q50", "q95", "mean", "nonfinite"]]
        table.index = [f"{name}, {param} = {v:g}" for name, v in table.index]
        parts += [f"<h3>{which + ': e' if which else 'E'}ach output at each value</h3>",
                  f'<p class="note">Over the finite draws at each value{" (" + basis + ")" if basis else ""}; '
                  "<i>nonfinite</i> counts the others.</p>", _table(table, attrs["draws"])]
    parts += ["<h3>Figures</h3>", _figures(tree), _priors(attrs)]
    return "".join(parts)


def _sweep_conditioning(tree: xr.DataTree) -> str:
    """A conditioned sweep's observations and the verdict on its weights: once when they are the same at
    every value, else at each value."""
    from ..studies._conditioning import observation_lines
    from ..studies._sweep import sweep_conditioning

    attrs = tree.attrs
    param = html.escape(str(attrs["param"]))
    observations = "".join(f"<li>{html.escape(line)}</li>" for line in observation_lines(tree))
    verdicts = sweep_conditioning(tree)
    if int(attrs["posterior_same_weights"]):
        verdict = (f"<p>The same weights at every value of {param} (each draw's log likelihood is the same, bit for "
                   f"bit: {param} does not change what was observed):</p>"
                   f"<p><b>{html.escape(str(verdicts['verdict'].iloc[0]))}</b></p>")
    else:
        verdict = (f"<p>Each value of {param} has its own weights and verdict:</p><ul>"
                   + "".join(f"<li>{param} = {v:g}: <b>{html.escape(str(row['verdict']))}</b></li>"
                             for v, row in verdicts.iterrows()) + "</ul>")
    return (f"<h3>What the data since 2023 changed</h3><p>Each value's run is conditioned on the observations "
            f"<b>{html.escape(str(attrs['posterior_observations']))}</b> (docs/observations.md gives the method and "
            f"each number's source):</p><ul>{observations}</ul>{verdict}"
            '<p class="note">Below, the posterior (each value\'s draws resampled by weight) first, then the prior '
            "(every draw); a value whose posterior is not reliable is shown for inspection only, not as a "
            "forecast.</p>")


def _sensitivity(tree: xr.DataTree) -> str:
    from ._figures import plot_sobol
    from ..studies._sensitivity import ranked

    indices = tree.to_dataset()
    attrs = indices.attrs
    parts = [f"<p>{int(attrs['base_samples']):,} base samples, {int(attrs['evaluations']):,} model runs, seed "
             f"{attrs['seed']}; {html.escape(str(attrs['estimators']))}; intervals: "
             f"{float(attrs['confidence']):.0%} bootstrap. {html.escape(str(attrs['independence']))}.</p>"]
    for output in indices["output"].values:
        table = ranked(indices, str(output))
        parts.append(f"<h3>{html.escape(str(output))}</h3>{_table(table, digits=3)}"
                     f"{_image(lambda: plot_sobol(indices, str(output)), str(output))}")
    parts.append(_priors(attrs))
    return "".join(parts)


def _provenance(attrs) -> str:
    rows = [("model", f"{attrs.get('model')} ({attrs.get('method', '')})"),
            ("written by", f"overhang_jax {attrs.get('version')}, JAX {attrs.get('jax_version', '')}"),
            ("seed", attrs.get("seed", "none: the parameter sets were given")),
            ("draws", f"{int(attrs.get('draws', 0)):,}"), ("sampler", attrs.get("sampler")),
            ("float width", attrs.get("dtype")), ("priors", _scenario(str(attrs.get("priors_source", "")))),
            ("devices", attrs.get("devices", "")),
            ("kept per draw", "outputs only" if attrs.get("outputs_only") else "parameters and outputs")]
    body = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f'<table class="provenance">{body}</table>'


def _priors(attrs) -> str:
    parts = ['<details><summary>Priors (every parameter, as run: <code>load_priors(..., text=...)</code> '
             f'reproduces them)</summary><pre>{html.escape(str(attrs.get("priors_toml", "")))}</pre></details>']
    text = str(attrs.get("priors_text", "") or "")
    if text.strip():
        parts.append(f"<details><summary>The priors file as read ({html.escape(str(attrs.get('priors_source')))})"
                     f"</summary><pre>{html.escape(text)}</pre></details>")
    return "".join(parts)


def _table(table: pd.DataFrame, draws: int | None = None, digits: int | None = None) -> str:
    """A table as HTML: numbers by the summaries' rule for their row's units (or ``digits`` significant
    figures), non-finite counts with their share of ``draws``."""
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in ["", *table.columns])
    rows = []
    for name, row in table.iterrows():
        cells = [f"<td>{html.escape(str(name))}</td>"]
        for column, value in row.items():
            cells.append(f"<td>{html.escape(_cell(column, value, draws, digits, str(row.get('units', ''))))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(column: str, value, draws: int | None, digits: int, units: str = "") -> str:
    from ..studies._summaries import format_number

    if isinstance(value, str):
        return value
    if column == "nonfinite":
        count = int(value)
        return f"{count:,} ({100 * count / int(draws):.2g}%)" if count and draws else f"{count:,}"
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return format_number(value, units) if digits is None else f"{float(value):.{digits}g}"


def _figures(tree: xr.DataTree) -> str:
    from ._figures import default_figures

    return "".join(_image(draw, name) for name, draw in default_figures(tree))


def _image(draw, name: str) -> str:
    """A figure as an <img> with its PNG inline."""
    import matplotlib.pyplot as plt

    figure = draw()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(name.replace("_", " "))}" src="data:image/png;base64,{data}">'
