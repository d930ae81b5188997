"""The output file, read back with plain h5py: layout and attributes as SPEC section 3."""

import h5py
import numpy as np
import yaml

from conftest import hh_config


def test_layout_and_attributes(run_config):
    cfg = hh_config(population={"size": 4, "name": "hh"},
                    simulation={"duration": 20.0, "dt": 0.025, "precision": "float32", "seed": 7},
                    input={"type": "step", "amplitude": 10.0, "start": 2.0, "stop": 18.0},
                    record={"variables": ["v", "m", "input"], "every": 4, "neurons": [1, 3]})
    f = run_config(cfg)
    a = f.attrs
    assert a["magic"] == 0x0A7A and list(a["version"]) == [0, 1]
    assert a["status"] == "complete"
    for key in ("spikesim_version", "created", "jax_version", "jaxlib_version", "numpy_version",
                "h5py_version", "device", "compile_seconds", "run_seconds"):
        assert key in a, key
    assert a["dt"] == 0.025 and a["duration"] == 20.0 and a["seed"] == 7
    assert a["integrator"] == "rk4" and a["precision"] == "float32"
    resolved = yaml.safe_load(a["config"])
    assert resolved["population"]["size"] == 4 and resolved["simulation"]["seed"] == 7

    spikes = f["spikes/hh"]
    assert h5py.check_enum_dtype(spikes.attrs.get_id("sorting").dtype) is not None
    assert spikes.attrs["sorting"] == 2  # by_time
    ts, ids = spikes["timestamps"], spikes["node_ids"]
    assert ts.dtype == np.float64 and ids.dtype == np.uint64 and ts.attrs["units"] == "ms"
    assert len(ts) > 0 and np.all(np.diff(ts[:]) >= 0)
    assert set(ids[:]) == {0, 1, 2, 3}
    # a timestamp is the end of a step: a whole multiple of dt
    np.testing.assert_allclose(ts[:] / 0.025, np.round(ts[:] / 0.025), atol=1e-9)

    n_rows = int(20.0 / 0.025) // 4 + 1
    for var, unit in (("v", "mV"), ("m", "1"), ("input", "uA/cm2")):
        rep = f[f"report/hh/{var}"]
        assert rep["data"].shape == (n_rows, 2) and rep["data"].attrs["units"] == unit
        assert list(rep["mapping/node_ids"][:]) == [1, 3]
        np.testing.assert_allclose(rep["mapping/time"][:], [0.0, n_rows * 0.1, 0.1])
    v = f["report/hh/v/data"]
    assert np.all(v[0] == np.float32(-65.0))  # row 0 is the initial state at t = 0
    i = f["report/hh/input/data"][:, 0]
    t = np.arange(n_rows) * 0.1
    np.testing.assert_array_equal(i, np.where((t >= 2.0) & (t < 18.0), 10.0, 0.0))

    for var in ("v", "n", "m", "h"):
        assert f[f"state/hh/{var}"].shape == (4,)
    # the final state is the last recorded sample (the run ends on a sampling step)
    np.testing.assert_array_equal(f["state/hh/v"][[1, 3]], v[-1])


def test_per_neuron_values_are_written(run_config):
    cfg = hh_config(population={"size": 3},
                    simulation={"duration": 1.0},
                    model={"type": "hodgkin_huxley", "params": {"g_K": [30.0, 36.0, 42.0]}})
    f = run_config(cfg)
    np.testing.assert_array_equal(f["neurons/hodgkin_huxley/model.params.g_K"][:], [30, 36, 42])


def test_partial_file_is_renamed(tmp_path):
    import spikesim

    out = tmp_path / "a" / "b.h5"
    path = spikesim.run(hh_config(simulation={"duration": 1.0}), output=out)
    assert path == out and out.exists()
    assert not (tmp_path / "a" / "b.h5.partial").exists()
