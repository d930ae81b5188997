"""Sweeps and heterogeneous populations: one compiled run over a grid or zip of parameters,
the /neurons table, overrides that compose with sweeps, and output-path templates."""

import math
import subprocess
import sys

import h5py
import numpy as np
import pytest
import yaml

DT = 0.1


def lif_cfg(size=1, **extra):
    cfg = {
        "model": {"type": "lif"},  # tau_m 10 ms, R_m 10 MOhm, v_rest = v_reset -65, v_th -50
        "population": {"size": size},
        "simulation": {"duration": 100.0, "dt": DT, "precision": "float64"},
        "input": {"type": "constant", "amplitude": 0.0},
        "record": {"spikes": True},
    }
    cfg.update(extra)
    return cfg


def lif_spike_times(amplitude, t_ref, duration=100.0, dt=DT, tau=10.0, R=10.0, gap=15.0):
    """Spike times of the LIF under constant input, from SPEC's rules alone: the exact step
    reaches threshold after m = ceil(T / dt) integrating steps, T = tau ln(RI / (RI - gap));
    a spike on step k holds steps k+1 .. k+n-1, n = round(t_ref / dt), and step k+n
    integrates from the reset value again. Timestamps are the ends of the spiking steps."""
    drive = R * amplitude
    if drive <= gap:
        return np.zeros(0)
    m = math.ceil(tau * math.log(drive / (drive - gap)) / dt - 1e-9)
    n = round(t_ref / dt)
    steps = m + np.arange(0, 10_000) * (n - 1 + m)
    return steps[steps * dt <= duration + 1e-9] * dt


def test_fi_grid_in_one_run_matches_the_closed_form(run_config):
    amps, refs = [1.0, 1.6, 2.0, 2.5, 3.3], [2.0, 3.0]
    f = run_config(lif_cfg(sweep={"mode": "grid", "axes": {"input.amplitude": amps,
                                                           "model.params.t_ref": refs}}))
    g = f["neurons/lif"]
    assert g.attrs["n"] == 10 and g.attrs["size"] == 1
    np.testing.assert_array_equal(g["combination"][:], np.arange(10))
    np.testing.assert_array_equal(g["sweep/input.amplitude"][:], amps)
    np.testing.assert_array_equal(g["sweep/model.params.t_ref"][:], refs)
    # grid order: the last axis varies fastest
    np.testing.assert_array_equal(g["input.amplitude"][:], np.repeat(amps, 2))
    np.testing.assert_array_equal(g["model.params.t_ref"][:], np.tile(refs, 5))
    t, ids = f["spikes/lif/timestamps"][:], f["spikes/lif/node_ids"][:]
    for i, (a, r) in enumerate(zip(g["input.amplitude"][:], g["model.params.t_ref"][:])):
        np.testing.assert_allclose(t[ids == i], lif_spike_times(a, r), atol=1e-9)
    assert (ids == 8).sum() > (ids == 2).sum() > 0  # rate grows with the current


