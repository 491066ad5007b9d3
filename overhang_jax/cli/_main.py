"""The command line: ``overhang-jax run | compare | sweep | eval | sensitivity | summary | report | priors |
scenarios | explore``.

Bad input (a wrong priors file, an impossible argument) prints one line
``overhang-jax: error: ...`` and exits with status 2, before any compute.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..models._registry import DEFAULT_CHUNK_SIZE, MODEL_MODULES

EXIT_BAD_INPUT = 2
EXIT_NONFINITE = 3
EXIT_STORAGE = 4
"""A file could not be written for want of space or a failing disk (not bad input)."""
DEFAULT_DISTRIBUTED_TIMEOUT = 300.0
"""Seconds a process of a distributed run waits for the others (JAX's own default)."""


class CliError(Exception):
    pass


def _argument_type(parse: Callable[[str], Any], accept: Callable[[Any], bool], expected: str,
                   result: Callable[[Any], Any] = lambda value: value) -> Callable[[str], Any]:
    """An argparse type: ``parse(text)``, refused with "expected EXPECTED, got 'TEXT'" unless ``accept``
    takes the value; ``result`` of the value otherwise."""
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got '{text}'") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got '{text}'")
        return result(value)

    return convert


_count = _argument_type(float, lambda v: v.is_integer() and 0 < v <= 2**62, "a positive whole number", int)
"""A positive whole number, written 1000000 or 1e6."""
_seed = _argument_type(int, lambda v: 0 <= v < 2**32, "an integer in [0, 2**32)")
_seconds = _argument_type(float, lambda v: 0 < v < math.inf, "a positive number of seconds")
_share = _argument_type(float, lambda v: 0 <= v <= 1, "a share in [0, 1]")
_port = _argument_type(int, lambda v: 1 <= v <= 65535, "a port number in [1, 65535]")


def _resolve_priors(value: str | None) -> Path | None:
    """A priors path, or the name of a shipped scenario: the file it names."""
    from ..priors._scenarios import resolve

    if value is None:
        return None
    try:
        return resolve(value)[0]
    except FileNotFoundError as err:
        raise CliError(str(err)) from None


def _check_paths(files: list[tuple[str, Path]], inputs: tuple[Path | None, ...] = (),
                 checkpoint: str | None = None) -> None:
    """Refuse now, before any compute, files the command would write that cannot be written or are
    one of its inputs (the engine's checks, which the API repeats, with the options' names)."""
    from ..engine._guards import check_writable

    check_writable(files, None if checkpoint is None else Path(checkpoint), inputs, "--checkpoint")


def _check_plots(plots: list[Path], inputs: tuple[Path | None, ...] = ()) -> list[tuple[Path, int]]:
    """The figures a command writes beside its results: writable and not an input; returns the room
    they need, which the run reserves with the results' own (``reserve=``)."""
    from ..engine._guards import PLOT_BYTES

    _check_paths([("plot", path) for path in plots], inputs)
    return [(path, PLOT_BYTES) for path in plots]


def _configure(args) -> bool:
    """One CPU device per core, the compilation cache and, if asked, the distributed start
    (:func:`overhang_jax.configure`); True in every process of a distributed run but the first."""
    from ..engine._runtime import configure

    runtime = configure(cpu_devices="per_core", compilation_cache=not args.no_compilation_cache,
                        distributed=args.distributed, coordinator=args.coordinator,
                        num_processes=args.num_processes, process_id=args.process_id,
                        distributed_timeout=args.distributed_timeout)
    return runtime.process_index > 0


def _add_cluster_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("running on several processes (README: Running on a cluster)")
    group.add_argument("--distributed", action="store_true",
                       help="join a jax.distributed run, the cluster found from the environment (SLURM, ...)")
    group.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0 (implies --distributed)")
    group.add_argument("--num-processes", type=_count, help="number of processes (implies --distributed)")
    group.add_argument("--process-id", type=int, help="this process's index, 0 .. N-1 (implies --distributed)")
    group.add_argument("--distributed-timeout", type=_seconds, default=DEFAULT_DISTRIBUTED_TIMEOUT, metavar="SECONDS",
                       help="give up if the other processes have not joined within this time (default "
                            f"{DEFAULT_DISTRIBUTED_TIMEOUT:g})")
    parser.add_argument("--no-compilation-cache", action="store_true",
                        help="compile every program again instead of reading JAX's persistent cache (default "
                             "place: $XDG_CACHE_HOME/overhang_jax or ~/.cache/overhang_jax; "
                             "OVERHANG_JAX_CACHE_DIR names another, or 'off')")


