"""Each input protocol's recorded `input` against its closed form at the sample times, sums
of protocols, per-neuron fields, file inputs (interpolation, past the end, streaming), and
config errors about inputs (exit 2, file:line, key)."""

import subprocess
import sys

import numpy as np
import pytest
import yaml

DT = 0.1
N_STEPS = 200  # 20 ms


def lif(input_, size=2, **sim):
    """A LIF population whose threshold is out of reach: only the recorded input matters."""
    return {
        "model": {"type": "lif", "params": {"v_th": 1e9}},
        "population": {"size": size},
        "simulation": {"duration": N_STEPS * DT, "dt": DT, "precision": "float64", **sim},
        "input": input_,
        "record": {"spikes": False, "variables": ["input"], "every": 1},
    }


def recorded(f):
    """The recorded input [rows, neurons] and the sample times (row j at t = j dt)."""
    data = f["report/lif/input/data"][:]
    return data, np.arange(data.shape[0]) * DT


def test_constant_and_step_edges(run_config):
    f = run_config(lif({"type": "step", "amplitude": 2.5, "start": 3.0, "stop": 7.2}))
    x, _ = recorded(f)
    k = np.arange(x.shape[0])
    # [3.0, 7.2) ms with dt = 0.1 is steps 30 .. 71, in integer arithmetic
    expected = np.where((k >= 30) & (k < 72), 2.5, 0.0)
    np.testing.assert_array_equal(x[:, 0], expected)
    f = run_config(lif({"type": "constant", "amplitude": -1.5}), name="c")
    np.testing.assert_array_equal(recorded(f)[0], -1.5)


def test_pulses_edges_on_the_right_steps(run_config):
    f = run_config(lif({"type": "pulses", "amplitude": 4.0, "start": 2.0, "width": 1.3,
                        "period": 4.5, "count": 3}))
    x, _ = recorded(f)
    k = np.arange(x.shape[0])
    # pulse j covers steps [20 + 45 j, 20 + 45 j + 13), j = 0, 1, 2
    on = np.zeros(k.size, bool)
    for j in range(3):
        on |= (k >= 20 + 45 * j) & (k < 33 + 45 * j)
    np.testing.assert_array_equal(x[:, 1], np.where(on, 4.0, 0.0))
    assert x[20 + 45 * 3, 0] == 0  # no fourth pulse


def test_pulses_without_count_repeat_to_the_end(run_config):
    f = run_config(lif({"type": "pulses", "amplitude": 1.0, "width": 0.5, "period": 2.0}))
    x, _ = recorded(f)
    k = np.arange(x.shape[0])
    np.testing.assert_array_equal(x[:, 0], np.where(k % 20 < 5, 1.0, 0.0))


def test_ramp_endpoints(run_config):
    f = run_config(lif({"type": "ramp", "start": 5.0, "stop": 15.0, "from": -2.0, "to": 8.0}))
    x, t = recorded(f)
    inside = (np.arange(t.size) >= 50) & (np.arange(t.size) < 150)
    expected = np.where(inside, -2.0 + 10.0 * (t - 5.0) / 10.0, 0.0)
    np.testing.assert_allclose(x[:, 0], expected, atol=1e-12)
    assert x[50, 0] == pytest.approx(-2.0)          # `from` at start
    assert x[149, 0] == pytest.approx(8.0 - 0.1)    # approaches `to` ...
    assert x[150, 0] == 0.0                          # ... and drops to 0 at stop


def test_sine_phase_and_per_neuron_amplitude(run_config):
    cfg = lif({"type": "sine", "amplitude": [1.0, 3.0], "frequency": 125.0, "phase": 0.7,
               "offset": 0.5, "start": 2.0, "stop": 18.0})
    x, t = recorded(run_config(cfg))
    for i, amp in enumerate([1.0, 3.0]):
        wave = 0.5 + amp * np.sin(2 * np.pi * 125.0 * (t - 2.0) / 1000 + 0.7)
        expected = np.where((t >= 2.0 - 1e-9) & (t < 18.0 - 1e-9), wave, 0.0)
        np.testing.assert_allclose(x[:, i], expected, atol=1e-12)
    assert x[20, 1] == pytest.approx(0.5 + 3.0 * np.sin(0.7))  # phase measured from start


def test_protocols_add_up(run_config):
    parts = [{"type": "constant", "amplitude": 1.0},
             {"type": "step", "amplitude": 2.0, "start": 5.0, "stop": 10.0},
             {"type": "sine", "amplitude": 0.5, "frequency": 50.0}]
    x, t = recorded(run_config(lif(parts)))
    k = np.arange(t.size)
    expected = (1.0 + np.where((k >= 50) & (k < 100), 2.0, 0.0)
                + 0.5 * np.sin(2 * np.pi * 50.0 * t / 1000))
    np.testing.assert_allclose(x[:, 0], expected, atol=1e-12)


