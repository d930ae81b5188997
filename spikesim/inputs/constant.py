"""``constant``: the same current for the whole run."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from ..fields import PerNeuron
from .base import Protocol


class Constant(Protocol):
    """A constant current ``amplitude`` for the whole run."""

    type: Literal["constant"]
    amplitude: PerNeuron = Field(0.0, description="current, in the model's current unit")
    numeric: ClassVar = ("amplitude",)

    def current(self, t, f, s):
        return f["amplitude"]
