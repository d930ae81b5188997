"""Numerically safe helpers shared by the conductance-based models."""

import math

import jax.numpy as jnp


# x / (exp(x) - 1) = sum_n B_n x^n / n! (Bernoulli numbers): the coefficients of x^2, x^4, ...
# (x^0 is 1, x^1 is -1/2, the other odd ones are 0)
_EVEN_SERIES = (1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160,
                -691 / 1307674368000, 1 / 74724249600)


def exprel(x, exp_x=None):
    """``x / (exp(x) - 1)``, accurate to a few ulps everywhere, and exact in the limit 1 at
    ``x = 0``. ``exp_x``, if given, is ``exp(x)`` computed by the caller (a rate function that
    gets several exponentials from one, see ``hodgkin_huxley.rates``); it is used only where
    ``|x| >= 1/2``.

    HH-type rate functions have the form ``k * u / (exp(u / s) - 1)`` with a removable 0/0 at
    ``u = 0``. For ``|x| >= 1/2`` the direct formula loses at most ``e^x / |e^x - 1| < 2.6``
    ulps to the cancellation in ``exp(x) - 1``. For ``|x| < 1/2`` the Bernoulli series is
    used, up to x^8 in float32 (truncation error < 3e-11) and x^14 in float64 (< 6e-18). This
    avoids ``expm1``, which XLA:CPU evaluates at about three times the cost of ``exp`` (the HH
    step, with two such rates, ran 25 % faster; benchmarks/RESULTS.md). Both branches are
    evaluated on a *safe* argument, so neither yields NaN and the gradient stays finite.
    """
    x = jnp.asarray(x)
    small = jnp.abs(x) < 0.5
    safe = jnp.where(small, 1.0, x)
    safe_exp = jnp.exp(safe) if exp_x is None else jnp.where(small, math.e, exp_x)
    direct = safe / (safe_exp - 1.0)
    terms = _EVEN_SERIES[:4] if x.dtype == jnp.float32 else _EVEN_SERIES
    x2 = x * x
    even = jnp.zeros_like(x) + terms[-1]
    for c in terms[-2::-1]:
        even = even * x2 + c
    series = 1.0 - 0.5 * x + x2 * even
    return jnp.where(small, series, direct)


def capped_exp(x, cap=50.0):
    """``exp(min(x, cap))``. Exponential spike terms (AdEx, EIF) are evaluated through this so
    that no Runge-Kutta stage can overflow: exp(50) ~ 5e21 still drives v far past any
    threshold within one step, and stays finite in float32 (max ~3.4e38)."""
    return jnp.exp(jnp.minimum(x, cap))
