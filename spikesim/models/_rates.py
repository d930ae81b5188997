"""Numerically safe helpers shared by the conductance-based models."""

import functools
import math

from ..lazyjax import jax, jnp


# x / (exp(x) - 1) = sum_n B_n x^n / n! (Bernoulli numbers): the coefficients of x^2, x^4, ...
# (x^0 is 1, x^1 is -1/2, the other odd ones are 0)
_EVEN_SERIES = (1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160,
                -691 / 1307674368000, 1 / 74724249600)


def _series_terms(dtype):
    # float32: up to x^8 (truncation error < 3e-11); float64: up to x^14 (< 6e-18)
    return _EVEN_SERIES[:4] if dtype == jnp.float32 else _EVEN_SERIES


@functools.cache
def _exprel_with_jvp():
    """``_exprel`` and its JVP, built on first use (``jax.custom_jvp`` needs JAX)."""

    @jax.custom_jvp
    def _exprel(x, e):
        """x / (e - 1) with e = exp(x): the series where |x| < 1/2, the direct formula
        elsewhere. The direct formula is 0/0 at x = 0, but ``where`` does not select it there;
        only its derivative would propagate that NaN, hence the JVP below."""
        small = jnp.abs(x) < 0.5
        direct = x / (e - 1.0)
        terms = _series_terms(x.dtype)
        x2 = x * x
        even = jnp.zeros_like(x) + terms[-1]
        for c in terms[-2::-1]:
            even = even * x2 + c
        return jnp.where(small, 1.0 - 0.5 * x + x2 * even, direct)


    @_exprel.defjvp
    def _exprel_jvp(primals, tangents):
        x, e = primals
        dx, de = tangents
        small = jnp.abs(x) < 0.5
        # d/dx of the series 1 - x/2 + sum_k c_k x^(2k): -1/2 + sum_k 2k c_k x^(2k-1)
        terms = _series_terms(x.dtype)
        x2 = x * x
        slope = jnp.zeros_like(x) + 2 * len(terms) * terms[-1]
        for k in range(len(terms) - 1, 0, -1):
            slope = slope * x2 + 2 * k * terms[k - 1]
        d_series = (slope * x - 0.5) * dx
        # d(x / (e - 1)) = dx / (e - 1) - x de / (e - 1)^2, on arguments that keep it finite
        # where the series is used instead
        xs = jnp.where(small, 1.0, x)
        em1 = jnp.where(small, math.e, e) - 1.0
        d_direct = dx / em1 - xs * de / (em1 * em1)
        return _exprel(x, e), jnp.where(small, d_series, d_direct)

    return _exprel


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
    step, with two such rates, ran 25 % faster; benchmarks/RESULTS.md). The gradient is
    finite everywhere: a custom JVP differentiates the branch that is used (evaluating the
    other one on a safe argument, as the forward pass does not need to: 4 % of the HH step).
    """
    x = jnp.asarray(x)
    return _exprel_with_jvp()(x, jnp.exp(x) if exp_x is None else jnp.asarray(exp_x, x.dtype))


def capped_exp(x, cap=50.0):
    """``exp(min(x, cap))``. Exponential spike terms (AdEx, EIF) are evaluated through this so
    that no Runge-Kutta stage can overflow: exp(50) ~ 5e21 still drives v far past any
    threshold within one step, and stays finite in float32 (max ~3.4e38)."""
    return jnp.exp(jnp.minimum(x, cap))
