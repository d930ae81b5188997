"""Input-current protocols (SPEC section 2, ``input.type``).

Each protocol is a config schema (a pydantic model, so a typo is an error) and a pure function
``current(t, f, s)`` evaluated inside the compiled loop at each integrator stage's time ``t``.
``f`` maps each numeric field to its resolved value: a scalar, or an array with one value per
neuron. Nothing is precomputed as a ``[steps, N]`` array.

Random protocols carry a state ``s``: ``init(f, n, dtype, normal)`` gives the value held over
step 0, ``advance(s, f, dt, xi)`` the value held over the next step from a standard normal
draw ``xi`` (one per neuron and step, from a counter-based key). The current is constant over a
step, so every integrator treats it the Euler-Maruyama way.

Currents are in the model's current unit (``spikesim models NAME`` says which).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import jax.numpy as jnp
from pydantic import Field

from .schema import PerNeuron, StrictModel


class Protocol(StrictModel):
    """Base of every protocol."""

    #: names of the fields that may vary per neuron (resolved to arrays by the planner)
    numeric: ClassVar[tuple[str, ...]] = ()
    #: True when the protocol draws random numbers (carries a state)
    random: ClassVar[bool] = False

    def check(self, duration: float, dt: float) -> list[tuple[str, str]]:
        """Cross-field checks once duration and dt are known: ``[(field, message)]``."""
        return []

    def current(self, t, f, s):
        raise NotImplementedError

    def init(self, f, n, dtype, normal):
        return None

    def advance(self, s, f, dt, xi):
        return s


def _window(t, start, stop):
    """1 inside [start, stop), 0 outside; ``stop=None`` means no end."""
    on = t >= start
    if stop is not None:
        on = on & (t < stop)
    return on


class Constant(Protocol):
    """A constant current ``amplitude`` for the whole run."""

    type: Literal["constant"]
    amplitude: PerNeuron = Field(0.0, description="current, in the model's current unit")
    numeric: ClassVar = ("amplitude",)

    def current(self, t, f, s):
        return f["amplitude"]


class Step(Protocol):
    """``amplitude`` on ``[start, stop)``, zero elsewhere."""

    type: Literal["step"]
    amplitude: PerNeuron = Field(..., description="current during the step")
    start: PerNeuron = Field(0.0, description="onset, ms")
    stop: PerNeuron | None = Field(None, description="offset, ms (null: until the end)")
    numeric: ClassVar = ("amplitude", "start", "stop")

    def current(self, t, f, s):
        return jnp.where(_window(t, f["start"], f.get("stop")), f["amplitude"], 0.0)


#: protocols by ``input.type``
PROTOCOLS: dict[str, type[Protocol]] = {p.model_fields["type"].annotation.__args__[0]: p
                                        for p in (Constant, Step)}
