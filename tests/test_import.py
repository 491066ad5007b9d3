"""Start-up: importing the package and asking the command line for help stay fast.

Each check runs in a fresh interpreter, where nothing was imported before.
"""

import subprocess
import sys

import overhang_jax as oj


def imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport sys\nprint('modules:', *sys.modules)"  # the last line: help text comes before it
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    last = done.stdout.splitlines()[-1].split()
    assert last[0] == "modules:"
    return set(last[1:])


def test_import_overhang_jax_leaves_plotting_statistics_and_xarray_out():
    assert not {"jax", "matplotlib", "scipy.stats", "xarray", "pandas"} & imported_after("import overhang_jax")
    # The models and the runner bring JAX, and still none of the others.
    modules = imported_after("import overhang_jax as oj\noj.run, oj.TAKEOFF, oj.TRAJECTORY, oj.load_priors")
    assert {"jax", "overhang_jax.engine._run", "overhang_jax.models._takeoff"} <= modules
    for heavy in ("matplotlib", "scipy.stats", "xarray", "pandas"):
        assert heavy not in modules, heavy


def test_help_imports_no_jax():
    code = ("from overhang_jax.cli import main\n"
            "for argv in (['--help'], ['run', '--help'], ['report', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit as exit_:\n        assert exit_.code == 0\n")
    modules = imported_after(code)
    assert "jax" not in modules and "xarray" not in modules


def test_every_public_name_resolves():
    for name in oj.__all__:
        assert getattr(oj, name) is not None, name
    assert set(oj.__all__) <= set(dir(oj))
    assert oj.summary.__module__ == "overhang_jax.studies._summaries" and oj.plots.plot_fan_chart is not None


def test_the_written_out_normal_quantile_is_scipys():
    import scipy.stats

    from overhang_jax.priors._distributions import Z_90

    assert Z_90 == float(scipy.stats.norm.ppf(0.95))
