"""Thresholding, reset and absolute refractory period shared by the integrate-and-fire models
(``lif``, ``qif``, ``eif``), following inferno's ``voltage_thresholding_constant`` and
``voltage_thresholding_linear``.

Update order of one step of length dt:

1. the refractory counter (steps left) drops by one, floored at 0; a neuron is *free* where it
   is 0;
2. free neurons integrate v over the step with the input current; refractory ones hold v and
   ignore the input (their integrated v is discarded);
3. a free neuron spikes where v >= v_th;
4. a neuron that spiked is reset, and its counter set to n = round(t_ref / dt) (ties to even).

So after a spike on step k, steps k+1 .. k+n-1 hold v and step k+n integrates again (t_ref < 1.5
dt: no held step). With ``simulation.spike_timing: precise`` the reset happens at the crossing
time and the counter holds fractions of steps (``spikesim.models.spike_timing``). inferno counts the
remaining period in ms and tests it for equality with 0 after subtracting dt; counting whole
steps gives the same steps whenever t_ref is a multiple of dt, without the float round-off that
can add a step to that test.

Reset (``reset_mode``, a switch): ``constant`` (0) sets v <- v_reset; ``linear`` (1,
inferno's "linear thresholding") sets v <- v_rest + reset_slope (v - v_rest) - reset_offset
(inferno's m_v and b_v), with v the value that crossed threshold.

Units: time ms, voltage mV, current nA and R_m in MOhm (1 MOhm x 1 nA = 1 mV), as in inferno.
Default values, which inferno leaves to the caller, are those of the integrate-and-fire neuron of
Dayan & Abbott (2001), Theoretical Neuroscience, section 5.4 (E_L = V_reset = -65 mV,
V_th = -50 mV, tau_m = 10 ms, R_m = 10 MOhm), with a 2 ms refractory period.
"""

from __future__ import annotations

from ..lazyjax import jnp

from .base import Model, Param, StateVar

COMMON_PARAMS = {
    "tau_m": Param(10.0, "ms", "membrane time constant", ref="time_constant", domain="positive"),
    "R_m": Param(10.0, "MOhm", "membrane resistance", ref="resistance", domain="positive"),
    "v_rest": Param(-65.0, "mV", "resting potential", ref="rest_v"),
    "v_th": Param(-50.0, "mV", "spike threshold: spike where v >= v_th", ref="thresh_v"),
    "v_reset": Param(-65.0, "mV", "voltage after a spike (reset_mode: constant)", ref="reset_v"),
    "reset_mode": Param(0.0, "1", "constant: v <- v_reset; linear: v <- v_rest + reset_slope "
                        "(v - v_rest) - reset_offset", ref="constant | linear thresholding",
                        choices={"constant": 0.0, "linear": 1.0}),
    "reset_slope": Param(0.0, "1", "slope of the linear reset (reset_mode: linear)",
                         ref="v_slope (m_v)"),
    "reset_offset": Param(0.0, "mV", "offset subtracted by the linear reset (reset_mode: linear)",
                          ref="v_intercept (b_v)"),
    "t_ref": Param(2.0, "ms", "absolute refractory period, counted in whole steps "
                   "(spike_timing: precise: in continuous time from the crossing)",
                   ref="refrac_t", domain="nonnegative"),
}

REFRACTORY = StateVar(
    "steps", "refractory steps left (bookkeeping; 0 = free; fractional with precise timing)",
    0.0, integrated=False
)

UPDATE_ORDER = (
    "count down the refractory steps; free neurons integrate v (refractory ones hold v and see "
    "no input); spike where a free neuron has v >= v_th; reset v and start n = round(t_ref/dt) "
    "refractory steps"
)


class IntegrateAndFire(Model):
    """Base of the integrate-and-fire models: subclasses declare their own parameters (merged
    with ``COMMON_PARAMS``), ``states`` (v and the refractory counter) and ``vector_field``."""

    update_order = UPDATE_ORDER
    current_unit = "nA"
    threshold_param = "v_th"
    reset_param = "v_reset"  # with reset_mode: constant
    resets_at_crossing = True

    def precise_step(self, integrate, y, p, t, dt, current, precision="float64"):
        """Reset at the crossing and a refractory period of ``t_ref`` in continuous time from
        it (see :func:`spikesim.models.spike_timing.integrate_and_fire_step`)."""
        from .spike_timing import integrate_and_fire_step

        return integrate_and_fire_step(self, integrate, y, p, t, dt, current, precision)

    def precise_needed(self, y, spiked):
        """Also the neurons whose refractory period ends inside the step
        (:func:`spikesim.models.spike_timing.refractory_end_needed`)."""
        from .spike_timing import refractory_end_needed

        return refractory_end_needed(y, spiked)

    def precise_due(self, y):
        """The step on which a fractional counter ends inside the step
        (:func:`spikesim.models.spike_timing.refractory_end_due`)."""
        from .spike_timing import refractory_end_due

        return refractory_end_due(y)

    def spiked(self, y_old, y_new, p):
        """Level test of the integrated v; only free neurons can spike: those whose counter
        is at 0 after this step's countdown, i.e. at most 1 before it."""
        return (y_old["refrac"] <= 1) & (y_new["v"] >= p["v_th"])

    def reset(self, y, spiked, p):
        """Reset v (constant or linear); the counter is set in ``step``, which knows dt."""
        linear = p["v_rest"] + p["reset_slope"] * (y["v"] - p["v_rest"]) - p["reset_offset"]
        v_after = jnp.where(p["reset_mode"] > 0.5, linear, p["v_reset"])
        return {**y, "v": jnp.where(spiked, v_after, y["v"])}

    def step(self, integrate, y, p, t, dt, current):
        refrac = jnp.maximum(y["refrac"] - 1, 0)
        # free where the counted-down counter is 0, tested on the counter before the
        # countdown (r <= 1 is max(r - 1, 0) == 0 for every r): the test then does not wait
        # for the new counter, and XLA makes one loop over the neurons less per step
        free = y["refrac"] <= 1
        held = {**y, "refrac": refrac}
        # v is the only integrated state and refractory neurons keep their old v, so the
        # input they would see is never used: integrating with the unmasked current gives the
        # same result bit for bit, and keeps a homogeneous current a scalar that XLA folds
        # into the update instead of a select per neuron and step
        y_int = integrate(self, held, p, t, dt, current)
        # the spike test and the reset read the integrated v, which is the new v wherever a
        # neuron can spike (free), and the held v enters only the last select. The same
        # values as testing the new v, but XLA no longer stores the new v in place before
        # the reset: with it LLVM 22 (jaxlib 0.10) turned the reset's select into a masked
        # store (vmaskmovps), which AMD Zen 1-3 run in microcode: the LIF step 2x slower on
        # an EPYC (Zen 3), benchmarks/RESULTS.md
        s = self.spiked(y, y_int, p)
        v_reset = self.reset(y_int, s, p)["v"]
        v_new = jnp.where(s, v_reset, jnp.where(free, y_int["v"], y["v"]))
        n_ref = jnp.round(p["t_ref"] / dt)
        r_new = jnp.where(s, n_ref, refrac).astype(y["refrac"].dtype)
        return {**held, "v": v_new, "refrac": r_new}, s
