"""Numerical safety of the rate functions and exponential terms.

* The HH and Wang-Buzsaki rate functions ``k u / (exp(u / s) - 1)`` have a removable 0/0; at
  and around the singular voltage they must be finite and accurate in float32 and float64
  (compared with mpmath at 30 digits, evaluated at the same floating-point voltage).
* AdEx and EIF: no RK stage may produce inf or NaN, even under a huge input in float32.
"""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from spikesim.models.integrators import INTEGRATORS  # noqa: E402
from spikesim.models import get_model  # noqa: E402
from spikesim.models._rates import exprel  # noqa: E402
from spikesim.models import hodgkin_huxley as hh  # noqa: E402
from spikesim.models import wang_buzsaki as wb  # noqa: E402

mpmath.mp.dps = 30

# offsets in mV (x = offset / 10): at the singularity, within the series (|x| < 1/2), on
# both sides of the switch to the direct formula at |x| = 1/2, and well beyond
OFFSETS = [0.0, 1e-12, -1e-12, 1e-7, -1e-7, 1e-5, -1e-5, 1e-3, -1e-3, 0.1, -0.1, 3.0, -3.0,
           4.99, -4.99, 5.0, -5.0, 5.01, -5.01, 20.0, -20.0, 200.0, -200.0]

# Relative tolerance: the argument x = (v_s - v) / 10 is formed in floating point, so it
# carries an absolute error of ~ulp(v) / 10 (v ~ -35..-40 or 10..25 mV: 7e-15 in float64,
# 4e-7 in float32); exprel's slope is -1/2 at 0, so the value, ~1, is off by as much, plus a
# few ulps of rounding. 1e-13 and 2e-6 bound that.
RTOL = {jnp.float64: 1e-13, jnp.float32: 2e-6}


def _mp_exprel(x):
    x = mpmath.mpf(x)
    return mpmath.mpf(1) if x == 0 else x / mpmath.expm1(x)


CASES = [
    # (label, singular voltage, function of v (jax), exact value at v (mpmath, from the paper))
    ("hh alpha_n", -65.0 + 10.0, lambda v: hh.rates(v, -65.0)[0],
     lambda v: mpmath.mpf("0.01") * (10 - (v + 65)) / mpmath.expm1((10 - (v + 65)) / 10)),
    ("hh alpha_m", -65.0 + 25.0, lambda v: hh.rates(v, -65.0)[2],
     lambda v: mpmath.mpf("0.1") * (25 - (v + 65)) / mpmath.expm1((25 - (v + 65)) / 10)),
    ("wb alpha_m", -35.0, lambda v: wb.rates(v)[0],
     lambda v: -mpmath.mpf("0.1") * (v + 35) / mpmath.expm1(-(v + 35) / 10)),
    ("wb alpha_n", -34.0, lambda v: wb.rates(v)[4],
     lambda v: -mpmath.mpf("0.01") * (v + 34) / mpmath.expm1(-(v + 34) / 10)),
]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("label,v_s,fn,exact", CASES, ids=[c[0] for c in CASES])
def test_rate_functions_at_removable_singularity(label, v_s, fn, exact, dtype):
    v = jnp.asarray([v_s + d for d in OFFSETS], dtype)
    got = np.asarray(jax.jit(fn)(v), np.float64)
    assert got.dtype == np.float64 and np.all(np.isfinite(got))
    # mpmath sees the voltage actually stored in dtype (converted exactly to mpf); its value at
    # the exact singular point is the limit of the paper's formula there.
    want = []
    for x in np.asarray(v):
        xm = mpmath.mpf(float(x))
        if label.startswith("hh"):
            singular = (xm + 65) == (10 if "alpha_n" in label else 25)
        else:
            singular = xm == v_s
        if singular:
            want.append(float(mpmath.limit(exact, xm)))
        else:
            want.append(float(exact(xm)))
    np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=0)
    # and differentiable there (the gradient is finite too, for users who differentiate)
    g = jax.grad(lambda x: fn(x).sum())(v)
    assert np.all(np.isfinite(np.asarray(g)))


class _StageSpy:
    """Wraps a model so that every right-hand side evaluation (every RK stage) is kept."""

    def __init__(self, model):
        self.model, self.stages = model, []

    def __getattr__(self, attr):
        return getattr(self.model, attr)

    def vector_field(self, t, y, p, current):
        out = self.model.vector_field(t, y, p, current)
        self.stages.append(out)
        return out


