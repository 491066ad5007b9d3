"""The command line: ``overhang-jax run | compare | sensitivity | summary | priors | scenarios``.

Bad input (a wrong priors file, an impossible argument) prints one line
``overhang-jax: error: ...`` and exits with status 2, before any compute.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

EXIT_BAD_INPUT = 2
EXIT_NONFINITE = 3
SCENARIOS_DIR = Path(__file__).parent / "scenarios"


class CliError(Exception):
    pass


def _count(text: str) -> int:
    """A positive whole number, written 1000000 or 1e6."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got '{text}'") from None
    if not value.is_integer() or value <= 0 or value > 2**62:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got '{text}'")
    return int(value)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2**32), got '{text}'") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2**32), got '{text}'")
    return value


def shipped_scenarios() -> dict[str, Path]:
    """Scenario files shipped with the package, by name (file name without .toml)."""
    return {p.stem: p for p in sorted(SCENARIOS_DIR.glob("*.toml"))}


def _resolve_priors(value: str | None) -> Path | None:
    """A priors path, or the name of a shipped scenario."""
    if value is None:
        return None
    path = Path(value)
    if path.exists():
        return path
    scenarios = shipped_scenarios()
    if value in scenarios:
        return scenarios[value]
    raise CliError(f"priors file '{value}' not found (nor a shipped scenario; `overhang-jax scenarios` lists them)")


def _check_output(path: Path) -> None:
    """Fail now, not after the run, if the result cannot be written there."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CliError(f"output directory '{parent}' does not exist")
    if not os.access(parent, os.W_OK):
        raise CliError(f"output directory '{parent}' is not writable")
    if path.exists() and path.is_dir():
        raise CliError(f"output path '{path}' is a directory")


def _check_space(path: Path, needed: int) -> None:
    """Fail now if the file system cannot hold the result (about ``needed`` bytes)."""
    import shutil

    parent = path.parent if str(path.parent) else Path(".")
    free = shutil.disk_usage(parent).free
    if free < needed:
        raise CliError(f"not enough space for '{path}': the results need about {needed / 1e9:.3g} GB and "
                       f"{free / 1e9:.3g} GB are free")


def _result_bytes(model, priors, draws: int, float64: bool, runs: int = 1) -> int:
    """Size of a run's file: one value per draw of each varying parameter and each output, plus
    the trajectory histograms, with a 10% margin for netCDF's own data."""
    columns = len(priors.random_names) + len(model.outputs)
    size = draws * columns * (8 if float64 else 4)
    if model.trajectories is not None:
        spec = model.trajectories
        size += sum(len(spec.coords) * (each.bins + 2) * 8 for each in spec.series)
    return int(1.1 * size * runs)


def _start_distributed(args) -> bool:
    """Join a jax.distributed run if asked to; True in every process but the first.

    With --distributed alone JAX finds the cluster itself (SLURM, Open MPI,
    Kubernetes, Cloud TPU); --coordinator, --num-processes and --process-id
    set it by hand. Every process computes its share of each chunk; process
    0 gathers the results and writes them.
    """
    import jax

    if not (args.distributed or args.coordinator or args.num_processes or args.process_id is not None):
        return False
    # CPU processes need a collectives backend to exchange results (GPUs and TPUs have their own).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(coordinator_address=args.coordinator, num_processes=args.num_processes,
                                   process_id=args.process_id)
    except (ValueError, RuntimeError) as err:
        raise CliError(f"cannot start the distributed run: {err}") from None
    return jax.process_index() > 0


def _add_cluster_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("running on several processes (README: Running on a cluster)")
    group.add_argument("--distributed", action="store_true",
                       help="join a jax.distributed run, the cluster found from the environment (SLURM, ...)")
    group.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0 (implies --distributed)")
    group.add_argument("--num-processes", type=_count, help="number of processes (implies --distributed)")
    group.add_argument("--process-id", type=int, help="this process's index, 0 .. N-1 (implies --distributed)")


def _use_all_cpu_cores() -> None:
    # XLA runs one CPU device on one thread; one device per core uses them all.
    # A device count set by the user through XLA_FLAGS wins.
    import jax

    if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
        jax.config.update("jax_num_cpu_devices", os.cpu_count() or 1)


