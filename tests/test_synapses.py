"""Synaptic input (SPEC section 10), ``poisson_synapses`` (and ``spike_file`` in the
determinism tests; its accuracy is tests/test_spike_file.py): shot-noise statistics against
Campbell's theorem at two dt, a passive membrane under conductance input against its steady
state and effective time constant, exactness of exp_euler under a constant conductance, and
the same result whatever the chunking, tiling, device count or continuation."""

import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
import yaml

import spikesim
from _runs import datasets
from spikesim.sim.engine import Engine
from spikesim.models import MODELS

#: a LIF whose threshold is out of reach: a passive membrane (tau_m dv/dt = -(v - v_rest) +
#: R_m I, C = tau_m / R_m, g_L = 1 / R_m; nA, uS, nF, MOhm)
PASSIVE = {"type": "lif", "params": {"v_th": 1e9, "t_ref": 0.0}}


def _report(path, var, pop="lif"):
    with h5py.File(path) as f:
        return f[f"report/{pop}/{var}/data"][:].astype(np.float64)


# -- Campbell's theorem --------------------------------------------------------------------
@pytest.mark.parametrize("dt", [0.1, 0.5])
def test_campbell_mean_and_variance_at_two_dt(tmp_path, dt):
    """Shot noise g(t) = sum_j w exp(-(t - t_j) / tau) of a Poisson train of rate r has the
    time-averaged mean r w tau and variance r w^2 tau / 2 (Campbell 1909; e.g. Rice 1944,
    Bell Syst. Tech. J. 23, 282, section 1.4), whatever dt when events fall on the grid.

    The report holds g just before each boundary's events; over the step that ends at such a
    sample g decays from g^- e^q to g^- (q = dt / tau), so its time averages over the step are
    exactly g^- (e^q - 1) / q and (g^-)^2 (e^(2q) - 1) / (2q). For events on a grid the
    variance has one more term, the sawtooth of the mean between events,
    w^2 lam^2 (coth(q/2) / (2q) - 1/q^2) with lam = r dt, i.e. (w r dt)^2 / 12 to leading
    order: 7e-4 of the variance at dt = 0.1, 3 % at dt = 0.5 (derivation: the stationary
    moments of the after-event value, E = w lam / (1 - e^-q) and Var = w^2 lam / (1 - e^-2q),
    averaged over a step)."""
    rate, w, tau = 2000.0, 0.001, 5.0  # Hz, uS, ms
    n, duration, skip = 200, 1000.0, 50.0  # skip 10 tau: the transient from g = 0 is e^-10
    cfg = {"model": PASSIVE, "population": {"size": n},
           "simulation": {"duration": duration, "dt": dt, "seed": 11},
           "input": {"type": "poisson_synapses", "rate": rate, "weight": w, "tau": tau},
           "record": {"spikes": False, "variables": ["g_syn0"], "start": skip}}
    g = _report(spikesim.run(cfg, output=tmp_path / "g.h5"), "g_syn0")[1:]
    q = dt / tau
    m1 = g * np.expm1(q) / q  # each step's time average of g and of g^2
    m2 = g**2 * np.expm1(2 * q) / (2 * q)
    r = rate * 1e-3  # per ms
    lam = r * dt
    mean_th = r * w * tau
    var_th = r * w**2 * tau / 2 + w**2 * lam**2 * (1 / np.tanh(q / 2) / (2 * q) - 1 / q**2)
    mu = m1.mean()
    # neurons are independent: the standard error of each statistic is the spread of the
    # per-neuron values over sqrt(n), whatever their autocorrelation within a neuron
    mean_n = m1.mean(0)
    var_n = m2.mean(0) - 2 * mu * mean_n + mu**2
    se_mean, se_var = mean_n.std(ddof=1) / np.sqrt(n), var_n.std(ddof=1) / np.sqrt(n)
    assert se_mean < 0.003 * mean_th and se_var < 0.02 * var_th  # a sharp test
    assert abs(mu - mean_th) < 4 * se_mean, (mu, mean_th, se_mean)
    assert abs(var_n.mean() - var_th) < 4 * se_var, (var_n.mean(), var_th, se_var)
    # the grid samples themselves sit below the time average by q / (e^q - 1): at dt = 0.5
    # (5 %) far outside the statistical error, so the conversion above is what is tested
    if dt == 0.5:
        assert abs(g.mean() - mean_th) > 10 * se_mean


