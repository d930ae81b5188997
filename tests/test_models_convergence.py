"""Convergence order of every model under every integrator it accepts, measured on a smooth
stretch (no spike, no reset) driven by a smooth time-varying input, against DOP853 at
rtol = atol = 1e-12: the slope of log(error) against log(dt) (scipy.stats.linregress) is within
0.3 of the method's order (1 for euler and exp_euler, 2 for rk2, 4 for rk4).

The step sizes are chosen per method so that the errors sit in the asymptotic range: above
the reference's 1e-12 and the accumulated round-off, and small enough for the leading term to
dominate (checked by the slope itself)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.stats import linregress

from _equations import rhs
from _modelsim import make_params
from spikesim.models.integrators import INTEGRATORS, ORDERS
from spikesim.models import MODELS, get_model

#: (offset, amplitude) of the input I(t) = offset + amplitude sin(t), and duration (ms): each
#: keeps its model below threshold for the whole run (asserted).
SMOOTH = {
    "hodgkin_huxley": (1.0, 1.0, 4.0),
    "wang_buzsaki": (-0.5, 0.3, 4.0),
    "adex": (10.0, 5.0, 8.0),
    "izhikevich": (2.0, 1.0, 8.0),
    "lif": (0.8, 0.5, 8.0),
    "qif": (0.3, 0.2, 8.0),
    "eif": (0.6, 0.3, 8.0),
}
DTS = {"euler": (0.02, 0.01, 0.005), "exp_euler": (0.02, 0.01, 0.005),
       "rk2": (0.04, 0.02, 0.01), "rk4": (0.2, 0.1, 0.05)}

@functools.lru_cache(maxsize=None)
def _final_state(name, integrator):
    """One compiled run per (model, integrator), with dt and the step count traced, so that
    the three step sizes share it. Returns (final state, number of spikes)."""
    model = get_model(name)
    integrate = INTEGRATORS[integrator]

    @jax.jit
    def run(p, y0, dt, n_steps, offset, amp):
        def current(t):
            return offset + amp * jnp.sin(t)

        def body(k, carry):
            y, count = carry
            y, s = model.step(integrate, y, p, k * dt, dt, current)
            return y, count + s.sum()

        return jax.lax.fori_loop(0, n_steps, body, (y0, 0))

    return run


CASES = [(name, integ) for name in MODELS for integ in MODELS[name].integrators()]


def test_every_model_has_a_smooth_scenario():
    assert set(SMOOTH) == set(MODELS)


@pytest.mark.parametrize("name,integrator", CASES)
def test_convergence_order(name, integrator):
    model = get_model(name)
    offset, amp, T = SMOOTH[name]

    pj = make_params(model, jnp.float64)
    y0 = model.initial_state(pj, {}, 1, jnp.float64)
    f, names = rhs(name, {k: float(v) for k, v in pj.items()},
                   lambda t: offset + amp * np.sin(t))
    ref = solve_ivp(f, (0.0, T), [float(y0[n][0]) for n in names], method="DOP853",
                    rtol=1e-12, atol=1e-12).y[:, -1]
    run = _final_state(name, integrator)
    errors = []
    for dt in DTS[integrator]:
        y, n_spikes = run(pj, y0, jnp.float64(dt), int(round(T / dt)), offset, amp)
        assert int(n_spikes) == 0
        errors.append(max(abs(float(y[n][0]) - ref[i]) for i, n in enumerate(names)))
    errors = np.array(errors)
    assert np.all(errors > 1e-10), errors  # above the reference's own error
    order = linregress(np.log(DTS[integrator]), np.log(errors)).slope
    assert abs(order - ORDERS[integrator]) < 0.3, (order, errors)
