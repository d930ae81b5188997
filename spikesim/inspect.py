"""``spikesim inspect``: what a run holds, from its HDF5 file.

Reads attributes, dataset shapes and the spikes (in blocks of :data:`spikesim.io.results.BLOCK`),
never the reports' data, so it takes about as long on a multi-GB file as on a small one.

Statistics, over the simulated time T (the duration, or what a partial file holds):

- mean rate: spikes / (neurons x T), in Hz;
- active fraction: neurons with at least one spike / neurons;
- ISI CV: for each neuron with at least 3 spikes, std(ISI) / mean(ISI) (population standard
  deviation, ddof=0); the mean over those neurons, and how many they are;
- for a sweep, the same per combination of axis values, with the mean first-spike time
  (over the neurons of that combination that spiked).
"""

from __future__ import annotations

import math

import h5py
import numpy as np

from .analysis import plural
from .io.results import BLOCK, Result, _ids_summary

MIN_SPIKES_FOR_CV = 3


def spike_stats(ts, ids, n: int, block: int = BLOCK) -> dict[str, np.ndarray]:
    """Per-neuron spike count, first spike time and ISI mean/std from time-sorted spikes
    (h5py datasets or arrays), read ``block`` spikes at a time."""
    counts = np.zeros(n, np.int64)
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    isi_n = np.zeros(n, np.int64)
    isi_sum = np.zeros(n)
    isi_sq = np.zeros(n)
    total = ts.shape[0]
    for i0 in range(0, total, block):
        t = np.asarray(ts[i0:i0 + block], np.float64)
        i = np.asarray(ids[i0:i0 + block]).astype(np.int64)
        order = np.argsort(i, kind="stable")  # by neuron, times still in order
        t, i = t[order], i[order]
        counts += np.bincount(i, minlength=n)
        new = np.r_[True, i[1:] != i[:-1]]  # first spike of each neuron in this block
        u, t_first = i[new], t[new]
        inner = ~new[1:]
        isi_ids = [i[1:][inner]]
        isis = [np.diff(t)[inner]]
        seen = ~np.isnan(last[u])  # neurons that spiked in an earlier block
        isi_ids.append(u[seen])
        isis.append(t_first[seen] - last[u[seen]])
        isi_ids, isis = np.concatenate(isi_ids), np.concatenate(isis)
        isi_n += np.bincount(isi_ids, minlength=n)
        isi_sum += np.bincount(isi_ids, isis, minlength=n)
        isi_sq += np.bincount(isi_ids, isis * isis, minlength=n)
        first[u] = np.where(np.isnan(first[u]), t_first, first[u])
        end = np.r_[i[1:] != i[:-1], True]
        last[i[end]] = t[end]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = isi_sum / isi_n
        std = np.sqrt(np.maximum(isi_sq / isi_n - mean * mean, 0.0))
    return {"counts": counts, "first": first, "isi_n": isi_n, "isi_mean": mean, "isi_std": std}


def _summary(stats: dict, sel, t_ms: float) -> dict:
    counts = stats["counts"][sel]
    n = counts.size
    ok = counts >= MIN_SPIKES_FOR_CV
    cv = stats["isi_std"][sel][ok] / stats["isi_mean"][sel][ok]
    first = stats["first"][sel]
    return {
        "neurons": int(n),
        "spikes": int(counts.sum()),
        "mean_rate_hz": float(counts.sum() / (n * t_ms / 1000.0)) if n and t_ms > 0 else None,
        "active_fraction": float((counts > 0).mean()) if n else None,
        "isi_cv": float(cv.mean()) if cv.size else None,
        "isi_cv_neurons": int(cv.size),
        "first_spike_ms": float(np.nanmean(first)) if np.isfinite(first).any() else None,
    }