# -- a passive membrane under conductance input --------------------------------------------
def test_passive_membrane_steady_state_and_effective_time_constant(tmp_path):
    """C dv/dt = g_L (E_L - v) + g(t) (E - v) + I. The mean of v is the steady state
    (g_L E_L + <g> E) / (g_L + <g>) up to the correlation of g and v, which shifts it by
    about <dg dv> / (g_L + <g>) = (E - v) sigma_g^2 tau_s tau_eff / ((tau_s + tau_eff) C
    (g_L + <g>)) (first order in the fluctuations, sigma_g^2 = r w^2 tau_s / 2): added to the
    tolerance. The response to a current step, taken as the difference of two sweep
    combinations that see the same Poisson events (the keys depend on the neuron's index
    within the population), is linear in the step: it relaxes with the effective time
    constant C / (g_L + <g>) (up to O(sigma_g^2) corrections, here below 1e-3)."""
    R_m, tau_m, E_L = 100.0, 20.0, -65.0  # MOhm, ms, mV: g_L = 0.01 uS, C = 0.2 nF
    rate, w, tau_s, E = 100_000.0, 1e-4, 2.0, 0.0  # Hz, uS, ms, mV
    n, t_step, duration, dI = 100, 150.0, 250.0, 0.05  # ms, nA
    cfg = {"model": {**PASSIVE, "params": {**PASSIVE["params"], "R_m": R_m, "tau_m": tau_m,
                                           "v_rest": E_L}},
           "population": {"size": n},
           "simulation": {"duration": duration, "dt": 0.1, "integrator": "rk4",
                          "precision": "float64", "seed": 5},
           "input": [{"type": "poisson_synapses", "rate": rate, "weight": w, "tau": tau_s,
                      "reversal": E},
                     {"type": "step", "amplitude": 0.0, "start": t_step}],
           "record": {"spikes": False, "variables": ["v"]},
           "sweep": {"axes": {"input.1.amplitude": [0.0, dI]}}}
    v = _report(spikesim.run(cfg, output=tmp_path / "v.h5"), "v")
    t = np.arange(v.shape[0]) * 0.1
    g_L, C = 1 / R_m, tau_m / R_m
    g = rate * 1e-3 * w * tau_s
    v_ss = (g_L * E_L + g * E) / (g_L + g)
    tau_eff = C / (g_L + g)
    assert tau_eff < tau_m / 2.5  # a high-conductance state: three times faster

    calm = (t >= 50.0) & (t < t_step)  # 25 tau_s and 7 tau_eff after the start
    per_neuron = v[calm][:, :n].mean(0)
    se = per_neuron.std(ddof=1) / np.sqrt(n)
    sigma2 = rate * 1e-3 * w**2 * tau_s / 2
    shift = (E - v_ss) * sigma2 * tau_s * tau_eff / ((tau_s + tau_eff) * C * (g_L + g))
    assert se < 0.02  # mV
    assert abs(per_neuron.mean() - v_ss) < 4 * se + abs(shift), (per_neuron.mean(), v_ss, se)

    from scipy.optimize import curve_fit

    after = t > t_step
    s = t[after] - t_step
    dv = (v[after][:, n:] - v[after][:, :n]).mean(1)
    (amp, tau_fit), _ = curve_fit(lambda s, a, k: a * -np.expm1(-s / k), s, dv,
                                  p0=(dI / g_L, tau_m))
    assert abs(tau_fit / tau_eff - 1) < 0.01, (tau_fit, tau_eff)
    assert abs(amp * (g_L + g) / dI - 1) < 0.01, amp