def _print_summary(results) -> None:
    from ..studies._summaries import format_summary, horizon_note, outputs_left_out, redraw_sentence, summary

    attrs = results.attrs
    if attrs["sampler"] == "given":  # parameter sets evaluated (overhang-jax eval): nothing sampled
        print(f"model {attrs['model']} ({attrs['method']}), {attrs['draws']:,} parameter sets given in "
              f"{attrs['parameter_sets']} (set i is draw i), {attrs['dtype']}")
    else:
        print(f"model {attrs['model']} ({attrs['method']}), {attrs['draws']:,} draws, seed {attrs['seed']}, "
              f"sampler {attrs['sampler']}, {attrs['dtype']}, priors: {attrs['priors_source']}")
    table = summary(results)
    left_out = outputs_left_out(results, list(table.index))
    table = table.drop(index=list(left_out))
    print(format_summary(table))
    if left_out:
        print("not in the table (they tell nothing here):")
        for why in dict.fromkeys(left_out.values()):
            print(f"  {why}: {', '.join(name for name, w in left_out.items() if w == why)}")
    nonfinite = table["nonfinite"]
    if nonfinite.any():
        print("non-finite draws are excluded from the statistics above and kept in the file:")
        for name, count in nonfinite[nonfinite > 0].items():
            print(f"  {name}: {count:,} of {attrs['draws']:,} ({100 * count / attrs['draws']:.3g}%)")
        if horizon_note(results):
            print(f"  {horizon_note(results)}")
    redrawn = redraw_sentence(results)
    if redrawn:
        print(redrawn)


def _nonfinite_check(runs, args, model) -> None:
    """Exit with status 3 (the results are written) if a run has more non-finite draws than allowed."""
    from ..engine._guards import nonfinite_excess, nonfinite_gate, nonfinite_limit

    limit = nonfinite_limit(model, args.max_nonfinite_share)
    nonfinite_gate([nonfinite_excess(results, limit, label, model) for label, results in runs], "raise")


def _quietly(compute):
    """``compute()`` with the non-finite warnings held back: the command says it last, as an error."""
    import warnings

    from .._errors import NonfiniteWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonfiniteWarning)
        return compute()


def _out_path(value: str | None, default: str) -> Path:
    if value is not None:
        return Path(value)
    path = Path(default)
    path.parent.mkdir(exist_ok=True)  # the default place; a directory the user names must exist
    return path


def _report_speed(draws: int, resumed: int, elapsed: float, out: Path, noun: str = "draws") -> None:
    if resumed == draws:
        print(f"all {draws:,} {noun} read from the checkpoint; wrote {out}")
        return
    computed = draws - resumed
    read = f"{resumed:,} {noun} read from the checkpoint, " if resumed else ""
    rate = computed / elapsed
    print(f"{read}{computed:,} {noun} computed in {elapsed:.2f} s, including JIT compilation "
          f"({f'{rate:,.0f}' if rate >= 10 else f'{rate:.2g}'} {noun}/s); wrote {out}")


def _cmd_run(args) -> None:
    from ..present._figures import default_plot_paths
    from ..engine._run import run
    from ..models._registry import get_model
    from ..priors._priors import load_priors

    model = get_model(args.model)
    out = _out_path(args.out, f"results/{model.name}.nc")
    priors_path = _resolve_priors(args.priors)
    plots = [] if args.no_plots else default_plot_paths(model.name, out.with_suffix(""), args.outputs_only)
    conditioned_plot = (Path(f"{out.with_suffix('')}_prior_posterior.png")
                        if args.observe is not None and not args.no_plots else None)
    _check_paths([("--out", out)], (priors_path,), args.checkpoint)
    reserve = _check_plots([*plots, *filter(None, [conditioned_plot])], (priors_path,))
    priors = load_priors(model, args.priors)  # validated here, before any compute or distributed start
    observations = _observations(args, model)
    helper = _configure(args)
    started = time.perf_counter()
    results = _quietly(lambda: run(
        model, priors, draws=args.draws, seed=args.seed, sampler=args.sampler,
        chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE, checkpoint=args.checkpoint, float64=args.float64,
        method=args.method, outputs_only=args.outputs_only, observe=observations, out=out,
        max_nonfinite_share=args.max_nonfinite_share, reserve=reserve))
    elapsed = time.perf_counter() - started
    if helper:
        print(f"process {results.attrs['process']}: done; process 0 writes {out}")
        return
    _print_summary(results)
    _print_conditioning(results)
    _report_speed(args.draws, int(results.attrs["draws_from_checkpoint"]), elapsed, out)
    if plots:
        _write_plots(results, out, "results")
    if conditioned_plot is not None:
        _write_prior_posterior(results, conditioned_plot, out)
    _nonfinite_check([("", results)], args, model)


def _write_plots(results, out: Path, what: str) -> None:
    """The default figures beside ``out``, each path printed as written (a run of a scenario without a cap
    writes fewer than planned: no figure of a cap); a failed write names ``out``, which holds the ``what``."""
    from ..engine._guards import write_or_fail
    from ..present._figures import default_plots

    written = []
    write_or_fail(f"the plots beside '{out}'", lambda: written.extend(default_plots(results, out.with_suffix(""))),
                  f"the {what} {'are' if what == 'results' else 'is'} in '{out}'")
    for path in written:
        print(f"wrote {path}")


