"""Classic HH through the whole pipeline (config -> compiled loop -> HDF5) against an
independent scipy solution, and the integrators' convergence orders."""

import numpy as np
import pytest
from scipy.stats import linregress

from conftest import hh_config
from hh_reference import solve

POP = "/spikes/hodgkin_huxley"


def spike_times(f, pop="hodgkin_huxley", neuron=0):
    g = f[f"spikes/{pop}"]
    ids = g["node_ids"][:]
    return g["timestamps"][:][ids == neuron]


def test_spike_times_match_dop853_within_two_steps(run_config):
    """rk4 at dt = 0.01 ms in float64: every spike of a current step within 2 dt of the
    DOP853 event time (spikesim stamps the end of the crossing step, so the offset is in
    [0, dt] plus the rk4 error, which is far smaller at this dt)."""
    dt = 0.01
    cfg = hh_config(simulation={"duration": 100.0, "dt": dt},
                    input={"type": "step", "amplitude": 10.0, "start": 10.0, "stop": 90.0})
    f = run_config(cfg)
    got = spike_times(f)
    _, want = solve(lambda t: 10.0 if 10.0 <= t < 90.0 else 0.0, 100.0)
    assert len(got) == len(want) > 3
    np.testing.assert_array_less(np.abs(got - want), 2 * dt)


def test_firing_at_5_and_10_uA():
    """Classic HH: 5 uA/cm2 gives one onset spike and no repetitive firing; 10 uA/cm2 fires
    repetitively at ~68 Hz (Hodgkin & Huxley 1952; e.g. Dayan & Abbott fig. 5.11 rheobase for
    repetitive firing ~6.3 uA/cm2)."""
    import h5py

    import spikesim

    rates = {}
    for amp in (5.0, 10.0):
        cfg = hh_config(simulation={"duration": 300.0, "dt": 0.01, "precision": "float32"},
                        input={"type": "constant", "amplitude": amp})
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            path = spikesim.run(cfg, output=f"{d}/hh.h5")
            with h5py.File(path) as f:
                t = spike_times(f)
        rates[amp] = t
    assert len(rates[5.0]) == 1
    isi = np.diff(rates[10.0][-5:])
    _, ref = solve(lambda t: 10.0, 300.0)
    ref_rate = 1000.0 / np.diff(ref[-5:]).mean()
    rate = 1000.0 / isi.mean()
    assert 66.0 < rate < 70.0
    assert abs(rate - ref_rate) < 0.5  # float32, dt 0.01: ISIs within a step of the reference


def _trace(run_config, integrator, dt, t_end=5.0):
    """v(t) of a neuron depolarised by 2 uA/cm2 for 5 ms: subthreshold and smooth (v stays
    below -60 mV)."""
    cfg = hh_config(simulation={"duration": t_end, "dt": dt, "integrator": integrator},
                    input={"type": "constant", "amplitude": 2.0},
                    record={"variables": ["v"], "every": int(round(0.5 / dt))})
    f = run_config(cfg, name=f"{integrator}_{dt}")
    return f["report/hodgkin_huxley/v/data"][:, 0]


@pytest.mark.slow  # a numerical sweep (about 20-30 s): CI runs it
@pytest.mark.parametrize("integrator,order", [("euler", 1), ("rk2", 2), ("rk4", 4),
                                              ("exp_euler", 1)])
def test_convergence_order(run_config, integrator, order):
    """Slope of log(max error) against log(dt) on a smooth stretch, against the DOP853
    solution at the same sample times (every 0.5 ms over 5 ms)."""
    t = np.arange(0.0, 5.0 + 1e-9, 0.5)
    sol, _ = solve(lambda _: 2.0, 5.0, t_eval=t)
    dts = [0.1, 0.05, 0.025, 0.0125] if order < 4 else [0.125, 0.1, 0.0625, 0.05, 0.025]
    errors = [np.max(np.abs(_trace(run_config, integrator, dt) - sol.y[0])) for dt in dts]
    slope = linregress(np.log(dts), np.log(errors)).slope
    assert abs(slope - order) < 0.3, (errors, slope)
