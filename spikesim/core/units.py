"""Numbers with units (SPEC section 4): ``"<number> <unit>"`` converted to a declared unit.

Parsing and conversion are pint's (https://pint.readthedocs.io); this module adds only

* a normalisation of the spellings people write (:func:`normalise`): ``u``, ``µ`` (U+00B5) and
  ``μ`` (U+03BC) for micro; ``cm2`` = ``cm^2`` = ``cm²``; ``Ohm``/``ohm``/``Ω`` (U+03A9 and the
  ohm sign U+2126) for ohm, so ``MOhm`` = ``Mohm`` = ``MΩ``; ``^1/2`` for a square root
  (pint would read ``ms^1/2`` as ``ms / 2``); ``·`` for a product. pint itself reads SI
  prefixes (``us``, ``pA``, ``nS``, ``GOhm`` once normalised), ``Hz`` and ``1/ms``;
* exact conversion: the number is read as the decimal it is written as and multiplied by
  pint's conversion factor in rational arithmetic (pint's ``non_int_type=Fraction``), then
  rounded once to a float. So ``10 us`` is the float ``0.01`` exactly as if ``0.01`` (ms) had
  been written, and ``0.5 nA`` is ``500.0`` pA, not ``500.00000000000006``;
* messages that name the dimension expected and the one given (:func:`dimension_name`) and,
  for an unknown unit, the nearest known spelling.

pint (about 1 s to import and build its registry, 0.5 s once its cache exists) is imported
on the first string with a unit, so a config of bare numbers neither pays for it nor changes:
a bare number keeps meaning the declared unit, and is passed through untouched.
"""

from __future__ import annotations

import difflib
import re
from fractions import Fraction
from functools import lru_cache

#: a number, then optionally a unit: the grammar of a quantity written in a config
QUANTITY = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*)$", re.S)
#: the same as a JSON-schema pattern (for editors)
QUANTITY_PATTERN = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*\S.*$"

#: spellings suggested for an unknown unit (the ones SPEC section 4 lists, and their kin)
KNOWN = ("ms", "s", "us", "min", "mV", "V", "uV", "pA", "nA", "uA", "mA", "uA/cm2", "mA/cm2",
         "nA/cm2", "mS/cm2", "S/cm2", "nS", "uS", "pS", "pF", "nF", "uF", "uF/cm2", "MOhm",
         "GOhm", "kOhm", "Hz", "kHz", "1/ms", "1/s", "mV/ms", "1/mV", "rad", "deg")


class UnitError(ValueError):
    """A value whose unit is unknown or of the wrong dimension; the message is for the user."""


def normalise(unit: str) -> str:
    """The spelling pint reads for a unit as people write it (see the module docstring)."""
    s = unit.strip()
    s = s.replace("\u00b5", "u").replace("\u03bc", "u")
    s = s.replace("\u2126", "ohm").replace("\u03a9", "ohm").replace("Ohm", "ohm")
    s = s.replace("\u00b2", "^2").replace("\u00b3", "^3").replace("\u00b7", "*")
    s = re.sub(r"\^\s*\(?\s*1\s*/\s*2\s*\)?", "^0.5", s)
    # a power written without ^ after a unit name: cm2 -> cm^2 (pint would read cm2 as cm*2)
    s = re.sub(r"(?<=[A-Za-z])(\d+(?:\.\d+)?)\b", r"^\1", s)
    return s


@lru_cache(maxsize=1)
def registry():
    import pint

    try:
        # pint's on-disk cache of its parsed definitions (in the user's cache folder) makes
        # building the registry about 5x faster after the first time
        return pint.UnitRegistry(non_int_type=Fraction, cache_folder=":auto:")
    except Exception:  # noqa: BLE001 - no writable cache folder: build it from scratch
        return pint.UnitRegistry(non_int_type=Fraction)


