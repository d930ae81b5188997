"""``noise``: Gaussian white-noise current, as the SDE term of the membrane equation."""

from __future__ import annotations

from typing import ClassVar, Literal

from ..lazyjax import jnp
from pydantic import Field

from ..core.fields import PerNeuron
from ..core.units import MODEL_CURRENT, Quantity
from .base import Protocol, gate


class Noise(Protocol):
    """White noise ``I(t) = mean + std xi(t)``, ``xi`` unit white noise: for a membrane
    ``C dv/dt = ... + I`` this is the SDE term ``(std / C) dW``. Over each step the current is
    held at ``mean + std / sqrt(dt) xi_k`` (xi_k standard normal, one draw per neuron and step,
    whatever the integrator: Euler-Maruyama for the noise term), so the increment of the
    integrated current over a step has variance ``std^2 dt`` and the membrane's statistics do
    not depend on dt. The recorded `input` has standard deviation ``std / sqrt(dt)``."""

    type: Literal["noise"]
    mean: PerNeuron = Field(0.0, json_schema_extra=Quantity(MODEL_CURRENT),
                            description="mean current, in the model's current unit")
    std: PerNeuron = Field(..., json_schema_extra=Quantity(MODEL_CURRENT + "*ms^0.5"),
                           description="noise intensity, in current unit x ms^1/2 "
                                       "(the current over a step of dt ms has standard "
                                       "deviation std/sqrt(dt))")
    start: PerNeuron = Field(0.0, json_schema_extra=Quantity("ms"),
                             description="onset, ms")
    stop: PerNeuron | None = Field(None, json_schema_extra=Quantity("ms"),
                                   description="offset, ms (null: until the end)")
    numeric: ClassVar = ("mean", "std", "start", "stop")
    domains: ClassVar = {"std": "nonnegative"}
    random: ClassVar = True

    def init(self, f, n, dtype, dt, normal):
        return self.advance(None, f, dt, normal())

    def advance(self, s, f, dt, xi):
        return (f["mean"] + f["std"] / jnp.sqrt(dt) * xi).astype(xi.dtype)

    def current(self, t, f, s):
        return gate(t, f, s)
