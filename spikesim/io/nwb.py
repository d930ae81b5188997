"""``spikesim export FILE.h5 --to nwb``: a run as an NWB 2 file (pynwb, extra ``.[nwb]``).

What goes where (NWB 2.x core schema, https://nwb-schema.readthedocs.io):

* ``units`` (the Units table): one row per neuron, id = the neuron's id in the run; its
  ``spike_times`` in **seconds** (NWB's unit; spikesim and SONATA write ms, so every time
  is divided by 1000: a known pitfall when moving between the two); one column per
  ``/neurons`` value that varies across neurons (sweep axes, lists, generators), named by its
  dotted config key, its unit in the column's description, and ``combination`` for a sweep;
* ``acquisition/<var>``: one TimeSeries per recorded variable, ``data[t, c]`` for the neuron
  ``neuron_ids[c]`` (listed in its description and ``comments``), in the model's unit with
  the ``conversion`` factor to SI that NWB asks for (mV -> volts: 0.001; uA/cm2 -> A/m^2:
  0.01; pA -> amperes: 1e-12), ``starting_time`` and ``rate`` from the report's time mapping;
* ``processing/analysis`` (a file of ``spikesim analyze``): per analysis a table ``<kind>``
  with one row per neuron (id = its id in the run) and a column per result, 2-D results
  ``[neuron, k]`` along the analysis' axis, which is the table ``<kind>_<axis>`` (fi:
  ``fi_amplitude``, prc: ``prc_phase``, dt: ``dt_dt``); units in the column descriptions
  (as spikesim writes them), the summary and options in the table's description;
* ``source_script``: the resolved config (YAML); ``notes``: the run's attributes (versions of
  spikesim, JAX, NumPy..., dt, integrator, precision, seed, status) as JSON;
  ``session_start_time``: when the run was created.

A partial run (``status`` failed or running) exports what it holds, and says so in the
session description and the notes.
"""

from __future__ import annotations

import datetime
import json
import os
import uuid
from pathlib import Path

import numpy as np

from .results import Result
from . import need

#: SI units NWB names, with the spikesim units they take (matched by dimension with pint)
SI = (("V", "volts"), ("A", "amperes"), ("A/m^2", "amperes/meter^2"), ("S", "siemens"),
      ("S/m^2", "siemens/meter^2"), ("s", "seconds"), ("Hz", "hertz"), ("V/s", "volts/second"),
      ("1", "dimensionless"))


def si(unit: str) -> tuple[str, float]:
    """(NWB unit name, conversion factor) for data in ``unit``: SI value = data x factor."""
    from ..core.units import parse_unit, registry

    if not unit:
        return "unknown", 1.0
    u = parse_unit(unit)
    for symbol, name in SI:
        target = parse_unit(symbol)
        if target.dimensionality == u.dimensionality:
            return name, float(registry().Quantity(1, u).to(target).magnitude)
    return unit, 1.0  # no SI name of that dimension here: keep the unit as it is


