"""The unit pass: the dimension of every expression, checked once at load time, and the
conversion factors between units of the same dimension (SPEC section 5).

Each name has a unit (a state variable's and a subexpression's as declared after ``:``, a
parameter's as its value is written, the current's from ``current.unit``, ``t`` in ms).
Walking a tree: a sum or comparison converts its right side to the unit of its left side (by
an exact rational factor from pint, inserted as ``("scale", k, a)`` only where k is not 1);
products and quotients multiply units; a power of a quantity needs a number as exponent;
functions other than ``abs minimum maximum clip where sqrt`` take and give plain numbers. At
the top, a right-hand side is converted to its declared unit (per ms for ``dx/dt``). So
``(I - g*(v - E))/C`` with I in uA/cm2, g in mS/cm2, v in mV and C in uF/cm2 is in mV/ms with
no factor at all, and I in nA beside g*(v - E) in nS*mV gets the factor 1/1000 on the latter.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..core.units import UnitError, dimension_name, parse_unit, registry
from .parse import ParseProblem, show

_SAME_UNIT = {"abs": 1, "minimum": 2, "maximum": 2, "clip": 3}


def unit_of(text: str):
    try:
        return parse_unit(text)
    except UnitError as e:
        raise ParseProblem(str(e)) from None


def factor(src, dst) -> Fraction:
    """The number that converts a value in ``src`` to ``dst`` (same dimension)."""
    return Fraction(registry().Quantity(Fraction(1), src).to(dst).magnitude)


def text(unit) -> str:
    """A unit written short: ``mV / ms``, ``uA / cm^2`` (pint's formatter cannot write the
    rational exponents that the exact conversions use)."""
    reg = registry()
    num, den = [], []
    for name, power in unit._units.items():
        sym = reg.get_symbol(name)
        p = Fraction(power)
        term = sym if abs(p) == 1 else f"{sym}^{abs(p).numerator}" if abs(p).denominator == 1 \
            else f"{sym}^({abs(p)})"
        (num if p > 0 else den).append(term)
    out = " * ".join(num) or ("1" if den else "1")
    return out + "".join(f" / {d}" for d in den)


def words(unit) -> str:
    """``"a voltage (mV)"``."""
    text_ = text(unit)
    if unit.dimensionless and text_ == "1":
        return "a plain number"
    try:
        return f"{dimension_name(text_)} ({text_})"
    except UnitError:
        return text_


def _scaled(node, k: Fraction):
    return node if k == 1 else ("scale", float(k), node)


def convert(node, src, dst, what: str):
    """``node`` in unit ``src`` converted to ``dst``; a :class:`ParseProblem` naming ``what``
    where the dimensions differ (a literal 0 is 0 in every unit)."""
    if _zero(node):
        return node
    if src.dimensionality != dst.dimensionality:
        raise ParseProblem(f"{what}: {show(node)} is {words(src)}, expected {words(dst)}")
    return _scaled(node, factor(src, dst))


def dimensionless(node, unit, what: str):
    one = registry().dimensionless
    return convert(node, unit, one, what)


def check(node, units: dict):
    """``(node', unit)``: the tree with conversion factors inserted, and its unit. A part
    made of numbers only is evaluated here, in float64, so that one that is not finite
    (``1/0``, ``exp(1000)``, ``10**10**10``) is refused at load instead of giving NaN in the
    run, and no such part reaches sympy, which would compute ``10**10**10`` exactly."""
    out = _check(node, units)
    _refuse_non_finite(node, out[0])
    return out


_FOLD = {"exp": np.exp, "log": np.log, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs,
         "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh,
         "tanh": np.tanh, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
         "minimum": np.minimum, "maximum": np.maximum, "clip": np.clip}


def _value(node):
    """The float64 value of a checked tree of numbers only, else None."""
    k = node[0]
    if k == "num":
        return np.float64(node[1])
    if k == "neg":
        a = _value(node[1])
        return None if a is None else -a
    if k == "scale":
        a = _value(node[2])
        return None if a is None else np.float64(node[1]) * a
    if k == "bin":
        a = _value(node[2])
        b = None if a is None else _value(node[3])
        if b is None:
            return None
        return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
                "**": np.power}[node[1]](a, b)
    if k == "call" and node[1] in _FOLD:
        args = [_value(a) for a in node[2]]
        return None if any(a is None for a in args) else _FOLD[node[1]](*args)
    return None


def _refuse_non_finite(node, checked):
    with np.errstate(all="ignore"):
        if checked[0] == "bin" and checked[1] == "/" and _value(checked[3]) == 0:
            why = "" if node[3][0] == "num" else f" ({show(node[3])} is 0)"
            raise ParseProblem(f"{show(node)} divides by zero{why}")
        value = _value(checked)
    if value is not None and not np.isfinite(value):
        raise ParseProblem(f"{show(node)} is {float(value)}: a part made of numbers only must "
                           f"be a finite number (about 1.8e308 at most); check the expression")


def _rational(node) -> Fraction | None:
    """The exact value of an exponent made of numbers only (``3``, ``-0.5``, ``1/3``), which
    a dimension can be raised to (mV**(1/3) is a dimension, as in pint and Brian2), else
    None."""
    k = node[0]
    if k == "num":
        return Fraction(str(node[1]))
    if k == "neg":
        inner = _rational(node[1])
        return None if inner is None else -inner
    if k == "bin" and node[1] in ("+", "-", "*", "/"):
        a, b, op = _rational(node[2]), _rational(node[3]), node[1]
        if a is None or b is None or (op == "/" and b == 0):
            return None
        return a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
    return None


def _zero(node) -> bool:
    """A literal 0 (or -0): the same quantity in every unit, so it takes the dimension of
    what it is added to, compared with or chosen against (``maximum(v - v_th, 0)``), as in
    Brian2, where 0 has "any unit" (its developer docs, units.rst)."""
    # ("num", 0.0, unit): a 0 written with a unit ('v > 0 nA'), which keeps its dimension
    return (node[0] == "num" and node[1] == 0 and len(node) == 2) or (
        node[0] == "neg" and _zero(node[1]))


def _check(node, units: dict):
    reg = registry()
    one = reg.dimensionless
    k = node[0]
    if k == "num":
        return node, one
    if k == "name":
        return node, units[node[1]]
    if k == "q":
        return ("num", node[1]) + ((node[2],) if node[1] == 0 else ()), unit_of(node[2])
    if k == "neg":
        a, u = check(node[1], units)
        return ("neg", a), u
    if k == "bin":
        op = node[1]
        a, ua = check(node[2], units)
        if op == "**":
            b, ub = check(node[3], units)
            b = dimensionless(b, ub, f"the exponent of {show(node)}")
            if ua.dimensionless:
                return ("bin", op, dimensionless(a, ua, show(node)), b), one
            e = _rational(node[3])
            if e is None:
                raise ParseProblem(f"{show(node)}: a power of {words(ua)} needs a number as "
                                   f"exponent (2, -1, 0.5, 1/3)")
            if abs(e) > 100:
                raise ParseProblem(f"{show(node)}: a power of {words(ua)} with exponent "
                                   f"{float(e):g}; at most 100")
            return ("bin", op, a, b), ua ** e
        b, ub = check(node[3], units)
        if op in "+-":
            ua = ub if _zero(a) else ua  # 0 - v is a voltage; v - 0 too (convert)
            return ("bin", op, a, convert(b, ub, ua, f"in {show(node)}, the terms differ in "
                                                     f"dimension")), ua
        return ("bin", op, a, b), (ua * ub if op == "*" else ua / ub)
    if k == "cmp":
        a, ua = check(node[2], units)
        b, ub = check(node[3], units)
        ua = ub if _zero(a) else ua
        return ("cmp", node[1], a, convert(b, ub, ua, f"{show(node)} compares different "
                                                      f"dimensions")), one
    if k == "bool":
        return ("bool", node[1], tuple(check(a, units)[0] for a in node[2])), one
    if k == "not":
        return ("not", check(node[1], units)[0]), one
    if k == "call":
        f, args = node[1], node[2]
        checked = [check(a, units) for a in args]
        if f == "where":
            (c, _), (a, ua), (b, ub) = checked
            ua = ub if _zero(a) else ua
            return ("call", f, (c, a, convert(b, ub, ua, f"where(): the two values of "
                                                         f"{show(node)}"))), ua
        if f in _SAME_UNIT:
            # the unit of the first argument that is not a literal 0 (maximum(0, x))
            a, ua = checked[0]
            if _zero(a):
                ua = next((u for n, u in checked if not _zero(n)), ua)
            rest = [convert(b, ub, ua, f"{f}(): the arguments of {show(node)}")
                    for b, ub in checked[1:]]
            return ("call", f, (a, *rest)), ua
        if f == "sqrt":
            a, ua = checked[0]
            return ("call", f, (a,)), ua ** Fraction(1, 2)
        return ("call", f, tuple(dimensionless(a, ua, f"{f}() takes a plain number; in "
                                                      f"{show(node)}")
                                 for a, ua in checked)), one
    raise AssertionError(k)