def inspect(path) -> dict:
    """Everything ``spikesim inspect`` shows, as plain data (what ``--json`` prints)."""
    r = Result(path)
    a = r.attrs
    info: dict = {
        "file": str(r.path),
        "status": r.status,
        "complete": r.complete,
        "simulated_ms": r.t_end,
    }
    if not r.complete:
        info["partial"] = (f"run {r.status}: this file holds the first {r.t_end:g} of "
                           f"{r.duration:g} ms" + (f" ({a['note']})" if a.get("note") else ""))
    info["run"] = {k: a.get(k) for k in (
        "name", "model", "population", "integrator", "precision", "spike_timing", "dt",
        "duration", "n_steps",
        "steps_done", "n_neurons", "seed", "device", "created", "compile_seconds",
        "run_seconds", "current_unit", "note") if k in a}
    if r.sweep:
        info["run"]["size"] = r.size
    info["versions"] = {k: a[k] for k in a if k.endswith("_version")}
    info["versions"]["format"] = ".".join(map(str, a.get("version", [])))

    with h5py.File(r.path, "r") as f:
        g = f.get(f"spikes/{r.population}")
        stats = spike_stats(g["timestamps"], g["node_ids"], r.n) if g is not None else None
        variables = []
        for var in r.variables:
            rg = f[f"report/{r.population}/{var}"]
            d, tm = rg["data"], rg["mapping/time"][:]
            ids = rg["mapping/node_ids"][:]
            every = int(round(tm[2] / r.dt))
            variables.append({
                "name": var, "units": _str(d.attrs.get("units", "")), "shape": list(d.shape),
                "dtype": str(d.dtype), "every": every, "step_ms": float(tm[2]),
                "start_ms": float(tm[0]),
                "stop_ms": float(tm[0] + tm[2] * max(d.shape[0] - 1, 0)),
                "neurons": int(ids.size), "neuron_ids": _ids_summary(ids),
                "compression": d.compression})
    pop = {"neurons": r.n, "spikes_recorded": stats is not None}
    if stats is not None:
        pop.update(_summary(stats, slice(None), r.t_end))
    info["populations"] = {r.population: pop}
    info["variables"] = variables
    varying = [k for k in r.neurons if k not in ("id", "combination")]
    info["varying"] = varying
    if r.sweep and stats is not None:
        combos = r.combinations
        n_comb = len(next(iter(combos.values())))
        rows = []
        for c in range(n_comb):
            row = {k: float(v[c]) for k, v in combos.items()}
            s = _summary(stats, slice(c * r.size, (c + 1) * r.size), r.t_end)
            row.update({k: s[k] for k in ("mean_rate_hz", "active_fraction", "isi_cv",
                                          "first_spike_ms")})
            rows.append(row)
        info["sweep"] = {"mode": (r.config.get("sweep") or {}).get("mode", "grid"),
                         "axes": list(combos), "rows": rows}
    if r.analysis:
        from .analysis.show import ran, table

        info["analysis"] = table(r)
        simulated = ran(r)
        if simulated:
            info["run"]["analysis_run"] = simulated
    return info


