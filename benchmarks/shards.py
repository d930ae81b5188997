"""Cost of sharding (issue 19): W1a (classic Hodgkin-Huxley, I = 10 uA/cm2, forward Euler, dt
0.01 ms, 100 ms, spikes only; see baselines.py) at N neurons, run end to end from the command
line as a user would:

* one unsharded process (``spikesim run``), which shares the population over this machine's
  cores as XLA devices;
* ``spikesim run --shards K --executor local:W`` then ``spikesim merge``;
* ``spikesim run --shards K --executor local:W --merge FILE``: the same in one command (the
  merge in the parent process, no second Python start).

Each time is wall-clock, process start, JAX import and compilation included; each command
starts with an empty XLA compilation cache of its own (a first run: the unsharded process
compiles once, each local worker compiles once per shard shape and reuses it). Throughput = neuron-steps per
wall second. Merge throughput is spikes and MB of shard files per second of ``merge``.

Usage: python benchmarks/shards.py [--n 200000] [--shards 4] [--workers 2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import yaml


def w1a(n: int) -> dict:
    return {"name": "w1a", "model": {"type": "hodgkin_huxley"}, "population": {"size": n},
            "simulation": {"duration": 100.0, "dt": 0.01, "integrator": "euler",
                           "precision": "float32", "device": "cpu"},
            "input": {"type": "constant", "amplitude": 10.0},
            "record": {"spikes": True, "variables": []}}


def timed(*args) -> float:
    env = {**os.environ, "SPIKESIM_CACHE_DIR": tempfile.mkdtemp(prefix="spikesim-xla-")}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "spikesim", *map(str, args)], env=env,
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stderr)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    work = a.n * 10_000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = tmp / "w1a.yaml"
        cfg.write_text(yaml.safe_dump(w1a(a.n)))
        for rep in range(a.repeats):
            whole = timed("run", cfg, "-o", tmp / f"whole{rep}.h5", "-q", "--force")
            with h5py.File(tmp / f"whole{rep}.h5") as f:
                whole_comp, whole_run = f.attrs["compile_seconds"], f.attrs["run_seconds"]
            run_dir = tmp / f"run{rep}.d"
            sharded = timed("run", cfg, "--shards", a.shards, "--executor",
                            f"local:{a.workers}", "-o", run_dir, "-q")
            merged = timed("merge", run_dir, "-o", tmp / f"merged{rep}.h5")
            with h5py.File(tmp / f"merged{rep}.h5") as f:
                spikes = f["spikes/hodgkin_huxley/timestamps"].size
                shard_run = f.attrs["shard_run_seconds"].tolist()
                shard_comp = f.attrs["shard_compile_seconds"].tolist()
                merge_s = float(f.attrs["merge_seconds"])
            mb = sum(p.stat().st_size for p in run_dir.glob("shard-*.h5")) / 1e6
            one = timed("run", cfg, "--shards", a.shards, "--executor", f"local:{a.workers}",
                        "-o", tmp / f"one{rep}.d", "--merge", tmp / f"one{rep}.h5", "-q")
            rows.append((whole, sharded, merged, merge_s, spikes, mb, shard_run, one))
            print(f"repeat {rep}: unsharded {whole:.2f} s ({work / whole:.3g} n-steps/s); "
                  f"{a.shards} shards on local:{a.workers} {sharded:.2f} s + merge {merged:.2f} s "
                  f"(in-process {merge_s:.2f} s) -> ratio {whole / (sharded + merged):.2f}; "
                  f"{spikes:,} spikes, {mb:.1f} MB of shards; shard run_seconds "
                  f"{', '.join(f'{s:.2f}' for s in shard_run)}, compile_seconds "
                  f"{', '.join(f'{s:.2f}' for s in shard_comp)}; unsharded compile "
                  f"{whole_comp:.2f} s, run {whole_run:.2f} s; run --merge {one:.2f} s -> "
                  f"ratio {whole / one:.2f}", flush=True)
    med = lambda i: statistics.median(r[i] for r in rows)  # noqa: E731
    print(f"median: unsharded {med(0):.2f} s, sharded {med(1):.2f} s + merge {med(2):.2f} s, "
          f"throughput ratio {med(0) / (med(1) + med(2)):.2f}; merge {med(4) / med(3):.3g} "
          f"spikes/s, {med(5) / med(3):.3g} MB/s (in-process time); run --merge "
          f"{med(7):.2f} s, throughput ratio {med(0) / med(7):.2f}")


if __name__ == "__main__":
    main()
