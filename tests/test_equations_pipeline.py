"""An equations model uses everything a built-in model does, unchanged: per-neuron
parameters, sweeps, recording of state variables and subexpressions, float32, several
devices, continuing a run (--init-from, --from), blow-up detection and precise spike timing;
and units of the same dimension convert (SPEC section 5)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
import yaml

import spikesim

#: AdEx-like model with the currents in nA and the conductance in nS, leak written as a
#: conductance: C dv/dt = -g_L (v - E_L) + g_L D exp((v - V_T)/D) - w + I, with Naud et al.
#: (2008) tonic values
ADEX_NA = {
    "type": "equations",
    "equations": (
        "dv/dt = (-g_L*(vc - E_L) + g_L*D*exp((vc - V_T)/D) - w + I)/C : mV\n"
        "dw/dt = (a*(vc - E_L) - w)/tau_w : nA\n"
        "vc = minimum(v, v_th) : mV   # as NEST bounds V by V_peak: no RK stage past v_th\n"
        "i_leak = g_L*(v - E_L) : pA\n"),
    "current": {"name": "I", "unit": "nA"},
    "params": {"C": "0.2 nF", "g_L": "10 nS", "E_L": "-70 mV", "V_T": "-50 mV", "D": "2 mV",
               "a": "2 nS", "tau_w": "30 ms", "b": "0.0 nA", "v_th": "0 mV", "v_r": "-58 mV"},
    "init": {"v": "-70 mV", "w": "0 nA"},
    "threshold": "v > v_th",
    "reset": "v = v_r; w += b",
}


def _cfg(**over):
    cfg = {"model": copy.deepcopy(ADEX_NA),
           "population": {"size": 4},
           "simulation": {"duration": 100.0, "dt": 0.05, "integrator": "rk4",
                          "precision": "float64"},
           "input": {"type": "step", "amplitude": [0.3, 0.4, 0.5, 0.6], "start": 5.0},
           "record": {"variables": ["v", "w", "i_leak"], "every": 4}}
    for k, v in over.items():
        cfg[k] = v
    return cfg


def _pa_version():
    """The same model with every current in pA and conductances in pS (C in pF)."""
    m = copy.deepcopy(ADEX_NA)
    m["current"] = {"name": "I", "unit": "pA"}
    m["equations"] = m["equations"].replace(": nA", ": pA")
    m["params"].update({"C": "200 pF", "g_L": "10000 pS", "a": "2000 pS", "b": "0 pA"})
    m["init"]["w"] = "0 pA"
    return m


def test_units_of_the_same_dimension_convert(tmp_path):
    """nA/nF, nS x mV = pA beside nA, and pA/pF: the same mV/ms, so the same trajectory
    (to rounding: the factors 1e-3 are not exact in binary)."""
    a = spikesim.load(spikesim.run(_cfg(), output=tmp_path / "na.h5"))
    cfg = _cfg(model=_pa_version())
    cfg["input"] = {"type": "step", "amplitude": [300, 400, 500, 600], "start": 5.0}
    b = spikesim.load(spikesim.run(cfg, output=tmp_path / "pa.h5"))
    assert len(a.spikes) > 4
    np.testing.assert_array_equal(a.spikes.counts, b.spikes.counts)
    np.testing.assert_allclose(a.trace("v").data, b.trace("v").data, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.trace("w").data * 1000, b.trace("w").data, rtol=1e-9,
                               atol=1e-9)
    # the subexpression is recorded in its own unit (pA), after each step's reset
    v = a.trace("v").data
    np.testing.assert_allclose(a.trace("i_leak").data, 10.0 * (v + 70.0), rtol=1e-12,
                               atol=1e-9)
    with h5py.File(tmp_path / "na.h5") as f:
        assert f["report/equations/i_leak/data"].attrs["units"] == "pA"
        assert f["report/equations/w/data"].attrs["units"] == "nA"


def test_sweep_per_neuron_float32_and_resolved_config(tmp_path):
    cfg = _cfg()
    cfg["model"]["params"]["a"] = {"linspace": ["0 nS", "4 nS"]}
    cfg["simulation"]["precision"] = "float32"
    cfg["sweep"] = {"axes": {"model.params.tau_w": ["30 ms", "0.1 s"]}}
    path = spikesim.run(cfg, output=tmp_path / "s.h5")
    r = spikesim.load(path)
    assert r.n == 8
    assert r.trace("v").data.dtype == np.float32
    with h5py.File(path) as f:
        np.testing.assert_array_equal(f["neurons/equations/model.params.tau_w"][:],
                                      [30, 30, 30, 30, 100, 100, 100, 100])
        config = yaml.safe_load(f.attrs["config"])
    # the resolved config is self-contained: units beside the values, no model file
    assert config["model"]["params"]["C"] == "0.2 nF"
    assert config["model"]["params"]["a"] == {"linspace": ["0.0 nS", "4.0 nS"]}
    # --from re-runs it to the same result
    again = spikesim.run(config, output=tmp_path / "again.h5")
    np.testing.assert_array_equal(spikesim.load(again).trace("v").data, r.trace("v").data)


def test_init_from_continues_the_run(tmp_path):
    """100 ms in one run = 50 ms, then 50 ms from its final state (constant input)."""
    cfg = _cfg()
    cfg["input"] = {"type": "constant", "amplitude": [0.3, 0.4, 0.5, 0.6]}
    cfg["record"] = {"variables": ["v", "w", "i_leak"], "every": 1}
    whole = spikesim.load(spikesim.run(cfg, output=tmp_path / "whole.h5"))
    cfg["simulation"]["duration"] = 50.0
    first = spikesim.run(cfg, output=tmp_path / "first.h5")
    second = spikesim.load(spikesim.run(cfg, output=tmp_path / "second.h5", init_from=first))
    np.testing.assert_array_equal(second.trace("v").data, whole.trace("v").data[1000:])
    np.testing.assert_array_equal(second.trace("i_leak").data,
                                  whole.trace("i_leak").data[1000:])


def test_precise_timing_as_the_builtin_adex(tmp_path):
    """The library's adex_equations with spike_timing: precise gives the built-in adex's
    spike times (both take spikesim.models.spike_timing's step; the right-hand sides agree to the
    last bit, tests/test_equations_builtins.py)."""
    def run(model, name):
        cfg = {"model": model, "population": {"size": 3},
               "simulation": {"duration": 200.0, "dt": 0.1, "integrator": "rk4",
                              "precision": "float64", "spike_timing": "precise"},
               "input": {"type": "constant", "amplitude": [100.0, 150.0, 250.0]}}
        return spikesim.load(spikesim.run(cfg, output=tmp_path / f"{name}.h5")).spikes

    eq = run({"type": "equations", "file": "adex"}, "eq")
    builtin = run({"type": "adex", "init": {"v": -70.0, "w": 0.0}}, "builtin")
    assert len(eq) > 5
    np.testing.assert_array_equal(eq.ids, builtin.ids)
    np.testing.assert_allclose(eq.t, builtin.t, rtol=0, atol=1e-9)
    assert np.any(np.abs(eq.t / 0.1 - np.round(eq.t / 0.1)) > 1e-3)  # off the grid


THETA = """\
model:
  type: equations
  equations: |
    dth/dt = ((1 - cos(th)) + (1 + cos(th))*eta)/tau : 1
  current: {name: eta, unit: 1}
  params: {tau: 10 ms, pi: 3.141592653589793, two_pi: 6.283185307179586}
  init: {th: 0}
  threshold: th > pi
  reset: th -= two_pi
