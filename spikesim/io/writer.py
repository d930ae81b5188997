"""The HDF5 output (SPEC section 3), written chunk by chunk.

The file is created as ``<path>.partial`` with ``status=running``, flushed after every chunk,
and renamed to ``<path>`` with ``status=complete`` only when the run completes; a failed run
leaves ``<path>.partial`` with ``status=failed`` and everything written up to its last chunk.
Layout (SONATA where SONATA has a convention)::

    /spikes/<pop>/timestamps, node_ids      sorted by time (group attr sorting = by_time)
    /report/<pop>/<var>/data                [T_rec, N_rec], attr units
    /report/<pop>/<var>/mapping/node_ids, time = (start, stop, step)
    /neurons/<pop>/<key>                    per-neuron values that vary across neurons
    /state/<pop>/<var>                      final state (see :mod:`spikesim.io.resume`)
    /init/<pop>/<var>                       initial state, for a run continued from another

A hard kill (SIGKILL, a node dying) leaves ``<path>.partial`` as it was at its last flush: the
end of the last chunk written, with ``status=running``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

import h5py
import numpy as np
import yaml

from .._version import __version__
from ..config.preflight import partial_path
from ..config.quantities import config_units

MAGIC = 0x0A7A
FORMAT_VERSION = (0, 1)
SORTING = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")


def versions() -> dict[str, str]:
    import jax
    import jaxlib

    return {"spikesim_version": __version__, "jax_version": jax.__version__,
            "jaxlib_version": jaxlib.__version__, "numpy_version": np.__version__,
            "h5py_version": h5py.__version__, "python_version": platform.python_version()}


class Writer:
    """Streams one run into ``<path>.partial``."""

    #: spikes per HDF5 chunk of the spike datasets (512 KiB of timestamps, as many of ids)
    SPIKE_CHUNK = 1 << 16
    #: spikes collected before a write to the file: a whole number of chunks (4 MiB of
    #: timestamps and ids)
    SPIKE_BUFFER = 4 * SPIKE_CHUNK

    def __init__(self, plan, device_name: str, start=None):
        self.plan = plan
        self.path = Path(plan.output)
        self.partial = partial_path(self.path)
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self.f = h5py.File(self.partial, "w")
        self.pop = plan.population
        self._units = config_units(yaml.safe_load(plan.config_yaml))
        self.rows_written = 0
        # allocated once (see spikes())
        size = -(-self.SPIKE_BUFFER // self.SPIKE_CHUNK) * self.SPIKE_CHUNK
        self._buf_t = np.empty(size, np.float64)
        self._buf_i = np.empty(size, np.uint64)
        self._buf_steps = np.empty(size, np.int64)
        self._buf_n = 0
        self._buf_at = 0  # position in the datasets of the buffer's first spike (see spikes())
        self._buf_kept = 0  # spikes at the head of the buffer that are in the file already
        self._attrs(device_name)
        self._layout()
        if start is not None:
            self.f.attrs["init_from"] = start.source
            self.f.attrs["t_start"] = start.time
            self.f.attrs["step_start"] = start.step
            self._state("init", {**start.y, **start.synapses}, start.inputs, start.step,
                        start.time)
        self.f.flush()

    # -- structure ----------------------------------------------------------------------
    def _attrs(self, device_name):
        plan, a = self.plan, self.f.attrs
        a["magic"] = np.uint32(MAGIC)
        a["version"] = np.asarray(FORMAT_VERSION, np.uint32)
        for k, v in versions().items():
            a[k] = v
        a["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        a["status"] = "running"
        a["config"] = plan.config_yaml
        a["name"] = plan.name
        a["model"] = plan.model.name
        a["population"] = self.pop
        a["n_neurons"] = plan.n
        a["dt"] = plan.dt
        a["duration"] = plan.duration
        a["n_steps"] = plan.n_steps
        a["integrator"] = plan.integrator
        a["precision"] = plan.precision
        a["spike_timing"] = plan.spike_timing
        a["device"] = device_name
        a["seed"] = plan.seed
        a["current_unit"] = plan.model.current_unit
        # the unit of every key of the config that has one (SPEC section 4), as JSON
        a["units"] = json.dumps({"dt": "ms", "duration": "ms", "t_start": "ms",
                                 **self._units})
        a["steps_done"] = 0
        a["t_start"] = 0.0  # absolute time of step 0 (> 0 for a run continued with --init-from)
        a["step_start"] = 0
        a["compile_seconds"] = np.nan
        a["run_seconds"] = np.nan
        for k, v in plan.attrs.items():
            a[k] = v

    def _layout(self):
        plan, rec = self.plan, self.plan.record
        if rec.spikes:
            g = self.f.create_group(f"spikes/{self.pop}")
            g.attrs.create("sorting", 2, dtype=SORTING)
            ts = g.create_dataset("timestamps", (0,), np.float64, maxshape=(None,),
                                  chunks=(self.SPIKE_CHUNK,))
            ts.attrs["units"] = "ms"
            g.create_dataset("node_ids", (0,), np.uint64, maxshape=(None,),
                             chunks=(self.SPIKE_CHUNK,))
        self.reports = {}
        n_rec = len(rec.neurons)
        dtype = np.float64 if plan.precision == "float64" else np.float32
        step_ms = rec.every * plan.dt
        for var in rec.variables:
            g = self.f.create_group(f"report/{self.pop}/{var}")
            rows = max(1, min(rec.n_rows, max(1, (1 << 20) // max(1, n_rec))))
            cols = max(1, min(n_rec, (1 << 20) // rows))
            if n_rec:
                d = g.create_dataset("data", (0, n_rec), dtype, maxshape=(rec.n_rows, n_rec),
                                     chunks=(rows, cols), compression=plan.compression)
            else:  # a shard with none of the recorded neurons: all its rows, no columns
                d = g.create_dataset("data", (rec.n_rows, 0), dtype)
            d.attrs["units"] = self._unit(var)
            m = g.create_group("mapping")
            m.create_dataset("node_ids", data=rec.neurons.astype(np.uint64))
            start = rec.start_step * plan.dt
            m.create_dataset("time", data=np.asarray(
                [start, start + rec.n_rows * step_ms, step_ms], np.float64))
            m["time"].attrs["units"] = "ms"
            self.reports[var] = d
        g = self.f.create_group(f"neurons/{self.pop}")
        g.attrs["size"] = plan.size
        g.attrs["n"] = plan.n
        for key, values in plan.varying.items():
            d = g.create_dataset(key, data=np.asarray(values, np.float64))
            if key in self._units:
                d.attrs["units"] = self._units[key]
        if plan.combination is not None:
            g.create_dataset("combination", data=plan.combination.astype(np.uint64))
            axes = g.create_group("sweep")
            for axis, values in plan.sweep_axes.items():
                d = axes.create_dataset(axis, data=np.asarray(values, np.float64))
                if axis in self._units:
                    d.attrs["units"] = self._units[axis]

    def _unit(self, var: str) -> str | None:
        """Unit of a recorded or stored variable: a state variable's, the model's current
        unit for ``input``, a synaptic variable's (its protocol's)."""
        model = self.plan.model
        if var == "input":
            return model.current_unit
        if var in model.states:
            return model.states[var].unit
        for i, (proto, _) in enumerate(self.plan.inputs):
            if proto.synaptic and proto.variable(i) == var:
                return proto.unit(model.current_unit)
        return None

    # -- streaming ----------------------------------------------------------------------
    def spikes(self, steps: np.ndarray, ids: np.ndarray, offsets: np.ndarray | None = None):
        """Append spikes (in step order, or with ``offsets`` whole blocks in block order); a
        spike's timestamp is the end of the step in which it crossed, or with ``offsets``
        (precise timing) the step's start plus the offset in ms, the piece then sorted by
        time (stable: at equal times in the order given, by neuron within a step). They
        are collected in a fixed buffer and reach the file in large writes (when the buffer
        fills, and at every :meth:`progress`): the runner hands them over a few blocks at a
        time, and one HDF5 resize and write per piece would cost more than the decoding.

        The buffer always starts on a chunk boundary of the datasets, so that it reaches the
        file as whole chunks written directly (``write_direct_chunk``: no copy through
        HDF5's chunk cache, half the time of a dataset write). A flush that ends inside a
        chunk (at the end of a simulation chunk) writes that chunk's new spikes with a
        dataset write and keeps the chunk's spikes at the head of the buffer; once complete,
        the chunk is written again, whole."""
        if not self.plan.record.spikes or steps.size == 0:
            return
        if offsets is not None:
            times = steps * self.plan.dt + offsets.astype(np.float64)
            if not np.all(times[1:] >= times[:-1]):  # e.g. a synchronous population's are
                order = np.argsort(times, kind="stable")
                times, ids = times[order], ids[order]
            self._append(times, ids)
            return
        for src, sl in self._slots(steps.size):
            take = src.stop - src.start
            np.add(steps[src], 1, out=self._buf_steps[:take])
            np.multiply(self._buf_steps[:take], self.plan.dt, out=self._buf_t[sl])
            self._buf_i[sl] = ids[src]

    @property
    def n_spikes(self) -> int:
        """Spikes handed over so far (in the file or in the buffer)."""
        return self._buf_at + self._buf_n

    def _append(self, times: np.ndarray, ids: np.ndarray):
        """Append timestamps already computed (precise timing) through the same buffer."""
        for src, sl in self._slots(times.size):
            self._buf_t[sl] = times[src]
            self._buf_i[sl] = ids[src]

    def _slots(self, n: int):
        """Where ``n`` new spikes go: ``(slice of the new spikes, slice of the buffer)``
        pieces, the buffer flushed whenever it is full; each piece counts as filled once the
        caller has written it."""
        at = 0
        while at < n:
            if self._buf_n == self._buf_t.size:
                self._flush_spikes()
            take = min(n - at, self._buf_t.size - self._buf_n)
            yield slice(at, at + take), slice(self._buf_n, self._buf_n + take)
            self._buf_n += take
            at += take

    def _flush_spikes(self):
        n, kept, at = self._buf_n, self._buf_kept, self._buf_at
        if n == kept:  # nothing new since the last flush
            return
        g = self.f[f"spikes/{self.pop}"]
        C = self.SPIKE_CHUNK
        whole = n // C * C  # spikes in whole chunks
        new_tail = max(kept, whole)  # the first spike of a last, partial chunk not yet written
        for name, buf in (("timestamps", self._buf_t), ("node_ids", self._buf_i)):
            d = g[name]
            d.resize((at + n,))
            for j in range(0, whole, C):
                d.id.write_direct_chunk((at + j,), buf[j:j + C])
            if n > new_tail:
                d[at + new_tail:at + n] = buf[new_tail:n]
            if whole:
                buf[:n - whole] = buf[whole:n]
        self._buf_at += whole
        self._buf_n = self._buf_kept = n - whole

    def samples(self, rows: dict[str, np.ndarray]):
        """Append report rows ``{var: [rows, N_rec]}`` (all variables the same rows)."""
        n = None
        for var, data in rows.items():
            d = self.reports[var]
            n = data.shape[0]
            if d.shape[1] == 0:
                continue
            d.resize((self.rows_written + n, d.shape[1]))
            d[self.rows_written:] = data
        self.rows_written += n or 0

    def progress(self, steps_done: int):
        """Everything up to ``steps_done`` is in the file: flush the spikes, mark, flush."""
        self._flush_spikes()
        self.f.attrs["steps_done"] = steps_done
        self.f.flush()

    def final_state(self, y: dict[str, np.ndarray], inputs=None, step: int = 0,
                    time: float = 0.0):
        """The state at the end of the run: what ``--init-from`` continues from. ``inputs``
        maps a random protocol's index to (type, leaves of its state); ``step`` and ``time``
        count from the start of the first run of a chain of continued runs."""
        self._state("state", y, inputs or {}, step, time)

    def _state(self, group, y, inputs, step, time):
        g = self.f.require_group(f"{group}/{self.pop}")
        g.attrs["step"] = int(step)
        g.attrs["time"] = float(time)
        for var, values in y.items():
            d = g.create_dataset(var, data=np.asarray(values))
            unit = self._unit(var)
            if unit is not None:
                d.attrs["units"] = unit
        for i, (kind, leaves) in inputs.items():
            gi = g.create_group(f"inputs/{i}")
            gi.attrs["type"] = kind
            for j, leaf in enumerate(leaves):
                gi.create_dataset(str(j), data=np.asarray(leaf))

    def close(self, status: str, note: str = "", **timings):
        """Mark the file ``complete`` (and rename it into place) or ``failed`` (kept as
        ``.partial``). Returns the path of the file left on disk."""
        try:
            a = self.f.attrs
            a["status"] = status
            if note:
                a["note"] = note
            for k, v in timings.items():
                a[k] = v
            self.f.flush()
        finally:  # even when the disk is full: release the file, keep what is on disk
            self.f.close()
        if status == "complete":
            os.replace(self.partial, self.path)
            return self.path
        return self.partial
