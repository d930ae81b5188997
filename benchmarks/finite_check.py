"""Cost of the blow-up detection (``simulation.check_finite``): the same run with the check on
and off, through ``spikesim.run``, compared by the file's ``run_seconds`` (compilation
excluded). The check is one ``isfinite`` reduction over the state at the end of each chunk.

Usage:  python benchmarks/finite_check.py [--n 10000] [--steps 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import h5py

import spikesim


def config(n: int, steps: int, check: bool, chunk_steps: int | None) -> dict:
    sim = {"duration": steps * 0.01, "dt": 0.01, "integrator": "euler", "check_finite": check}
    if chunk_steps:
        sim["chunk_steps"] = chunk_steps
    return {"model": {"type": "hodgkin_huxley"}, "population": {"size": n},
            "simulation": sim, "input": {"type": "constant", "amplitude": 10.0},
            "record": {"spikes": True}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--chunk-steps", type=int, default=None,
                    help="smaller chunks = more checks (default: automatic)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    times = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for check in (True, False):
                out = Path(tmp) / f"run_{check}_{r}.h5"
                spikesim.run(config(args.n, args.steps, check, args.chunk_steps), output=out)
                with h5py.File(out) as f:
                    times[check].append(float(f.attrs["run_seconds"]))
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(f"HH euler, N={args.n}, {args.steps} steps, chunk_steps={args.chunk_steps or 'auto'}:"
          f" check on {on:.3f} s, off {off:.3f} s (median of {args.repeats}); "
          f"overhead {100 * (on - off) / off:+.1f}%")


if __name__ == "__main__":
    main()
