# The commands of the README: `make run`, `make test`, and `make findings` (after `make run`).
# Both create .venv with Python >= 3.12 on first use, installing the versions of constraints.txt.

# The first working Python >= 3.12: on PATH, else in pyenv's versions folder.
PYTHON ?= $(shell for p in python3.12 python3.13 python3; do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; exit 0; }; \
	done; ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | head -n 1)
VENV := .venv
DRAWS ?= 1000000
SEED ?= 0

.PHONY: run findings test bench

$(VENV)/.run-installed: pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found; set PYTHON=/path/to/python3.12" >&2; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.run-installed constraints.txt
	$(VENV)/bin/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

run: $(VENV)/.run-installed
	mkdir -p results
	$(VENV)/bin/overhang-jax run takeoff --draws $(DRAWS) --seed $(SEED) --out results/takeoff.nc
	$(VENV)/bin/overhang-jax run trajectory --draws $(DRAWS) --seed $(SEED) --out results/trajectory.nc
	$(VENV)/bin/overhang-jax run trajectory --observe frontier_compute_2023_2025 --draws $(DRAWS) --seed $(SEED) \
	  --out results/trajectory_observed.nc
	$(VENV)/bin/overhang-jax compare no_policy hard_cap_sudden_end --draws $(DRAWS) --seed $(SEED) \
	  --out results/compare_no_policy_vs_hard_cap_sudden_end.nc
	$(VENV)/bin/overhang-jax sweep trajectory --priors hard_cap_sudden_end --param D --values 2,5,10,20 \
	  --draws $(DRAWS) --seed $(SEED) --out results/sweep_trajectory_D.nc
	$(VENV)/bin/overhang-jax sweep trajectory --priors hard_cap_sudden_end --param alpha --values 0,0.5,1 \
	  --draws $(DRAWS) --seed $(SEED) --out results/sweep_trajectory_alpha.nc
	$(VENV)/bin/overhang-jax report results/compare_no_policy_vs_hard_cap_sudden_end.nc \
	  results/sweep_trajectory_D.nc results/sweep_trajectory_alpha.nc results/takeoff.nc results/trajectory.nc \
	  --out results/report.html
	$(VENV)/bin/python docs/make_findings.py results results/findings.md

# The committed docs/findings.md, rewritten from the results of the last `make run` (its own command, so
# that `make run` leaves the checkout as it found it).
findings: $(VENV)/.run-installed
	$(VENV)/bin/python docs/make_findings.py results docs/findings.md

test: $(VENV)/.test-installed
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: $(VENV)/.run-installed
	$(VENV)/bin/python benchmarks/bench_takeoff.py
