"""The compiled time loop.

One jitted function advances the population by one *chunk*: a ``lax.scan`` over blocks of
``B`` steps (``B = record.every`` when variables are recorded, else 32), each block an inner
``lax.scan`` over its steps. After each block the recorded variables are sampled, and the
spikes of the block come out as bit words (bit ``j`` of word ``w`` = step ``32 w + j`` of the
block), 32 steps per ``uint32`` per neuron, so spike output costs an OR per neuron-step and
1/8 byte of memory traffic.

Every chunk call takes ``k_end``, the first step *not* to simulate. A block that ends before it
runs unmasked; a block that straddles it masks its steps past ``k_end`` (state held, no
spikes); a block after it is skipped. So the last, partial chunk reuses the same compiled
function (no second compilation), and so does a call that only advances to a recording
window's phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .integrators import INTEGRATORS

SPIKE_WORD = 32


@dataclass
class Layout:
    """Static shape of a chunk: ``n_blocks`` blocks of ``block`` steps, ``words`` spike words
    per block and neuron (0 when spikes are not recorded)."""

    block: int
    n_blocks: int
    words: int

    @property
    def steps(self) -> int:
        return self.block * self.n_blocks


def choose_layout(plan, budget_bytes: int = 64 << 20, max_steps: int = 50_000) -> Layout:
    """Block and chunk sizes: a chunk's outputs stay within ``budget_bytes`` so that memory is
    bounded whatever the duration; ``simulation.chunk_steps`` (rounded up to whole blocks)
    overrides the automatic choice."""
    rec = plan.record
    block = rec.every if rec.variables else SPIKE_WORD
    words = -(-block // SPIKE_WORD) if rec.spikes else 0
    itemsize = 8 if plan.precision == "float64" else 4
    per_block = plan.n * 4 * words + len(rec.variables) * len(rec.neurons) * itemsize + 64
    if plan.chunk_steps is not None:
        n_blocks = -(-plan.chunk_steps // block)
    else:
        n_blocks = max(1, min(budget_bytes // per_block, max(1, max_steps // block)))
    n_blocks = min(n_blocks, -(-plan.n_steps // block))  # never longer than the run
    # a streamed input (file) sends its chunk's samples along: keep that window in budget too
    streamed = [p for p, _ in plan.inputs if p.streamed]
    while streamed and n_blocks > 1 and sum(
            p.window_bytes(n_blocks * block, plan.dt, itemsize) for p in streamed) > budget_bytes:
        n_blocks //= 2
    return Layout(block, max(1, n_blocks), words)


def _as(value, dtype):
    return jnp.asarray(np.asarray(value, dtype=dtype))


class Engine:
    """Holds the compiled chunk function of a plan and the arrays it runs on."""

    def __init__(self, plan, device=None, layout: Layout | None = None, step_offset: int = 0):
        self.plan = plan
        # steps already simulated before this run's step 0 (a run continued with
        # --init-from): the noise keys continue from there instead of repeating
        self.step_offset = int(step_offset)
        self.dtype = jnp.float64 if plan.precision == "float64" else jnp.float32
        self.layout = layout or choose_layout(plan)
        self.device = device
        self.model = plan.model
        self.protocols = [proto for proto, _ in plan.inputs]
        self.random = [i for i, p in enumerate(self.protocols) if p.random]
        self.streamed = [i for i, p in enumerate(self.protocols) if p.streamed]
        rec = plan.record
        self.rec_all = len(rec.neurons) == plan.n
        put = (lambda x: jax.device_put(x, device)) if device is not None else (lambda x: x)
        self._put = put
        self.params = {k: put(_as(v, self.dtype)) for k, v in plan.params.items()}
        # times (onsets, periods) stay float64 like t, so an edge at k*dt falls on step k
        self.fields = [{k: put(_as(v, np.float64 if k in p.time_fields else self.dtype))
                        for k, v in f.items()} for p, f in plan.inputs]
        self.rec_ids = put(jnp.asarray(rec.neurons, jnp.int32))
        # noise key of neuron i: (seed, protocol, step, i mod population.size), so a neuron's
        # noise is the same alone, in a larger population and in every sweep combination
        self.noise_ids = put(jnp.asarray(np.arange(plan.n) % plan.size, jnp.uint32))
        self.key = jax.random.key(plan.seed)
        self._compiled = None

    # -- pieces of the step -------------------------------------------------------------
    def _current(self, t, fields, s_in):
        total = jnp.zeros((), self.dtype)
        for proto, f, s in zip(self.protocols, fields, s_in):
            total = total + proto.current(t, f, s)
        return total.astype(self.dtype)

    def _normal(self, k, stream):
        """Standard normal per neuron for step ``k`` of random protocol ``stream``."""
        key = jax.random.fold_in(jax.random.fold_in(self.key, stream), k + self.step_offset)
        keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(self.noise_ids)
        return jax.vmap(lambda kk: jax.random.normal(kk, (), self.dtype))(keys)

    def initial_carry(self, init_state: dict | None = None):
        """Initial state (from the model, or a saved final state), protocol states for step 0,
        and the step counter."""
        plan = self.plan
        init = {k: _as(v, self.dtype) for k, v in plan.init.items()}
        y = (init_state if init_state is not None
             else self.model.initial_state(self.params, init, plan.n, self.dtype))
        y = {k: jnp.asarray(v, self.dtype) for k, v in y.items()}
        s_in = []
        for i, (proto, f) in enumerate(zip(self.protocols, self.fields)):
            s_in.append(proto.init(f, plan.n, self.dtype, plan.dt, lambda: self._normal(0, i))
                        if proto.random else None)
        return (y, tuple(s_in), jnp.asarray(0, jnp.int64))

    # -- the compiled chunk -------------------------------------------------------------
    def _chunk_fn(self):
        plan, model, layout = self.plan, self.model, self.layout
        integrate = INTEGRATORS[plan.integrator]
        dt = plan.dt
        rec = plan.record
        B, W = layout.block, layout.words

        def step(carry, j, params, fields, active):
            y, s_in, k, words = carry
            t = k.astype(jnp.float64) * dt
            y_new, spiked = model.step(integrate, y, params, t, dt,
                                       lambda tt: self._current(tt, fields, s_in))
            s_new = list(s_in)
            for i in self.random:
                s_new[i] = self.protocols[i].advance(s_in[i], fields[i], dt,
                                                     self._normal(k + 1, i))
            s_new = tuple(s_new)
            k_next = k + 1
            if active is not None:  # masked block: steps at or past k_end change nothing
                on = k < active
                y_new = jax.tree.map(lambda a, b: jnp.where(on, a, b), y_new, y)
                s_new = jax.tree.map(lambda a, b: jnp.where(on, a, b), s_new, s_in)
                spiked = spiked & on
                k_next = jnp.where(on, k_next, k)
            if W:
                bit = spiked.astype(jnp.uint32) << (j % SPIKE_WORD).astype(jnp.uint32)
                if W == 1:
                    words = words | bit[None]
                else:
                    w = j // SPIKE_WORD
                    words = words.at[w].set(words[w] | bit)
            return (y_new, s_new, k_next, words), None

        def block(carry, params, fields, k_end, masked):
            y, s_in, k = carry
            words = jnp.zeros((W, plan.n), jnp.uint32)
            active = k_end if masked else None
            (y, s_in, k, words), _ = jax.lax.scan(
                lambda c, j: step(c, j, params, fields, active), (y, s_in, k, words),
                jnp.arange(B, dtype=jnp.int32))
            return (y, s_in, k), words

        def chunk(carry, params, fields, k_end):
            def body(c, _):
                k = c[2]
                branch = jnp.where(k + B <= k_end, 0, jnp.where(k < k_end, 1, 2))
                c, words = jax.lax.switch(branch, [
                    lambda c: block(c, params, fields, k_end, False),
                    lambda c: block(c, params, fields, k_end, True),
                    lambda c: (c, jnp.zeros((W, plan.n), jnp.uint32)),
                ], c)
                return c, (words, self._sample(c, fields))

            carry, (words, samples) = jax.lax.scan(body, carry, None, length=layout.n_blocks)
            finite = jnp.array(True)
            if plan.check_finite:
                for x in jax.tree.leaves(carry[0]):
                    finite = finite & jnp.all(jnp.isfinite(x))
            return carry, words, samples, finite

        return chunk

    def compile(self, carry):
        """Compile the chunk function for this plan; returns seconds spent."""
        import time

        t0 = time.perf_counter()
        fn = jax.jit(self._chunk_fn())
        k_end = jnp.asarray(0, jnp.int64)
        self._compiled = fn.lower(carry, self.params, self.fields_at(0), k_end).compile()
        return time.perf_counter() - t0

    def fields_at(self, k0: int):
        """Input fields for a chunk starting at step ``k0``: the resolved fields, plus for a
        streamed protocol (file) the samples of that chunk's time window (same shapes for
        every chunk, so one compilation)."""
        if not self.streamed:
            return self.fields
        out = list(self.fields)
        for i in self.streamed:
            win = self.protocols[i].window(k0, self.layout.steps, self.plan.dt, self.plan.size,
                                           self.plan.n, self.dtype)
            out[i] = {**self.fields[i], **{k: self._put(jnp.asarray(v)) for k, v in win.items()}}
        return out

    def run_chunk(self, carry, k_end: int, k0: int = 0):
        """Dispatch the chunk from step ``k0`` (the carry's) to ``k_end`` (asynchronously);
        returns (carry, words, samples, finite)."""
        return self._compiled(carry, self.params, self.fields_at(k0),
                              jnp.asarray(k_end, jnp.int64))

    def sample_now(self, carry, k0: int = 0) -> tuple:
        """The recorded variables at the carry's time, step ``k0`` (for row 0 of a report)."""
        return tuple(np.asarray(x) for x in jax.jit(self._sample)(carry, self.fields_at(k0)))

    def _sample(self, carry, fields):
        y, s_in, k = carry
        out = []
        for v in self.plan.record.variables:
            x = (jnp.broadcast_to(self._current(k.astype(jnp.float64) * self.plan.dt, fields,
                                                s_in), (self.plan.n,))
                 if v == "input" else y[v])
            out.append(x if self.rec_all else x[self.rec_ids])
        return tuple(out)


def decode_spikes(words: np.ndarray, k0: int, block: int, n_valid_blocks: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Spike steps and neuron ids from a chunk's words ``[n_blocks, W, N]`` (first
    ``n_valid_blocks`` blocks), sorted by step then neuron."""
    words = words[:n_valid_blocks]
    b, w, i = np.nonzero(words)
    if b.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    vals = words[b, w, i]
    bits = ((vals[:, None] >> np.arange(SPIKE_WORD, dtype=np.uint32)) & 1).astype(bool)
    m, bit = np.nonzero(bits)
    steps = k0 + b[m].astype(np.int64) * block + w[m].astype(np.int64) * SPIKE_WORD + bit
    ids = i[m].astype(np.int64)
    order = np.lexsort((ids, steps))
    return steps[order], ids[order]
