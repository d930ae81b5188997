"""Each model against an independent float64 solution of its equations: scipy's DOP853
(rtol 1e-10) with threshold crossings located as events and resets applied there, or the exact
closed form where there is one (LIF).

Spike timing: a spikesim spike is stamped at the end of the step in which it crossed, so with a
negligible integration error (rk4 at dt = 0.01 ms; see test_models_convergence.py for the
order) a stamp lies in [t_true, t_true + dt]. For models that reset, the reset also waits for
the end of the step, so each spike can shift every later one by up to another dt: the k-th spike
(k = 0, 1, ...) may lag by up to (k + 1) dt."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from _equations import rhs
from _modelsim import make_params, simulate, spike_times
from spikesim.models import get_model

DT = 0.01
# Integration error of rk4 at dt = 0.01 ms turned into time: errors in v of ~1e-6 mV over an
# upswing of >= 10 mV/ms move a crossing by < 1e-6 ms; 1e-4 ms leaves wide room.
EPS = 1e-4


def _np_params(model, preset=None, **over):
    return {k: float(v) for k, v in make_params(model, jnp.float64, preset, **over).items()}


def _free_run_crossings(model, p, y0, current, t_end):
    f, names = rhs(model.name, p, current)
    iv = names.index("v")

    def ev(t, y):
        return y[iv] - p[model.threshold_param]

    ev.direction = 1
    sol = solve_ivp(f, (0, t_end), y0, method="DOP853", rtol=1e-10, atol=1e-10, events=ev,
                    dense_output=True)
    return sol.t_events[0], sol


def _reset_run(model, p, y0, current, t_end, reset, runaway=None):
    """Integrate to each threshold event, apply ``reset`` there, carry on. ``runaway``: a
    voltage beyond which the exponential upswing reaches v_th in negligible time; if DOP853
    gives up (step size underflow) past it, that is taken as the spike."""
    f, names = rhs(model.name, p, current)
    iv = names.index("v")

    def ev(t, y):
        return y[iv] - p[model.threshold_param]

    ev.terminal, ev.direction = True, 1
    t, y, times = 0.0, np.array(y0, float), []
    while True:
        sol = solve_ivp(f, (t, t_end), y, method="DOP853", rtol=1e-10, atol=1e-10, events=ev)
        if sol.status == 1:
            t, y = sol.t_events[0][0], sol.y_events[0][0]
        elif sol.status == -1 and runaway is not None and sol.y[iv, -1] > runaway:
            t, y = sol.t[-1], sol.y[:, -1]
        else:
            assert sol.status == 0, sol.message
            return np.array(times)
        times.append(t)
        y = reset(y)


@pytest.mark.parametrize("name,current", [("hodgkin_huxley", 10.0), ("wang_buzsaki", 1.0)])
def test_conductance_models_match_dop853(name, current):
    model = get_model(name)
    p = _np_params(model)
    n_steps = 6000
    tr, sp = simulate(model, dt=DT, n_steps=n_steps, integrator="rk4", current=current)
    names = rhs(name, p, current)[1]
    y0 = [tr[n][0, 0] for n in names]
    t_true, sol = _free_run_crossings(model, p, y0, current, n_steps * DT)
    t_sim = spike_times(sp, DT)
    assert len(t_true) >= 3 and len(t_sim) == len(t_true)
    lag = t_sim - t_true
    assert np.all(lag >= -EPS) and np.all(lag <= DT + EPS)
    # The whole trajectory: rk4's global error at dt = 0.01 ms through spikes (dv/dt up to
    # ~500 mV/ms on a ~0.2 ms upstroke) is ~ (dt / 0.2 ms)^4 x 100 mV ~ 1e-3 mV; 0.01 mV bound.
    t_grid = np.arange(n_steps + 1) * DT
    ref = sol.sol(t_grid)
    np.testing.assert_allclose(tr["v"][:, 0], ref[names.index("v")], atol=1e-2, rtol=0)


def _assert_lag(t_sim, t_true, n_min=3):
    assert len(t_true) >= n_min
    t_sim = t_sim[: len(t_true)]
    assert len(t_sim) == len(t_true)
    k = np.arange(len(t_true))
    lag = t_sim - t_true
    assert np.all(np.abs(lag) <= (k + 1) * DT + EPS), lag


def test_adex_matches_dop853_with_resets():
    model = get_model("adex")
    p = _np_params(model)
    current, n_steps = 30.0, 25000
    tr, sp = simulate(model, dt=DT, n_steps=n_steps, integrator="rk4", current=current)
    # From v_T + 20 delta_T = -15 mV the upswing outruns tau_m e^-20 ~ 3e-8 ms.
    t_true = _reset_run(model, p, [-70.0, 0.0], current, n_steps * DT,
                        lambda y: np.array([p["v_reset"], y[1] + p["b"]]),
                        runaway=p["v_T"] + 20 * p["delta_T"])
    _assert_lag(spike_times(sp, DT), t_true, n_min=10)


def test_izhikevich_matches_dop853_with_resets():
    model = get_model("izhikevich")
    p = _np_params(model)
    current, n_steps = 10.0, 20000
    tr, sp = simulate(model, dt=DT, n_steps=n_steps, integrator="rk4", current=current)
    t_true = _reset_run(model, p, [-65.0, p["b"] * -65.0], current, n_steps * DT,
                        lambda y: np.array([p["c"], y[1] + p["d"]]))
    _assert_lag(spike_times(sp, DT), t_true, n_min=4)


@pytest.mark.parametrize("name,current", [("qif", 1.0), ("eif", 2.0)])
def test_qif_eif_match_dop853_with_resets(name, current):
    # t_ref = 0: the refractory rule is checked against inferno (test_models_parity.py) and
    # against the LIF closed form below.
    model = get_model(name)
    p = _np_params(model, t_ref=0.0)
    n_steps = 20000
    tr, sp = simulate(model, dt=DT, n_steps=n_steps, integrator="rk4", current=current,
                      params={"t_ref": 0.0})
    t_true = _reset_run(model, p, [-65.0], current, n_steps * DT,
                        lambda y: np.array([p["v_reset"]]))
    _assert_lag(spike_times(sp, DT), t_true, n_min=5)


# ----------------------------------------------------------------------------- LIF closed form
@pytest.mark.parametrize("dt", [0.1, 0.025])
def test_lif_rate_closed_form_with_refractory_period(dt):
    """Constant input, v_reset = v_rest. From the reset, v(t) = v_inf + (v_rest - v_inf)
    exp(-t / tau_m) with v_inf = v_rest + R_m I; the exact step (exp_euler) lands on this curve
    at every step, so the first integrating step that reaches v_th is m = ceil(T / dt), with
    T = tau_m ln(R_m I / (R_m I - (v_th - v_rest))). With n = round(t_ref / dt), the n - 1 held
    steps come first: the period is m + max(n - 1, 0) steps, exactly."""
    model = get_model("lif")
    p = _np_params(model)
    tau, R, v_rest, v_th = p["tau_m"], p["R_m"], p["v_rest"], p["v_th"]
    currents = np.array([1.6, 2.0, 3.0, 5.0, 2.0, 2.0, 2.0])  # nA; R_m I > v_th - v_rest = 15
    t_ref = np.array([2.0, 2.0, 2.0, 2.0, 0.0, 5.0, dt])
    T = tau * np.log(R * currents / (R * currents - (v_th - v_rest)))
    m = np.ceil(T / dt)
    # The discrete crossing must not sit on the rounding edge of the test itself.
    assert np.min(np.abs(T / dt - np.round(T / dt))) > 1e-6
    n = np.round(t_ref / dt)
    period = m + np.maximum(n - 1, 0)

    n_steps = int(round(400.0 / dt))
    tr, sp = simulate(model, dt=dt, n_steps=n_steps, integrator="exp_euler", current=currents,
                      params={"t_ref": t_ref, "v_reset": v_rest}, n=len(currents))
    for i in range(len(currents)):
        steps = np.flatnonzero(sp[:, i])
        assert steps[0] == m[i] - 1  # from v(0) = v_rest: the first charge, no refractory
        np.testing.assert_array_equal(np.diff(steps), period[i])
        # Against the continuous rate 1 / (t_ref + T): the whole-step rule keeps the period
        # within one step of it (m dt - T in [0, dt), (n - 1) dt = t_ref - dt).
        rate_sim = len(steps[1:]) / ((steps[-1] - steps[0]) * dt)
        rate_exact = 1.0 / (t_ref[i] + T[i])
        assert abs(1 / rate_sim - 1 / rate_exact) <= dt + 1e-9


def test_lif_passive_decay_exact():
    """No input: v - v_rest decays as exp(-t / tau_m), exactly at every step."""
    model = get_model("lif")
    tr, _ = simulate(model, dt=0.1, n_steps=500, integrator="exp_euler", init={"v": -55.0})
    t = np.arange(501) * 0.1
    np.testing.assert_allclose(tr["v"][:, 0], -65.0 + 10.0 * np.exp(-t / 10.0), rtol=0,
                               atol=1e-12)
