"""Hodgkin-Huxley (1952) squid giant axon.

Hodgkin, A. L. & Huxley, A. F. (1952). A quantitative description of membrane current and its
application to conduction and excitation in nerve. J. Physiol. 117(4), 500-544.

The rate functions are written, as in the 1952 paper, in terms of the depolarisation from rest
``u = v - v_rest``. With the classic defaults (``v_rest = -65 mV``) this is the modern
convention; the ``ngclearn`` preset reproduces ngclearn's ``HodgkinHuxleyCell``, which keeps
the paper's rest-at-0 mV convention (``v_rest = 0``), calls C ``tau_v`` and scales its input
by ``resist_m``.

The ``ngclearn`` preset is that cell's defaults, not the 1952 values: g_Na = 100, g_K = 5 (the
paper: 120, 36), E_Na = 115, E_K = -35 (the paper: 115, -12), E_L = 10.6 mV, thr = 4 mV,
and the docstring's tau_v = 1 ms (the constructor itself has no default for it). With
``euler`` it reproduces the cell's update step for step: the cell steps v with the gates of
the start of the step and each gate with the rates at the start-of-step v, which is the
coupled forward Euler step. (Its rk2 and rk4 options integrate v and the gates separately,
each with the others frozen, so they are not the coupled RK methods used here.) Two
differences in spike reporting: ngclearn flags every step where v > thr, spikesim counts the
upward crossing once (the same spikes when spike_reset is true); and the test is v >= v_th here.
"""

from __future__ import annotations

import math

from ..lazyjax import jnp

from ._rates import exprel
from .base import Model, Param, Preset, StateVar


# exp((c - u) / 10) = e^(c/10) exp(-u/10) for the three rates with a 10 mV scale
_E1, _E2_5, _E3 = math.exp(1.0), math.exp(2.5), math.exp(3.0)


def rates(v, v_rest):
    """(alpha_n, beta_n, alpha_m, beta_m, alpha_h, beta_h) in 1/ms at membrane potential v.

    The removable 0/0 of alpha_n (at u = 10 mV) and alpha_m (at u = 25 mV) goes through
    ``exprel``, accurate to a few ulps at and near the singular voltage.

    Three exponentials serve the six rates: ``exp(-u/10)``, times the constants e^1, e^2.5
    and e^3, is the exponential of alpha_n, alpha_m and beta_h; ``exp(-u/80)`` is beta_n's,
    and its fourth power alpha_h's ``exp(-u/20)``; beta_m has its own ``exp(-u/18)``. Each
    rate stays within a few ulps of the paper's formula (tests/test_models_rates.py). With
    multi-output fusion (``spikesim/__init__.py``), which evaluates all gates in one loop, the
    HH step runs about 20 % faster: XLA:CPU evaluates an ``exp`` as some twenty vector
    instructions, the largest part of the step. The voltage scales are likewise
    multiplications by their reciprocals (``u * 0.1`` for ``u / 10``): a vector division
    costs XLA:CPU about ten multiplications."""
    u = v - v_rest
    e10 = jnp.exp(u * -0.1)
    e80 = jnp.exp(u * (-1 / 80))
    e80_2 = e80 * e80
    alpha_n = 0.1 * exprel((10.0 - u) * 0.1, _E1 * e10)
    beta_n = 0.125 * e80
    alpha_m = exprel((25.0 - u) * 0.1, _E2_5 * e10)
    beta_m = 4.0 * jnp.exp(u * (-1 / 18))
    alpha_h = 0.07 * (e80_2 * e80_2)
    beta_h = 1.0 / (_E3 * e10 + 1.0)
    return alpha_n, beta_n, alpha_m, beta_m, alpha_h, beta_h


def steady_state(v, v_rest):
    """Steady-state gates (n, m, h) at membrane potential v."""
    an, bn, am, bm, ah, bh = rates(v, v_rest)
    return an / (an + bn), am / (am + bm), ah / (ah + bh)


