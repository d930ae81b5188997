"""Peer simulators on the spikesim benchmark workloads (issue 7): Brian2 and BrainPy.

* Brian2: runtime mode (Cython code generation), and ``cpp_standalone`` with 1 and 2
  OpenMP threads when a C++ compiler works (project directories under /tmp).
* BrainPy: its built-in models (``bp.dyn.HH``, ``bp.dyn.Izhikevich``, ``bp.dyn.LifRef``)
  driven by ``bm.jit`` of its ``bm.for_loop``, spike counts accumulated in a ``bm.Variable``.

Workloads as in ``baselines.py`` (W1a, W1b, W2, W3; 10,000 steps).  A peer that is not
importable is skipped with a note.  Brian2 2.9.0 does not import with NumPy >= 2.4
(``ndarray.ptp`` is gone), so Brian2 may run in its own interpreter:

    python benchmarks/peers.py --brian2-python /tmp/b2env/bin/python

(/tmp/b2env: ``python -m venv --system-site-packages /tmp/b2env &&
/tmp/b2env/bin/pip install "numpy<2.4" brian2``).  Each peer/mode runs in a subprocess so
that one crash or device switch cannot affect the others.

Every row: peer, mode, workload, N, neuron-steps/s, compile/build seconds, spikes/neuron.
For Brian2 runtime the "compile" time is the first 1-step run (code generation + Cython
build, cached afterwards in ~/.cython); the timed run is the next 10,000 steps.
For cpp_standalone it is the build time; the rate uses the simulation loop's own timing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

N_STEPS = 10_000
HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = {"W1a": 7, "W1b": 7, "W2": 23, "W3": 63}


# --------------------------------------------------------------------------------------
# Brian2
# --------------------------------------------------------------------------------------

def _brian2_group(workload, n):
    import brian2 as b2
    ms = b2.ms
    if workload in ("W1a", "W1b"):
        eqs = """
        dv/dt = (I - gNa*m**3*h*(v-ENa) - gK*n**4*(v-EK) - gL*(v-EL))/C/ms : 1
        dm/dt = (am*(1-m) - bm*m)/ms : 1
        dh/dt = (ah*(1-h) - bh*h)/ms : 1
        dn/dt = (an*(1-n) - bn*n)/ms : 1
        am = 0.1*(v+40)/(1-exp(-(v+40)/10)) : 1
        bm = 4*exp(-(v+65)/18) : 1
        ah = 0.07*exp(-(v+65)/20) : 1
        bh = 1/(1+exp(-(v+35)/10)) : 1
        an = 0.01*(v+55)/(1-exp(-(v+55)/10)) : 1
        bn = 0.125*exp(-(v+65)/80) : 1
        """
        ns = dict(I=10.0, gNa=120.0, gK=36.0, gL=0.3, ENa=50.0, EK=-77.0, EL=-54.387, C=1.0)
        g = b2.NeuronGroup(n, eqs, threshold="v >= 0", refractory="v >= 0", method="euler",
                           namespace=ns, dtype=None)
        g.v = -65.0
        am, bm = 0.1 * 25 / (1 - 2.718281828459045 ** -2.5), 4.0
        ah, bh = 0.07, 1 / (1 + 2.718281828459045 ** 3)
        an, bn = 0.01 * 10 / (1 - 2.718281828459045 ** -1), 0.125
        g.m, g.h, g.n = am / (am + bm), ah / (ah + bh), an / (an + bn)
        return g, 0.01 * ms
    if workload == "W2":
        eqs = """
        dv/dt = (0.04*v**2 + 5*v + 140 - u + I)/ms : 1
        du/dt = a*(b*v - u)/ms : 1
        """
        ns = dict(a=0.02, b=0.2, c=-65.0, d=8.0, I=10.0)
        g = b2.NeuronGroup(n, eqs, threshold="v >= 30", reset="v = c; u += d", method="euler",
                           namespace=ns)
        g.v = -65.0
        g.u = 0.2 * -65.0
        return g, 0.1 * ms
    if workload == "W3":
        eqs = "dv/dt = (v_rest - v + RI)/tau : 1 (unless refractory)"
        ns = dict(v_rest=-65.0, RI=20.0, tau=10 * ms, v_reset=-65.0)
        g = b2.NeuronGroup(n, eqs, threshold="v >= -50", reset="v = v_reset",
                           refractory=2 * ms, method="exact", namespace=ns)
        g.v = -65.0
        return g, 0.1 * ms
    raise ValueError(workload)


def brian2_worker(mode, workload, n, threads=0, repeats=2):
    import brian2 as b2
    b2.prefs.logging.console_log_level = "WARNING"
    if mode == "runtime":
        b2.prefs.codegen.target = "cython"
    else:
        projdir = tempfile.mkdtemp(prefix=f"spikesim_b2_{workload}_{n}_{threads}t_",
                                   dir="/tmp")
        b2.set_device("cpp_standalone", directory=projdir, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = threads
    g, dt = _brian2_group(workload, n)
    b2.defaultclock.dt = dt
    mon = b2.SpikeMonitor(g, record=False)
    objs = [g, mon]
    if workload == "W1b":
        objs.append(b2.StateMonitor(g, "v", record=True, dt=10 * dt))
    net = b2.Network(*objs)
    if mode == "runtime":
        t0 = time.perf_counter()
        net.run(dt)                                   # code generation + Cython build
        compile_s = time.perf_counter() - t0
        times = []
        for _ in range(repeats):                      # each run continues the last
            c0 = int(mon.num_spikes)
            t0 = time.perf_counter()
            net.run(N_STEPS * dt)
            times.append(time.perf_counter() - t0)
        run_s = statistics.median(times)
        spn = (int(mon.num_spikes) - c0) / n
    else:
        net.run(N_STEPS * dt)
        t0 = time.perf_counter()
        b2.device.build(directory=projdir, compile=True, run=True, with_output=False)
        total = time.perf_counter() - t0
        run_s = b2.device._last_run_time
        compile_s = total - run_s
        spn = int(mon.num_spikes) / n
        shutil.rmtree(projdir, ignore_errors=True)
    return dict(peer=f"brian2 {b2.__version__}",
                mode=mode if mode == "runtime" else f"cpp_standalone {threads}t",
                workload=workload, n=n, rate=n * N_STEPS / run_s, compile_s=compile_s,
                spikes=spn)


# --------------------------------------------------------------------------------------
# BrainPy
# --------------------------------------------------------------------------------------

def brainpy_worker(workload, n, repeats=3):
    import brainpy as bp
    import brainpy.math as bm
    import jax
    import jax.numpy as jnp
    import numpy as np

    if workload in ("W1a", "W1b"):
        dt, I = 0.01, 10.0
        model = bp.dyn.HH(n, method="euler", gL=0.3, V_th=0.0,
                          V_initializer=bp.init.Constant(-65.0))
    elif workload == "W2":
        dt, I = 0.1, 10.0
        model = bp.dyn.Izhikevich(n, method="euler", V_initializer=bp.init.Constant(-65.0),
                                  u_initializer=bp.init.Constant(0.2 * -65.0))
    elif workload == "W3":
        dt, I = 0.1, 20.0
        model = bp.dyn.LifRef(n, V_rest=-65.0, V_reset=-65.0, V_th=-50.0, R=1.0, tau=10.0,
                              tau_ref=2.0, method="exp_auto",
                              V_initializer=bp.init.Constant(-65.0))
    else:
        raise ValueError(workload)
    bm.set_dt(dt)
    cnt = bm.Variable(jnp.zeros(n, jnp.int32))
    every = 10

    def step(i):
        bp.share.save(i=i, t=i * dt, dt=dt)
        model.update(I)
        cnt.value += model.spike.value.astype(jnp.int32)
        if workload == "W1b":
            return model.V.value
        return None

    def run_all():
        if workload == "W1b":   # record v every 10th step: for_loop over blocks of 10
            def block(j):
                for k in range(every):
                    step(j * every + k)
                return model.V.value
            return bm.for_loop(block, jnp.arange(N_STEPS // every))
        return bm.for_loop(step, jnp.arange(N_STEPS))

    run_all = bm.jit(run_all)   # compiled once, reused by the timed calls

    def reset():
        model.reset_state()
        if workload == "W2":
            model.u.value = jnp.full(n, 0.2 * -65.0, model.u.value.dtype)
        cnt.value = jnp.zeros(n, jnp.int32)

    reset()
    t0 = time.perf_counter()
    jax.block_until_ready((run_all(), cnt.value, model.V.value))
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        reset()
        t0 = time.perf_counter()
        jax.block_until_ready((run_all(), cnt.value, model.V.value))
        times.append(time.perf_counter() - t0)
    run_s = statistics.median(times)
    spn = float(np.asarray(cnt.value).mean())
    return dict(peer=f"brainpy {bp.__version__}", mode="jit(for_loop)", workload=workload, n=n,
                rate=n * N_STEPS / run_s, compile_s=max(0.0, first - run_s), spikes=spn,
                dtype=str(model.V.value.dtype))


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------

def _probe(python, module):
    r = subprocess.run([python, "-c", f"import {module}; print({module}.__version__)"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        return True, r.stdout.strip()
    return False, (r.stderr.strip().splitlines() or ["?"])[-1]


def _cxx_works():
    cxx = shutil.which("g++") or shutil.which("c++")
    if not cxx:
        return False
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "t.cpp")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(){return omp_get_max_threads()>0?0:1;}\n")
        return subprocess.run([cxx, "-fopenmp", src, "-o", os.path.join(d, "t")],
                              capture_output=True).returncode == 0


def _spawn(python, args, timeout):
    cmd = [python, os.path.abspath(__file__), "--_worker", json.dumps(args)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout}s"
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:]), None
    return None, (r.stderr.strip().splitlines() or ["?"])[-1]


def _row(res):
    w = res["workload"]
    flag = "" if abs(res["spikes"] - EXPECTED[w]) <= 1 else f"  !! expected ~{EXPECTED[w]}"
    print(f"{res['peer']:15} {res['mode']:19} {w:5} {res['n']:>7} {res['rate']:>14.3e} "
          f"{res['compile_s']:>9.2f} {res['spikes']:>7.2f}{flag}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    p.add_argument("--standalone-n", type=int, nargs="+", default=[100_000],
                   help="sizes for cpp_standalone (each is a C++ build of ~10-30 s)")
    p.add_argument("--workloads", nargs="+", default=["W1a", "W1b", "W2", "W3"])
    p.add_argument("--peers", nargs="+", default=["brian2", "brainpy"])
    p.add_argument("--brian2-modes", nargs="+", default=["runtime", "standalone"])
    p.add_argument("--brian2-python", default=sys.executable,
                   help="interpreter with brian2 importable (default: this one)")
    p.add_argument("--timeout", type=int, default=240, help="per worker, seconds")
    p.add_argument("--_worker", help=argparse.SUPPRESS)
    a = p.parse_args(argv)

    if a._worker:
        spec = json.loads(a._worker)
        kind = spec.pop("kind")
        res = brian2_worker(**spec) if kind == "brian2" else brainpy_worker(**spec)
        print("RESULT " + json.dumps(res), flush=True)
        return 0

    print(f"{'peer':15} {'mode':19} {'wl':5} {'N':>7} {'neuron-steps/s':>14} "
          f"{'compile s':>9} {'spikes':>7}")
    if "brainpy" in a.peers:
        ok, info = _probe(sys.executable, "brainpy")
        if not ok:
            print(f"# brainpy skipped: not importable ({info})")
        else:
            for w in a.workloads:
                for n in a.n:
                    res, err = _spawn(sys.executable, dict(kind="brainpy", workload=w, n=n),
                                      a.timeout)
                    _row(res) if res else print(f"# brainpy {w} N={n} failed: {err}")
    if "brian2" in a.peers:
        ok, info = _probe(a.brian2_python, "brian2")
        if not ok:
            print(f"# brian2 skipped: not importable with {a.brian2_python} ({info}); "
                  "see --brian2-python")
        else:
            jobs = []
            if "runtime" in a.brian2_modes:
                jobs += [dict(mode="runtime", workload=w, n=n) for w in a.workloads
                         for n in a.n]
            if "standalone" in a.brian2_modes:
                if _cxx_works():
                    jobs += [dict(mode="standalone", workload=w, n=n, threads=t)
                             for w in a.workloads for n in a.standalone_n for t in (1, 2)]
                else:
                    print("# brian2 cpp_standalone skipped: no working C++ compiler with OpenMP")
            for job in jobs:
                res, err = _spawn(a.brian2_python, dict(kind="brian2", **job), a.timeout)
                _row(res) if res else print(f"# brian2 {job} failed: {err}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