def test_exp_euler_is_exact_under_a_constant_conductance(tmp_path):
    """Events at step 0 only (``stop`` one step later) and a decay time far beyond the run:
    g is constant, and the LIF's exp_euler step is the closed form
    v(t) = v_inf + (v0 - v_inf) exp(-t (1 + R_m g) / tau_m), v_inf = (v_rest + R_m g E) /
    (1 + R_m g), at any dt (here 0.5 ms, tau_m / 20)."""
    cfg = {"model": {**PASSIVE, "init": {"v": -70.0}}, "population": {"size": 20},
           "simulation": {"duration": 40.0, "dt": 0.5, "precision": "float64", "seed": 2},
           "input": {"type": "poisson_synapses", "rate": 20_000.0, "weight": 0.01,
                     "tau": 1e15, "reversal": 10.0, "stop": 0.25},
           "record": {"spikes": False, "variables": ["v", "g_syn0"]}}
    path = spikesim.run(cfg, output=tmp_path / "e.h5")
    v, g = _report(path, "v"), _report(path, "g_syn0")
    g0 = g[1]
    assert np.allclose(g[1:], g0, rtol=1e-12, atol=0) and np.ptp(g0) > 0  # counts differ
    p = MODELS["lif"].params
    R, tau_m, v_rest = p["R_m"].default, p["tau_m"].default, p["v_rest"].default
    t = np.arange(v.shape[0])[:, None] * 0.5
    v_inf = (v_rest + R * g0 * 10.0) / (1 + R * g0)
    exact = v_inf + (-70.0 - v_inf) * np.exp(-t * (1 + R * g0) / tau_m)
    np.testing.assert_allclose(v, exact, rtol=0, atol=1e-11)


# -- units and the state -------------------------------------------------------------------
def test_weights_take_the_models_units(tmp_path):
    """A conductance weight in nS reaches the LIF (an nA model) in uS, a current weight in pA
    in nA; the reports and /state carry those units."""
    cfg = {"model": PASSIVE, "population": {"size": 2},
           "simulation": {"duration": 1.0, "dt": 0.1},
           "input": [{"type": "poisson_synapses", "rate": "5 kHz", "weight": "2 nS",
                      "tau": "5 ms", "reversal": "-80 mV"},
                     {"type": "poisson_synapses", "kind": "current", "rate": 1000.0,
                      "weight": "20 pA", "tau": 2.0}],
           "record": {"variables": ["g_syn0", "I_syn1"]}}
    path = spikesim.run(cfg, output=tmp_path / "u.h5")
    with h5py.File(path) as f:
        resolved = yaml.safe_load(f.attrs["config"])["input"]
        assert resolved[0]["weight"] == 0.002 and resolved[0]["rate"] == 5000.0
        assert resolved[1]["weight"] == 0.02 and resolved[0]["reversal"] == -80.0
        assert f["report/lif/g_syn0/data"].attrs["units"] == "uS"
        assert f["report/lif/I_syn1/data"].attrs["units"] == "nA"
        assert f["state/lif/g_syn0"].attrs["units"] == "uS"
        assert f["state/lif/I_syn1"].shape == (2,)



def test_conductance_weight_unit_is_simplified(tmp_path, spikesim_cli):
    """A conductance weight is in the model's current unit per mV, as pint simplifies it:
    Izhikevich's (mV/ms)/mV is 1/ms (was written 'mV/ms/mV'), in messages, in validate and
    in the file; the other models keep their conductance units."""
    from spikesim.core.units import conductance_unit

    assert {n: conductance_unit(m.current_unit) for n, m in MODELS.items()} == {
        "lif": "uS", "qif": "uS", "eif": "uS", "adex": "nS", "izhikevich": "1/ms",
        "hodgkin_huxley": "mS/cm2", "wang_buzsaki": "mS/cm2"}
    assert conductance_unit("uA/cm^2") == "mS/cm2" and conductance_unit("1") == "1/mV"
    cfg = {"model": {"type": "izhikevich"}, "population": {"size": 2},
           "simulation": {"duration": 1.0, "dt": 0.1},
           "input": {"type": "poisson_synapses", "kind": "conductance", "rate": 1000.0,
                     "weight": "1 nS", "tau": 5.0},
           "record": {"variables": ["g_syn0"]}, "output": {"path": str(tmp_path / "iz.h5")}}
    path = tmp_path / "iz.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    code, _, err = spikesim_cli("validate", path)
    assert code == 2 and "input.weight: izhikevich takes a frequency (1/time) (1/ms); got " \
        "1 nS, a conductance. Give it in 1/ms or" in err, err
    assert "mV/ms/mV" not in err
    cfg["input"]["weight"] = 0.01
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    code, out, err = spikesim_cli("validate", path)
    assert code == 0 and "g_syn0 (poisson_synapses at input.0, conductance, 1/ms)" in out + err
    with h5py.File(spikesim.run(cfg, output=tmp_path / "iz.h5")) as f:
        assert f["state/izhikevich/g_syn0"].attrs["units"] == "1/ms"
        assert f["report/izhikevich/g_syn0/data"].attrs["units"] == "1/ms"
    cfg["model"] = {"type": "equations", "file": "izhikevich"}
    from spikesim.config.quantities import key_units

    assert key_units(cfg)[("input", "weight")][0] == "1/ms"  # Izhikevich written as equations

