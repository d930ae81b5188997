"""The built-in HH, AdEx, Izhikevich and LIF written as equations (the shipped model files
spikesim/models/library/*.yaml) reproduce the built-in models (SPEC section 5): float64, the
same spikes and v within 1e-9 mV over 200 ms, for every integrator each model allows.

Why 1e-9 mV can hold: each model file writes the built-in's right-hand side term for term in
its order of operations; the factors that carry units (per_mV, per_ms, mV) are exactly 1, and
multiplying by 1 is exact. So the traces agree to the last bit (measured: 0 mV), except with
LIF's exp_euler, where the generic formula v + dt f phi1(-dt/tau) replaces the built-in's
v_inf + (v - v_inf) e^(-dt/tau): ulp-level differences that a contracting equation does not
amplify (measured 3e-14 mV).

Izhikevich's built-in exp_euler is jaxley's sequenced scheme (u first, then v with the new
u), not the SPEC's exponential Euler (every other variable frozen at the start of the step);
for it the equations model is compared with the built-in stepped by the generic exp_euler.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from _modelsim import simulate
from spikesim.core.source import Source
from spikesim.equations import expand
from spikesim.models import MODELS

#: (input amplitude in the model's current unit, dt) giving a few spikes in 200 ms
CASES = {
    "hodgkin_huxley": (10.0, 0.02),
    "adex": (120.0, 0.05),
    "izhikevich": (10.0, 0.05),
    "lif": (2.0, 0.1),
}
INTEGRATORS = ("euler", "rk2", "rk4", "exp_euler")


def _equations(name):
    return expand({"model": {"type": "equations", "file": name}}, Source("<test>"))()


def _pulse(amplitude):
    # on from 10 to 190 ms: the stages of an RK step see the input switch on and off
    return lambda t: jnp.where((t >= 10.0) & (t < 190.0), amplitude, 0.0)


def _compare(name, integrator):
    amplitude, dt = CASES[name]
    eq = _equations(name)
    builtin = MODELS[name]()
    if name == "izhikevich" and integrator == "exp_euler":
        builtin = type("GenericExpEuler", (MODELS[name],), {"exp_euler_step": None})()
    init = dict(eq.definition.init)
    n_steps = int(round(200.0 / dt))
    kw = dict(dt=dt, n_steps=n_steps, integrator=integrator, current=_pulse(amplitude))
    tr_b, sp_b = simulate(builtin, init=init, **kw)
    tr_e, sp_e = simulate(eq, init=init, **kw)
    assert sp_b.sum() >= 2, f"{name}: the case should spike ({sp_b.sum()} spikes)"
    np.testing.assert_array_equal(sp_e, sp_b, err_msg=f"{name} {integrator}: spikes differ")
    err = np.max(np.abs(tr_e["v"] - tr_b["v"]))
    assert err <= 1e-9, f"{name} {integrator}: max |v_eq - v_builtin| = {err:.3g} mV"
    return err


@pytest.mark.parametrize("name", list(CASES))
def test_builtin_as_equations_rk4(name):
    _compare(name, "rk4")


@pytest.mark.slow
@pytest.mark.parametrize("integrator", ["euler", "rk2", "exp_euler"])
@pytest.mark.parametrize("name", list(CASES))
def test_builtin_as_equations_every_integrator(name, integrator):
    _compare(name, integrator)


def test_linear_variables_as_the_builtins():
    """The symbolic test finds the conditionally linear variables the built-ins declare."""
    for name in CASES:
        assert set(_equations(name).linear_states()) == set(MODELS[name]().linear_states()), name


def test_initial_values_written_as_expressions():
    """The HH model file sets the gates to their steady state at v(0) by expressions, as the
    built-in derives them: the same initial state, for v(0) given or overridden."""
    eq, builtin = _equations("hodgkin_huxley"), MODELS["hodgkin_huxley"]()
    assert eq.states["n"].init is None  # derived
    for init in ({}, {"v": -70.0}):
        tr_e, _ = simulate(eq, dt=0.01, n_steps=1, current=0.0, init=init)
        tr_b, _ = simulate(builtin, dt=0.01, n_steps=1, current=0.0, init=init)
        for x in "vnmh":
            assert tr_e[x][0, 0] == tr_b[x][0, 0], (init, x)
