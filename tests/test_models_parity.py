"""Each model against the update rule of the library it must reproduce, re-implemented here in
numpy from the reference documents (shared/reference/), compared step by step in float64.

Tolerances: both sides evaluate the same formulas in float64 in a different order (and spikesim
writes the removable singularities through exprel), so each step differs by a few ulps; over a
few thousand steps of a dissipative system this stays far below 1e-8 of the state's scale."""

import jax.numpy as jnp
import numpy as np
import pytest

from _modelsim import simulate
from spikesim.models import get_model


# ----------------------------------------------------------------------------- ngclearn HH
def _ngclearn_hh(n_steps, dt, j, spike_reset, P):
    """ngclearn HodgkinHuxleyCell.advance_state with integration_type='euler'."""

    def consts(v):
        return (0.01 * ((10 - v) / (np.exp((10.0 - v) / 10.0) - 1.0)), 0.125 * np.exp(-v / 80.0),
                0.1 * ((25 - v) / (np.exp((25.0 - v) / 10.0) - 1.0)), 4.0 * np.exp(-v / 18.0),
                0.07 * np.exp(-v / 20.0), 1.0 / (np.exp((30 - v) / 10.0) + 1.0))

    v = 0.0
    an, bn, am, bm, ah, bh = consts(v)
    n, m, h = an / (an + bn), am / (am + bm), ah / (ah + bh)  # its reset(): steady state at 0
    out, spikes = [(v, n, m, h)], []
    for _ in range(n_steps):
        _j = j * P["resist_m"]
        an, bn, am, bm, ah, bh = consts(v)
        dv = (_j - P["g_Na"] * m**3 * h * (v - P["v_Na"]) - P["g_K"] * n**4 * (v - P["v_K"])
              - P["g_L"] * (v - P["v_L"])) / P["tau_v"]
        _v = v + dt * dv
        _n = n + dt * (an * (1 - n) - bn * n)
        _m = m + dt * (am * (1 - m) - bm * m)
        _h = h + dt * (ah * (1 - h) - bh * h)
        s = float(_v > P["thr"])
        if spike_reset:
            an, bn, am, bm, ah, bh = consts(P["v_reset"])
            _v = _v * (1 - s) + s * P["v_reset"]
            _n = _n * (1 - s) + s * an / (an + bn)
            _m = _m * (1 - s) + s * am / (am + bm)
            _h = _h * (1 - s) + s * ah / (ah + bh)
        v, n, m, h = _v, _n, _m, _h
        out.append((v, n, m, h))
        spikes.append(s > 0)
    return np.array(out), np.array(spikes)


NGCLEARN_HH = dict(tau_v=1.0, resist_m=1.0, v_Na=115.0, v_K=-35.0, v_L=10.6, g_Na=100.0,
                   g_K=5.0, g_L=0.3, thr=4.0, v_reset=0.0)


@pytest.mark.parametrize("spike_reset", [0, 1])
def test_hodgkin_huxley_ngclearn_preset_matches_cell(spike_reset):
    dt, n_steps, j = 0.01, 5000, 10.0
    ref, ref_s = _ngclearn_hh(n_steps, dt, j, spike_reset, NGCLEARN_HH)
    tr, sp = simulate(get_model("hodgkin_huxley"), dt=dt, n_steps=n_steps, integrator="euler",
                      preset="ngclearn", params={"spike_reset": float(spike_reset)}, current=j)
    for k, name in enumerate(("v", "n", "m", "h")):
        np.testing.assert_allclose(tr[name][:, 0], ref[:, k], rtol=1e-9, atol=1e-9)
    # ngclearn flags every step with v > thr; spikesim counts the upward crossings, i.e. the
    # rising edges of ngclearn's flag (identical to the flag itself when spike_reset is on).
    rising = ref_s & ~np.concatenate([[False], ref_s[:-1]])
    assert rising.sum() >= 3
    np.testing.assert_array_equal(sp[:, 0], rising)
    if spike_reset:
        np.testing.assert_array_equal(sp[:, 0], ref_s)


