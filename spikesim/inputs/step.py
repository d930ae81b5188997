"""``step``: a current switched on at ``start`` and off at ``stop``."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ..core.fields import PerNeuron
from ..core.units import MODEL_CURRENT, Quantity
from .base import Protocol, gate


class Step(Protocol):
    """``amplitude`` on ``[start, stop)``, zero elsewhere."""

    type: Literal["step"]
    amplitude: PerNeuron = Field(..., json_schema_extra=Quantity(MODEL_CURRENT),
                                 description="current during the step, in the model's "
                                             "current unit")
    start: PerNeuron = Field(0.0, json_schema_extra=Quantity("ms"),
                             description="onset, ms")
    stop: PerNeuron | None = Field(None, json_schema_extra=Quantity("ms"),
                                   description="offset, ms (null: until the end)")
    numeric: ClassVar = ("amplitude", "start", "stop")

    def current(self, t, f, s):
        return gate(t, f, f["amplitude"])
