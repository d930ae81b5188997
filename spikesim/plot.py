"""``spikesim plot``: one PNG that shows a run (matplotlib, headless Agg backend).

Panels, top to bottom, sharing the time axis:

- for a sweep, the mean rate against the swept value (f-I or f-parameter curve, one line per
  value of the other axes; error bars: standard deviation over a combination's neurons);
- the spike raster (a density image past :data:`MAX_MARKERS` spikes; a note when empty);
- traces of one recorded variable for a few neurons;
- the input current of the same neurons: the recorded ``input`` if there is one, else computed
  from the config for deterministic protocols (a random one cannot be recomputed here).

The figure is always :data:`FIGSIZE` inches at :data:`DPI` dots per inch.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from pathlib import Path

import numpy as np

from .analysis.show import key_label, key_unit
from .config.preflight import nearest_existing
from .errors import UsageError
from .io.results import Result

FIGSIZE = (11.0, 8.5)
DPI = 110
MAX_MARKERS = 100_000
TRACES = 3  # neurons traced by default
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def default_output(path: Path) -> Path:
    name = path.name
    partial = name.endswith(".partial")
    if partial:
        name = name[: -len(".partial")]
    stem = name.rsplit(".", 1)[0] if name.endswith((".h5", ".hdf5")) else name
    return path.with_name(stem + (".partial" if partial else "") + ".png")


def _describe(r: Result) -> str:
    """One line naming the model, its parameter changes and the input."""
    cfg = r.config
    swept = set(r.sweep) | {k.replace("input.0.", "input.") for k in r.sweep}
    model = cfg.get("model") or {}
    bits = [r.model + (f" ({model['preset']})" if model.get("preset") else "")]
    params = model.get("params") or {}
    if model.get("type") == "equations":  # every parameter is in the config: name the varying
        params = {k: v for k, v in params.items() if isinstance(v, (list, dict))}
    shown = [f"{k} swept" if f"model.params.{k}" in swept
             else f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k} per neuron"
             for k, v in params.items() if f"model.params.{k}" not in swept]
    shown += [f"{k.split('.')[-1]} swept" for k in r.sweep if k.startswith("model.")]
    if shown:
        bits.append(", ".join(shown))
    protos = cfg.get("input") or []
    for i, proto in enumerate(protos):
        kind = proto.get("type", "?")
        fields = []
        from .inputs import PROTOCOLS

        declared = getattr(PROTOCOLS.get(kind), "model_fields", {})
        for k, v in proto.items():
            if k == "type" or v is None:
                continue
            if k in declared and declared[k].default == v and k != "amplitude":
                continue  # a default the user did not change (start 0, kind conductance)
            if f"input.{k}" in swept and len(protos) == 1 or f"input.{i}.{k}" in swept:
                fields.append(f"{k} swept")
                continue
            u = key_unit(r, f"input.{i}.{k}")
            if isinstance(v, str):  # a choice (kind, interpolation) or a file's path
                fields.append(f"{k} {Path(v).name if k == 'path' else v}")
                continue
            fields.append(f"{k} {v:g}{(' ' + u) if u else ''}" if isinstance(v, (int, float))
                          else f"{k} per neuron")
        bits.append(f"input {kind}: " + ", ".join(fields))
    sim = cfg.get("simulation") or {}
    bits.append(f"{sim.get('integrator')}, dt {r.dt:g} ms"
                + (", precise spike times" if sim.get("spike_timing") == "precise" else ""))
    return "; ".join(bits)


def _input_from_config(r: Result, ids: np.ndarray, t: np.ndarray):
    """The deterministic input current of neurons ``ids`` at times ``t`` ([T, len(ids)]),
    recomputed from the file's resolved config; None when a protocol is random or the
    config cannot be planned here."""
    try:
        from .config.load import load as load_config
        from .sim.plan import make_plan

        plan = make_plan(load_config(None, [], data=r.config), r.path)
    except Exception:  # noqa: BLE001  (an old or foreign config: no input panel)
        return None
    if not plan.inputs or any(p.random or p.synaptic for p, _ in plan.inputs):
        return None
    from .lazyjax import numpy_instead

    total = np.zeros((t.size, ids.size))
    for proto, fields in plan.inputs:
        f = {k: (np.asarray(v)[ids][None, :] if np.ndim(v) else v) for k, v in fields.items()}
        try:
            with numpy_instead():  # no JAX start for a plot (issue 14: start-up)
                value = proto.current(t[:, None], f, None)
        except Exception:  # noqa: BLE001  (a protocol that needs JAX's own functions)
            value = proto.current(t[:, None], f, None)
        total += np.broadcast_to(np.asarray(value), total.shape)
    return total


def _from_config(r: Result, ids, t) -> tuple:
    """What the figure needs from the run's config: the subtitle (:func:`_describe`) and,
    given ``ids`` and ``t``, the input current (:func:`_input_from_config`). Both import the
    config schema (pydantic and every protocol: about 0.13 s)."""
    return _describe(r), (None if ids is None else _input_from_config(r, ids, t))


def _meanwhile(fn, *args):
    """Start ``fn(*args)`` in a forked child process and return a function that waits for its
    result, so that the child imports the config schema while this process imports
    matplotlib (issue 14: start-up; the two imports are about 0.13 s and 0.3 s, each bound
    to one core by the GIL). Where a fork is not safe (no ``os.fork``; other threads that may
    hold a lock the child would need, Python's or JAX's, whose thread pools Python does not
    count) or the child fails, ``fn`` runs here."""
    if not hasattr(os, "fork") or threading.active_count() > 1 or "jax" in sys.modules:
        return lambda: fn(*args)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no h5py, no atexit handlers, no flush of the parent's buffers
        code = 1
        try:
            os.close(rfd)
            data = pickle.dumps(fn(*args))
            with os.fdopen(wfd, "wb") as w:
                w.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(wfd)

    def result():
        with os.fdopen(rfd, "rb") as f:
            data = f.read()
        _, status = os.waitpid(pid, 0)
        if status != 0 or not data:
            return fn(*args)  # here, so that an error shows as it would without the child
        return pickle.loads(data)

    return result


def _pick(r: Result, recorded: np.ndarray, asked) -> tuple[np.ndarray, list[str]]:
    """Neurons to trace and their legend labels."""
    combos = r.combinations
    if asked is not None:
        beyond = [i for i in asked if i >= r.n]
        if beyond:
            raise UsageError(f"--neurons: neuron {beyond[0]} is not in this run: it has "
                             f"{r.n:,} neurons, ids 0 to {r.n - 1:,}")
        # in the order of the trace's columns (sorted, each once), so labels match them
        ids = np.unique(np.asarray(asked, np.int64))
    elif combos:
        n_comb = len(next(iter(combos.values())))
        firsts = np.arange(n_comb) * r.size
        firsts = firsts[np.isin(firsts, recorded)]
        if firsts.size == 0:
            firsts = recorded
        ids = firsts[np.unique(np.linspace(0, firsts.size - 1, min(4, firsts.size)).round()
                               .astype(int))]
    else:
        ids = recorded[np.unique(np.linspace(0, recorded.size - 1, min(TRACES, recorded.size))
                                 .round().astype(int))]
    labels = []
    for i in ids:
        if combos:
            c = int(i) // r.size
            vals = ", ".join(f"{k.split('.')[-1]}={v[c]:.3g}" for k, v in combos.items())
            labels.append(f"neuron {i} ({vals})")
        else:
            labels.append(f"neuron {i}")
    return ids, labels


def _check_folder(out: Path) -> None:
    """Refuse, before any work, a PNG path that is a folder or lies under a regular file
    (the OS would say only "File exists" or "Not a directory" when the figure is saved)."""
    if out.is_dir():
        raise UsageError(f"plot output {out} is a folder; give a file name ending in .png "
                         f"with -o")
    existing = nearest_existing(out.parent)
    if not existing.is_dir():
        raise UsageError(f"cannot write {out}: {existing} is a file, not a folder. Choose "
                         f"another path with -o")


def plot(path, output=None, var: str | None = None, neurons=None, t0: float | None = None,
         t1: float | None = None) -> Path:
    """Write the figure of a run; returns the PNG path."""
    r = Result(path)
    out = Path(output) if output is not None else default_output(r.path)
    if out.is_dir():
        raise UsageError(f"plot output {out} is a folder; give a file name ending in .png, "
                         f"e.g. {out / default_output(r.path).name}")
    if out.suffix.lower() != ".png":
        raise UsageError(f"plot output {out} should end in .png")
    _check_folder(out)
    if r.analysis:  # a file of `spikesim analyze`: its own figure
        given = [o for o, v in (("--var", var), ("--neurons", neurons), ("--from", t0),
                                ("--to", t1)) if v is not None]
        if given:
            raise UsageError(f"{' and '.join(given)}: {r.path} holds the result of `spikesim "
                             f"analyze {', '.join(r.analysis)}`, whose figure has no traces "
                             f"or time window to choose; leave "
                             f"{'them' if len(given) > 1 else 'it'} out, or plot a run's file")
        from .analysis.show import figure

        try:
            figure(r, out, DPI, FIGSIZE)
        except OSError as e:
            raise UsageError(f"cannot write {out}: {e.strerror or e}. Choose another path "
                             f"with -o") from None
        return out
    for option, value in (("--from", t0), ("--to", t1)):
        if value is not None and not np.isfinite(value):
            raise UsageError(f"{option} {value:g}: give a time in ms; the run covers "
                             f"0 - {r.t_end:g} ms")
    t0 = 0.0 if t0 is None else float(t0)
    if t1 is None and r.t_end <= t0 and not r.complete:
        t1 = t0 + r.dt  # a run that failed on its first chunk: an empty figure that says so
    t1 = r.t_end if t1 is None else float(t1)
    if not t1 > t0:
        raise UsageError(f"empty time window --from {t0:g} --to {t1:g} ms; the run covers "
                         f"0 - {r.t_end:g} ms")
    t1 = min(t1, max(r.duration, t0 + r.dt))  # no time axis past the run (--to 1e308)
    variables = r.variables
    if var is None:
        var = "v" if "v" in variables else next((v for v in variables if v != "input"),
                                                variables[0] if variables else None)
    elif var not in variables:
        raise UsageError(f"--var {var}: not recorded in {r.path}; recorded: "
                         f"{', '.join(variables) or 'none'}")
    trace = ids = labels = None
    if var is not None:
        with_ids = r.trace(var, t0=t0, t1=t1)
        ids, labels = _pick(r, with_ids.neurons, neurons)
        try:
            trace = r.trace(var, neurons=ids, t0=t0, t1=t1)
        except KeyError as e:
            raise UsageError(f"--neurons: {e.args[0]}") from None
    inp = t = None
    if trace is not None and var != "input":
        if "input" in variables:
            try:
                it = r.trace("input", neurons=ids, t0=t0, t1=t1)
                inp = (it.t, it.data)
            except KeyError:
                inp = None
        else:
            t = np.arange(int(np.floor(t0 / r.dt)), int(np.ceil(t1 / r.dt)) + 1) * r.dt
            t = t[(t >= t0) & (t <= t1)]
            if t.size > 20_000:
                t = np.linspace(t0, t1, 20_000)
    from_config = _meanwhile(_from_config, r, None if t is None else ids, t)
    # a Figure with the Agg canvas, not pyplot: no backend selection, no figure manager, and
    # about 0.1 s less start-up (benchmarks/startup.py)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    about, data = from_config()
    if data is not None:
        inp = (t, data)

    sweep = bool(r.combinations) and r.spikes_recorded
    has_raster = r.spikes_recorded
    rows = [k for k, on in (("raster", has_raster), ("trace", trace is not None),
                            ("input", inp is not None)) if on]
    heights = {"raster": 1.2, "trace": 1.6, "input": 0.7}
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    # room for the subtitle: about 170 characters fit a line at this size
    top = 0.885 - 0.022 * (len(about) // 170)
    if sweep:
        labelled = len(next(iter(r.combinations.values()))) <= 16  # room for labels
        gs = fig.add_gridspec(2, 1, height_ratios=[1, 2.2], hspace=0.3, top=top, bottom=0.07,
                              left=0.1, right=0.9 if labelled else 0.97)
        _fi_curve(fig.add_subplot(gs[0]), r)
        # hspace counts in mean panel heights, which are smaller here: 0.2 leaves the gap
        # of the figure without a sweep (0.12), where the trace legend sits
        sub = gs[1].subgridspec(max(1, len(rows)), 1, height_ratios=[heights[k] for k in rows]
                                or [1], hspace=0.2)
    else:
        sub = fig.add_gridspec(max(1, len(rows)), 1, height_ratios=[heights[k] for k in rows]
                               or [1], hspace=0.12, top=top, bottom=0.07, left=0.1,
                               right=0.97)
    axes = {}
    for i, k in enumerate(rows):
        axes[k] = fig.add_subplot(sub[i], sharex=axes[rows[0]] if i else None)
    if has_raster:
        _raster(axes["raster"], r, t0, t1, ids if trace is not None else None)
    if trace is not None:
        ax = axes["trace"]
        for j, (i, lab) in enumerate(zip(ids, labels)):
            ax.plot(trace.t, trace.data[:, j], lw=1.0, color=COLORS[j % len(COLORS)], label=lab)
        unit = f" ({trace.units})" if trace.units else ""
        ax.set_ylabel(f"{var}{unit}")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False,
                  ncol=min(4, len(ids)), borderaxespad=0.1)  # above the panel, off the data
        if trace.t.size == 0:
            ax.text(0.5, 0.5, f"no samples of {var} between {t0:g} and {t1:g} ms",
                    ha="center", va="center", transform=ax.transAxes, color="0.4")
    if inp is not None:
        ax = axes["input"]
        for j in range(len(ids)):
            # the current is held over each sample interval: draw it as steps
            ax.plot(inp[0], inp[1][:, j], lw=1.0, color=COLORS[j % len(COLORS)],
                    drawstyle="steps-post")
        unit = r.attrs.get("current_unit", "")
        ax.set_ylabel(f"input ({unit})" if unit else "input")
        lo, hi = float(np.min(inp[1])) if inp[1].size else 0, \
            float(np.max(inp[1])) if inp[1].size else 0
        pad = 0.1 * (hi - lo) if hi > lo else max(1.0, abs(hi)) * 0.1
        ax.set_ylim(lo - pad, hi + pad)
    for k in rows:
        axes[k].set_xlim(t0, t1)
        axes[k].grid(alpha=0.25, lw=0.5)
        if k != rows[-1]:
            axes[k].tick_params(labelbottom=False)
    if rows:
        axes[rows[-1]].set_xlabel("time (ms)")

    status = "" if r.complete else f"   [{r.status.upper()}: partial, {r.t_end:g} of " \
                                   f"{r.duration:g} ms]"
    fig.suptitle(f"{r.name}: {r.n:,} {'neuron' if r.n == 1 else 'neurons'}, "
                 f"{r.duration:g} ms{status}", fontsize=13,
                 x=0.1, ha="left", y=0.985, color="black" if r.complete else "#b00000")
    fig.text(0.1, 0.945, about, fontsize=9, color="0.3", ha="left", va="top",
             wrap=True)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=DPI)
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror or e}. Choose another path with "
                         f"-o") from None
    return out


def _raster(ax, r: Result, t0: float, t1: float, highlight):
    sp = r.spikes_between(t0, t1 + 1e-12)
    ax.set_ylabel("neuron")
    from matplotlib.ticker import MaxNLocator

    # min_n_ticks=1: with its default 2, one neuron (a single id in view) got ticks -0.45, 0.15...
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_ylim(-0.01 * r.n - 0.5, 1.01 * r.n - 0.5)
    if len(sp) == 0:
        ax.text(0.5, 0.5, f"no spikes between {t0:g} and {t1:g} ms", ha="center",
                va="center", transform=ax.transAxes, color="0.4", fontsize=11)
        ax.set_title("spikes", loc="left", fontsize=10)
        return
    if len(sp) > MAX_MARKERS:
        bins_t = min(800, max(50, int((t1 - t0) / r.dt)))
        bins_n = min(400, r.n)
        h, _, _ = np.histogram2d(sp.t, sp.ids, bins=[bins_t, bins_n],
                                 range=[[t0, t1], [-0.5, r.n - 0.5]])
        rate = h.T / (((t1 - t0) / bins_t) / 1000.0) / (r.n / bins_n)
        im = ax.imshow(rate, aspect="auto", origin="lower", extent=[t0, t1, -0.5, r.n - 0.5],
                       cmap="Greys", interpolation="nearest")
        # a short horizontal bar above the panel's right end, level with its title: beside
        # the panel it would take the room of the sweep labels on the right, or be cut off
        pos = ax.get_position()
        cax = ax.figure.add_axes([pos.x1 - 0.2, pos.y1 + 0.008, 0.2, 0.012])
        ax.figure.colorbar(im, cax=cax, orientation="horizontal")
        cax.xaxis.set_ticks_position("top")
        cax.tick_params(labelsize=7, length=2, pad=1)
        cax.text(-0.02, 0.5, "rate (Hz)", transform=cax.transAxes, ha="right", va="center",
                 fontsize=8)
        ax.set_title(f"spikes ({len(sp):,}, shown as density)", loc="left", fontsize=10)
    else:
        size = 6 if r.n <= 50 else 3 if r.n <= 500 else 1.5
        ax.plot(sp.t, sp.ids, "|", color="k", markersize=size, markeredgewidth=0.8)
        ax.set_title(f"spikes ({len(sp):,})", loc="left", fontsize=10)
    if highlight is not None and len(sp) <= MAX_MARKERS:
        for j, i in enumerate(highlight):
            m = sp.ids == i
            ax.plot(sp.t[m], sp.ids[m], "|", color=COLORS[j % len(COLORS)],
                    markersize=max(6, 6 if r.n <= 50 else 4), markeredgewidth=1.4)
    combos = r.combinations
    if combos:
        n_comb = len(next(iter(combos.values())))
        if n_comb <= 16:
            for c in range(1, n_comb):
                ax.axhline(c * r.size - 0.5, color="0.8", lw=0.5)
            right = ax.secondary_yaxis("right")
            right.set_yticks((np.arange(n_comb) + 0.5) * r.size - 0.5)
            right.set_yticklabels([", ".join(f"{v[c]:.3g}" for v in combos.values())
                                   for c in range(n_comb)], fontsize=7)
            right.set_ylabel(", ".join(k.split(".")[-1] for k in combos), fontsize=8)


def _fi_curve(ax, r: Result):
    """Mean rate per combination against the first sweep axis, one line per value of the
    others."""
    from .inspect import spike_stats

    combos = r.combinations
    axes = list(combos)
    sp = r.spikes
    stats = spike_stats(sp.t, sp.ids, r.n)
    t_s = r.t_end / 1000.0
    rates = stats["counts"].reshape(-1, r.size) / t_s  # [combinations, size]
    x_key, others = axes[0], axes[1:]
    x = combos[x_key]
    groups = {}
    for c in range(x.size):
        groups.setdefault(tuple(combos[k][c] for k in others), []).append(c)
    for j, (key, cs) in enumerate(groups.items()):
        cs = np.asarray(cs)
        order = np.argsort(x[cs])
        cs = cs[order]
        mean = rates[cs].mean(axis=1)
        label = ", ".join(f"{key_label(r, k)} = {v:.3g}" for k, v in zip(others, key)) or None
        color = COLORS[j % len(COLORS)] if len(groups) <= len(COLORS) else None
        if r.size > 1:
            ax.errorbar(x[cs], mean, yerr=rates[cs].std(axis=1), marker="o", ms=3.5, lw=1.2,
                        capsize=2, color=color, label=label)
        else:
            ax.plot(x[cs], mean, marker="o", ms=3.5, lw=1.2, color=color, label=label)
    ax.set_xlabel(key_label(r, x_key))
    ax.set_ylabel("mean rate (Hz)")
    what = "f-I curve" if x_key.startswith("input") else f"rate vs {x_key.split('.')[-1]}"
    ax.set_title(f"{what} (over {r.t_end:g} ms, {r.size} neuron{'s' * (r.size > 1)} per "
                 f"point{', mean ± s.d.' if r.size > 1 else ''})", loc="left", fontsize=10)
    ax.grid(alpha=0.25, lw=0.5)
    if len(groups) > 1:
        ax.legend(fontsize=8, frameon=False, ncol=2 if len(groups) > 4 else 1)