# ----------------------------------------------------------------------------- ngclearn AdEx
def _ngclearn_adex(n_steps, dt, j, P):
    """ngclearn AdExCell.advance_state with integration_type='euler'."""
    v, w = P["v0"], P["w0"]
    out, spikes = [(v, w)], []
    for _ in range(n_steps):
        dv = (-(v - P["v_rest"]) + P["v_sharpness"] * np.exp((v - P["intrinsic_mem_thr"])
              / P["v_sharpness"]) - P["resist_m"] * w + P["resist_m"] * j) / P["tau_m"]
        dw = (-w + (v - P["v_rest"]) * P["a"]) / P["tau_w"]
        _v, _w = v + dt * dv, w + dt * dw
        s = float(_v > P["thr"])
        v = _v * (1 - s) + s * P["v_reset"]
        w = _w * (1 - s) + s * (_w + P["b"])
        out.append((v, w))
        spikes.append(s > 0)
    return np.array(out), np.array(spikes)


NGCLEARN_ADEX = dict(tau_m=15.0, resist_m=1.0, tau_w=400.0, v_sharpness=2.0,
                     intrinsic_mem_thr=-55.0, thr=5.0, v_rest=-72.0, v_reset=-75.0, a=0.1,
                     b=0.75, v0=-70.0, w0=0.0)


