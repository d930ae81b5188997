"""Named regression tests of issue 14: each class of bad input that once gave a traceback, a
hang or a silent acceptance now ends with exit 2 and one message (where, key, problem, fix),
nothing written; switches take their names; the non-simulating commands do not start JAX."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parent.parent
HH = ROOT / "configs" / "hh_step.yaml"
LIF = ROOT / "configs" / "lif.yaml"
SMALL = ["population.size=10", "simulation.duration=10"]


def _refused(spikesim_cli, tmp_path, *args, expect: str, command="validate", config=HH):
    before = set(tmp_path.rglob("*"))
    code, out, err = spikesim_cli(command, config, *args)
    assert code == 2, (code, out, err)
    assert err.startswith("error:") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err  # one message, not one per union branch
    assert expect in err, err
    assert set(tmp_path.rglob("*")) == before  # nothing written
    return err


# -- values that passed validate and crashed the run, or crashed validate ------------------
@pytest.mark.parametrize("override, expect", [
    ("record.neurons=[]", "record.neurons: an empty list records nothing"),
    ("input.amplitude={uniform: [5, 1]}", "needs a <= b"),
    ("record.stop=.nan", "record.stop: expected a finite number"),
    ("simulation.duration=.inf", "simulation.duration: expected a finite number"),
    ("simulation.duration=1e308", "a run takes at most 2,147,483,647 steps"),
    ("simulation.duration=1e12", "a run takes at most 2,147,483,647 steps"),
    ("population.size=1e12", "need at least"),
    ("population.size=9223372036854775808", "need at least"),
    ("sweep.axes.input.amplitude={start: 0, stop: 1, num: 1000000000}", "sweep combinations"),
    ("sweep={axes: {input.amplitude: {start: 0, stop: 1, num: 100000}, "
     "model.params.g_K: {start: 0, stop: 1, num: 100000}}}", "sweep combinations"),
    ("simulation.seed=18446744073709551616", "simulation.seed"),
    ("simulation.dt=1e-300", "simulation.dt: dt = 1e-300 ms is below"),
    ("record.every=1000000000000", "record.every: one sample every 1,000,000,000,000 steps"),
    ('name="a\\0b"', "name: a run name may not hold control characters"),
    ("population.size=.nan", "population.size: expected an integer"),
    ("model.init.m=1.5", "model.init.m: must be in [0, 1] (a gating variable"),
    ("model.init.h={uniform: [-0.1, 0.5]}", "model.init.h: must be in [0, 1]"),
    ("sweep.axes.model.init.n=[0.3, 1.2]", "must be in [0, 1]"),
])
def test_values_that_cannot_run_are_refused(spikesim_cli, tmp_path, override, expect):
    _refused(spikesim_cli, tmp_path, *SMALL, override, expect=expect)


@pytest.mark.parametrize("override, expect", [
    ("population.size=true", "expected an integer, got true (a boolean)"),
    ('population.size="10"', "a string; write numbers without quotes"),
    ('simulation.dt="0.01"', "a string; write numbers without quotes"),
    ("record.neurons=[true]", "got true (a boolean)"),
    ("simulation.check_finite='yes'", "expected true or false"),
    ("output.overwrite=1", "expected true or false"),
    ("input.start=8", "input.stop: stop 2 ms is before start 8 ms"),
    ("sweep.axes.input\\.0\\.amplitude=[1, 2]", "names the same key as the axis"),
    # a repeated entry was dropped silently (the stored config still listed it twice)
    ("record.variables=[v, m, v]", "record.variables.2: 'v' is listed more than once"),
    ("record.neurons=[0, 3, 0]", "record.neurons: neuron id 0 is listed more than once"),
])
def test_no_silent_coercion(spikesim_cli, tmp_path, override, expect):
    extra = {"input.start=8": ["input.stop=2"],
             "sweep.axes.input\\.0\\.amplitude=[1, 2]": ["sweep.axes.input\\.amplitude=[3]"]}
    _refused(spikesim_cli, tmp_path, *SMALL, override, *extra.get(override, []), expect=expect)


@pytest.mark.parametrize("override, expect", [
    ("record.neurons={every: 0}", "record.neurons: {every: k} needs k >= 1, got 0"),
    ("simulation.devices=0", "simulation.devices: expected all, auto or a number"),
    ("input.type=stepp", "input.type: unknown input type 'stepp'. Did you mean 'step'?"),
    ("input=[{type: stepp}]", "input.0.type: unknown input type"),
    ("simulation.devices=100", "simulation.devices: 100 devices were asked for"),
    ("simulation.device=gpu", "simulation.device: device 'gpu' was asked for"),
])
def test_messages_name_the_key(spikesim_cli, tmp_path, override, expect):
    err = _refused(spikesim_cli, tmp_path, *SMALL, override, expect=expect)
    assert "constrained-int" not in err and "function-" not in err


def test_output_path_checked_by_validate(spikesim_cli, tmp_path):
    long = tmp_path / ("x" * 300 + ".h5")
    _refused(spikesim_cli, tmp_path, *SMALL, f"output.path={long}", expect="bytes; file names")
    deep = tmp_path / ("ab/" * 2000 + "x.h5")
    _refused(spikesim_cli, tmp_path, *SMALL, f"output.path={deep}", expect="paths here take")
    _refused(spikesim_cli, tmp_path, *SMALL, f'output.path="{tmp_path}/a\\0b.h5"',
             expect="NUL byte")


def test_output_path_in_the_home_folder(spikesim_cli, tmp_path, monkeypatch):
    """``output.path: ~/runs/x.h5`` went to a folder named ``~`` under the current one (input
    file paths expand ``~``; a shell does not, after ``KEY=``)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    code, out, err = spikesim_cli("validate", HH, *SMALL, "output.path=~/runs/{name}.h5")
    assert code == 0, err
    assert f"path: {tmp_path / 'home' / 'runs' / 'hh_step.h5'}" in out


