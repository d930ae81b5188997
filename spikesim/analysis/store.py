"""``/analysis/<kind>/`` in a run's HDF5 file: one dataset per result (attrs ``units`` and
``dims``; one row per neuron of the config where per-neuron), the group's attrs holding
scalars (the options used, a summary sentence). Written next to the layout of SPEC section 3 by
:func:`write`; read back by :func:`spikesim.io.analysis.read`
(``spikesim.load(path).analysis``)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from ..io.analysis import dataset_dims


def _axes(kind: str) -> tuple:
    """The datasets of analysis ``kind`` indexed by something other than the neuron (its
    module's ``AXES``: fi's amplitude), whatever their length."""
    from . import KINDS, module

    return getattr(module(kind), "AXES", ()) if kind in KINDS else ()


def write(plan, kind: str, options, data: dict, units: dict, attrs: dict, device: str,
          compile_seconds: float, run_seconds: float, spikes=None, n_steps: int | None = None):
    """Write the analysis file at ``plan.output``: the SPEC section 3 layout (root attrs with
    the resolved config and its ``analysis.<kind>`` options, ``/neurons``, and with
    ``spikes`` (t ms, ids) the spikes of the analysis' main run, over ``n_steps`` steps) plus
    ``/analysis/<kind>/``, each dataset with ``dims``
    (:func:`spikesim.io.analysis.dataset_dims`: ``neuron``, ``neuron, amplitude`` or
    ``amplitude``). Returns the path written."""
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
            d.attrs["dims"] = ", ".join(dataset_dims(name, d.ndim, _axes(kind)))
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