# -- the same result whatever the execution ------------------------------------------------
def synaptic_lif(spikes, size=37):
    """Heterogeneous LIF under excitatory and inhibitory conductances, a current synapse,
    white noise and a spike file (``spikes``: its path), swept over the excitatory
    weight."""
    return {
        "model": {"type": "lif", "params": {"tau_m": {"uniform": [8.0, 12.0]}}},
        "population": {"size": size},
        "simulation": {"duration": 30.0, "dt": 0.1, "seed": 3, "integrator": "rk2"},
        "input": [{"type": "poisson_synapses", "rate": {"linspace": [4000.0, 8000.0]},
                   "weight": 0.004, "tau": {"uniform": [3.0, 6.0]}, "reversal": 0.0},
                  {"type": "poisson_synapses", "rate": 2000.0, "weight": 0.006, "tau": 8.0,
                   "reversal": -80.0},
                  {"type": "poisson_synapses", "kind": "current", "rate": 500.0,
                   "weight": 0.3, "tau": 2.0, "start": 5.0},
                  {"type": "noise", "std": 0.2},
                  {"type": "spike_file", "path": str(spikes), "weight": 0.01, "tau": 3.0,
                   "reversal": -70.0}],
        "record": {"variables": ["v", "g_syn0", "g_syn1", "I_syn2", "g_syn4", "input"],
                   "every": 3, "neurons": {"every": 2}},
        "sweep": {"axes": {"input.0.weight": [0.004, 0.006, 0.008]}},
    }


@pytest.fixture(scope="module")
def spikes(tmp_path_factory):
    """(time, neuron) pairs onto the 37 neurons of a combination over the 30 ms."""
    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(0.0, 30.0, 400))
    path = tmp_path_factory.mktemp("spikes") / "pairs.npy"
    np.save(path, np.stack([t, rng.integers(0, 37, t.size)], axis=1))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory, spikes):
    path = spikesim.run(synaptic_lif(spikes), "simulation.chunk_steps=100000",
                        output=tmp_path_factory.mktemp("ref") / "ref.h5")
    return datasets(path)


def test_synaptic_run_fires_and_records(reference):
    ids = reference["spikes/lif/node_ids"]
    assert ids.size > 100
    assert set(reference) >= {"state/lif/g_syn0", "state/lif/g_syn1", "state/lif/I_syn2",
                              "state/lif/g_syn4", "report/lif/g_syn0/data",
                              "report/lif/g_syn4/data", "report/lif/input/data"}
    g = reference["report/lif/g_syn0/data"]
    assert np.all(g[0] == 0) and np.all(g[1:].max(0) > 0)
    i2 = reference["report/lif/I_syn2/data"]
    assert np.all(i2[:16] == 0) and i2.max() > 0  # nothing before start = 5 ms (row 16 = 4.8)


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_chunking_changes_nothing(tmp_path, reference, spikes, chunk):
    got = datasets(spikesim.run(synaptic_lif(spikes), f"simulation.chunk_steps={chunk}",
                                output=tmp_path / "c.h5"))
    assert got.keys() == reference.keys()
    for key in reference:
        np.testing.assert_array_equal(got[key], reference[key], err_msg=key)


def test_tiles_change_nothing(tmp_path, reference, spikes, monkeypatch):
    monkeypatch.setattr(MODELS["lif"], "cpu_tile", 16)
    made = []
    monkeypatch.setattr(Engine, "compile", lambda self, carry, compile=Engine.compile: (
        made.append(self.n_tiles), compile(self, carry))[1])
    got = datasets(spikesim.run(synaptic_lif(spikes), "simulation.chunk_steps=100000",
                                output=tmp_path / "t.h5"))
    assert made and made[0] > 1
    for key in reference:
        np.testing.assert_array_equal(got[key], reference[key], err_msg=key)