def test_partial_path_that_is_a_folder(spikesim_cli, tmp_path):
    """A folder at <output>.partial: run --force was an IsADirectoryError traceback, exit 1."""
    (tmp_path / "o.h5.partial").mkdir()
    expect = "o.h5.partial, where the output is written while it runs, is a folder"
    _refused(spikesim_cli, tmp_path, *SMALL, f"output.path={tmp_path / 'o.h5'}", expect=expect)
    _refused(spikesim_cli, tmp_path, *SMALL, "-q", "-o", tmp_path / "o.h5", "--force",
             expect=expect, command="run")


def test_output_never_replaces_what_the_run_reads(spikesim_cli, tmp_path):
    first = tmp_path / "first.h5"
    assert spikesim_cli("run", HH, *SMALL, "-q", "-o", first)[0] == 0
    data = first.read_bytes()
    code, _, err = spikesim_cli("run", "--from", first, "-o", first, "--force", "-q")
    assert code == 2 and "which this run reads" in err
    code, _, err = spikesim_cli("run", HH, *SMALL, "--init-from", first, "-o", first, "--force")
    assert code == 2 and "which this run reads" in err
    assert first.read_bytes() == data
    # a config named .h5 given as its own output
    cfg = tmp_path / "cfg.h5"
    cfg.write_text(HH.read_text())
    code, _, err = spikesim_cli("run", cfg, *SMALL, "-o", cfg, "--force", "-q")
    assert code == 2 and "which this run reads" in err
    assert cfg.read_text() == HH.read_text()



def test_paths_on_the_command_line_that_name_no_file(spikesim_cli, tmp_path):
    """An empty path (an unset shell variable) meant the current folder, and the current
    folder given where a run file is read or written ended in a traceback (``Path('.')``
    has no name to put ``.partial`` after)."""
    first = tmp_path / "first.h5"
    assert spikesim_cli("run", HH, *SMALL, "-q", "-o", first)[0] == 0
    assert spikesim_cli("run", HH, *SMALL, "-q", "--shards", "2", "-o", tmp_path / "d")[0] == 0
    before = set(tmp_path.rglob("*"))
    for argv, expect in [
        (["run", HH, *SMALL, "-o", ""], "'--output': an empty path; give a file"),
        (["run", HH, *SMALL, "--shards", "2", "-o", " "], "an empty path"),
        (["run", "--from", "", "-o", "x.h5"], "'--from': an empty path"),
        (["run", HH, *SMALL, "--init-from", "", "-o", "x.h5"], "'--init-from': an empty"),
        (["inspect", ""], "'file': an empty path"),
        (["merge", tmp_path / "d", "-o", ""], "an empty path"),
        (["run", "--from", ".", "-o", "x.h5"], "--from .: is a folder; give the .h5 file"),
        (["run", HH, *SMALL, "--init-from", ".", "-o", "x.h5"], "--init-from .: is a folder"),
        (["merge", tmp_path / "d", "-o", "."], "output path . is a folder; give a file name"),
        (["run", HH, *SMALL, "-o", tmp_path / "d"], f"is a folder; give a file name ending in "
                                                    f".h5, e.g. {tmp_path / 'd' / 'NAME.h5'}"),
        (["plot", first, "-o", tmp_path / "d"], f"is a folder; give a file name ending in "
                                                f".png, e.g. {tmp_path / 'd' / 'first.png'}"),
    ]:
        code, out, err = spikesim_cli(*argv)
        assert code == 2 and expect in err and "Traceback" not in err, (argv, code, err)
        assert set(tmp_path.rglob("*")) == before, argv  # nothing written


