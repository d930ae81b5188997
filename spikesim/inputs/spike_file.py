"""``spike_file``: given presynaptic spike times through an exponential synapse, streamed.

The file holds spike times in ms from the start of the run, in increasing order: one column
(one train shared by every neuron) or two, ``(time, neuron)`` pairs with the index of the
receiving neuron within the population (``0 .. population.size - 1``; in a sweep every
combination gets the same trains). ``.npy`` files are memory-mapped and each chunk's events
are found by binary search, so only the events of the current chunk's time window are read;
``.csv`` files (comma-separated, one optional header line) are read into host memory once.
The device only ever holds one chunk's window of event counts (``window``).

Events arrive at step boundaries: a time is rounded to the nearest step (``spikesim validate``
and ``run`` say how many were moved, and by how much at most); times at or after the end of
the run are ignored.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, PrivateAttr

from ..lazyjax import jnp
from .file import read_samples
from .synapse import Synapse

#: rows of the file checked at a time (a memory-mapped file is read block by block)
_BLOCK = 1 << 16


def steps_of(times, dt: float) -> np.ndarray:
    """The step boundary each time falls on: the nearest (halves round up)."""
    return np.floor(np.asarray(times, np.float64) / dt + 0.5).astype(np.int64)


class SpikeFile(Synapse):
    """Presynaptic spikes from a ``.npy`` or ``.csv`` file (one shared train, or
    ``(time, neuron)`` pairs), each adding ``weight`` to an exponentially decaying synaptic
    variable (see :mod:`spikesim.inputs.synapse`) at the step boundary nearest to it."""

    type: Literal["spike_file"]
    path: str = Field(..., description=".npy or .csv file of spike times (ms, increasing): one "
                                       "column (a train shared by every neuron) or two, "
                                       "(time, neuron index); relative paths are relative to "
                                       "the config file's folder")
    numeric: ClassVar = ("weight", "tau", "reversal")
    streamed: ClassVar = True

    _x: np.ndarray | None = PrivateAttr(None)
    _size: int = PrivateAttr(1)
    _notes: list = PrivateAttr(default_factory=list)

    def check(self, ctx):
        out = super().check(ctx)
        path = ctx.path(self.path)
        # the resolved config (validate, the run file's config) names the file read, so that
        # run --from and analyze patterns FILE.h5, which have no config folder, find it again
        self.path = str(path.resolve())
        if not path.exists():
            return out + [("path", f"spike file not found: {path} (relative paths start from "
                                   f"the config file's folder)")]
        try:
            x = read_samples(path, empty_ok=True)
        except ValueError as e:
            return out + [("path", str(e))]
        if x.shape[1] not in (1, 2):
            return out + [("path", f"{path} has {x.shape[1]} columns; expected 1 (spike times "
                                   f"shared by every neuron) or 2 (time in ms, neuron index)")]
        problem = _scan(x, path, ctx.size)
        if problem:
            return out + [("path", problem)]
        self._x, self._size = x, ctx.size
        self._notes = _notes(x, path, ctx.dt, ctx.duration)
        return out

    def notes(self) -> list[str]:
        return list(self._notes)

    # -- streaming -------------------------------------------------------------------------
    def window_bytes(self, n_steps: int, dt: float, itemsize: int) -> int:
        cols = 1 if self._x.shape[1] == 1 else self._size
        return (n_steps + 1) * cols * itemsize

    def window(self, first_step: int, n_steps: int, dt: float, size: int, n: int, dtype,
               first_neuron: int = 0):
        """Host side: the event counts of steps ``first_step .. first_step + n_steps`` as
        extra fields ``counts`` [rows, 1 or size], ``first`` (step of row 0) and ``column``
        (each neuron's column: its global id mod ``size``)."""
        x = self._x
        times = x[:, 0]
        # a superset of the window by binary search on the times, then the exact steps
        lo = int(np.searchsorted(times, (first_step - 1) * dt, side="left"))
        hi = int(np.searchsorted(times, (first_step + n_steps + 1) * dt, side="right"))
        part = np.asarray(x[lo:hi])
        steps = steps_of(part[:, 0], dt) - first_step
        keep = (steps >= 0) & (steps <= n_steps)
        cols = 1 if x.shape[1] == 1 else size
        counts = np.zeros((n_steps + 1, cols), dtype)
        neuron = np.zeros(keep.sum(), np.int64) if cols == 1 else part[keep, 1].astype(np.int64)
        np.add.at(counts, (steps[keep], neuron), 1)
        column = ((first_neuron + np.arange(n)) % size if cols > 1 else np.zeros(n, np.int64))
        return {"counts": counts, "first": np.int64(first_step),
                "column": column.astype(np.int32)}

    def counts(self, t, f, uniform, static, dt):
        w = f["counts"]
        j = jnp.floor(t / dt + 0.5).astype(jnp.int64) - f["first"]
        row = w[jnp.clip(j, 0, w.shape[0] - 1).astype(jnp.int32)]
        return row[0] if w.shape[1] == 1 else row[f["column"]]


def _scan(x: np.ndarray, path: Path, size: int) -> str | None:
    """What is wrong with a spike file, read block by block, or None."""
    last = -np.inf
    for i in range(0, x.shape[0], _BLOCK):
        block = np.asarray(x[i:i + _BLOCK], np.float64)
        for j, what in ((0, "time"), (1, "neuron index")):
            if j >= block.shape[1]:
                continue
            bad = np.flatnonzero(~np.isfinite(block[:, j]))
            if bad.size:
                r = i + int(bad[0])
                return (f"{path}: row {r + 1} has {what} {block[bad[0], j]}; spike times and "
                        f"neuron indices must be finite numbers. Fix or drop that row")
        t = block[:, 0]
        neg = np.flatnonzero(t < 0)
        if neg.size:
            r = i + int(neg[0])
            return (f"{path}: row {r + 1} has the negative time {t[neg[0]]:g} ms; spike times "
                    f"count from the start of the run (t >= 0). Shift or drop those rows")
        prev = np.concatenate([[last], t[:-1]])
        down = np.flatnonzero(t < prev)
        if down.size:
            r = i + int(down[0])
            return (f"{path}: row {r + 1} (t = {t[down[0]]:g} ms) comes after t = "
                    f"{prev[down[0]]:g} ms; spike times must be in increasing order. Sort the "
                    f"file by time (e.g. x[np.argsort(x[:, 0], kind='stable')])")
        last = t[-1]
        if block.shape[1] == 2:
            ids = block[:, 1]
            bad = np.flatnonzero((ids != np.round(ids)) | (ids < 0) | (ids >= size))
            if bad.size:
                r = i + int(bad[0])
                return (f"{path}: row {r + 1} sends a spike to neuron {ids[bad[0]]:g}; neuron "
                        f"indices are whole numbers 0 .. {size - 1} (population.size = "
                        f"{size}, the same indices in every sweep combination)")
    return None


def _notes(x: np.ndarray, path: Path, dt: float, duration: float) -> list[str]:
    """What the run makes of the file's times: rounded to steps, some past the end."""
    moved = 0
    shift = 0.0
    for i in range(0, x.shape[0], _BLOCK):
        t = np.asarray(x[i:i + _BLOCK, 0], np.float64)
        d = np.abs(steps_of(t, dt) * dt - t)
        off = d > 1e-9 * max(1.0, duration)
        moved += int(off.sum())
        shift = max(shift, float(d.max(initial=0.0)))
    n_steps = int(math.floor(duration / dt + 1e-9))
    late = x.shape[0] - int(np.searchsorted(x[:, 0], (n_steps - 0.5) * dt, side="left"))
    out = [] if x.shape[0] else [f"{path.name} holds no spike times: this input adds nothing"]
    if moved:
        out.append(f"{path.name}: {moved} of {x.shape[0]} spike times are off the grid of "
                   f"dt = {dt:g} ms; each is applied at the nearest step (moved by up to "
                   f"{shift:.3g} ms)")
    if late:
        out.append(f"{path.name}: {late} spike time{'s' if late > 1 else ''} at or after the "
                   f"end of the run ({n_steps * dt:g} ms, after rounding) ignored")
    return out
