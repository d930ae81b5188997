"""The input current a model's step reads (the engine's drive: the input protocols and the
synapses summed into one function of time, and of v for a conductance input): at a time, just
before the end of a step, and held over a step as ``a - b v``. Used by the integrators, the
precise spike timing and the models' vector fields."""

from __future__ import annotations

from typing import Any, Callable

from ..inputs.base import TIME_SLACK

#: the drive: ``current(t)``, or ``current(t, v)`` for a conductance input
CurrentFn = Callable[..., Any]
State = dict[str, Any]


def input_at(current: CurrentFn, t, y: State):
    """The input current at time ``t`` in state ``y``: ``current(t)``, or ``current(t, v)``
    when the input depends on v (a conductance-based synapse, ``current.conductance``)."""
    return current(t, y["v"]) if getattr(current, "conductance", False) else current(t)


#: how long before the end of a step (ms) the stages there read the input protocols (rk4's
#: fourth stage, the end of a dense output): their left limit, so that a step, a pulse or a
#: held sample that switches at the end t_k of a step acts from t_k on and not already inside
#: the step that ends there (which made rk4's spike times under a current step converge at
#: order 1). Twice the protocols' slack on their edges, and far below any usable dt: a smooth
#: input read so early is off by its slope times 2e-9 ms.
END_OF_STEP = 2 * TIME_SLACK


def input_before(current: CurrentFn, t, y: State):
    """The input just before ``t``, the end of a step: ``current.before`` where the drive
    has one (the engine's: its protocols at ``t - END_OF_STEP``, its synaptic variables at
    ``t``), else the input at ``t``."""
    before = getattr(current, "before", None)
    if before is None:
        return input_at(current, t, y)
    return before(t, y["v"]) if getattr(current, "conductance", False) else before(t)


def held_input(current: CurrentFn, t):
    """The input at time ``t`` as ``I = a - b v``: ``(a, b)`` with ``b`` the total synaptic
    conductance of a conductance input (``current.affine``), else ``(current(t), None)``."""
    if getattr(current, "conductance", False):
        return current.affine(t)
    return current(t), None
