"""The config schema (SPEC section 2): pydantic models with ``extra="forbid"``.

Every option is documented once, on its field; ``spikesim schema`` prints the JSON schema
generated from these classes. Model-dependent checks (parameter names, integrators, state
variables) happen in :mod:`spikesim.config` once the model is known.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BeforeValidator, Field

from .fields import Bool, Float, Int, PerNeuron, StrictModel
from .inputs import PROTOCOLS


#: longest run or population name (a file name component is at most 255 bytes)
NAME_MAX = 200


# -- sections ---------------------------------------------------------------------------
class ModelSection(StrictModel):
    type: str = Field(..., description="neuron model; `spikesim models` lists them")
    preset: str | None = Field(None, description="named parameter set of that model")
    params: dict[str, PerNeuron] = Field(default_factory=dict,
                                         description="overrides of the model's parameters")
    init: dict[str, PerNeuron] = Field(default_factory=dict,
                                       description="overrides of initial state values")


class PopulationSection(StrictModel):
    size: Int = Field(1, ge=1, description="neurons (per sweep combination)")
    name: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=NAME_MAX,
                             description="population name in the output (default: model type)")


class SimulationSection(StrictModel):
    duration: Float = Field(..., gt=0, description="simulated time, ms")
    dt: Float = Field(..., gt=0, description="time step, ms")
    integrator: Literal["euler", "rk2", "rk4", "exp_euler"] | None = Field(
        None, description="euler | rk2 (explicit midpoint) | rk4 | exp_euler; "
                          "default: the model's own")
    precision: Literal["float32", "float64"] = Field("float32", description="floating point type")
    device: Literal["auto", "cpu", "gpu"] = Field("auto", description="where JAX runs")
    devices: Union[Literal["all", "auto"], Annotated[Int, Field(ge=1)]] = Field(
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


class RecordSection(StrictModel):
    spikes: Bool = Field(True, description="record spike times")
    variables: list[str] = Field(default_factory=list,
                                 description="state variables to record, and `input`")
    neurons: Union[Literal["all"], Annotated[list[Annotated[Int, Field(ge=0)]], Field(min_length=1)],
                   First, Every] = Field(
        "all", description="all | [0, 5, 9] | {first: k} | {every: k}")
    every: Int = Field(1, ge=1, description="keep one sample every k steps")
    start: Float = Field(0.0, ge=0, description="start of the recording window, ms")
    stop: Float | None = Field(None, description="end of the recording window, ms (inclusive)")


class OutputSection(StrictModel):
    path: str = Field("outputs/{name}.h5", description="HDF5 file; {name} and any {dotted.key} "
                                                       "of the config are substituted")
    overwrite: Bool = Field(False, description="replace an existing file (same as --force)")
    compression: Literal["gzip"] | None = Field(
        None, description="gzip compression of reports (off by default: HDF5's gzip is "
                          "single-threaded and runs on the writing path, so it slows long runs; "
                          "compress afterwards with h5repack if disk space matters)")


class Range(StrictModel):
    start: Float
    stop: Float
    num: Int = Field(..., ge=1)


class SweepSection(StrictModel):
    mode: Literal["grid", "zip"] = Field("grid", description="grid: cartesian product; "
                                                             "zip: axes in lockstep")
    axes: dict[str, Union[Annotated[list[Float], Field(min_length=1)], Range]] = Field(
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

    return Config
