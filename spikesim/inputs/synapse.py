"""What the synaptic input protocols share (SPEC section 10): an exponentially decaying
synaptic variable, kicked by presynaptic events at step boundaries.

Each synaptic protocol at position ``i`` of ``input`` carries one variable per neuron: a
conductance ``g_syn<i>`` (``kind: conductance``, the current is ``g (reversal - v)``) or a
current ``I_syn<i>`` (``kind: current``). Between events it decays in closed form,
``x(t0 + s) = x(t0) exp(-s / tau)``, so every integrator stage sees its exact value at that
stage's time. ``n`` events at step boundary ``k`` (time ``k dt``) add ``n weight`` at the start
of step k. The variable held in the loop's state, recorded and written to ``/state`` is its
value at the end of a step, i.e. at ``k dt`` before the events of boundary k (the left
limit), so that a run continued with ``--init-from`` adds its own step-0 events to it.

For shot noise with events at the grid points, the time average of ``x`` over the run is
exactly ``rate weight tau`` (Campbell's theorem) for any dt; the samples at the grid points,
taken just before the events, are lower by the factor ``q/(e^q - 1)``, ``q = dt/tau``.

A protocol supplies ``counts(k, f, uniform)``: the number of events at step boundary ``k``
for every neuron. The engine (:mod:`spikesim.sim.engine`) applies the events, the decay and the
current; the functions here are the pieces it uses.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ..core.fields import PerNeuron
from ..lazyjax import jnp
from ..core.units import MODEL_CONDUCTANCE, MODEL_CURRENT, Quantity, conductance_unit
from .base import Protocol


class Synapse(Protocol):
    """Base of the synaptic protocols: ``kind``, ``weight``, ``tau`` and ``reversal``."""

    kind: Literal["conductance", "current"] = Field(
        "conductance", description="conductance: I = g (reversal - v), g jumps by weight at "
                                   "each event; current: the current itself jumps by weight")
    # declared for the default kind (conductance), so that the schema shows that unit;
    # ``declared_units`` gives kind: current its current unit
    weight: PerNeuron = Field(..., json_schema_extra=Quantity(MODEL_CONDUCTANCE),
                              description="jump per presynaptic event: a conductance in the "
                                          "model's current unit per mV (uS for nA models, "
                                          "mS/cm2 for uA/cm2, nS for pA, 1/ms for "
                                          "mV/ms) with kind "
                                          "conductance, a current in the model's current unit "
                                          "with kind current")
    tau: PerNeuron = Field(..., json_schema_extra=Quantity("ms"),
                           description="decay time constant of the synaptic variable, ms")
    reversal: PerNeuron | None = Field(None, json_schema_extra=Quantity("mV"),
                                       description="reversal potential, mV (kind conductance "
                                                   "only; default 0 mV)")
    synaptic: ClassVar = True
    domains: ClassVar = {"tau": "positive"}

    @classmethod
    def declared_units(cls, raw: dict) -> dict[str, str]:
        """Units that depend on other fields: ``weight`` is a conductance (the model's
        current unit per mV) unless ``kind: current``, where it is a current."""
        return {"weight": MODEL_CURRENT} if raw.get("kind") == "current" else {}

    def variable(self, i: int) -> str:
        """Name of the synaptic variable of this protocol at position ``i`` of ``input``."""
        return f"{'g' if self.kind == 'conductance' else 'I'}_syn{i}"

    def unit(self, current_unit: str) -> str:
        return conductance_unit(current_unit) if self.kind == "conductance" else current_unit

    def check(self, ctx):
        from .base import scalar_values

        out = []
        if self.kind == "current" and self.reversal is not None:
            out.append(("reversal", "a reversal potential applies to kind: conductance only; "
                                    "drop it, or set kind: conductance"))
        if self.kind == "conductance" and any(w < 0 for w in scalar_values(self.weight)):
            out.append(("weight", f"a conductance jump must be >= 0, got {self.weight!r}; an "
                                  f"inhibitory synapse has a reversal potential below rest "
                                  f"(e.g. reversal: -80 mV), not a negative weight"))
        return out

    def static(self, f, dt: float):
        """Host side, before compiling: what ``counts`` needs as Python values."""
        return None

    def counts(self, t, f, uniform, static, dt):
        """Events at the step boundary at time ``t`` (one count per neuron, in the run's
        precision); ``uniform()`` draws one uniform number per neuron for this step."""
        raise NotImplementedError

    def current(self, t, f, s):
        raise TypeError("a synaptic input's current depends on its state; the engine "
                        "evaluates it (see spikesim.inputs.synapse)")


def decayed(x, f, s):
    """The synaptic variable ``s`` ms after it was ``x``: ``x exp(-s / tau)``."""
    return x * jnp.exp(-s / f["tau"]).astype(x.dtype)


def reversal(f):
    r = f.get("reversal")
    return 0.0 if r is None else r
