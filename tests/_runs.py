"""Small runs shared by the tests of reading results (load, inspect, plot, recording)."""

from __future__ import annotations

import copy

import h5py

import spikesim

#: 6 LIF neurons, 40 ms at dt 0.1, float64, two steps of input per neuron (so that ISIs differ
#: within a neuron), refractory period and a reset value distinct from the initial value.
LIF = {
    "name": "lif_test",
    "model": {"type": "lif", "params": {"t_ref": 1.0, "v_reset": -72.0}, "init": {"v": -68.0}},
    "population": {"size": 6},
    "simulation": {"duration": 40.0, "dt": 0.1, "precision": "float64", "integrator": "euler"},
    "input": [{"type": "step", "amplitude": {"linspace": [1.6, 6.0]}, "start": 2.0, "stop": 15.0},
              {"type": "step", "amplitude": [0.0, 2.0, 3.0, 8.0, 0.0, 4.0], "start": 15.0}],
    "record": {"variables": ["v", "input"]},
}


def config(**sections) -> dict:
    """LIF with some sections updated (``record={...}``, ``simulation={...}``)."""
    c = copy.deepcopy(LIF)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(c.get(key), dict):
            c[key].update(value)
        else:
            c[key] = value
    return c


def run(tmp_path, name: str, cfg: dict):
    return spikesim.run(cfg, output=tmp_path / f"{name}.h5")


def datasets(path) -> dict:
    """Every dataset of a complete run's file, by its path in the file."""
    with h5py.File(path) as f:
        out = {}
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
        assert f.attrs["status"] == "complete"
    return out