def test_run_files_where_they_do_not_belong(spikesim_cli, tmp_path):
    """A run's .h5 given as a config, a run file cut short by a copy, and a run file whose
    stored config holds the problem: each named for what it is."""
    first = tmp_path / "first.h5"
    assert spikesim_cli("run", HH, *SMALL, "input.start=20", "input.stop=30", "-q", "-o",
                        first)[0] == 0
    cut = tmp_path / "cut.h5"
    cut.write_bytes(first.read_bytes()[:5000])
    size = first.stat().st_size
    hint = f"{first} is an HDF5 file (a run's output?), not a YAML config: run it again with "
    _refused(spikesim_cli, tmp_path, expect=hint + f"`spikesim run --from {first}`",
             config=first)
    _refused(spikesim_cli, tmp_path, "-o", "x.h5", expect=hint, command="run", config=first)
    truncated = f"{cut} is truncated: 5,000 of its {size:,} bytes are there (a copy or"
    for argv in (["inspect", cut], ["plot", cut], ["run", "--from", cut, "-o", "x.h5"],
                 ["run", HH, *SMALL, "--init-from", cut, "-o", "x.h5"],
                 ["analyze", "patterns", cut, "-o", "x.h5"]):
        before = set(tmp_path.rglob("*"))
        code, _, err = spikesim_cli(*argv)
        assert code == 2 and truncated in err and "copy it again" in err, (argv, err)
        assert set(tmp_path.rglob("*")) == before
    # the window of the stored config is empty (its input starts after the run's end)
    code, _, err = spikesim_cli("analyze", "patterns", first, "simulation.duration=10", "-o",
                                "x.h5")
    assert code == 2 and err.startswith(f"error: {first} (its stored config): "), err
    assert "the window classified is empty" in err
    # an override of the stored config's one protocol is named as the override
    code, _, err = spikesim_cli("run", "--from", first, "input.stop=10", "-o", "x.h5")
    assert code == 2 and err.startswith("error: override input.stop=10: "), err


@pytest.mark.parametrize("config, override", [
    ("analysis/hh_rheobase.yaml", "model.params.g_K=30"),
    ("fi_curve.yaml", "input.amplitude=5"),
])
def test_an_override_of_a_swept_key_is_one_message(spikesim_cli, tmp_path, config, override):
    """It was said twice when the key has one spelling only (model.params.X)."""
    _refused(spikesim_cli, tmp_path, override, expect="so this value would be ignored",
             config=ROOT / "configs" / config)


@pytest.mark.parametrize("sweep, expect", [
    ("sweep.axes.input.start=[5, 95]", "stop 90 ms is before start 95 ms"),
    ("sweep.axes.input.stop={start: 0, stop: 50, num: 6}", "stop 0 ms is before start 10 ms"),
    ("sweep={axes: {input.start: [1, 30], input.stop: [20, 40]}}", "stop 20 ms is before start 30"),
    ("sweep={mode: zip, axes: {input.start: [1, 50], input.stop: [20, 40]}}",
     "stop 40 ms is before start 50 ms"),
])
def test_a_swept_window_is_checked_in_every_combination(spikesim_cli, tmp_path, sweep, expect):
    """A sweep of input.start or input.stop whose stop comes before its start in some
    combination was accepted (that combination got no input); the config's own start or
    stop, which the sweep replaces, is not checked against the other."""
    _refused(spikesim_cli, tmp_path, "population.size=10", sweep,
             expect=f"in a combination of this sweep {expect}")
    code, _, err = spikesim_cli("validate", HH, *SMALL, "sweep.axes.input.start=[1, 2]",
                                "input.stop=5")
    assert code == 0, err


def test_file_input_samples_checked_at_load(spikesim_cli, tmp_path):
    x = np.ones(200)
    x[37] = np.nan
    np.save(tmp_path / "nan.npy", x)
    (tmp_path / "inf.csv").write_text("1\n2\ninf\n")
    _refused(spikesim_cli, tmp_path, *SMALL, "input={type: file, path: nan.npy, dt: 1, "
             "after: zero}", expect="sample 37 (row 38), column 0 is nan", config=_copy(tmp_path))
    _refused(spikesim_cli, tmp_path, *SMALL, "input={type: file, path: inf.csv, dt: 1, "
             "after: zero}", expect="is inf", config=_copy(tmp_path))
    _refused(spikesim_cli, tmp_path, *SMALL, "input={type: file, path: inf.csv, dt: .inf}",
             expect="input.dt: expected a finite number", config=_copy(tmp_path))
    np.save(tmp_path / "ok.npy", np.ones(10))
    _refused(spikesim_cli, tmp_path, *SMALL, "input={type: file, path: ok.npy, dt: 1e-300, "
             "after: repeat}", expect="at most 1000 per step", config=_copy(tmp_path))
    _refused(spikesim_cli, tmp_path, *SMALL, "input={type: file, path: ok.npy, dt: 1e-9, "
             "after: zero}", expect="at most 1000 per step", config=_copy(tmp_path))


