"""One compiled program per analysis: the config's population (every neuron of population x
sweep combinations, with its own parameters) under the analysis' own input protocols, whose
per-neuron fields (amplitudes, onsets) are arguments of the compiled chunk function. An
analysis sets new values with :meth:`Probe.set` and calls :meth:`Probe.run` as often as it
needs (a bisection: a fixed number of calls), without compiling again.

The analysis' protocols replace the config's ``input``; ``record`` is ignored (spikes only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..sim.plan import RecordPlan


@dataclass
class Spikes:
    """Spikes of one call: times (ms, sorted per call by step) and neuron ids."""

    t: np.ndarray
    ids: np.ndarray
    n: int

    def counts(self, t0: float = -np.inf, t1: float = np.inf) -> np.ndarray:
        """Spikes of each neuron with t0 < t <= t1 (a grid timestamp is the end of its step)."""
        keep = (self.t > t0) & (self.t <= t1)
        return np.bincount(self.ids[keep], minlength=self.n)

    def rates(self, t0: float, t1: float) -> np.ndarray:
        """Firing rate (Hz) of each neuron over (t0, t1]: (k - 1) / (last - first) from its k
        >= 2 spikes there (the inverse mean ISI, which does not depend on where the window
        cuts a cycle), else k / (t1 - t0)."""
        keep = (self.t > t0) & (self.t <= t1)
        t, ids = self.t[keep], self.ids[keep]
        k = np.bincount(ids, minlength=self.n)
        first = np.full(self.n, np.inf)
        last = np.full(self.n, -np.inf)
        np.minimum.at(first, ids, t)
        np.maximum.at(last, ids, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            isi = np.where(k >= 2, 1000.0 * (k - 1) / (last - first), 1000.0 * k / (t1 - t0))
        return isi

    def times(self) -> list[np.ndarray]:
        order = np.argsort(self.ids, kind="stable")
        bounds = np.searchsorted(self.ids[order], np.arange(self.n + 1))
        ts = self.t[order]
        return [ts[bounds[i]:bounds[i + 1]] for i in range(self.n)]


def analysis_plan(plan, protocols, n_steps: int, copies: int = 1):
    """``plan`` with the analysis' ``protocols`` [(protocol, fields)] as its input, spikes
    recorded, no variables, ``n_steps`` per call at most. ``copies`` > 1 repeats every neuron
    that many times (neuron ``i`` of the config is neurons ``i*copies .. i*copies+copies-1``;
    the PRC's one copy per phase)."""
    n = plan.n * copies

    def rep(v):
        return np.repeat(v, copies) if isinstance(v, np.ndarray) else v

    return replace(
        plan, n=n, size=plan.size * copies,
        params={k: rep(v) for k, v in plan.params.items()},
        init={k: rep(v) for k, v in plan.init.items()},
        varying={k: rep(v) for k, v in plan.varying.items()},
        combination=None if plan.combination is None else rep(plan.combination),
        inputs=list(protocols), n_steps=n_steps, chunk_steps=None,
        record=RecordPlan(True, [], np.arange(0), 1, 0, n_steps))


class Probe:
    """The compiled program of an analysis plan (see :func:`analysis_plan`)."""

    def __init__(self, plan, devices):
        import jax

        from ..sim import runner  # noqa: F401  (float64 enabled, compilation cache)
        from ..sim.engine import Engine

        self.plan = plan
        self.n = plan.n
        self.dt = plan.dt
        self._device = jax.default_device(devices[0])
        with self._device:
            self.engine = Engine(plan, devices)
            self.carry0 = self.engine.initial_carry()
            self.compile_seconds = self.engine.compile(self.carry0)
        self.calls = 0

    def set(self, protocol: int, **values):
        """New values of per-neuron fields of input ``protocol`` (scalars are broadcast); the
        field must have been per-neuron (an array) when the probe was made."""
        fields = self.engine.fields[protocol]
        for key, value in values.items():
            old = fields[key]
            v = np.broadcast_to(np.asarray(value, float), (self.n,))
            fields[key] = self.engine._put(np.ascontiguousarray(v), old.dtype)

    def run(self, carry, k_end: int, k0: int | None = None):
        """Advance ``carry`` (from step ``k0``, the carry's own step) to step ``k_end``;
        returns (carry, :class:`Spikes`). Chunk i+1 is dispatched before chunk i is decoded."""
        from ..sim.engine import iter_precise_spikes, iter_spikes

        eng = self.engine
        k = int(carry[2]) if k0 is None else k0
        B = eng.layout.block
        ts, ids = [], []
        pending = None
        with self._device:
            while True:
                nxt = None
                if k < k_end:
                    k1 = min(k + eng.layout.steps, k_end)
                    out = eng.run_chunk(carry, k1, k)
                    nxt = (carry, k, k1, out[1])
                    carry = out[0]
                    k = k1
                if pending is not None:
                    c_in, kp0, kp1, words = pending
                    n_blocks = -(-(kp1 - kp0) // B)
                    if isinstance(words, tuple):  # precise timing: (words, offsets)
                        spikes = iter_precise_spikes(
                            eng.host_parts(words[0]), eng.host_parts(words[1]), kp0, B,
                            n_blocks, self.n,
                            lambda c_in=c_in, kp0=kp0, kp1=kp1: eng.run_full(c_in, kp1, kp0))
                        for steps, who, off in spikes:
                            ts.append(steps * self.dt + off.astype(np.float64))
                            ids.append(who)
                    else:
                        for steps, who in iter_spikes(eng.host_parts(words), kp0, B, n_blocks,
                                                      self.n):
                            ts.append((steps + 1) * self.dt)
                            ids.append(who)
                pending = nxt
                if pending is None:
                    break
        self.calls += 1
        t = np.concatenate(ts) if ts else np.zeros(0)
        i = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        return carry, Spikes(t, i, self.n)

    def state(self, carry) -> dict[str, np.ndarray]:
        return {k: self.engine.host(v) for k, v in carry[0].items()}
