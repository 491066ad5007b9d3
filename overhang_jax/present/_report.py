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
th:first-child, td:first-child, table.provenance td { text-align: left; }
thead th { border-bottom: 2px solid #999; }
pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; font-size: .8rem; }
img { max-width: 100%; display: block; margin: 1rem 0; }
.findings li { margin: .4rem 0; }
.note { color: #555; font-size: .9rem; }
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""Nothing may be fetched: images come from data URIs, the style sheet is inline."""


def write_report(results: Sequence[xr.DataTree], path: str | os.PathLike,
                 sources: Sequence[str] | None = None) -> Path:
    """Write one HTML page about ``results`` (runs, comparisons or Sobol indices) to ``path``.

    ``sources`` names where each came from (file paths), shown beside each section.
    """
    from .._io import write_atomic

    path = Path(path)
    sources = list(sources) if sources is not None else [""] * len(results)
    sections = [_section(tree, source, index) for index, (tree, source) in enumerate(zip(results, sources))]
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
results files; the glossary and the model pages are in the package's <code>docs/</code> folder.</p>
<ul>{contents}</ul>
{"".join(body for _, body in sections)}
</body></html>
"""
    write_atomic(path, lambda temp: temp.write_text(page, encoding="utf-8"))
    return path


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
    from ..studies._summaries import summary

    attrs = tree.attrs
    parts = [_provenance(attrs), _conditioning(tree), "<h3>Summary</h3>",
             '<p class="note">Over the finite draws of each output (ArviZ statistics); <i>nonfinite</i> counts '
             "the draws that were NaN or infinite, for example a threshold never reached by the horizon.</p>",
             _table(summary(tree), attrs["draws"]), "<h3>Figures</h3>", _figures(tree), _priors(attrs)]
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
    from ..studies._sweep import sweep_shares, sweep_summary, sweep_values

    attrs = tree.attrs
    param = attrs["param"]
    values = sweep_values(tree)
    parts = [_provenance(attrs),
             f"<p>{param} fixed to each of {', '.join(f'{v:g}' for v in values)} in turn, on the same "
             f"{int(attrs['draws']):,} draws (the same seed, every other parameter drawn with the same random "
             f"numbers): the change from one value to the next is the effect of {html.escape(param)} alone.</p>"]
    shares = sweep_shares(tree)
    if shares is not None:
        from ..studies._sweep import share_cell

        table = pd.DataFrame({f"{param} = {v:g}": [share_cell(column, shares.loc[v]) for column in SHARE_LABELS]
                              for v in shares.index}, index=list(SHARE_LABELS.values()))
        parts += ["<h3>The policy world at each value</h3>",
                  '<p class="note">Shares of all draws, the policy world against the default world draw by '
                  "draw; sizes in years or OOM/yr.</p>", _table(table, digits=3)]
    table = sweep_summary(tree)[["units", "q5", "q50", "q95", "mean", "nonfinite"]]
    table.index = [f"{name}, {param} = {v:g}" for name, v in table.index]
    parts += ["<h3>Each output at each value</h3>",
              '<p class="note">Over the finite draws at each value; <i>nonfinite</i> counts the others.</p>',
              _table(table, attrs["draws"]), "<h3>Figures</h3>", _figures(tree), _priors(attrs)]
    return "".join(parts)


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
            ("float width", attrs.get("dtype")), ("priors", attrs.get("priors_source")),
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


def _table(table: pd.DataFrame, draws: int | None = None, digits: int = 5) -> str:
    """A table as HTML: ``digits`` significant figures, non-finite counts with their share of ``draws``."""
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in ["", *table.columns])
    rows = []
    for name, row in table.iterrows():
        cells = [f"<td>{html.escape(str(name))}</td>"]
        for column, value in row.items():
            cells.append(f"<td>{html.escape(_cell(column, value, draws, digits))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(column: str, value, draws: int | None, digits: int) -> str:
    if isinstance(value, str):
        return value
    if column == "nonfinite":
        count = int(value)
        return f"{count:,} ({100 * count / int(draws):.2g}%)" if count and draws else f"{count:,}"
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return f"{float(value):.{digits}g}"


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
