"""``ramp``: a current rising (or falling) linearly."""

from __future__ import annotations

from typing import ClassVar, Literal

from ..lazyjax import jnp
from pydantic import Field

from ..core.fields import PerNeuron
from ..core.units import MODEL_CURRENT, Quantity
from .base import Protocol, gate, scalar_values


class Ramp(Protocol):
    """From ``from`` at ``start`` linearly to ``to`` at ``stop``:
    ``I(t) = from + (to - from) (t - start) / (stop - start)`` on ``[start, stop)``, zero
    outside."""

    type: Literal["ramp"]
    start: PerNeuron = Field(0.0, json_schema_extra=Quantity("ms"),
                             description="ms; the current is `from` here")
    stop: PerNeuron = Field(..., json_schema_extra=Quantity("ms"),
                            description="ms; the current reaches `to` here and drops to 0")
    from_: PerNeuron = Field(0.0, alias="from", json_schema_extra=Quantity(MODEL_CURRENT),
                             description="current at start, in the model's current unit")
    to: PerNeuron = Field(..., json_schema_extra=Quantity(MODEL_CURRENT),
                          description="current approached at stop")
    numeric: ClassVar = ("start", "stop", "from", "to")

    def check(self, ctx):
        a, b = scalar_values(self.start), scalar_values(self.stop)
        if len(a) == 1 and len(b) == 1 and b[0] <= a[0]:
            return [("stop", f"ramp stop {b[0]} ms must be after start {a[0]} ms")]
        return []

    def current(self, t, f, s):
        frac = (t - f["start"]) / (f["stop"] - f["start"])
        return gate(t, f, f["from"] + (f["to"] - f["from"]) * jnp.clip(frac, 0.0, 1.0))
