"""f-I curve with hysteresis, onset rate and excitability type, for every neuron of a config.

Protocol: a constant current at ``num`` amplitudes evenly spaced over ``range``, ``duration``
ms each, ascending and then descending, the state carried from one amplitude to the next
(never reset), so that a bistable neuron shows it: it stays at rest going up and keeps
firing coming down over the range where rest and repetitive firing coexist (classic HH:
about 6.3 to 9.8 uA/cm2; Rinzel 1978, Guckenheimer & Labouriau 1993). The rate at an
amplitude is the inverse mean ISI over that amplitude's time after ``transient``; it fires
*repetitively* there when that window holds at least 2 spikes (a lone onset spike is not
repetitive firing).

Onset: between the last silent and the first repetitive amplitude of the ascending branch,
``refine`` bisection steps, each a run of ``duration`` ms from the state the ascending branch
had at the silent amplitude, locate the onset of repetitive firing; the onset rate is the rate
at the lowest repetitive amplitude found. Two spikes must fit in the window, so the lowest
rate that can be seen is about 1000 / (duration - transient) Hz (4 Hz by default), and a
type I neuron's onset is found where its rate is near that, a little above its bifurcation.
Past a subcritical Hopf point the oscillation grows slowly (HH just above 9.78 uA/cm2: an
e-fold in about 2 s), so with a short ``duration`` the onset found there lies a little above
it too (9.9 for HH with 300 ms). Type I (Hodgkin 1948, class 1: firing starts at an
arbitrarily low rate, e.g. through a saddle-node on invariant circle as in Wang-Buzsaki) when
the onset rate is below ``type1_max_rate`` and no bistable range shows, else type II (firing
starts at a finite rate, or coexists with rest over a range of currents, as through the
subcritical Hopf bifurcation of HH and of the Morris-Lecar type II set). ``type`` is 1 or 2,
0 where the neuron never fires repetitively in the range.
"""

from __future__ import annotations

import numpy as np

from ..inputs import PROTOCOLS
from ..config.analysis import default_range
from .probe import Probe, analysis_plan
from .store import Timer

#: spikes in a window from which a neuron counts as firing repetitively
MIN_SPIKES = 2

#: datasets indexed by something other than the neuron (inspect's table must not take
#: one for a per-neuron column when its length happens to equal the number of neurons)
AXES = ("amplitude",)


