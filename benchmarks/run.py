"""spikesim against a hand-written JAX scan (issue 7), interleaved, in one process (and a worker).

For each workload (W1a, W1b, W2, W3; see ``baselines.py``) and population size it measures

* (a) spikesim through its Python API (``spikesim.run``): neuron-steps/s over the run's own
      ``run_seconds`` (the compiled loop, spike decoding, HDF5 writing; compile excluded and
      reported separately as ``compile_seconds``);
* (b) ``spikesim run`` as a whole process: neuron-steps/s over the wall time, and peak RSS;
* (c) the simple hand-written ``jax.jit(jax.lax.scan)`` of ``baselines.py`` (one device,
      spike count in the carry; W1b keeps its samples in memory and writes nothing), in
      this process, so under the XLA flags that importing spikesim sets (one CPU device per
      core, multi-output fusion);
* (c0) the same scan under XLA's default flags, i.e. as a user who never imports spikesim
      runs it: XLA reads its flags once per process, so (c0) runs in a worker process
      (``baselines.py --serve``), still interleaved with (a) and (c);

and prints neuron-steps/s, the ratios (a)/(c) and (a)/(c0), compile times and peak RSS.
Options:

* ``--ceiling``: for W1a, also the hand-vectorised C loop of ``c_ceiling/hh.c`` (built here
  with gcc -O3 -march=native -ffast-math -fopenmp, both cores; the better of its two loop
  orders), interleaved with (a), and the ratio (a)/C;
* ``--safety``: (a) again with the NaN check off, and again as one single chunk, to measure
  what the safety machinery costs (progress bars are off in (a) and in ``-q`` runs);
* ``--memory``: peak RSS of (b) for W1b at the largest N, at 1x and 10x the duration;
* ``--peers``: Brian2 / BrainPy on the same workloads, if installed (``pip install -e
  ".[bench]"``; see ``peers.py``).

* ``--precise``: only (a), with ``simulation.spike_timing`` grid and precise interleaved, and
  what precise timing costs (``--steps`` shortens the runs). W1a-W3 drive identical neurons,
  which spike on the same steps; the workloads W2h and W3h are W2 and W3 with amplitudes
  spread uniformly over +-20 %, so that neurons spike at different times.

Usage: python benchmarks/run.py [--n 1000 10000 100000] [--workloads W1a W1b W2 W3]
       [--repeats 3] [--ceiling] [--safety] [--memory] [--peers] [--precise [--steps S]]
       (--precise also takes the workloads W2h and W3h)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("SPIKESIM_CACHE_DIR", tempfile.mkdtemp(prefix="spikesim-bench-cache-"))
USER_XLA_FLAGS = os.environ.get("XLA_FLAGS")  # before spikesim adds its own

import spikesim  # noqa: E402  (before jax: spikesim asks XLA for one CPU device per core)

import baselines as base  # noqa: E402
import h5py  # noqa: E402
import yaml  # noqa: E402


def config(workload: str, n: int, steps: int = base.N_STEPS) -> dict:
    """The spikesim config of a workload: the same equations and numbers as baselines.py."""
    if workload in ("W1a", "W1b"):
        model, dt, integ, amp = {"type": "hodgkin_huxley", "preset": "classic"}, 0.01, "euler", 10.0
    elif workload in ("W2", "W2h"):
        model, dt, integ, amp = {"type": "izhikevich", "preset": "RS"}, 0.1, "euler", 10.0
    else:
        model = {"type": "lif", "params": {"tau_m": 10.0, "R_m": 1.0, "v_rest": -65.0,
                                           "v_reset": -65.0, "v_th": -50.0, "t_ref": 2.0}}
        dt, integ, amp = 0.1, "exp_euler", 20.0
    if workload in ("W2h", "W3h"):  # --precise: neurons that spike at different times
        amp = {"uniform": [0.8 * amp, 1.2 * amp]}
    record = {"spikes": True}
    if workload == "W1b":
        record.update(variables=["v"], every=10)
    return {"name": f"{workload}_{n}", "model": model, "population": {"size": n},
            "simulation": {"duration": steps * dt, "dt": dt, "integrator": integ,
                           "precision": "float32"},
            "input": {"type": "constant", "amplitude": amp}, "record": record}


def run_api(cfg: dict, out: Path, *overrides: str) -> tuple[float, float, float]:
    """(a): returns (run_seconds, compile_seconds, spikes per neuron)."""
    path = spikesim.run(cfg, *overrides, output=out, force=True)
    with h5py.File(path) as f:
        spikes = f[f"spikes/{f.attrs['population']}/node_ids"].shape[0]
        result = (float(f.attrs["run_seconds"]), float(f.attrs["compile_seconds"]),
                  spikes / int(f.attrs["n_neurons"]))
    os.remove(path)
    return result


_CHILD = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
          "r = subprocess.run(sys.argv[1:]); w = time.perf_counter() - t; "
          "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")


def run_process(cfg: dict, tmp: Path, *overrides: str) -> tuple[float, float]:
    """(b): `spikesim run` as its own process; returns (wall seconds, peak RSS in MiB)."""
    conf = tmp / f"{cfg['name']}.yaml"
    conf.write_text(yaml.safe_dump(cfg))
    out = tmp / f"{cfg['name']}_proc.h5"
    cmd = [sys.executable, "-c", _CHILD, sys.executable, "-m", "spikesim", "run", str(conf),
           "-o", str(out), "--force", "-q", *overrides]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall, rss_kib, rc = res.stdout.split()[-3:]  # after the path spikesim prints
    if int(rc) != 0:
        raise RuntimeError(f"spikesim run failed for {cfg['name']}")
    out.unlink(missing_ok=True)
    return float(wall), int(rss_kib) / 1024


class PlainJax:
    """(c0): the baselines in a worker process that never imports spikesim."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
        if USER_XLA_FLAGS is not None:
            env["XLA_FLAGS"] = USER_XLA_FLAGS
        self.proc = subprocess.Popen([sys.executable, str(HERE / "baselines.py"), "--serve"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)

    def __call__(self, wl: str, n: int) -> float:
        """Neuron-steps/s of one timed call."""
        self.proc.stdin.write(f"{wl} {n}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the plain-JAX baseline worker died")
        return float(line.split()[0])

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


class CCeiling:
    """The C ceiling of W1a (c_ceiling/hh.c), built once into a temporary folder."""

    def __init__(self, tmp: Path):
        src = HERE / "c_ceiling" / "hh.c"
        flags = ["-O3", "-march=native", "-ffast-math", "-fopenmp"]
        self.binaries = [tmp / "hh_tiled", tmp / "hh_time_outer"]
        for binary, extra in zip(self.binaries, ([], ["-DTIME_OUTER"])):
            subprocess.run(["gcc", *flags, *extra, str(src), "-o", str(binary), "-lm"],
                           check=True)

    def __call__(self, n: int) -> float:
        """Neuron-steps/s: the better of the two loop orders, one timed run each."""
        env = dict(os.environ, OMP_NUM_THREADS=str(os.cpu_count() or 1), OMP_PROC_BIND="true")
        rates = []
        for binary in self.binaries:
            out = subprocess.run([str(binary), str(n), str(base.N_STEPS), "1"], env=env,
                                 capture_output=True, text=True, check=True).stdout
            rates.append(float(out.split("neuron_steps_per_s(median)=")[1].split()[0]))
        return max(rates)


def fmt(x: float) -> str:
    return f"{x:.2e}"


def compare_timing(args):
    """``--precise``: what ``spike_timing: precise`` costs, (a) for grid and precise timing
    interleaved (compile excluded); also the mean absolute shift of the spike times."""
    import jax

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; jax {jax.__version__}; "
          f"devices {[str(d) for d in jax.devices()]}; {args.steps} steps; medians of "
          f"{args.repeats}")
    print(f"{'work':5} {'N':>7} {'grid':>9} {'precise':>9} {'cost':>7} {'spk/n g':>8} "
          f"{'spk/n p':>8}")
    tmp = Path(tempfile.mkdtemp(prefix="spikesim-bench-"))
    for wl in args.workloads:
        for n in args.n:
            cfg = config(wl, n, args.steps)
            work = n * args.steps
            times = {"grid": [], "precise": []}
            spk = {}
            for timing in times:  # compile once each (the cache serves the repeats)
                run_api(cfg, tmp / "warm.h5", f"simulation.spike_timing={timing}")
            for _ in range(args.repeats):
                for timing in times:
                    run_s, _, spk[timing] = run_api(cfg, tmp / f"{timing}.h5",
                                                    f"simulation.spike_timing={timing}")
                    times[timing].append(run_s)
            rg = work / statistics.median(times["grid"])
            rp = work / statistics.median(times["precise"])
            print(f"{wl:5} {n:>7} {fmt(rg):>9} {fmt(rp):>9} {100 * (rg - rp) / rg:>6.1f}% "
                  f"{spk['grid']:>8.2f} {spk['precise']:>8.2f}", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=list(base.SIZES))
    ap.add_argument("--workloads", nargs="+", default=list(base.WORKLOADS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ceiling", action="store_true")
    ap.add_argument("--safety", action="store_true")
    ap.add_argument("--memory", action="store_true")
    ap.add_argument("--peers", action="store_true")
    ap.add_argument("--precise", action="store_true",
                    help="only (a), with simulation.spike_timing grid and precise interleaved")
    ap.add_argument("--steps", type=int, default=base.N_STEPS,
                    help="steps per run (--precise only)")
    args = ap.parse_args(argv)
    if args.precise:
        return compare_timing(args)

    import jax

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.processor() or platform.platform()}; python {platform.python_version()}, "
          f"jax {jax.__version__}, spikesim {spikesim.__version__}; "
          f"devices {[str(d) for d in jax.devices()]}")
    print("neuron-steps/s; (a) spikesim.run (loop + HDF5, compile excluded), (b) `spikesim run` "
          "process wall, (c) hand-written scan in this process, (c0) the same under XLA's "
          "default flags; medians of repeats\n")
    head = (f"{'work':5} {'N':>7} {'(a) api':>9} {'(b) cli':>9} {'(c) scan':>9} {'a/c':>5} "
            f"{'(c0) plain':>10} {'a/c0':>5} "
            f"{'comp a':>7} {'comp c':>7} {'rss b':>7} {'spk/n':>6}")
    if args.ceiling:
        head += f" {'C (W1a)':>9} {'a/C':>5}"
    if args.safety:
        head += f" {'no check':>9} {'cost':>6} {'1 chunk':>9} {'cost':>6}"
    print(head)
    tmp = Path(tempfile.mkdtemp(prefix="spikesim-bench-"))
    plain = PlainJax()
    ceiling = CCeiling(tmp) if args.ceiling else None
    for wl in args.workloads:
        for n in args.n:
            cfg = config(wl, n)
            work = n * base.N_STEPS
            a, c, c0, c_ceil, unchecked, single = [], [], [], [], [], []
            comp_a = comp_c = spk = 0.0
            run_api(cfg, tmp / "warm.h5")  # compile once (the cache serves the repeats)
            for _ in range(args.repeats):  # interleaved, so drifts in load hit both
                run_s, comp_a, spk = run_api(cfg, tmp / "a.h5")
                a.append(run_s)
                rate_c, comp_c, _ = base.WORKLOADS[wl](n, repeats=1)
                c.append(work / rate_c)
                c0.append(work / plain(wl, n))
                if ceiling and wl == "W1a":
                    c_ceil.append(work / ceiling(n))
                if args.safety:
                    unchecked.append(run_api(cfg, tmp / "u.h5",
                                             "simulation.check_finite=false")[0])
                    single.append(run_api(cfg, tmp / "s.h5",
                                          f"simulation.chunk_steps={base.N_STEPS}")[0])
            wall_b, rss_b = run_process(cfg, tmp)
            ra, rc = work / statistics.median(a), work / statistics.median(c)
            rc0 = work / statistics.median(c0)
            line = (f"{wl:5} {n:>7} {fmt(ra):>9} {fmt(work / wall_b):>9} {fmt(rc):>9} "
                    f"{ra / rc:>5.2f} {fmt(rc0):>10} {ra / rc0:>5.2f} "
                    f"{comp_a:>7.2f} {comp_c:>7.2f} {rss_b:>6.0f}M {spk:>6.1f}")
            if c_ceil:
                r_ceil = work / statistics.median(c_ceil)
                line += f" {fmt(r_ceil):>9} {ra / r_ceil:>5.2f}"
            elif args.ceiling:
                line += f" {'':>9} {'':>5}"
            if args.safety:  # cost = how much slower (a) is than the variant
                for variant in (unchecked, single):
                    rv = work / statistics.median(variant)
                    line += f" {fmt(rv):>9} {100 * (rv - ra) / rv:>5.1f}%"
            print(line, flush=True)
    plain.close()
    if args.memory:
        n = max(args.n)
        print(f"\npeak RSS of `spikesim run` for W1b at N = {n}:")
        for factor in (1, 10):
            cfg = config("W1b", n, base.N_STEPS * factor)
            cfg["name"] = f"W1b_mem_{factor}"
            wall, rss = run_process(cfg, tmp)
            print(f"  {factor:>2}x duration ({base.N_STEPS * factor} steps): {rss:.0f} MiB, "
                  f"{wall:.1f} s")
    if args.peers:
        subprocess.run([sys.executable, str(HERE / "peers.py"), "--n", *map(str, args.n)])


if __name__ == "__main__":
    main()
