"""``pulses``: a train of rectangular pulses."""

from __future__ import annotations

from typing import ClassVar, Literal

from ..lazyjax import jnp
from pydantic import Field

from ..core.fields import PerNeuron
from ..core.units import MODEL_CURRENT, Quantity
from .base import TIME_SLACK, Protocol, scalar_values


class Pulses(Protocol):
    """``count`` pulses of height ``amplitude`` and duration ``width``, the first starting at
    ``start`` and one every ``period``: pulse j covers ``[start + j period, start + j period +
    width)``, j = 0 .. count-1. Zero elsewhere."""

    type: Literal["pulses"]
    amplitude: PerNeuron = Field(..., json_schema_extra=Quantity(MODEL_CURRENT),
                                 description="current during a pulse, in the model's "
                                             "current unit")
    start: PerNeuron = Field(0.0, json_schema_extra=Quantity("ms"),
                             description="onset of the first pulse, ms")
    width: PerNeuron = Field(..., json_schema_extra=Quantity("ms"),
                             description="duration of each pulse, ms (> 0, <= period)")
    period: PerNeuron = Field(..., json_schema_extra=Quantity("ms"),
                              description="time from one pulse onset to the next, ms (> 0)")
    count: PerNeuron | None = Field(None, json_schema_extra=Quantity("1"),
                                    description="number of pulses (null: until the end "
                                                "of the run)")
    numeric: ClassVar = ("amplitude", "start", "width", "period", "count")
    domains: ClassVar = {"width": "positive", "period": "positive", "count": "positive"}

    def check(self, ctx):
        w, p = scalar_values(self.width), scalar_values(self.period)
        if len(w) == 1 and len(p) == 1 and w[0] > p[0]:
            return [("width", f"pulse width {w[0]} ms is longer than the period {p[0]} ms; "
                              f"pulses would overlap. Make width <= period")]
        if any(c != round(c) for c in scalar_values(self.count)):
            return [("count", f"count must be a whole number of pulses, got {self.count!r}")]
        return []

    def current(self, t, f, s):
        since = t - f["start"] + TIME_SLACK
        j = jnp.floor(since / f["period"])
        on = (since >= 0) & (since - j * f["period"] < f["width"])
        if f.get("count") is not None:
            on = on & (j < f["count"])
        return jnp.where(on, f["amplitude"], 0.0)
