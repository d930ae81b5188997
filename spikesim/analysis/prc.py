"""Phase-response curve of every neuron of a config firing periodically under a constant
``current`` (Winfree 1980; Ermentrout 1996 for type I / type II shapes).

Each neuron is copied ``phases`` times. A first call of the compiled program (no pulse) finds
each copy's spike times; in the second, from the same initial state, copy j receives one
pulse (``amplitude``, ``width``) at phase phi_j = j / phases of the cycle that starts at
spike number k = ``cycles`` (counting from 0) of its own warm-up: the onset t_k + phi_j T0
is rounded up to a step boundary (so the pulse covers whole steps and starts after spike
k); the phase actually applied is stored. From that second run alone: T0 = t_k - t_(k-1),
the unperturbed period just before; T1 = t_(k+1) - t_k, the perturbed one; PRC(phi) =
(T0 - T1(phi)) / T0 (positive: the pulse advances the next spike). The warm-up is simulated
200 ms at a time until every copy has fired ``cycles + 1`` spikes (or the fastest 100 times
that many, or 60 s have passed); a neuron that has not gets NaN.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..inputs import PROTOCOLS
from . import plural
from .probe import Probe, analysis_plan
from .store import Timer

#: longest warm-up searched for ``cycles + 1`` spikes, ms
MAX_WARMUP_MS = 60_000.0

#: datasets indexed by something other than the neuron (inspect's table must not take
#: one for a per-neuron column when its length happens to equal the number of neurons)
AXES = ("phase",)


def _nth(times: list[np.ndarray], k: int) -> np.ndarray:
    return np.asarray([t[k] if t.size > k else np.nan for t in times])


def run(plan, opts, devices, source, log):
    from .run import Outcome

    for key in ("current", "amplitude"):
        if getattr(opts, key) is None:
            raise ConfigError(f"{source.where(('analysis', 'prc', key))}: analysis.prc.{key}: "
                              f"required for the PRC (in {plan.model.current_unit}): e.g. "
                              f"analysis.prc.current=10 analysis.prc.amplitude=2")
    timer = Timer()
    P, n, dt = opts.phases, plan.n, plan.dt
    N = n * P
    const = PROTOCOLS["constant"](type="constant", amplitude=0.0)
    pulse = PROTOCOLS["pulses"](type="pulses", amplitude=0.0, start=0.0, width=opts.width,
                                period=1e12, count=1)
    fields = [{"amplitude": np.full(N, opts.current)},
              {"amplitude": np.zeros(N), "start": np.zeros(N), "width": opts.width,
               "period": 1e12, "count": 1.0}]
    piece = max(1, round(200.0 / dt))
    probe = Probe(analysis_plan(plan, zip((const, pulse), fields), piece, copies=P), devices)

    # 1: the unperturbed warm-up, long enough for spike number `cycles` everywhere
    carry, k, found = probe.carry0, 0, []
    limit = round(MAX_WARMUP_MS / dt)
    while True:
        carry, sp = probe.run(carry, k + piece, k)
        found.append(sp)
        k += piece
        t = np.concatenate([s.t for s in found])
        ids = np.concatenate([s.ids for s in found])
        counts = np.bincount(ids, minlength=N)
        if (counts > opts.cycles).all() or k >= limit:
            break
        # stop once the silent ones have had ample time (100 cycles of the others)
        if counts.max() > 100 * (opts.cycles + 1):
            break
    warm = type(sp)(t, ids, N).times()
    t_k = _nth(warm, opts.cycles)
    T0w = t_k - _nth(warm, opts.cycles - 1)
    periodic = np.isfinite(t_k)
    phi = np.tile(np.arange(P) / P, n)
    onset = np.where(periodic, np.ceil((t_k + phi * T0w) / dt - 1e-9) * dt, 1e12)

    k_warm = k
    # 2: the same neurons, copy j pulsed at phase j / P
    probe.set(1, amplitude=np.where(periodic, opts.amplitude, 0.0), start=onset)
    end = np.where(periodic, t_k + 4 * T0w, 0.0).max()
    k_end = int(np.ceil(end / dt)) + 1 if periodic.any() else 1
    carry, k, found = probe.carry0, 0, []
    while k < k_end:
        carry, sp = probe.run(carry, min(k + piece, k_end), k)
        found.append(sp)
        k = min(k + piece, k_end)
    pulsed = type(sp)(np.concatenate([s.t for s in found]),
                      np.concatenate([s.ids for s in found]), N).times()
    t_k2 = _nth(pulsed, opts.cycles)
    T0 = t_k2 - _nth(pulsed, opts.cycles - 1)
    T1 = _nth(pulsed, opts.cycles + 1) - t_k2
    ok = periodic & (t_k2 <= onset + 1e-9)  # the pulse came after spike k, as planned
    prc = np.where(ok, (T0 - T1) / T0, np.nan)
    applied = np.where(ok, (onset - t_k2) / T0, np.nan)

    shape = (n, P)
    T0n = T0.reshape(shape)[:, 0]
    good = np.isfinite(prc.reshape(shape)).any(axis=1)
    p2 = prc.reshape(shape)
    long = np.isfinite(T0n) & (opts.width >= T0n)
    if long.any():  # the pulse then spans the whole perturbed cycle: no phase to speak of
        log(f"warning: the pulse ({opts.width:g} ms) lasts at least one period of "
            f"{int(long.sum())} of {n} neuron(s) (T0 down to {np.min(T0n[long]):.4g} ms), so "
            f"their PRC is not the response to a pulse at a phase. Use an analysis.prc.width "
            f"well below T0")
    # grid timestamps make T0 and T1 multiples of dt: the PRC moves in steps of dt / T0
    with np.errstate(invalid="ignore"):
        coarse = good & (np.nanmax(np.abs(p2), axis=1, initial=0.0) < 20 * plan.dt / T0n)
    if plan.spike_timing == "grid" and coarse.any():
        i = int(np.argmax(coarse))
        log(f"warning: with spike_timing: grid the PRC moves in steps of dt / T0 "
            f"({plan.dt / T0n[i]:.2g} for neuron {i}), more than 1/20 of its largest value "
            f"({np.nanmax(np.abs(p2[i])):.2g}; {int(coarse.sum())} of {n} neuron(s)): the "
            f"grid's rounding is a large part of it. Use simulation.spike_timing: precise, or "
            f"a smaller dt")
    summary = (f"PRC of {n} neuron(s) at {opts.current:g} {plan.model.current_unit}, "
               f"pulse {opts.amplitude:g} {plan.model.current_unit} x {opts.width:g} ms at "
               f"{plural(P, 'phase')}"
               + (f": T0 {np.nanmin(T0n):.4g} to {np.nanmax(T0n):.4g} ms, PRC from "
                  f"{np.nanmin(p2):.3g} to {np.nanmax(p2):.3g}" if good.any() else
                  ": no neuron fires periodically")
               + (f"; {int((~good).sum())} not periodic (NaN)" if not good.all() else ""))
    return Outcome(
        data={"phase": np.arange(P) / P, "phase_applied": applied.reshape(shape),
              "prc": p2, "T0": T0n, "T1": T1.reshape(shape)},
        units={"T0": "ms", "T1": "ms"},
        attrs={"summary": summary, "current": opts.current, "amplitude": opts.amplitude,
               "width": opts.width, "phases": P, "cycles": opts.cycles,
               "calls": probe.calls},
        compile_seconds=probe.compile_seconds, run_seconds=timer() - probe.compile_seconds,
        # the length of the perturbed run (of the warm-up where none was periodic)
        n_steps=k_end if periodic.any() else k_warm)


def draw(fig, a, r):
    """PRC against the phase applied, for up to 6 neurons spread over the run."""
    ax = fig.add_axes([0.1, 0.1, 0.85, 0.75])
    prc, ph = np.asarray(a["prc"]), np.asarray(a["phase_applied"])
    n = prc.shape[0]
    show = np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int))
    for i in show:
        ax.plot(ph[i], prc[i], "-o", ms=3, label=f"neuron {i}: T0 = {a['T0'][i]:.4g} ms")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("phase of the pulse (fraction of the period)")
    ax.set_ylabel("(T0 - T1) / T0  (> 0: advance)")
    u = r.attrs.get("current_unit", "")
    ax.set_title(f"phase-response curve: pulse {a.attrs.get('amplitude', 0):g} {u} x "
                 f"{a.attrs.get('width', 0):g} ms under {a.attrs.get('current', 0):g} {u}",
                 loc="left", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.25, lw=0.5)
