"""Reading a run back: ``spikesim.load(path)`` (SPEC section 3), no knowledge of the layout needed.

>>> r = spikesim.load("outputs/hh_step.h5")
>>> r.spikes[3]                 # spike times (ms) of neuron 3
>>> r.trace("v").t, r.trace("v").data   # time axis (ms) and [T, N_rec] samples

Everything is read lazily, on first use, so opening a multi-GB file costs a few attribute
reads. A file left by a failed or interrupted run (``<path>.partial``, status ``failed``) is
read the same way; ``result.complete`` is False and ``result.t_end`` says how far it got.
"""

from __future__ import annotations

import itertools
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import h5py
import numpy as np
import yaml

from ..errors import UsageError
from ..config.preflight import partial_path
from .analysis import plain_attr, read
from .writer import FORMAT_VERSION, MAGIC

#: spikes are read in blocks of this many, so memory stays bounded on any file
BLOCK = 1 << 22


def unreadable(path: Path, e: OSError, fix: str = "; copy it again") -> str:
    """Why h5py could not open ``path``, in words: a file cut short (an interrupted copy or
    download; spikesim itself renames a file only once it is complete) is told apart from
    one that is not HDF5 at all."""
    m = re.search(r"truncated file: eof = (\d+).*stored_eof = (\d+)", str(e))
    if m:
        return (f"{path} is truncated: {int(m[1]):,} of its {int(m[2]):,} bytes are there "
                f"(a copy or download cut short){fix}")
    if "file signature not found" in str(e):
        return f"{path} is not an HDF5 file (no HDF5 signature)"
    return f"{path} is not a readable HDF5 file ({e})"


def resolve_path(path: str | Path, option: str = "") -> Path:
    """``path`` itself, or ``<path>.partial`` when only the partial file of a run that did not
    complete exists. UsageError when neither is a spikesim file; ``option`` (``--from``,
    ``--init-from``, ``analyze patterns``) names in the message where the path was given."""
    at = f"{option} " if option else ""
    p = Path(path)
    if not p.exists():
        part = partial_path(p)
        if part.exists():
            return part
        raise UsageError(f"{at}{p}: no such file (nor {part.name})")
    if p.is_dir():
        if (p / "manifest.json").is_file():  # a sharded run's folder
            raise UsageError(f"{at}{p} is the folder of a sharded run; merge its shards into "
                             f"one file first (`spikesim merge {p} -o FILE.h5`), or give one "
                             f"shard's .h5 file")
        raise UsageError(f"{at}{p}: is a folder; give the .h5 file of a run")
    if not p.is_file():  # HDF5 seeks; a FIFO would also block until something writes to it
        raise UsageError(f"{at}{p}: not a regular file (a pipe or a device?); HDF5 reads a "
                         f"run from a file on disk: save it to one and give its path")
    try:
        with h5py.File(p, "r") as f:
            magic = f.attrs.get("magic")
    except OSError as e:
        raise UsageError(at + unreadable(p, e)) from None
    if not isinstance(magic, (int, np.integer)) or int(magic) != MAGIC:
        raise UsageError(f"{at}{p} is an HDF5 file but not a spikesim output (no magic "
                         f"0x0A7A attribute)")
    return p


def _raised_by_h5py(e: BaseException) -> bool:
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and "h5py" in tb.tb_frame.f_code.co_filename


@contextmanager
def damaged(what: str, fix: str = "run its config again to remake it"):
    """h5py's errors on a file whose layout is damaged (an object missing, data that cannot
    be read: a file cut short, a disk error, a hand edit) as a UsageError naming ``what``
    was being read and ``fix``, not a traceback. Errors of other origins pass through."""
    try:
        yield
    except (KeyError, OSError) as e:
        detail = str(e.args[0] if isinstance(e, KeyError) and e.args else e)
        # reading, not writing (a full disk while writing the output is no damaged input)
        if not _raised_by_h5py(e) or not ("read" in detail or "open object" in detail):
            raise
        raise UsageError(f"{what} is damaged: HDF5 cannot read part of it ({detail}); "
                         f"{fix}") from None


