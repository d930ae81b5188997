"""The model interface.

A model is data plus pure functions of plain arrays:

* ``params``: every parameter declared once, with its default, unit and meaning
  (``spikesim models NAME``, the JSON schema and the HDF5 attributes are generated from it);
* ``states``: the state variables, their units, default initial values and whether each is
  *conditionally linear* (``dx/dt = A(others) * x + B(others)``), which is what
  exponential Euler needs;
* ``presets``: named parameter sets with the source they come from;
* ``initial_state``, ``vector_field``, ``spiked`` and ``reset``; ``step`` strings them together
  in the model's documented update order (integrate, detect, reset, refractory).

Inside these functions a parameter is a scalar or an array with one value per neuron; state
variables are arrays of shape ``[N]``. Nothing unit-aware runs inside ``jit``: units are the
fixed conventions written in the declarations (ms, mV and the model's current unit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

from ..lazyjax import jnp

Array = Any  # a jax.Array inside a run (named Any so that reading declarations needs no JAX)
Params = Mapping[str, Array]
State = dict[str, Array]
CurrentFn = Callable[[Array], Array]


@dataclass(frozen=True)
class Param:
    """A model parameter: default value, unit, one-line meaning, and the name the reference
    library gives it (shown by ``spikesim models``)."""

    default: float
    unit: str
    doc: str
    ref: str | None = None
    #: ``"positive"`` (> 0), ``"nonnegative"`` (>= 0), ``"nonzero"`` (!= 0: an equations
    #: model divides by it) or ``None``; checked at config time.
    domain: str | None = None
    #: a switch: the names (or booleans) a config may write, each with the number the model
    #: computes with; a switch takes only these (and their numbers), never a generator
    choices: Mapping[str | bool, float] | None = None

    def choice_name(self, value: float):
        """The config spelling of a switch's number (``value`` itself if it has none)."""
        for name, number in (self.choices or {}).items():
            if number == value:
                return name
        return value


@dataclass(frozen=True)
class StateVar:
    """A state variable. ``init`` is its default initial value; ``None`` means the model
    computes it from the parameters and the other initial values (e.g. HH gates at steady
    state). ``linear`` marks a conditionally linear variable, stepped exactly by ``exp_euler``.
    ``integrated=False`` marks bookkeeping state (a refractory counter) that no integrator
    touches. ``domain`` (``"fraction"``: in [0, 1], a gating variable) is checked on
    configured initial values."""

    unit: str
    doc: str
    init: float | None = None
    linear: bool = False
    integrated: bool = True
    domain: str | None = None


@dataclass(frozen=True)
class Preset:
    """A named parameter set (and optionally initial values) with the source it comes from.

    ``current`` is the input amplitude (in the model's current unit) at which the source shows
    the preset's behaviour, when it names one. It is advice, not applied automatically: the
    user sets it as the input protocol's ``amplitude``."""

    params: Mapping[str, float]
    source: str
    doc: str = ""
    init: Mapping[str, float] = field(default_factory=dict)
    current: float | None = None


