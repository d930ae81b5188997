"""What ``spikesim inspect`` and ``spikesim plot`` show of an analysis file: a table with
one row per neuron (its per-neuron config values, then the analysis' per-neuron results),
and the analysis' own figure (drawn by ``draw`` in the analysis' module); a config key's
label with its unit (``g_K (mS/cm2)``), which a run's figure (:mod:`spikesim.plot`) takes
too."""

from __future__ import annotations

import numpy as np

from ..io.analysis import plain_attr
from ..io.results import Result
from . import module

#: rows of a table printed for a person (``--json`` has them all)
MAX_ROWS = 40
#: per-neuron config values shown in a table (the rest are in ``--json``)
MAX_CONFIG_COLUMNS = 2


def table(r) -> dict:
    """kind -> {summary, columns, units, rows} for every analysis in the result."""
    out = {}
    n = r.n
    neurons = {k: v for k, v in r.neurons.items() if k not in ("combination",)}
    for kind, a in r.analysis.items():
        cols = {k: v for k, v in neurons.items()}
        units = {}
        for name, v in a.data.items():
            v = np.asarray(v)
            if v.ndim == 1 and v.shape[0] == n and a.dims[name] == ("neuron",):
                cols[name] = v
                units[name] = a.units.get(name, "")
        rows = [{k: plain_attr(v[i]) for k, v in cols.items()} for i in range(n)]
        out[kind] = {"summary": a.attrs.get("summary", ""), "columns": list(cols),
                     "config_columns": [k for k in neurons if k != "id"],
                     "units": units, "rows": rows,
                     "curves": {name: np.asarray(v).tolist() for name, v in a.data.items()
                                if name not in cols}}
    return out


def ran(r) -> str | None:
    """What the (first) analysis of ``r`` simulated, for ``inspect``'s simulation line: its own
    runs, not the config's ``simulation.duration`` (None where it ran the config as it is)."""
    from . import plural

    kind, a = next(iter(r.analysis.items()))
    at, d = a.attrs, f"{r.duration:g} ms"
    if kind == "rheobase":
        return (f"{d} per run, {plural(int(at['calls']), 'run')} (rheobase: a "
                f"{at['duration']:g} ms step from {at['start']:g} ms)")
    if kind == "fi":
        return (f"{d} (fi: {at['num']} amplitudes up and down, {at['duration']:g} ms "
                f"each)")
    if kind == "prc":
        return f"{d} (prc: the perturbed run, after a warm-up run)"
    if kind == "dt" and "dt" in a:
        return f"{d} at each dt of the dt analysis ({', '.join(f'{x:g}' for x in a['dt'])} ms)"
    return None


def render(tables: dict, console) -> None:
    from rich.table import Table

    for kind, t in tables.items():
        console.print()
        console.print(f"[bold]analysis {kind}[/bold]: {t['summary']}", markup=True)
        tab = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        config_cols = t.get("config_columns", [])
        hidden = config_cols[MAX_CONFIG_COLUMNS:]
        columns = [c for c in t["columns"] if c not in hidden]
        for c in columns:
            u = t["units"].get(c)
            tab.add_column(f"{c} ({u})" if u else c, justify="right")
        for row in t["rows"][:MAX_ROWS]:
            tab.add_row(*[_cell(row[c]) for c in columns])
        console.print(tab)
        if hidden:
            console.print(f"  (per-neuron values not shown: {', '.join(hidden)}; --json "
                          f"has them)", markup=False)
        if len(t["rows"]) > MAX_ROWS:
            console.print(f"  ... {len(t['rows']) - MAX_ROWS} more rows (--json shows all; "
                          f"spikesim.load(path).analysis[{kind!r}] in Python)")


def _cell(x) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return "NaN" if x != x else f"{x:.5g}"
    return str(x)


def figure(r, out, dpi: int, figsize) -> None:
    """Write the figure of the (first) analysis in ``r`` to ``out``."""
    import matplotlib.pyplot as plt

    kind, a = next(iter(r.analysis.items()))
    fig = plt.figure(figsize=figsize, dpi=dpi)
    try:
        module(kind).draw(fig, a, r)
        fig.suptitle(f"{r.name}: {kind} of {r.n:,} neuron{'s' * (r.n > 1)} ({r.model})",
                     fontsize=13, x=0.08, ha="left", y=0.985)
        fig.text(0.08, 0.945, a.attrs.get("summary", ""), fontsize=9, color="0.3",
                 ha="left", va="top", wrap=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=dpi)
    finally:
        plt.close(fig)


def key_unit(r: Result, key: str) -> str:
    """Unit of a dotted config key (model.params.X, model.init.X, input[.i].field): the one
    the run's file declares (SPEC section 4; an equations model is not in the registry),
    else the built-in model's, else the input field's."""
    import json

    try:
        declared = json.loads(r.attrs.get("units", "{}"))
    except (TypeError, ValueError):
        declared = {}
    if key in declared:
        return "" if declared[key] == "1" else declared[key]
    parts = key.split(".")
    if parts[:2] in (["model", "params"], ["model", "init"]):
        from ..models import MODELS

        try:
            model = MODELS[r.model]
            table = model.params if parts[1] == "params" else model.states
            return table[parts[2]].unit
        except (KeyError, IndexError):
            return ""
    if parts[0] == "input":
        field = parts[-1]
        if field in ("start", "stop", "width", "period", "tau"):
            return "ms"
        if field == "frequency":
            return "Hz"
        if field in ("phase", "count"):
            return ""
        return r.attrs.get("current_unit", "")
    return ""


def key_label(r: Result, key: str) -> str:
    """A config key as an axis label with its unit: ``g_K (mS/cm2)``, ``input amplitude (nA)``."""
    unit = key_unit(r, key)
    short = key.replace("model.params.", "").replace("model.init.", "initial ")
    short = short.replace("input.", "input ")
    return f"{short} ({unit})" if unit and unit != "1" else short


def against(r):
    """The per-neuron value to put on an x axis: the first sweep axis or varying key, as
    (label, values), or None."""
    keys = [k for k in r.neurons if k not in ("id", "combination")]
    if not keys:
        return None
    k = keys[0]
    return key_label(r, k), np.asarray(r.neurons[k], float)  # "g_K (mS/cm2)", as in a run's figure
