"""Rheobase: the smallest amplitude of a current step (onset ``start``, ``duration``) that
elicits at least one spike between its onset and its end, for every neuron of the config.

Bisection on [low, high] = ``range``: every call of the one compiled program runs all neurons
from the config's initial state with their own amplitude (the midpoint of their bracket), so
after ``ceil(log2(width / tolerance))`` calls each bracket is narrower than ``tolerance``;
the result is the bracket's upper end (an amplitude that fired). The ends of the range are
run only where needed: ``high`` for the neurons that never fired (NaN where it does not fire
either), ``low`` for those whose bracket shrank onto it (flagged ``low_fires``: the rheobase
is at or below the range). Assumes that firing is monotone in the amplitude over the range.
"""

from __future__ import annotations

import math

import numpy as np

from ..inputs import PROTOCOLS
from . import plural
from ..config.analysis import default_range
from .probe import Probe, analysis_plan
from .store import Timer


def bracket(fires, lo, hi, tolerance, n):
    """Bisection of every neuron's [lo, hi] with ``fires(amplitudes) -> bool [n]``; returns
    (rheobase, lower, low_fires, calls)."""
    lo = np.broadcast_to(np.asarray(lo, float), (n,)).copy()
    hi = np.broadcast_to(np.asarray(hi, float), (n,)).copy()
    low0, high0 = lo.copy(), hi.copy()
    iters = max(0, math.ceil(math.log2(float(np.max(hi - lo)) / tolerance)))
    ever = np.zeros(n, bool)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        f = fires(mid)
        ever |= f
        hi = np.where(f, mid, hi)
        lo = np.where(f, lo, mid)
    calls = iters
    top = np.ones(n, bool)
    if not ever.all():  # neurons that never fired: does the top of the range?
        top = np.where(ever, True, fires(high0))
        calls += 1
    low_fires = np.zeros(n, bool)
    at_bottom = ever & (lo == low0)
    if at_bottom.any():
        low_fires = at_bottom & fires(low0)
        calls += 1
    rheobase = np.where(top, hi, np.nan)
    rheobase = np.where(low_fires, low0, rheobase)
    lower = np.where(top, lo, high0)
    return rheobase, lower, low_fires, calls


def run(plan, opts, devices, source, log):
    from .run import Outcome

    timer = Timer()
    lo, hi = opts.range or default_range(plan.model.current_unit)  # fits the tolerance
    tol = opts.tolerance or (hi - lo) / 1000.0
    stop = opts.start + opts.duration
    n_steps = max(1, round(stop / plan.dt))
    step = PROTOCOLS["step"](type="step", amplitude=0.0, start=opts.start, stop=stop)
    fields = {"amplitude": np.zeros(plan.n), "start": opts.start, "stop": stop}
    probe = Probe(analysis_plan(plan, [(step, fields)], n_steps), devices)

    def fires(amplitudes):
        probe.set(0, amplitude=amplitudes)
        _, spikes = probe.run(probe.carry0, n_steps, 0)
        return spikes.counts(opts.start - 1e-9) > 0

    rheobase, lower, low_fires, calls = bracket(fires, lo, hi, tol, plan.n)
    unit = plan.model.current_unit
    found = np.isfinite(rheobase) & ~low_fires
    summary = (f"rheobase of {plan.n} neuron(s) for a {opts.duration:g} ms step: "
               + (f"{np.nanmin(rheobase[found]):.6g} to {np.nanmax(rheobase[found]):.6g} {unit}"
                  if found.any() else "none found in the range")
               + f" (tolerance {tol:g} {unit}, {plural(calls, 'run')})"
               + (f"; {int(np.isnan(rheobase).sum())} do not fire at {hi:g} {unit} (NaN)"
                  if np.isnan(rheobase).any() else "")
               + (f"; {int(low_fires.sum())} fire at {lo:g} {unit} already (flagged)"
                  if low_fires.any() else ""))
    return Outcome(
        data={"rheobase": rheobase, "lower": lower, "low_fires": low_fires},
        units={"rheobase": unit, "lower": unit},
        attrs={"summary": summary, "tolerance": tol, "range": [lo, hi], "calls": calls,
               "start": opts.start, "duration": opts.duration},
        compile_seconds=probe.compile_seconds, run_seconds=timer() - probe.compile_seconds,
        n_steps=n_steps)  # each run's length, not simulation.duration


def draw(fig, a, r):
    """Rheobase against the first per-neuron config value (a sweep axis, a list, a
    generator), else its histogram."""
    from .show import against

    ax = fig.add_axes([0.1, 0.1, 0.85, 0.75])
    unit = a.units.get("rheobase", "")
    rb = np.asarray(a["rheobase"], float)
    x = against(r)
    lo, hi = np.asarray(a.attrs.get("range", [0.0, 1.0]), float)
    silent = ~np.isfinite(rb)
    some_silent = silent.any() and not silent.all()  # marked; when all are, said in words
    if x is not None:
        ax.plot(x[1], rb, "o", ms=4, color="#1f77b4")
        low = np.asarray(a["low_fires"], bool)
        if low.any():
            ax.plot(x[1][low], rb[low], "v", ms=6, color="#d62728", label="fires at the "
                                                                          "bottom of the range")
        if some_silent:  # NaN: marked at the top of the range
            ax.plot(x[1][silent], np.full(int(silent.sum()), hi), "^", ms=6, mfc="none",
                    color="0.4", label=f"no spike up to {hi:g} {unit} (NaN)")
        if low.any() or some_silent:
            ax.legend(frameon=False, fontsize=8)
        ax.set_xlabel(x[0])
        ax.set_ylabel(f"rheobase ({unit})")
    else:
        finite = rb[np.isfinite(rb)]
        ax.hist(finite, bins=max(1, min(50, finite.size)), color="#1f77b4")
        ax.set_xlabel(f"rheobase ({unit})")
        ax.set_ylabel("neurons")
        if some_silent:
            ax.text(0.99, 0.97, f"{int(silent.sum())} of {rb.size} neurons: no spike up to "
                                f"{hi:g} {unit} (NaN), not counted", transform=ax.transAxes,
                    ha="right", va="top", fontsize=9, color="0.3")
    if silent.all():  # nothing to draw: say why, on the axes of the range
        ax.text(0.5, 0.5, f"no neuron fired within the range {lo:g} to {hi:g} {unit}\n"
                          f"(not even at {hi:g} {unit}: every rheobase is NaN);\n"
                          f"give a higher analysis.rheobase.range",
                transform=ax.transAxes, ha="center", va="center", fontsize=12, color="0.25")
        if x is not None:
            ax.set_ylim(lo, hi)
            if np.isfinite(x[1]).any() and np.nanmin(x[1]) < np.nanmax(x[1]):
                ax.set_xlim(np.nanmin(x[1]), np.nanmax(x[1]))
        else:
            ax.set_xlim(lo, hi)
            ax.set_yticks([])
    ax.set_title(f"smallest {a.attrs.get('duration', 0):g} ms step that elicits a spike "
                 f"(tolerance {a.attrs.get('tolerance', 0):.3g} {unit})", loc="left",
                 fontsize=10)
    ax.grid(alpha=0.25, lw=0.5)