def _copy(tmp_path):
    p = tmp_path / "hh.yaml"
    if not p.exists():
        p.write_text(HH.read_text())
    return p


# -- YAML -----------------------------------------------------------------------------------
def _yaml_cases():
    laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    return {
        "recursive alias": ("params: &p {g_K: *p}\n", "recursive alias"),
        "billion laughs": (laughs, "once its aliases (*name) are expanded"),
        "10,000 [": ("a: " + "[" * 10000 + "\n", "nested more than 64 levels"),
        "2,000 flow maps": ("a: " + "{b: " * 2000 + "1" + "}" * 2000 + "\n", "nested more"),
        "500 block levels": ("".join(" " * i + f"k{i}:\n" for i in range(500)) + " " * 500
                             + "x: 1\n", "nested more"),
        "!!int 1e3": ("population:\n  size: !!int 1e3\n", ":2: cannot read this YAML: a value"),
        "control character": ("model:\n  type: lif\nname: a\x01b\n", ":3: cannot read"),
        "not UTF-8": (b"model:\n  type: \xff\n", ":2: not UTF-8"),
    }


@pytest.mark.parametrize("case", list(_yaml_cases()))
def test_yaml_bounded(spikesim_cli, tmp_path, case):
    text, expect = _yaml_cases()[case]
    p = tmp_path / "bad.yaml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    _refused(spikesim_cli, tmp_path, expect=expect, config=p)


def test_yaml_size_bounded(spikesim_cli, tmp_path):
    _refused(spikesim_cli, tmp_path, expect="larger than 1 MiB", config=Path("/dev/zero"))
    code, _, err = spikesim_cli("validate", HH, "a=" + "[" * 3000)
    assert code == 2 and "nested more than 64" in err


def test_override_message_is_short(spikesim_cli, tmp_path):
    code, _, err = spikesim_cli("validate", HH, "name=" + "x" * 1_000_000)
    assert code == 2 and len(err) < 1000, len(err)


# -- switches ----------------------------------------------------------------------------------
def _run(tmp_path, cfg: Path, name, *overrides):
    import h5py

    import spikesim

    out = spikesim.run(cfg, *SMALL[:1], "simulation.duration=50", "simulation.dt=0.01",
                       "simulation.precision=float64", "record.variables=[v]", *overrides,
                       output=tmp_path / f"{name}.h5", force=True)
    with h5py.File(out) as f:
        return {k: f[k][()] for k in ("spikes/" + next(iter(f["spikes"])) + "/timestamps",
                                      "report/" + next(iter(f["report"])) + "/v/data")}


@pytest.mark.parametrize("config, key, name, number", [
    (HH, "spike_reset", "true", 1), (HH, "spike_reset", "false", 0),
    (LIF, "reset_mode", "linear", 1), (LIF, "reset_mode", "constant", 0)])
def test_switch_names_give_the_numbers_results(tmp_path, config, key, name, number):
    extra = (["model.preset=ngclearn"] if config == HH else
             ["model.params.reset_slope=0.5", "input.start=0"])
    by_name = _run(tmp_path, config, "name", f"model.params.{key}={name}", *extra)
    by_number = _run(tmp_path, config, "number", f"model.params.{key}={number}", *extra)
    for k in by_name:
        np.testing.assert_array_equal(by_name[k], by_number[k])
    # and the switch does something: the other setting differs
    other = _run(tmp_path, config, "other", f"model.params.{key}={1 - number}", *extra)
    assert any(not np.array_equal(by_name[k], other[k]) for k in by_name)