def test_four_devices_change_nothing(tmp_path, reference, spikes):
    conf = tmp_path / "cfg.yaml"
    conf.write_text(yaml.safe_dump(synaptic_lif(spikes)))
    out = tmp_path / "four.h5"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    r = subprocess.run([sys.executable, "-m", "spikesim", "run", str(conf), "-q", "-o", str(out),
                        "simulation.devices=4", "simulation.chunk_steps=100000"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    got = datasets(out)
    with h5py.File(out) as f:
        assert "x4" in f.attrs["device"]
    for key in reference:
        np.testing.assert_array_equal(got[key], reference[key], err_msg=key)


def test_init_from_continues_the_synapses(tmp_path, spikes):
    """Two halves, the second continued from the first's /state (v, refractory counters and
    the synaptic variables, the noise keys counting on), are the whole run bit for bit."""
    cfg = synaptic_lif(spikes)
    # the stimulus times of a continued run restart at 0, a spike file's included
    cfg["input"][2]["start"] = 0.0
    cfg["input"] = cfg["input"][:4]
    cfg["record"]["variables"].remove("g_syn4")
    whole = datasets(spikesim.run(cfg, output=tmp_path / "whole.h5"))
    first = spikesim.run(cfg, "simulation.duration=15.0", output=tmp_path / "a.h5")
    second = spikesim.run(cfg, "simulation.duration=15.0", output=tmp_path / "b.h5",
                          init_from=first)
    a, b = datasets(first), datasets(second)
    for var in ("v", "g_syn0", "g_syn1", "I_syn2", "input"):
        key = f"report/lif/{var}/data"
        joined = np.concatenate([a[key], b[key][1:]])  # b's row 0 is a's last row
        np.testing.assert_array_equal(joined, whole[key], err_msg=var)
    for key in whole:
        if key.startswith("state/"):
            np.testing.assert_array_equal(b[key], whole[key], err_msg=key)
    t = np.concatenate([a["spikes/lif/timestamps"], b["spikes/lif/timestamps"] + 15.0])
    np.testing.assert_allclose(t, whole["spikes/lif/timestamps"], rtol=0, atol=1e-9)
    ids = np.concatenate([a["spikes/lif/node_ids"], b["spikes/lif/node_ids"]])
    np.testing.assert_array_equal(ids, whole["spikes/lif/node_ids"])


def test_init_from_names_a_synaptic_state_it_drops(tmp_path, spikesim_cli):
    """A warm-up's synaptic variable that no input of the continued config takes was dropped
    without a word (its current simply stopped)."""
    cfg = {"model": PASSIVE, "population": {"size": 2},
           "simulation": {"duration": 5.0, "dt": 0.1},
           "input": {"type": "poisson_synapses", "kind": "current", "rate": 1000.0,
                     "weight": 0.01, "tau": 5.0}}
    (tmp_path / "warm.yaml").write_text(yaml.safe_dump(cfg))
    cfg["input"] = {"type": "constant", "amplitude": 0.1}
    (tmp_path / "next.yaml").write_text(yaml.safe_dump(cfg))
    code, _, err = spikesim_cli("run", "warm.yaml", "-o", "warm.h5")
    assert code == 0, err
    code, _, err = spikesim_cli("run", "next.yaml", "--init-from", "warm.h5", "-o", "next.h5")
    assert code == 0 and "holds I_syn0, which no synaptic input of this config" in err


def test_merged_shards_equal_the_unsharded_run(tmp_path, reference, spikes):
    """3 shards of the 111 neurons (ranges that cut sweep combinations): Poisson events keyed
    by the global neuron id and spike-file columns by its index in the population, so the
    merged shards are the unsharded run, /state (synaptic variables included) too."""
    from spikesim.config.load import load
    from spikesim.cluster.merge import merge
    from spikesim.sim.plan import make_plan
    from spikesim.cluster.shards import make_manifest, open_run_dir, run_one

    conf = tmp_path / "cfg.yaml"
    conf.write_text(yaml.safe_dump(synaptic_lif(spikes)))
    run_dir = tmp_path / "run.d"
    plan = make_plan(load(conf, ["simulation.chunk_steps=100000"]), run_dir)
    manifest = open_run_dir(run_dir, make_manifest(plan, 3, conf,
                                                   ["simulation.chunk_steps=100000"]), False)
    for i in range(3):
        run_one(run_dir, manifest, i, plan=plan)
    got = datasets(merge(run_dir, tmp_path / "merged.h5"))
    for key in reference:
        np.testing.assert_array_equal(got[key], reference[key], err_msg=key)


# -- equations models (issue 16) under synaptic input ----------------------------------------
def _hh_under_synapses(tmp_path, model, name):
    cfg = {"name": name, "model": model, "population": {"size": 6},
           "simulation": {"duration": 60.0, "dt": 0.01, "integrator": "rk4",
                          "precision": "float64", "seed": 3},
           "input": [{"type": "constant", "amplitude": 2.0},
                     {"type": "poisson_synapses", "rate": 3000.0, "kind": "conductance",
                      "weight": {"linspace": [0.02, 0.07]}, "tau": 3.0, "reversal": 0.0},
                     {"type": "poisson_synapses", "rate": 1000.0, "kind": "current",
                      "weight": 1.5, "tau": 2.0}],
           "record": {"variables": ["v", "g_syn1"], "neurons": "all"}}
    out = spikesim.run(cfg, output=tmp_path / f"{name}.h5")
    with h5py.File(out) as f:
        pop = next(iter(f["spikes"]))
        return (f[f"spikes/{pop}/timestamps"][:], f[f"spikes/{pop}/node_ids"][:],
                f[f"report/{pop}/v/data"][:], f[f"report/{pop}/g_syn1/data"][:])


def test_equations_model_under_synapses_is_the_builtin(tmp_path):
    """HH written as equations (the shipped file) under a conductance and a current synapse
    reproduces the built-in model under the same events: the conductance reaches the equations'
    v at every rk4 stage as it reaches the built-in's (float64; the equations file reproduces
    the built-in to the last bit without synapses, tests/test_equations_builtins.py)."""
    t_b, ids_b, v_b, g_b = _hh_under_synapses(tmp_path, {"type": "hodgkin_huxley"}, "builtin")
    t_e, ids_e, v_e, g_e = _hh_under_synapses(
        tmp_path, {"type": "equations", "file": "hodgkin_huxley"}, "eq")
    assert len(t_b) >= 6  # the synapses make them fire
    np.testing.assert_array_equal(ids_e, ids_b)
    np.testing.assert_array_equal(t_e, t_b)
    np.testing.assert_array_equal(g_e, g_b)  # the same events
    assert np.max(np.abs(v_e - v_b)) <= 1e-9


def test_conductance_input_needs_a_membrane_potential(spikesim_cli, tmp_path):
    cfg = {"model": {"type": "equations", "file": "hindmarsh_rose"},
           "simulation": {"duration": 10.0, "dt": 0.05},
           "input": [{"type": "poisson_synapses", "rate": 1000.0, "kind": "conductance",
                      "weight": 0.1, "tau": 5.0, "reversal": 0.0}],
           "output": {"path": str(tmp_path / "hr.h5")}}
    path = tmp_path / "hr.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    code, _, err = spikesim_cli("run", path)
    assert code == 2 and "hr.yaml:" in err and "input.0.kind" in err, err
    assert "has no such state (its states: x (1), y (1), z (1))" in err
    assert not (tmp_path / "hr.h5").exists() and not (tmp_path / "hr.h5.partial").exists()


def test_recorded_subexpression_under_a_conductance(tmp_path):
    """Morris-Lecar (equations) records its subexpression m_inf while a conductance drives
    v: the recorded m_inf is the file's formula of the recorded v."""
    cfg = {"model": {"type": "equations", "file": "morris_lecar"}, "population": {"size": 2},
           "simulation": {"duration": 50.0, "dt": 0.05, "precision": "float64"},
           "input": [{"type": "constant", "amplitude": 60.0},
                     {"type": "poisson_synapses", "rate": 2000.0, "kind": "conductance",
                      "weight": 0.05, "tau": 5.0, "reversal": 0.0}],
           "record": {"variables": ["v", "m_inf"]}}
    out = spikesim.run(cfg, output=tmp_path / "ml.h5")
    with h5py.File(out) as f:
        pop = next(iter(f["report"]))
        v, m = f[f"report/{pop}/v/data"][:], f[f"report/{pop}/m_inf/data"][:]
    library = os.path.join(os.path.dirname(spikesim.__file__), "models", "library")
    spec = yaml.safe_load(open(os.path.join(library, "morris_lecar.yaml")))
    p = {k: float(str(x).split()[0]) for k, x in spec["params"].items()}
    np.testing.assert_allclose(m, 0.5 * (1 + np.tanh((v - p["V1"]) / p["V2"])), atol=1e-12)
    assert np.ptp(v) > 10  # v moved