def test_adex_defaults_match_ngclearn_cell():
    dt, n_steps, j = 0.1, 5000, 30.0
    ref, ref_s = _ngclearn_adex(n_steps, dt, j, NGCLEARN_ADEX)
    tr, sp = simulate(get_model("adex"), dt=dt, n_steps=n_steps, integrator="euler", current=j)
    assert ref_s.sum() >= 10
    np.testing.assert_array_equal(sp[:, 0], ref_s)
    np.testing.assert_allclose(tr["v"][:, 0], ref[:, 0], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(tr["w"][:, 0], ref[:, 1], rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------- jaxley Izhikevich
def _jaxley_izhikevich(n_steps, dt, I, a, b, c, d, v0):
    """jaxley Izhikevich.update_states, with the external current in the Euler step of v."""
    v = np.full_like(a, v0)
    u = b * v  # its init_state
    out, spikes = [(v, u)], []
    for _ in range(n_steps):
        u_inf, tau = b * v, 1.0 / a
        u = u_inf + (u - u_inf) * np.exp(-dt / tau)  # jaxley's exponential_euler
        v = v + dt * (0.04 * v**2 + 5 * v + 140 - u + I)
        s = v >= 30.0
        v = np.where(s, c, v)
        u = np.where(s, u + d, u)
        out.append((v, u))
        spikes.append(s)
    return np.array(out), np.array(spikes)


def test_izhikevich_exp_euler_matches_jaxley_rule():
    model = get_model("izhikevich")
    names = list(model.presets)
    abcd = {k: np.array([model.presets[n].params[k] for n in names]) for k in "abcd"}
    dt, n_steps, I = 0.025, 8000, 10.0
    ref, ref_s = _jaxley_izhikevich(n_steps, dt, I, v0=-65.0, **abcd)
    tr, sp = simulate(model, dt=dt, n_steps=n_steps, integrator="exp_euler", current=I,
                      params=abcd, n=len(names))
    assert ref_s.sum(axis=0).min() >= 3
    np.testing.assert_array_equal(sp, ref_s)
    # The upswing is unstable (d(dv/dt)/dv = 0.08 v + 5 > 0 above -62.5 mV), so ulp-level
    # differences (jaxley takes exp(-dt / (1/a)), spikesim exp(-a dt)) grow by up to ~1e8
    # during an upswing before the reset wipes v: 1e-6 relative, not 1e-9.
    np.testing.assert_allclose(tr["v"], ref[:, 0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(tr["u"], ref[:, 1], rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- inferno IF models
def _inferno(n_steps, dt, current, v0, integrate, thresh, linear_reset, P):
    """inferno voltage_thresholding_{constant,linear} with held voltages, refracs in ms."""
    v = np.full_like(P["t_ref"], v0)
    refracs = np.zeros_like(v)
    out, spikes = [v], []
    for k in range(n_steps):
        inputs = current(k * dt) * np.ones_like(v)
        refracs = np.clip(refracs - dt, 0, None)
        mask = refracs == 0
        v = np.where(~mask, v, integrate(inputs * mask, v))
        s = mask & (v >= thresh)
        refracs = np.where(~s, refracs, P["t_ref"])
        if linear_reset:
            v = np.where(~s, v, P["v_rest"] + P["reset_slope"] * (v - P["v_rest"])
                         - P["reset_offset"])
        else:
            v = np.where(~s, v, P["v_reset"])
        out.append(v)
        spikes.append(s)
    return np.array(out), np.array(spikes)


# t_ref values are multiples of dt = 0.125 ms, exact in binary, so inferno's ms bookkeeping
# has no round-off and must agree with spikesim's whole-step counter exactly.
DT = 0.125
T_REF = np.array([0.0, 0.125, 0.25, 1.0, 2.5])
COMMON = dict(tau_m=10.0, R_m=10.0, v_rest=-65.0, v_reset=-70.0, reset_slope=0.3,
              reset_offset=8.0)


def _current(t):
    return 2.2 + 1.5 * np.sin(t / 3.0)


def _integrators(name, P):
    if name == "lif":
        def step(i, v):
            decay = np.exp(-DT / P["tau_m"])
            ext = P["R_m"] * i
            return P["v_rest"] + (v - P["v_rest"] - ext) * decay + ext
        return step, -50.0, {}
    if name == "qif":
        extra = dict(v_crit=-50.0, a=0.1)

        def step(i, v):
            dyn = extra["a"] * (v - P["v_rest"]) * (v - extra["v_crit"])
            return v + DT / P["tau_m"] * (dyn + P["R_m"] * i)
        return step, -30.0, extra
    extra = dict(v_T=-50.0, delta_T=2.0)

    def step(i, v):
        expdyn = extra["delta_T"] * np.exp((v - extra["v_T"]) / extra["delta_T"])
        return v + DT / P["tau_m"] * (-(v - P["v_rest"]) + expdyn + P["R_m"] * i)
    return step, -40.0, extra


@pytest.mark.parametrize("linear_reset", [False, True])
@pytest.mark.parametrize("name", ["lif", "qif", "eif"])
def test_integrate_and_fire_matches_inferno(name, linear_reset):
    model = get_model(name)
    P = {**COMMON, "t_ref": T_REF}
    step, thresh, extra = _integrators(name, P)
    n_steps = 2000
    ref, ref_s = _inferno(n_steps, DT, _current, -65.0, step, thresh, linear_reset, P)
    integrator = "exp_euler" if name == "lif" else "euler"  # inferno's scheme for each
    tr, sp = simulate(model, dt=DT, n_steps=n_steps, integrator=integrator,
                      current=lambda t: 2.2 + 1.5 * jnp.sin(t / 3.0),
                      params={**COMMON, **extra, "t_ref": T_REF, "v_th": thresh,
                              "reset_mode": float(linear_reset)},
                      n=len(T_REF))
    assert ref_s.sum(axis=0).min() >= 5
    np.testing.assert_array_equal(sp, ref_s)
    np.testing.assert_allclose(tr["v"], ref, rtol=0, atol=1e-9)
    # The SPEC's rule, read off the trace (row k + 1 is the state after step k): after a spike
    # on step k, steps k+1 .. k+n-1 hold v exactly and step k+n moves it again.
    for i, t_ref in enumerate(T_REF):
        n = int(round(t_ref / DT))
        for k in np.flatnonzero(sp[:, i]):
            if k + n + 1 < len(tr["v"]):
                held = tr["v"][k + 1:k + n + 1, i] if n >= 1 else tr["v"][k + 1:k + 2, i]
                assert np.all(held == tr["v"][k + 1, i])
                assert tr["v"][k + max(n, 1) + 1, i] != tr["v"][k + 1, i]
