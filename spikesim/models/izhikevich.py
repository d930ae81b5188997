"""Izhikevich (2003) simple spiking model.

Izhikevich, E. M. (2003). Simple model of spiking neurons. IEEE Trans. Neural Netw. 14(6),
1569-1572.

Two variables: the membrane potential v (mV) and a recovery variable u; time in ms. The input
``I`` enters dv/dt directly, so its unit is mV/ms (the paper's dimensionless "I"). The presets
are the (a, b, c, d) of the paper's Fig. 2 for the cortical and thalamic cell classes; the
paper shows them with a DC input of about I = 10.

Initial state: v(0) = -65 mV (the paper's and jaxley's reset c of regular spiking) and
u(0) = b v(0), as in the paper's program and in jaxley's ``init_state``.

``exp_euler`` reproduces jaxley's ``Izhikevich`` channel: u first, by the exact exponential
step of ``du/dt = a (b v - u)`` with v frozen (``u_inf = b v``, ``tau = 1/a``); then v by
forward Euler using the *new* u; then threshold and reset. jaxley adds the external current
in its membrane solver after the channel update; here I(t) at the start of the step enters
the same Euler step of v, before the threshold test.
"""

from __future__ import annotations

from ..lazyjax import jnp

from .base import Model, Param, Preset, StateVar
from .drive import input_at

_SOURCE = "Izhikevich (2003) IEEE TNN 14:1569, Fig. 2"


def _preset(a, b, c, d, doc):
    return Preset({"a": a, "b": b, "c": c, "d": d}, _SOURCE, doc, current=10.0)


class Izhikevich(Model):
    name = "izhikevich"
    summary = "Izhikevich 2003 quadratic model with recovery variable u; cortical cell classes"
    citation = "Izhikevich (2003) IEEE Trans. Neural Netw. 14:1569-1572; jaxley Izhikevich channel"
    equations = (
        "dv/dt = 0.04 v^2 + 5 v + 140 - u + I\n"
        "du/dt = a (b v - u)\n"
        "spike: v >= v_th after the step; then v <- c, u <- u + d"
    )
    update_order = (
        "integrate v and u over the step (exp_euler: u exactly with v frozen, then v by Euler "
        "with the new u); spike where v >= v_th; reset v to c and add d to u"
    )
    resets_at_crossing = True
    reset_param = "c"
    current_unit = "mV/ms"
    default_integrator = "rk4"
    threshold_param = "v_th"
    params = {
        "a": Param(0.02, "1/ms", "rate of the recovery variable u", ref="a", domain="positive"),
        "b": Param(0.2, "1/ms", "sensitivity of u to v", ref="b"),
        "c": Param(-65.0, "mV", "after-spike reset of v", ref="c"),
        "d": Param(8.0, "mV/ms", "after-spike increment of u", ref="d"),
        "v_th": Param(30.0, "mV", "spike cut-off: spike and reset where v >= v_th",
                      ref="30.0 (fixed in jaxley)"),
    }
    states = {
        "v": StateVar("mV", "membrane potential", -65.0),
        "u": StateVar("mV/ms", "recovery variable (default: b v(0))", None, linear=True),
    }
    presets = {
        "RS": _preset(0.02, 0.2, -65.0, 8.0, "regular spiking (excitatory cortical): adapting"),
        "IB": _preset(0.02, 0.2, -55.0, 4.0, "intrinsically bursting: initial burst, then tonic"),
        "CH": _preset(0.02, 0.2, -50.0, 2.0, "chattering: repetitive bursts"),
        "FS": _preset(0.1, 0.2, -65.0, 2.0, "fast spiking (inhibitory): no adaptation"),
        "TC": _preset(0.02, 0.25, -65.0, 0.05, "thalamo-cortical: tonic from rest, rebound "
                      "burst after hyperpolarisation"),
        "RZ": _preset(0.1, 0.26, -65.0, 2.0, "resonator: damped subthreshold oscillations"),
        "LTS": _preset(0.02, 0.25, -65.0, 2.0, "low-threshold spiking (inhibitory): "
                       "high-frequency adapting trains"),
    }

    def initial_state(self, p, init, n, dtype):
        v = jnp.broadcast_to(jnp.asarray(init.get("v", self.states["v"].init), dtype), (n,))
        u = init.get("u", p["b"] * v)
        return {"v": v, "u": jnp.broadcast_to(jnp.asarray(u, dtype), (n,))}

    @staticmethod
    def _dv(v, u, current):
        return 0.04 * v * v + 5.0 * v + 140.0 - u + current

    def vector_field(self, t, y, p, current):
        v, u = y["v"], y["u"]
        return {"v": self._dv(v, u, current), "u": p["a"] * (p["b"] * v - u)}

    def exp_euler_step(self, y, p, t, dt, current):
        v, u = y["v"], y["u"]
        u_inf = p["b"] * v
        u = u_inf + (u - u_inf) * jnp.exp(-p["a"] * dt)
        return {**y, "v": v + dt * self._dv(v, u, input_at(current, t, y)), "u": u}

    def spiked(self, y_old, y_new, p):
        # Level test after the step: the reset brings v back below v_th, so every crossing
        # counts once (as long as c < v_th).
        return y_new["v"] >= p["v_th"]

    def reset(self, y, spiked, p):
        return {**y, "v": jnp.where(spiked, p["c"], y["v"]),
                "u": jnp.where(spiked, y["u"] + p["d"], y["u"])}