def run(plan, opts, devices, source, log):
    from .run import Outcome

    timer = Timer()
    lo, hi = opts.range or default_range(plan.model.current_unit)
    amps = np.linspace(lo, hi, opts.num)
    seg = max(1, round(opts.duration / plan.dt))
    skip = round(opts.transient / plan.dt)
    dt, n = plan.dt, plan.n
    window = opts.duration - opts.transient
    if MIN_SPIKES * 1000.0 / window > opts.type1_max_rate:
        # two spikes fit in the window for sure only from a period of window / 2 on
        log(f"warning: the rate window (analysis.fi.duration - transient = {window:g} ms) "
            f"shows repetitive firing for certain only from {MIN_SPIKES * 1000 / window:.3g} "
            f"Hz ({MIN_SPIKES} spikes in it), above type1_max_rate = "
            f"{opts.type1_max_rate:g} Hz, so a type I neuron may come out type II. Use "
            f"analysis.fi.duration >= "
            f"{opts.transient + MIN_SPIKES * 1000 / opts.type1_max_rate:g} ms")
    const = PROTOCOLS["constant"](type="constant", amplitude=0.0)
    probe = Probe(analysis_plan(plan, [(const, {"amplitude": np.zeros(n)})], seg), devices)

    def segment(carry, k, amplitude):
        probe.set(0, amplitude=amplitude)
        carry, sp = probe.run(carry, k + seg, k)
        t0, t1 = (k + skip) * dt, (k + seg) * dt
        return carry, sp, sp.rates(t0, t1), sp.counts(t0, t1) >= MIN_SPIKES

    carry, k = probe.carry0, 0
    rates = np.zeros((2, opts.num, n))
    rep = np.zeros((2, opts.num, n), bool)
    states = []  # the state at the end of each ascending amplitude (for the onset search)
    ts, ids = [], []
    for branch, order in enumerate((range(opts.num), range(opts.num - 1, -1, -1))):
        for i in order:
            carry, sp, r, f = segment(carry, k, amps[i])
            rates[branch, i], rep[branch, i] = r, f
            ts.append(sp.t)
            ids.append(sp.ids)
            if branch == 0:
                states.append(probe.state(carry))
            k += seg
    total = k
    rates = np.where(rep, rates, 0.0)

    # onset of repetitive firing on the ascending branch, refined by bisection
    up = rep[0]
    fires = up.any(axis=0)
    first = np.where(fires, np.argmax(up, axis=0), opts.num)
    onset = np.where(fires, amps[np.minimum(first, opts.num - 1)], np.nan)
    onset_rate = np.where(fires, rates[0, np.minimum(first, opts.num - 1), np.arange(n)], np.nan)
    search = fires & (first > 0)
    if search.any() and opts.refine:
        below = np.maximum(first - 1, 0)
        y0 = {v: np.stack([s[v] for s in states])[below, np.arange(n)] for v in states[0]}
        eng = probe.engine
        start = ({v: eng._put(x, eng.dtype) for v, x in y0.items()}, probe.carry0[1],
                 probe.carry0[2])
        a_lo, a_hi = amps[below].copy(), onset.copy()
        for _ in range(opts.refine):
            mid = 0.5 * (a_lo + a_hi)
            _, _, r, f = segment(start, 0, np.where(search, mid, a_hi))
            f = f & search
            a_hi = np.where(f, mid, a_hi)
            onset_rate = np.where(f, r, onset_rate)
            a_lo = np.where(search & ~f, mid, a_lo)
        onset = np.where(search, a_hi, onset)
    # bistable: firing coming down where the ascending branch was at rest
    bistable = rep[1] & ~rep[0]
    any_bi = bistable.any(axis=0)
    # type II where firing starts at a finite rate, or where rest and repetitive firing
    # coexist below the onset (the hysteresis of a subcritical Hopf bifurcation: HH, the
    # Morris-Lecar type II set, whose slow onset rate of ~10 Hz alone would pass for type I;
    # Rinzel & Ermentrout 1998); a saddle-node on the invariant circle has neither
    kind = np.where(~fires, 0, np.where((onset_rate < opts.type1_max_rate) & ~any_bi, 1, 2)
                    ).astype(np.int8)
    a_col = amps[:, None]
    bi_low = np.where(any_bi, np.where(bistable, a_col, np.inf).min(axis=0), np.nan)
    bi_high = np.where(any_bi, np.where(bistable, a_col, -np.inf).max(axis=0), np.nan)

    unit = plan.model.current_unit
    n1, n2 = int((kind == 1).sum()), int((kind == 2).sum())
    summary = (f"f-I of {n} neuron(s), {lo:g} to {hi:g} {unit} in {opts.num} steps up and "
               f"down: {n1} type I, {n2} type II, {n - n1 - n2} without repetitive firing"
               + (f"; {int(any_bi.sum())} bistable (e.g. {bi_low[any_bi][0]:g} to "
                  f"{bi_high[any_bi][0]:g} {unit})" if any_bi.any() else ""))
    t = np.concatenate(ts)
    i = np.concatenate(ids)
    return Outcome(
        data={"amplitude": amps, "rate_up": rates[0].T, "rate_down": rates[1].T,
              "onset": onset, "onset_rate": onset_rate, "type": kind,
              "bistable_low": bi_low, "bistable_high": bi_high},
        units={"amplitude": unit, "rate_up": "Hz", "rate_down": "Hz", "onset": unit,
               "onset_rate": "Hz", "bistable_low": unit, "bistable_high": unit},
        attrs={"summary": summary, "range": [lo, hi], "num": opts.num,
               "duration": opts.duration, "transient": opts.transient,
               "type1_max_rate": opts.type1_max_rate, "calls": probe.calls,
               "type_codes": "0: no repetitive firing, 1: type I, 2: type II"},
        compile_seconds=probe.compile_seconds, run_seconds=timer() - probe.compile_seconds,
        spikes=(t, i), n_steps=total)


def draw(fig, a, r):
    """f-I curves, ascending (solid) and descending (dashed), of up to 6 neurons spread over
    the run; the bistable range shaded for the first."""
    ax = fig.add_axes([0.1, 0.1, 0.85, 0.75])
    amp = np.asarray(a["amplitude"])
    up, down = np.asarray(a["rate_up"]), np.asarray(a["rate_down"])
    n = up.shape[0]
    show = np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int))
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    for j, i in enumerate(show):
        c = colors[j % len(colors)]
        kind = {0: "no repetitive firing", 1: "type I", 2: "type II"}[int(a["type"][i])]
        ax.plot(amp, up[i], "-o", ms=3, color=c, label=f"neuron {i}: up ({kind})")
        ax.plot(amp, down[i], "--s", ms=3, color=c, mfc="none", label=f"neuron {i}: down")
    lo, hi = a["bistable_low"][show[0]], a["bistable_high"][show[0]]
    if np.isfinite(lo):
        ax.axvspan(lo, hi, color="0.9", zorder=0, label="bistable (rest and firing)")
    unit = a.units.get("amplitude", "")
    ax.set_xlabel(f"amplitude ({unit})")
    ax.set_ylabel("rate (Hz)")
    ax.set_title(f"f-I, {a.attrs.get('duration', 0):g} ms per amplitude, rate after "
                 f"{a.attrs.get('transient', 0):g} ms, state carried up then down",
                 loc="left", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.25, lw=0.5)
