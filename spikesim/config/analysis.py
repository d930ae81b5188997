"""The ``analysis.<kind>`` sections of a config (SPEC section 7): each option documented once,
on its field, with its unit; ``spikesim schema`` shows them. A current is in the model's
current unit (``<model current unit>``), converted at load like every other key."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from ..core.fields import Float, Int, StrictModel
from ..core.units import MODEL_CURRENT, Quantity

#: ``range`` when the config gives none, by the model's current unit: wide enough for the
#: models of spikesim at their defaults (HH rheobase ~2-7 uA/cm2, LIF ~1.5 nA, AdEx ~100s pA)
DEFAULT_RANGES = {"uA/cm2": (0.0, 20.0), "nA": (0.0, 5.0), "pA": (0.0, 1000.0),
                  "mV/ms": (0.0, 50.0)}

Current = Annotated[Float, Field(json_schema_extra=Quantity(MODEL_CURRENT))]


def default_range(current_unit: str) -> tuple[float, float]:
    """The range of rheobase and fi by default: the one of ``DEFAULT_RANGES`` of the unit's
    dimension, converted (nA/mm2: the uA/cm2 range, 0 to 200 nA/mm2, where Connor-Stevens
    fires; mA: 0 to 5e-6), else [0, 20] (a plain number: FitzHugh-Nagumo's I)."""
    if current_unit in DEFAULT_RANGES:
        return DEFAULT_RANGES[current_unit]
    from ..core.units import UnitError, parse_unit, registry

    try:
        unit = parse_unit(current_unit)
    except UnitError:  # checked where the model was built; nothing to convert to here
        return (0.0, 20.0)
    for known, ends in DEFAULT_RANGES.items():
        if parse_unit(known).dimensionality == unit.dimensionality:
            q = registry().Quantity
            # 12 digits: 5 nA in mA is 5e-06, not pint's 4.9999999999999996e-06
            return tuple(float(f"{q(x, parse_unit(known)).to(unit).magnitude:.12g}")
                         for x in ends)
    return (0.0, 20.0)


class _Ranged(StrictModel):
    range: list[Current] | None = Field(
        None, min_length=2, max_length=2, json_schema_extra=Quantity(MODEL_CURRENT),
        description="[low, high] amplitudes, in the model's current unit (default by unit: "
                    + ", ".join(f"{u}: {list(r)}" for u, r in DEFAULT_RANGES.items()) + ")")

    @model_validator(mode="after")
    def _ordered(self):
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range: expected [low, high] with low < high, got {self.range}")
        return self


def tolerance_problem(tolerance, lo, hi, which="the range"):
    """Why ``tolerance`` does not fit the range [lo, hi] (None if it does): a tolerance
    wider than the range ran no bisection step at all (the answer was the top of the range)."""
    if tolerance is not None and tolerance > hi - lo:
        return (f"tolerance {tolerance:g} is wider than {which} [{lo:g}, {hi:g}] (width "
                f"{hi - lo:g}), so no bisection step would run and the top of the range "
                f"would be the answer. Give a tolerance <= {hi - lo:g}, e.g. "
                f"{(hi - lo) / 1000:g} (the default: range width / 1000), or a wider "
                f"analysis.rheobase.range")
    return None


class Rheobase(_Ranged):
    """Smallest step amplitude that elicits a spike, by bisection."""

    start: Float = Field(0.0, ge=0, json_schema_extra=Quantity("ms"),
                         description="onset of the step, ms")
    duration: Float = Field(500.0, gt=0, json_schema_extra=Quantity("ms"),
                            description="duration of the step, ms; a spike counts from the "
                                        "onset to the end of the step")
    tolerance: Float | None = Field(
        None, gt=0, json_schema_extra=Quantity(MODEL_CURRENT),
        description="width of the final bracket, in the model's current unit, at most "
                    "the range's width (default: range width / 1000)")

    @model_validator(mode="after")
    def _fits(self):
        problem = self.range and tolerance_problem(self.tolerance, *self.range)
        if problem:
            raise ValueError(problem)
        return self


class FI(_Ranged):
    """Rate against amplitude, ascending then descending, state carried throughout."""

    num: Int = Field(21, ge=2, le=10_000, description="amplitudes in range (each branch)")
    duration: Float = Field(500.0, gt=0, json_schema_extra=Quantity("ms"),
                            description="time at each amplitude, ms")
    transient: Float = Field(100.0, ge=0, json_schema_extra=Quantity("ms"),
                             description="start of each amplitude's time left out of its "
                                         "rate, ms (< duration)")
    refine: Int = Field(6, ge=0, le=30,
                        description="bisection steps that locate the onset of repetitive "
                                    "firing between two amplitudes of the ascending branch")
    type1_max_rate: Float = Field(20.0, gt=0, json_schema_extra=Quantity("Hz"),
                                  description="onset rate below which a neuron is type I, Hz")

    @model_validator(mode="after")
    def _window(self):
        if self.transient >= self.duration:
            raise ValueError(f"transient {self.transient} ms must be shorter than duration "
                             f"{self.duration} ms: the rate is counted after it")
        return self


class PRC(StrictModel):
    """Phase-response curve under a constant current."""

    # the unit sits on the Field: inside ``X | None`` an Annotated unit is not seen
    current: Float | None = Field(None, json_schema_extra=Quantity(MODEL_CURRENT),
                                  description="constant current that makes the neuron fire "
                                              "periodically (required)")
    amplitude: Float | None = Field(None, json_schema_extra=Quantity(MODEL_CURRENT),
                                    description="height of the pulse (required)")
    width: Float = Field(0.5, gt=0, json_schema_extra=Quantity("ms"),
                         description="duration of the pulse, ms")
    phases: Int = Field(20, ge=1, le=10_000,
                        description="phases j / phases, j = 0 .. phases-1, one copy of each "
                                    "neuron per phase")
    cycles: Int = Field(10, ge=2, le=10_000,
                        description="periods of warm-up before the perturbed cycle")


class Dt(StrictModel):
    """dt convergence: the config at dt x factors."""

    factors: list[Annotated[Float, Field(gt=0, le=1)]] = Field(
        [1.0, 0.5, 0.25], min_length=2, description="multiples of simulation.dt, each in (0, "
                                                    "1] (1, the config's own dt, is optional), "
                                                    "each once, in decreasing order; the last "
                                                    "(the finest) is the reference")
    tolerance: Float = Field(0.05, gt=0, json_schema_extra=Quantity("ms"),
                             description="largest change of a spike time against the finest "
                                         "dt that counts as converged, ms")

    @field_validator("factors")
    @classmethod
    def _distinct(cls, factors):
        if len(set(factors)) < 2:
            raise ValueError(f"{factors} has one distinct dt only; give at least two different "
                             "factors, e.g. [1, 0.5, 0.25]")
        # like range's [low, high]: the order is the user's, not silently rewritten
        repeated = sorted({f for f in factors if factors.count(f) > 1}, reverse=True)
        if repeated:
            raise ValueError(f"{factors} gives {', '.join(f'{f:g}' for f in repeated)} more "
                             f"than once; give each factor once, e.g. "
                             f"{sorted(set(factors), reverse=True)}")
        if factors != sorted(factors, reverse=True):
            raise ValueError(f"{factors} is not in decreasing order; list the factors from "
                             f"the coarsest dt to the finest (the reference), e.g. "
                             f"{sorted(factors, reverse=True)}")
        return factors


class Patterns(StrictModel):
    """Firing-pattern classification of each neuron's spike train."""

    start: Float | None = Field(None, ge=0, json_schema_extra=Quantity("ms"),
                                description="start of the window classified, ms (default: "
                                            "the onset of the first input that has one, "
                                            "else 0)")
    stop: Float | None = Field(None, gt=0, json_schema_extra=Quantity("ms"),
                               description="end of the window, ms, at most the run's "
                                           "duration (default: the end of the run)")


class Analysis(StrictModel):
    rheobase: Rheobase = Field(default_factory=Rheobase)
    fi: FI = Field(default_factory=FI)
    prc: PRC = Field(default_factory=PRC)
    dt: Dt = Field(default_factory=Dt)
    patterns: Patterns = Field(default_factory=Patterns)


#: option classes by kind
SECTIONS = {name: info.annotation for name, info in Analysis.model_fields.items()}
