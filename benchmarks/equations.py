"""Equations models against the built-in ones (issue 16, SPEC section 5), in the same run.

* W1a (N = 1e5 classic Hodgkin-Huxley neurons, euler, float32, constant 10 uA/cm2; see
  ``baselines.py``) with the built-in ``hodgkin_huxley`` and with the shipped model file
  ``hodgkin_huxley`` (the same model written as equations), interleaved, ``--repeats``
  times each: neuron-steps/s over each run's ``run_seconds`` (compile excluded), and the
  ratio equations / built-in of the medians;
* what building and compiling a model costs: the load (YAML, parse, units, sympy) and XLA's
  ``compile_seconds`` of each library model, the 5-variable ``hh_mcurrent`` among them.

Usage: python benchmarks/equations.py [--n 100000] [--steps 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("SPIKESIM_CACHE_DIR", tempfile.mkdtemp(prefix="spikesim-bench-cache-"))

import spikesim  # noqa: E402

from run import config, run_api  # noqa: E402


def w1a(n: int, steps: int, equations: bool) -> dict:
    cfg = config("W1a", n, steps)
    if equations:
        cfg["model"] = {"type": "equations", "file": "hodgkin_huxley"}
        cfg["name"] += "_equations"
    return cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="spikesim-bench-eq-"))
    work = args.n * args.steps
    runs = {"built-in hodgkin_huxley": [], "equations hodgkin_huxley": []}
    compiles = {k: [] for k in runs}
    spikes = {}
    for _ in range(args.repeats):
        for key, eq in (("built-in hodgkin_huxley", False), ("equations hodgkin_huxley", True)):
            secs, comp, per = run_api(w1a(args.n, args.steps, eq), tmp / "w1a.h5")
            runs[key].append(work / secs)
            compiles[key].append(comp)
            spikes[key] = per
    print(f"W1a: N = {args.n:,}, {args.steps:,} steps, euler, float32")
    for key, rates in runs.items():
        print(f"  {key:26s} {statistics.median(rates):.3g} neuron-steps/s "
              f"(runs: {', '.join(f'{r:.3g}' for r in rates)}); compile "
              f"{statistics.median(compiles[key]):.2f} s; {spikes[key]:.1f} spikes/neuron")
    ratio = (statistics.median(runs["equations hodgkin_huxley"])
             / statistics.median(runs["built-in hodgkin_huxley"]))
    print(f"  equations / built-in: {ratio:.3f}")

    from spikesim.config.load import load
    from spikesim.equations import library

    print("\nbuild (load: YAML, parse, units, sympy) and XLA compile, N = 1000, rk4, 1000 steps")
    builtin = {"name": "builtin_hh", "model": {"type": "hodgkin_huxley"},
               "population": {"size": 1000},
               "simulation": {"duration": 1000 * 0.01, "dt": 0.01, "integrator": "rk4"}}
    _, comp, _ = run_api(builtin, tmp / "c.h5")
    print(f"  {'built-in hodgkin_huxley':18s} 4 variables: compile {comp:.2f} s")
    for name in library():
        cfg = {"name": name, "model": {"type": "equations", "file": name},
               "population": {"size": 1000},
               "simulation": {"duration": 1000 * 0.01, "dt": 0.01, "integrator": "rk4"}}
        t0 = time.perf_counter()
        loaded = load(None, data=cfg)
        t_load = time.perf_counter() - t0
        states = len(loaded.cfg.model._built.linear_states()), len(
            loaded.cfg.model._built.definition.odes)
        _, comp, _ = run_api(cfg, tmp / "c.h5")
        print(f"  {name:18s} {states[1]} variables: load {t_load:.2f} s, compile {comp:.2f} s")


if __name__ == "__main__":
    main()
