"""The compiled time loop.

One jitted function advances the population by one *chunk*: a ``lax.scan`` over blocks of
``B`` steps (``B = record.every`` when variables are recorded, else 32), each block an inner
loop over its steps. After each block the recorded variables are sampled, and the spikes of
the block come out as bit words (bit ``j`` of word ``w`` = step ``32 w + j`` of the block), 32
steps per ``uint32`` per neuron, so spike output costs an OR per neuron-step and 1/8 byte of
memory traffic. With ``spike_timing: precise`` each block also returns the crossing's offset in
its step of every spike (in the run's precision): one slot per neuron and block (``[1, n]``),
which the neuron's spike writes (the host reads it at the spike's block and neuron,
:func:`iter_precise_spikes`). A neuron's second spike in a block writes NaN there instead;
the host, seeing it, has that chunk run again with ``B`` slots, one per step (room for a
spike of every neuron on every step; compiled only if it happens). The steps themselves are
grid steps except where a neuron needs the precise one: each block takes grid steps first,
and only the neurons that needed more are done again, in tiles or in gathered batches
(``Engine._chunk_fn``'s ``precise_block`` and ``precise_steps``).

Every chunk call takes ``k_end``, the first step *not* to simulate, and each block's inner loop
runs ``min(B, k_end - k)`` steps (a ``fori_loop`` with a dynamic trip count, 0 past the end).
So the last, partial chunk, and a call that only advances to a recording window's phase,
reuse the same compiled function: no second compilation, no masking, and only one copy of
the model's step in the compiled program (which keeps compile time down).

Synaptic inputs (:mod:`spikesim.inputs.synapse`) keep their variable in the protocol state:
each step adds the events of its start boundary, hands the integrator a current that
evaluates the variables in closed form at each stage's time (and at the stage's v for a
conductance), and decays them to the end of the step. Without synaptic inputs none of this
is traced: the step is the same program as before they existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, SingleDeviceSharding
from jax.sharding import PartitionSpec as P

from ..inputs.synapse import decayed, reversal
from ..models.integrators import INTEGRATORS
from ..models.drive import END_OF_STEP, input_at
from ..models.spike_timing import sparse_step

SPIKE_WORD = 32

#: ``spike_timing: precise``: the most grid steps run at a time before the check for a
#: neuron that needs the precise step (at most 32: one bit per step)
SPECULATE = 32

#: ``spike_timing: precise``: steps of a run taken precisely without a check, where neurons
#: needed the precise step on consecutive steps (a population whose neurons spike at different
#: times); such runs go on while at least half their steps needed it
DENSE_RUN = 8

#: ``spike_timing: precise``: a tile with more than 1/DENSE_TILE of its neurons in need of
#: the precise step in a block is done again whole, in place; the flagged neurons of the
#: other tiles are gathered into batches
DENSE_TILE = 2

#: XLA:CPU options for the chunk function. Both leave every result bit for bit the same
#: (tests/test_engine_options.py) and were measured on the 2-core AVX-512 development VM
#: (benchmarks/RESULTS.md): 512-bit vectors (XLA's default prefers 256) run the HH step
#: about 25 % faster; copy insertion with region analysis drops the copies of the state that
#: the while loop otherwise makes every step (LIF at 1e4 neurons: about 20 % faster).
#: Machines without AVX-512 ignore the vector width.
CPU_COMPILER_OPTIONS = {
    "xla_cpu_prefer_vector_width": 512,
    "xla_cpu_copy_insertion_use_region_analysis": True,
}


#: On CPU devices with many neurons each, a block's steps run over tiles of about
#: ``model.cpu_tile`` neurons, one tile after another, so that a tile's state and the step's
#: temporaries stay in the core's L1 data cache for all the block's steps instead of
#: streaming through L2 at every step. A device's share is tiled only when it makes at least
#: this many tiles: a smaller share is close to L1-sized already, and each tile adds its own
#: loop launches (LIF at 5,000 neurons per device: 9 % slower in tiles of 2,500).
MIN_TILES = 4


def tiling(n: int, n_devices: int, tile_max: int | None) -> tuple[int, int]:
    """``(tiles, tile)`` per device for ``n`` neurons: one tile of ``ceil(n / n_devices)``
    when that is less than ``MIN_TILES`` tiles of ``tile_max`` (or ``tile_max`` is None),
    else the fewest tiles of at most ``tile_max`` neurons, equal in size and a multiple of
    16 (one 512-bit vector of float32), so that no tile has a remainder loop."""
    n_local = -(-n // n_devices)
    if tile_max is None or n_local < MIN_TILES * tile_max:
        return 1, n_local
    tile_max = max(16, tile_max // 16 * 16)
    tiles = -(-n_local // tile_max)
    tile = -(-n_local // tiles)
    return tiles, -(-tile // 16) * 16


def _inclusive_cumsum(counts):
    """Inclusive cumulative sum of small whole numbers ``counts [n]`` (each 0 or 1) as int32:
    rows of 64 summed by a product with a triangular matrix, then the rows' totals the same
    way, then a plain ``cumsum`` of what is left. XLA:CPU lowers ``jnp.cumsum`` to an
    associative scan of some 30 small kernels: 0.5 ms for 50,000 entries on the development
    VM, 3x this (benchmarks/RESULTS.md, eleventh session). Each product sums at most 64
    whole numbers below 2^12, which float32 holds exactly."""
    n = counts.shape[0]
    rows = -(-n // 4096) * 64
    tri = jnp.triu(jnp.ones((64, 64), jnp.float32))

    def row_sums(a):
        return jnp.matmul(a, tri, precision=jax.lax.Precision.HIGHEST).astype(jnp.int32)

    c1 = row_sums(jnp.pad(counts.astype(jnp.float32), (0, rows * 64 - n)).reshape(rows, 64))
    total1 = c1[:, -1]
    c2 = row_sums(total1.reshape(-1, 64).astype(jnp.float32))
    total2 = c2[:, -1]
    before2 = jnp.cumsum(total2) - total2
    before1 = (c2 + before2[:, None]).reshape(-1) - total1
    return (c1 + before1[:, None]).reshape(-1)[:n]


def set_indices(mask):
    """The indices of the set entries of ``mask [n]``, in order, then zeros: what
    ``jnp.nonzero(mask, size=n, fill_value=0)`` gives, in a quarter of its time on XLA:CPU
    (its two ``cumsum`` and a scatter: 1 ms for 50,000 entries)."""
    n = mask.shape[0]
    at = jnp.where(mask, _inclusive_cumsum(mask) - 1, n)
    return jnp.zeros((n,), jnp.int32).at[at].set(jnp.arange(n, dtype=jnp.int32), mode="drop")


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
    if words and plan.spike_timing == "precise":
        per_block += plan.n * itemsize  # the crossing offsets: one slot per neuron
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


class Engine:
    """Holds the compiled chunk function of a plan and the arrays it runs on.

    With several ``devices`` the neuron axis is sharded across them (``jax.sharding``): the
    population is padded to a multiple of the device count with copies of its last neuron,
    whose results are dropped on the host. Every per-neuron computation is elementwise, so
    each device runs its share of neurons independently; only recorded subsets are gathered.
    On CPU devices a large share is further cut into tiles (:data:`MIN_TILES`, padded the
    same way); ``tile`` overrides the model's tile size (None: no tiles).
    """

    def __init__(self, plan, devices=None, layout: Layout | None = None, step_offset: int = 0,
                 tile: int | None | str = "auto"):
        self.plan = plan
        # steps already simulated before this run's step 0 (a run continued with
        # --init-from): the noise keys continue from there instead of repeating
        self.step_offset = int(step_offset)
        self.dtype = jnp.float64 if plan.precision == "float64" else jnp.float32
        self.layout = layout or choose_layout(plan)
        self.devices = list(devices) if devices else [jax.devices()[0]]
        self.model = plan.model
        self.protocols = [proto for proto, _ in plan.inputs]
        self.random = [i for i, p in enumerate(self.protocols) if p.random]
        self.streamed = [i for i, p in enumerate(self.protocols) if p.streamed]
        # synaptic protocols: their variable (by name) and what their counts need statically
        self.synaptic = [i for i, p in enumerate(self.protocols) if p.synaptic]
        self.syn_names = {self.protocols[i].variable(i): i for i in self.synaptic}
        self.syn_static = {i: self.protocols[i].static(plan.inputs[i][1], plan.dt)
                           for i in self.synaptic}
        rec = plan.record
        self.rec_all = len(rec.neurons) == plan.n
        n_dev = len(self.devices)
        if tile == "auto":
            tile = plan.model.cpu_tile if self.devices[0].platform == "cpu" else None
        self.n_tiles, self.tile = tiling(plan.n, n_dev, tile)
        if self.devices[0].platform == "cpu" and self.n_tiles == 1:
            # a whole number of 512-bit vectors per device, as for tiles: XLA:CPU computes a
            # remainder that is not with scalar code whose rounding may differ by an ulp, so
            # a neuron's result would depend on its position (on the shard it falls in)
            self.tile = -(-self.tile // 16) * 16
        self.n_pad = n_dev * self.n_tiles * self.tile
        self.mesh = None
        if n_dev > 1:
            mesh = self.mesh = Mesh(np.asarray(self.devices), ("n",))
            self._sharding = lambda ndim: NamedSharding(
                mesh, P(*([None] * (ndim - 1)), "n"))
            self._replicated = NamedSharding(mesh, P())
        else:
            self._replicated = SingleDeviceSharding(self.devices[0])
            self._sharding = lambda ndim: self._replicated
        self.params = {k: self._put(v, self.dtype) for k, v in plan.params.items()}
        # times (onsets, periods) stay float64 like t, so an edge at k*dt falls on step k
        self.fields = [{k: self._put(v, np.float64 if k in p.time_fields else None)
                        for k, v in f.items()} for p, f in plan.inputs]
        self.rec_ids = self._put(np.asarray(rec.neurons, np.int32), neuron_axis=False)
        # noise key of neuron i: (seed, protocol, step, i mod population.size), i the global
        # id (a shard's neurons start at plan.first), so a neuron's noise is the same alone,
        # in a larger population, in every sweep combination and in every shard
        self.noise_ids = self._put((plan.first + np.arange(self.n_pad)) % plan.size, np.uint32)
        self._compiled = None
        self._compiled_full = None  # precise timing: the chunk with S = B (see run_full)

    # -- placement ----------------------------------------------------------------------
    def _put(self, value, dtype=None, neuron_axis: bool | None = None):
        """Place a host value: a per-neuron array (1-D, one value per neuron of the run) is
        padded to the device multiple and sharded; anything else is replicated."""
        x = np.asarray(value, dtype=dtype if dtype is not None else
                       (self.dtype if np.issubdtype(np.asarray(value).dtype, np.floating)
                        else None))
        if neuron_axis is None:
            neuron_axis = x.ndim == 1 and x.shape[0] in (self.plan.n, self.n_pad)
        if neuron_axis:
            if x.shape[0] < self.n_pad:
                x = np.concatenate([x, np.repeat(x[-1:], self.n_pad - x.shape[0])])
            return jax.device_put(x, self._sharding(1))
        return jax.device_put(x, self._replicated)

    def host_parts(self, x) -> list[np.ndarray]:
        """A device array whose last axis is the (padded) neuron axis, as host arrays that
        split that axis in order: one per shard. On CPU devices these are views of the
        device buffers, where ``np.asarray`` would first assemble a copy of the whole array
        (for a chunk's spike words at 1e5 neurons: 67 MB of fresh pages, 20-200 ms here)."""
        # one shard per neuron range (a replicated array has one range: the whole axis)
        by_start = {sh.index[-1].start or 0: sh for sh in x.addressable_shards}
        return [np.asarray(by_start[k].data) for k in sorted(by_start)]

    def host(self, x) -> np.ndarray:
        """A device array back on the host, without the padding neurons."""
        x = np.asarray(x)
        return x[..., :self.plan.n] if x.ndim >= 1 and x.shape[-1] == self.n_pad else x

    def place_like(self, value, like):
        """A stored host value (e.g. an input's state from a previous run) placed like
        ``like``."""
        x = np.asarray(value, like.dtype)
        if like.ndim >= 1 and like.shape[-1] == self.n_pad:
            return self._put(x.reshape(-1), like.dtype, neuron_axis=True)
        return self._put(x.reshape(like.shape), like.dtype, neuron_axis=False)

    def _out_shardings(self, tree):
        """Shardings for a tree of outputs: arrays whose last axis is the (padded) neuron
        axis are sharded along it, everything else replicated."""
        return jax.tree.map(
            lambda a: (self._sharding(a.ndim) if a.ndim >= 1 and a.shape[-1] == self.n_pad
                       else self._replicated), tree)

    # -- pieces of the step -------------------------------------------------------------
    def _current(self, t, fields, s_in):
        """The current of the protocols that do not depend on the state (all but the
        synaptic ones) at time ``t``."""
        total = jnp.zeros((), self.dtype)
        for proto, f, s in zip(self.protocols, fields, s_in):
            if not proto.synaptic:
                total = total + proto.current(t, f, s)
        return total.astype(self.dtype)

    def _drive(self, t, fields, s_in):
        """The input as the integrators see it over the step that starts at ``t``, with the
        synaptic variables ``s_in`` at their values at ``t`` (events applied): a function
        ``current(tt)``, or with a conductance input ``current(tt, v)`` (attribute
        ``conductance``) and ``current.affine(tt) = (a, b)``, ``I = a - b v``. Each synaptic
        variable is evaluated at ``tt`` in closed form (``x exp(-(tt - t) / tau)``).
        ``current.before(tt)`` is the input just before ``tt`` (a stage at the step's end:
        ``models.drive.input_before``)."""
        if not self.synaptic:
            def protocols_only(tt):
                return self._current(tt, fields, s_in)

            # the left limit at a step's end (models.drive.input_before)
            protocols_only.before = lambda tt: self._current(tt - END_OF_STEP, fields, s_in)
            return protocols_only
        cond = [i for i in self.synaptic if self.protocols[i].kind == "conductance"]

        def values(tt):
            if tt is t:  # the step's start (exp_euler, euler, stage 1): no decay to compute
                return {i: s_in[i] for i in self.synaptic}
            s = (tt - t).astype(self.dtype)
            return {i: decayed(s_in[i], fields[i], s) for i in self.synaptic}

        def at(tt, t_protocols, v):
            x = values(tt)
            total = self._current(t_protocols, fields, s_in)
            for i in self.synaptic:
                total = total + (x[i] * (reversal(fields[i]) - v) if i in cond else x[i])
            return total.astype(self.dtype)

        def current(tt, v=None):
            return at(tt, tt, v)

        def before(tt, v=None):  # the protocols' left limit; the synapses decay exactly to tt
            return at(tt, tt - END_OF_STEP, v)

        def affine(tt):
            x = values(tt)
            a = self._current(tt, fields, s_in)
            b = jnp.zeros((), self.dtype)
            for i in self.synaptic:
                if i in cond:
                    a = a + x[i] * reversal(fields[i])
                    b = b + x[i]
                else:
                    a = a + x[i]
            return a.astype(self.dtype), b.astype(self.dtype)

        current.conductance = bool(cond)
        current.affine = affine
        current.before = before
        return current

    def _keys(self, k, stream, ids=None):
        """Counter-based keys (seed, protocol ``stream``, step ``k``, neuron) for the neurons
        whose noise ids are ``ids`` (default: all)."""
        # the seed's key is made here, inside the traced function: made eagerly it would
        # cost two small compilations (~50 ms) in every process, random inputs or not
        key = jax.random.key(self.plan.seed)
        key = jax.random.fold_in(jax.random.fold_in(key, stream), k + self.step_offset)
        ids = self.noise_ids if ids is None else ids
        return jax.vmap(lambda i: jax.random.fold_in(key, i))(ids)

    def _normal(self, k, stream, ids=None):
        """Standard normal per neuron for step ``k`` of random protocol ``stream``."""
        keys = self._keys(k, stream, ids)
        return jax.vmap(lambda kk: jax.random.normal(kk, (), self.dtype))(keys)

    def _uniform(self, k, stream, ids=None):
        """Uniform on [0, 1) per neuron for step ``k`` of protocol ``stream``, from the 64
        bits of the neuron's key itself: that key is Threefry-2x32 of the neuron's counter
        under the (seed, stream, step) key (Salmon et al. 2011, SC'11), i.e. counter-based
        random bits, which ``jax.random.uniform`` on it would hash once more (measured:
        that second hash is most of a synaptic input's cost). The bits become a float as
        in ``jax.random.uniform``: the top mantissa bits under the exponent of 1, minus 1."""
        words = jax.random.key_data(self._keys(k, stream, ids))  # [n, 2] uint32
        if self.dtype == jnp.float64:
            bits = (words[:, 0].astype(jnp.uint64) << 32) | words[:, 1].astype(jnp.uint64)
            one = jax.lax.bitcast_convert_type((bits >> 12) | np.uint64(0x3FF0000000000000),
                                               jnp.float64)
        else:
            one = jax.lax.bitcast_convert_type((words[:, 0] >> 9) | np.uint32(0x3F800000),
                                               jnp.float32)
        return one - 1.0

    def _events(self, k, t, fields, s_in, ids=None):
        """``s_in`` with the events of step boundary ``k`` (time ``t``) added to each
        synaptic variable."""
        if not self.synaptic:
            return s_in
        s_in = list(s_in)
        for i in self.synaptic:
            n = self.protocols[i].counts(t, fields[i], lambda i=i: self._uniform(k, i, ids),
                                         self.syn_static[i], self.plan.dt)
            s_in[i] = (s_in[i] + fields[i]["weight"] * n).astype(self.dtype)
        return tuple(s_in)

    def initial_carry(self, init_state: dict | None = None):
        """Initial state (from the model, or a saved final state), protocol states for step 0,
        and the step counter; computed by one small compiled function."""
        plan = self.plan
        init = {k: self._put(v) for k, v in plan.init.items()}
        given = ({k: self._put(v, self.dtype) for k, v in init_state.items()}
                 if init_state is not None else None)

        def make(params, init, fields, given):
            y = (given if given is not None
                 else self.model.initial_state(params, init, self.n_pad, self.dtype))
            y = {k: jnp.broadcast_to(jnp.asarray(v, self.dtype), (self.n_pad,))
                 for k, v in y.items()}
            s_in = []
            for i, (proto, f) in enumerate(zip(self.protocols, fields)):
                if proto.synaptic:  # at t = 0, before the events of step 0
                    s_in.append(jnp.zeros((self.n_pad,), self.dtype))
                    continue
                s_in.append(proto.init(f, self.n_pad, self.dtype, plan.dt,
                                       lambda i=i: self._normal(0, i)) if proto.random else None)
            return (y, tuple(s_in), jnp.asarray(0, jnp.int64))

        args = (self.params, init, self.fields_at(0), given)
        shapes = jax.eval_shape(make, *args)
        return jax.jit(make, out_shardings=self._out_shardings(shapes))(*args)

    # -- the compiled chunk -------------------------------------------------------------
    def _chunk_fn(self, slots: int = 1):
        """The chunk function; ``slots``: offset slots per neuron and block (precise timing):
        1, written by the neuron's spike in the block (NaN by a second one), or ``B``, one per
        step (:meth:`run_full`)."""
        plan, model, layout = self.plan, self.model, self.layout
        integrate = INTEGRATORS[plan.integrator]
        dt = plan.dt
        B, W = layout.block, layout.words

        precise = plan.spike_timing == "precise"
        S = slots

        def advance(s_in, fields, k, ids):
            """The random inputs' states held over step ``k + 1``; the synaptic variables
            (``s_in`` after the events of step ``k``) decayed to the end of the step."""
            s_new = list(s_in)
            for i in self.random:
                s_new[i] = self.protocols[i].advance(s_in[i], fields[i], dt,
                                                     self._normal(k + 1, i, ids))
            for i in self.synaptic:
                s_new[i] = decayed(s_in[i], fields[i], dt)
            return tuple(s_new)

        def step(j, carry, params, fields, ids, flag=None):
            """Step ``j`` of the block: the grid step, or with precise timing (where a
            neuron needs it, ``precise_steps``) the precise one; with ``flag``, the carry's
            fifth element gets bit ``flag`` set where a neuron needed it."""
            y, s_in, k, out = carry[:4]
            t = k.astype(jnp.float64) * dt
            # synaptic variables: the events of this step's start boundary, then the step
            s_in = self._events(k, t, fields, s_in, ids)
            current = self._drive(t, fields, s_in)
            if precise:
                y_new, spiked, offset, need = sparse_step(model, integrate, y, params, t, dt,
                                                          current, plan.precision)
            else:
                y_new, spiked = model.step(integrate, y, params, t, dt, current)
            s_new = advance(s_in, fields, k, ids)
            if W:
                words = out[0]
                if precise:
                    out = (words, write_offsets(out[1], j, words, spiked, offset))
                bit = spiked.astype(jnp.uint32) << (j % SPIKE_WORD).astype(jnp.uint32)
                if W == 1:
                    words = words | bit[None]
                else:
                    w = j // SPIKE_WORD
                    words = words.at[w].set(words[w] | bit)
                out = (words, *out[1:])
            if flag is not None:
                return y_new, s_new, k + 1, out, carry[4] | (need.astype(jnp.uint32) << flag)
            return y_new, s_new, k + 1, out

        def write_offsets(buf, j, words, spiked, offset):
            """The offsets of step ``j``'s spikes into the block's buffer ``[S, m]``: with one
            slot, where a neuron spikes for the first time in the block (no bit in its
            ``words`` yet), else NaN, which tells the host to have the chunk run again with
            ``S = B``; with ``S = B``, row ``j``."""
            offset = offset.astype(buf.dtype)
            if S == B:
                return jax.lax.dynamic_update_slice_in_dim(
                    buf, jnp.where(spiked, offset, 0.0)[None], j, axis=0)
            again = jnp.any(words != 0, axis=0)
            return jnp.where(spiked, jnp.where(again, jnp.nan, offset), buf[0])[None]

        T, tile = self.n_tiles, self.tile

        def empty(m):
            """The block's spike outputs for ``m`` neurons: (words,), and with precise timing
            (words, offsets [S, m])."""
            words = jnp.zeros((W, m), jnp.uint32)
            return (words, jnp.zeros((S, m), self.dtype)) if precise and W else (words,)

        def cut_at(i):
            """Tile ``i`` of a leaf (``per_neuron``; other leaves whole)."""
            def cut(x, per_neuron=True):
                return (jax.lax.dynamic_slice_in_dim(x, i * tile, tile, axis=-1)
                        if per_neuron else x)
            return cut

        def paste_at(i):
            """A leaf with tile ``i`` replaced (``per_neuron``; other leaves kept)."""
            def paste(x, x_tile, per_neuron=True):
                return (jax.lax.dynamic_update_slice_in_dim(x, x_tile, i * tile, axis=-1)
                        if per_neuron else x)
            return paste

        def steps_of(y, s_in, k, params, fields, ids, steps):
            """``steps`` grid steps of the neurons given (all, a device's share or a tile)."""
            # no unrolling: on 2 sharded CPU devices it slowed every model down (LIF and
            # Izhikevich by 1.5-2x at unroll 4-8, benchmarks/RESULTS.md)
            y, s_in, _, out = jax.lax.fori_loop(
                0, steps, lambda j, c: step(j, c, params, fields, ids),
                (y, s_in, k, empty(ids.shape[0])))
            return y, s_in, out

        def grid_step(carry, flag, params, fields, ids):
            """A grid step for precise timing (no spike output): bit ``flag`` of the carry's
            need bits set where the neuron spiked (no bit with ``flag`` None). With the bits
            of :func:`due_bits` at the run's start, these are where ``Model.precise_needed``
            holds up to a neuron's first spike, which is all a run needs."""
            y, s_in, k, need = carry
            t = k.astype(jnp.float64) * dt
            s_in = self._events(k, t, fields, s_in, ids)
            current = self._drive(t, fields, s_in)
            y_new, spiked = model.step(integrate, y, params, t, dt, current)
            if flag is not None:
                need = need | (spiked.astype(jnp.uint32) << flag)
            return y_new, advance(s_in, fields, k, ids), k + 1, need

        def due_bits(y, n):
            """Need bits that the state at a run's start foretells (``Model.precise_due``)
            for the run's ``n`` steps: bit ``min(step, 31)``."""
            due = model.precise_due(y)
            m = jax.tree.leaves(y)[0].shape[-1]
            if due is None:
                return jnp.zeros((m,), jnp.uint32)
            bit = jnp.minimum(due, SPECULATE - 1).astype(jnp.uint32)
            return jnp.where(due < n, np.uint32(1) << bit, np.uint32(0))

        def any_bits(need):
            """The bits set by any neuron of ``need [..., m]``: one reduction over the last
            axis."""
            return jax.lax.reduce(need, np.uint32(0), jax.lax.bitwise_or, (need.ndim - 1,))

        def first_step(bits):
            """The lowest bit set of ``bits``: the first step that needs it; :data:`SPECULATE`
            where none is set."""
            low = 31 - jax.lax.clz(bits & (~bits + np.uint32(1))).astype(jnp.int32)
            return jnp.where(bits == 0, SPECULATE, low)

        def precise_steps(y, s_in, k, out, params, fields, ids, steps, first0):
            """Precise timing's steps of a tile, from the start of its block, where step
            ``first0`` (found by the block's grid pass, :func:`precise_block`) is the first
            that a neuron needs the precise step on: grid steps up to it, the precise step
            (``step``), then speculatively on the grid: a run of up to :data:`SPECULATE` grid
            steps, each neuron's bit ``jj`` set where it spiked on step ``jj`` of the run (the
            run stops before a step that ``Model.precise_due`` foretells, which the next run
            takes precisely at once); where no bit is set the run is kept, else it
            is done again from its start up to the first step with a bit, which is then done
            precisely. One reduction per run instead of one per step: on XLA:CPU a reduction
            over a tile costs a few grid steps of a cheap model. The run's length adapts:
            twice the last after a run kept, the distance to the step found after one redone.
            Where that distance is 0 (the precise step needed on consecutive steps) the next
            runs are :data:`DENSE_RUN` precise steps without a check (``span`` 0), as long as
            at least half of a run's steps needed it: measured, one-step speculative runs took
            a heterogeneous LIF population about 1.45x the time of precise steps throughout
            (benchmarks/RESULTS.md)."""
            m = ids.shape[0]

            def body(c):
                j, y, s_in, k, out, span, known = c
                # the step the state foretells a need on (a refractory period's end): the
                # run stops before it, and the run that starts there takes it at once
                due = first_step(any_bits(due_bits(y, SPECULATE)))
                due_now = (known < 0) & (due == 0)
                known = jnp.where(due_now, 0, known)
                # the first run's first step is known: no grid steps to find it
                n = jnp.where(known >= 0, 0, jnp.minimum(jnp.minimum(steps - j, span), due))
                y1, s1, k1, need = jax.lax.fori_loop(
                    0, n, lambda jj, cc: grid_step(cc, jj.astype(jnp.uint32), params, fields,
                                                   ids),
                    (y, s_in, k, jnp.zeros((m,), jnp.uint32)))
                bits = any_bits(need)
                first = jnp.where(known >= 0, known, first_step(bits))
                dense = span == 0  # no grid steps: a run of precise steps from j on
                first = jnp.where(dense, 0, first)
                none = jnp.int32(-1)

                def redo(_):
                    y2, s2, k2, _ = jax.lax.fori_loop(
                        0, first, lambda jj, cc: grid_step(cc, None, params, fields, ids),
                        (y, s_in, k, need))
                    # then one precise step, or a dense run of them
                    count = jnp.where(dense, jnp.minimum(steps - j, DENSE_RUN), 1)
                    y2, s2, k2, out2, need2 = jax.lax.fori_loop(
                        0, count, lambda jj, cc: step(j + first + jj, cc, params, fields, ids,
                                                      jj.astype(jnp.uint32)),
                        (y2, s2, k2, out, jnp.zeros((m,), jnp.uint32)))
                    busy = jax.lax.population_count(any_bits(need2))
                    busy = 2 * busy.astype(jnp.int32) >= count
                    # the next run as long as this one went well; a dense run (0) where the
                    # step found was the run's first, or a dense run was busy; after a
                    # foretold step, a full run
                    span = jnp.where(dense, jnp.where(busy, 0, 1),
                                     jnp.where(due_now, SPECULATE, first)).astype(jnp.int32)
                    return j + first + count, y2, s2, k2, out2, span, none

                def keep(_):
                    return j + n, y1, s1, k1, out, jnp.minimum(2 * span, SPECULATE), none

                return jax.lax.cond((first >= n) & ~dense & (known < 0), keep, redo, None)

            c = (jnp.zeros((), jnp.int32), y, s_in, k, out, jnp.int32(SPECULATE),
                 first0.astype(jnp.int32))
            _, y, s_in, k, out, _, _ = jax.lax.while_loop(lambda c: c[0] < steps, body, c)
            return y, s_in, out

        def precise_block(neuron, y, s_in, k, params, fields, ids, steps):
            """A block of precise timing for a device's share, ``T`` tiles (or one): first
            the block's grid steps for every tile, one tile after the other, with the need
            bits of its first 31 steps (bit 31: a later step); no spikes there means no
            neuron needed the precise step, and the grid pass is the block. The neurons that
            had a bit set are then done again from the block's start (``precise_steps``,
            from the first step with a bit), a tile's worth at a time: first the tiles with
            more than 1/:data:`DENSE_TILE` of their neurons flagged, whole, in place; then,
            with several tiles, the flagged neurons of the others in batches of a tile, their
            state, parameters, input fields and noise ids gathered (:func:`set_indices`) and
            the results scattered back. Neurons are independent, so a batch may mix any of
            them: a population whose neurons spike at different times (every tile has a
            neuron in need in every block, a third of the neurons have one) redoes about a
            third of what it would in whole tiles (benchmarks/RESULTS.md, eleventh session),
            while one that spikes together redoes whole tiles, without gathers. A block
            without a bit costs its grid steps, the spike bits and one reduction."""
            m = ids.shape[0]

            def grid_tile(i, c):
                y1, s1, need = c
                s_t, p_t, f_t = jax.tree.map(cut_at(i), (s1, params, fields), neuron)
                ids_t = cut_at(i)(ids)
                y_t = jax.tree.map(cut_at(i), y1)
                last = np.uint32(SPECULATE - 1)
                y_t, s_t, _, need_t = jax.lax.fori_loop(
                    0, steps, lambda jj, cc: grid_step(
                        cc, jnp.minimum(jj.astype(jnp.uint32), last), p_t, f_t, ids_t),
                    (y_t, s_t, k, due_bits(y_t, steps)))
                return (jax.tree.map(paste_at(i), y1, y_t),
                        jax.tree.map(paste_at(i), s1, s_t, neuron[0]), paste_at(i)(need, need_t))

            y1, s1, need = jax.lax.fori_loop(
                0, T, grid_tile, (y, s_in, jnp.zeros((m,), jnp.uint32)))
            flagged = need != 0
            per_tile = jnp.sum(flagged.reshape(T, tile), axis=1, dtype=jnp.int32)
            # one tile: nothing to pack its neurons with
            whole = (per_tile > 0) if T == 1 else (per_tile * DENSE_TILE > tile)
            n_whole = jnp.sum(whole.astype(jnp.int32))
            order = jnp.nonzero(whole, size=T, fill_value=0)[0]

            def redo_tile(c):
                r, y1, s1, out = c
                i = order[r]
                s_t, p_t, f_t = jax.tree.map(cut_at(i), (s_in, params, fields), neuron)
                y_t, s_t, out_t = precise_steps(
                    jax.tree.map(cut_at(i), y), s_t, k, empty(tile), p_t, f_t, cut_at(i)(ids),
                    steps, first_step(any_bits(cut_at(i)(need))))
                return (r + 1, jax.tree.map(paste_at(i), y1, y_t),
                        jax.tree.map(paste_at(i), s1, s_t, neuron[0]),
                        jax.tree.map(paste_at(i), out, out_t))

            _, y1, s1, out = jax.lax.while_loop(
                lambda c: c[0] < n_whole, redo_tile, (jnp.int32(0), y1, s1, empty(m)))
            if T == 1:
                return y1, s1, out

            # the flagged neurons of the other tiles, in batches of a tile (the last one's
            # spare places take neuron 0: its lanes compute what its own does, whether it
            # needed the precise step or not, since the result does not depend on the path)
            n_sparse = jnp.sum(jnp.where(whole, 0, per_tile))
            idx = jax.lax.cond(n_sparse > 0,
                               lambda: set_indices(flagged & ~jnp.repeat(whole, tile)),
                               lambda: jnp.zeros((m,), jnp.int32))

            def redo_batch(c):
                r, y1, s1, out = c
                ix = jax.lax.dynamic_slice_in_dim(idx, r * tile, tile)

                def take(x, per_neuron=True):
                    return x[..., ix] if per_neuron else x

                s_b, p_b, f_b = jax.tree.map(take, (s_in, params, fields), neuron)
                y_b, s_b, out_b = precise_steps(
                    jax.tree.map(take, y), s_b, k, empty(tile), p_b, f_b, ids[ix], steps,
                    first_step(any_bits(need[ix])))
                # written back one leaf after the other: XLA:CPU (jax 0.10) fails to compile
                # sibling scatters that it fuses into one kernel, so each scatter's index is
                # made to depend on the one before
                new = jax.tree.leaves((y_b, s_b, out_b))
                old, tree = jax.tree.flatten((y1, s1, out))
                per = jax.tree.leaves((jax.tree.map(lambda _: True, y1), neuron[0],
                                       jax.tree.map(lambda _: True, out)))
                written = []
                for x, x_b, is_neuron in zip(old, new, per):
                    if is_neuron:
                        x = x.at[..., ix].set(x_b)
                        x, ix = jax.lax.optimization_barrier((x, ix))
                    written.append(x)
                return (r + 1, *jax.tree.unflatten(tree, written))

            _, y1, s1, out = jax.lax.while_loop(
                lambda c: c[0] * tile < n_sparse, redo_batch, (jnp.int32(0), y1, s1, out))
            return y1, s1, out

        def tiled(neuron, y, s_in, k, params, fields, ids, steps):
            """A device's share, ``T`` tiles one after the other, each for all the block's
            steps; ``neuron`` marks the per-neuron leaves of (s_in, params, fields)."""
            def tile_steps(i, c):
                y, s_in, words = c
                cut, paste = cut_at(i), paste_at(i)
                cuts = jax.tree.map(cut, (s_in, params, fields), neuron)
                y_t, s_t, w_t = steps_of(jax.tree.map(cut, y), cuts[0], k, cuts[1], cuts[2],
                                         cut(ids), steps)
                return (jax.tree.map(paste, y, y_t), jax.tree.map(paste, s_in, s_t, neuron[0]),
                        jax.tree.map(paste, words, w_t))

            return jax.lax.fori_loop(0, T, tile_steps, (y, s_in, empty(ids.shape[0])))

        n = self.n_pad

        def block(carry, params, fields, k_end):
            y, s_in, k = carry
            steps = jnp.clip(k_end - k, 0, B).astype(jnp.int32)
            # precise timing always takes precise_block, which checks each device's share
            # for neurons that need the precise step: on several devices in shard_map even
            # without tiles, as a check of the global array would be a collective between them
            if T == 1 and not precise:
                y, s_in, words = steps_of(y, s_in, k, params, fields, self.noise_ids, steps)
            else:
                # per-neuron leaves are the 1-D ones of length n, as _put places them; not
                # "last axis of length n" as for outputs: a file input's window [rows, cols]
                # is indexed by global column numbers and must not be cut, even when it has
                # one column per neuron
                neuron = jax.tree.map(lambda x: x.ndim == 1 and x.shape[0] == n,
                                      (s_in, params, fields))
                fn = lambda *a: (precise_block if precise else tiled)(neuron, *a)  # noqa: E731
                if self.mesh is not None:
                    # each device tiles its own share: written per device (shard_map), since
                    # slicing a sharded axis in the global program would move data between
                    # devices
                    spec = jax.tree.map(lambda b: P("n") if b else P(), neuron)
                    fn = jax.shard_map(fn, mesh=self.mesh, in_specs=(
                        P("n"), spec[0], P(), spec[1], spec[2], P("n"), P()),
                        out_specs=(P("n"), spec[0], jax.tree.map(lambda _: P(None, "n"),
                                                                  empty(1))),
                        check_vma=False)
                y, s_in, words = fn(y, s_in, k, params, fields, self.noise_ids, steps)
            return (y, s_in, k + steps), words

        def chunk(carry, params, fields, k_end):
            def body(c, _):
                c, words = block(c, params, fields, k_end)
                return c, (words, self._sample(c, fields))

            carry, (words, samples) = jax.lax.scan(body, carry, None, length=layout.n_blocks)
            # grid: the words [n_blocks, W, n]; precise: (words, offsets [n_blocks, S, n])
            words = words if precise and W else words[0]
            # per neuron, not reduced here: a reduction over a sharded population would be a
            # cross-device collective at every chunk (measured: 25% slower LIF on 2 devices)
            finite = jnp.ones((n,), bool)
            if plan.check_finite:
                for x in jax.tree.leaves(carry[0]):
                    finite = finite & jnp.isfinite(x)
            return carry, words, samples, finite

        return chunk

    def compile(self, carry):
        """Compile the chunk function for this plan; returns seconds spent."""
        import time

        t0 = time.perf_counter()
        self._compiled = self._compile(self._chunk_fn(), carry)
        return time.perf_counter() - t0

    def _compile(self, fn, carry):
        args = (carry, self.params, self.fields_at(0), self._put(np.int64(0)))
        out = self._out_shardings(jax.eval_shape(fn, *args))
        opts = CPU_COMPILER_OPTIONS if self.devices[0].platform == "cpu" else None
        return jax.jit(fn, out_shardings=out).lower(*args).compile(opts)

    def run_full(self, carry, k_end: int, k0: int = 0) -> np.ndarray:
        """Precise timing: the chunk from ``carry`` (step ``k0``) to ``k_end`` run again with
        ``B`` offset slots per neuron and block, for a chunk in which a neuron spiked twice in a
        block; returns its offsets ``[n_blocks, B, n_pad]`` on the host, in parts
        (:meth:`host_parts`). Its spikes and states are those of the first run (the same
        steps), only the buffer is larger."""
        if self._compiled_full is None:
            self._compiled_full = self._compile(self._chunk_fn(self.layout.block), carry)
        _, (_, offsets), _, _ = self._compiled_full(carry, self.params, self.fields_at(k0),
                                                    self._put(np.int64(k_end)))
        return self.host_parts(offsets)

    def fields_at(self, k0: int):
        """Input fields for a chunk starting at step ``k0``: the resolved fields, plus for a
        streamed protocol (file) the samples of that chunk's time window (same shapes for
        every chunk, so one compilation)."""
        if not self.streamed:
            return self.fields
        out = list(self.fields)
        for i in self.streamed:
            win = self.protocols[i].window(k0, self.layout.steps, self.plan.dt, self.plan.size,
                                           self.plan.n, self.dtype, self.plan.first)
            out[i] = {**self.fields[i], **{k: self._put(v) for k, v in win.items()}}
        return out

    def run_chunk(self, carry, k_end: int, k0: int = 0):
        """Dispatch the chunk from step ``k0`` (the carry's) to ``k_end`` (asynchronously);
        returns (carry, words, samples, finite)."""
        return self._compiled(carry, self.params, self.fields_at(k0),
                              self._put(np.int64(k_end)))

    def sample_now(self, carry, k0: int = 0) -> tuple:
        """The recorded variables at the carry's time, step ``k0`` (for row 0 of a report).
        State variables are read on the host; only a recorded ``input`` needs the current
        evaluated, by a small compiled function (a compilation that other runs skip)."""
        rec = self.plan.record
        if "input" not in rec.variables:
            return tuple(self.host(carry[1][self.syn_names[v]] if v in self.syn_names
                                   else carry[0][v])[rec.neurons] for v in rec.variables)
        return tuple(np.asarray(x)[:len(rec.neurons)]
                     for x in jax.jit(self._sample)(carry, self.fields_at(k0)))

    def _sample(self, carry, fields):
        y, s_in, k = carry
        out = []
        for v in self.plan.record.variables:
            if v == "input":  # with synapses: at the state's v, before the events at t
                t = k.astype(jnp.float64) * self.plan.dt
                x = jnp.broadcast_to(input_at(self._drive(t, fields, s_in), t, y),
                                     (self.n_pad,))
            else:
                x = s_in[self.syn_names[v]] if v in self.syn_names else y[v]
            out.append(x if self.rec_all else x[self.rec_ids])
        return tuple(out)


def _as_parts(x) -> list:
    """A chunk's host array as the list of its parts along the neuron axis
    (:meth:`Engine.host_parts`), or one array as a list of one."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def iter_spikes(words, k0: int, block: int, n_valid_blocks: int,
                n_real: int | None = None, slice_words: int = 1 << 16):
    """Spike steps and neuron ids from a chunk's words ``[n_blocks, W, N]`` (first
    ``n_valid_blocks`` blocks; neurons from ``n_real`` on, the padding of a sharded run,
    dropped), as a sequence of ``(steps, ids)`` pieces, each sorted by step, then by neuron,
    and the pieces in step order. ``words`` may also be a list of parts that split the neuron
    axis in order (the shards of a sharded run, see :meth:`Engine.host_parts`): each piece
    then joins its blocks of the parts, so the whole chunk is never assembled in one array.

    The chunk is decoded a few blocks at a time (about ``slice_words`` words): each piece's
    temporaries then stay in the CPU cache and come from the heap instead of fresh pages,
    which makes decoding several times faster than on the whole chunk at once (a chunk of
    100,000 LIF neurons holds millions of spikes). Within a piece, O(words + spikes), all
    vectorised: the non-zero words come out of ``flatnonzero`` in (word, neuron) order; a
    word with several bits set is expanded in place into one entry per bit; a stable sort on
    the step alone (a radix sort: keys below 65,536) then orders the entries by step and keeps
    them by neuron within a step."""
    parts = _as_parts(words)
    n_blocks, n_words = parts[0].shape[:2]
    n = sum(part.shape[2] for part in parts)
    n_valid_blocks = min(n_valid_blocks, n_blocks)
    per_block = n_words * SPIKE_WORD  # bit positions per block; >= block
    # blocks per piece: enough words to amortise numpy's per-call cost, few enough bit
    # positions that the sort key fits 16 bits
    step_b = max(1, min(slice_words // max(1, n_words * n), (1 << 16) // per_block))
    for b0 in range(0, n_valid_blocks, step_b):
        b1 = min(b0 + step_b, n_valid_blocks)
        flat = (parts[0][b0:b1] if len(parts) == 1
                else np.concatenate([part[b0:b1] for part in parts], axis=-1)).reshape(-1)
        idx = np.flatnonzero(flat != 0)  # of a bool array: twice as fast as of uint32
        if idx.size == 0:
            continue
        vals = flat[idx]
        counts = np.bitwise_count(vals)
        if counts.max() > 1:  # expand: entry r of a word gets its r-th lowest set bit
            idx = np.repeat(idx, counts)
            vals = np.repeat(vals, counts)
            starts = np.repeat(np.cumsum(counts) - counts, counts)
            rank = np.arange(idx.size) - starts
            for r in range(1, int(counts.max())):
                clear = rank >= r
                vals[clear] &= vals[clear] - np.uint32(1)
        bit = np.bitwise_count((vals & (~vals + np.uint32(1))) - np.uint32(1))
        word, ids = np.divmod(idx, n)  # word = block * W + w, within the piece
        key = word * SPIKE_WORD + bit  # = block * W * 32 + w * 32 + bit < 65,536
        span = (b1 - b0) * per_block
        small = np.uint8 if span <= 256 else np.uint16 if span <= 1 << 16 else np.uint32
        order = np.argsort(key.astype(small), kind="stable")
        key, ids = key[order], ids[order]
        if per_block == block:
            steps = key + (k0 + b0 * block)
        else:
            steps = (key // per_block + b0) * block + key % per_block + k0
        if n_real is not None and n_real < n:
            real = ids < n_real
            steps, ids = steps[real], ids[real]
        yield steps.astype(np.int64, copy=False), ids.astype(np.int64, copy=False)


def iter_precise_spikes(words, offsets, k0: int, block: int, n_valid_blocks: int,
                        n_real: int, rerun=None):
    """Precise timing: ``(steps, ids, offsets)`` pieces of a chunk, as :func:`iter_spikes`,
    each spike with its offset in its step.

    ``offsets [n_blocks, S, N]`` (or a list of parts that split N, as ``words``) holds, with
    ``S = 1``, a neuron's offset in block ``b`` at ``[b, 0, neuron]``: NaN where the neuron
    spiked more than once in the block, and then ``rerun()`` gives the chunk's offsets with
    ``S = block`` (:meth:`Engine.run_full`), a spike at step ``j`` of its block at ``[b, j,
    neuron]``, used from there on."""
    parts = _as_parts(offsets)
    for steps, ids in iter_spikes(words, k0, block, n_valid_blocks, n_real):
        off = _offsets_at(parts, steps, ids, k0, block)
        if parts[0].shape[1] < block and np.isnan(off).any():  # a neuron spiked twice
            parts = _as_parts(rerun())
            off = _offsets_at(parts, steps, ids, k0, block)
        yield steps, ids, off


def _offsets_at(parts, steps, ids, k0: int, block: int) -> np.ndarray:
    """The offsets of the spikes ``(steps, ids)`` (in step order) from the parts of a chunk's
    ``[n_blocks, S, N]`` buffer (see :func:`iter_precise_spikes`)."""
    b = (steps - k0) // block
    if steps.size == 0:  # a piece whose spikes were all of padding neurons
        return np.zeros(0, parts[0].dtype)
    if parts[0].shape[1] == 1:  # one slot: the piece's blocks joined, then one flat take
        b0, b1 = int(b[0]), int(b[-1]) + 1
        slots = (parts[0][b0:b1, 0] if len(parts) == 1
                 else np.concatenate([x[b0:b1, 0] for x in parts], axis=-1))
        return slots.reshape(-1)[(b - b0) * slots.shape[-1] + ids]
    row = (steps - k0) - b * block  # a slot per step (the rerun)
    if len(parts) == 1:
        return parts[0][b, row, ids]
    ends = np.cumsum([x.shape[-1] for x in parts])
    part = np.searchsorted(ends, ids, side="right")
    off = np.empty(ids.size, parts[0].dtype)
    for d, x in enumerate(parts):
        on = part == d
        off[on] = x[b[on], row[on], ids[on] - (ends[d] - x.shape[-1])]
    return off
