"""The compute-centric takeoff model (Davidson 2023; epoch-research/ftm) as model ``ftm``.

A port of ``ftm/core/model.py`` at commit 99dc907 of github.com/epoch-research/ftm,
the model behind takeoffspeeds.com, written from its equations (docs/ftm.md
sets them out one by one, with symbols and units). Its 67 parameters keep
their original names, its defaults are the original's best guess, and it runs
on the original's grid: 780 steps of dt = 0.1 yr, t_n = 2022 + n dt.

The economy, in one step n - 1 -> n (n >= 1; step 0 is the calibration):

    R&D      x^n = x^{n-1} (Q^n / Q^{n-1}) ^ (r pen^{n-1}),  Q^n = Q^{n-1} + (I^{n-1})^lambda dt,
             pen = log(x_max / x) / log(x_max / x_0), x <= x_max   (hardware FLOP/yr/$, software)
    shares   f^n = min(f^{n-1} exp(g dt), f_max), g = g_rampup after wake-up (7 fractions)
    inputs   hardware H^n = H^{n-1} (1 - d)^dt + Y^{n-1} f_gwp^n dt x_hw^{n - delay}
             compute  C^n = H^n s^n, capital K^n = K^{n-1} + 0.2 Y^{n-1} dt, labour L^n = L^{n-1} e^{g_L dt}
    training T^n = C^n f_train^n (the largest run); task i is automatable when its
             training requirement is below T^n (times the runtime trade-off's maximum)
    tasks    eta_i = 1 / max(1, R_i (T_i / T^n) ^ tradeoff): tasks per FLOP/yr of compute
    output   Y, hardware R&D and software R&D: a CES of capital (or experiments) and a CES
             of 101 tasks (task 0 compute only), labour and compute allocated optimally
             over the tasks (``_critical``, ``_at_optimum``), with and without automation

The allocation is the original's ``solve_allocation`` with its loop over the
critical task vectorised (all candidates at once, the first admissible one
taken by a min-reduction). At the optimum the task inputs take two forms, so
the CES over the 101 tasks reduces to the same partial sums the allocation
uses, and those sums are per-draw constants scaled by powers of the largest
run (docs/ftm.md, "The allocation"): no per-task power, exponential or sum is
taken in the loop. Per-draw constants (requirements, task weights, growth
factors) are computed once, before the scan; the metrics are updated in the
scan; nothing is stored per step except yearly values of three series.

The modules follow the model's parts: ``_declaration`` (grid, parameters,
outputs), ``_constants`` (per-draw constants, the C library's log10),
``_allocation`` (labour and compute over tasks), ``_state`` (what a step
carries, the cap hook), ``_production`` (one step's inputs and output),
``_calibration`` (step 0), ``_step`` (steps 1 .. 779 and the metrics) and
``_model`` (``simulate``, ``trace``, ``FTM``).

Quirks of the original, reproduced: the read at t = 1 of index t - 2 (Python
index -1 of a list of zeros: no event is "already on" before step 0);
``round()`` half to even for the hardware delay in steps; years are
2022 + n * 0.1 in float64 (2037.1000000000001); events recorded in the
allocation step are dated one step back (sub-AGI, AGI, wake-up) and the last
firing wins; takeoff lengths start at ``> 0.2``, timeline years at ``>= 0.2``;
the annual GWP growth series stops one step before the end. Documented
differences: an invalid value (NaN) stops the metrics at the step that makes
it, where the original also keeps what that step computed before the error;
the share bookkeeping of ``compute_shares`` (never an input to the dynamics)
is not computed, as the original's own Monte Carlo does.

This model computes in float64 whatever the run's precision: the largest
training run passes 1e42 FLOP (float32 stops at 3.4e38), and labour against
compute in the allocation spans more than 1e40.

Third-party notice. The model, its equations and its parameter values are
from epoch-research/ftm, which carries this licence:

    MIT License

    Copyright (c) 2025 Tom Davidson and Epoch AI

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in all
    copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
    SOFTWARE.
"""


from ._declaration import (
    ORIGINAL_PARAMETERS, OUTPUTS, PARAMETERS, POLICY_PARAMETERS, START_YEAR, STEP_YEARS, STEPS, TRAJECTORIES,
    TRAJECTORY_YEARS)
from ._model import FTM, TRACE_VARIABLES, simulate, trace

__all__ = ["FTM", "ORIGINAL_PARAMETERS", "OUTPUTS", "PARAMETERS", "POLICY_PARAMETERS", "START_YEAR", "STEPS",
           "STEP_YEARS", "TRACE_VARIABLES", "TRAJECTORIES", "TRAJECTORY_YEARS", "simulate", "trace"]
