"""Leaky integrate-and-fire neuron, stepped exactly.

Lapicque (1907), in the modern form of e.g. Dayan & Abbott (2001), Theoretical Neuroscience,
section 5.4; inferno's ``voltage_integration_linear``::

    tau_m dv/dt = -(v - v_rest) + R_m I

v is linear in itself, so ``exp_euler`` (the default here) is inferno's exact step
``v <- v_rest + R_m I + (v - v_rest - R_m I) exp(-dt / tau_m)``, exact for input constant over
the step (the input is taken at the start of the step). Thresholding, reset and refractory
period: see ``_integrate_and_fire``.
"""

from __future__ import annotations

from ..lazyjax import jnp

from ._integrate_and_fire import COMMON_PARAMS, REFRACTORY, IntegrateAndFire
from .base import StateVar


class LIF(IntegrateAndFire):
    name = "lif"
    summary = "leaky integrate-and-fire, exact exponential step, absolute refractory period"
    citation = ("Lapicque (1907); Dayan & Abbott (2001) Theoretical Neuroscience 5.4; "
                "inferno voltage_integration_linear + voltage_thresholding")
    equations = (
        "tau_m dv/dt = -(v - v_rest) + R_m I\n"
        "spike: v >= v_th; reset v <- v_reset (reset_mode: constant) or "
        "v <- v_rest + reset_slope (v - v_rest) - reset_offset (reset_mode: linear); "
        "refractory for round(t_ref/dt) steps"
    )
    default_integrator = "exp_euler"
    params = dict(COMMON_PARAMS)
    states = {
        "v": StateVar("mV", "membrane potential", -65.0, linear=True),
        "refrac": REFRACTORY,
    }

    def vector_field(self, t, y, p, current):
        return {"v": (-(y["v"] - p["v_rest"]) + p["R_m"] * current) / p["tau_m"]}

    closed_form_crossing = True

    def crossing_time(self, y, p, drive, h):
        """v(s) = v_inf + (v - v_inf) exp(-s / tau) reaches v_th at
        s = tau ln((v - v_inf) / (v_th - v_inf)) (v < v_th < v_inf); NaN where it never
        does. Under ``I = a - b v`` (a conductance ``b`` held over the step, as in
        :meth:`exp_euler_step`) v_inf = (v_rest + R_m a) / (1 + R_m b) and
        tau = tau_m / (1 + R_m b); else v_inf = v_rest + R_m I, tau = tau_m."""
        a, b = drive
        v_inf = p["v_rest"] + p["R_m"] * a
        tau = p["tau_m"]
        if b is not None:
            leak = 1.0 + p["R_m"] * b
            v_inf, tau = v_inf / leak, tau / leak
        ratio = (y["v"] - v_inf) / (p["v_th"] - v_inf)
        ok = (ratio >= 1.0) & (p["v_th"] < v_inf)
        return jnp.where(ok, tau * jnp.log(jnp.where(ok, ratio, 1.0)), jnp.nan)

    def exp_euler_step(self, y, p, t, dt, current):
        """inferno's exact step, in its own form: v relaxes towards v_inf = v_rest + R_m I
        with the factor exp(-dt / tau_m). The generic exponential Euler step computes the same
        value as v + dt f(v) phi1(-dt / tau_m) at the cost of a division per neuron and step.

        Under a conductance input, ``I = a - b v`` with ``b`` the total synaptic conductance
        (``current.affine``, held at its value at the start of the step): v relaxes towards
        ``(v_rest + R_m a) / (1 + R_m b)`` with the time constant ``tau_m / (1 + R_m b)``,
        exact for constant conductances."""
        if getattr(current, "conductance", False):
            a, b = current.affine(t)
            leak = 1.0 + p["R_m"] * b
            v_inf = (p["v_rest"] + p["R_m"] * a) / leak
            decay = jnp.exp(-dt * leak / p["tau_m"])
            return {**y, "v": v_inf + (y["v"] - v_inf) * decay}
        v_inf = p["v_rest"] + p["R_m"] * current(t)
        decay = jnp.exp(-dt / p["tau_m"])
        return {**y, "v": v_inf + (y["v"] - v_inf) * decay}
