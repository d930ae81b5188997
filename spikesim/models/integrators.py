"""Numerical integrators, written once and generic over a model's state.

Explicit Runge-Kutta methods are data (Butcher tableaux) run by one generic step; the input
current is evaluated at each stage's time. Exponential Euler steps every conditionally linear
variable ``dx/dt = A x + B`` (A, B frozen at the start of the step) by the exact formula and
the other variables by forward Euler.

Every integrator has the signature ``integrate(model, y, p, t, dt, current) -> y_new`` and only
touches the variables the model's ``vector_field`` returns; bookkeeping state passes through.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ._rates import exprel
from .drive import input_at, input_before


@dataclass(frozen=True)
class ButcherTableau:
    """Explicit RK method: stage times ``c``, lower-triangular ``a`` (row i has i entries),
    weights ``b``, and the method's order of convergence."""

    c: tuple[float, ...]
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    order: int


EULER = ButcherTableau(c=(0.0,), a=((),), b=(1.0,), order=1)
MIDPOINT = ButcherTableau(c=(0.0, 0.5), a=((), (0.5,)), b=(0.0, 1.0), order=2)
RK4 = ButcherTableau(
    c=(0.0, 0.5, 0.5, 1.0),
    a=((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
    b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
    order=4,
)


def runge_kutta(tableau: ButcherTableau):
    """The generic explicit RK step for ``tableau``."""

    def integrate(model, y, p, t, dt, current):
        return stages(model, y, p, t, dt, current)[0]

    def stages(model, y, p, t, dt, current):
        """The step and its stages ``[{var: k_i}]`` (what a dense output is built from)."""
        ks = []
        for c_i, a_i in zip(tableau.c, tableau.a):
            y_i = dict(y)
            for name in (ks[0] if ks else ()):
                incr = sum(a_ij * k[name] for a_ij, k in zip(a_i, ks) if a_ij != 0.0)
                if not isinstance(incr, int):  # all-zero rows leave the state as it is
                    y_i[name] = y[name] + dt * incr
            t_i = t + c_i * dt
            # a stage at the step's end reads the input's left limit there (END_OF_STEP)
            i_i = (input_before if c_i == 1.0 else input_at)(current, t_i, y_i)
            ks.append(model.vector_field(t_i, y_i, p, i_i))
        out = dict(y)
        for name in ks[0]:
            out[name] = y[name] + dt * sum(b * k[name] for b, k in zip(tableau.b, ks) if b != 0.0)
        return out, ks

    integrate.stages = stages
    integrate.tableau = tableau
    return integrate


def _phi1(z):
    """``(exp(z) - 1) / z``, equal to 1 at z = 0: the reciprocal of ``exprel``, which is
    accurate to a few ulps everywhere without ``expm1`` (slow on XLA:CPU)."""
    return 1.0 / exprel(z)


def exp_euler(model, y, p, t, dt, current):
    """Exponential Euler. For each conditionally linear variable x the coefficient
    ``A = d(dx/dt)/dx`` is obtained by forward-mode differentiation of the model's vector
    field (exact, since dx/dt is linear in x), and ``x + dt f phi1(A dt)`` is the exact
    solution of ``dx/dt = A x + B`` over the step; e.g. for a gate
    ``x_inf + (x - x_inf) exp(-dt / tau_x)``. Other variables take a forward Euler step.
    A model that defines ``exp_euler_step`` supplies its own sequencing instead."""
    custom = getattr(model, "exp_euler_step", None)
    if custom is not None:
        return custom(y, p, t, dt, current)
    if getattr(current, "conductance", False):
        # a conductance synapse: the input is re-evaluated at the shifted v when v's
        # coefficient is taken, so that -g / C is part of it (the conductances held at their
        # values at the start of the step); v is then stepped exactly for a model linear in
        # v under constant conductances (LIF, or HH with its gates frozen)
        def input_of(y_s):
            return current(t, y_s["v"])
    else:
        i_t = current(t)

        def input_of(y_s):
            return i_t
    f = model.vector_field(t, y, p, input_of(y))
    out = dict(y)
    linear = set(model.linear_states())
    for name, dxdt in f.items():
        if name in linear:
            # differentiate along a scalar shift of x: the same diagonal coefficient (neurons
            # are independent), but when A does not depend on the state (LIF: -1/tau_m) it
            # stays a broadcast scalar that XLA folds, instead of an exp per neuron and step
            def f_x(shift, name=name):
                y_s = {**y, name: y[name] + shift}
                return model.vector_field(t, y_s, p, input_of(y_s))[name]

            zero = jnp.zeros((), y[name].dtype)
            _, a = jax.jvp(f_x, (zero,), (jnp.ones_like(zero),))
            out[name] = y[name] + dt * dxdt * _phi1(a * dt)
        else:
            out[name] = y[name] + dt * dxdt
    return out


#: integrators by config name, and the order each converges at
INTEGRATORS = {
    "euler": runge_kutta(EULER),
    "rk2": runge_kutta(MIDPOINT),
    "rk4": runge_kutta(RK4),
    "exp_euler": exp_euler,
}
ORDERS = {"euler": 1, "rk2": 2, "rk4": 4, "exp_euler": 1}
