"""Tiling a device's neurons (engine.MIN_TILES, Model.cpu_tile) changes nothing but speed:
runs cut into tiles of 16 neurons give the same spikes, samples and final state, bit for
bit, as untiled runs, for heterogeneous parameters, noisy and streamed inputs, sweeps,
recorded subsets and several devices."""

import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

import spikesim
from _runs import datasets
from spikesim.sim.engine import MIN_TILES, Engine, tiling
from spikesim.models import MODELS


@pytest.mark.parametrize("n", [1, 15, 16, 63, 64, 65, 1000, 12345])
@pytest.mark.parametrize("devices", [1, 3, 4])
@pytest.mark.parametrize("tile_max", [16, 100, 2048])
def test_tiles_cover_each_share(n, devices, tile_max):
    tiles, tile = tiling(n, devices, tile_max)
    share = -(-n // devices)
    if share < MIN_TILES * tile_max:
        assert (tiles, tile) == (1, share)
    else:
        assert tiles >= MIN_TILES and tile % 16 == 0 and tile <= tile_max
        assert share <= tiles * tile < share + 16 * tiles  # padding below one vector a tile


def noisy_lif(size=37):
    return {
        "model": {"type": "lif", "params": {"tau_m": {"uniform": [8.0, 12.0]}, "R_m": 1.0}},
        "population": {"size": size},
        "simulation": {"duration": 30.0, "dt": 0.1, "seed": 3},
        "input": [{"type": "constant", "amplitude": 14.0},
                  {"type": "noise", "std": 2.0},
                  {"type": "ou", "std": 1.0, "tau": 5.0}],
        "record": {"variables": ["v", "input"], "every": 5, "neurons": {"every": 3}},
        "sweep": {"axes": {"input.0.amplitude": [16.0, 20.0, 24.0]}},
    }


def hh_float64():
    return {"model": {"type": "hodgkin_huxley", "params": {"g_K": {"linspace": [30.0, 40.0]}}},
            "population": {"size": 90},
            "simulation": {"duration": 20.0, "dt": 0.01, "integrator": "rk4",
                           "precision": "float64"},
            "input": [{"type": "step", "amplitude": 10.0, "start": 2.0},
                      {"type": "noise", "std": 1.0}],
            "record": {"variables": ["v", "m"], "every": 7}}


def streamed(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "drive.npy", rng.uniform(10.0, 30.0, size=(40, 70)))
    return {"model": {"type": "izhikevich", "preset": "RS"},
            "population": {"size": 70},
            "simulation": {"duration": 50.0, "dt": 0.1, "chunk_steps": 96},
            "input": {"type": "file", "path": str(tmp_path / "drive.npy"), "dt": 1.25},
            "record": {"variables": ["v", "u"], "neurons": [0, 5, 69]}}


@pytest.mark.parametrize("make", [noisy_lif, hh_float64, streamed])
def test_tiled_run_is_the_untiled_run(tmp_path, monkeypatch, make):
    cfg = make(tmp_path) if make is streamed else make()
    model = MODELS[cfg["model"]["type"]]
    plain = datasets(spikesim.run(cfg, output=tmp_path / "plain.h5"))
    monkeypatch.setattr(model, "cpu_tile", 16)
    made = []
    monkeypatch.setattr(Engine, "compile", lambda self, carry, compile=Engine.compile: (
        made.append(self.n_tiles), compile(self, carry))[1])
    tiled = datasets(spikesim.run(cfg, output=tmp_path / "tiled.h5"))
    assert made and made[0] >= MIN_TILES
    assert plain.keys() == tiled.keys()
    spikes = [k for k in plain if k.startswith("spikes/") and k.endswith("node_ids")]
    assert spikes and len(plain[spikes[0]]) > 10
    for key in plain:
        np.testing.assert_array_equal(tiled[key], plain[key], err_msg=key)


SCRIPT = """
import sys
from spikesim.sim import engine
from spikesim.cli import main
from spikesim.models import MODELS

MODELS["lif"].cpu_tile = 16
compile = engine.Engine.compile
def report(self, carry):
    print(f"devices={len(self.devices)} tiles={self.n_tiles}x{self.tile}", file=sys.stderr)
    return compile(self, carry)
engine.Engine.compile = report
main()
"""


@pytest.mark.slow
def test_tiles_on_four_devices(tmp_path):
    """Each of 4 simulated devices tiles its own share (shard_map): the same run as one
    untiled device."""
    conf = tmp_path / "cfg.yaml"
    conf.write_text(yaml.safe_dump(noisy_lif(size=100)))
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    outs = {}
    for name, devices, prog in (("one", 1, ["-m", "spikesim"]), ("four", 4, ["-c", SCRIPT])):
        outs[name] = tmp_path / f"{name}.h5"
        r = subprocess.run([sys.executable, *prog, "run", str(conf), "-q", "-o",
                            str(outs[name]), f"simulation.devices={devices}"],
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        if name == "four":  # 300 neurons: 75 a device, in 5 tiles of 16
            assert "devices=4 tiles=5x16" in r.stderr
    one, four = datasets(outs["one"]), datasets(outs["four"])
    for key in one:
        np.testing.assert_array_equal(four[key], one[key], err_msg=key)
