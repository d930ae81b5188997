"""Adaptive exponential integrate-and-fire (AdEx) neuron.

Brette, R. & Gerstner, W. (2005). Adaptive exponential integrate-and-fire model as an effective
description of neuronal activity. J. Neurophysiol. 94(5), 3637-3642.

Written, as in ngclearn's ``AdExCell`` (whose defaults are this model's defaults), with the
membrane time constant and resistance instead of capacitance and leak conductance::

    tau_m dv/dt = -(v - v_rest) + delta_T exp((v - v_T) / delta_T) - R_m w + R_m I
    tau_w dw/dt = -w + a (v - v_rest)

and after a step where v > v_th: v <- v_reset, w <- w + b (ngclearn's code; its docstring's
``w + s (w + b)`` is not what it computes).

Units. Time in ms and voltage in mV. Current (I, w, b) in pA, R_m in GOhm (1 GOhm x 1 pA =
1 mV) and a in nS. The Brette-Gerstner form ``C dv/dt = -g_L (v - E_L) + g_L delta_T exp(...)
- w + I`` maps onto this one by ``tau_m = C / g_L`` (pF / nS = ms), ``R_m = 1 / g_L`` (1/nS =
GOhm), ``v_rest = E_L``; a, b, tau_w, v_T, delta_T keep their values.

Presets: the eight firing patterns of Naud, Marcille, Clopath & Gerstner (2008), Firing patterns
in the adaptive exponential integrate-and-fire model, Biol. Cybern. 99:335-347, Table 1
(C pF, g_L nS, E_L, V_T, delta_T, a nS, tau_w, b pA, V_r, I pA), converted as above; the neuron
starts at rest (v = E_L, w = 0). The table gives no spike cut-off; the presets use
``v_th = 0 mV`` (at 0 mV the exponential term has already made dv/dt exceed 1e7 mV/ms, so the
cut-off changes spike times by far less than a step). Each preset carries the table's
current I as ``Preset.current``, to be given as the input amplitude (e.g. a ``step``).
The values are those of Brian2's example ``frompapers/Naud_et_al_2008_adex_firing_patterns.py``
(parameters adapted by P. Mueller to match the paper's Fig. 4). Other transcriptions of Table 1
(pycaputo's ``AD_EX_PARAMS``) differ in two rows: delayed regular bursting with C = 200 pF,
g_L = 12 nS, E_L = -70 mV, a = -6 nS, tau_w = 300 ms, b = 0, V_r = -58 mV, and transient
spiking with a = -10 nS, b = 30 pA, I = 350 pA; from rest, those give no spike in 600 ms and
tonic firing, not the named patterns, so the presets keep the figure-matched rows.

Numerical safeguards. The exponential goes through ``capped_exp`` (exponent capped at 50, so
``exp`` is at most ~5e21, finite in float32). The right-hand side is evaluated at
``min(v, v_th)``, as NEST's aeif models bound V by V_peak: beyond the cut-off the model has
already spiked, and without the bound an RK stage past v_th would feed a huge v into dw/dt and
corrupt w on the spike step. Forward Euler evaluates only at v <= v_th, so it is unaffected.
"""

from __future__ import annotations

from ..lazyjax import jnp

from ._rates import capped_exp
from .base import Model, Param, Preset, StateVar

#: Naud et al. (2008) Table 1: C (pF), g_L (nS), E_L, V_T, delta_T (mV), a (nS), tau_w (ms),
#: b (pA), V_r (mV), I (pA).
NAUD_2008 = {
    "tonic": (200.0, 10.0, -70.0, -50.0, 2.0, 2.0, 30.0, 0.0, -58.0, 500.0),
    "adapting": (200.0, 12.0, -70.0, -50.0, 2.0, 2.0, 300.0, 60.0, -58.0, 500.0),
    "initial_burst": (130.0, 18.0, -58.0, -50.0, 2.0, 4.0, 150.0, 120.0, -50.0, 400.0),
    "regular_bursting": (200.0, 10.0, -58.0, -50.0, 2.0, 2.0, 120.0, 100.0, -46.0, 210.0),
    "delayed_accelerating": (200.0, 12.0, -70.0, -50.0, 2.0, -10.0, 300.0, 0.0, -58.0, 300.0),
    "delayed_regular_bursting": (100.0, 10.0, -65.0, -50.0, 2.0, -10.0, 90.0, 30.0, -47.0, 110.0),
    "transient": (100.0, 10.0, -65.0, -50.0, 2.0, 10.0, 90.0, 100.0, -47.0, 180.0),
    "irregular": (100.0, 12.0, -60.0, -50.0, 2.0, -11.0, 130.0, 30.0, -48.0, 160.0),
}


