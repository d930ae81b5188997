"""Synaptic input (issue 20): LIF under Poisson conductances against the same LIF under a
white-noise current, interleaved, in one process.

* (s) 1e5 LIF neurons (dt 0.1 ms, exp_euler, float32) with one excitatory and one inhibitory
      ``poisson_synapses`` input, ``kind: conductance``, 5 kHz each (the default numbers put
      the population in a fluctuation-driven, high-conductance regime);
* (n) the same LIF with a ``noise`` current instead (one normal draw per neuron and step);
* (s1) optionally (``--single``) one excitatory conductance only;

each timed by the run's own ``run_seconds`` (the compiled loop, spike decoding and HDF5
writing of every spike; compile excluded), the median of ``--repeats`` interleaved runs.
Prints neuron-steps/s and the ratio of the times (s)/(n).

Usage: python benchmarks/synapses.py [--n 100000] [--steps 10000] [--repeats 3] [--single]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("SPIKESIM_CACHE_DIR", tempfile.mkdtemp(prefix="spikesim-bench-cache-"))

import spikesim  # noqa: E402

import h5py  # noqa: E402

LIF = {"type": "lif", "params": {"tau_m": 20.0, "R_m": 100.0, "v_rest": -70.0,
                                 "v_reset": -60.0, "v_th": -50.0, "t_ref": 2.0}}
EXC = {"type": "poisson_synapses", "rate": "5 kHz", "weight": "1 nS", "tau": "5 ms",
       "reversal": "0 mV"}
INH = {"type": "poisson_synapses", "rate": "5 kHz", "weight": "1 nS", "tau": "10 ms",
       "reversal": "-80 mV"}
NOISE = {"type": "noise", "mean": 0.2, "std": 0.05}


def config(name: str, inputs, n: int, steps: int) -> dict:
    return {"name": name, "model": LIF, "population": {"size": n},
            "simulation": {"duration": steps * 0.1, "dt": 0.1, "integrator": "exp_euler",
                           "precision": "float32", "seed": 1},
            "input": inputs, "record": {"spikes": True}}


def run(cfg: dict, out: Path) -> tuple[float, float, float]:
    """(run seconds, compile seconds, spikes per neuron)."""
    path = spikesim.run(cfg, output=out, force=True)
    with h5py.File(path) as f:
        result = (float(f.attrs["run_seconds"]), float(f.attrs["compile_seconds"]),
                  f["spikes/lif/node_ids"].shape[0] / int(f.attrs["n_neurons"]))
    os.remove(path)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--single", action="store_true", help="also one excitatory input alone")
    args = ap.parse_args(argv)
    cases = {"noise (n)": [NOISE], "2 conductances (s)": [EXC, INH]}
    if args.single:
        cases["1 conductance (s1)"] = [EXC]
    times = {k: [] for k in cases}
    info = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for name, inputs in cases.items():
                t, c, spikes = run(config(f"c{len(times[name])}", inputs, args.n, args.steps),
                                   Path(tmp) / "out.h5")
                times[name].append(t)
                info[name] = (c, spikes)
                print(f"  repeat {r}: {name}: {t:.2f} s", file=sys.stderr)
    work = args.n * args.steps
    base = statistics.median(times["noise (n)"])
    print(f"LIF, N = {args.n:,}, {args.steps:,} steps of 0.1 ms, exp_euler, float32, "
          f"median of {args.repeats}")
    print(f"{'input':<22} {'neuron-steps/s':>15} {'run s':>8} {'compile s':>10} "
          f"{'spikes/neuron':>14} {'time / noise':>13}")
    for name in cases:
        t = statistics.median(times[name])
        c, spikes = info[name]
        print(f"{name:<22} {work / t:>15.3g} {t:>8.2f} {c:>10.2f} {spikes:>14.1f} "
              f"{t / base:>13.2f}")


if __name__ == "__main__":
    main()