def test_spike_reset_true_reproduces_ngclearn(tmp_path):
    """``spike_reset: true`` through a config = ngclearn's HodgkinHuxleyCell with
    spike_reset=True (the reference loop of test_models_parity)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_models_parity import NGCLEARN_HH, _ngclearn_hh

    import h5py

    import spikesim

    cfg = tmp_path / "hh.yaml"
    cfg.write_text("model: {type: hodgkin_huxley, preset: ngclearn, params: {spike_reset: true}}\n"
                   "simulation: {duration: 50, dt: 0.01, integrator: euler, precision: float64}\n"
                   "input: {type: constant, amplitude: 10.0}\n"
                   "record: {variables: [v]}\n")
    out = spikesim.run(cfg, output=tmp_path / "hh.h5")
    ref, ref_s = _ngclearn_hh(5000, 0.01, 10.0, True, NGCLEARN_HH)
    with h5py.File(out) as f:
        v = f["report/hodgkin_huxley/v/data"][:, 0]
        n_spikes = f["spikes/hodgkin_huxley/timestamps"].shape[0]
    np.testing.assert_allclose(v, ref[:, 0], rtol=1e-9, atol=1e-9)
    assert n_spikes == ref_s.sum() >= 3


@pytest.mark.parametrize("value, expect", [
    ("7", "is a switch: it takes constant, linear"), ("0.5", "is a switch"),
    ("{uniform: [0, 1]}", "not a generator"), ("lineer", "is a switch")])
def test_switch_refuses_other_values(spikesim_cli, tmp_path, value, expect):
    _refused(spikesim_cli, tmp_path, f"model.params.reset_mode={value}", expect=expect, config=LIF)


@pytest.mark.parametrize("axis, expect", [
    ("[0, 7.5]", "is a switch: it takes constant, linear (or their numbers 0, 1), got 7.5"),
    ("{start: 0, stop: 1, num: 2}", "not a generator or a range; list them")])
def test_switch_refuses_other_values_in_sweeps(spikesim_cli, tmp_path, axis, expect):
    _refused(spikesim_cli, tmp_path, f"sweep.axes.model.params.reset_mode={axis}",
             expect=expect, config=LIF)


@pytest.mark.parametrize("config, overrides, expect", [
    (LIF, ["model.params.v_reset=-40"], "the reset v_reset = -40 mV is not below the threshold "
                                         "v_th = -50 mV"),
    (LIF, ["population.size=2", "model.params.v_reset=[-70, -50]"], "v_reset = -50 mV"),
    (ROOT / "configs" / "adex.yaml", ["model.params.v_reset=10"], "v_th = 0 mV"),
    (ROOT / "configs" / "izhikevich.yaml", ["model.params.c=30"], "the reset c = 30 mV"),
    # generators with bounds: a uniform draw's top, a line's end, a line against a list
    (LIF, ["population.size=10", "model.params.v_reset={uniform: [-70, -45]}"],
     "v_reset = -45 mV is not below"),
    (LIF, ["population.size=10", "model.params.v_reset={linspace: [-70, -40]}"],
     "v_reset = -40 mV is not below"),
    (LIF, ["population.size=3", "model.params.v_reset={linspace: [-70, -60]}",
           "model.params.v_th=[-65, -66, -55]"], "v_reset = -65 mV is not below the threshold "
                                                "v_th = -66 mV"),
    # in one combination of a sweep: a list, a range (its end), the threshold swept, zip pairs
    (LIF, ["sweep.axes.model.params.v_reset=[-70, -45]"], "reset v_reset = -45 mV"),
    (LIF, ["sweep.axes.model.params.v_reset={start: -70, stop: -40, num: 4}"],
     "reset v_reset = -40 mV"),
    (LIF, ["sweep.axes.model.params.v_th=[-40, -70]"], "threshold v_th = -70 mV"),
    (LIF, ["sweep={mode: zip, axes: {model.params.v_reset: [-70, -45], "
           "model.params.v_th: [-40, -60]}}"], "v_reset = -45 mV is not below the threshold "
                                               "v_th = -60 mV"),
    (ROOT / "configs" / "izhikevich.yaml", ["sweep.axes.model.params.c=[-65, 40]"],
     "the reset c = 40 mV")])
def test_a_reset_at_or_above_the_threshold_is_refused(spikesim_cli, tmp_path, config,
                                                      overrides, expect):
    """It would fire again on every free step; a linear reset (which ignores v_reset) is
    not refused."""
    _refused(spikesim_cli, tmp_path, *overrides, expect=expect, config=config)
    code, _, err = spikesim_cli("validate", LIF, "model.params.v_reset=-40",
                                "model.params.reset_mode=linear")
    assert code == 0, err
    # pairs that are all below: a line against a list and a line, a normal draw (unbounded,
    # not judged), zip pairs each reset with its own threshold
    for ov in (["model.params.v_th=[-65, -62, -55]"], ["model.params.v_th={linspace: [-60, "
               "-50]}"], ["model.params.v_reset={normal: {mean: -65, std: 50}}"]):
        code, _, err = spikesim_cli("validate", LIF, "population.size=3",
                                    "model.params.v_reset={linspace: [-70, -61]}", *ov)
        assert code == 0, (ov, err)
    code, _, err = spikesim_cli("validate", LIF, "sweep={mode: zip, axes: {model.params.v_reset: "
                                "[-70, -45], model.params.v_th: [-60, -40]}}")
    assert code == 0, err


def test_a_reset_problem_is_reported_at_the_key_the_user_changed(spikesim_cli, tmp_path):
    """The threshold lowered below the reset: the message points at the threshold's
    override (and at the reset's where it is the one given)."""
    _refused(spikesim_cli, tmp_path, "model.params.v_th=-70", config=LIF,
             expect="override model.params.v_th=-70: model.params.v_th: the reset ")
    _refused(spikesim_cli, tmp_path, "model.params.v_reset=-40", config=LIF,
             expect="override model.params.v_reset=-40: model.params.v_reset: the reset")
    # both in the file, neither overridden: the reset's line
    cfg = tmp_path / "c.yaml"
    cfg.write_text(Path(LIF).read_text().replace("v_th: -50.0", "v_th: -70.0"))
    _refused(spikesim_cli, tmp_path, config=cfg, expect="c.yaml:12: model.params.v_reset: ")


def test_npy_that_is_not_numbers(spikesim_cli, tmp_path):
    """numpy's own message for a file without its header advises allow_pickle: no fix for a
    file that is not a .npy at all."""
    (tmp_path / "junk.npy").write_bytes(b"not a numpy file at all")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object),
            allow_pickle=True)
    err = _refused(spikesim_cli, tmp_path, *SMALL, "input={type: file, path: junk.npy, dt: 1}",
                   expect="junk.npy is not a .npy file (it does not start with NumPy's header)",
                   config=_copy(tmp_path))
    assert "allow_pickle" not in err
    _refused(spikesim_cli, tmp_path, *SMALL, "input={type: file, path: objects.npy, dt: 1}",
             expect="objects.npy holds Python objects, not numbers", config=_copy(tmp_path))