def from_brette_gerstner(C, g_L, E_L, V_T, delta_T, a, tau_w, b, V_r, v_th=0.0):
    """This model's parameters from the Brette-Gerstner ones (pF, nS, mV, ms, pA)."""
    return {"tau_m": C / g_L, "R_m": 1.0 / g_L, "v_rest": E_L, "v_T": V_T,
            "delta_T": delta_T, "a": a, "tau_w": tau_w, "b": b, "v_reset": V_r, "v_th": v_th}


def _naud_preset(name):
    C, g_L, E_L, V_T, delta_T, a, tau_w, b, V_r, current = NAUD_2008[name]
    return Preset(
        from_brette_gerstner(C, g_L, E_L, V_T, delta_T, a, tau_w, b, V_r),
        "Naud, Marcille, Clopath & Gerstner (2008) Biol. Cybern. 99:335, Table 1",
        f"{name.replace('_', ' ')} firing; Table 1 input: a step of {current:g} pA",
        init={"v": E_L, "w": 0.0},
        current=current,
    )


class AdEx(Model):
    name = "adex"
    summary = "adaptive exponential integrate-and-fire (Brette & Gerstner 2005)"
    citation = (
        "Brette & Gerstner (2005) J. Neurophysiol. 94:3637-3642; ngclearn AdExCell (defaults); "
        "Naud et al. (2008) Biol. Cybern. 99:335-347 (presets)"
    )
    equations = (
        "tau_m dv/dt = -(v - v_rest) + delta_T exp((v - v_T)/delta_T) - R_m w + R_m I\n"
        "tau_w dw/dt = -w + a (v - v_rest)\n"
        "spike: v > v_th after the step; then v <- v_reset, w <- w + b\n"
        "(right-hand side evaluated at min(v, v_th); exponent capped at 50)"
    )
    update_order = (
        "integrate v and w over the step; spike where v > v_th; reset v to v_reset and add b "
        "to w"
    )
    resets_at_crossing = True
    reset_param = "v_reset"
    current_unit = "pA"
    default_integrator = "rk4"
    params = {
        "tau_m": Param(15.0, "ms", "membrane time constant (C / g_L)", ref="tau_m",
                       domain="positive"),
        "R_m": Param(1.0, "GOhm", "membrane resistance (1 / g_L)", ref="resist_m",
                     domain="positive"),
        "tau_w": Param(400.0, "ms", "adaptation time constant", ref="tau_w", domain="positive"),
        "delta_T": Param(2.0, "mV", "slope factor of the exponential", ref="v_sharpness",
                         domain="positive"),
        "v_T": Param(-55.0, "mV", "intrinsic threshold of the exponential",
                     ref="intrinsic_mem_thr"),
        "v_th": Param(5.0, "mV", "spike cut-off: spike and reset where v > v_th", ref="thr"),
        "v_rest": Param(-72.0, "mV", "resting (leak reversal) potential", ref="v_rest"),
        "v_reset": Param(-75.0, "mV", "voltage after a spike", ref="v_reset"),
        "a": Param(0.1, "nS", "subthreshold adaptation coupling", ref="a"),
        "b": Param(0.75, "pA", "spike-triggered adaptation increment", ref="b"),
    }
    states = {
        "v": StateVar("mV", "membrane potential", -70.0),
        "w": StateVar("pA", "adaptation current", 0.0, linear=True),
    }
    presets = {
        "ngclearn": Preset({}, "ngclearn AdExCell defaults", "the model's defaults",
                           init={"v": -70.0, "w": 0.0}),
        **{name: _naud_preset(name) for name in NAUD_2008},
    }

    def vector_field(self, t, y, p, current):
        v = jnp.minimum(y["v"], p["v_th"])
        w = y["w"]
        spike_term = p["delta_T"] * capped_exp((v - p["v_T"]) / p["delta_T"])
        dv = (-(v - p["v_rest"]) + spike_term - p["R_m"] * w + p["R_m"] * current) / p["tau_m"]
        return {"v": dv, "w": (-w + p["a"] * (v - p["v_rest"])) / p["tau_w"]}

    def spiked(self, y_old, y_new, p):
        # Level test after the step, strict as in ngclearn; the reset takes v below v_th, so
        # each crossing counts once (as long as v_reset < v_th).
        return y_new["v"] > p["v_th"]

    def reset(self, y, spiked, p):
        return {**y, "v": jnp.where(spiked, p["v_reset"], y["v"]),
                "w": jnp.where(spiked, y["w"] + p["b"], y["w"])}