class Model:
    """Base class of every neuron model. Subclasses fill in the class attributes and the
    ``vector_field``; most keep the default ``step``."""

    name: ClassVar[str]
    summary: ClassVar[str]
    citation: ClassVar[str]
    equations: ClassVar[str]
    update_order: ClassVar[str] = (
        "integrate all state variables over the step; detect an upward threshold crossing; "
        "reset the neurons that crossed"
    )
    current_unit: ClassVar[str]
    params: ClassVar[dict[str, Param]]
    states: ClassVar[dict[str, StateVar]]
    presets: ClassVar[dict[str, Preset]] = {}
    #: name of the parameter holding the spike-detection threshold
    threshold_param: ClassVar[str] = "v_th"
    #: the state variable whose upward crossing of the threshold is a spike
    threshold_var: ClassVar[str] = "v"
    #: the parameter the reset sets v to, for models whose reset must lie below the
    #: threshold (a reset at or above it would fire again on every free step)
    reset_param: ClassVar[str | None] = None
    #: the integrator used when the config names none
    default_integrator: ClassVar[str] = "rk4"
    #: neurons per tile on a CPU device (see :data:`spikesim.sim.engine.MIN_TILES`): small for a
    #: cheap step, whose time goes to moving its state between cache levels; larger for a
    #: step that spends it computing, where each tile's extra loop launches cost more than
    #: the cache saves
    cpu_tile: ClassVar[int] = 2048
    #: ``spike_timing: precise``: whether the model's reset happens at the crossing time and
    #: the rest of the step is integrated from the reset state (models with a reset), or the
    #: dynamics are left as they are and only the timestamp moves (see spikesim.models.spike_timing)
    resets_at_crossing: ClassVar[bool] = False
    #: whether :meth:`crossing_time` gives the crossing in closed form
    closed_form_crossing: ClassVar[bool] = False

    # -- declarations -------------------------------------------------------------------
    @classmethod
    def linear_states(cls) -> tuple[str, ...]:
        return tuple(n for n, s in cls.states.items() if s.linear and s.integrated)

    @classmethod
    def integrators(cls) -> tuple[str, ...]:
        """Integrators this model can use: every explicit RK method, and ``exp_euler`` when
        the model has a conditionally linear variable."""
        base = ("euler", "rk2", "rk4")
        return base + (("exp_euler",) if cls.linear_states() else ())

    @classmethod
    def defaults(cls, preset: str | None = None) -> dict[str, float]:
        values = {k: p.default for k, p in cls.params.items()}
        if preset is not None:
            values.update(cls.presets[preset].params)
        return values

    # -- dynamics -----------------------------------------------------------------------
    def initial_state(self, p: Params, init: Mapping[str, Array], n: int, dtype) -> State:
        """Initial values of every state variable, shape ``[n]``. ``init`` holds the user's
        overrides; variables with ``init=None`` must be computed by the subclass."""
        out = {}
        for name, s in self.states.items():
            value = init.get(name, s.init)
            if value is None:
                raise NotImplementedError(f"{self.name}: initial value of {name!r} is derived")
            out[name] = jnp.broadcast_to(jnp.asarray(value, dtype), (n,))
        return out

    def vector_field(self, t: Array, y: State, p: Params, current: Array) -> State:
        """Time derivatives of the integrated state variables (ms^-1 units)."""
        raise NotImplementedError

    def threshold(self, p: Params):
        """The value of the spike threshold: the parameter ``threshold_param``."""
        return p[self.threshold_param]

    def spiked(self, y_old: State, y_new: State, p: Params) -> Array:
        """Default: an upward crossing of the threshold by ``threshold_var`` within the
        step."""
        th, x = self.threshold(p), self.threshold_var
        return (y_old[x] < th) & (y_new[x] >= th)

    def reset(self, y: State, spiked: Array, p: Params) -> State:
        """Default: no reset (conductance-based models repolarise by themselves)."""
        return y

    def crossing_time(self, y: State, p: Params, drive, h) -> Array:
        """Time after the start of a (sub-)step of length ``h`` at which v, starting from
        ``y`` under the input ``I = a - b v`` held over the step (``drive = (a, b)``, from
        :func:`~spikesim.models.drive.held_input`; ``b`` None without a conductance input),
        reaches the threshold (NaN or any value outside [0, h] where it does not). Only for
        models that set ``closed_form_crossing``; the others use the dense output of the
        step."""
        raise NotImplementedError

    def precise_step(self, integrate, y: State, p: Params, t: Array, dt: float,
                     current: CurrentFn, precision: str = "float64"):
        """``step`` with ``spike_timing: precise``: returns ``(new_state, spiked, offset)``,
        ``offset`` the crossing's time after ``t`` (ms); see :mod:`spikesim.models.spike_timing`."""
        from .spike_timing import step

        return step(self, integrate, y, p, t, dt, current, precision)

    def precise_needed(self, y: State, spiked: Array) -> Array:
        """The neurons (from the state ``y`` at the start of a step and the grid step's
        spikes) whose precise step may differ from the grid step: those that spiked. For
        every other neuron :meth:`precise_step` must give :meth:`step`'s values, so that a run
        may take the grid step there (:func:`spikesim.models.spike_timing.sparse_step`)."""
        return spiked

    def precise_due(self, y: State) -> Array | None:
        """Per neuron, the step (0: the one that starts at ``y``) on which the state ``y``
        already says that :meth:`precise_needed` will hold if the neuron does not spike
        before, or a number beyond any block where it never will; None where only spikes
        need the precise step. It lets a run of grid steps flag the neurons in need with the
        spike alone at each step, and this once at the run's start (a quiet LIF population:
        the per-step refractory test cost about 40 % of its grid step)."""
        return None

    def step(self, integrate, y: State, p: Params, t: Array, dt: float, current: CurrentFn):
        """Advance one step in the model's update order; returns ``(new_state, spiked)``.

        ``integrate(model, y, p, t, dt, current)`` is the configured integrator and
        ``current(t)`` the injected current at time ``t`` (evaluated at each stage; with a
        conductance input ``current(t, v)``, see :func:`spikesim.models.drive.input_at`)."""
        y_new = integrate(self, y, p, t, dt, current)
        s = self.spiked(y, y_new, p)
        return self.reset(y_new, s, p), s
