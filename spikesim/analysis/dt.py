"""dt convergence: the config as it is (its own input, duration and spike timing) at
dt x ``factors``, and per neuron the change of its spike count and of its spike times
against the finest dt.

Spike k at one dt is compared with spike k at the finest; ``shift`` is the largest
|t_k(dt) - t_k(finest)| of the neuron (ms; inf where the counts differ, 0 for a silent
neuron at both). A dt *keeps every spike within tolerance* when every neuron has the same
count and a shift <= ``tolerance`` there; the answer is the largest such dt. Each dt is its
own compiled program (dt is a constant of the compiled step), every neuron of the config in
each. The shifts shrink as dt^p for an integrator of order p, with
``simulation.spike_timing: precise`` (grid timestamps add an O(dt) rounding).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .probe import Probe, analysis_plan
from .store import Timer

#: datasets indexed by something other than the neuron (inspect's table must not take
#: one for a per-neuron column when its length happens to equal the number of neurons)
AXES = ("dt",)


def _compare(times, ref):
    """(count change, largest shift) of each neuron against ``ref`` (lists of arrays)."""
    dcount = np.asarray([t.size - r.size for t, r in zip(times, ref)])
    shift = np.asarray([np.max(np.abs(t - r)) if t.size == r.size and t.size else
                        (0.0 if t.size == r.size else np.inf) for t, r in zip(times, ref)])
    return dcount, shift


def _check_finest(plan, factor: float, source) -> None:
    """The finest dt is a run too: within the limits of ``simulation.dt`` (a factor of 1e-9
    made 5e10 steps of a 5 ms run, a hang)."""
    from ..config.checks import MAX_STEPS, MIN_DT
    from ..errors import ConfigError

    dt = plan.dt * factor
    steps = plan.duration / dt
    problem = (f"dt x {factor:g} = {dt:g} ms is below {MIN_DT:g} ms (1 ns). Use larger "
               f"factors" if dt < MIN_DT
               else f"dt x {factor:g} = {dt:g} ms makes {steps:.3g} steps of the "
                    f"{plan.duration:g} ms run, more than {MAX_STEPS:,}. Use larger factors, "
                    f"or a shorter simulation.duration" if steps > MAX_STEPS
               else None)
    if problem:
        raise ConfigError(f"{source.where(('analysis', 'dt', 'factors'))}: analysis.dt.factors: "
                          f"{problem}")


def run(plan, opts, devices, source, log):
    from ..inputs.poisson import PoissonSynapses
    from .run import Outcome

    timer = Timer()
    # poisson_synapses carries no noise state (random is False) but draws its events anew
    # at every dt, one uniform per step, just as the noise inputs draw their normals
    if any(proto.random or isinstance(proto, PoissonSynapses) for proto, _ in plan.inputs):
        log("warning: a random input draws other numbers at another dt (one draw per step), "
            "so spike times differ by more than the integration error; compare dt on a "
            "deterministic input")
    factors = list(opts.factors)  # distinct and decreasing (options.Dt checks)
    dts = np.asarray([plan.dt * f for f in factors])
    duration = plan.duration
    _check_finest(plan, factors[-1], source)
    spikes, compile_s = [], 0.0
    for dt in dts:
        n_steps = max(1, round(duration / dt))
        p = replace(plan, dt=float(dt), n_steps=n_steps)
        probe = Probe(analysis_plan(p, p.inputs, n_steps), devices)
        compile_s += probe.compile_seconds
        _, sp = probe.run(probe.carry0, n_steps, 0)
        spikes.append(sp.times())
    ref = spikes[-1]
    counts = np.stack([[t.size for t in s] for s in spikes], axis=1)  # [n, F]
    dcount, shift = zip(*[_compare(s, ref) for s in spikes])
    dcount, shift = np.stack(dcount, axis=1), np.stack(shift, axis=1)
    ok = (dcount == 0) & (shift <= opts.tolerance)
    # per neuron: the largest dt from which every finer dt is also within tolerance
    within = np.flip(np.cumprod(np.flip(ok, axis=1), axis=1), axis=1).astype(bool)
    largest = np.where(within.any(axis=1), dts[np.argmax(within, axis=1)], np.nan)
    all_ok = within.all(axis=0)
    finest = dts[-1]
    if all_ok[:-1].any():
        best = dts[np.argmax(all_ok)]
        sentence = (f"dt = {best:g} ms keeps every spike within {opts.tolerance:g} ms of "
                    f"dt = {finest:g} ms")
    else:
        sentence = (f"no dt coarser than {finest:g} ms keeps every spike within "
                    f"{opts.tolerance:g} ms of dt = {finest:g} ms; try smaller dt or factors")
    worst = [f"{d:g} ms: {np.max(s[np.isfinite(s)]) if np.isfinite(s).any() else np.inf:.3g} ms"
             + (f", {int((c != 0).sum())} neuron(s) with another spike count" if (c != 0).any()
                else "")
             for d, s, c in zip(dts[:-1], shift.T[:-1], dcount.T[:-1])]
    summary = f"{sentence} (largest shift at dt = " + "; ".join(worst) + ")"
    return Outcome(
        data={"dt": dts, "count": counts, "count_change": dcount, "shift": shift,
              "largest_dt": largest},
        units={"dt": "ms", "shift": "ms", "largest_dt": "ms"},
        attrs={"summary": summary, "sentence": sentence, "tolerance": opts.tolerance,
               "factors": factors},
        compile_seconds=compile_s, run_seconds=timer() - compile_s)


def draw(fig, a, r):
    """Largest spike-time shift against dt (log-log), per neuron (up to 6) and the worst."""
    ax = fig.add_axes([0.1, 0.1, 0.85, 0.75])
    dts, shift = np.asarray(a["dt"]), np.asarray(a["shift"])
    x, s = dts[:-1], shift[:, :-1]
    # a neuron silent at every dt has no spike time to shift: its 0 was drawn at the 1e-16
    # floor, the y axis stretched over 14 decades below the others
    silent = ((np.asarray(a["count"]) == 0).all(axis=1) if "count" in a
              else np.zeros(len(s), bool))
    spiking = np.flatnonzero(~silent)
    n = spiking.size
    shown = spiking[np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int))] if n else []
    for i in shown:
        y = np.where(np.isfinite(s[i]), s[i], np.nan)
        ax.loglog(x, np.maximum(y, 1e-16), "-o", ms=3, lw=0.8, label=f"neuron {i}")
    if silent.any():
        ax.text(0.01, 0.01, f"{int(silent.sum())} neuron(s) without a spike at any dt, not "
                            f"drawn", transform=ax.transAxes, fontsize=8, color="0.3")
    ax.axhline(a.attrs.get("tolerance", 0), color="0.4", ls="--", lw=0.8, label="tolerance")
    ax.set_xlabel("dt (ms)")
    ax.set_ylabel(f"largest spike-time change vs dt = {dts[-1]:g} ms (ms)")
    ax.set_title(a.attrs.get("sentence", ""), loc="left", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.25, lw=0.5, which="both")