@lru_cache(maxsize=1024)
def parse_unit(unit: str):
    """pint's unit for a spelling; :class:`UnitError` with a did-you-mean when unknown."""
    reg = registry()
    try:
        u = reg.parse_units(normalise(unit))
    except Exception as e:  # noqa: BLE001 - pint's parser (tokenize, eval of a tree)
        # raises whatever the text provokes (TokenError, ZeroDivisionError...): all mean
        # that this is not a unit
        bad = getattr(e, "unit_names", None)
        bad = f" ({', '.join(map(str, bad))} is not a unit pint knows)" if bad else ""
        raise UnitError(f"unknown unit {unit!r}{bad}.{suggest(unit, KNOWN)} Units are written "
                        f"like ms, mV, pA, uA/cm2, mS/cm2, nS, pF, MOhm, Hz") from None
    if not isinstance(u, reg.Unit):
        raise UnitError(f"unknown unit {unit!r}: write a unit without a number, e.g. ms")
    return u


def suggest(unit: str, options) -> str:
    """" Did you mean 'ms'?" for the option nearest to ``unit`` (case ignored), or ""."""
    lower = {o.lower(): o for o in options}
    close = difflib.get_close_matches(unit.lower(), list(lower), n=1, cutoff=0.5)
    return f" Did you mean {lower[close[0]]!r}?" if close else ""


def _same_dimension(unit: str) -> list[str]:
    dim = parse_unit(unit).dimensionality
    return [unit] + [k for k in KNOWN if parse_unit(k).dimensionality == dim]


#: reference units of the dimensions a neuron model's fields have, and their names
_NAMES = (
    ("1", "a plain number (dimensionless)"), ("ms", "a time"), ("Hz", "a frequency (1/time)"),
    ("mV", "a voltage"), ("nA", "a current"), ("uA/cm^2", "a current density"),
    ("nS", "a conductance"), ("mS/cm^2", "a conductance density"),
    ("pF", "a capacitance"), ("uF/cm^2", "a capacitance density"),
    ("MOhm", "a resistance"), ("mV/ms", "a voltage per time"), ("1/mV", "an inverse voltage"),
    ("nA*ms^0.5", "a current x time^1/2"),
    ("uA/cm^2*ms^0.5", "a current density x time^1/2"), ("cm", "a length"),
    ("cm^2", "an area"),
)


@lru_cache(maxsize=None)
def _names() -> dict:
    return {parse_unit(u).dimensionality: name for u, name in _NAMES}


def dimension_name(unit: str) -> str:
    """``"a current density"`` for ``uA/cm2``: the words for a unit's dimension."""
    dim = parse_unit(unit).dimensionality
    if dim in _names():
        return _names()[dim]
    # pint cannot format a dimension with Fraction exponents: spell it out
    terms = " * ".join(f"{k}^{v}" if v != 1 else k for k, v in sorted(dim.items()))
    return f"of dimension {terms}"


def split(text: str, unit: str | None = None) -> tuple[str, str]:
    """``"500 pA"`` -> ``("500", "pA")``; :class:`UnitError` when it is not a quantity (its
    example in the field's ``unit``, where given)."""
    m = QUANTITY.match(text.strip())
    if not m or len(m.group(1)) > 60:
        example = "500 pA" if unit is None else "0.5" if unit == "1" else f"2 {unit}"
        raise UnitError(f"expected a number or a number with a unit such as '{example}', got "
                        f"{_show(text)!r}")
    return m.group(1), m.group(2)


def _show(text: str) -> str:
    """The user's text, stripped and cut short for a message."""
    text = text.strip()
    return text if len(text) <= 60 else text[:57] + "..."