class HodgkinHuxley(Model):
    name = "hodgkin_huxley"
    summary = "Hodgkin-Huxley 1952 squid axon: Na, K and leak currents with n, m, h gates"
    citation = (
        "Hodgkin & Huxley (1952) J. Physiol. 117:500-544; ngclearn HodgkinHuxleyCell "
        "(preset 'ngclearn')"
    )
    equations = (
        "C dv/dt = R_m I - g_Na m^3 h (v - E_Na) - g_K n^4 (v - E_K) - g_L (v - E_L)\n"
        "dx/dt = alpha_x(u) (1 - x) - beta_x(u) x,   x in {n, m, h},   u = v - v_rest\n"
        "alpha_n = 0.01 (10 - u) / (exp((10 - u)/10) - 1)    beta_n = 0.125 exp(-u/80)\n"
        "alpha_m = 0.1 (25 - u) / (exp((25 - u)/10) - 1)     beta_m = 4 exp(-u/18)\n"
        "alpha_h = 0.07 exp(-u/20)                           beta_h = 1 / (exp((30 - u)/10) + 1)\n"
        "spike: v crosses v_th upwards; if spike_reset is true: v <- v_reset, gates <- steady state at v_reset"
    )
    update_order = (
        "integrate v, n, m, h together over the step; detect the upward crossing of v_th; "
        "if spike_reset is true, snap v to v_reset and the gates to their steady state there"
    )
    current_unit = "uA/cm2"
    default_integrator = "rk4"
    cpu_tile = 8192  # HH at 50,000 neurons per device: +6-10 % with tiles of 6-12 K, -8 % with 2 K
    params = {
        "C": Param(1.0, "uF/cm2", "membrane capacitance", ref="tau_v (ngclearn)", domain="positive"),
        "g_Na": Param(120.0, "mS/cm2", "maximal sodium conductance", ref="g_Na", domain="nonnegative"),
        "g_K": Param(36.0, "mS/cm2", "maximal potassium conductance", ref="g_K", domain="nonnegative"),
        "g_L": Param(0.3, "mS/cm2", "leak conductance", ref="g_L", domain="nonnegative"),
        "E_Na": Param(50.0, "mV", "sodium reversal potential", ref="v_Na"),
        "E_K": Param(-77.0, "mV", "potassium reversal potential", ref="v_K"),
        "E_L": Param(-54.387, "mV", "leak reversal potential", ref="v_L"),
        "v_rest": Param(-65.0, "mV", "resting potential; origin of the rate functions' voltage",
                        ref="none (ngclearn fixes it at 0 mV)"),
        "R_m": Param(1.0, "1", "scale applied to the injected current", ref="resist_m"),
        "v_th": Param(0.0, "mV", "spike-detection threshold (upward crossing)", ref="thr"),
        "spike_reset": Param(0.0, "1", "true: snap v and gates back after a spike (ngclearn "
                             "option)", ref="spike_reset", choices={False: 0.0, True: 1.0}),
        "v_reset": Param(0.0, "mV", "voltage after a spike when spike_reset is true",
                         ref="v_reset"),
    }
    states = {
        "v": StateVar("mV", "membrane potential (default: v_rest)", None, linear=True),
        "n": StateVar("1", "K activation (default: steady state at v(0))", None, linear=True,
                      domain="fraction"),
        "m": StateVar("1", "Na activation (default: steady state at v(0))", None, linear=True,
                      domain="fraction"),
        "h": StateVar("1", "Na inactivation (default: steady state at v(0))", None, linear=True,
                      domain="fraction"),
    }
    presets = {
        "classic": Preset({}, "Hodgkin & Huxley 1952, modern sign convention, rest at -65 mV"),
        "ngclearn": Preset(
            {"C": 1.0, "g_Na": 100.0, "g_K": 5.0, "g_L": 0.3, "E_Na": 115.0, "E_K": -35.0,
             "E_L": 10.6, "v_rest": 0.0, "R_m": 1.0, "v_th": 4.0, "spike_reset": 0.0,
             "v_reset": 0.0},
            "ngclearn HodgkinHuxleyCell defaults (rest at 0 mV, tau_v = 1 ms, thr = 4 mV)",
        ),
    }

    def initial_state(self, p, init, n, dtype):
        v = jnp.broadcast_to(jnp.asarray(init.get("v", p["v_rest"]), dtype), (n,))
        n_inf, m_inf, h_inf = steady_state(v, p["v_rest"])
        gates = {"n": n_inf, "m": m_inf, "h": h_inf}
        out = {"v": v}
        for g, value in gates.items():
            out[g] = jnp.broadcast_to(jnp.asarray(init.get(g, value), dtype), (n,))
        return out

    def vector_field(self, t, y, p, current):
        v, n, m, h = y["v"], y["n"], y["m"], y["h"]
        an, bn, am, bm, ah, bh = rates(v, p["v_rest"])
        i_ion = (p["g_Na"] * m**3 * h * (v - p["E_Na"]) + p["g_K"] * n**4 * (v - p["E_K"])
                 + p["g_L"] * (v - p["E_L"]))
        return {
            "v": (p["R_m"] * current - i_ion) / p["C"],
            "n": an * (1.0 - n) - bn * n,
            "m": am * (1.0 - m) - bm * m,
            "h": ah * (1.0 - h) - bh * h,
        }

    def reset(self, y, spiked, p):
        snap = spiked & (p["spike_reset"] > 0.5)
        # Gates at v_reset are computed on the parameter itself (a scalar unless it varies
        # across neurons), not on an [N] broadcast, so the hot loop pays only the selects.
        n_inf, m_inf, h_inf = steady_state(p["v_reset"], p["v_rest"])
        return {
            "v": jnp.where(snap, p["v_reset"], y["v"]),
            "n": jnp.where(snap, n_inf, y["n"]),
            "m": jnp.where(snap, m_inf, y["m"]),
            "h": jnp.where(snap, h_inf, y["h"]),
        }