population: {size: 3}
simulation: {duration: 200.0, dt: 0.1, integrator: rk4, precision: float64,
             spike_timing: precise}
input: {type: constant, amplitude: [0.1, 0.25, 1.0]}
"""


def test_theta_neuron_with_a_plain_current_spikes_at_its_closed_form(tmp_path):
    """Ermentrout & Kopell's theta neuron, its current dimensionless (`unit: 1`, which YAML
    reads as a number: was refused as a malformed model.current). From th = 0 under eta > 0,
    tan(th/2) = sqrt(eta) tan(sqrt(eta) t/tau): th reaches pi at T/2, then once a period
    T = pi tau/sqrt(eta). rk4 at dt = 0.1 ms (0.2 % of the shortest period) with the
    Hermite crossing measured 1e-8 ms; 1e-6 leaves a margin, and is 1e5 below the grid's
    dt-sized error."""
    (tmp_path / "theta.yaml").write_text(THETA)
    r = spikesim.load(spikesim.run(tmp_path / "theta.yaml", output=tmp_path / "theta.h5"))
    for i, eta in enumerate([0.1, 0.25, 1.0]):
        T = np.pi * 10.0 / np.sqrt(eta)
        t = np.asarray(r.spikes[i])
        assert len(t) == int((200.0 - T / 2) // T) + 1
        np.testing.assert_allclose(t, T / 2 + T * np.arange(len(t)), rtol=0, atol=1e-6)


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _lif_sfa_dop853(I, T=500.0):
    """Spike times (ms) of configs/lif_sfa_conductance.yaml's neuron under a constant ``I``
    (pA), event-driven with scipy's DOP853: integrate to v = v_th, reset (v = v_reset,
    g_a += dg_a), then hold both for t_ref (SPEC 5: the variables reset assigns are held),
    continue. Units pF, nS, mV, pA, ms: (nS mV + pA)/pF is mV/ms."""
    from scipy.integrate import solve_ivp

    C, g_L, E_L, E_K, tau_a, dg_a, v_th, v_r, t_ref = 200, 10, -70, -80, 100, 2, -50, -60, 2
    hit = lambda t, y: y[0] - v_th  # noqa: E731
    hit.terminal, hit.direction = True, 1
    t, y, out = 0.0, [E_L, 0.0], []
    while t < T:
        s = solve_ivp(lambda t, y: [(g_L * (E_L - y[0]) + y[1] * (E_K - y[0]) + I) / C,
                                    -y[1] / tau_a], (t, T), y, method="DOP853", rtol=1e-12,
                      atol=1e-12, events=hit)
        if not s.t_events[0].size:
            break
        out.append(s.t_events[0][0])
        t, y = out[-1] + t_ref, [v_r, s.y_events[0][0][1] + dg_a]
    return np.array(out)


def test_lif_sfa_example_against_dop853(tmp_path):
    """configs/lif_sfa_conductance.yaml: as shipped (Poisson conductance input) the mean
    excitatory conductance is rate x weight x tau = 7.5 nS (Campbell; the grid samples sit
    below by q/(e^q - 1) = 0.990, q = dt/tau; 2 neurons x 475 ms of shot noise, variance
    rate weight^2 tau / 2 = 1.9 nS^2, correlation time 5 ms: the time average's std is
    sqrt(1.9 x 2 x 5/475 / 2) = 0.14 nS, and 6 % (0.45 nS) is 3 of them). Under constant
    currents instead its precise spike times (rk4, dt 0.1 ms) match the event-driven DOP853
    reference: measured 5e-9 ms, asserted 1e-6."""
    cfg = os.path.join(REPO, "configs", "lif_sfa_conductance.yaml")
    r = spikesim.load(spikesim.run(cfg, output=tmp_path / "poisson.h5"))
    g = r.trace("g_syn0", t0=25.0).data
    assert np.mean(g) == pytest.approx(7.5 * 0.990, rel=0.06)
    amps = [250.0, 300.0, 400.0, 600.0]
    r = spikesim.load(spikesim.run(cfg, f"input={{type: constant, amplitude: {amps}}}",
                                   "record.variables=[v, g_a]", "population.size=4",
                                   output=tmp_path / "constant.h5"))
    for i, I in enumerate(amps):
        ref, t = _lif_sfa_dop853(I), np.asarray(r.spikes[i])
        assert len(ref) >= 6 and len(t) == len(ref)
        np.testing.assert_allclose(t, ref, rtol=0, atol=1e-6)
    assert np.diff(r.spikes[1])[-1] > 2 * np.diff(r.spikes[1])[0]  # it adapts: 23 -> 56 ms


def test_blowup_is_detected(spikesim_cli, tmp_path):
    cfg = tmp_path / "boom.yaml"
    cfg.write_text(yaml.safe_dump({
        "model": {"type": "equations", "equations": "dv/dt = v*v*k : mV\n",
                  "params": {"k": "1 1/(mV*ms)"}, "init": {"v": "1 mV"}},
        "simulation": {"duration": 5.0, "dt": 0.1, "integrator": "euler"}}))
    code, out, err = spikesim_cli("run", cfg, "-q", "-o", tmp_path / "boom.h5")
    assert code == 1, err
    assert "Traceback" not in err and "NaN or inf" in err or "inf" in err, err
    assert (tmp_path / "boom.h5.partial").exists()


def test_blowup_suggests_exp_euler_only_for_a_variable_it_steps_exactly(spikesim_cli, tmp_path):
    """v is not conditionally linear (dv/dt = k v^2): exp_euler would step it by Euler, no
    better than rk4, so it is not offered (was: "Try ... simulation.integrator: exp_euler
    (now rk4)", exp_euler being allowed for the linear w)."""
    cfg = tmp_path / "boom.yaml"
    cfg.write_text(yaml.safe_dump({
        "model": {"type": "equations",
                  "equations": "dv/dt = v*v*k : mV\ndw/dt = (v - w)/tau : mV\n",
                  "params": {"k": "1 1/(mV*ms)", "tau": "1 ms"},
                  "init": {"v": "1 mV", "w": "0 mV"}},
        "simulation": {"duration": 5.0, "dt": 0.1, "integrator": "rk4"}}))
    code, out, err = spikesim_cli("run", cfg, "-q", "-o", tmp_path / "boom.h5")
    assert code == 1 and "numerical blow-up" in err and ": v of neuron 0" in err, err
    assert "smaller dt" in err and "integrator: exp_euler" not in err, err


@pytest.mark.slow
def test_two_devices_give_the_same_result(tmp_path):
    conf = tmp_path / "c.yaml"
    cfg = _cfg()
    cfg["population"]["size"] = 4
    conf.write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    outs = []
    for devices in (1, 2):
        out = tmp_path / f"d{devices}.h5"
        r = subprocess.run([sys.executable, "-m", "spikesim", "run", str(conf), "-q", "-o",
                            str(out), f"simulation.devices={devices}"], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs.append(spikesim.load(out))
    # the same spikes; v to a few ulps (measured 7e-14 mV): XLA:CPU compiles the step for
    # shares of 2 neurons differently from 4 (vector and remainder loops)
    np.testing.assert_allclose(outs[0].trace("v").data, outs[1].trace("v").data, rtol=0,
                               atol=1e-12)
    np.testing.assert_array_equal(outs[0].spikes.t, outs[1].spikes.t)


def test_models_lists_and_describes_model_files(spikesim_cli, tmp_path):
    import json

    code, out, err = spikesim_cli("models")
    assert code == 0 and "morris_lecar" in out and "connor_stevens" in out and "adex" in out
    code, out, err = spikesim_cli("models", "file:lif", "--json")
    info = json.loads(out)
    assert info["params"]["R_m"]["unit"] == "MOhm" and info["states"]["v"]["conditionally_linear"]
    code, out, err = spikesim_cli("models", "morris_lecarr")
    assert code == 2 and "Did you mean 'morris_lecar'" in err
    # one's own model file, by its path as model.file takes it (was: "no model file")
    from spikesim.equations import library

    (tmp_path / "mine.yaml").write_text(library()["lif"].read_text().replace(
        "tau_m: 10 ms", "tau_m: 12 ms"))
    code, out, err = spikesim_cli("models", "file:mine.yaml", "--json")
    assert code == 0, err
    assert json.loads(out)["params"]["tau_m"]["default"] == 12.0
    (tmp_path / "bad.yaml").write_text("equations: |\n  dv/dt = (1 - v : mV\ninit: {v: 0}\n")
    code, out, err = spikesim_cli("models", "file:bad.yaml")
    assert code == 2 and "bad.yaml:2:" in err and "never closed" in err, err


def test_validate_prints_the_parsed_model(spikesim_cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(_cfg()))
    code, out, err = spikesim_cli("validate", cfg)
    assert code == 0, err
    assert "state         w [nA], exp_euler: exact" in err
    assert "state         v [mV], exp_euler: Euler" in err  # minimum(v, v_th): not linear
    assert "parameter     C = 0.2 nF" in err
    assert yaml.safe_load(out)["model"]["equations"] == ADEX_NA["equations"]


def test_validate_prints_the_values_of_the_run(spikesim_cli, tmp_path):
    """The parsed model shows the parameters the run uses: a config's override of a model
    file's value, converted to the file's unit (was: the file's default), and the range of a
    per-neuron value or sweep axis (was: 'nan')."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({
        "model": {"type": "equations", "file": "lif",
                  "params": {"tau_m": "0.02 s", "v_rest": ["-70 mV", "-60 mV"]}},
        "population": {"size": 2},
        "simulation": {"duration": 1.0, "dt": 0.1},
        "sweep": {"axes": {"model.params.v_th": ["-55 mV", "-0.045 V"]}}}))
    code, out, err = spikesim_cli("validate", cfg)
    assert code == 0, err
    assert "parameter     tau_m = 20 ms\n" in err, err
    assert "parameter     v_rest = -70 .. -60 mV (per neuron)\n" in err, err
    assert "parameter     v_th = -55 .. -45 mV (per neuron)\n" in err, err
    assert "parameter     R_m = 10 MOhm\n" in err, err


def test_precise_timing_with_a_refractory_period_and_a_refused_threshold(spikesim_cli,
                                                                         tmp_path):
    """An equations model with a refractory period runs with precise timing (its spikes off
    the grid); a threshold precise timing cannot locate (not 'x > P', P a parameter or a
    constant) is a config error naming the file and the key, and no file is written."""
    cfg = tmp_path / "c.yaml"
    out_path = tmp_path / "c.h5"
    cfg.write_text(yaml.safe_dump({
        "model": {"type": "equations", "file": "lif"},
        "simulation": {"duration": 20.0, "dt": 0.1, "spike_timing": "precise"},
        "input": {"type": "constant", "amplitude": 3.0},
        "output": {"path": str(out_path)}}))
    code, out, err = spikesim_cli("run", cfg, "-q")
    assert code == 0, err
    with h5py.File(out_path) as f:
        assert f.attrs["spike_timing"] == "precise"
        t = f["spikes/lif_equations/timestamps"][:]
    assert t.size >= 2 and np.abs(np.round(t / 0.1) * 0.1 - t).max() > 1e-3  # off the grid
    out_path.unlink()
    code, out, err = spikesim_cli("run", cfg, "model.threshold=v - v_th > 0 mV")
    assert code == 2 and "c.yaml:" in err and "simulation.spike_timing" in err, err
    assert "'v - v_th > 0 mV'" in err and "'v > v_th' with v_th in params" in err, err
    assert not out_path.exists()


def test_time_and_per_neuron_initial_values_float32(tmp_path):
    """t in an equation and initial values per neuron, in float32: the state stays float32,
    row 0 holds the initial values, and v at the end matches the closed form of
    v' = (A sin(w t) - v)/tau."""
    cfg = {"model": {"type": "equations",
                     "equations": "dv/dt = (A*sin(t*omega) - v)/tau : mV\n",
                     "params": {"A": "1 mV", "omega": "0.1 1/ms", "tau": "5 ms"},
                     "init": {"v": ["0 mV", "1 mV", "2 mV"]}},
           "population": {"size": 3},
           "simulation": {"duration": 10.0, "dt": 0.1, "integrator": "rk4"},
           "record": {"variables": ["v"]}}
    r = spikesim.load(spikesim.run(cfg, output=tmp_path / "t.h5"))
    v = r.trace("v").data
    assert v.dtype == np.float32
    np.testing.assert_array_equal(v[0], [0.0, 1.0, 2.0])
    # closed form: v = e^(-t/tau) v0 + A (sin(wt) - w tau cos(wt) + w tau e^(-t/tau)) / (1 + (w tau)^2)
    t, tau, w = 10.0, 5.0, 0.1
    exact = (np.exp(-t / tau) * np.array([0.0, 1.0, 2.0])
             + (np.sin(w * t) - w * tau * np.cos(w * t) + w * tau * np.exp(-t / tau))
             / (1 + (w * tau) ** 2))
    np.testing.assert_allclose(v[-1], exact, atol=1e-5)  # rk4 at dt 0.1: ~1e-8; float32: 1e-6


def test_a_literal_zero_takes_the_dimension_beside_it(tmp_path):
    """``maximum(E_L - v, 0)``, ``v > 0``, ``reset: v = 0``: a bare 0 is 0 in every unit, so
    it takes the dimension of what it is compared with, added to or chosen against (a bare
    1 is still refused). Closed form of the rectified relaxation dv/dt = max(E_L - v, 0)/tau:
    from below E_L, v = E_L - (E_L - v0) exp(-t/tau); from above, v stays at v0."""
    model = {"type": "equations",
             "equations": "dv/dt = maximum(E_L - v, 0)/tau + 0*I/C : mV\n",
             "current": {"name": "I", "unit": "nA"},
             "params": {"E_L": "-65 mV", "tau": "10 ms", "C": "1 nF"},
             "init": {"v": [-70.0, -60.0]},
             "threshold": "v > 0", "reset": "v = 0"}
    cfg = {"model": model, "population": {"size": 2},
           "simulation": {"duration": 20.0, "dt": 0.01, "integrator": "rk4",
                          "precision": "float64"},
           "record": {"variables": ["v"], "every": 100}}
    f = spikesim.load(spikesim.run(cfg, output=tmp_path / "z.h5"))
    v = np.asarray(f.trace("v").data)
    t = np.arange(v.shape[0]) * 1.0
    # rk4's error on an exponential at dt/tau = 1e-3 is ~1e-14 relative: 1e-9 mV is loose
    np.testing.assert_allclose(v[:, 0], -65.0 - 5.0 * np.exp(-t / 10.0), atol=1e-9, rtol=0)
    np.testing.assert_array_equal(v[:, 1], -60.0)
    bad = copy.deepcopy(cfg)
    bad["model"]["threshold"] = "v > 1"
    from spikesim.errors import ConfigError

    with pytest.raises(ConfigError, match="1 is a plain number, expected a voltage"):
        spikesim.run(bad, output=tmp_path / "bad.h5")
    assert not (tmp_path / "bad.h5").exists()


def test_a_fractional_power_of_a_quantity(tmp_path):
    """``v**(1/3) * u**(2/3)`` is a voltage: an exponent made of numbers only (1/3, not just
    a literal) raises a dimension to a rational power, as pint and Brian2 do (was refused:
    "needs a number as exponent"). Closed form of dv/dt = -v^(1/3) u^(2/3)/tau: v^(2/3)
    falls linearly, v(t) = (v0^(2/3) - 2 t u^(2/3)/(3 tau))^(3/2)."""
    model = {"type": "equations",
             "equations": "dv/dt = -v**(1/3) * u**(2/3)/tau : mV\n",
             "params": {"u": "1 mV", "tau": "1 ms"}, "init": {"v": "8 mV"}}
    cfg = {"model": model, "population": {"size": 1},
           "simulation": {"duration": 3.0, "dt": 0.001, "integrator": "rk4",
                          "precision": "float64"},
           "record": {"variables": ["v"], "every": 100}}
    f = spikesim.load(spikesim.run(cfg, output=tmp_path / "p.h5"))
    v = np.asarray(f.trace("v").data)[:, 0]
    t = np.arange(v.size) * 0.1
    # rk4 at dt = 1e-3 ms on a smooth solution (v >= 2.8 mV here): errors ~1e-12 mV
    np.testing.assert_allclose(v, (4.0 - 2.0 * t / 3.0) ** 1.5, atol=1e-9, rtol=0)
    bad = copy.deepcopy(cfg)
    bad["model"]["equations"] = "dv/dt = -v**(u/u) /tau : mV\n"
    from spikesim.errors import ConfigError

    with pytest.raises(ConfigError, match="needs a number as exponent"):
        spikesim.run(bad, output=tmp_path / "bad.h5")


@pytest.mark.parametrize("timing", ["grid", "precise"])
def test_a_refractory_parameter_in_seconds(tmp_path, timing):
    """``refractory: t_ref`` with ``t_ref: 0.002 s`` holds the neuron 2 ms, as ``t_ref: 2 ms``
    does (was refused: "give the parameter t_ref in ms"). Closed form of the LIF under a
    constant current (v_inf = -45 mV, v_th = -50 mV, reset to -65 mV, tau = 10 ms): the k-th
    spike at k T - t_ref with T = t_ref + tau ln(20/5); the grid's are O(dt) off it."""
    model = {"type": "equations", "equations": "dv/dt = (E - v + R*I)/tau : mV\n",
             "current": {"name": "I", "unit": "nA"},
             "params": {"E": "-65 mV", "tau": "10 ms", "R": "10 MOhm", "t_ref": "0.002 s",
                        "v_th": "-50 mV"},
             "init": {"v": "-65 mV"}, "threshold": "v > v_th", "reset": "v = E",
             "refractory": "t_ref"}
    cfg = {"model": model, "input": {"type": "constant", "amplitude": 2.0},
           "simulation": {"duration": 50.0, "dt": 0.1, "integrator": "rk4",
                          "precision": "float64", "spike_timing": timing}}
    t = np.asarray(spikesim.load(spikesim.run(cfg, output=tmp_path / "r.h5")).spikes.times)
    period = 2.0 + 10.0 * np.log(4.0)
    exact = np.arange(1, 4) * period - 2.0
    if timing == "precise":  # rk4's dense output: 1e-6 ms at dt/tau = 0.01
        np.testing.assert_allclose(t.ravel(), exact, atol=1e-5, rtol=0)
    else:  # the same spikes as with t_ref in ms, each within a step or two of the exact time
        cfg["model"]["params"]["t_ref"] = "2 ms"
        t_ms = spikesim.load(spikesim.run(cfg, output=tmp_path / "ms.h5")).spikes.times
        np.testing.assert_array_equal(t, np.asarray(t_ms))
        assert t.size == 3 and np.abs(t.ravel() - exact).max() < 0.2
