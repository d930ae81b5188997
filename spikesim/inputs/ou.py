"""``ou``: Ornstein-Uhlenbeck (coloured-noise) current, updated exactly."""

from __future__ import annotations

from typing import ClassVar, Literal

from ..lazyjax import jnp
from pydantic import Field

from ..core.fields import PerNeuron
from ..core.units import MODEL_CURRENT, Quantity
from .base import Protocol, gate


class OU(Protocol):
    """``tau dI = (mean - I) dt + std sqrt(2 tau) dW``: stationary mean ``mean``, standard
    deviation ``std``, autocorrelation ``std^2 exp(-|s| / tau)``. Updated by the exact
    transition ``I <- mean + (I - mean) e + std sqrt(1 - e^2) xi`` with ``e = exp(-dt/tau)``
    (Gillespie 1996, Phys. Rev. E 54, 2084), so the sampled current is exact in distribution
    for any dt; it starts from the stationary distribution and is held constant over each
    step."""

    type: Literal["ou"]
    mean: PerNeuron = Field(0.0, json_schema_extra=Quantity(MODEL_CURRENT),
                            description="stationary mean current, in the model's "
                                        "current unit")
    std: PerNeuron = Field(..., json_schema_extra=Quantity(MODEL_CURRENT),
                           description="stationary standard deviation, current unit")
    tau: PerNeuron = Field(..., json_schema_extra=Quantity("ms"),
                           description="correlation time, ms (> 0)")
    start: PerNeuron = Field(0.0, json_schema_extra=Quantity("ms"),
                             description="onset, ms (the process runs from t = 0 anyway)")
    stop: PerNeuron | None = Field(None, json_schema_extra=Quantity("ms"),
                                   description="offset, ms (null: until the end)")
    numeric: ClassVar = ("mean", "std", "tau", "start", "stop")
    domains: ClassVar = {"std": "nonnegative", "tau": "positive"}
    random: ClassVar = True

    def init(self, f, n, dtype, dt, normal):
        xi = normal()
        return (f["mean"] + f["std"] * xi).astype(xi.dtype)

    def advance(self, s, f, dt, xi):
        e = jnp.exp(-dt / f["tau"])
        return (f["mean"] + (s - f["mean"]) * e
                + f["std"] * jnp.sqrt(-jnp.expm1(-2 * dt / f["tau"])) * xi).astype(s.dtype)

    def current(self, t, f, s):
        return gate(t, f, s)