def _print_comparison(comparison) -> None:
    from .._results import scenario_name
    from ..studies._comparison import compare_summary, comparison_findings, format_comparison
    from ..studies._summaries import redraw_sentence

    attrs = comparison.attrs
    print(f"{attrs['model']}: B = {scenario_name(attrs['scenario_b'])} against A = "
          f"{scenario_name(attrs['scenario_a'])}, {int(attrs['draws']):,} paired draws (seed {attrs['seed']}, "
          f"{attrs['dtype']}); draw i of A and of B share every random number, so each difference B - A is "
          "what B changes in that draw.")
    print("\nWhat it says (a difference within an output's tolerance, given in the table, counts as none):")
    for sentence in comparison_findings(comparison):
        print(f"- {sentence}")
    print("\nPaired differences B - A. 'worse if': the direction that is worse from a safety view (earlier TAI, "
          "faster growth, a bigger overhang, a shorter takeoff); 'median': over every draw with a difference, "
          "zeros included; 'B worse', 'same' (within the tolerance, in the output's units) and 'B better': shares "
          "of the draws with a difference to compare (an infinite one, a threshold reached in one scenario only, "
          "counts as a move); 'no difference': draws without one, left out.")
    print(format_comparison(compare_summary(comparison)))
    sentences = {label: redraw_sentence(comparison[label]) for label in "ab"}
    if sentences["a"] and sentences["a"] == sentences["b"]:
        print(f"Both scenarios: {sentences['a']}")
    else:
        for label, sentence in sentences.items():
            if sentence:
                print(f"Scenario {label.upper()}: {sentence}")


def _cmd_compare(args) -> None:
    from ..present._figures import comparison_figure_names
    from ..engine._run import compare
    from ..models._registry import get_model
    from ..priors._priors import load_priors
    from ..priors._scenarios import scenario_model

    paths = [_resolve_priors(value) for value in (args.scenario_a, args.scenario_b)]
    names = {scenario_model(path) for path in paths}
    if len(names) != 1:
        raise CliError(f"the two scenarios are for different models ({', '.join(sorted(names))})")
    model = get_model(names.pop())
    out = _out_path(args.out, f"results/compare_{paths[0].stem}_vs_{paths[1].stem}.nc")
    plots = [] if args.no_plots else [Path(f"{out.with_suffix('')}_{name}.png")
                                      for name in comparison_figure_names(model.name)]
    conditioned_plot = (Path(f"{out.with_suffix('')}_prior_posterior.png")
                        if args.observe is not None and not args.no_plots else None)
    _check_paths([("--out", out)], tuple(paths), args.checkpoint)
    reserve = _check_plots([*plots, *filter(None, [conditioned_plot])], tuple(paths))
    priors = [load_priors(model, value) for value in (args.scenario_a, args.scenario_b)]  # before any compute
    observations = _observations(args, model)
    helper = _configure(args)
    started = time.perf_counter()
    comparison = _quietly(lambda: compare(
        model, *priors, draws=args.draws, seed=args.seed, sampler=args.sampler,
        chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE, float64=args.float64, checkpoint=args.checkpoint,
        outputs_only=args.outputs_only, observe=observations, out=out,
        max_nonfinite_share=args.max_nonfinite_share, reserve=reserve))
    elapsed = time.perf_counter() - started
    if helper:
        print(f"process {comparison['a'].attrs['process']}: done; process 0 writes {out}")
        return
    _print_comparison(comparison)
    _print_conditioning(comparison)
    resumed = sum(int(comparison[label].attrs["draws_from_checkpoint"]) for label in "ab")
    _report_speed(2 * args.draws, resumed, elapsed, out)
    if plots:
        _write_plots(comparison, out, "comparison")
    if conditioned_plot is not None:
        _write_prior_posterior(comparison, conditioned_plot, out)
    _nonfinite_check([(f"scenario {label.upper()}: ", comparison[label]) for label in "ab"], args, model)


def _cmd_eval(args) -> None:
    from ..engine._evaluate import evaluate, read_parameter_sets
    from ..models._registry import get_model

    model = get_model(args.model)
    params = Path(args.params)
    out = _out_path(args.out, f"results/{model.name}_{params.stem}.nc")
    _check_paths([("--out", out)], (params,))
    table = read_parameter_sets(params)
    helper = _configure(args)
    started = time.perf_counter()
    results = _quietly(lambda: evaluate(
        model, table, method=args.method, float64=args.float64, chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE,
        label=params.name, out=out, max_nonfinite_share=args.max_nonfinite_share))
    elapsed = time.perf_counter() - started
    if helper:
        print(f"process {results.attrs['process']}: done; process 0 writes {out}")
        return
    _print_summary(results)
    _report_speed(int(results.attrs["draws"]), 0, elapsed, out, "parameter sets")
    _nonfinite_check([("", results)], args, model)


def _values(text: str) -> list[float]:
    """--values: comma-separated numbers."""
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            raise CliError(f"--values must be numbers separated by commas, got '{part.strip()}' in '{text}'") \
                from None
    return values


