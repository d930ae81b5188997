"""The config schema (SPEC section 2): pydantic models with ``extra="forbid"``.

Every option is documented once, on its field; ``spikesim schema`` prints the JSON schema
generated from these classes. Model-dependent checks (parameter names, integrators, state
variables) happen in :mod:`spikesim.config.load` once the model is known.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (BeforeValidator, Discriminator, Field, PrivateAttr, Tag, WithJsonSchema,
                      model_validator)

from ..core.fields import Bool, Float, Int, PerNeuron, StrictModel, kind_of, integer
from .analysis import Analysis
from ..inputs import PROTOCOLS
from ..models import MODELS
from ..core.units import Quantity, widen


#: longest run or population name (a file name component is at most 255 bytes)
NAME_MAX = 200


def _switches_help() -> str:
    """The switch parameters of the models and their names, for the schema's description."""
    seen: dict[str, tuple[list[str], list[str]]] = {}
    for mname, m in MODELS.items():
        for pname, p in m.params.items():
            if p.choices:
                names = [str(c).lower() if isinstance(c, bool) else c for c in p.choices]
                seen.setdefault(pname, ([], names))[0].append(mname)
    return "; ".join(f"{p} ({', '.join(ms)}): {' | '.join(names)}"
                     for p, (ms, names) in seen.items())


# -- sections ---------------------------------------------------------------------------
class EquationsCurrent(StrictModel):
    name: str = Field(..., description="the current's name in the equations, e.g. I")
    unit: str = Field(..., description="its unit, e.g. uA/cm2 (input amplitudes take it)")


class ModelSection(StrictModel):
    type: str = Field(..., description="neuron model; `spikesim models` lists them")
    preset: str | None = Field(None, description="named parameter set of that model")
    params: dict[str, PerNeuron] = Field(
        default_factory=dict, description="overrides of the model's parameters (`spikesim "
                                          "models NAME`); switch parameters take names: "
                                          + _switches_help())
    init: dict[str, PerNeuron] = Field(default_factory=dict,
                                       description="overrides of initial state values")
    # type: equations (SPEC section 5; spikesim.equations)
    name: str | None = Field(None, description="type: equations: the model's name (default "
                                               "population name)")
    file: str | None = Field(None, description="type: equations: a model file (path, or the "
                                               "name of a shipped one: `spikesim models`) "
                                               "holding these keys; params/init here apply on "
                                               "top")
    equations: str | None = Field(None, description="type: equations: one line per equation, "
                                                    "'dx/dt = expr : unit' or 'name = expr : "
                                                    "unit'")
    current: EquationsCurrent | None = Field(None, description="type: equations: the injected "
                                                               "current as the equations name it")
    threshold: str | None = Field(None, description="type: equations: spike condition, e.g. "
                                                    "'v > 0 mV' (a spike where it becomes true)")
    reset: str | None = Field(None, description="type: equations: statements run after a "
                                                "spike, e.g. 'v = v_reset; w += b'")
    refractory: Float | str | None = Field(
        None, description="type: equations: after a spike, the variables of `reset` are held "
                          "for this time (ms, or a parameter's name)",
        json_schema_extra=Quantity("ms"))
    _built: Any = PrivateAttr(None)

    def model_class(self):
        """The model class: a built-in one by ``type``, or the one built from the equations."""
        return self._built if self._built is not None else MODELS.get(self.type)


class PopulationSection(StrictModel):
    size: Int = Field(1, ge=1, description="neurons (per sweep combination)")
    name: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=NAME_MAX,
                             description="population name in the output (default: model type)")


def _devices(x):
    if x in ("all", "auto"):
        return x
    n = integer(x, "all, auto or a number of devices >= 1")
    if n < 1:
        raise ValueError(f"expected all, auto or a number of devices >= 1, got {n}")
    return n


Devices = Annotated[Any, BeforeValidator(_devices), WithJsonSchema({"anyOf": [
    {"enum": ["all", "auto"]}, {"type": "integer", "minimum": 1}]})]