def test_empty_spike_file_is_no_input(spikesim_cli, tmp_path):
    """A spike file with no rows is a train without spikes (a warning says so), not a file of
    current samples of the wrong shape."""
    import h5py

    np.save(tmp_path / "none.npy", np.zeros((0, 2)))
    (tmp_path / "none.csv").write_text("time,neuron\n")
    cfg = tmp_path / "lif.yaml"
    cfg.write_text(LIF.read_text())
    for name in ("none.npy", "none.csv"):
        out = tmp_path / f"{name}.h5"
        code, _, err = spikesim_cli("run", cfg, "population.size=3", "simulation.duration=5",
                                    "record.variables=[g_syn0]",
                                    f"input={{type: spike_file, path: {name}, weight: 1, "
                                    f"tau: 5}}", "-o", out)
        assert code == 0, err
        assert "holds no spike times: this input adds nothing" in err
        with h5py.File(out) as f:
            assert f.attrs["status"] == "complete"
            g = f[f"report/{f.attrs['population']}/g_syn0/data"][...]
            assert g.size and not np.any(g)


def test_a_malformed_quantity_is_shown_in_the_fields_unit(spikesim_cli, tmp_path):
    """The example of a quantity is in the unit of the field, not always a current."""
    _refused(spikesim_cli, tmp_path, "model.params.tau_m=abc",
             expect="such as '2 ms', got 'abc'", config=LIF)
    _refused(spikesim_cli, tmp_path, "input.amplitude=zz", expect="such as '2 nA'", config=LIF)


def test_dt_analysis_needs_two_distinct_factors(spikesim_cli, tmp_path):
    _refused(spikesim_cli, tmp_path, LIF, "analysis.dt.factors=[1, 1]",
             expect="has one distinct dt only; give at least two different factors",
             command="analyze", config="dt")


@pytest.mark.parametrize("duration, factors, expect", [
    (10, "[1, 1e-9]", "dt x 1e-09 = 1e-10 ms is below 1e-06 ms"),
    (10_000, "[1, 1e-5]", "makes 1e+10 steps of the 10000 ms run, more than 2,147,483,647")])
def test_dt_analysis_finest_dt_within_the_limits_of_a_run(spikesim_cli, tmp_path, duration,
                                                           factors, expect):
    """The finest dt of `analyze dt` escaped the dt and step-count checks: a hang."""
    _refused(spikesim_cli, tmp_path, LIF, "population.size=2", f"simulation.duration={duration}",
             "simulation.dt=0.1", f"analysis.dt.factors={factors}", expect=expect,
             command="analyze", config="dt")


@pytest.mark.parametrize("window, expect", [
    (["analysis.patterns.start=4", "analysis.patterns.stop=2"],
     "starts at analysis.patterns.start 4 ms and ends at analysis.patterns.stop 2 ms"),
    (["analysis.patterns.start=30"], "ends at the end of the run, 10 ms"),
    (["input.start=20"], "starts at the input's onset, 20 ms, and ends at the end of the run")])
