"""The XLA:CPU compiler options of the chunk function (``engine.CPU_COMPILER_OPTIONS``:
512-bit vectors, copy insertion with region analysis) change speed only: every model gives
bit-for-bit the same spikes and final state as with XLA's defaults."""

import h5py
import numpy as np
import pytest

import spikesim
from spikesim import engine

# 37 neurons: not a multiple of any vector width, so vector bodies and scalar tails both run
CASES = {
    "hodgkin_huxley": ("euler", 0.01, 20.0, {"linspace": [4.0, 30.0]}),
    "wang_buzsaki": ("rk2", 0.01, 20.0, {"linspace": [0.5, 5.0]}),
    "adex": ("rk4", 0.05, 100.0, {"linspace": [300.0, 900.0]}),
    "izhikevich": ("euler", 0.1, 100.0, {"linspace": [4.0, 20.0]}),
    "lif": ("exp_euler", 0.1, 100.0, {"linspace": [15.5, 40.0]}),
    "eif": ("rk2", 0.1, 100.0, {"linspace": [15.5, 40.0]}),
}


def run(tmp_path, name, model, options, monkeypatch):
    integrator, dt, duration, amplitude = CASES[model]
    monkeypatch.setattr(engine, "CPU_COMPILER_OPTIONS", options)
    cfg = {"model": {"type": model}, "population": {"size": 37},
           "simulation": {"duration": duration, "dt": dt, "integrator": integrator},
           "input": {"type": "constant", "amplitude": amplitude},
           "record": {"variables": ["v"], "every": 7}}
    path = spikesim.run(cfg, output=tmp_path / f"{name}.h5")
    with h5py.File(path) as f:
        pop = f.attrs["population"]
        out = {k: f[f"spikes/{pop}/{k}"][:] for k in ("timestamps", "node_ids")}
        out["v"] = f[f"report/{pop}/v/data"][:]
        out.update({f"state_{k}": d[:] for k, d in f[f"state/{pop}"].items()
                    if isinstance(d, h5py.Dataset)})
    return out


@pytest.mark.parametrize("model", sorted(CASES))
def test_compiler_options_change_no_result(tmp_path, model, monkeypatch):
    tuned = run(tmp_path, "tuned", model, dict(engine.CPU_COMPILER_OPTIONS), monkeypatch)
    default = run(tmp_path, "default", model, {}, monkeypatch)
    assert tuned["timestamps"].size > 37  # the population fires
    for key in default:
        np.testing.assert_array_equal(tuned[key], default[key], err_msg=key)