def test_per_neuron_fields_and_generators(run_config):
    cfg = lif({"type": "step", "amplitude": {"linspace": [0.0, 3.0]},
               "start": [1.0, 2.0, 3.0, 4.0]}, size=4)
    f = run_config(cfg)
    x, _ = recorded(f)
    for i in range(4):
        k = np.arange(x.shape[0])
        np.testing.assert_array_equal(x[:, i], np.where(k >= 10 * (i + 1), float(i), 0.0))
    np.testing.assert_array_equal(f["neurons/lif/input.amplitude"][:], [0, 1, 2, 3])
    np.testing.assert_array_equal(f["neurons/lif/input.start"][:], [1, 2, 3, 4])


def test_float32_run_keeps_time_edges(run_config):
    """Onsets are compared in float64 whatever the precision: 0.3 ms is step 3, not 4."""
    cfg = lif({"type": "step", "amplitude": 1.0, "start": 0.3})
    cfg["simulation"]["precision"] = "float32"
    x, _ = recorded(run_config(cfg))
    assert x[2, 0] == 0 and x[3, 0] == 1


# -- file inputs -------------------------------------------------------------------------
SAMPLES = np.array([0.0, 1.0, 4.0, 9.0, 16.0, 25.0])  # at t = 0, 2, 4, ... 10 ms


def file_cfg(path, **fields):
    return lif({"type": "file", "path": str(path), "dt": 2.0, **fields})


def expected_file(t, interpolation, after, samples=SAMPLES, fdt=2.0):
    """Closed form of a file input, written independently of the implementation."""
    m = len(samples)
    out = []
    for tt in t:
        pos = tt / fdt
        j = int(np.floor(pos + 1e-9))
        def at(i):
            if i < m:
                return samples[i]
            return {"zero": 0.0, "hold": samples[-1], "repeat": samples[i % m],
                    "error": samples[-1]}[after]
        if interpolation == "hold":
            out.append(at(j))
        else:
            w = pos - j
            out.append(at(j) * (1 - w) + at(j + 1) * w)
    return np.asarray(out)


@pytest.mark.parametrize("interpolation,after", [("hold", "zero"), ("linear", "zero"),
                                                 ("hold", "hold"), ("linear", "repeat"),
                                                 ("hold", "repeat")])
def test_file_interpolation_and_past_the_end(run_config, tmp_path, interpolation, after):
    np.save(tmp_path / "i.npy", SAMPLES)
    cfg = file_cfg(tmp_path / "i.npy", interpolation=interpolation, after=after, scale=0.5)
    cfg["simulation"]["duration"] = 30.0  # the file covers 10 or 12 ms
    x, _ = recorded(run_config(cfg))
    t = np.arange(x.shape[0]) * DT
    np.testing.assert_allclose(x[:, 0], 0.5 * expected_file(t, interpolation, after),
                               atol=1e-12)


def test_file_csv_columns_per_neuron_and_chunk_streaming(run_config, tmp_path):
    rng = np.random.default_rng(1)
    cols = rng.normal(size=(40, 3))
    header = "a,b,c\n"
    (tmp_path / "i.csv").write_text(header + "\n".join(",".join(repr(float(v)) for v in row)
                                                       for row in cols))
    cfg = file_cfg(tmp_path / "i.csv", interpolation="linear", after="repeat")
    cfg["population"]["size"] = 3
    cfg["input"]["dt"] = 0.35  # not a multiple of the run's dt
    whole = recorded(run_config(cfg, name="whole"))[0]
    # chunks of 7 steps: every chunk gets its own window of samples
    small = recorded(run_config(cfg, "simulation.chunk_steps=7", name="small"))[0]
    np.testing.assert_array_equal(whole, small)
    t = np.arange(whole.shape[0]) * DT
    for i in range(3):
        np.testing.assert_allclose(whole[:, i], expected_file(t, "linear", "repeat",
                                                              cols[:, i], 0.35), atol=1e-12)