def test_patterns_window_must_not_be_empty(spikesim_cli, tmp_path, window, expect):
    """An empty window (start >= stop, or past the run's end) classified every neuron as
    silent, exit 0."""
    _refused(spikesim_cli, tmp_path, LIF, *SMALL, *window, expect=expect, command="analyze",
             config="patterns")


def test_patterns_of_a_run_never_replaces_that_run(spikesim_cli, tmp_path):
    """`analyze patterns RUN.h5 -o RUN.h5 --force` replaced the run by its analysis."""
    h5 = tmp_path / "run.h5"
    assert spikesim_cli("run", LIF, *SMALL, "-q", "-o", h5)[0] == 0
    data = h5.read_bytes()
    code, _, err = spikesim_cli("analyze", "patterns", h5, "analysis.patterns.start=0", "-o", h5,
                                "--force")
    assert code == 2 and "which this run reads" in err, err
    assert h5.read_bytes() == data


def test_quiet_keeps_warnings(spikesim_cli, tmp_path):
    """-q silences the progress bar only (SPEC section 1): a warning still reaches stderr."""
    code, out, err = spikesim_cli("run", LIF, "population.size=2", "simulation.duration=1",
                                  "simulation.dt=0.3", "-q", "-o", tmp_path / "q.h5")
    assert code == 0 and out.strip() == str(tmp_path / "q.h5"), err
    assert "warning: duration 1.0 ms is not a whole number of steps" in err, err


def test_switch_names_in_sweeps_and_lists(spikesim_cli, tmp_path):
    code, out, err = spikesim_cli("validate", LIF, "population.size=2",
                                  "model.params.reset_mode=[constant, linear]")
    assert code == 0, err
    code, out, err = spikesim_cli("validate", LIF, "population.size=1",
                                  "sweep.axes.model.params.reset_mode=[constant, linear]")
    assert code == 0, err


def test_models_shows_switch_names(spikesim_cli):
    code, out, _ = spikesim_cli("models", "lif")
    assert code == 0 and "constant" in out and "linear" in out
    code, out, _ = spikesim_cli("models", "hodgkin_huxley", "--json")
    import json

    info = json.loads(out)["params"]["spike_reset"]
    assert info["choices"] == {"false": 0.0, "true": 1.0}


# -- plot ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["inspect", "{f}"], ["plot", "{f}"],
                                  ["run", "--from", "{f}", "-o", "x.h5"]])
def test_a_run_file_that_is_a_pipe_is_refused_at_once(tmp_path, argv):
    """HDF5 cannot read a pipe; a FIFO no one writes to hung the command on open."""
    fifo = tmp_path / "run.h5"
    os.mkfifo(fifo)
    r = subprocess.run([sys.executable, "-m", "spikesim", *(a.format(f=fifo) for a in argv)],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 2 and "not a regular file" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_plot_bad_arguments(spikesim_cli, tmp_path):
    h5 = tmp_path / "run.h5"
    assert spikesim_cli("run", HH, *SMALL, "-q", "-o", h5)[0] == 0
    code, _, err = spikesim_cli("plot", h5, "--neurons", ",")
    assert code == 2 and "--neurons takes neuron ids" in err
    code, _, err = spikesim_cli("plot", h5, "-o", "/proc/x.png")
    assert code == 2 and "cannot write /proc/x.png" in err


# -- start-up ------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["models"], ["models", "lif"],
                                  ["schema"]])