def _cmd_sweep(args) -> None:
    from ..present._figures import sweep_figure_names
    from ..models._registry import get_model
    from ..priors._priors import load_priors
    from ..studies._sweep import format_sweep, sweep, sweep_priors, sweep_run

    model = get_model(args.model)
    out = _out_path(args.out, f"results/sweep_{model.name}_{args.param}.nc")
    priors_path = _resolve_priors(args.priors)
    plots = [] if args.no_plots else [Path(f"{out.with_suffix('')}_{name}.png")
                                      for name in sweep_figure_names(args.observe is not None)]
    _check_paths([("--out", out)], (priors_path,), args.checkpoint)
    reserve = _check_plots(plots, (priors_path,))
    priors = load_priors(model, priors_path)
    values, _ = sweep_priors(model, priors, args.param, _values(args.values))  # every check, before compute
    observations = _observations(args, model)
    helper = _configure(args)
    started = time.perf_counter()
    results = _quietly(lambda: sweep(
        model, priors, param=args.param, values=values, draws=args.draws, seed=args.seed, sampler=args.sampler,
        chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE, float64=args.float64, checkpoint=args.checkpoint,
        outputs_only=args.outputs_only, observe=observations, out=out, max_nonfinite_share=args.max_nonfinite_share,
        reserve=reserve))
    elapsed = time.perf_counter() - started
    if helper:
        print(f"process {jax_process_index()}: done; process 0 writes {out}")
        return
    print(format_sweep(results))
    _report_speed(len(values) * args.draws, int(results.attrs["draws_from_checkpoint"]), elapsed, out)
    if plots:
        _write_plots(results, out, "sweep")
    _nonfinite_check([(f"{args.param} = {value:g}: ", sweep_run(results, value)) for value in values], args, model)


def jax_process_index() -> int:
    import jax

    return jax.process_index()


def _print_indices(indices) -> None:
    """Sobol indices of each output, ranked, with what they assume and what was left out."""
    from ..studies._sensitivity import ranked

    attrs = indices.attrs
    for k, output in enumerate(indices["output"].values):
        print(f"Sobol indices of {output} ({attrs['model']}): {int(attrs['base_samples']):,} base samples, "
              f"{int(attrs['evaluations']):,} model runs, seed {attrs['seed']}; priors: {attrs['priors_source']}")
        print(attrs["independence"] + ".")
        dropped = int(indices["dropped_base_samples"].values[k])
        if dropped:
            print(f"{dropped:,} base samples had a non-finite {output} and were left out.")
        print(ranked(indices, str(output)).to_string(float_format=lambda x: f"{x:.3f}"))


def _cmd_sensitivity(args) -> None:
    import matplotlib.pyplot as plt

    from .._io import write_netcdf
    from ..present._figures import plot_sobol
    from ..engine._guards import PLOT_BYTES, check_space, write_or_fail
    from ..models._registry import get_model
    from ..priors._priors import load_priors
    from ..studies._sensitivity import estimated_indices_bytes, sobol_indices

    model = get_model(args.model)
    if args.output not in model.output_names:
        raise CliError(f"model '{model.name}' has no output '{args.output}'; choose from "
                       f"{', '.join(model.output_names)}")
    out = _out_path(args.out, f"results/sensitivity_{model.name}_{args.output}.nc")
    plot = None if args.no_plots else out.with_suffix(".png")
    priors_path = _resolve_priors(args.priors)
    _check_paths([("--out", out), *([("plot", plot)] if plot else [])], (priors_path,))
    priors = load_priors(model, args.priors)
    parameters = [p.strip() for p in args.parameters.split(",")] if args.parameters else None
    check_space([(out, estimated_indices_bytes(priors, [args.output], parameters or priors.random_names)),
                 *([(plot, PLOT_BYTES)] if plot else [])])
    helper = _configure(args)
    started = time.perf_counter()
    indices = _quietly(lambda: sobol_indices(
        model, priors, outputs=[args.output], parameters=parameters, base_samples=args.base_samples,
        seed=args.seed, bootstrap=args.bootstrap, chunk_size=args.chunk_size,
        max_nonfinite_share=args.max_nonfinite_share))
    elapsed = time.perf_counter() - started
    if helper:
        print(f"process {jax_process_index()}: done; process 0 writes {out}")
        return
    _print_indices(indices)  # first: a failed write below loses nothing
    write_or_fail(f"'{out}'", lambda: write_netcdf(out, indices), "the indices are printed above")
    print(f"in {elapsed:.2f} s, including JIT compilation; wrote {out}")
    if plot:
        write_or_fail(f"the plot '{plot}'", lambda: plt.close(plot_sobol(indices, args.output, plot)),
                      f"the indices are in '{out}'")
        print(f"wrote {plot}")
    dropped = int(indices["dropped_base_samples"].values[0])
    limit = model.nonfinite_share_limit if args.max_nonfinite_share is None else args.max_nonfinite_share
    if dropped > limit * args.base_samples:
        from .._errors import NonfiniteError

        share = dropped / args.base_samples
        raise NonfiniteError(f"{dropped:,} of the {args.base_samples:,} base samples ({100 * share:.3g}%) gave a "
                             f"non-finite {args.output} and were left out of the indices, more than "
                             f"--max-nonfinite-share {limit:g} allows")


