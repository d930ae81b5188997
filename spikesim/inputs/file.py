"""``file``: a current read from samples on disk, streamed chunk by chunk.

The file holds samples ``x[j]`` at times ``j * dt_file`` (j = 0 .. M-1): one column (every
neuron gets it) or one column per neuron (``population.size`` columns; in a sweep every
combination gets the same columns). ``.npy`` files are memory-mapped, so only the samples of
the current chunk's time window are read; ``.csv`` files (comma-separated numbers, one optional
header line) are read into host memory once. Either way the device only ever holds one
chunk's window (``window``), never the whole file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar, Literal

from ..lazyjax import jnp
import numpy as np
from pydantic import Field, PrivateAttr

from ..core.fields import Float, PerNeuron
from ..core.units import Quantity
from .base import TIME_SLACK, Protocol


def read_samples(path: Path, empty_ok: bool = False) -> np.ndarray:
    """Samples as a 2-D array [M, columns]; ``.npy`` memory-mapped. Raises ValueError with a
    message fit for the user. ``empty_ok``: no rows is a valid file (a spike file without
    spikes)."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        x = _read_npy(path)
    elif suffix == ".csv":
        try:
            x = _read_csv(path)
        except (OSError, UnicodeDecodeError) as e:
            raise ValueError(f"cannot read {path}: {e}") from None
    else:
        raise ValueError(f"{path}: expected a .npy or .csv file, got {suffix or 'no suffix'!r}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or (x.shape[0] == 0 and not empty_ok) or x.shape[1] == 0:
        raise ValueError(f"{path}: expected samples as rows (one column, or one per neuron), "
                         f"got an array of shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"{path}: expected real numbers, got dtype {x.dtype}")
    return x


def _read_npy(path: Path) -> np.ndarray:
    """A ``.npy`` file memory-mapped; ValueError with a message fit for the user."""
    try:
        with open(path, "rb") as f:
            magic = f.read(len(np.lib.format.MAGIC_PREFIX))
        # without NumPy's header np.load falls back to unpickling, and its message then
        # advises allow_pickle, which is no fix for a file that is not a .npy at all
        x = np.load(path, mmap_mode="r", allow_pickle=False) if (
            magic == np.lib.format.MAGIC_PREFIX) else None
    except OSError as e:
        raise ValueError(f"cannot read {path} as a .npy array ({e})") from None
    except ValueError as e:
        if "Python objects" not in str(e):
            raise ValueError(f"cannot read {path} as a .npy array ({e})") from None
        raise ValueError(f"{path} holds Python objects, not numbers: save a numeric array, "
                         "e.g. numpy.save(path, numpy.asarray(x, float))") from None
    if x is None:
        raise ValueError(f"{path} is not a .npy file (it does not start with NumPy's header): "
                         "write the samples with numpy.save, or as a .csv file")
    return x


def _read_csv(path: Path) -> np.ndarray:
    lines = path.read_text().splitlines()
    rows = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        cells = line.split(",")
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            if i == 0 and not rows and not _numbers(line):  # a header line
                continue
            raise ValueError(f"{path}:{i + 1}: expected comma-separated numbers, got "
                             f"{line.strip()[:60]!r}") from None
        if len(rows[-1]) != len(rows[0]):
            raise ValueError(f"{path}:{i + 1}: {len(rows[-1])} columns, but the first row has "
                             f"{len(rows[0])}")
    return np.asarray(rows, float).reshape(len(rows), -1 if rows else 1)


def _numbers(line: str) -> bool:
    """True for a line of numbers only, split by other separators than commas (tabs,
    semicolons, spaces): data in another dialect, not a header to skip (a one-line file
    read as a header was an empty file)."""
    cells = line.replace(";", " ").replace(",", " ").split()
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return len(cells) > 1


#: finest sampling accepted, in samples per step of the run: finer samples are never read
#: (the current is evaluated at the integrator's stages) but each chunk's window holds them
MAX_SAMPLES_PER_STEP = 1000


def _first_nonfinite(x: np.ndarray, rows: int = 1 << 16):
    """(row, column) of the first NaN or infinite sample, or None; reads a memory-mapped
    file block by block so that memory stays bounded."""
    if np.issubdtype(x.dtype, np.integer):
        return None
    for i in range(0, x.shape[0], rows):
        block = np.asarray(x[i:i + rows])
        bad = np.argwhere(~np.isfinite(block))
        if bad.size:
            return (i + int(bad[0][0]), int(bad[0][1]))
    return None


class File(Protocol):
    """Samples from a ``.npy`` or ``.csv`` file, sample j at ``t = j * dt``, times ``scale``.
    ``interpolation: hold`` keeps sample j over ``[j dt, (j+1) dt)``; ``linear`` joins
    consecutive samples by straight lines. A file longer than the run is read only as far as
    the run goes. What happens past its end is ``after``: ``error`` (the default) refuses a
    file that does not cover the whole run; ``zero``, ``hold`` (keep the last sample) and
    ``repeat`` (loop the file; with ``linear`` the last sample joins the first) are the
    explicit alternatives."""

    type: Literal["file"]
    path: str = Field(..., description=".npy or .csv file of samples (rows = times; one column, "
                                       "or one per neuron); relative paths are relative to "
                                       "the config file's folder")
    dt: Float = Field(..., gt=0, json_schema_extra=Quantity("ms"),
                      description="time between samples, ms (need not be the run's)")
    interpolation: Literal["hold", "linear"] = Field(
        "hold", description="hold: sample j over [j dt, (j+1) dt); linear: straight lines "
                            "between samples")
    after: Literal["error", "zero", "hold", "repeat"] = Field(
        "error", description="past the file's end: error (refuse a file shorter than the run) "
                             "| zero | hold (last sample) | repeat (loop the file)")
    scale: PerNeuron = Field(1.0, json_schema_extra=Quantity("1"),
                             description="factor applied to the samples (e.g. to convert "
                                         "units)")
    numeric: ClassVar = ("scale",)
    streamed: ClassVar = True

    _samples: np.ndarray | None = PrivateAttr(None)
    _resolved: Path | None = PrivateAttr(None)

    def covers(self, n_samples: int) -> float:
        """Time (ms) up to which ``n_samples`` samples define the current."""
        return (n_samples if self.interpolation == "hold" else n_samples - 1) * self.dt

    def check(self, ctx):
        path = ctx.path(self.path)
        # the resolved config (validate, the run file's config) names the file read, so that
        # run --from and analyze patterns FILE.h5, which have no config folder, find it again
        self.path = str(path.resolve())
        if not path.exists():
            return [("path", f"input file not found: {path} (relative paths start from the "
                             f"config file's folder)")]
        try:
            x = read_samples(path)
        except ValueError as e:
            return [("path", str(e))]
        m, cols = x.shape
        if cols not in (1, ctx.size):
            return [("path", f"{path} has {cols} columns; expected 1 (the same current for every "
                             f"neuron) or population.size = {ctx.size} (one per neuron)")]
        bad = _first_nonfinite(x)
        if bad is not None:
            return [("path", f"{path}: sample {bad[0]} (row {bad[0] + 1}), column {bad[1]} is "
                             f"{float(x[bad])}; input samples must be finite numbers. Fix or drop "
                             f"that row")]
        if self.dt < ctx.dt / MAX_SAMPLES_PER_STEP:
            return [("dt", f"samples every {self.dt:g} ms are {ctx.dt / self.dt:.3g} per step of "
                           f"{ctx.dt:g} ms; the run reads one per integrator stage, so at most "
                           f"{MAX_SAMPLES_PER_STEP} per step are accepted. Resample the file "
                           f"(or check that dt is in ms)")]
        if self.interpolation == "linear" and m < 2:
            return [("interpolation", "linear interpolation needs at least 2 samples; "
                                      "use interpolation: hold")]
        end = self.covers(m)
        if self.after == "error" and end < ctx.duration - 1e-9:
            return [("after", f"{path} covers {end:g} ms ({m} samples of {self.dt:g} ms, "
                              f"{self.interpolation}) but the run lasts {ctx.duration:g} ms. "
                              f"Choose what happens after its end: after: zero | hold | "
                              f"repeat, or shorten simulation.duration")]
        self._samples, self._resolved = x, path
        return []

    # -- streaming -------------------------------------------------------------------------
    def window_rows(self, n_steps: int, dt: float) -> int:
        """Rows in the window of a chunk of ``n_steps`` steps (static: one compilation)."""
        return int(math.ceil(n_steps * dt / self.dt)) + 3

    def window_bytes(self, n_steps: int, dt: float, itemsize: int) -> int:
        return self.window_rows(n_steps, dt) * self._samples.shape[1] * itemsize

    def window(self, first_step: int, n_steps: int, dt: float, size: int, n: int, dtype,
               first_neuron: int = 0):
        """Host side: the samples a chunk starting at step ``first_step`` can need, with the
        past-the-end rule applied, as extra fields ``window`` [rows, cols], ``first`` (file
        index of row 0) and ``column`` (each neuron's column: its global id, counted from
        ``first_neuron`` in a shard, mod ``size``)."""
        x, m = self._samples, self._samples.shape[0]
        first = int(math.floor((first_step * dt + TIME_SLACK) / self.dt))
        idx = first + np.arange(self.window_rows(n_steps, dt))
        sel = idx % m if self.after == "repeat" else np.minimum(idx, m - 1)
        rows = np.asarray(x[sel], dtype)  # on a memory-mapped .npy this reads these rows only
        if self.after == "zero":
            rows[idx >= m] = 0
        # after == "error": only the run's very end (t = duration, the last sample and the
        # last RK stage) can reach past the end; it sees the last sample
        column = ((first_neuron + np.arange(n)) % size) if x.shape[1] > 1 else np.zeros(n, np.int64)
        return {"window": rows, "first": np.int64(first), "column": column.astype(np.int32)}

    def current(self, t, f, s):
        w = f["window"]
        # sample index and fraction from t alone (not from the window's offset), so the
        # value at t is bit-identical whatever the chunking
        pos = t / self.dt
        # the slack in ms, as on every protocol's edges: the left limit an integrator stage
        # at a step's end reads (models.drive.END_OF_STEP) is then the sample before an edge
        g = jnp.floor((t + TIME_SLACK) / self.dt)
        j = jnp.clip(g.astype(jnp.int64) - f["first"], 0, w.shape[0] - 2).astype(jnp.int32)
        if jnp.ndim(t) > 0:
            # one time per neuron (the sub-steps of precise spike timing): each neuron reads
            # its own row and column
            col = f["column"]
            value = w[j, col]
            if self.interpolation != "hold":
                frac = jnp.clip(pos - g, 0.0, 1.0).astype(w.dtype)
                value = value * (1 - frac) + w[j + 1, col] * frac
            return f["scale"] * value
        if self.interpolation == "hold":
            row = w[j]
        else:
            frac = jnp.clip(pos - g, 0.0, 1.0).astype(w.dtype)
            row = w[j] * (1 - frac) + w[j + 1] * frac
        value = row[0] if w.shape[1] == 1 else row[f["column"]]
        return f["scale"] * value
