"""Wang-Buzsaki (1996) fast-spiking hippocampal interneuron.

Wang, X.-J. & Buzsaki, G. (1996). Gamma oscillation by synaptic inhibition in a hippocampal
interneuronal network model. J. Neurosci. 16(20), 6402-6413.

A Hodgkin-Huxley-type model whose sodium activation is instantaneous (``m = m_inf(v)``) and
whose h and n kinetics are sped up by the temperature factor ``phi``. The equations and values
are those of the paper, which BrainPy's ``WangBuzsakiModel`` states in its description (its
parameter list repeats the Hodgkin-Huxley defaults and is not the model).

Conditional linearity: h and n are linear in themselves given v, so ``exp_euler`` steps them
exactly. v is *not*: the sodium current ``g_Na m_inf(v)^3 h (v - E_Na)`` depends on v through
``m_inf`` as well, so under ``exp_euler`` v takes a forward Euler step.
"""

from __future__ import annotations

import math

from ..lazyjax import jnp

from ._rates import exprel
from .base import Model, Param, StateVar


# exp(-(v + c) / s) as constants times two shared exponentials (see hodgkin_huxley.rates)
_E_M, _E_H, _E_N = math.exp(-3.5), math.exp(-2.8), math.exp(-3.4)  # exp(-c/10): m, beta_h, n
_E_AH = math.exp(-14.0 / 20.0)  # exp(-(v+58)/20) = exp(-(v+44)/80)^4 * exp(-14/20)


def rates(v):
    """(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n) in 1/ms at v (mV), before ``phi``.

    alpha_m and alpha_n have a removable 0/0 at v = -35 and -34 mV; both go through
    ``exprel`` (``x / (exp(x) - 1)``), exact at and near the singular voltage. As in
    ``hodgkin_huxley.rates``, three exponentials serve the six rates: ``exp(-v/10)`` (alpha_m,
    beta_h, alpha_n), ``exp(-(v+44)/80)`` (beta_n, and to the fourth power alpha_h) and
    ``exp(-(v+60)/18)`` (beta_m); each rate stays within a few ulps of the paper's formula."""
    e10 = jnp.exp(v * -0.1)
    e80 = jnp.exp((v + 44.0) * (-1 / 80))
    e80_2 = e80 * e80
    alpha_m = exprel((v + 35.0) * -0.1, _E_M * e10)
    beta_m = 4.0 * jnp.exp((v + 60.0) * (-1 / 18))
    alpha_h = 0.07 * _E_AH * (e80_2 * e80_2)
    beta_h = 1.0 / (_E_H * e10 + 1.0)
    alpha_n = 0.1 * exprel((v + 34.0) * -0.1, _E_N * e10)
    beta_n = 0.125 * e80
    return alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n


class WangBuzsaki(Model):
    name = "wang_buzsaki"
    summary = "Wang-Buzsaki 1996 fast-spiking interneuron: HH-type, instantaneous Na activation"
    citation = (
        "Wang & Buzsaki (1996) J. Neurosci. 16:6402-6413; BrainPy WangBuzsakiModel "
        "(equations of its description)"
    )
    equations = (
        "C dv/dt = I - g_Na m_inf(v)^3 h (v - E_Na) - g_K n^4 (v - E_K) - g_L (v - E_L)\n"
        "dh/dt = phi (alpha_h (1 - h) - beta_h h)       dn/dt = phi (alpha_n (1 - n) - beta_n n)\n"
        "m_inf = alpha_m / (alpha_m + beta_m)\n"
        "alpha_m = 0.1 (v + 35) / (1 - exp(-(v + 35)/10))   beta_m = 4 exp(-(v + 60)/18)\n"
        "alpha_h = 0.07 exp(-(v + 58)/20)                   beta_h = 1 / (1 + exp(-(v + 28)/10))\n"
        "alpha_n = 0.01 (v + 34) / (1 - exp(-(v + 34)/10))  beta_n = 0.125 exp(-(v + 44)/80)\n"
        "spike: v crosses v_th upwards (no reset)"
    )
    update_order = (
        "integrate v, h, n together over the step; detect the upward crossing of v_th; no reset"
    )
    current_unit = "uA/cm2"
    default_integrator = "rk4"
    cpu_tile = 8192  # a compute-bound step, as Hodgkin-Huxley's
    params = {
        "C": Param(1.0, "uF/cm2", "membrane capacitance", ref="C", domain="positive"),
        "g_Na": Param(35.0, "mS/cm2", "maximal sodium conductance", ref="gNa", domain="nonnegative"),
        "g_K": Param(9.0, "mS/cm2", "maximal potassium conductance", ref="gK", domain="nonnegative"),
        "g_L": Param(0.1, "mS/cm2", "leak conductance", ref="gL", domain="nonnegative"),
        "E_Na": Param(55.0, "mV", "sodium reversal potential", ref="ENa"),
        "E_K": Param(-90.0, "mV", "potassium reversal potential", ref="EK"),
        "E_L": Param(-65.0, "mV", "leak reversal potential", ref="EL"),
        "phi": Param(5.0, "1", "temperature factor of the h and n kinetics", ref="phi",
                     domain="positive"),
        "v_th": Param(20.0, "mV", "spike-detection threshold (upward crossing)", ref="V_th"),
    }
    states = {
        "v": StateVar("mV", "membrane potential", -65.0),
        "h": StateVar("1", "Na inactivation (default: steady state at v(0))", None, linear=True,
                      domain="fraction"),
        "n": StateVar("1", "K activation (default: steady state at v(0))", None, linear=True,
                      domain="fraction"),
    }

    def initial_state(self, p, init, n, dtype):
        v = jnp.broadcast_to(jnp.asarray(init.get("v", self.states["v"].init), dtype), (n,))
        _, _, ah, bh, an, bn = rates(v)
        out = {"v": v}
        for g, value in (("h", ah / (ah + bh)), ("n", an / (an + bn))):
            out[g] = jnp.broadcast_to(jnp.asarray(init.get(g, value), dtype), (n,))
        return out

    def vector_field(self, t, y, p, current):
        v, h, n = y["v"], y["h"], y["n"]
        am, bm, ah, bh, an, bn = rates(v)
        m_inf = am / (am + bm)
        i_ion = (p["g_Na"] * m_inf**3 * h * (v - p["E_Na"]) + p["g_K"] * n**4 * (v - p["E_K"])
                 + p["g_L"] * (v - p["E_L"]))
        return {
            "v": (current - i_ion) / p["C"],
            "h": p["phi"] * (ah * (1.0 - h) - bh * h),
            "n": p["phi"] * (an * (1.0 - n) - bn * n),
        }