def to_nwb(path: str | Path, output: str | Path | None = None, force: bool = False) -> Path:
    """Write the run in ``path`` as NWB to ``output`` (default: ``path`` with ``.nwb``);
    returns the path written. An existing file is kept unless ``force``."""
    pynwb = need("pynwb", "nwb", "spikesim export --to nwb")
    r = Result(path)
    out = Path(output) if output is not None else r.path.with_name(
        r.path.name.removesuffix(".partial")).with_suffix(".nwb")
    from ..config.preflight import check_output_path

    # before any work: not the run's own file (or its .partial), a folder that takes a file
    check_output_path(out, force, protect=[r.path], where="-o: " if output is not None else "",
                      suffixes=(".nwb",), kind="an NWB file")

    a = r.attrs
    created = _time(a.get("created"))
    status = ("complete" if r.complete else
              f"PARTIAL ({r.status}): holds the first {r.t_end:g} of {r.duration:g} ms")
    meta = {k: v for k, v in a.items() if k not in ("config", "magic")}
    meta["export"] = {"status": r.status, "complete": r.complete, "simulated_ms": r.t_end}
    nwb = pynwb.NWBFile(
        session_description=(f"spikesim run {r.name!r}: {r.n} {r.model} neurons, "
                             f"{r.duration:g} ms, integrator {a.get('integrator')}, dt "
                             f"{r.dt:g} ms; {status}"),
        identifier=str(uuid.uuid4()),
        session_start_time=created,
        experiment_description="simulated with spikesim (a population of single-compartment "
                               "model neurons); the resolved config is in source_script",
        source_script=a.get("config", ""),
        source_script_file_name=f"{r.name}.yaml",
        notes=json.dumps(meta, default=_plain, indent=1),
    )
    _units(nwb, r, pynwb)
    _traces(nwb, r, pynwb)
    _analyses(nwb, r)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".partial.nwb")  # renamed into place once written
    try:
        with pynwb.NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def _units(nwb, r: Result, pynwb) -> None:
    spikes = r.spikes
    order = np.lexsort((spikes.t, spikes.ids))  # by neuron, then time
    times_s = spikes.t[order] / 1000.0
    ends = np.r_[0, np.cumsum(spikes.counts)]
    desc = ("one row per simulated neuron (id = its id in the run); spike_times in seconds"
            + ("" if r.spikes_recorded else "; spikes were not recorded in this run"))
    units = pynwb.misc.Units(name="units", description=desc,
                             id=np.arange(r.n, dtype=np.int64))
    units.add_column("spike_times", "spike times of the neuron, s (spikesim writes ms)",
                     data=[times_s[ends[i]:ends[i + 1]] for i in range(r.n)], index=True)
    with r._open() as f:
        g = f.get(f"neurons/{r.population}")
        unit_of = {k: _str(d.attrs.get("units", "")) for k, d in g.items()
                   if hasattr(d, "shape")} if g is not None else {}
    for key, values in r.neurons.items():
        if key == "id":
            continue
        what = ("sweep combination of the neuron" if key == "combination"
                else f"config key {key}, in {unit_of.get(key) or 'its declared unit'}")
        units.add_column(key, what, data=np.asarray(values))
    nwb.units = units


def _traces(nwb, r: Result, pynwb) -> None:
    for var in r.variables:
        tr = r.trace(var)
        unit, conversion = si(tr.units)
        step = float(tr.t[1] - tr.t[0]) if tr.t.size > 1 else _step(r, var)
        ids = ", ".join(map(str, tr.neurons.tolist()))
        nwb.add_acquisition(pynwb.TimeSeries(
            name=var, data=tr.data, unit=unit, conversion=conversion,
            starting_time=float(tr.t[0] if tr.t.size else 0.0) / 1000.0,
            rate=1000.0 / step,
            description=(f"{var} of the {r.model} model in {tr.units or 'no unit'} (x "
                         f"conversion = {unit}); column c is neuron neuron_ids[c], listed in "
                         f"comments"),
            comments=f"neuron_ids: {ids}"))


def _analyses(nwb, r: Result) -> None:
    if not r.analysis:
        return
    from hdmf.common import DynamicTable

    module = nwb.create_processing_module("analysis", "results of spikesim analyze (one table "
                                                      "per analysis, one row per neuron)")
    for kind, a in r.analysis.items():
        options = json.dumps({k: v for k, v in a.attrs.items() if k != "summary"},
                             default=_plain)
        table = DynamicTable(name=kind, description=f"{a.attrs.get('summary', kind)}; "
                                                    f"options: {options}",
                             id=np.arange(r.n, dtype=np.int64))
        for name, values in a.data.items():
            dims = a.dims[name]
            unit = f", {a.units[name]}" if name in a.units else ""
            if dims[0] != "neuron":  # the axis, a table of its own
                axis = DynamicTable(name=f"{kind}_{name}", description=f"the {name} values "
                                    f"along the second dimension of the {kind} table's 2-D "
                                    f"columns", id=np.arange(len(values), dtype=np.int64))
                axis.add_column(name, f"{name}{unit}", data=values)
                module.add(axis)
                continue
            along = f" [neuron, k] at {kind}_{dims[1]}[k]" if len(dims) == 2 else ""
            table.add_column(name, f"{name}{along}{unit}", data=values)
        module.add(table)


def _step(r: Result, var: str) -> float:
    with r._open() as f:
        return float(f[f"report/{r.population}/{var}/mapping/time"][2])


def _time(text) -> datetime.datetime:
    try:
        t = datetime.datetime.fromisoformat(str(text))
    except ValueError:
        t = datetime.datetime.now(datetime.timezone.utc)
    return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)


def _str(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


def _plain(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)
