"""What every input protocol is: a config schema and pure functions of time (and a state).

A protocol is a pydantic model (so a typo in the config is an error) with

* ``numeric``: the config names of its fields that may vary per neuron; the planner resolves
  each to a scalar or an array with one value per neuron, passed to the functions below as
  ``f`` (a dict keyed by those names);
* ``current(t, f, s)``: the current at time ``t`` (ms, float64), evaluated inside the compiled
  loop at every integrator stage; nothing is precomputed as a ``[steps, N]`` array;
* random protocols (``random = True``) carry a state ``s``: ``init(f, n, dtype, dt, normal)``
  gives the state held over step 0 and ``advance(s, f, dt, xi)`` the state held over the next
  step from ``xi``, one standard normal draw per neuron and step (counter-based, see
  :mod:`spikesim.sim.engine`). Their current is constant over a step, so whatever the integrator
  the noise term is integrated the Euler-Maruyama way;
* streamed protocols (``streamed = True``, the ``file`` protocol) get, for every compiled
  chunk, the samples of that chunk's time window as extra entries of ``f``
  (``window(first_step, n_steps, dt, dtype)``, host side), so device memory stays bounded
  whatever the length of the input;
* synaptic protocols (``synaptic = True``, :mod:`spikesim.inputs.synapse`) give event
  counts per step instead of a current; the engine keeps their synaptic variable in the
  state and makes the current of a conductance depend on v;
* ``check(ctx)``: cross-field checks once duration, dt and population size are known.

Currents are in the model's current unit (``spikesim models NAME`` says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..lazyjax import jnp

from ..core.fields import StrictModel

#: slack (ms) on window edges, so that an edge at ``k * dt`` is met on step k despite the
#: round-off of ``k * dt`` in floating point (far below any usable dt)
TIME_SLACK = 1e-9


@dataclass(frozen=True)
class CheckContext:
    """What a protocol's ``check`` may need: the run's duration and dt (ms), neurons per
    combination, and the folder relative paths are resolved against (the config file's)."""

    duration: float
    dt: float
    size: int
    base: Path

    def path(self, given: str) -> Path:
        """A protocol's file: ``~`` expanded, a relative path from :attr:`base`."""
        path = Path(given).expanduser()
        return path if path.is_absolute() else self.base / path


class Protocol(StrictModel):
    """Base of every protocol."""

    #: config names of the fields that may vary per neuron (resolved by the planner)
    numeric: ClassVar[tuple[str, ...]] = ()
    #: domain of numeric fields: "positive" (> 0) or "nonnegative" (>= 0); checked at load
    domains: ClassVar[dict[str, str]] = {}
    #: fields that are times (ms): kept in float64 whatever the run's precision
    time_fields: ClassVar[tuple[str, ...]] = ("start", "stop", "width", "period")
    #: True when the protocol draws random numbers (carries a state)
    random: ClassVar[bool] = False
    #: True when the protocol streams samples into each chunk (``window``)
    streamed: ClassVar[bool] = False
    #: True for a synaptic protocol (:mod:`spikesim.inputs.synapse`): its current depends on
    #: a synaptic variable in the state, and on v for a conductance
    synaptic: ClassVar[bool] = False

    @classmethod
    def declared_units(cls, raw: dict) -> dict[str, str]:
        """Units of fields that depend on other fields of the protocol as written (``raw``),
        overriding the fields' own declarations."""
        return {}

    def value(self, name: str):
        """The configured value of field ``name`` (its config name, e.g. ``from``)."""
        for attr, info in type(self).model_fields.items():
            if (info.alias or attr) == name:
                return getattr(self, attr)
        raise KeyError(name)

    def check(self, ctx: CheckContext) -> list[tuple[str, str]]:
        """Cross-field checks: ``[(field, message)]``."""
        return []

    def check_resolved(self, f, dt: float) -> list[tuple[str, str]]:
        """Checks of the values the planner resolved (``f``: scalars or per-neuron arrays,
        generators drawn): ``[(field, message)]``."""
        return []

    def notes(self) -> list[str]:
        """What the user should know about how the run reads this protocol (after
        ``check``), e.g. times rounded to the grid; shown by ``validate`` and ``run``."""
        return []

    def current(self, t, f, s):
        raise NotImplementedError

    def init(self, f, n, dtype, dt, normal):
        return None

    def advance(self, s, f, dt, xi):
        return s


def window(t, start, stop):
    """True on ``[start, stop)`` (``stop=None``: no end), with ``TIME_SLACK`` on both edges."""
    on = t >= start - TIME_SLACK
    if stop is not None:
        on = on & (t < stop - TIME_SLACK)
    return on


def gate(t, f, value):
    """``value`` inside the protocol's optional ``[start, stop)`` window, 0 outside."""
    return jnp.where(window(t, f.get("start", 0.0), f.get("stop")), value, 0.0)


def scalar_values(x) -> list[float]:
    """The numbers a configured per-neuron value can take, as far as known before drawing:
    a scalar, a list, the ends of ``linspace``/``uniform``; a ``normal`` generator is
    unbounded and gives none."""
    if x is None:
        return []
    if isinstance(x, (int, float)):
        return [float(x)]
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        kind, arg = next(iter(x.items()))
        return list(arg) if kind in ("linspace", "uniform") else []
    return []