def _print_summary(results) -> None:
    from ._results import format_summary, summary

    attrs = results.attrs
    print(f"model {attrs['model']} ({attrs['method']}), {attrs['draws']:,} draws, seed {attrs['seed']}, "
          f"sampler {attrs['sampler']}, {attrs['dtype']}, priors: {attrs['priors_source']}")
    table = summary(results)
    print(format_summary(table))
    nonfinite = table["nonfinite"]
    if nonfinite.any():
        print("non-finite draws are excluded from the statistics above and kept in the file:")
        for name, count in nonfinite[nonfinite > 0].items():
            print(f"  {name}: {count:,} of {attrs['draws']:,} ({100 * count / attrs['draws']:.3g}%)")


class TooManyNonfinite(Exception):
    """More draws than allowed came out NaN or infinite (the results are still written)."""


def _check_nonfinite(results, limit: float, label: str = "") -> None:
    from ._results import NONFINITE_GROUP, nonfinite_counts

    draws = int(results.attrs["draws"])
    over = {name: count for name, count in nonfinite_counts(results).items() if count > limit * draws}
    if over:
        listed = ", ".join(f"{name} {count:,} ({100 * count / draws:.3g}%)" for name, count in over.items())
        raise TooManyNonfinite(f"{label}more than {100 * limit:g}% of the {draws:,} draws are not finite: {listed}; "
                               f"their draw indices are in the results' '{NONFINITE_GROUP}' group "
                               "(--max-nonfinite-share sets the limit)")


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share in [0, 1], got '{text}'") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share in [0, 1], got '{text}'")
    return value


def _nonfinite_limit(args, model) -> float:
    """--max-nonfinite-share, or the model's own default."""
    return args.max_nonfinite_share if args.max_nonfinite_share is not None else model.nonfinite_share_limit


def _check_chunk_size(chunk_size: int, draws: int) -> None:
    if chunk_size > draws:
        raise CliError(f"--chunk-size {chunk_size:,} is larger than --draws {draws:,}; use at most {draws:,}")


def _cmd_run(args) -> None:
    from ._plots import default_plots
    from ._runner import DEFAULT_CHUNK_SIZE, get_model, run
    from ._results import save

    model = get_model(args.model)
    if args.chunk_size is not None:
        _check_chunk_size(args.chunk_size, args.draws)
    out = Path(args.out or f"results/{model.name}.nc")
    if args.out is None:
        out.parent.mkdir(exist_ok=True)  # the default place; a path the user names must exist
    _check_output(out)
    priors_path = _resolve_priors(args.priors)
    from ._priors import load_priors

    priors = load_priors(model, priors_path)  # validated here, before any compute
    _check_space(out, _result_bytes(model, priors, args.draws, args.float64))
    _use_all_cpu_cores()
    helper = _start_distributed(args)
    started = time.perf_counter()
    results = run(model, priors, draws=args.draws, seed=args.seed, sampler=args.sampler,
                  chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE, checkpoint=args.checkpoint,
                  float64=args.float64, method=args.method)
    elapsed = time.perf_counter() - started
    if helper:
        print(f"process {results.attrs['process']}: done; process 0 writes {out}")
        return
    save(results, out)
    _print_summary(results)
    print(f"{args.draws:,} draws in {elapsed:.2f} s, including JIT compilation "
          f"({args.draws / elapsed:,.0f} draws/s); wrote {out}")
    if not args.no_plots:
        for path in default_plots(results, out.with_suffix("")):
            print(f"wrote {path}")
    _check_nonfinite(results, _nonfinite_limit(args, model))


def _scenario_model(path: Path) -> str:
    """The model a priors file declares (``model = "..."``)."""
    import tomllib

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise CliError(f"{path}: cannot read a priors file: {err}") from None
    if not isinstance(document.get("model"), str):
        raise CliError(f'{path}: a scenario file for compare must say which model it is for (model = "...")')
    return document["model"]


def _print_comparison(comparison) -> None:
    from ._results import compare_summary, format_summary

    attrs = comparison.attrs
    print(f"model {attrs['model']}, {int(attrs['draws']):,} paired draws, seed {attrs['seed']}, {attrs['dtype']}")
    print(f"A: {attrs['scenario_a']}\nB: {attrs['scenario_b']}")
    print("differences B - A per draw (same random numbers in both); p_b_worse = share of draws where B is worse "
          "(less time, faster growth, bigger overhang, smaller lead):")
    print(format_summary(compare_summary(comparison)))


