"""Exponential integrate-and-fire neuron.

Fourcaud-Trocme, Hansel, van Vreeswijk & Brunel (2003), J. Neurosci. 23:11628-11640; inferno's
``voltage_integration_exponential``::

    tau_m dv/dt = -(v - v_rest) + delta_T exp((v - v_T) / delta_T) + R_m I

inferno steps it by forward Euler, the default here. No variable is conditionally linear (the
exponential), so ``exp_euler`` is refused. The exponential goes through ``capped_exp`` (exponent
capped at 50, exp at most ~5e21) so that no Runge-Kutta stage overflows, even in float32.
Thresholding, reset and refractory period: see ``_integrate_and_fire``. Defaults beyond the
shared ones are ours (inferno has none): v_T = -50 mV, delta_T = 2 mV and the cut-off
v_th = v_T + 5 delta_T = -40 mV, as in Brette & Gerstner (2005).
"""

from __future__ import annotations

from ._integrate_and_fire import COMMON_PARAMS, REFRACTORY, IntegrateAndFire
from ._rates import capped_exp
from .base import Param, StateVar


class EIF(IntegrateAndFire):
    name = "eif"
    summary = "exponential integrate-and-fire (inferno), absolute refractory period"
    citation = ("Fourcaud-Trocme et al. (2003) J. Neurosci. 23:11628-11640; "
                "inferno voltage_integration_exponential + voltage_thresholding")
    equations = (
        "tau_m dv/dt = -(v - v_rest) + delta_T exp((v - v_T)/delta_T) + R_m I   "
        "(exponent capped at 50)\n"
        "spike: v >= v_th; reset and refractory period as lif"
    )
    default_integrator = "euler"
    params = {
        **COMMON_PARAMS,
        "v_th": Param(-40.0, "mV", "spike cut-off: spike where v >= v_th", ref="thresh_v"),
        "v_T": Param(-50.0, "mV", "rheobase voltage of the exponential", ref="rheobase_v"),
        "delta_T": Param(2.0, "mV", "slope factor (sharpness)", ref="sharpness",
                         domain="positive"),
    }
    states = {
        "v": StateVar("mV", "membrane potential", -65.0),
        "refrac": REFRACTORY,
    }

    def vector_field(self, t, y, p, current):
        v = y["v"]
        spike_term = p["delta_T"] * capped_exp((v - p["v_T"]) / p["delta_T"])
        return {"v": (-(v - p["v_rest"]) + spike_term + p["R_m"] * current) / p["tau_m"]}
