"""``/analysis/<kind>/`` of an analysis file read back (``spikesim.load(path).analysis``):
one dataset per result with its ``units`` and ``dims``, the group's attrs. Written by
:func:`spikesim.analysis.store.write`, which names the dimensions by :func:`dataset_dims`."""

from __future__ import annotations

from dataclasses import dataclass, field

import h5py
import numpy as np

def plain_attr(value):
    """An HDF5 attribute value as plain Python (str, int, float, list)."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


#: the ``AXES`` of the analyses (fi, prc, dt) when their files had no ``dims`` attribute
#: (spikesim before 2026-12-07): a file of that time is read by the rule it was written by
_AXES_BEFORE_DIMS = {"fi": ("amplitude",), "prc": ("phase",), "dt": ("dt",)}


@dataclass
class Analysis:
    """One analysis read back: ``data[name]`` arrays, their ``units``, the group's ``attrs``.
    ``analysis["rheobase"]`` is ``analysis.data["rheobase"]``."""

    kind: str
    data: dict[str, np.ndarray]
    units: dict[str, str] = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    #: name -> its dimensions: ("neuron",), ("neuron", "amplitude") or ("amplitude",)
    dims: dict[str, tuple] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name]

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def keys(self):
        return self.data.keys()

    def __iter__(self):  # without it, `for name in analysis` asked for analysis[0]: KeyError
        return iter(self.data)


def read(path) -> dict[str, Analysis]:
    """Every analysis in the file (kind -> :class:`Analysis`); empty for a plain run."""
    out = {}
    with h5py.File(path, "r") as f:
        g = f.get("analysis")
        if g is None:
            return out
        for kind, gk in g.items():
            data, units, dims = {}, {}, {}
            for name, d in gk.items():
                if isinstance(d, h5py.Dataset):
                    data[name] = d[()]
                    if d.dtype.kind == "S":  # text (patterns' labels) as str, not bytes
                        data[name] = data[name].astype(str)
                    if "units" in d.attrs:
                        units[name] = plain_attr(d.attrs["units"])
                    # files of spikesim before 2026-12-07 have no dims: the same rule
                    dims[name] = (tuple(str(plain_attr(d.attrs["dims"])).split(", "))
                                  if "dims" in d.attrs else
                                  dataset_dims(name, d.ndim, _AXES_BEFORE_DIMS.get(kind, ())))
            attrs = {k: plain_attr(v) for k, v in gk.attrs.items()}
            out[kind] = Analysis(kind, data, units, attrs, dims)
    return out


def dataset_dims(name: str, ndim: int, axes: tuple) -> tuple:
    """A dataset's dimensions: its own name for an axis, ``(neuron, <axis>)`` for 2-D data,
    else ``(neuron,)``."""
    if name in axes:
        return (name,)
    return ("neuron", axes[0] if axes else "k") if ndim == 2 else ("neuron",)