def test_zip_lists_generators_and_combination_blocks(run_config):
    sweep = {"mode": "zip", "axes": {"input.amplitude": [2.0, 3.0, 4.0],
                                     "model.params.tau_m": {"start": 5.0, "stop": 15.0,
                                                            "num": 3}}}
    cfg = lif_cfg(size=2, sweep=sweep)
    cfg["model"]["params"] = {"R_m": [9.0, 11.0], "v_rest": {"normal": {"mean": -65,
                                                                         "std": 1.0}}}
    cfg["simulation"]["duration"] = 5.0
    g = run_config(cfg)["neurons/lif"]
    np.testing.assert_array_equal(g["combination"][:], [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(g["input.amplitude"][:], [2, 2, 3, 3, 4, 4])
    np.testing.assert_array_equal(g["model.params.tau_m"][:], [5, 5, 10, 10, 15, 15])
    np.testing.assert_array_equal(g["model.params.R_m"][:], [9, 11] * 3)  # a list repeats
    v_rest = g["model.params.v_rest"][:]  # a generator draws for every neuron of the run
    assert v_rest.size == 6 and np.unique(v_rest).size == 6


def test_sweep_combination_equals_a_separate_run(run_config):
    sweep = {"axes": {"model.params.tau_m": [8.0, 12.0], "input.amplitude": [1.8, 2.6]}}
    swept = run_config(lif_cfg(sweep=sweep), name="sweep")
    alone = run_config(lif_cfg(), "model.params.tau_m=12", "input.amplitude=2.6", name="one")
    t, ids = swept["spikes/lif/timestamps"][:], swept["spikes/lif/node_ids"][:]
    np.testing.assert_array_equal(t[ids == 3], alone["spikes/lif/timestamps"][:])


# -- through the command line -------------------------------------------------------------
def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "spikesim", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def fi_yaml(tmp_path):
    cfg = lif_cfg(sweep={"axes": {"input.amplitude": [1.0, 2.0]}},
                  output={"path": "out/fi_tau{model.params.tau_m}.h5"})
    cfg["model"]["params"] = {"tau_m": 10.0}
    cfg["simulation"]["duration"] = 20.0
    path = tmp_path / "fi.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def test_overrides_compose_with_sweeps_and_fill_the_output_path(fi_yaml, tmp_path):
    # the axis is named after `sweep.axes.`; its dots need no escaping ...
    r = cli("run", fi_yaml, "sweep.axes.input.amplitude=[1.5,2.5,3.5]", "model.params.tau_m=20",
            "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "out/fi_tau20.h5"
    with h5py.File(tmp_path / "out/fi_tau20.h5") as f:
        np.testing.assert_array_equal(f["neurons/lif/sweep/input.amplitude"][:], [1.5, 2.5, 3.5])
        assert yaml.safe_load(f.attrs["config"])["model"]["params"]["tau_m"] == 20
    # ... and the escaped form names the same axis; a {start, stop, num} axis takes .num
    r = cli("run", fi_yaml, r"sweep.axes.input\.amplitude={start: 0, stop: 4, num: 5}",
            "sweep.axes.input.amplitude.num=3", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "out/fi_tau10.0.h5"  # the value as the config writes it
    with h5py.File(tmp_path / r.stdout.strip()) as f:
        np.testing.assert_array_equal(f["neurons/lif/sweep/input.amplitude"][:], [0, 2, 4])


def test_overriding_a_swept_key_is_an_error(fi_yaml, tmp_path):
    r = cli("validate", fi_yaml, "input.amplitude=3", cwd=tmp_path)
    assert r.returncode == 2
    assert "override input.amplitude=3: input.amplitude: input.amplitude is swept by" in r.stderr
    assert "sweep.axes.input.amplitude=[...]" in r.stderr


@pytest.mark.parametrize("override,words", [
    ("sweep.axes.model.params.tau_m=[5,-1]", "must be > 0"),
    ("sweep.axes.input.amplitud=[1]", "Did you mean 'input.amplitude'"),
    ("output.path=out/{model.params.g_K}.h5", "not a key with a value"),
    # one point of a range is its start: a stop that differs would be dropped silently
    (r"sweep.axes.input\.amplitude={start: 0, stop: 20, num: 1}",
     "num 1 takes start (0) alone and leaves stop (20) out"),
])
def test_sweep_errors(fi_yaml, tmp_path, override, words):
    r = cli("validate", fi_yaml, override, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and f"override {override}" in r.stderr


def test_zip_axes_of_unequal_length(tmp_path):
    from spikesim.config.load import load
    from spikesim.errors import ConfigError

    cfg = lif_cfg(sweep={"mode": "zip", "axes": {"input.amplitude": [1, 2],
                                                 "model.params.tau_m": [5, 6, 7]}})
    with pytest.raises(ConfigError, match="zip mode needs axes of equal length"):
        load(None, data=cfg)


def test_template_takes_model_defaults(tmp_path):
    from spikesim.config.load import load
    from spikesim.sim.plan import make_plan

    cfg = lif_cfg(output={"path": "o/{name}_{model.params.v_th}_{input.amplitude}.h5"})
    assert str(make_plan(load(None, data=cfg)).output) == "o/run_-50.0_0.0.h5"


# -- the example configs ------------------------------------------------------------------
REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_fi_curve_example_runs(run_config):
    import spikesim

    path = spikesim.run(REPO / "configs/fi_curve.yaml", "simulation.duration=60",
                        output=REPO / "outputs/_test_fi_curve.h5", force=True)
    try:
        with h5py.File(path) as f:
            amps = f["neurons/hh/input.amplitude"][:]
            np.testing.assert_allclose(amps, np.linspace(0, 20, 41))
            ids = f["spikes/hh/node_ids"][:]
            counts = np.bincount(ids, minlength=41)
            assert counts[0] == 0 and counts[-1] >= 4  # silent at 0, repetitive at 20 uA/cm2
    finally:
        path.unlink()


@pytest.mark.slow  # three CLI processes
def test_sweep_gk_script_writes_one_file_per_value(tmp_path):
    r = subprocess.run(["bash", str(REPO / "configs/sweep_gk.sh"), "simulation.duration=5"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [f"outputs/hh_step_gK{g}.h5" for g in (30, 36, 42)]
    for g in (30, 36, 42):
        with h5py.File(tmp_path / f"outputs/hh_step_gK{g}.h5") as f:
            assert yaml.safe_load(f.attrs["config"])["model"]["params"]["g_K"] == g


@pytest.mark.parametrize("sweep, words", [
    ({"axes": {"input.amplitude": [1.0, 1.0, 2.0]}},
     "sweep: 1 of the 3 combinations repeat another with the same values "
     "(sweep.axes.input.amplitude: a value listed more than once)"),
    ({"axes": {"input.amplitude": {"start": 1.0, "stop": 1.0, "num": 5}}},
     "sweep: 4 of the 5 combinations repeat another"),
    ({"mode": "zip", "axes": {"input.amplitude": [1, 1, 2], "model.params.tau_m": [5, 5, 6]}},
     "sweep: 1 of the 3 combinations repeat another with the same values; they run"),
    ({"mode": "zip", "axes": {"input.amplitude": [1, 1, 2], "model.params.tau_m": [5, 6, 6]}},
     None),
])
def test_repeated_sweep_values_are_warned_about(sweep, words):
    from spikesim.config.load import load
    from spikesim.sim.plan import make_plan

    warnings = make_plan(load(None, data=lif_cfg(sweep=sweep))).warnings
    if words is None:
        assert not any("sweep" in w for w in warnings), warnings
    else:
        assert any(words in w for w in warnings), warnings
