"""Quadratic integrate-and-fire neuron.

Latham, Richmond, Nelson & Nirenberg (2000), J. Neurophysiol. 83:808-827 (the form with rest
and critical voltages); inferno's ``voltage_integration_quadratic``::

    tau_m dv/dt = a (v - v_rest) (v - v_crit) + R_m I

Below v_crit (with a > 0) v relaxes to v_rest; above it v runs away in finite time, so v_th
only cuts the upswing off. inferno steps it by forward Euler, the default here. No variable is
conditionally linear, so ``exp_euler`` is refused. Thresholding, reset and refractory period:
see ``_integrate_and_fire``. Defaults beyond the shared ones are ours (inferno has none):
v_crit = -50 mV, a = 0.1 /mV (the slope at rest, a (v_rest - v_crit) = -1.5, is of the order of
the LIF's -1), and v_th = -30 mV, where dv/dt is already 7 mV/ms without input.
"""

from __future__ import annotations

from ..lazyjax import jnp

from ._integrate_and_fire import COMMON_PARAMS, REFRACTORY, IntegrateAndFire
from .base import Param, StateVar


class QIF(IntegrateAndFire):
    name = "qif"
    summary = "quadratic integrate-and-fire (inferno), absolute refractory period"
    citation = ("Latham et al. (2000) J. Neurophysiol. 83:808-827; "
                "inferno voltage_integration_quadratic + voltage_thresholding")
    equations = (
        "tau_m dv/dt = a (v - v_rest) (v - v_crit) + R_m I\n"
        "spike: v >= v_th; reset and refractory period as lif"
    )
    default_integrator = "euler"
    params = {
        **COMMON_PARAMS,
        "v_th": Param(-30.0, "mV", "spike cut-off: spike where v >= v_th", ref="thresh_v"),
        "v_crit": Param(-50.0, "mV", "critical voltage above which v runs away", ref="crit_v"),
        "a": Param(0.1, "1/mV", "affinity: strength of the quadratic drift", ref="affinity",
                   domain="positive"),
    }
    states = {
        "v": StateVar("mV", "membrane potential", -65.0),
        "refrac": REFRACTORY,
    }

    def vector_field(self, t, y, p, current):
        v = y["v"]
        return {"v": (p["a"] * (v - p["v_rest"]) * (v - p["v_crit"]) + p["R_m"] * current)
                / p["tau_m"]}

    closed_form_crossing = True

    def crossing_time(self, y, p, drive, h):
        """Time for v to reach v_th under a held input, in closed form. With x = v - m,
        m = (v_rest + v_crit)/2 and q = R_m I / a - ((v_crit - v_rest)/2)^2,
        dx/dt = (a / tau_m) (x^2 + q), so the time from x0 to x1 is (tau_m / a) F with
        F = atan2(s (x1 - x0), x0 x1 + q) / s for q = s^2 > 0 (no fixed point),
        F = atanh(s (x1 - x0) / (x0 x1 + q)) / s for q = -s^2 < 0 (above the unstable fixed
        point), and (x1 - x0) / (x0 x1) at q = 0; NaN where v_th is not reached. Under a
        conductance input, I = I_a - b v (``drive = (I_a, b)``, b held), the drift is still
        quadratic: its vertex moves by e = R_m b / (2 a), m = (v_rest + v_crit)/2 + e, and
        q = R_m I_a / a - ((v_crit - v_rest)/2)^2 - e (v_rest + v_crit + e)."""
        current, b = drive
        m = 0.5 * (p["v_rest"] + p["v_crit"])
        d = 0.5 * (p["v_crit"] - p["v_rest"])
        q = p["R_m"] * current / p["a"] - d * d
        if b is not None:
            e = p["R_m"] * b / (2.0 * p["a"])
            q = q - e * (2.0 * m + e)
            m = m + e
        x0 = y["v"] - m
        x1 = p["v_th"] - m
        gap = x1 - x0
        prod = x0 * x1 + q
        s = jnp.sqrt(jnp.abs(q))
        s_safe = jnp.where(s > 0, s, 1.0)
        prod_safe = jnp.where(prod != 0, prod, 1.0)
        z = s * gap / prod_safe
        f_pos = jnp.arctan2(s * gap, prod) / s_safe
        reach = (prod > 0) & (z < 1.0) & (x0 > s)  # q < 0: start above the unstable point x = s
        f_neg = jnp.where(reach, jnp.arctanh(jnp.where(reach, z, 0.0)) / s_safe, jnp.nan)
        f_zero = jnp.where((prod > 0) & (x0 > 0), gap / prod_safe, jnp.nan)
        f = jnp.where(s == 0, f_zero, jnp.where(q > 0, f_pos, f_neg))
        return p["tau_m"] / p["a"] * f