def convert(value, unit: str, owner: str | None = None):
    """``value`` in ``unit``: a bare number is returned as it is (it means ``unit``); a string
    ``"<number> <unit>"`` is converted exactly (see the module docstring) to a float. A string
    that is a number without a unit, and anything not a string, is returned as it is, for the
    schema to judge (it refuses a quoted number: write numbers without quotes). ``owner`` (e.g. the model's name)
    starts the message of a dimension error: "hodgkin_huxley takes a current density ..."."""
    if not isinstance(value, str):
        return value
    number, given = split(value, unit)
    exponent = number.lower().partition("e")[2]
    if exponent and abs(int(exponent)) > 400:  # beyond any float; Fraction would be slow
        raise UnitError(f"{_show(value)!r} is out of the range of a float")
    if not given:  # a quoted bare number ("0.01"): left for the schema, which refuses it
        return value
    dst = parse_unit(unit)
    try:
        src = parse_unit(given)
    except UnitError:
        raise UnitError(f"unknown unit {_show(given)!r} in {_show(value)!r}."
                        f"{suggest(given, _same_dimension(unit))} This field takes "
                        f"{dimension_name(unit)}, e.g. {number} {unit}"
                        ) from None
    if src.dimensionality != dst.dimensionality:
        who = f"{owner} takes" if owner else "expected"
        shown = "" if unit == "1" else f" ({unit})"
        msg = (f"{who} {dimension_name(unit)}{shown}; got {_show(value)}, "
               f"{dimension_name(given)}")
        area = parse_unit("cm^2").dimensionality
        slip = _case_slip(given, dst)
        if slip:
            msg += f". Did you mean {number} {slip}? (Letter case matters in units)"
        elif src.dimensionality / area == dst.dimensionality:
            msg += (f". {dimension_name(given).capitalize()} where {dimension_name(unit)} is "
                    f"expected: divide by the membrane area, or give the value in {unit}")
        elif src.dimensionality * area == dst.dimensionality:
            msg += (f". {dimension_name(given).capitalize()} where {dimension_name(unit)} is "
                    f"expected: multiply by the membrane area, or give the value in {unit}")
        elif unit == "1":
            msg += ". Give a plain number"
        else:
            msg += f". Give it in {unit} or another unit of that dimension"
        raise UnitError(msg)
    try:
        out = float(registry().Quantity(Fraction(number), src).to(dst).magnitude)
    except (OverflowError, ZeroDivisionError):
        raise UnitError(f"{_show(value)!r} in {unit} is out of the range of a float") from None
    slip = _prefix_slip(given, src)
    if slip:
        raise UnitError(f"got {_show(value)}, which pint reads as {number} {src} ({out:g} "
                        f"{unit}). Did you mean {number} {slip}? (Letter case matters in "
                        f"units.) If {_show(given)} is meant, give the value in {unit}")
    return out


def _prefix_slip(given: str, src) -> str | None:
    """A known spelling of another unit of the same dimension that ``given``, itself no known
    spelling, differs from by one letter's case: ``MOhm`` for ``mohm`` (milliohm), ``ms`` for
    ``Ms`` (megasecond), ``pA`` for ``PA`` (petaampere). pint reads those without complaint,
    9 to 27 orders of magnitude from what was meant."""
    known = {normalise(k): k for k in KNOWN}
    if normalise(given) in known:
        return None
    for u in _one_case_swapped(given):
        if normalise(u) in known:
            other = parse_unit(u)
            if other.dimensionality == src.dimensionality and other != src:
                return known[normalise(u)]
    return None


def _one_case_swapped(given: str):
    """``given`` with one letter's case swapped, letter by letter (``mohm``: ``Mohm``,
    ``mOhm``, ...)."""
    for i, c in enumerate(given):
        if c.isalpha() and c.swapcase() != c:
            yield given[:i] + c.swapcase() + given[i + 1:]


def _case_slip(given: str, dst) -> str | None:
    """A unit of ``dst``'s dimension that ``given`` differs from only by letter case (``nS``
    for ``ns``, ``mV`` for ``mv``, ``ms`` for ``MS``): a known spelling first, else ``given``
    with one letter's case swapped; None when there is none."""
    def fits(u: str) -> bool:
        try:
            return parse_unit(u).dimensionality == dst.dimensionality
        except UnitError:
            return False

    key = normalise(given).lower()
    for k in KNOWN:
        if normalise(k).lower() == key and fits(k):
            return k
    return next((u for u in _one_case_swapped(given) if fits(u)), None)