RESULTS_LAYOUT = {
    "run": (("model", "method", "draws", "seed", "sampler", "dtype", "priors_source"), ("prior_predictive",)),
    "comparison": (("model", "draws", "seed", "dtype", "scenario_a", "scenario_b"), ("prior_predictive",)),
    "sobol_indices": (("model", "base_samples", "evaluations", "seed", "priors_source", "independence"), ()),
    "sweep": (("model", "method", "draws", "seed", "dtype", "param", "priors_source", "priors_toml",
               "nonfinite_counts"), ("prior_predictive", "constant_data", "nonfinite_draws")),
}
"""What `summary` reads from each kind of file: root attributes and groups."""


def _load_results(text: str):
    from .._results import load

    path = Path(text)
    if not path.is_file():
        raise CliError(f"results file '{path}' not found")
    results = load(path)  # a file that is not results, or of an older layout, is a one-line ResultsError
    kind = results.attrs.get("kind", "run")
    if kind not in RESULTS_LAYOUT:
        raise CliError(f"'{path}' is not an overhang-jax results file (unknown kind '{kind}')")
    attrs, groups = RESULTS_LAYOUT[kind]
    if results.attrs.get("sampler") == "given":  # parameter sets evaluated: no seed
        attrs = tuple(a for a in attrs if a != "seed")
    missing = [f"attribute '{a}'" for a in attrs if a not in results.attrs]
    missing += [f"group '{g}'" for g in groups if g not in results.children]
    if missing:
        raise CliError(f"'{path}' is not a complete overhang-jax results file (no {', '.join(missing)}); it may have "
                       "been cut short or made by another tool")
    return results


def _cmd_summary(args) -> None:
    results = _load_results(args.results)
    kind = results.attrs.get("kind", "run")
    try:
        if args.csv is None:
            if kind == "sobol_indices":
                _print_indices(results.to_dataset())
            elif kind == "comparison":
                _print_comparison(results)
                _print_conditioning(results)
            elif kind == "sweep":
                from ..studies._sweep import format_sweep

                print(format_sweep(results))
            else:
                _print_summary(results)
                _print_conditioning(results)
            from .._results import written_with

            print(written_with(results.attrs))
            return
        table = _summary_table(results, kind)
    except (KeyError, ValueError, TypeError) as err:  # a variable or attribute missing or malformed
        raise CliError(f"'{args.results}' is a damaged overhang-jax results file ({type(err).__name__}: {err})") \
            from None
    index = {"sobol_indices": ["output", "parameter"], "sweep": ["output", results.attrs.get("param")]}.get(
        kind, "variable")
    if args.csv == "-":
        table.to_csv(sys.stdout, index_label=index)
        return
    from .._io import write_atomic

    out = Path(args.csv)
    _check_paths([("--csv", out)], (Path(args.results),))
    write_atomic(out, lambda temp: table.to_csv(temp, index_label=index))
    print(f"wrote {out}")


def _summary_table(results, kind: str):
    """The table `summary --csv` writes: statistics of a run, paired differences of a comparison, or the
    ranked Sobol indices of each output."""
    if kind == "sobol_indices":
        import pandas as pd

        from ..studies._sensitivity import ranked

        indices = results.to_dataset()
        return pd.concat({str(o): ranked(indices, str(o)) for o in indices["output"].values})
    if kind == "sweep":
        from ..studies._sweep import sweep_summary

        return sweep_summary(results)
    from ..studies._summaries import summary
    from ..studies._comparison import compare_summary

    return compare_summary(results) if kind == "comparison" else summary(results)


def _cmd_report(args) -> None:
    from ..present._report import write_report

    out = Path(args.out)
    _check_paths([("--out", out)], tuple(Path(path) for path in args.results))
    runs = [_load_results(path) for path in args.results]
    write_report(runs, out, sources=args.results)
    print(f"wrote {out.resolve()}")


def _cmd_priors(args) -> None:
    from ..priors._priors import default_priors_path
    from ..models._registry import get_model

    sys.stdout.write(default_priors_path(get_model(args.model)).read_text(encoding="utf-8"))


def _observations(args, model):
    """The run's observations (--observe), checked against the model before any compute."""
    if getattr(args, "observe", None) is None:
        return None
    from ..priors._observations import load_observations

    return load_observations(args.observe, model)


def _print_conditioning(results) -> None:
    """What the observations changed (a conditioned run or comparison)."""
    from ..studies._conditioning import comparison_conditioning_report, conditioning_report, is_conditioned

    if results.attrs.get("kind") == "comparison":
        if is_conditioned(results["a"]):
            print()
            print(comparison_conditioning_report(results))
    elif is_conditioned(results):
        print()
        print(conditioning_report(results))


def _write_prior_posterior(results, path: Path, out: Path) -> None:
    import matplotlib.pyplot as plt

    from ..engine._guards import write_or_fail
    from ..present._figures import plot_prior_posterior

    write_or_fail(f"the plot '{path}'", lambda: plt.close(plot_prior_posterior(results, path=path)),
                  f"the results are in '{out}'")
    print(f"wrote {path}")


def _cmd_observations(args) -> None:
    from ..priors._observations import observation_headers

    headers = {name: header for name, header in observation_headers().items()
               if args.model is None or args.model in header[0]}
    if not headers:
        print(f"no shipped observation sets for model '{args.model}'")
        return
    width = max(len(name) for name in headers)
    print(f"{'observations':{width}s}  {'models':17s}  description")
    for name, (models, description, _) in headers.items():
        print(f"{name:{width}s}  {', '.join(models):17s}  {description}")
    print("Pass a name (or a file of your own) to --observe of run, compare or sweep; docs/observations.md gives "
          "each number's source and uncertainty.")


