"""spikesim plot: a PNG of the expected size for a plain run, a sweep and a silent run."""

from __future__ import annotations

import subprocess
import sys

import matplotlib.image
import pytest
from typer.testing import CliRunner

from _runs import config, run
from spikesim.cli import app
from spikesim.errors import UsageError
from spikesim.plot import DPI, FIGSIZE

SIZE = (round(FIGSIZE[1] * DPI), round(FIGSIZE[0] * DPI))  # rows, columns of pixels


def _plot(args):
    res = CliRunner().invoke(app, ["plot", *map(str, args)])
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res.stdout.strip()


def _check_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(path)
    assert img.shape[:2] == SIZE
    assert img[..., :3].std() > 0.05  # not a blank page


def test_plain_run(tmp_path):
    p = run(tmp_path, "plain", config(record={"every": 2}))
    out = _plot([p])
    assert out == str(tmp_path / "plain.png")
    _check_png(out)
    out2 = _plot([p, "-o", tmp_path / "sub" / "fig.png", "--var", "input", "--neurons", "1,3",
                  "--from", "5", "--to", "20"])
    _check_png(out2)


def test_an_existing_png_is_replaced_without_force(tmp_path):
    """README: plot replaces an existing PNG (a figure is redrawn from its file), unlike the
    data files that take --force."""
    p = run(tmp_path, "again", config(record={"every": 2}))
    (tmp_path / "again.png").write_bytes(b"old figure")
    out = _plot([p])
    assert out == str(tmp_path / "again.png")
    _check_png(out)


def test_input_recomputed_when_not_recorded(tmp_path):
    p = run(tmp_path, "v_only", config(record={"variables": ["v"], "every": 5}))
    _check_png(_plot([p, "-o", tmp_path / "v.png"]))


def test_sweep(tmp_path):
    cfg = config(population={"size": 2}, record={"every": 5},
                 input={"type": "step", "amplitude": 2.0, "start": 2.0},
                 sweep={"axes": {"input.amplitude": {"start": 1.0, "stop": 5.0, "num": 5},
                                 "model.params.tau_m": [10.0, 20.0]}})
    _check_png(_plot([run(tmp_path, "sweep", cfg), "-o", tmp_path / "sweep.png"]))


def test_no_spikes(tmp_path):
    cfg = config(input={"type": "constant", "amplitude": 0.0}, record={"every": 5})
    p = run(tmp_path, "silent", cfg)
    _check_png(_plot([p, "-o", tmp_path / "silent.png"]))


def test_failed_run(tmp_path):
    from test_load import _blow_up

    out = _blow_up(tmp_path)
    res = CliRunner().invoke(app, ["plot", str(out)])  # fail.h5 itself does not exist
    assert res.exit_code == 0, res.output
    png = res.stdout.strip()
    assert png.endswith("fail.partial.png")
    assert f"note: {out} does not exist; plotted {out}.partial" in res.stderr
    _check_png(png)