def check_unit(unit: str, like: str) -> None:
    """:class:`UnitError` unless ``unit`` parses and has the dimension of ``like``."""
    if parse_unit(unit).dimensionality != parse_unit(like).dimensionality:
        raise UnitError(f"unit {unit!r} is {dimension_name(unit)}, expected "
                        f"{dimension_name(like)} like {like!r}")


# -- declarations in the schema -----------------------------------------------------------
#: placeholder in a declared unit for the current unit of the configured model
MODEL_CURRENT = "<model current unit>"


#: placeholder for the model's current unit per mV (a synaptic conductance)
MODEL_CONDUCTANCE = "<model conductance unit>"
#: the unit people write for "the model's current unit per mV" (the built-in models', known
#: without pint, so that a config of bare numbers does not import it)
CONDUCTANCE_UNITS = {"nA": "uS", "pA": "nS", "uA/cm2": "mS/cm2", "mV/ms": "1/ms"}


def conductance_unit(current_unit: str) -> str:
    """``uS`` for nA models, ``nS`` for pA, ``mS/cm2`` for uA/cm2, ``1/ms`` for mV/ms
    (Izhikevich; not ``mV/ms/mV``); else ``<unit>/mV`` as pint simplifies it."""
    if current_unit in CONDUCTANCE_UNITS or not current_unit:
        return CONDUCTANCE_UNITS.get(current_unit, f"{current_unit}/mV")
    return _per_mV(current_unit)


@lru_cache(maxsize=None)
def _per_mV(current_unit: str) -> str:
    """The spelling of ``KNOWN`` that is ``current_unit / mV``: the same unit once pint has
    cancelled a mV (``mV/ms`` -> ``1/ms``), else one equal to it with factor 1
    (``uA/cm^2`` -> ``mS/cm2``); ``<unit>/mV`` when none is. So the number is unchanged."""
    naive = f"{current_unit}/mV"
    try:
        per = parse_unit(current_unit) / parse_unit("mV")
    except UnitError:
        return naive
    for k in KNOWN:
        if parse_unit(k) == per:
            return k
    for k in KNOWN:
        u = parse_unit(k)
        if (u.dimensionality == per.dimensionality
                and registry().Quantity(Fraction(1), per).to(u).magnitude == 1):
            return k
    return naive


def resolve(declared: str, current_unit: str) -> str:
    """A declared unit with the model's current unit (or its conductance unit)
    substituted."""
    return (declared.replace(MODEL_CONDUCTANCE, conductance_unit(current_unit))
            .replace(MODEL_CURRENT, current_unit))


class Quantity:
    """``json_schema_extra`` of a field that has a unit: records the unit (read back by
    :func:`field_unit`) and lets the JSON schema accept ``"<number> <unit>"`` strings as well
    as numbers, as the loader does."""

    def __init__(self, unit: str):
        self.unit = unit

    def __call__(self, schema: dict) -> None:
        schema["unit"] = self.unit
        widen(schema)


def widen(schema: dict) -> None:
    """Let a JSON-schema node that takes a number also take a quantity string."""
    text = {"type": "string", "pattern": QUANTITY_PATTERN,
            "description": "a number with a unit, e.g. '10 us' or '500 pA'"}
    if schema.get("type") in ("number", "integer"):
        number = {k: schema.pop(k) for k in list(schema)
                  if k in ("type", "exclusiveMinimum", "minimum", "maximum", "exclusiveMaximum")}
        schema["anyOf"] = [number, text]
    elif "anyOf" in schema and text not in schema["anyOf"]:
        if any(s.get("type") in ("number", "integer") for s in schema["anyOf"]):
            schema["anyOf"].append(text)
    # a list of such numbers (``analysis.fi.range: [4 uA/cm2, 12 uA/cm2]``): its items
    for s in [schema, *schema.get("anyOf", [])]:
        if s.get("type") == "array" and isinstance(s.get("items"), dict):
            widen(s["items"])


def field_unit(info) -> str | None:
    """The unit a pydantic field declares (through :class:`Quantity`), or None."""
    extra = getattr(info, "json_schema_extra", None)
    return getattr(extra, "unit", None)
