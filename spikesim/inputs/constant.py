"""``constant``: the same current for the whole run."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ..core.fields import PerNeuron
from ..core.units import MODEL_CURRENT, Quantity
from .base import Protocol


class Constant(Protocol):
    """A constant current ``amplitude`` for the whole run."""

    type: Literal["constant"]
    amplitude: PerNeuron = Field(0.0, json_schema_extra=Quantity(MODEL_CURRENT),
                                 description="current, in the model's current unit")
    numeric: ClassVar = ("amplitude",)

    def current(self, t, f, s):
        return f["amplitude"]