#: the root attributes every reader of a run's file relies on, and their types
_REQUIRED = {"config": str, "name": str, "model": str, "population": str, "n_neurons": int,
             "dt": float, "duration": float, "status": str}


def _read_root(path: Path, a: dict) -> dict:
    """The run's config from a file's root attributes ``a``, once they are checked: a
    UsageError saying what makes them unreadable (or that a newer format wrote them)."""
    v = a.get("version")
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)):
        problem = f"its format version (attribute version) is {v!r}, not two numbers"
    elif tuple(v) > FORMAT_VERSION:
        have = ".".join(map(str, FORMAT_VERSION))
        raise UsageError(f"{path} is a spikesim file that cannot be read: it is in format "
                         f"{v[0]}.{v[1]}, newer than this spikesim reads ({have}); upgrade "
                         f"spikesim to read it")
    else:
        problem = _type_problem(a)
    if problem is None:
        try:
            config = yaml.safe_load(a["config"])
        except yaml.YAMLError as e:
            problem = f"its attribute 'config' is not YAML ({str(e).splitlines()[0]})"
        else:
            if isinstance(config, dict):
                return config
            problem = "its attribute 'config' is not a config (a YAML mapping)"
    raise UsageError(f"{path} is a spikesim file that cannot be read: {problem}. Run its "
                     f"config again to remake it")


def _type_problem(a: dict) -> str | None:
    for k, kind in _REQUIRED.items():
        if k not in a:
            return f"it has no attribute {k!r}"
        val = a[k]
        ok = isinstance(val, (int, float)) and not isinstance(val, bool) if kind is float \
            else isinstance(val, kind) and not isinstance(val, bool)
        if not ok:
            return f"its attribute {k!r} is {val!r}, not a {kind.__name__}"
    return None


@dataclass
class Spikes:
    """Spikes of a population, sorted by time: ``t`` (ms) and ``ids`` (neuron ids) are flat
    arrays of the same length; ``spikes[i]`` gives neuron ``i``'s spike times."""

    t: np.ndarray
    ids: np.ndarray
    n: int  # neurons in the population

    def __len__(self) -> int:
        return self.t.size

    def __getitem__(self, neuron: int) -> np.ndarray:
        return self.times[neuron]

    @cached_property
    def times(self) -> list[np.ndarray]:
        """Spike times (ms) of every neuron, a list of ``n`` arrays."""
        order = np.argsort(self.ids, kind="stable")  # stable: times stay sorted
        bounds = np.searchsorted(self.ids[order], np.arange(self.n + 1))
        ts = self.t[order]
        return [ts[bounds[i]:bounds[i + 1]] for i in range(self.n)]

    @cached_property
    def counts(self) -> np.ndarray:
        """Spikes of every neuron, ``[n]``."""
        return np.bincount(self.ids.astype(np.int64), minlength=self.n)


@dataclass
class Trace:
    """One recorded variable: ``data[j, c]`` is the value of neuron ``neurons[c]`` at time
    ``t[j]`` (ms)."""

    name: str
    t: np.ndarray
    data: np.ndarray
    neurons: np.ndarray
    units: str

    def of(self, neuron: int) -> np.ndarray:
        """The samples of one neuron (by its id in the run)."""
        col = np.searchsorted(self.neurons, neuron)
        if col >= self.neurons.size or self.neurons[col] != neuron:
            raise KeyError(f"neuron {neuron} was not recorded for {self.name!r} (recorded: "
                           f"{_ids_summary(self.neurons)})")
        return self.data[:, col]


def _ids_summary(ids: np.ndarray) -> str:
    if ids.size <= 8:
        return ", ".join(map(str, ids.tolist()))
    return f"{ids.size} neurons, {ids[0]}..{ids[-1]}"