def test_bad_options_are_usage_errors(tmp_path):
    p = run(tmp_path, "bad", config(record={"every": 10}))
    for args in (["--var", "w"], ["--neurons", "x"], ["--neurons", "99"],
                 ["--from", "30", "--to", "10"], ["-o", tmp_path / "fig.pdf"]):
        res = CliRunner().invoke(app, ["plot", str(p), *map(str, args)])
        assert isinstance(res.exception, UsageError), (args, res.output)
    # through the real entry point: exit 2, one message, no figure
    proc = subprocess.run([sys.executable, "-m", "spikesim", "plot", str(p), "--var", "w"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "recorded: v, input" in proc.stderr
    assert not (tmp_path / "bad.png").exists()


def test_output_that_is_a_folder_or_under_a_file(tmp_path):
    p = run(tmp_path, "o", config())
    (tmp_path / "notes.txt").write_text("keep")
    (tmp_path / "d.png").mkdir()
    for out, expect in ((tmp_path / "notes.txt" / "x.png", "notes.txt is a file, not a folder"),
                        (tmp_path / "notes.txt" / "a" / "x.png", "notes.txt is a file"),
                        (tmp_path / "d.png", "d.png is a folder")):
        res = CliRunner().invoke(app, ["plot", str(p), "-o", str(out)])
        assert isinstance(res.exception, UsageError) and expect in str(res.exception), out
    assert (tmp_path / "notes.txt").read_text() == "keep"


def test_neuron_ids_and_window_out_of_range(tmp_path, monkeypatch):
    """--neurons in any order or repeated drew neuron i's trace under another's label (or an
    IndexError); an id past int64 and --to inf / 1e308 were tracebacks."""
    import numpy as np

    import spikesim

    p = run(tmp_path, "ids", config(record={"every": 10}))
    huge = "99999999999999999999999"
    for args, needle in [(["--neurons", huge], f"neuron {huge} is not in this run: it has 6"),
                         (["--neurons", "6"], "ids 0 to 5"),
                         (["--to", "inf"], "--to inf: give a time in ms"),
                         (["--from", "nan"], "--from nan: give a time in ms")]:
        res = CliRunner().invoke(app, ["plot", str(p), *args])
        assert isinstance(res.exception, UsageError) and needle in str(res.exception), args
    assert not (tmp_path / "ids.png").exists()
    _check_png(_plot([p, "--to", "1e308", "-o", tmp_path / "far.png"]))  # up to the end

    fig = _figure(monkeypatch, p, tmp_path / "order.png", neurons=[4, 1, 4])
    v = spikesim.load(p).trace("v")
    lines = {ln.get_label(): ln.get_ydata() for ax in fig.axes for ln in ax.lines
             if ln.get_label().startswith("neuron")}
    assert sorted(lines) == ["neuron 1", "neuron 4"]
    for i in (1, 4):
        np.testing.assert_array_equal(lines[f"neuron {i}"], v.of(i))


def test_trace_options_refused_for_an_analysis_file(tmp_path, spikesim_cli):
    """The figure of an `analyze` file ignored --var, --neurons, --from and --to (exit 0)."""
    p = run(tmp_path, "runs", config(record={"every": 10}))
    pat = tmp_path / "pat.h5"
    assert spikesim_cli("analyze", "patterns", p, "-o", pat, "-q")[0] == 0
    for args in (["--neurons", "0"], ["--var", "v"], ["--from", "1", "--to", "5"]):
        code, out, err = spikesim_cli("plot", pat, "-o", tmp_path / "pat.png", *args)
        assert code == 2 and "holds the result of `spikesim analyze patterns`" in err, err
        assert args[0] in err
    assert not (tmp_path / "pat.png").exists()
    _check_png(_plot([pat, "-o", tmp_path / "pat.png"]))


def _figure(monkeypatch, *args, **kw):
    """The figure ``spikesim.plot.plot(*args, **kw)`` draws (and saves)."""
    import matplotlib.figure

    import spikesim.plot

    seen = {}
    real = matplotlib.figure.Figure.savefig

    def keep(fig, *a, **k):
        seen["fig"] = fig
        return real(fig, *a, **k)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    spikesim.plot.plot(*args, **kw)
    return seen["fig"]


def _drawn_extents(monkeypatch, *args, **kw):
    """The figure ``plot`` draws, its renderer, and the extent of each of its axes in
    pixels, tick labels included."""
    fig = _figure(monkeypatch, *args, **kw)
    renderer = fig.canvas.get_renderer()
    return fig, renderer, [(ax, ax.get_tightbbox(renderer)) for ax in fig.axes]


@pytest.mark.parametrize("sweep", [False, True])
def test_density_colour_bar_inside_the_figure_clear_of_the_sweep_labels(tmp_path, monkeypatch,
                                                                        sweep):
    # 40 spiking neurons (two sweep combinations of them), shown as a density past 100
    # markers: the colour bar's labels were cut off at the figure's right edge, and with a
    # sweep the bar was drawn over the labels of the combinations there
    import spikesim.plot

    monkeypatch.setattr(spikesim.plot, "MAX_MARKERS", 100)
    cfg = config(population={"size": 40}, input={"type": "constant", "amplitude": 3.0},
                 record={"variables": []})
    if sweep:
        cfg["sweep"] = {"axes": {"model.params.tau_m": [10.0, 20.0]}}
    p = run(tmp_path, "dense", cfg)
    fig, renderer, boxes = _drawn_extents(monkeypatch, p, tmp_path / "dense.png")
    width, height = fig.bbox.width, fig.bbox.height
    for ax, box in boxes:
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, ax
    bars = [b for ax, b in boxes if getattr(ax, "_colorbar", None) is not None]
    assert len(bars) == 1
    # the labels of the combinations: the raster's secondary axis, right of the raster
    raster = next(ax for ax, _ in boxes if ax.get_title(loc="left").startswith("spikes"))
    labels = [c.get_tightbbox(renderer) for c in raster.child_axes]
    assert len(labels) == sweep and not any(bars[0].overlaps(b) for b in labels)


@pytest.mark.parametrize("sweep", [False, True])
def test_trace_legend_clear_of_the_raster(tmp_path, monkeypatch, sweep):
    # the legend sits in the gap above the trace panel; under a sweep's f-I panel that gap
    # was smaller than the legend, which was drawn over the raster's lower edge
    cfg = config(population={"size": 4}, input={"type": "constant", "amplitude": 3.0})
    if sweep:
        cfg["sweep"] = {"axes": {"input.amplitude": [3.0]}}
    p = run(tmp_path, "legend", cfg)
    fig, renderer, boxes = _drawn_extents(monkeypatch, p, tmp_path / "legend.png")
    raster = next(ax for ax, _ in boxes if ax.get_title(loc="left").startswith("spikes"))
    trace = next(ax for ax, _ in boxes if ax.get_legend() is not None)
    legend = trace.get_legend().get_window_extent(renderer)
    assert legend.y0 >= trace.get_window_extent(renderer).y1 - 1  # above the traces
    assert legend.y1 <= raster.get_window_extent(renderer).y0  # below the raster


def test_subtitle_names_the_spike_timing(tmp_path):
    from spikesim.io.results import Result
    from spikesim.plot import _describe

    grid = _describe(Result(run(tmp_path, "grid", config())))
    precise = _describe(Result(run(tmp_path, "precise",
                                   config(simulation={"spike_timing": "precise"}))))
    assert grid.endswith("euler, dt 0.1 ms")
    assert precise.endswith("euler, dt 0.1 ms, precise spike times")


def test_axis_labels_carry_units_for_an_equations_model(tmp_path):
    """An equations model is not in the registry: its units come from the file's `units`
    attribute (the f-I curve of configs/morris_lecar.yaml read "input amplitude" bare)."""
    from pathlib import Path

    import spikesim
    from spikesim.io.results import Result
    from spikesim.analysis.show import key_label

    cfg = Path(__file__).parent.parent / "configs" / "morris_lecar.yaml"
    r = Result(spikesim.run(cfg, "simulation.duration=2", output=tmp_path / "ml.h5"))
    assert key_label(r, "input.amplitude") == "input amplitude (uA/cm2)"
    assert key_label(r, "model.params.g_Ca") == "g_Ca (mS/cm2)"
    assert key_label(r, "model.params.phi") == "phi (1/ms)"
    assert key_label(r, "model.init.w") == "initial w"  # dimensionless


def test_subtitle_gives_every_input_field_its_unit(tmp_path):
    """A field in the current's unit (a current synapse's weight, an OU mean) read bare."""
    from spikesim.io.results import Result
    from spikesim.plot import _describe

    cfg = config(input=[{"type": "poisson_synapses", "kind": "current", "rate": 2000.0,
                         "weight": 0.05, "tau": 2.0},
                        {"type": "ou", "mean": 1.0, "std": 0.5, "tau": 5.0}])
    text = _describe(Result(run(tmp_path, "syn", cfg)))
    assert ("input poisson_synapses: kind current, weight 0.05 nA, tau 2 ms, rate 2000 Hz; "
            "input ou: mean 1 nA, std 0.5 nA, tau 5 ms;") in text, text


def _rheobase_file(tmp_path, spikesim_cli, r_m, duration, top):
    """`spikesim analyze rheobase` of two LIF neurons (membrane resistance ``r_m``) for steps
    of ``duration`` ms searched in [0, ``top``] nA; the file's path."""
    import yaml

    cfg = {"model": {"type": "lif", "params": {"R_m": r_m}}, "population": {"size": 2},
           "simulation": {"duration": 20.0, "dt": 0.1, "integrator": "exp_euler"},
           "analysis": {"rheobase": {"duration": duration, "range": [0.0, top],
                                     "tolerance": 0.01}}}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    h5 = tmp_path / "rb.h5"
    assert spikesim_cli("analyze", "rheobase", tmp_path / "cfg.yaml", "-o", h5)[0] == 0
    return h5


@pytest.mark.parametrize("varying", [False, True])
def test_rheobase_figure_says_no_neuron_fired_in_the_range(tmp_path, monkeypatch, spikesim_cli,
                                                           varying):
    """Where every rheobase is NaN (the top of the range fires no neuron) the figure was empty
    axes around 0; it now says so, with the range, on axes spanning the range."""
    h5 = _rheobase_file(tmp_path, spikesim_cli, [9.0, 10.0] if varying else 10.0, 20.0, 0.1)
    fig = _figure(monkeypatch, h5, tmp_path / "rb.png")
    ax = fig.axes[0]
    said = " ".join(t.get_text() for t in ax.texts)
    assert "no neuron fired within the range 0 to 0.1 nA" in said, said
    axis = ax.get_ylim() if varying else ax.get_xlim()
    assert axis == pytest.approx((0.0, 0.1))
    _check_png(tmp_path / "rb.png")


def test_dt_figure_leaves_out_a_neuron_silent_at_every_dt(tmp_path, monkeypatch, spikesim_cli):
    """A silent neuron's shift (0: no spike to move) was drawn at the 1e-16 floor of the log
    axis, squeezing the other neurons' shifts into its top; it is left out and counted.
    LIF neurons at 1 and 2 nA (R_m 10 MOhm: rheobase 1.5 nA): neuron 0 never fires."""
    import yaml

    cfg = {"model": {"type": "lif"}, "population": {"size": 2},
           "simulation": {"duration": 50.0, "dt": 0.1, "integrator": "rk4"},
           "input": {"type": "constant", "amplitude": [1.0, 2.0]}}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    h5 = tmp_path / "dt.h5"
    assert spikesim_cli("analyze", "dt", tmp_path / "cfg.yaml", "-o", h5)[0] == 0
    ax = _figure(monkeypatch, h5, tmp_path / "dt.png").axes[0]
    drawn = [ln.get_label() for ln in ax.get_lines() if ln.get_label().startswith("neuron")]
    assert drawn == ["neuron 1"]
    assert "1 neuron(s) without a spike at any dt, not drawn" in [t.get_text() for t in ax.texts]
    assert ax.get_ylim()[0] > 1e-10
    _check_png(tmp_path / "dt.png")


def test_rheobase_figure_marks_the_neurons_that_never_fired(tmp_path, monkeypatch, spikesim_cli):
    """A NaN rheobase (no spike up to the top of the range) was left out of the figure
    silently; it is marked at the top of the range. LIF rheobase (v_th - v_rest) / R_m:
    15/9 = 1.67 nA is above the range's top 1.6, 15/10 = 1.5 nA inside it."""
    h5 = _rheobase_file(tmp_path, spikesim_cli, [9.0, 10.0], 200.0, 1.6)
    ax = _figure(monkeypatch, h5, tmp_path / "rb.png").axes[0]
    marked = [ln for ln in ax.get_lines() if ln.get_marker() == "^"]
    assert len(marked) == 1 and list(marked[0].get_xdata()) == [9.0]
    assert list(marked[0].get_ydata()) == [1.6]
    assert marked[0].get_label() == "no spike up to 1.6 nA (NaN)"
    assert ax.get_xlabel() == "R_m (MOhm)"


@pytest.mark.parametrize("size", [1, 2, 6])
def test_raster_ticks_are_whole_neuron_ids(tmp_path, monkeypatch, size):
    """With one or two neurons, MaxNLocator(integer=True) found fewer than its default two
    integers in view and fell back to ticks like -0.45, 0.15: the raster's neuron axis must
    tick whole ids only, and at least one of them."""
    cfg = config(population={"size": size},
                 input={"type": "constant", "amplitude": 3.0}, record={"variables": ["v"]})
    fig = _figure(monkeypatch, run(tmp_path, f"n{size}", cfg), tmp_path / f"n{size}.png")
    ax = next(a for a in fig.axes if a.get_ylabel() == "neuron")
    lo, hi = ax.get_ylim()
    ticks = [t for t in ax.get_yticks() if lo <= t <= hi]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert fig._suptitle.get_text().startswith(
        f"lif_test: {size} {'neuron' if size == 1 else 'neurons'}, 40 ms")