def test_file_path_resolved_in_the_stored_config(tmp_path):
    """A relative path is stored as the file read (it was stored as written, so run --from
    in another folder looked for it there and failed)."""
    (tmp_path / "cfgs").mkdir()
    np.save(tmp_path / "cfgs" / "i.npy", np.ones(10))
    cfg = file_cfg("i.npy", after="hold")
    (tmp_path / "cfgs" / "cfg.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = subprocess.run([sys.executable, "-m", "spikesim", "validate", "cfgs/cfg.yaml"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    stored = yaml.safe_load(r.stdout)["input"][0]["path"]
    assert stored == str((tmp_path / "cfgs" / "i.npy").resolve())


# -- config errors ------------------------------------------------------------------------
def validate(tmp_path, cfg, *overrides):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    r = subprocess.run([sys.executable, "-m", "spikesim", "validate", str(path), *overrides],
                       capture_output=True, text=True)
    return r.returncode, r.stderr, path


def line_of(path, key):
    return next(i + 1 for i, line in enumerate(path.read_text().splitlines())
                if line.strip().startswith(key + ":"))


def load_error(tmp_path, cfg) -> str:
    """The ConfigError message of a config written to a file (in process: fast)."""
    from spikesim.config.load import load
    from spikesim.errors import ConfigError

    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    with pytest.raises(ConfigError) as e:
        load(path)
    return str(e.value), path


@pytest.mark.parametrize("fields,key,line_key,words", [
    ({"path": "missing.npy"}, "path", "path", "not found"),
    ({"path": "three.npy"}, "path", "path", "3 columns; expected 1"),
    # `after` is not written: the message points at the input section
    ({"path": "short.npy"}, "after", "input", "covers 4 ms"),
    ({"path": "bad.txt"}, "path", "path", "expected a .npy or .csv"),
    ({"path": "short.npy", "interpolation": "cubic"}, "interpolation", "interpolation", "hold"),
])
def test_file_errors_name_file_line_key(tmp_path, fields, key, line_key, words):
    np.save(tmp_path / "three.npy", np.zeros((100, 3)))
    np.save(tmp_path / "short.npy", np.zeros(2))
    (tmp_path / "bad.txt").write_text("1\n2\n")
    err, path = load_error(tmp_path, lif({"type": "file", "dt": 2.0, **fields}))
    assert f"{path}:{line_of(path, line_key)}: input.{key}:" in err
    assert words in err


def test_input_error_exits_2_through_the_cli(tmp_path):
    code, err, path = validate(tmp_path, lif({"type": "file", "path": "nope.npy", "dt": 1.0}))
    assert code == 2
    assert f"{path}:{line_of(path, 'path')}: input.path: input file not found" in err


def test_relative_file_path_is_relative_to_the_config(tmp_path):
    (tmp_path / "data").mkdir()
    np.save(tmp_path / "data" / "i.npy", np.zeros(1000))
    code, err, _ = validate(tmp_path, lif({"type": "file", "path": "data/i.npy", "dt": 0.1}))
    assert code == 0, err


@pytest.mark.parametrize("input_,key,words", [
    ({"type": "pulses", "amplitude": 1, "width": 3, "period": 2}, "width", "overlap"),
    ({"type": "pulses", "amplitude": 1, "width": 1, "period": 0}, "period", "> 0"),
    ({"type": "ramp", "start": 5, "stop": 5, "to": 1}, "stop", "after start"),
    ({"type": "noise", "std": -1}, "std", ">= 0"),
    ({"type": "ou", "std": 1, "tau": [1, 0]}, "tau", "> 0"),
    ({"type": "sine", "amplitude": 1, "frequency": 10, "phse": 1}, "phse", "Did you mean 'phase'"),
])
def test_protocol_field_errors(tmp_path, input_, key, words):
    err, path = load_error(tmp_path, lif(input_))
    assert f"{path}:{line_of(path, key)}:" in err
    assert f"input.{key}:" in err and words in err


@pytest.mark.parametrize("input_, dt_file", [
    ({"type": "step", "amplitude": 3.0, "start": 5.0}, None),
    ({"type": "pulses", "amplitude": 3.0, "start": 5.0, "width": 1.0, "period": 4.0}, None),
    ({"type": "file", "dt": 5.0, "interpolation": "hold"}, 5.0),  # a sample edge at 5 ms
    ({"type": "file", "dt": 0.5, "interpolation": "hold"}, 0.5),
])
def test_an_input_switched_on_at_a_step_acts_from_that_step(run_config, tmp_path, input_,
                                                             dt_file):
    """An input that switches on at t_k = 5 ms, on the grid, is not seen by the step that
    ends at t_k: rk4's fourth stage there reads its left limit (it read the new value, so
    v(t_k) already held dt/6 of the current, an O(dt) error). Up to t_k the run is bit for bit
    the run without that input; from t_k on it differs."""
    if dt_file is not None:
        samples = np.where(np.arange(int(20 / dt_file) + 1) * dt_file >= 5.0, 3.0, 0.0)
        np.save(tmp_path / "i.npy", samples)
        input_ = {**input_, "path": str(tmp_path / "i.npy")}
    cfg = {"model": {"type": "hodgkin_huxley"}, "population": {"size": 1},
           "simulation": {"duration": 10.0, "dt": 0.01, "integrator": "rk4",
                          "precision": "float64"},
           "record": {"variables": ["v"], "every": 1}}
    on = run_config({**cfg, "input": input_}, name="on")["report/hodgkin_huxley/v/data"][:, 0]
    off = run_config({**cfg, "input": {"type": "constant", "amplitude": 0.0}},
                     name="off")["report/hodgkin_huxley/v/data"][:, 0]
    k = 500  # row k is t = 5 ms
    np.testing.assert_array_equal(on[:k + 1], off[:k + 1])
    assert on[k + 1] > off[k + 1]