class SimulationSection(StrictModel):
    duration: Float = Field(..., gt=0, description="simulated time, ms",
                            json_schema_extra=Quantity("ms"))
    dt: Float = Field(..., gt=0, description="time step, ms", json_schema_extra=Quantity("ms"))
    integrator: Literal["euler", "rk2", "rk4", "exp_euler"] | None = Field(
        None, description="euler | rk2 (explicit midpoint) | rk4 | exp_euler; "
                          "default: the model's own")
    precision: Literal["float32", "float64"] = Field("float32", description="floating point type")
    spike_timing: Literal["grid", "precise"] = Field(
        "grid", description="grid: a spike is stamped at the end of the step that crossed, "
                            "resets on the grid; precise: at the crossing time inside the "
                            "step, resets at the crossing, t_ref in continuous time")
    device: Literal["auto", "cpu", "gpu"] = Field("auto", description="where JAX runs")
    devices: Devices = Field(
        "auto", description="how many devices share the population (its neuron axis is "
                            "sharded across them): 1 | N | all | auto (CPU: one per core for "
                            "populations of at least 4096 neurons per core; GPU: one)")
    seed: Int = Field(0, ge=0, le=2**63 - 1,
                      description="seed of every random draw of the run (0 to 2^63 - 1)")
    chunk_steps: Int | None = Field(
        None, ge=1, description="steps per compiled chunk between writes (default: automatic, "
                                "bounded memory); the output does not depend on it")
    check_finite: Bool = Field(True, description="stop the run at the end of the chunk in "
                                                 "which any state becomes NaN or inf")


class First(StrictModel):
    first: Int = Field(..., ge=1)


class Every(StrictModel):
    every: Int = Field(..., ge=1)


def _neurons(x):
    """``record.neurons`` by its shape, so that a mistake gets one message, not one per
    form it failed to be."""
    forms = "all, a list of neuron ids [0, 5, 9], {first: k} or {every: k} (k >= 1)"
    if x == "all":
        return x
    if isinstance(x, list):
        if not x:
            raise ValueError(f"an empty list records nothing; give ids, or record.variables: [] "
                             f"to record no variable. Expected {forms}")
        ids = [integer(i, "neuron ids (integers >= 0)") for i in x]
        if any(i < 0 for i in ids):
            raise ValueError(f"neuron ids start at 0, got {min(ids)}")
        seen: set[int] = set()
        twice = sorted({i for i in ids if i in seen or seen.add(i)})
        if twice:
            raise ValueError(f"neuron id{'s' * (len(twice) > 1)} {str(twice)[1:-1][:200]} "
                             f"{'are' if len(twice) > 1 else 'is'} listed more than once; "
                             f"each is recorded once, so keep one of each")
        return ids
    if isinstance(x, dict) and len(x) == 1 and next(iter(x)) in ("first", "every"):
        (kind, k), = x.items()
        k = integer(k, f"{{{kind}: k}} with an integer k >= 1")
        if k < 1:
            raise ValueError(f"{{{kind}: k}} needs k >= 1, got {k}")
        return First(first=k) if kind == "first" else Every(every=k)
    raise ValueError(f"expected {forms}, got {x!r}"[:300])


