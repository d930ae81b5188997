"""Random inputs: statistics of the recorded white and OU currents, the dt-independence of a
passive membrane driven by white noise, and counter-based reproducibility (chunk size,
population size, sweeps, seeds)."""

import numpy as np
import pytest


def lif(input_, size, duration, dt, every=1, variables=("input",), **extra):
    cfg = {
        "model": {"type": "lif", "params": {"v_th": 1e9, "tau_m": 10.0, "R_m": 10.0}},
        "population": {"size": size},
        "simulation": {"duration": duration, "dt": dt, "precision": "float64"},
        "input": input_,
        "record": {"spikes": False, "variables": list(variables), "every": every},
    }
    cfg.update(extra)
    return cfg


def test_white_noise_recorded_current(run_config):
    """Recorded white noise: mean `mean`, std std/sqrt(dt), no correlation between steps.
    200 neurons x 501 rows ~ 1e5 independent samples: 5 standard errors of each estimate."""
    mean, std, dt = 0.3, 0.8, 0.05
    x = run_config(lif({"type": "noise", "mean": mean, "std": std}, 200, 25.0, dt)
                   )["report/lif/input/data"][:]
    n = x.size
    sigma = std / np.sqrt(dt)
    assert abs(x.mean() - mean) < 5 * sigma / np.sqrt(n)
    assert abs(x.std() / sigma - 1) < 5 / np.sqrt(2 * n)
    lag1 = np.mean((x[1:] - mean) * (x[:-1] - mean)) / sigma**2
    assert abs(lag1) < 5 / np.sqrt(n)


@pytest.mark.parametrize("dt", [0.1, 2.0])
def test_ou_current_exact_at_any_dt(run_config, dt):
    """Stationary mean and std from the first sample on, and lag-one autocorrelation
    exp(-dt/tau), also for dt twice tau (an Euler update would be far off there)."""
    mean, std, tau, n_neurons = -1.0, 2.0, 1.0, 4000
    x = run_config(lif({"type": "ou", "mean": mean, "std": std, "tau": tau}, n_neurons,
                       4 * dt, dt))["report/lif/input/data"][:]  # 5 rows
    z = (x - mean) / std
    se = 1 / np.sqrt(n_neurons)
    for row in z:  # each row: n_neurons independent stationary samples
        assert abs(row.mean()) < 5 * se
        assert abs(row.std() - 1) < 5 * se / np.sqrt(2)
    rho = np.exp(-dt / tau)
    for a, b in zip(z[:-1], z[1:]):
        assert abs(np.mean(a * b) - rho) < 5 * se * np.sqrt(1 + rho**2)


@pytest.mark.parametrize("dt,integrator", [(0.1, "exp_euler"), (0.5, "exp_euler"),
                                           (0.25, "rk4")])
def test_passive_membrane_variance_does_not_depend_on_dt(run_config, dt, integrator):
    """tau dv/dt = -(v - v_rest) + R sigma xi(t) has stationary variance
    R^2 sigma^2 / (2 tau) (Gardiner, Handbook of Stochastic Methods, 4.4.4). Samples 50 ms
    (5 tau) apart from t = 100 ms on are independent: 5 rows x 4000 neurons; 4.5 standard
    errors of the variance (sqrt(2/n) relative). Discretisation bias at dt = 0.5 is
    (dt/2tau)^2/3 ~ 2e-4, far below."""
    sigma, tau, R = 0.2, 10.0, 10.0
    cfg = lif({"type": "noise", "std": sigma}, 4000, 300.0, dt, every=round(50 / dt),
              variables=("v",))
    cfg["simulation"]["integrator"] = integrator
    v = run_config(cfg)["report/lif/v/data"][2:]  # rows at 100, 150, ... 300 ms
    var = np.var(v - (-65.0))
    theory = R**2 * sigma**2 / (2 * tau)
    assert abs(var / theory - 1) < 4.5 * np.sqrt(2 / v.size)


# -- reproducibility ------------------------------------------------------------------------
NOISY = [{"type": "noise", "mean": 2.5, "std": 0.4}, {"type": "ou", "std": 0.3, "tau": 3.0}]


def spikes(f, pop="lif"):
    return f[f"spikes/{pop}/timestamps"][:], f[f"spikes/{pop}/node_ids"][:]


def firing(size, **extra):
    cfg = lif(NOISY, size, 100.0, 0.1, variables=("v", "input"), every=3)
    cfg["model"]["params"]["v_th"] = -50.0
    cfg["record"]["spikes"] = True
    cfg.update(extra)
    return cfg


def test_identical_output_for_two_chunk_sizes_and_other_noise_for_another_seed(run_config):
    a = run_config(firing(20), name="a")
    b = run_config(firing(20), "simulation.chunk_steps=37", name="b")
    c = run_config(firing(20), "simulation.seed=1", name="c")
    assert np.mean(a["report/lif/input/data"][:] == c["report/lif/input/data"][:]) < 0.01
    assert spikes(a)[0].size > 50  # the noise makes them fire
    for x, y in zip(spikes(a), spikes(b)):
        np.testing.assert_array_equal(x, y)
    for var in ("v", "input"):
        np.testing.assert_array_equal(a[f"report/lif/{var}/data"][:],
                                      b[f"report/lif/{var}/data"][:])


@pytest.mark.slow
def test_neuron_alone_in_a_population_and_in_a_sweep(run_config):
    """Neuron j's noise key is (seed, protocol, step, j): neuron 0 alone, neuron 0 of 30, and
    neuron 0 of every sweep combination with the same parameters spike at the same times."""
    alone = spikes(run_config(firing(1), name="alone"))
    many = spikes(run_config(firing(30), name="many"))
    assert alone[0].size > 5
    np.testing.assert_array_equal(many[0][many[1] == 0], alone[0])
    # the first 10 neurons of a population of 10 and of 30 are the same neurons
    ten = spikes(run_config(firing(10), name="ten"))
    np.testing.assert_array_equal(ten[0], many[0][many[1] < 10])
    np.testing.assert_array_equal(ten[1], many[1][many[1] < 10])
    sweep = {"mode": "grid", "axes": {"model.params.tau_m": [10.0, 20.0],
                                      "input.1.tau": [1.0, 3.0]}}
    swept = spikes(run_config(firing(1, sweep=sweep), name="sweep"))
    # combination 1 is (tau_m 10, tau 3): the parameters of the run alone
    np.testing.assert_array_equal(swept[0][swept[1] == 1], alone[0])
    assert not np.array_equal(swept[0][swept[1] == 0], alone[0])
