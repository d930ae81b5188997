"""``/analysis/<kind>/`` in a run's HDF5 file: one dataset per result (attrs ``units`` and
``dims``; one row per neuron of the config where per-neuron), the group's attrs holding
scalars (the options used, a summary sentence). Written next to the layout of SPEC section 3 by
:func:`write`; read back by :func:`read` (``spikesim.load(path).analysis``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import h5py
import numpy as np
import yaml

from ..io.results import plain_attr


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
                                  if "dims" in d.attrs else _dims(name, d.ndim, _axes(kind)))
            attrs = {k: plain_attr(v) for k, v in gk.attrs.items()}
            out[kind] = Analysis(kind, data, units, attrs, dims)
    return out


def _axes(kind: str) -> tuple:
    """The datasets of analysis ``kind`` indexed by something other than the neuron (its
    module's ``AXES``: fi's amplitude), whatever their length."""
    from . import KINDS, module

    return getattr(module(kind), "AXES", ()) if kind in KINDS else ()


def _dims(name: str, ndim: int, axes: tuple) -> tuple:
    """A dataset's dimensions: its own name for an axis, ``(neuron, <axis>)`` for 2-D data,
    else ``(neuron,)``."""
    if name in axes:
        return (name,)
    return ("neuron", axes[0] if axes else "k") if ndim == 2 else ("neuron",)


def write(plan, kind: str, options, data: dict, units: dict, attrs: dict, device: str,
          compile_seconds: float, run_seconds: float, spikes=None, n_steps: int | None = None):
    """Write the analysis file at ``plan.output``: the SPEC section 3 layout (root attrs with
    the resolved config and its ``analysis.<kind>`` options, ``/neurons``, and with
    ``spikes`` (t ms, ids) the spikes of the analysis' main run, over ``n_steps`` steps) plus
    ``/analysis/<kind>/``, each dataset with ``dims`` (:func:`_dims`: ``neuron``, ``neuron,
    amplitude`` or ``amplitude``). Returns the path written."""
    from ..sim.plan import RecordPlan
    from ..io.writer import Writer

    config = yaml.safe_load(plan.config_yaml)
    config["analysis"] = {kind: options.model_dump(mode="json")}
    steps = n_steps if n_steps is not None else plan.n_steps
    out_plan = replace(plan, config_yaml=yaml.safe_dump(config, sort_keys=False), n_steps=steps,
                       record=RecordPlan(spikes is not None, [], np.arange(0), 1, 0, steps),
                       attrs={**plan.attrs, "analysis": kind})
    w = Writer(out_plan, device)
    try:
        if spikes is not None:
            t, ids = spikes
            order = np.argsort(t, kind="stable")
            w._append(np.asarray(t, np.float64)[order], np.asarray(ids)[order])
        w.progress(steps)
        g = w.f.create_group(f"analysis/{kind}")
        for k, v in attrs.items():
            g.attrs[k] = v
        for name, values in data.items():
            d = g.create_dataset(name, data=np.asarray(values))
            d.attrs["dims"] = ", ".join(_dims(name, d.ndim, _axes(kind)))
            if name in units:
                d.attrs["units"] = units[name]
    except BaseException:
        w.close("failed")
        raise
    return w.close("complete", compile_seconds=compile_seconds, run_seconds=run_seconds)


class Timer:
    def __init__(self):
        self.t0 = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.t0


def output_path(plan, kind: str, given) -> Path:
    """``-o``, else the config's output path with ``_<kind>`` before its suffix."""
    if given is not None:
        return Path(given)
    p = Path(plan.output)
    return p.with_name(f"{p.stem}_{kind}{p.suffix or '.h5'}")