class Result:
    """A run read back from its HDF5 file. Attributes are read at once; spikes, traces and
    per-neuron values on first use."""

    def __init__(self, path: str | Path):
        self.path = resolve_path(path)
        with h5py.File(self.path, "r") as f:
            self.attrs: dict = {k: plain_attr(v) for k, v in f.attrs.items()}
        a = self.attrs
        self.config: dict = _read_root(self.path, a)
        self.name: str = a["name"]
        self.model: str = a["model"]
        self.population: str = a["population"]
        self.n: int = a["n_neurons"]
        self.dt: float = float(a["dt"])
        self.duration: float = float(a["duration"])
        self.status: str = a["status"]
        #: time simulated and written (ms): the duration, or less for a partial file
        self.t_end: float = (self.duration if self.complete
                             else int(a.get("steps_done", 0)) * self.dt)

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def __repr__(self) -> str:
        part = "" if self.complete else f", {self.status}: partial up to {self.t_end:g} ms"
        return (f"<spikesim result {self.name!r}: {self.model}, {self.n} neurons, "
                f"{self.duration:g} ms{part}; {self.path}>")

    def _open(self):
        return h5py.File(self.path, "r")

    # -- spikes -------------------------------------------------------------------------
    @cached_property
    def spikes(self) -> Spikes:
        """All spikes (empty when spikes were not recorded)."""
        with self._open() as f:
            g = f.get(f"spikes/{self.population}")
            if g is None:
                return Spikes(np.zeros(0), np.zeros(0, np.int64), self.n)
            return Spikes(g["timestamps"][:], g["node_ids"][:].astype(np.int64), self.n)

    @property
    def spikes_recorded(self) -> bool:
        with self._open() as f:
            return f"spikes/{self.population}" in f

    def spikes_between(self, t0: float, t1: float) -> Spikes:
        """Spikes with t0 <= t < t1, found by bisection on the time-sorted file (reads only
        that window)."""
        with self._open() as f:
            g = f.get(f"spikes/{self.population}")
            if g is None:
                return Spikes(np.zeros(0), np.zeros(0, np.int64), self.n)
            ts = g["timestamps"]
            i0, i1 = _bisect(ts, t0), _bisect(ts, t1)
            return Spikes(ts[i0:i1], g["node_ids"][i0:i1].astype(np.int64), self.n)

    # -- reports ------------------------------------------------------------------------
    @cached_property
    def variables(self) -> list[str]:
        """Recorded variables, in the config's order."""
        with self._open() as f:
            g = f.get(f"report/{self.population}")
            names = list(g) if g is not None else []
        order = (self.config.get("record") or {}).get("variables") or []
        return [v for v in order if v in names] + [v for v in names if v not in order]

    def trace(self, var: str, neurons=None, t0: float | None = None,
              t1: float | None = None) -> Trace:
        """Samples of ``var`` with their time axis; optionally only some recorded neurons
        (ids) and the rows with t0 <= t <= t1. Reads only the rows and columns asked for."""
        if var not in self.variables:
            raise KeyError(f"{var!r} was not recorded; recorded: {self.variables or 'none'}")
        with self._open() as f:
            g = f[f"report/{self.population}/{var}"]
            d = g["data"]
            ids = g["mapping/node_ids"][:].astype(np.int64)
            start, _, step = g["mapping/time"][:]
            rows = d.shape[0]
            t = start + step * np.arange(rows)
            r0 = 0 if t0 is None else int(np.searchsorted(t, t0 - 1e-9 * step))
            r1 = rows if t1 is None else int(np.searchsorted(t, t1 + 1e-9 * step, "right"))
            r1 = max(r0, r1)
            if neurons is None:
                cols = slice(None)
                sel = ids
            else:
                sel = np.asarray(sorted(set(int(i) for i in np.atleast_1d(neurons))), np.int64)
                cols = np.searchsorted(ids, sel)
                missing = sel[(cols >= ids.size) | (ids[np.minimum(cols, ids.size - 1)] != sel)]
                if missing.size:
                    raise KeyError(f"neurons {missing.tolist()} were not recorded for {var!r} "
                                   f"(recorded: {_ids_summary(ids)})")
                cols = cols.tolist()
            data = d[r0:r1, cols] if r1 > r0 else np.zeros((0, len(sel)), d.dtype)
            return Trace(var, t[r0:r1], data, sel, plain_attr(d.attrs.get("units", "")))

    @property
    def traces(self) -> dict[str, Trace]:
        """Every recorded variable (reads them all: prefer ``trace(var, ...)`` on big files)."""
        return {v: self.trace(v) for v in self.variables}

    # -- neurons ------------------------------------------------------------------------
    @cached_property
    def neurons(self) -> dict[str, np.ndarray]:
        """Per-neuron table as columns of length ``n``: ``id``, every value that varies across
        neurons by its dotted config key (``model.params.g_K``, ``input.amplitude``...), and
        ``combination`` for a sweep. ``pandas.DataFrame(result.neurons)`` makes it a table;
        values the same for every neuron are in ``result.config``."""
        cols = {"id": np.arange(self.n)}
        with self._open() as f:
            g = f.get(f"neurons/{self.population}")
            if g is not None:
                for k, d in g.items():
                    if isinstance(d, h5py.Dataset):
                        cols[k] = d[:]
        if "combination" in cols:
            cols["combination"] = cols["combination"].astype(np.int64)
        return cols

    @cached_property
    def sweep(self) -> dict[str, np.ndarray]:
        """Sweep axes (config key -> values), in the config's order; empty without a sweep."""
        spec = self.config.get("sweep") or {}
        with self._open() as f:
            g = f.get(f"neurons/{self.population}/sweep")
            if g is None:
                return {}
            stored = {k: g[k][:] for k in g}
        order = list((spec.get("axes") or {}).keys())
        return {k: stored[k] for k in order + [k for k in stored if k not in order]
                if k in stored}

    @cached_property
    def combinations(self) -> dict[str, np.ndarray]:
        """Value of every sweep axis for each combination (axis -> [combinations]); the
        neurons of combination c are ``c*size .. (c+1)*size - 1``."""
        axes = self.sweep
        if not axes:
            return {}
        mode = (self.config.get("sweep") or {}).get("mode", "grid")
        combos = (list(zip(*axes.values())) if mode == "zip"
                  else list(itertools.product(*axes.values())))
        return {k: np.asarray([c[i] for c in combos]) for i, k in enumerate(axes)}

    @property
    def size(self) -> int:
        """Neurons per sweep combination (``population.size``)."""
        return int((self.config.get("population") or {}).get("size") or self.n)

    def to_neo(self):
        """The run as a NEO Block: a SpikeTrain per neuron, an AnalogSignal per recorded
        variable (needs the extra ``.[neo]``; see :mod:`spikesim.io.neo`)."""
        from .neo import to_neo

        return to_neo(self)

    @cached_property
    def analysis(self) -> dict:
        """The analyses the file holds (``spikesim analyze``): kind -> :class:`Analysis`,
        whose ``[name]`` is a per-neuron array (``.units[name]``, ``.attrs``); empty for a
        plain run."""
        return read(self.path)

    @cached_property
    def final_state(self) -> dict[str, np.ndarray]:
        """Final value of every state variable (empty for a partial file)."""
        with self._open() as f:
            g = f.get(f"state/{self.population}")
            return {k: g[k][:] for k in g} if g is not None else {}


def _bisect(ds, value: float) -> int:
    """First index i of the sorted 1-d dataset ``ds`` with ds[i] >= value, reading
    O(log n) single elements."""
    lo, hi = 0, ds.shape[0]
    while hi - lo > 4096:
        mid = (lo + hi) // 2
        if ds[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo + int(np.searchsorted(ds[lo:hi], value, "left"))


def load(path: str | Path) -> Result:
    """Open the HDF5 file of a run (or the ``.partial`` file a failed run left)."""
    return Result(path)
