"""Makes ``grid_before_issue17.npz``: the spikes, a report and the final state of short grid
runs of every model, written by spikesim as it was before ``spike_timing`` existed (commit
8786459). ``tests/test_spike_timing.py`` checks that the grid timing still writes them bit
for bit. Made from an export of that commit (``git archive 8786459``), with
``PYTHONPATH=. python make_grid_before_issue17.py OUT``."""

import platform
import sys
import tempfile
from pathlib import Path

import h5py
import jax
import numpy as np

import spikesim

CONFIGS = {
    "hh": {"model": {"type": "hodgkin_huxley"}, "population": {"size": 40},
           "simulation": {"duration": 40.0, "dt": 0.01},
           "input": {"type": "step", "amplitude": {"linspace": [2.0, 20.0]}, "start": 5.0,
                     "stop": 35.0}, "record": {"variables": ["v"], "every": 10}},
    "wb": {"model": {"type": "wang_buzsaki"}, "population": {"size": 20},
           "simulation": {"duration": 40.0, "dt": 0.02, "integrator": "exp_euler"},
           "input": {"type": "constant", "amplitude": {"linspace": [0.5, 3.0]}}},
    "lif": {"model": {"type": "lif", "params": {"t_ref": 2.3}}, "population": {"size": 50},
            "simulation": {"duration": 60.0, "dt": 0.1, "precision": "float64"},
            "input": {"type": "constant", "amplitude": {"linspace": [1.0, 6.0]}},
            "record": {"variables": ["v"], "every": 5}},
    "qif": {"model": {"type": "qif"}, "population": {"size": 20},
            "simulation": {"duration": 60.0, "dt": 0.05},
            "input": {"type": "constant", "amplitude": {"linspace": [0.4, 3.0]}}},
    "eif": {"model": {"type": "eif"}, "population": {"size": 20},
            "simulation": {"duration": 60.0, "dt": 0.05, "integrator": "rk4"},
            "input": {"type": "noise", "mean": 2.0, "std": 0.5}},
    "adex": {"model": {"type": "adex", "preset": "tonic"}, "population": {"size": 4},
             "simulation": {"duration": 60.0, "dt": 0.02},
             "input": {"type": "constant", "amplitude": 500.0},
             "sweep": {"axes": {"model.params.b": [0.0, 60.0]}}},
    "izhikevich": {"model": {"type": "izhikevich", "preset": "RS"}, "population": {"size": 10},
                   "simulation": {"duration": 60.0, "dt": 0.1, "integrator": "exp_euler"},
                   "input": {"type": "ou", "mean": 10.0, "std": 3.0, "tau": 5.0}},
}


def arrays(path):
    out = {}
    with h5py.File(path) as f:
        pop = f.attrs["population"]
        out["timestamps"] = f[f"spikes/{pop}/timestamps"][:]
        out["node_ids"] = f[f"spikes/{pop}/node_ids"][:]
        if f"report/{pop}/v/data" in f:
            out["report_v"] = f[f"report/{pop}/v/data"][:]
        for var in f[f"state/{pop}"]:
            if isinstance(f[f"state/{pop}/{var}"], h5py.Dataset):
                out[f"state_{var}"] = f[f"state/{pop}/{var}"][:]
    return out


def main(out):
    data = {"jax_version": np.asarray(jax.__version__), "machine": np.asarray(platform.machine())}
    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in CONFIGS.items():
            path = spikesim.run({"name": name, **cfg}, output=Path(tmp) / f"{name}.h5")
            for k, v in arrays(path).items():
                data[f"{name}/{k}"] = v
    np.savez_compressed(out, **data)


if __name__ == "__main__":
    main(sys.argv[1])