def _cmd_explore(args) -> None:
    from ..present._explore import free_port, start_server

    from ..engine._runtime import configure

    port = args.port or free_port(args.address)
    configure()  # one CPU device per core, the compilation cache
    print(f"overhang-jax explore: http://{args.address}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        start_server(args.model, port=port, address=args.address, draws=args.draws, seed=args.seed,
                     open_browser=args.open)
    except KeyboardInterrupt:  # Ctrl-C is how it stops: not an interrupted run
        pass
    print("overhang-jax explore: stopped")


def _cmd_scenarios(args) -> None:
    from ..priors._scenarios import scenario_headers

    headers = scenario_headers(args.model)
    if not headers:
        print(f"no shipped scenarios for model '{args.model}': run it with its default priors, or with a priors "
              f"file of your own (`overhang-jax priors {args.model}` prints the defaults to copy and edit)")
        return
    width = max(len(name) for name in headers)
    print(f"{'scenario':{width}s}  {'model':10s}  description")
    for name, (model, description, _) in headers.items():
        print(f"{name:{width}s}  {model:10s}  {description}")


def _add_draw_options(parser: argparse.ArgumentParser, out_help: str, nonfinite_scope: str) -> None:
    """The options of every command that draws from priors: run, compare and sweep."""
    parser.add_argument("--draws", type=_count, default=100_000, help="number of draws (default 100000; 1e6 works)")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument("--out", metavar="PATH", help=out_help)
    parser.add_argument("--sampler", choices=["mc", "sobol", "lhs"], default="mc",
                        help="Monte Carlo, scrambled Sobol or Latin hypercube (default mc)")
    parser.add_argument("--chunk-size", type=_count, default=None,
                        help=f"draws per chunk (default {DEFAULT_CHUNK_SIZE}; at most --draws are used); does not "
                             "change the results")
    _add_nonfinite_option(parser, nonfinite_scope)
    parser.add_argument("--float64", action="store_true", help="compute in double precision")
    parser.add_argument("--outputs-only", action="store_true",
                        help="keep no parameter per draw, only the outputs (for sweeps of 1e8 draws; the seed and "
                             "priors in the file draw the parameters again)")
    parser.add_argument("--observe", metavar="FILE",
                        help="condition on observations: an observations TOML file or a shipped set's name "
                             "(`overhang-jax observations` lists them); adds a posterior (docs/observations.md)")
    parser.add_argument("--checkpoint", metavar="DIR",
                        help="save each finished chunk here; re-running the same command resumes (also after a "
                             "crash, a full disk or on other devices)")