Neurons = Annotated[Any, BeforeValidator(_neurons), WithJsonSchema({"anyOf": [
    {"const": "all"}, {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
    {"type": "object", "properties": {"first": {"type": "integer", "minimum": 1}},
     "required": ["first"], "additionalProperties": False},
    {"type": "object", "properties": {"every": {"type": "integer", "minimum": 1}},
     "required": ["every"], "additionalProperties": False}]})]


class RecordSection(StrictModel):
    spikes: Bool = Field(True, description="record spike times")
    variables: list[str] = Field(default_factory=list,
                                 description="state variables to record, `input`, and the "
                                             "synaptic variables of synaptic inputs (g_syn<i> "
                                             "or I_syn<i>, i the input's position)")
    neurons: Neurons = Field("all", description="all | [0, 5, 9] | {first: k} | {every: k}")
    every: Int = Field(1, ge=1, description="keep one sample every k steps")
    start: Float = Field(0.0, ge=0, description="start of the recording window, ms",
                         json_schema_extra=Quantity("ms"))
    stop: Float | None = Field(None, description="end of the recording window, ms (inclusive)",
                               json_schema_extra=Quantity("ms"))


class OutputSection(StrictModel):
    path: str = Field("outputs/{name}.h5", description="HDF5 file; {name} and any {dotted.key} "
                                                       "of the config are substituted")
    overwrite: Bool = Field(False, description="replace an existing file (same as --force)")
    compression: Literal["gzip"] | None = Field(
        None, description="gzip compression of reports (off by default: HDF5's gzip is "
                          "single-threaded and runs on the writing path, so it slows long runs; "
                          "compress afterwards with h5repack if disk space matters)")


class Range(StrictModel):
    # the unit is the swept key's (converted at load, see spikesim.config.quantities)
    start: Float = Field(..., json_schema_extra=widen)
    stop: Float = Field(..., json_schema_extra=widen)
    num: Int = Field(..., ge=1)

    @model_validator(mode="after")
    def _one_point(self):
        if self.num == 1 and self.start != self.stop:  # linspace would keep start alone
            raise ValueError(f"num 1 takes start ({self.start:g}) alone and leaves stop "
                             f"({self.stop:g}) out; give num >= 2 to reach stop, or the one "
                             f"value as a list [{self.start:g}]")
        return self


_AXIS_HELP = "a list of values [a, b, ...] or a range {start: a, stop: b, num: n}"


def _check_axis(x: Any) -> Any:
    """A sweep axis that is neither form gets a message naming both (pydantic would report
    each form's complaint about it, the first one alone in the end)."""
    if isinstance(x, dict) and set(x) - set(Range.model_fields):
        keys = ", ".join(map(str, x))[:80]
        raise ValueError(f"expected {_AXIS_HELP}, got a mapping with keys {keys}")
    if not isinstance(x, (dict, list, tuple)):
        raise ValueError(f"expected {_AXIS_HELP}, got {kind_of(x)}")
    return x


def _axis_form(x: Any) -> str:
    """Which form a sweep axis is written in (after :func:`_check_axis`): a mistake inside it
    gets that form's errors alone. The tags are in brackets, which the error locations of
    ``spikesim.config.load`` leave out, as they do pydantic's own union tags."""
    return "[range]" if isinstance(x, (dict, Range)) else "[list]"  # Range: when dumped


class SweepSection(StrictModel):
    mode: Literal["grid", "zip"] = Field("grid", description="grid: cartesian product; "
                                                             "zip: axes in lockstep")
    axes: dict[str, Annotated[
        Union[Annotated[list[Annotated[Float, Field(json_schema_extra=widen)]],
                        Field(min_length=1), Tag("[list]")],
              Annotated[Range, Tag("[range]")]],
        Discriminator(_axis_form), BeforeValidator(_check_axis)]] = Field(
        ..., min_length=1, description="dotted config key -> list of values or "
                                       "{start, stop, num}")


def _as_list(x):
    return [] if x is None else [x] if isinstance(x, dict) else x


def config_class():
    """The root config class, with the input protocols as a union tagged by ``type``."""
    protocol = Annotated[Union[tuple(PROTOCOLS.values())], Field(discriminator="type")]

    class Config(StrictModel):
        name: str | None = Field(None, max_length=NAME_MAX, pattern=r"^[^\x00-\x1f/\\\x7f]+$",
                                 description="run name (no control characters or slashes); "
                                             "default: the config file's stem")
        model: ModelSection
        population: PopulationSection = Field(default_factory=PopulationSection)
        simulation: SimulationSection
        input: Annotated[list[protocol], BeforeValidator(_as_list)] = Field(
            default_factory=list,
            description="one protocol, or a list of them (their currents add up)")
        record: RecordSection = Field(default_factory=RecordSection)
        output: OutputSection = Field(default_factory=OutputSection)
        sweep: SweepSection | None = None
        analysis: Analysis | None = Field(
            None, description="options of `spikesim analyze KIND` (rheobase, fi, prc, dt), "
                              "each with defaults; `spikesim run` ignores them")

    return Config
