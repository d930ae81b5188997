"""The value types of config fields, below every section of the schema and every input
protocol (both import this module; it imports neither).

Numbers are taken as YAML writes them: a string is never read as a number, a boolean never
as a number or an integer (``size: true`` and ``dt: "0.01"`` are errors, not 1 and 0.01), and
NaN and infinities are refused wherever a value must be finite. An integer field takes an
integral float (``size: 1e4``), since YAML writes ``1e4`` as a float.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict, WithJsonSchema


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def kind_of(x: Any) -> str:
    """What the user wrote, in words, for a message."""
    if isinstance(x, bool):
        return f"{str(x).lower()} (a boolean)"
    if isinstance(x, str):
        return f"{x[:60]!r} (a string; write numbers without quotes)"
    if x is None:
        return "null"
    if isinstance(x, (list, tuple)):
        return "a list"
    if isinstance(x, dict):
        return "a mapping"
    return repr(x)[:60]


def finite(x: Any, what: str = "a number") -> float:
    """``x`` as a finite float; ValueError (with the user's value) for anything else."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"expected {what}, got {kind_of(x)}")
    try:
        v = float(x)
    except OverflowError:  # a YAML integer with hundreds of digits
        raise ValueError(f"expected {what}, got an integer too large for a float") from None
    if not math.isfinite(v):
        raise ValueError(f"expected a finite number, got {x!r}")
    return v


def integer(x: Any, what: str = "an integer") -> int:
    """``x`` as an int: an int, or an integral finite float (``1e4``); not a bool or string."""
    if isinstance(x, float) and math.isfinite(x) and x == int(x):
        return int(x)
    if isinstance(x, bool) or not isinstance(x, int):
        if isinstance(x, float):
            raise ValueError(f"expected {what}, got {x!r} (not a whole number)")
        raise ValueError(f"expected {what}, got {kind_of(x)}")
    return x


#: a finite number (int or float in YAML), never a string or boolean; its JSON schema is
#: pydantic's, so that it keeps a field's bounds (dt > 0, size >= 1)
Float = Annotated[float, BeforeValidator(finite)]
#: an integer (or an integral float such as 1e4), never a string or boolean
Int = Annotated[int, BeforeValidator(integer)]
#: true or false, nothing else (not 1, 'yes' or "true")
Bool = Annotated[bool, Strict()]


# -- per-neuron numbers -----------------------------------------------------------------
GENERATORS = ("linspace", "normal", "uniform")
_PER_NEURON_HELP = ("a number, a list of numbers (one per neuron), or a generator "
                    "{linspace: [a, b]}, {normal: {mean: m, std: s}}, {uniform: [a, b]}")


def _pair(x: Any, name: str) -> list[float]:
    if not isinstance(x, (list, tuple)) or len(x) != 2:
        raise ValueError(f"{{{name}: [a, b]}} needs a list of two numbers, got {kind_of(x)}")
    return [finite(v, "a number") for v in x]


def check_per_neuron(x: Any):
    """Validate a value that may vary per neuron; returns it normalised (floats)."""
    if isinstance(x, (list, tuple)):
        if not x:
            raise ValueError("expected " + _PER_NEURON_HELP + ", got an empty list")
        return [finite(v, "a number in the list") for v in x]
    if isinstance(x, dict):
        if len(x) != 1 or next(iter(x)) not in GENERATORS:
            keys = ", ".join(map(str, x))[:80]
            raise ValueError(f"expected {_PER_NEURON_HELP}, got a mapping with keys {keys}")
        (kind, arg), = x.items()
        if kind == "normal":
            if not isinstance(arg, dict) or set(arg) - {"mean", "std"} or "mean" not in arg:
                raise ValueError(f"{{normal: ...}} needs {{mean: m, std: s}}, got {kind_of(arg)}")
            std = finite(arg.get("std", 0.0), "a number for std")
            if std < 0:
                raise ValueError(f"normal std must be >= 0, got {std}")
            return {"normal": {"mean": finite(arg["mean"], "a number for mean"), "std": std}}
        a, b = _pair(arg, kind)
        if kind == "uniform" and a > b:
            raise ValueError(f"{{uniform: [a, b]}} needs a <= b, got [{a:g}, {b:g}]; swap them")
        return {kind: [a, b]}
    try:
        return finite(x, _PER_NEURON_HELP)
    except ValueError as e:
        if "finite" in str(e) or "too large" in str(e):
            raise
        raise ValueError(f"expected {_PER_NEURON_HELP}, got {kind_of(x)}") from None


def _num() -> dict:
    """A number, or a quantity string such as "500 pA" (converted at load, SPEC section 4)."""
    from .units import widen

    s = {"type": "number"}
    widen(s)
    return s


_PER_NEURON_SCHEMA = {
    "anyOf": [
        *_num()["anyOf"],
        {"type": "array", "items": _num(), "minItems": 1},
        {"type": "object", "properties": {"linspace": {"type": "array", "items": _num(),
                                                       "minItems": 2, "maxItems": 2}},
         "required": ["linspace"], "additionalProperties": False},
        {"type": "object", "properties": {"normal": {"type": "object", "properties": {
            "mean": _num(), "std": _num()},
            "required": ["mean"], "additionalProperties": False}},
         "required": ["normal"], "additionalProperties": False},
        {"type": "object", "properties": {"uniform": {"type": "array", "items": _num(),
                                                      "minItems": 2, "maxItems": 2}},
         "required": ["uniform"], "additionalProperties": False},
    ],
    "description": "per-neuron value: " + _PER_NEURON_HELP + "; any number may carry a unit "
                   "(\"500 pA\")",
}

PerNeuron = Annotated[Any, BeforeValidator(check_per_neuron), WithJsonSchema(_PER_NEURON_SCHEMA)]
