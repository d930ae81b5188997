"""``sine``: a sinusoidal current."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from ..lazyjax import jnp
from pydantic import Field

from ..core.fields import PerNeuron
from ..core.units import MODEL_CURRENT, Quantity
from .base import Protocol, gate


class Sine(Protocol):
    """``offset + amplitude sin(2 pi frequency (t - start) / 1000 + phase)`` on
    ``[start, stop)`` (t in ms, frequency in Hz), zero outside. The phase is measured from
    ``start``: at t = start the current is ``offset + amplitude sin(phase)``."""

    type: Literal["sine"]
    amplitude: PerNeuron = Field(..., json_schema_extra=Quantity(MODEL_CURRENT),
                                 description="peak deviation from offset, in the model's "
                                             "current unit")
    frequency: PerNeuron = Field(..., json_schema_extra=Quantity("Hz"),
                                 description="Hz (cycles per second; time is in ms)")
    phase: PerNeuron = Field(0.0, json_schema_extra=Quantity("rad"),
                             description="radians, at t = start")
    offset: PerNeuron = Field(0.0, json_schema_extra=Quantity(MODEL_CURRENT),
                              description="constant added inside [start, stop)")
    start: PerNeuron = Field(0.0, json_schema_extra=Quantity("ms"),
                             description="onset, ms")
    stop: PerNeuron | None = Field(None, json_schema_extra=Quantity("ms"),
                                   description="offset time, ms (null: until the end)")
    numeric: ClassVar = ("amplitude", "frequency", "phase", "offset", "start", "stop")
    domains: ClassVar = {"frequency": "nonnegative"}

    def current(self, t, f, s):
        angle = 2 * math.pi * f["frequency"] * 1e-3 * (t - f["start"]) + f["phase"]
        return gate(t, f, f["offset"] + f["amplitude"] * jnp.sin(angle))