def _str(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def jsonable(x):
    """Plain JSON types (NaN and inf become null)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _fmt(x, spec="{:.3g}", none="-"):
    return none if x is None or (isinstance(x, float) and not math.isfinite(x)) else spec.format(x)


def render(info: dict, console) -> None:
    """Print ``info`` for a person."""
    from rich.table import Table

    run = info["run"]
    status = info["status"]
    style = "green" if info["complete"] else "bold red"
    console.print(f"[bold]{run.get('name', '?')}[/bold]  {info['file']}  "
                  f"[{style}]{status}[/{style}]")
    if not info["complete"]:
        console.print(f"[bold red]partial:[/bold red] {info['partial']}")
    unit = run.get("current_unit", "")
    console.print(f"  model       {run.get('model')}  (population {run.get('population')}, "
                  f"currents in {unit})")
    simulated = run.get("analysis_run") or f"{run.get('duration', 0):g} ms"
    console.print(f"  simulation  {simulated}, dt {run.get('dt', 0):g} ms "
                  f"({run.get('n_steps', 0):,} steps), {run.get('integrator')}, "
                  f"{run.get('precision')}, seed {run.get('seed')}"
                  + (", precise spike times" if run.get("spike_timing") == "precise" else ""))
    size = (f" ({run['size']} x {run['n_neurons'] // run['size']} sweep combinations)"
            if "size" in run else "")
    console.print(f"  neurons     {run.get('n_neurons', 0):,}{size}")
    console.print(f"  device      {run.get('device')}; compile {_fmt(run.get('compile_seconds'))} s, "
                  f"run {_fmt(run.get('run_seconds'))} s")
    v = info["versions"]
    console.print(f"  versions    spikesim {v.get('spikesim_version')}, jax "
                  f"{v.get('jax_version')}, format {v.get('format')}; created "
                  f"{run.get('created')}")
    if run.get("note") and info["complete"]:
        console.print(f"  note        {run['note']}")

    console.print()
    for name, p in info["populations"].items():
        if not p["spikes_recorded"]:
            console.print(f"[bold]spikes[/bold] ({name}): not recorded")
            continue
        # an analysis' spikes are those of its own protocol (fi: every amplitude up and down)
        of = (f" of the {next(iter(info['analysis']))} analysis' protocol, its stimulus, not "
              f"the config's input" if info.get("analysis") else "")
        console.print(f"[bold]spikes[/bold] ({name}, over {info['simulated_ms']:g} ms{of})")
        console.print(f"  neurons         {p['neurons']:,}")
        console.print(f"  spikes          {p['spikes']:,}")
        console.print(f"  mean rate       {_fmt(p['mean_rate_hz'], '{:.4g}')} Hz")
        console.print(f"  active          {_fmt(p['active_fraction'], '{:.1%}')} of neurons "
                      f"(at least one spike)")
        console.print(f"  ISI CV          {_fmt(p['isi_cv'])}  (mean over "
                      f"{p['isi_cv_neurons']:,} neurons with >= {MIN_SPIKES_FOR_CV} spikes)")
        if p["first_spike_ms"] is not None:
            console.print(f"  first spike     {_fmt(p['first_spike_ms'], '{:.4g}')} ms "
                          f"(mean over active neurons)")

    console.print()
    if info["variables"]:
        t = Table(title=None, box=None, show_header=True, header_style="bold", pad_edge=False)
        for col in ("variable", "units", "shape [T, N]", "sampling", "window (ms)", "neurons"):
            t.add_column(col)
        for var in info["variables"]:
            t.add_row(var["name"], var["units"], " x ".join(f"{s:,}" for s in var["shape"]),
                      f"every {plural(var['every'], 'step')} ({var['step_ms']:g} ms)"
                      + (f", {var['compression']}" if var["compression"] else ""),
                      f"{var['start_ms']:g} - {var['stop_ms']:g}", var["neuron_ids"])
        console.print("[bold]recorded variables[/bold]")
        console.print(t)
    else:
        console.print("[bold]recorded variables[/bold]: none")
    if info["varying"]:
        console.print(f"[bold]per-neuron values[/bold]: {', '.join(info['varying'])}")

    sweep = info.get("sweep")
    if sweep:
        console.print()
        console.print(f"[bold]sweep[/bold] ({sweep['mode']}, "
                      f"{plural(len(sweep['rows']), 'combination')})")
        t = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for axis in sweep["axes"]:
            t.add_column(axis, justify="right")
        for col in ("rate (Hz)", "active", "ISI CV", "first spike (ms)"):
            t.add_column(col, justify="right")
        for row in sweep["rows"]:
            t.add_row(*[f"{row[a]:.4g}" for a in sweep["axes"]],
                      _fmt(row["mean_rate_hz"], "{:.4g}"),
                      _fmt(row["active_fraction"], "{:.0%}"), _fmt(row["isi_cv"]),
                      _fmt(row["first_spike_ms"], "{:.4g}"))
        console.print(t)
    if info.get("analysis"):
        from .analysis.show import render as render_analysis

        render_analysis(info["analysis"], console)