def _add_nonfinite_option(parser: argparse.ArgumentParser, scope: str) -> None:
    parser.add_argument("--max-nonfinite-share", type=_share, default=None, metavar="SHARE",
                        help=f"exit with status 3 (results still written) if more than this share of {scope} "
                             "is NaN or infinite (default: the model's, 0.01; 0.5 for ftm, where a takeoff not "
                             "reached by 2100 and an inadmissible parameter set are common answers)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; building it imports no JAX, so ``--help`` answers at once."""
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="overhang-jax",
        description="Monte Carlo sweeps of AI overhang and takeoff models over uncertain parameters.")
    parser.add_argument("--version", action="version", version=f"overhang-jax {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models = list(MODEL_MODULES)

    run_ = commands.add_parser("run", help="sweep a model over draws from its priors",
                               description="Sweep a model over draws from its priors; print the summary, "
                                           "write the results (netCDF) and the default plots beside them.")
    run_.add_argument("model", choices=models, help="model to run")
    run_.add_argument("--priors", metavar="FILE",
                      help="priors TOML file, or the name of a shipped scenario (default: the shipped priors)")
    _add_draw_options(run_, "results file (default results/MODEL.nc)", "any output's draws")
    run_.add_argument("--method", help="model method (takeoff: closed_form (default) or stepped; the others have one)")
    run_.add_argument("--no-plots", action="store_true", help="do not write the default plots")
    _add_cluster_options(run_)
    run_.set_defaults(func=_cmd_run)

    compare_ = commands.add_parser(
        "compare", help="run two scenarios on the same draws and compare them draw by draw",
        description="Run scenarios A and B with the same seed and the same random numbers for every parameter "
                    "(common random numbers), so each draw's difference B - A is paired. Prints what it says (how "
                    "often and by how much B is worse or better on the model's headline outputs, and the backfire "
                    "share), then each output's paired difference with its unit, which way is worse and the "
                    "shares of draws where B is worse, the same within a tolerance, or better; writes both runs "
                    "and the differences to one netCDF file, and a plot of the differences beside it.")
    compare_.add_argument("scenario_a", metavar="A", help="shipped scenario name or priors file: the reference")
    compare_.add_argument("scenario_b", metavar="B", help="shipped scenario name or priors file: the scenario")
    _add_draw_options(compare_, "comparison file (default results/compare_A_vs_B.nc)",
                       "either scenario's draws of any output")
    compare_.add_argument("--no-plots", action="store_true", help="do not write the plot of the differences")
    _add_cluster_options(compare_)
    compare_.set_defaults(func=_cmd_compare)

    eval_ = commands.add_parser(
        "eval", help="evaluate a model at given parameter sets (a CSV file, one set per line)",
        description="Evaluate a model at parameter sets made elsewhere: a CSV file with a header of parameter "
                    "names and one set per line; a parameter without a column takes its default (`overhang-jax "
                    "priors MODEL` lists them). Draw i of the results is set i (line i + 2 of the file), computed "
                    "as a run's draws are; prints the summary and writes the results (netCDF, a run's layout).")
    eval_.add_argument("model", choices=models, help="model to evaluate")
    eval_.add_argument("--params", required=True, metavar="FILE.csv", help="the parameter sets")
    eval_.add_argument("--out", metavar="PATH", help="results file (default results/MODEL_FILE.nc)")
    eval_.add_argument("--method", help="model method (takeoff: closed_form (default) or stepped)")
    eval_.add_argument("--chunk-size", type=_count, default=None,
                       help=f"sets per chunk (default {DEFAULT_CHUNK_SIZE}); does not change the results")
    eval_.add_argument("--float64", action="store_true", help="compute in double precision")
    _add_nonfinite_option(eval_, "any output's draws")
    _add_cluster_options(eval_)
    eval_.set_defaults(func=_cmd_eval)

    sweep_ = commands.add_parser(
        "sweep", help="run a model at each of several values of one parameter, on the same draws",
        description="Fix one parameter to each of several values in turn and run the model on the same draws "
                    "at each (same seed, every other parameter drawn with the same random numbers), so the "
                    "change from value to value is the parameter's effect alone. Prints each output's median "
                    "and 90% interval at each value and, for the trajectory model, the policy world's headline "
                    "shares (the backfire and its parts, faster growth after the cap as the mechanism, the cap "
                    "binding; docs/outcomes.md); writes one results file "
                    "with a 'value' dimension and a plot beside it.")
    sweep_.add_argument("model", choices=models, help="model to sweep")
    sweep_.add_argument("--priors", metavar="FILE",
                        help="priors TOML file, or the name of a shipped scenario (default: the shipped priors)")
    sweep_.add_argument("--param", required=True, metavar="NAME", help="the parameter to sweep")
    sweep_.add_argument("--values", required=True, metavar="V1,V2,...",
                        help="its values, comma-separated (two or more, in its allowed range)")
    _add_draw_options(sweep_, "sweep file (default results/sweep_MODEL_PARAM.nc)",
                       "any output's draws at any value")
    sweep_.add_argument("--no-plots", action="store_true", help="do not write the plot")
    _add_cluster_options(sweep_)
    sweep_.set_defaults(func=_cmd_sweep)

    sensitivity_ = commands.add_parser(
        "sensitivity", help="Sobol indices of one output (Saltelli design)",
        description="First- and total-order Sobol indices of one output over the varying parameters, from a "
                    "Saltelli design of N base samples (N (d + 2) model runs for d parameters), with bootstrap "
                    "intervals. Prints the table ranked by total order, writes it (netCDF) and a bar chart.")
    sensitivity_.add_argument("model", choices=models, help="model to analyse")
    sensitivity_.add_argument("--output", required=True, help="the output to explain")
    sensitivity_.add_argument("--priors", metavar="FILE", help="priors file or shipped scenario name")
    sensitivity_.add_argument("--parameters", metavar="A,B,...",
                              help="comma-separated parameters to analyse (default: every varying one)")
    sensitivity_.add_argument("--base-samples", type=_count, default=2**14,
                              help="base samples N, best a power of two (default 16384)")
    sensitivity_.add_argument("--bootstrap", type=_count, default=1000, help="bootstrap resamples (default 1000)")
    sensitivity_.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    sensitivity_.add_argument("--out", metavar="PATH", help="indices file (default results/sensitivity_MODEL_OUTPUT.nc)")
    sensitivity_.add_argument("--chunk-size", type=_count, default=DEFAULT_CHUNK_SIZE,
                              help=f"model runs per chunk (default {DEFAULT_CHUNK_SIZE})")
    _add_nonfinite_option(sensitivity_, "the base samples (any of whose model runs is NaN or infinite)")
    sensitivity_.add_argument("--no-plots", action="store_true", help="do not write the bar chart")
    _add_cluster_options(sensitivity_)
    sensitivity_.set_defaults(func=_cmd_sensitivity)

    summary_ = commands.add_parser("summary", help="print the summary of a results file",
                                   description="Print mean, sd, quantiles and 90% HDI of each output (for a "
                                               "comparison, of each paired difference), or write them as CSV.")
    summary_.add_argument("results", help="results file written by `overhang-jax run` or `compare`")
    summary_.add_argument("--csv", metavar="FILE", help="write the table as CSV to FILE ('-': standard output)")
    summary_.set_defaults(func=_cmd_summary)

    report_ = commands.add_parser(
        "report", help="write a self-contained HTML report of results files",
        description="Write one HTML page (figures embedded, nothing fetched from outside the file) with, for "
                    "each results file, its provenance, the full priors, the summary table and the model's "
                    "figures; for a comparison, the policy in words, its priors and what it says in plain "
                    "sentences, first; with sweeps of the trajectory model's D or alpha, the same headline at each "
                    "value; a how-to-cite line, the limitations and a glossary.")
    report_.add_argument("results", nargs="+", metavar="RESULTS.nc",
                         help="results files written by run, compare, sweep or sensitivity")
    report_.add_argument("--out", metavar="PATH", default="report.html", help="the page (default report.html)")
    report_.set_defaults(func=_cmd_report)

    priors_ = commands.add_parser("priors", help="print a model's default priors TOML",
                                  description="Print the shipped default priors of a model, with the reasoning "
                                              "behind each range: a file to copy and edit.")
    priors_.add_argument("model", choices=models)
    priors_.set_defaults(func=_cmd_priors)

    scenarios_ = commands.add_parser("scenarios", help="list the shipped scenario files",
                                     description="List the scenario files shipped with the package; pass a "
                                                 "name to --priors to run one.")
    scenarios_.add_argument("model", nargs="?", choices=models)
    scenarios_.set_defaults(func=_cmd_scenarios)

    observations_ = commands.add_parser("observations", help="list the shipped observation sets",
                                        description="List the observation sets shipped with the package (data "
                                                    "since the priors were set); pass a name to --observe.")
    observations_.add_argument("model", nargs="?", choices=models)
    observations_.set_defaults(func=_cmd_observations)
    explore_ = commands.add_parser(
        "explore", help="an interactive page: move a policy lever, see the paired comparison change",
        description="Serve a local web page (docs/explore.md) where the policy levers and the main uncertain "
                    "parameters re-run a paired comparison as they move. It listens on 127.0.0.1 "
                    "(this machine only) unless --address says otherwise, prints its address, and opens a "
                    "browser only with --open.")
    explore_.add_argument("model", nargs="?", default="trajectory", choices=["trajectory", "ftm", "takeoff"],
                          help="model to explore (default: trajectory)")
    explore_.add_argument("--port", type=_port, help="port to listen on (default: a free one)")
    explore_.add_argument("--address", default="127.0.0.1",
                          help="address to listen on (default 127.0.0.1: this machine only)")
    explore_.add_argument("--open", action="store_true", help="open the page in the default browser")
    explore_.add_argument("--draws", type=_count,
                          help="paired draws of each comparison (default: about a second's worth, 20000 for "
                               "trajectory and takeoff, 500 for ftm)")
    explore_.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    explore_.set_defaults(func=_cmd_explore)
    return parser


def _negative_values_joined(argv: list[str]) -> list[str]:
    """``--values -1,2`` as ``--values=-1,2``: argparse takes "-1,2" for an option (ftm's CES exponents
    are negative)."""
    joined, k = [], 0
    while k < len(argv):
        if argv[k] == "--values" and k + 1 < len(argv) and argv[k + 1].startswith("-"):
            joined.append(f"--values={argv[k + 1]}")
            k += 2
        else:
            joined.append(argv[k])
            k += 1
    return joined


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # --help and argument errors exit here, before JAX is imported.
    args = parser.parse_args(_negative_values_joined(sys.argv[1:] if argv is None else argv))
    # Figures are files here, never windows: a backend without a display (a user's MPLBACKEND wins).
    os.environ.setdefault("MPLBACKEND", "Agg")
    from ..priors._priors import PriorsError
    from .._results import ResultsError
    from .._errors import NonfiniteError, RunError, StorageError
    from ..engine._guards import STORAGE_ERRNOS
    from ..engine._runtime import distributed_start_abandoned

    try:
        code = _run_command(args, (CliError, PriorsError, ResultsError, RunError), StorageError, NonfiniteError,
                            STORAGE_ERRNOS)
    finally:
        if distributed_start_abandoned():
            # JAX's exit handler would wait on the connection that never came: leave now, from this
            # thread, once every finally block above has run and the streams are flushed.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_BAD_INPUT)
    return code


def _run_command(args, bad_input: tuple, storage: type, nonfinite: type, storage_errnos) -> int:
    try:
        args.func(args)
    except BrokenPipeError:
        # The reader went away (`overhang-jax scenarios | head`): not an error of ours. Point stdout at
        # devnull so the interpreter's last flush does not fail again, and exit as a piped tool does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except bad_input as err:
        print(f"overhang-jax: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except storage as err:  # a full disk: not bad input; the message names the path and what is kept
        print(f"overhang-jax: error: {err}", file=sys.stderr)
        return EXIT_STORAGE
    except OSError as err:  # a file that cannot be read or written
        where = f"'{err.filename}': " if err.filename else ""
        print(f"overhang-jax: error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_STORAGE if err.errno in storage_errnos else EXIT_BAD_INPUT
    except nonfinite as err:
        print(f"overhang-jax: error: {err}", file=sys.stderr)
        return EXIT_NONFINITE
    except KeyboardInterrupt:
        print("overhang-jax: interrupted; re-run with the same --checkpoint to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
