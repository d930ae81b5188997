"""``sine``: a sinusoidal current."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from ..lazyjax import jnp
from pydantic import Field

from ..fields import PerNeuron
from .base import Protocol, gate


class Sine(Protocol):
    """``offset + amplitude sin(2 pi frequency (t - start) / 1000 + phase)`` on
    ``[start, stop)`` (t in ms, frequency in Hz), zero outside. The phase is measured from
    ``start``: at t = start the current is ``offset + amplitude sin(phase)``."""

    type: Literal["sine"]
    amplitude: PerNeuron = Field(..., description="peak deviation from offset, in the model's "
                                                  "current unit")
    frequency: PerNeuron = Field(..., description="Hz (cycles per second; time is in ms)")
    phase: PerNeuron = Field(0.0, description="radians, at t = start")
    offset: PerNeuron = Field(0.0, description="constant added inside [start, stop)")
    start: PerNeuron = Field(0.0, description="onset, ms")
    stop: PerNeuron | None = Field(None, description="offset time, ms (null: until the end)")
    numeric: ClassVar = ("amplitude", "frequency", "phase", "offset", "start", "stop")
    domains: ClassVar = {"frequency": "nonnegative"}

    def current(self, t, f, s):
        angle = 2 * math.pi * f["frequency"] * 1e-3 * (t - f["start"]) + f["phase"]
        return gate(t, f, f["offset"] + f["amplitude"] * jnp.sin(angle))