@pytest.mark.parametrize("integrator", ["rk2", "rk4"])
@pytest.mark.parametrize("name,huge", [("adex", 1e9), ("eif", 1e9)])
def test_no_overflow_in_any_stage(name, huge, integrator):
    """Float32, an input of 1e9 current units, states from rest to far above the cut-off:
    every stage and every result is finite, and the step spikes where it should."""
    model = get_model(name)
    dtype = jnp.float32
    p = {k: jnp.asarray(v, dtype) for k, v in model.defaults().items()}
    v = jnp.asarray([-80.0, -60.0, -50.0, -45.0, -41.0, 0.0, 4.9, 100.0, 1e4], dtype)
    y = model.initial_state(p, {"v": v}, v.shape[0], dtype)
    spy = _StageSpy(model)
    for current in (0.0, huge, -huge):
        cur = lambda t, c=current: jnp.asarray(c, dtype)  # noqa: E731
        y_new = INTEGRATORS[integrator](spy, y, p, jnp.asarray(0.0, dtype), 0.1, cur)
        for out in spy.stages:
            for var, x in out.items():
                assert np.all(np.isfinite(np.asarray(x))), (var, current)
        for var, x in y_new.items():
            assert np.all(np.isfinite(np.asarray(x))), (var, current)
        if current > 0:
            y_step, s = model.step(INTEGRATORS[integrator], y, p, jnp.asarray(0.0, dtype), 0.1,
                                   cur)
            assert np.all(np.asarray(s)), "a huge input must make every neuron spike"
            assert all(np.all(np.isfinite(np.asarray(x))) for x in y_step.values())
        spy.stages.clear()


def _mp_hh(v):
    """The six classic HH rates (alpha_n, beta_n, alpha_m, beta_m, alpha_h, beta_h) of the
    1952 paper at v (mV, rest at -65), in mpmath."""
    u = mpmath.mpf(v) + 65
    a_n = (mpmath.mpf("0.01") * (10 - u) / mpmath.expm1((10 - u) / 10) if u != 10
           else mpmath.mpf("0.1"))
    a_m = mpmath.mpf("0.1") * (25 - u) / mpmath.expm1((25 - u) / 10) if u != 25 else mpmath.mpf(1)
    return [a_n, mpmath.mpf("0.125") * mpmath.exp(-u / 80), a_m, 4 * mpmath.exp(-u / 18),
            mpmath.mpf("0.07") * mpmath.exp(-u / 20), 1 / (mpmath.exp((30 - u) / 10) + 1)]


def _mp_wb(v):
    """The six Wang-Buzsaki (1996) rates (alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)
    at v (mV), in mpmath."""
    v = mpmath.mpf(v)
    a_m = (-mpmath.mpf("0.1") * (v + 35) / mpmath.expm1(-(v + 35) / 10) if v != -35
           else mpmath.mpf(1))
    a_n = (-mpmath.mpf("0.01") * (v + 34) / mpmath.expm1(-(v + 34) / 10) if v != -34
           else mpmath.mpf("0.1"))
    return [a_m, 4 * mpmath.exp(-(v + 60) / 18),
            mpmath.mpf("0.07") * mpmath.exp(-(v + 58) / 20), 1 / (mpmath.exp(-(v + 28) / 10) + 1),
            a_n, mpmath.mpf("0.125") * mpmath.exp(-(v + 44) / 80)]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("label,fn,exact", [
    ("hh", lambda v: hh.rates(v, -65.0), _mp_hh),
    ("wb", wb.rates, _mp_wb),
])
def test_all_rates_over_the_voltage_range(label, fn, exact, dtype):
    """Every rate from -120 to +60 mV, against the paper's formula in mpmath at the same
    floating-point voltage. The rates share exponentials (exp(-u/10) times constants,
    exp(-u/80) to the fourth power for exp(-u/20)); the bound is 16 units of roundoff
    (2^-24, 2^-53): forming the argument u/s rounds it by up to |u/s|/2 units, which exp
    passes on to the value (|u/s| <= 13 here), plus exp's own error and a few products."""
    v = jnp.asarray(np.linspace(-120.0, 60.0, 721), dtype)
    got = np.asarray(jax.jit(lambda x: jnp.stack(fn(x)))(v), np.float64)
    want = np.array([[float(r) for r in exact(float(x))] for x in np.asarray(v)]).T
    unit = np.finfo(dtype).eps / 2
    np.testing.assert_allclose(got, want, rtol=16 * unit, atol=0)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_exprel_derivative(dtype):
    """exprel's custom JVP against mpmath's derivative of x / (exp(x) - 1), on both sides of
    the switch at |x| = 1/2, at the removable singularity and far out; given exp(x) by the
    caller too (its tangent then enters through exp_x). Bound: 16 units of roundoff, as for the
    rates."""
    xs = np.array([0.0, 1e-9, -1e-6, 0.1, -0.3, 0.49999, 0.5, -0.5, 0.7, 2.0, -3.0, 10.0, -20.0])
    x = jnp.asarray(xs, dtype)
    want = [float(mpmath.diff(_mp_exprel, mpmath.mpf(float(xi)))) for xi in np.asarray(x)]
    unit = np.finfo(dtype).eps / 2
    for fn in (lambda t: exprel(t), lambda t: exprel(t, jnp.exp(t))):
        got = np.asarray(jax.vmap(jax.grad(fn))(x), np.float64)
        np.testing.assert_allclose(got, want, rtol=16 * unit, atol=0)
