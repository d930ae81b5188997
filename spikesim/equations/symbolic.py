"""Symbolic analysis with sympy: which variables are conditionally linear (SPEC section 5).

A variable x is conditionally linear when ``d(dx/dt)/dx`` does not depend on x, with every
subexpression substituted (Brian2's test for exponential Euler); then
``dx/dt = A x + B`` with A and B functions of the other variables, stepped exactly by
``exp_euler``. The sympy tree is built from the parsed tree (no text is evaluated).
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _functions():
    import sympy as sp

    class exprel(sp.Function):  # noqa: N801 - the name the equations use
        """x / (exp(x) - 1): no derivative is given, so sympy keeps d/dx symbolic, which
        makes a variable inside it non-linear, as it is."""

    return {
        "exp": sp.exp, "log": sp.log, "log10": lambda x: sp.log(x, 10), "sqrt": sp.sqrt,
        "abs": sp.Abs, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "sinh": sp.sinh,
        "cosh": sp.cosh, "tanh": sp.tanh, "arcsin": sp.asin, "arccos": sp.acos,
        "arctan": sp.atan, "exprel": exprel, "minimum": sp.Min, "maximum": sp.Max,
        "clip": lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi),
        "where": lambda c, a, b: sp.Piecewise((a, c), (b, True)),
    }


def to_sympy(node, symbols: dict, subs: dict):
    """The sympy expression of a tree; ``subs`` maps a subexpression name to its tree (it is
    substituted), ``symbols`` every other name to its sympy symbol."""
    import sympy as sp

    memo: dict[str, object] = {}

    def go(n):
        k = n[0]
        if k == "num":
            return sp.Float(n[1]) if isinstance(n[1], float) else sp.Integer(n[1])
        if k == "name":
            name = n[1]
            if name in subs:
                if name not in memo:
                    memo[name] = go(subs[name])
                return memo[name]
            return symbols[name]
        if k == "scale":
            return sp.Float(n[1]) * go(n[2])
        if k == "neg":
            return -go(n[1])
        if k == "bin":
            a, b = go(n[2]), go(n[3])
            return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                    "/": lambda: a / b, "**": lambda: a ** b}[n[1]]()
        if k == "call":
            return _functions()[n[1]](*[go(a) for a in n[2]])
        if k == "cmp":
            a, b = go(n[2]), go(n[3])
            return {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge, "==": sp.Eq,
                    "!=": sp.Ne}[n[1]](a, b)
        if k == "bool":
            return (sp.And if n[1] == "and" else sp.Or)(*[go(a) for a in n[2]])
        if k == "not":
            return sp.Not(go(n[1]))
        raise AssertionError(k)

    return go(node)


def linear_variables(odes: dict, subs: dict, names) -> list[str]:
    """The state variables whose right-hand side is linear in themselves."""
    import sympy as sp

    symbols = {n: sp.Symbol(n, real=True) for n in names}
    out = []
    for x, rhs in odes.items():
        try:
            expr = to_sympy(rhs, symbols, subs)
            d = sp.diff(expr, symbols[x])
        except Exception:  # noqa: BLE001 - anything sympy cannot differentiate: not linear
            continue
        if symbols[x] not in d.free_symbols and not d.has(sp.nan, sp.zoo):
            out.append(x)
    return out