def test_non_simulating_commands_do_not_import_jax(argv):
    probe = ("import sys, runpy; sys.argv = ['spikesim'] + sys.argv[1:]\n"
             "try:\n    runpy.run_module('spikesim', run_name='__main__')\n"
             "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
             "print('jax' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "False", r.stdout[-500:]


def test_inspect_and_load_do_not_import_jax(tmp_path, spikesim_cli):
    h5 = tmp_path / "run.h5"
    assert spikesim_cli("run", HH, *SMALL, "-q", "-o", h5)[0] == 0
    code = (f"import sys, spikesim; r = spikesim.load({str(h5)!r}); r.spikes; "
            f"from spikesim.cli import app; from typer.testing import CliRunner; "
            f"res = CliRunner().invoke(app, ['inspect', {str(h5)!r}]); assert res.exit_code == 0;"
            f"print('jax' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "False"


def test_plot_does_not_import_jax(tmp_path, spikesim_cli):
    """The run does not record its input, so plot recomputes the step from the config. Where
    it can fork, it reads the config (subtitle, input panel) in a child while it imports
    matplotlib: the CLI process then never imports the config schema or the protocols (typer
    itself may import pydantic, for its own parameters), and the figure is byte for byte the
    one drawn without the child (in this process: JAX imported, so no fork)."""
    h5 = tmp_path / "run.h5"
    assert spikesim_cli("run", HH, *SMALL, "-q", "-o", h5)[0] == 0
    code = (f"import sys; from spikesim.cli import app; from typer.testing import CliRunner; "
            f"res = CliRunner().invoke(app, ['plot', {str(h5)!r}]); "
            f"assert res.exit_code == 0, res.output; print('jax' in sys.modules, "
            f"'spikesim.config.load' in sys.modules, 'spikesim.inputs' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    imported = r.stdout.strip().splitlines()[-1]
    assert imported == ("False False False" if hasattr(os, "fork") else "False True True")
    assert (tmp_path / "run.png").stat().st_size > 10_000
    import jax  # noqa: F401  (a multithreaded process: plot does not fork)
    from spikesim.plot import plot

    plot(h5, tmp_path / "here.png")
    assert (tmp_path / "run.png").read_bytes() == (tmp_path / "here.png").read_bytes()


@pytest.mark.parametrize("spec", [
    {"type": "constant", "amplitude": 3.0},
    {"type": "step", "amplitude": 2.0, "start": 1.5, "stop": 7.0},
    {"type": "ramp", "from": -1.0, "to": 4.0, "start": 1.0, "stop": 8.0},
    {"type": "sine", "amplitude": 2.0, "frequency": 150.0, "phase": 0.3, "offset": 1.0,
     "start": 0.5},
    {"type": "pulses", "amplitude": 5.0, "width": 0.7, "period": 2.5, "start": 1.0},
])
def test_plot_evaluates_deterministic_protocols_as_jax_does(spec):
    """``plot`` evaluates the protocols with NumPy standing in for ``jnp``: the same current
    as the compiled run's JAX evaluation (float64 both; equal to rounding)."""
    import jax

    from spikesim.inputs import PROTOCOLS
    from spikesim.lazyjax import numpy_instead

    proto = PROTOCOLS[spec["type"]].model_validate(spec)
    f = {k: proto.value(k) for k in proto.numeric if proto.value(k) is not None}
    t = np.linspace(0.0, 10.0, 1001)[:, None]
    with jax.enable_x64(True):
        want = np.asarray(proto.current(jax.numpy.asarray(t), f, None))
    with numpy_instead():
        got = proto.current(t, f, None)
    assert not isinstance(got, jax.Array)  # NumPy did the work
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.ptp(want) > 0 or spec["type"] == "constant"


def test_version(spikesim_cli):
    import spikesim

    code, out, _ = spikesim_cli("--version")
    assert code == 0 and out.strip() == f"spikesim {spikesim.__version__}"


# -- a run that fails on its first chunk -----------------------------------------------------
def test_partial_of_a_first_chunk_failure_is_readable(spikesim_cli, tmp_path):
    out = tmp_path / "blow.h5"
    code, _, err = spikesim_cli("run", HH, *SMALL, "input.amplitude=1e30", "input.start=0",
                                "-q", "-o", out)
    assert code == 1 and "blow-up" in err
    part = Path(str(out) + ".partial")
    assert part.exists() and not out.exists()
    code, text, err = spikesim_cli("inspect", part)
    assert code == 0 and "failed" in text, err
    code, png, err = spikesim_cli("plot", part)
    assert code == 0 and Path(png.strip()).exists(), err
    import spikesim

    r = spikesim.load(out)
    assert not r.complete and r.spikes.t.size == 0
    # its spike trains are cut short (here: nothing simulated), so no patterns from them
    code, _, err = spikesim_cli("analyze", "patterns", part, "-o", tmp_path / "p.h5")
    assert code == 2 and "did not complete (status failed)" in err, err
    assert "Traceback" not in err and not (tmp_path / "p.h5").exists()
    # --from a partial file, with an override of the single protocol's field
    code, path, err = spikesim_cli("run", "--from", part, "input.amplitude=10", "-q", "-o",
                                   tmp_path / "again.h5")
    assert code == 0, err
    assert spikesim.load(path.strip()).complete


@pytest.mark.parametrize("amplitude, others", [("[1e30]", None), ("[1e30, 10, 1e30]", 1)])
def test_blowup_counts_only_the_users_neurons(spikesim_cli, tmp_path, amplitude, others):
    """The padding neurons that fill a device's tile are not counted as "other neurons"."""
    size = amplitude.count(",") + 1
    code, _, err = spikesim_cli("run", HH, "simulation.duration=1", f"population.size={size}",
                                f"input.amplitude={amplitude}", "input.start=0",
                                "record.neurons=all", "-q", "-o", tmp_path / "b.h5")
    assert code == 1 and "numerical blow-up" in err and "of neuron 0" in err, err
    if others is None:
        assert "other neuron" not in err, err
    else:
        assert f"; {others} other neuron(s) too" in err, err
