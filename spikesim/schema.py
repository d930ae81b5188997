"""The config schema (SPEC section 2): pydantic models with ``extra="forbid"``.

Every option is documented once, on its field; ``spikesim schema`` prints the JSON schema
generated from these classes. Model-dependent checks (parameter names, integrators, state
variables) happen in :mod:`spikesim.config` once the model is known.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


# -- per-neuron numbers -----------------------------------------------------------------
GENERATORS = ("linspace", "normal", "uniform")
_PER_NEURON_HELP = ("a number, a list of numbers (one per neuron), or a generator "
                    "{linspace: [a, b]}, {normal: {mean: m, std: s}}, {uniform: [a, b]}")


def _number(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"expected {what}, got {x!r}")
    if not math.isfinite(x):
        raise ValueError(f"expected a finite number, got {x!r}")
    return float(x)


def _pair(x: Any, name: str) -> list[float]:
    if not isinstance(x, (list, tuple)) or len(x) != 2:
        raise ValueError(f"{{{name}: [a, b]}} needs a list of two numbers, got {x!r}")
    return [_number(v, "a number") for v in x]


def check_per_neuron(x: Any):
    """Validate a value that may vary per neuron; returns it normalised (floats)."""
    if isinstance(x, (list, tuple)):
        if not x:
            raise ValueError("expected " + _PER_NEURON_HELP + ", got an empty list")
        return [_number(v, "a number in the list") for v in x]
    if isinstance(x, dict):
        if len(x) != 1 or next(iter(x)) not in GENERATORS:
            raise ValueError(f"expected {_PER_NEURON_HELP}, got {x!r}")
        (kind, arg), = x.items()
        if kind == "normal":
            if not isinstance(arg, dict) or set(arg) - {"mean", "std"} or "mean" not in arg:
                raise ValueError(f"{{normal: ...}} needs {{mean: m, std: s}}, got {arg!r}")
            std = _number(arg.get("std", 0.0), "a number for std")
            if std < 0:
                raise ValueError(f"normal std must be >= 0, got {std}")
            return {"normal": {"mean": _number(arg["mean"], "a number for mean"), "std": std}}
        return {kind: _pair(arg, kind)}
    try:
        return _number(x, _PER_NEURON_HELP)
    except ValueError:
        raise ValueError(f"expected {_PER_NEURON_HELP}, got {x!r}") from None


_PER_NEURON_SCHEMA = {
    "anyOf": [
        {"type": "number"},
        {"type": "array", "items": {"type": "number"}, "minItems": 1},
        {"type": "object", "properties": {"linspace": {"type": "array", "items": {"type": "number"},
                                                       "minItems": 2, "maxItems": 2}},
         "required": ["linspace"], "additionalProperties": False},
        {"type": "object", "properties": {"normal": {"type": "object", "properties": {
            "mean": {"type": "number"}, "std": {"type": "number", "minimum": 0}},
            "required": ["mean"], "additionalProperties": False}},
         "required": ["normal"], "additionalProperties": False},
        {"type": "object", "properties": {"uniform": {"type": "array", "items": {"type": "number"},
                                                      "minItems": 2, "maxItems": 2}},
         "required": ["uniform"], "additionalProperties": False},
    ],
    "description": "per-neuron value: " + _PER_NEURON_HELP,
}

PerNeuron = Annotated[Any, BeforeValidator(check_per_neuron), WithJsonSchema(_PER_NEURON_SCHEMA)]


# -- sections ---------------------------------------------------------------------------
class ModelSection(StrictModel):
    type: str = Field(..., description="neuron model; `spikesim models` lists them")
    preset: str | None = Field(None, description="named parameter set of that model")
    params: dict[str, PerNeuron] = Field(default_factory=dict,
                                         description="overrides of the model's parameters")
    init: dict[str, PerNeuron] = Field(default_factory=dict,
                                       description="overrides of initial state values")


class PopulationSection(StrictModel):
    size: int = Field(1, ge=1, description="neurons (per sweep combination)")
    name: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                             description="population name in the output (default: model type)")


class SimulationSection(StrictModel):
    duration: float = Field(..., gt=0, description="simulated time, ms")
    dt: float = Field(..., gt=0, description="time step, ms")
    integrator: Literal["euler", "rk2", "rk4", "exp_euler"] | None = Field(
        None, description="euler | rk2 (explicit midpoint) | rk4 | exp_euler; "
                          "default: the model's own")
    precision: Literal["float32", "float64"] = Field("float32", description="floating point type")
    spike_timing: Literal["grid", "precise"] = Field(
        "grid", description="grid: a spike is stamped at the end of the step that crossed, "
                            "resets on the grid; precise: at the crossing time inside the "
                            "step, resets at the crossing, t_ref in continuous time")
    device: Literal["auto", "cpu", "gpu"] = Field("auto", description="where JAX runs")
    devices: Union[Annotated[int, Field(ge=1)], Literal["all", "auto"]] = Field(
        "auto", description="how many devices share the population (its neuron axis is "
                            "sharded across them): 1 | N | all | auto (CPU: one per core for "
                            "populations of at least 4096 neurons per core; GPU: one)")
    seed: int = Field(0, ge=0, description="seed of every random draw of the run")
    chunk_steps: int | None = Field(
        None, ge=1, description="steps per compiled chunk between writes (default: automatic, "
                                "bounded memory); the output does not depend on it")
    check_finite: bool = Field(True, description="stop the run at the end of the chunk in "
                                                 "which any state becomes NaN or inf")


class First(StrictModel):
    first: int = Field(..., ge=1)


class Every(StrictModel):
    every: int = Field(..., ge=1)


class RecordSection(StrictModel):
    spikes: bool = Field(True, description="record spike times")
    variables: list[str] = Field(default_factory=list,
                                 description="state variables to record, and `input`")
    neurons: Union[Literal["all"], list[Annotated[int, Field(ge=0)]], First, Every] = Field(
        "all", description="all | [0, 5, 9] | {first: k} | {every: k}")
    every: int = Field(1, ge=1, description="keep one sample every k steps")
    start: float = Field(0.0, ge=0, description="start of the recording window, ms")
    stop: float | None = Field(None, description="end of the recording window, ms (inclusive)")


class OutputSection(StrictModel):
    path: str = Field("outputs/{name}.h5", description="HDF5 file; {name} and any {dotted.key} "
                                                       "of the config are substituted")
    overwrite: bool = Field(False, description="replace an existing file (same as --force)")
    compression: Literal["gzip"] | None = Field(
        None, description="gzip compression of reports (off by default: HDF5's gzip is "
                          "single-threaded and runs on the writing path, so it slows long runs; "
                          "compress afterwards with h5repack if disk space matters)")


class Range(StrictModel):
    start: float
    stop: float
    num: int = Field(..., ge=1)


class SweepSection(StrictModel):
    mode: Literal["grid", "zip"] = Field("grid", description="grid: cartesian product; "
                                                             "zip: axes in lockstep")
    axes: dict[str, Union[Annotated[list[float], Field(min_length=1)], Range]] = Field(
        ..., min_length=1, description="dotted config key -> list of values or "
                                       "{start, stop, num}")


def _as_list(x):
    return [] if x is None else [x] if isinstance(x, dict) else x


def config_class():
    """The root config class. Built lazily so that :mod:`spikesim.inputs` (which imports this
    module) can register its protocols first."""
    from .inputs import PROTOCOLS

    protocol = Annotated[Union[tuple(PROTOCOLS.values())], Field(discriminator="type")]

    class Config(StrictModel):
        name: str | None = Field(None, description="run name; default: the config file's stem")
        model: ModelSection
        population: PopulationSection = Field(default_factory=PopulationSection)
        simulation: SimulationSection
        input: Annotated[list[protocol], BeforeValidator(_as_list)] = Field(
            default_factory=list,
            description="one protocol, or a list of them (their currents add up)")
        record: RecordSection = Field(default_factory=RecordSection)
        output: OutputSection = Field(default_factory=OutputSection)
        sweep: SweepSection | None = None

    return Config
