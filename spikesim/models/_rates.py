"""Numerically safe helpers shared by the conductance-based models."""

import jax.numpy as jnp


def exprel(x):
    """``x / (exp(x) - 1)``, exact at and near ``x = 0`` (where it tends to 1).

    HH-type rate functions have the form ``k * u / (exp(u / s) - 1)`` with a removable 0/0 at
    ``u = 0``. Away from 0 the direct formula (with ``expm1``) is accurate to rounding; within
    ``|x| < 1e-4`` the series ``1 - x/2 + x^2/12`` has truncation error ``< x^4/720``, far
    below float64 rounding, and the branch is selected with ``where`` on a *safe* argument so
    that neither branch yields NaN (the gradient stays finite too).
    """
    small = jnp.abs(x) < 1e-4
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 - x / 2.0 + x * x / 12.0, safe / jnp.expm1(safe))


def capped_exp(x, cap=50.0):
    """``exp(min(x, cap))``. Exponential spike terms (AdEx, EIF) are evaluated through this so
    that no Runge-Kutta stage can overflow: exp(50) ~ 5e21 still drives v far past any
    threshold within one step, and stays finite in float32 (max ~3.4e38)."""
    return jnp.exp(jnp.minimum(x, cap))
