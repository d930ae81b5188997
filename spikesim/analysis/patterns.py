"""Firing patterns: each neuron's spike train during the stimulus, named by ISI criteria
after Naud, Marcille, Clopath & Gerstner (2008, Biol. Cybern. 99:335, Sect. 3: the adaptation
index, bursts, the first-spike latency) and Druckmann et al. (2007, Front. Neurosci. 1:7).

Window: [``start``, ``stop``] (default: the onset of the config's first input protocol that
has one, and the end of the run). With t_i the n spike times in it, ISI_i = t_(i+1) - t_i and
W the window's length, in this order:

1. **silent**: no spike.
2. **transient**: the last spike comes before start + W / 2 (spiking stops while the
   stimulus lasts).
3. fewer than 3 spikes: **tonic** (too few ISIs to say more).
4. *jumps*: ISIs more than ``JUMP`` (4) times longer than the one before (the pause after a
   burst). **bursting**: at least 2 jumps (bursts recur); **initial burst**: one jump, within
   the first ``INITIAL_ISIS`` (4) ISIs (a burst at the onset, then single spikes).
5. **irregular**: ISI coefficient of variation above ``IRREGULAR_CV`` (0.3) and the ISI
   sequence not monotone: at least a quarter of its successive changes reverse sign (the
   ISIs of an adapting train also vary, but in one direction).
6. adaptation index A = mean over i of (ISI_(i+1) - ISI_i) / (ISI_(i+1) + ISI_i) (Naud et
   al. 2008, Eq. 5, over all ISIs): **adapting** if A > ``ADAPT_MIN`` (0.01),
   **accelerating** if A < -``ACCEL_MIN`` (0.005), else **tonic**.

**delayed** qualifies any pattern (Naud et al.'s "delayed accelerating", "delayed regular
bursting"): the first spike comes more than ``DELAY_RATIO`` (2) median ISIs and more than
``DELAY_MIN_MS`` (20 ms) after the onset. The label is the pattern, prefixed with "delayed"
when the flag is set.

The thresholds were set on the firing-pattern presets of spikesim (Naud et al. 2008 Table 1
under its currents; Izhikevich 2003 Fig. 2 under I = 10), which they name as their sources
do (tests/test_analysis.py); on other models they are a starting point, not a verdict.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

PATTERNS = ("silent", "transient", "tonic", "adapting", "accelerating", "initial burst",
            "bursting", "irregular")

DELAY_RATIO = 2.0
DELAY_MIN_MS = 20.0
JUMP = 4.0
INITIAL_ISIS = 4
IRREGULAR_CV = 0.3
ADAPT_MIN = 0.01
ACCEL_MIN = 0.005


def classify(t: np.ndarray, start: float, stop: float) -> tuple[str, bool, dict]:
    """(pattern, delayed, measures) of one spike train ``t`` (ms) in [start, stop]."""
    t = np.sort(t[(t >= start) & (t <= stop)])
    n = t.size
    m = {"spikes": n, "latency": t[0] - start if n else np.nan, "adaptation": np.nan,
         "cv": np.nan, "bursts": 0}
    if n == 0:
        return "silent", False, m
    if t[-1] < start + 0.5 * (stop - start):
        return "transient", False, m
    if n < 3:
        return "tonic", False, m
    isi = np.diff(t)
    delayed = bool(m["latency"] > max(DELAY_MIN_MS, DELAY_RATIO * np.median(isi)))
    jumps = np.flatnonzero(isi[1:] > JUMP * isi[:-1]) + 1
    m["bursts"] = jumps.size
    m["adaptation"] = a = float((np.diff(isi) / (isi[1:] + isi[:-1])).mean())
    m["cv"] = cv = float(isi.std() / isi.mean())
    if jumps.size >= 2:
        return "bursting", delayed, m
    if jumps.size == 1 and jumps[0] < INITIAL_ISIS:
        return "initial burst", delayed, m
    d = np.sign(np.diff(isi))
    reversals = int((d[1:] * d[:-1] < 0).sum()) if d.size > 1 else 0
    if cv > IRREGULAR_CV and reversals >= 0.25 * max(1, d.size - 1):
        return "irregular", delayed, m
    if a > ADAPT_MIN:
        return "adapting", delayed, m
    if a < -ACCEL_MIN:
        return "accelerating", delayed, m
    return "tonic", delayed, m


def label(pattern: str, delayed: bool) -> str:
    return f"delayed {pattern}" if delayed else pattern


def classify_all(times, start, stop):
    out = [classify(t, start, stop) for t in times]
    pattern = np.asarray([PATTERNS.index(p) for p, _, _ in out], np.int8)
    delayed = np.asarray([d for _, d, _ in out], bool)
    names = [label(p, d) for p, d, _ in out]
    measures = {k: np.asarray([m[k] for _, _, m in out], float)
                for k in ("spikes", "latency", "adaptation", "cv", "bursts")}
    return pattern, delayed, names, measures


def _window(plan, opts, source):
    if opts.stop is not None and opts.stop > plan.duration:  # as record.stop: not clipped
        raise ConfigError(f"{source.where(('analysis', 'patterns', 'stop'))}: "
                          f"analysis.patterns.stop: window stop {opts.stop:g} ms is after the "
                          f"run ends ({plan.duration:g} ms); use at most {plan.duration:g} or "
                          f"null (the end of the run)")
    start = opts.start
    if start is None:
        start = next((float(f["start"]) for _, f in plan.inputs
                      if np.ndim(f.get("start", None)) == 0 and "start" in f), 0.0)
    stop = plan.duration if opts.stop is None else opts.stop
    return start, stop


def run(plan, opts, devices, source, log, times=None):
    """Classify the spikes of the config run as it is (or ``times``, one array per neuron,
    read from a run file)."""
    from .probe import Probe, analysis_plan
    from .run import Outcome
    from .store import Timer

    start, stop = _window(plan, opts, source)
    if not start < stop:
        key = ("analysis", "patterns", "start" if opts.start is not None or opts.stop is None
               else "stop") if opts.start is not None or opts.stop is not None else ("input",)
        began = (f"analysis.patterns.start {start:g} ms" if opts.start is not None else
                 f"the input's onset, {start:g} ms,")
        ends = (f"analysis.patterns.stop {stop:g} ms" if opts.stop is not None and
                opts.stop < plan.duration else f"the end of the run, {stop:g} ms")
        raise ConfigError(f"{source.where(key)}: analysis.patterns: "
                          f"the window classified is empty: it starts at {began} and ends at "
                          f"{ends}. Give analysis.patterns.start < stop within the run's "
                          f"{plan.duration:g} ms")
    timer = Timer()
    compile_s = 0.0
    spikes = None
    if times is None:
        probe = Probe(analysis_plan(plan, plan.inputs, plan.n_steps), devices)
        compile_s = probe.compile_seconds
        _, sp = probe.run(probe.carry0, plan.n_steps, 0)
        times = sp.times()
        spikes = (sp.t, sp.ids)
    pattern, delayed, names, m = classify_all(times, start, stop)
    counts = {nm: names.count(nm) for nm in dict.fromkeys(names)}
    summary = (f"firing patterns of {plan.n} neuron(s) over {start:g} - {stop:g} ms: "
               + ", ".join(f"{c} {nm}" for nm, c in counts.items()))
    return Outcome(
        data={"pattern": pattern, "delayed": delayed,
              "label": np.asarray(names, dtype=object).astype("S"), **m},
        units={"latency": "ms"},
        attrs={"summary": summary, "start": start, "stop": stop,
               "pattern_codes": ", ".join(f"{i}: {p}" for i, p in enumerate(PATTERNS))},
        compile_seconds=compile_s, run_seconds=timer() - compile_s, spikes=spikes,
        n_steps=plan.n_steps)


def draw(fig, a, r):
    """A raster of (up to 40) neurons over the window, each labelled with its pattern."""
    ax = fig.add_axes([0.22, 0.1, 0.74, 0.75])
    labels = [str(x) for x in a["label"]]
    show = np.unique(np.linspace(0, r.n - 1, min(r.n, 40)).round().astype(int))
    times = r.spikes.times if r.spikes_recorded else [np.zeros(0)] * r.n
    for row, i in enumerate(show):
        ax.plot(times[i], np.full(times[i].size, row), "|", color="k", ms=8)
    ax.set_yticks(range(len(show)))
    ax.set_yticklabels([f"{i}: {labels[i]}" for i in show], fontsize=8)
    ax.set_ylim(len(show) - 0.5, -0.5)
    ax.axvspan(a.attrs["start"], a.attrs["stop"], color="0.95", zorder=0)
    ax.set_xlabel("time (ms)")
    ax.set_title("spike trains and their firing pattern (shaded: the window classified)",
                 loc="left", fontsize=10)
