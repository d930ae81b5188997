"""Sharding the neuron axis across devices changes nothing but speed: on 4 simulated CPU
devices (XLA_FLAGS=--xla_force_host_platform_device_count=4) a heterogeneous, noisy sweep
gives the same spikes, samples and final state as on one device."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
import yaml

CFG = {
    "model": {"type": "lif", "params": {"tau_m": {"uniform": [8.0, 12.0]}, "R_m": 1.0}},
    # 7 per combination x 3 combinations = 21 neurons: not a multiple of 4, so the sharded
    # run pads the population
    "population": {"size": 7},
    "simulation": {"duration": 50.0, "dt": 0.1, "seed": 3},
    "input": [{"type": "constant", "amplitude": 14.0},
              {"type": "noise", "std": 2.0},
              {"type": "ou", "std": 1.0, "tau": 5.0}],
    "record": {"variables": ["v", "input"], "every": 5, "neurons": {"every": 2}},
    "sweep": {"axes": {"input.0.amplitude": [16.0, 20.0, 24.0]}},
}


def run(tmp_path, name, devices, *extra):
    conf = tmp_path / "cfg.yaml"
    conf.write_text(yaml.safe_dump(CFG))
    out = tmp_path / f"{name}.h5"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    r = subprocess.run([sys.executable, "-m", "spikesim", "run", str(conf), "-q", "-o", str(out),
                        f"simulation.devices={devices}", *extra],
                       capture_output=True, text=True, env=env, timeout=300)
    return r, out


def read(path):
    with h5py.File(path) as f:
        out = {k: f[f"spikes/lif/{k}"][:] for k in ("timestamps", "node_ids")}
        for var in ("v", "input"):
            out[var] = f[f"report/lif/{var}/data"][:]
        for var in f["state/lif"]:
            if isinstance(f[f"state/lif/{var}"], h5py.Dataset):
                out["state_" + var] = f[f"state/lif/{var}"][:]
        out["device"] = f.attrs["device"]
    return out


@pytest.mark.slow
def test_four_devices_give_the_same_run_as_one(tmp_path):
    r1, one = run(tmp_path, "one", 1)
    r4, four = run(tmp_path, "four", 4)
    assert r1.returncode == 0, r1.stderr
    assert r4.returncode == 0, r4.stderr
    a, b = read(one), read(four)
    assert "x4" in b["device"] and "x4" not in a["device"]
    assert len(a["timestamps"]) > 50
    for key in a:
        if key != "device":
            np.testing.assert_array_equal(b[key], a[key], err_msg=key)


def test_more_devices_than_available_is_a_usage_error(tmp_path):
    r, out = run(tmp_path, "eight", 8)
    assert r.returncode == 2
    assert "8 devices" in r.stderr and "4" in r.stderr
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()


@pytest.mark.slow
@pytest.mark.parametrize("devices", ["all", 3])
def test_all_and_uneven_counts(tmp_path, devices):
    r, out = run(tmp_path, f"d{devices}", devices)
    assert r.returncode == 0, r.stderr
    ref_r, ref = run(tmp_path, "ref", 1)
    np.testing.assert_array_equal(read(out)["node_ids"], read(ref)["node_ids"])
