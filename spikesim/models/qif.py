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
