"""Cost of ``spikesim analyze rheobase`` (issue 18) against one run of the same population.

Population: N classic Hodgkin-Huxley neurons with g_K spread uniformly over 30-42 mS/cm2 (so
that rheobases differ), rk4, dt 0.01 ms, float32. The run: a 500 ms step of 10 uA/cm2,
spikes recorded (``spikesim run``). The analysis: the rheobase of a 500 ms step, default
range (0-20 uA/cm2) and tolerance (range / 1000), i.e. 10 bisection calls of one compiled
program (``spikesim analyze rheobase``). Both run from the command line as a user would,
each with an empty XLA compilation cache of its own; wall-clock times include process start,
JAX import and compilation. Also printed: the simulation seconds the files record
(``run_seconds``, compilation excluded). Throughput = neuron-steps per second.

Usage: python benchmarks/analyze.py [--n 10000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import h5py
import yaml

from shards import timed  # (benchmarks/ is on the path of a script run from it)


def config(n: int) -> dict:
    return {"name": "hh_rheobase", "model": {"type": "hodgkin_huxley",
                                             "params": {"g_K": {"uniform": [30.0, 42.0]}}},
            "population": {"size": n},
            "simulation": {"duration": 500.0, "dt": 0.01, "integrator": "rk4",
                           "precision": "float32", "device": "cpu"},
            "input": {"type": "step", "amplitude": 10.0, "start": 0.0},
            "record": {"spikes": True, "variables": []}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=1)
    a = ap.parse_args()
    work = a.n * 50_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = tmp / "hh.yaml"
        cfg.write_text(yaml.safe_dump(config(a.n), sort_keys=False))
        runs, analyses, sim_run, sim_an, calls = [], [], [], [], 0
        for _ in range(a.repeats):
            runs.append(timed("run", cfg, "-o", tmp / "run.h5", "--force", "-q"))
            analyses.append(timed("analyze", "rheobase", cfg, "-o", tmp / "rb.h5", "--force",
                                  "-q"))
            with h5py.File(tmp / "run.h5") as f:
                sim_run.append(float(f.attrs["run_seconds"]))
            with h5py.File(tmp / "rb.h5") as f:
                sim_an.append(float(f.attrs["run_seconds"]))
                calls = int(f["analysis/rheobase"].attrs["calls"])
    t_run, t_an = statistics.median(runs), statistics.median(analyses)
    s_run, s_an = statistics.median(sim_run), statistics.median(sim_an)
    print(f"N = {a.n:,} HH neurons, 500 ms at dt 0.01 (rk4, float32): {work:.3g} neuron-steps "
          f"per run; rheobase: {calls} calls of one compiled program")
    print(f"{'':24s}{'wall (s)':>10s}{'sim (s)':>10s}{'neuron-steps/s':>16s}")
    print(f"{'spikesim run':24s}{t_run:10.1f}{s_run:10.1f}{work / s_run:16.3g}")
    print(f"{'analyze rheobase':24s}{t_an:10.1f}{s_an:10.1f}{calls * work / s_an:16.3g}")
    print(f"ratio analyze / run: {t_an / t_run:.2f} (wall), {s_an / s_run:.2f} (simulation "
          f"seconds); target < 15")


if __name__ == "__main__":
    main()