def _cmd_compare(args) -> None:
    from ._plots import plot_differences
    from ._priors import load_priors
    from ._results import save
    from ._runner import DEFAULT_CHUNK_SIZE, compare, get_model

    if args.chunk_size is not None:
        _check_chunk_size(args.chunk_size, args.draws)
    paths = [_resolve_priors(value) for value in (args.scenario_a, args.scenario_b)]
    names = {_scenario_model(path) for path in paths}
    if len(names) != 1:
        raise CliError(f"the two scenarios are for different models ({', '.join(sorted(names))})")
    model = get_model(names.pop())
    out = Path(args.out or f"results/compare_{paths[0].stem}_vs_{paths[1].stem}.nc")
    if args.out is None:
        out.parent.mkdir(exist_ok=True)
    _check_output(out)
    priors = [load_priors(model, path) for path in paths]  # validated before any compute
    _check_space(out, sum(_result_bytes(model, p, args.draws, args.float64) for p in priors)
                 + _result_bytes(model, priors[0], args.draws, args.float64) // 2)
    _use_all_cpu_cores()
    helper = _start_distributed(args)
    started = time.perf_counter()
    comparison = compare(model, *priors, draws=args.draws, seed=args.seed, sampler=args.sampler,
                         chunk_size=args.chunk_size or DEFAULT_CHUNK_SIZE, float64=args.float64)
    elapsed = time.perf_counter() - started
    if helper:
        print(f"process {comparison['a'].attrs['process']}: done; process 0 writes {out}")
        return
    save(comparison, out)
    _print_comparison(comparison)
    print(f"2 x {args.draws:,} draws in {elapsed:.2f} s, including JIT compilation; wrote {out}")
    if not args.no_plots:
        import matplotlib.pyplot as plt

        path = out.with_name(out.stem + "_differences.png")
        plt.close(plot_differences(comparison, path))
        print(f"wrote {path}")
    for label in ("a", "b"):
        _check_nonfinite(comparison[label], _nonfinite_limit(args, model), f"scenario {label.upper()}: ")


def _cmd_sensitivity(args) -> None:
    import matplotlib.pyplot as plt

    from ._plots import plot_sobol
    from ._priors import load_priors
    from ._io import write_atomic
    from ._runner import get_model
    from ._sensitivity import ranked, sobol_indices

    model = get_model(args.model)
    if args.output not in model.output_names:
        raise CliError(f"model '{model.name}' has no output '{args.output}'; choose from "
                       f"{', '.join(model.output_names)}")
    out = Path(args.out or f"results/sensitivity_{model.name}_{args.output}.nc")
    if args.out is None:
        out.parent.mkdir(exist_ok=True)
    _check_output(out)
    priors = load_priors(model, _resolve_priors(args.priors))
    parameters = [p.strip() for p in args.parameters.split(",")] if args.parameters else None
    _use_all_cpu_cores()
    started = time.perf_counter()
    indices = sobol_indices(model, priors, outputs=[args.output], parameters=parameters,
                            base_samples=args.base_samples, seed=args.seed, bootstrap=args.bootstrap,
                            chunk_size=args.chunk_size)
    elapsed = time.perf_counter() - started
    write_atomic(out, lambda temp: indices.to_netcdf(temp, engine="h5netcdf"))
    print(f"Sobol indices of {args.output} ({model.name}): {args.base_samples:,} base samples, "
          f"{int(indices.attrs['evaluations']):,} model runs, seed {args.seed}; priors: {priors.source}")
    print(indices.attrs["independence"] + ".")
    dropped = int(indices["dropped_base_samples"].values[0])
    if dropped:
        print(f"{dropped:,} base samples had a non-finite {args.output} and were left out.")
    print(ranked(indices, args.output).to_string(float_format=lambda x: f"{x:.3f}"))
    print(f"in {elapsed:.2f} s, including JIT compilation; wrote {out}")
    if not args.no_plots:
        path = out.with_suffix(".png")
        plt.close(plot_sobol(indices, args.output, path))
        print(f"wrote {path}")


def _cmd_summary(args) -> None:
    from ._results import load

    path = Path(args.results)
    if not path.is_file():
        raise CliError(f"results file '{path}' not found")
    try:
        results = load(path)
    except (OSError, ValueError) as err:
        raise CliError(f"'{path}' is not an overhang-jax results file: {err}") from None
    if "model" not in results.attrs:
        raise CliError(f"'{path}' is not an overhang-jax results file (no 'model' attribute)")
    if results.attrs.get("kind") == "comparison":
        _print_comparison(results)
    else:
        _print_summary(results)


def _cmd_priors(args) -> None:
    from ._priors import default_priors_path
    from ._runner import get_model

    sys.stdout.write(default_priors_path(get_model(args.model)).read_text(encoding="utf-8"))


def _cmd_scenarios(args) -> None:
    import tomllib

    for name, path in shipped_scenarios().items():
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        if args.model and document.get("model") != args.model:
            continue
        print(f"{name:32s} {document.get('description', '')}")


def _add_sweep_options(parser: argparse.ArgumentParser, out_help: str, nonfinite_scope: str) -> None:
    """The options of every command that sweeps a model: run and compare."""
    from ._runner import DEFAULT_CHUNK_SIZE

    parser.add_argument("--draws", type=_count, default=100_000, help="number of draws (default 100000; 1e6 works)")
    parser.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    parser.add_argument("--out", metavar="PATH", help=out_help)
    parser.add_argument("--sampler", choices=["mc", "sobol", "lhs"], default="mc",
                        help="Monte Carlo, scrambled Sobol or Latin hypercube (default mc)")
    parser.add_argument("--chunk-size", type=_count, default=None,
                        help=f"draws per chunk, at most --draws (default {DEFAULT_CHUNK_SIZE}, or --draws if "
                             "fewer); does not change the results")
    parser.add_argument("--max-nonfinite-share", type=_share, default=None, metavar="SHARE",
                        help=f"exit with status 3 (results still written) if more than this share of {nonfinite_scope} "
                             "is NaN or infinite (default: the model's, 0.01; 0.5 for ftm, where a takeoff not "
                             "reached by 2100 and an inadmissible parameter set are common answers)")
    parser.add_argument("--float64", action="store_true", help="compute in double precision")


def build_parser() -> argparse.ArgumentParser:
    from ._runner import DEFAULT_CHUNK_SIZE, _models
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="overhang-jax",
        description="Monte Carlo sweeps of AI overhang and takeoff models over uncertain parameters.")
    parser.add_argument("--version", action="version", version=f"overhang-jax {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    models = list(_models())

    run_ = commands.add_parser("run", help="sweep a model over draws from its priors",
                               description="Sweep a model over draws from its priors; print the summary, "
                                           "write the results (netCDF) and the default plots beside them.")
    run_.add_argument("model", choices=models, help="model to run")
    run_.add_argument("--priors", metavar="FILE",
                      help="priors TOML file, or the name of a shipped scenario (default: the shipped priors)")
    _add_sweep_options(run_, "results file (default results/MODEL.nc)", "any output's draws")
    run_.add_argument("--checkpoint", metavar="DIR",
                      help="save each finished chunk here; re-running the same command resumes")
    run_.add_argument("--method", help="model method (takeoff: closed_form (default) or stepped; the others have one)")
    run_.add_argument("--no-plots", action="store_true", help="do not write the default plots")
    _add_cluster_options(run_)
    run_.set_defaults(func=_cmd_run)

    compare_ = commands.add_parser(
        "compare", help="run two scenarios on the same draws and compare them draw by draw",
        description="Run scenarios A and B with the same seed and the same random numbers for every parameter "
                    "(common random numbers), so each draw's difference B - A is paired. Prints the distribution "
                    "of each difference and the probability that B is worse; writes both runs and the differences "
                    "to one netCDF file, and a plot of the differences beside it.")
    compare_.add_argument("scenario_a", metavar="FILE_A", help="priors file or shipped scenario name (A)")
    compare_.add_argument("scenario_b", metavar="FILE_B", help="priors file or shipped scenario name (B)")
    _add_sweep_options(compare_, "comparison file (default results/compare_A_vs_B.nc)",
                       "either scenario's draws of any output")
    compare_.add_argument("--no-plots", action="store_true", help="do not write the plot of the differences")
    _add_cluster_options(compare_)
    compare_.set_defaults(func=_cmd_compare)

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
    sensitivity_.add_argument("--no-plots", action="store_true", help="do not write the bar chart")
    sensitivity_.set_defaults(func=_cmd_sensitivity)

    summary_ = commands.add_parser("summary", help="print the summary of a results file",
                                   description="Print mean, sd, quantiles and 90%% HDI of each output.")
    summary_.add_argument("results", help="results file written by `overhang-jax run` or `compare`")
    summary_.set_defaults(func=_cmd_summary)

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
    return parser


def main(argv: list[str] | None = None) -> int:
    from ._priors import PriorsError
    from ._runner import RunError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (CliError, PriorsError, RunError) as err:
        print(f"overhang-jax: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TooManyNonfinite as err:
        print(f"overhang-jax: error: {err}", file=sys.stderr)
        return EXIT_NONFINITE
    except KeyboardInterrupt:
        print("overhang-jax: interrupted; re-run with the same --checkpoint to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
