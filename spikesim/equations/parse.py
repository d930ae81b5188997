"""The grammar of an equations model (SPEC section 5), read without evaluating anything.

Each expression goes through Python's tokenizer and parser (``ast.parse(mode="eval")``: it
builds a syntax tree and runs nothing) and is then copied, node by node, into a small tree of
tuples, refusing every node outside a whitelist: numbers, names, ``+ - * / **``, parentheses,
calls of the functions in :data:`FUNCTIONS`, and, inside conditions (``threshold``, the first
argument of ``where``), comparisons joined by ``and``/``or``/``not``. The tree keeps the
operations in the order they are written, so the generated step computes exactly what the
text says (``a/b`` stays a division; see README, development).

Tree nodes: ``("num", x)``, ``("name", s)``, ``("q", value, unit)`` (a quantity written
``<number> <unit>``, allowed in ``threshold`` and ``reset``), ``("bin", op, a, b)`` with op
one of ``+ - * / **``, ``("neg", a)``, ``("call", f, (args...))``, ``("cmp", op, a, b)``,
``("bool", "and"|"or", (args...))``, ``("not", a)``; the unit pass adds ``("scale", k, a)``.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

#: function name -> number of arguments
FUNCTIONS = {
    **{f: 1 for f in ("exp", "log", "log10", "sqrt", "abs", "sin", "cos", "tan", "sinh", "cosh",
                      "tanh", "arcsin", "arccos", "arctan")},
    "minimum": 2, "maximum": 2, "clip": 3, "where": 3,
    # x / (exp(x) - 1), accurate at x = 0: the reciprocal of Brian2's and scipy.special's
    # exprel, (exp(x) - 1) / x, so Brian2's c/exprel(x) is c*exprel(x) here; exprel(x, e)
    # takes e = exp(x) from the caller, so that several rates can share one exponential
    "exprel": (1, 2),
}
#: the longest expression read (characters); a model's longest line is a few hundred
MAX_CHARS = 2000
#: deepest nesting of an expression tree; a sum of n terms nests n deep (a + b + c is
#: (a + b) + c), so this bounds sums too: 200 keeps the recursive passes (units, sympy, code)
#: well inside Python's recursion limit, and is far beyond a model's longest sum (was 60,
#: which refused a 61-term polynomial)
MAX_DEPTH = 200

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_HINTS = {ast.BitXor: "write powers as x**2, not x^2", ast.FloorDiv: "use / (no integer division)",
          ast.Mod: "% is not available", ast.MatMult: "@ is not available",
          ast.BitAnd: "write 'and' in conditions", ast.BitOr: "write 'or' in conditions"}
#: a number followed by a unit, in threshold and reset: ``0 mV``, ``-65 mV``, ``1.5 uA/cm2``;
#: the space may be left out (``0mV``), as in the config's quantities (``dt: 10us``); a
#: keyword after a number is no unit (``v > 0 and w < 1``, once read as 0 of a unit 'and')
_QUANTITY = re.compile(r"(?<![\w.])((?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![eE][-+]?\d)"
                       r"[ \t]*(?!(?:and|or|not|in|is|if|else)\b)"
                       r"([A-Za-z\u00b5\u03bc\u03a9\u2126][\w\u00b5\u03bc\u03a9\u2126\u00b2\u00b3]*"
                       r"(?:[/*^][\w\u00b5\u03bc\u03a9\u2126\u00b2\u00b3]+)*)")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: names a model may not use: the input time and Python's keywords are taken
RESERVED = {"t", "dt", "and", "or", "not", "in", "is", "if", "else", "lambda", "True", "False",
            "None"}


#: names of the variables a run adds beside the model's own (record.variables, /state): the
#: injected current, the refractory counter and the synaptic variables (g_syn0, I_syn1...);
#: a state variable or subexpression of one of these names would be shadowed by it
RUN_VARIABLES = re.compile(r"input|refrac|[gI]_syn\d+")


class ParseProblem(ValueError):
    """A problem in one expression or line; the message is for the user."""


@dataclass(frozen=True)
class Line:
    """One line of the ``equations`` block: ``dx/dt = expr : unit`` (``kind="ode"``) or
    ``name = expr : unit`` (``kind="sub"``); ``offset`` is its 0-based line in the block."""

    kind: str
    name: str
    expr: tuple
    unit: str
    text: str
    offset: int


def _strip_comment(line: str) -> str:
    return line.split("#", 1)[0].rstrip()


def parse_expression(text: str, condition: bool = False, quantities: bool = False) -> tuple:
    """The tree of one expression. ``condition``: a comparison is expected at the top;
    ``quantities``: ``<number> <unit>`` is read as a quantity node."""
    if not isinstance(text, str):
        raise ParseProblem(f"expected an expression (text), got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ParseProblem(f"expression of {len(text):,} characters; at most {MAX_CHARS:,}")
    if not text.strip():
        raise ParseProblem("empty expression")
    found: list[tuple[float, str]] = []
    if quantities:
        def swap(m):
            found.append((float(m.group(1)), m.group(2)))
            return f"__q{len(found) - 1}__"
        text = _QUANTITY.sub(swap, text)
    if "\n" in text.strip():
        raise ParseProblem("an expression must fit on one line")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset}" if e.offset else ""
        q = None if quantities else _QUANTITY.search(text)
        if q and _is_unit(q.group(2)):  # 1 mV/ms inside the equations: only threshold and
            # reset take quantities
            raise ParseProblem(f"syntax error{col}: {q.group(0)!r} is a quantity with a unit; "
                               f"inside the equations numbers are plain numbers and a "
                               f"constant with a unit is a parameter (e.g. params: {{k: "
                               f"{q.group(0)}}}, then k in the equation)") from None
        raise ParseProblem(f"syntax error{col}: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise ParseProblem("cannot read this expression (too deeply nested or malformed)") from None
    node = _convert(tree.body, found, 0)
    if condition and node[0] not in ("cmp", "bool", "not"):
        raise ParseProblem("expected a condition such as 'v > v_th'")
    if not condition:
        _no_conditions(node)
    return node


def _is_unit(text: str) -> bool:
    from ..core.units import UnitError, parse_unit

    try:
        parse_unit(text)
    except UnitError:
        return False
    return True


def _no_conditions(node):
    """A comparison only where a condition is expected (first argument of ``where``)."""
    if node[0] in ("cmp", "bool", "not"):
        raise ParseProblem("a comparison is only allowed as a condition (threshold, or the "
                           "first argument of where(cond, a, b))")
    if node[0] == "call":
        args = node[2]
        for i, a in enumerate(args):
            if node[1] == "where" and i == 0:
                if a[0] not in ("cmp", "bool", "not"):
                    raise ParseProblem("where(cond, a, b) needs a comparison as cond, "
                                       "e.g. where(v > v_th, a, b)")
                _conditions_only(a)
            else:
                _no_conditions(a)
    elif node[0] in ("bin",):
        _no_conditions(node[2])
        _no_conditions(node[3])
    elif node[0] in ("neg", "scale"):
        _no_conditions(node[-1])


def _conditions_only(node):
    if node[0] == "cmp":
        _no_conditions(node[2])
        _no_conditions(node[3])
    elif node[0] == "bool":
        for a in node[2]:
            _conditions_only(a)
    elif node[0] == "not":
        _conditions_only(node[1])
    else:
        raise ParseProblem("'and', 'or' and 'not' join comparisons, e.g. v > 0 and w < 1")


def _convert(n, found, depth) -> tuple:
    if depth > MAX_DEPTH:
        raise ParseProblem(f"expression nested more than {MAX_DEPTH} levels deep (each "
                           f"parenthesis, call, and term of a sum or product is one level): "
                           f"split it into subexpressions, 'name = ... : unit'")
    d = depth + 1
    if isinstance(n, ast.Constant):
        if isinstance(n.value, bool) or not isinstance(n.value, (int, float)):
            raise ParseProblem(f"{n.value!r} is not a number")
        if isinstance(n.value, int) and abs(n.value) > 2**53:
            raise ParseProblem(f"integer {n.value} is too large")
        if isinstance(n.value, float) and not math.isfinite(n.value):
            raise ParseProblem("a number beyond the range of a float (about 1.8e308)")
        return ("num", n.value)
    if isinstance(n, ast.Name):
        m = re.fullmatch(r"__q(\d+)__", n.id)
        if m and int(m.group(1)) < len(found):
            value, unit = found[int(m.group(1))]
            return ("q", value, unit)
        if n.id.startswith("__"):
            raise ParseProblem(f"names may not start with '__': {n.id!r}")
        return ("name", n.id)
    if isinstance(n, ast.BinOp):
        op = _BINOPS.get(type(n.op))
        if op is None:
            raise ParseProblem(_HINTS.get(type(n.op), "operator not allowed"))
        return ("bin", op, _convert(n.left, found, d), _convert(n.right, found, d))
    if isinstance(n, ast.UnaryOp):
        if isinstance(n.op, ast.USub):
            return ("neg", _convert(n.operand, found, d))
        if isinstance(n.op, ast.UAdd):
            return _convert(n.operand, found, d)
        if isinstance(n.op, ast.Not):
            return ("not", _convert(n.operand, found, d))
        raise ParseProblem("operator ~ is not available")
    if isinstance(n, ast.Call):
        if not isinstance(n.func, ast.Name):
            f = n.func
            if isinstance(f, ast.Attribute) and f.attr in FUNCTIONS:  # np.tanh, math.exp
                raise ParseProblem(f"write {f.attr}(...), not {ast.unparse(f)}(...): the "
                                   f"functions are called by their name alone")
            raise ParseProblem("only the functions " + ", ".join(FUNCTIONS) + " may be called")
        f = n.func.id
        if f not in FUNCTIONS:
            from ..core.keys import suggest

            raise ParseProblem(f"unknown function {f!r}.{suggest(f, FUNCTIONS)} Functions: "
                               + ", ".join(FUNCTIONS))
        if n.keywords or any(isinstance(a, ast.Starred) for a in n.args):
            raise ParseProblem(f"{f}() takes plain arguments (no name=value, no *)")
        arity = FUNCTIONS[f] if isinstance(FUNCTIONS[f], tuple) else (FUNCTIONS[f],)
        if len(n.args) not in arity:
            k = " or ".join(map(str, arity))
            raise ParseProblem(f"{f}() takes {k} argument{'s' * (arity[-1] > 1)}, got "
                               f"{len(n.args)}")
        return ("call", f, tuple(_convert(a, found, d) for a in n.args))
    if isinstance(n, ast.Compare):
        if len(n.ops) != 1:
            raise ParseProblem("chained comparisons (a < b < c) are not available; write "
                               "a < b and b < c")
        op = _CMPOPS.get(type(n.ops[0]))
        if op is None:
            raise ParseProblem("comparisons are < <= > >= == !=")
        return ("cmp", op, _convert(n.left, found, d), _convert(n.comparators[0], found, d))
    if isinstance(n, ast.BoolOp):
        return ("bool", "and" if isinstance(n.op, ast.And) else "or",
                tuple(_convert(v, found, d) for v in n.values))
    what = {ast.Attribute: "attribute access (a.b)", ast.Subscript: "indexing (a[i])",
            ast.Lambda: "lambda", ast.IfExp: "if-else (use where(cond, a, b))",
            ast.Tuple: "a tuple", ast.List: "a list"}.get(type(n), type(n).__name__)
    raise ParseProblem(f"{what} is not allowed in an expression")


def nodes(node):
    """Every node of a tree, the tree itself first."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if n[0] == "bin" or n[0] == "cmp":
            stack += [n[2], n[3]]
        elif n[0] in ("neg", "not"):
            stack.append(n[1])
        elif n[0] == "scale":
            stack.append(n[2])
        elif n[0] in ("call", "bool"):
            stack += list(n[2])


def names(node) -> set[str]:
    """Every name a tree uses."""
    return {n[1] for n in nodes(node) if n[0] == "name"}


def show(node, limit: int = 80) -> str:
    """A tree written back as text (for messages), cut to ``limit`` characters."""
    text = _show(node)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _show(node) -> str:
    show = _show  # noqa: F841 - the recursion writes the whole tree; show() cuts it
    k = node[0]
    if k == "num":
        return repr(node[1])
    if k == "name":
        return node[1]
    if k == "q":
        return f"{node[1]:g} {node[2]}"
    if k == "bin":
        return f"({show(node[2])} {node[1]} {show(node[3])})"
    if k == "neg":
        return f"-{show(node[1])}"
    if k == "not":
        return f"not {show(node[1])}"
    if k == "scale":
        return f"{node[1]:g}*{show(node[2])}"
    if k == "call":
        return f"{node[1]}({', '.join(show(a) for a in node[2])})"
    if k == "cmp":
        return f"{show(node[2])} {node[1]} {show(node[3])}"
    return f" {node[1]} ".join(show(a) for a in node[2])


def parse_equations(text: str) -> tuple[list[Line], list[tuple[int, str]]]:
    """The lines of an ``equations`` block and the problems found, ``(offset, message)``."""
    lines, problems = [], []
    # an equation broken over lines (parentheses left open and no ': unit' yet, or a
    # trailing backslash) is one message on its first line, and the lines that continue it
    # are skipped, not each reported as not an equation
    depth, backslash = 0, False
    for i, raw in enumerate(text.split("\n")):
        s = _strip_comment(raw).strip()
        if not s:
            continue
        if depth > 0 or backslash:
            depth += s.count("(") - s.count(")")
            backslash = s.endswith("\\")
            continue
        try:
            line = _parse_line(s, i)
        except ParseProblem as e:
            depth = s.count("(") - s.count(")") if ":" not in s.partition("=")[2] else 0
            backslash = s.endswith("\\")
            if depth > 0 or backslash:
                problems.append((i, "this equation goes on over the next line: write each "
                                    "equation on one line (split a long one into "
                                    "subexpressions, 'name = ... : unit')"))
            else:
                problems.append((i, f"{e}"))
            continue
        lines.append(line)  # a name defined twice is build's to report, with file lines
    if not lines and not problems:
        problems.append((0, "no equations: write one line per variable, e.g. "
                            "'dv/dt = (v_rest - v)/tau : mV'"))
    return lines, problems


def _left_side(lhs: str) -> tuple[str, str] | None:
    """``("ode", x)`` for ``dx/dt``, ``("sub", x)`` for a name, None for anything else."""
    lhs = lhs.strip()
    m = re.fullmatch(r"d\s*([A-Za-z_][A-Za-z0-9_]*)\s*/\s*dt", lhs)
    if m:
        return "ode", m.group(1)
    return ("sub", lhs) if _IDENT.match(lhs) else None


def defined_name(line: str) -> str | None:
    """The name a line of equations defines (``x`` of ``dx/dt = ...``, or of ``x = ...``),
    read from its left-hand side alone, also where the rest of the line does not parse: a
    line in error still defines its name, so other lines that use it get no false "unknown
    name"."""
    side = _left_side(_strip_comment(line).partition("=")[0])
    return side[1] if side else None


def _parse_line(s: str, offset: int) -> Line:
    if "=" not in s:
        m = re.fullmatch(r"([A-Za-z_]\w*)\s*:\s*(\S.*)", s)
        if m:  # Brian2's declaration of a parameter, 'g_L : siemens'
            raise ParseProblem(f"{s!r} declares a parameter in Brian2; here a parameter is "
                               f"given in params with its value, e.g. params: {{{m.group(1)}: "
                               f"...}}; the equations hold 'dx/dt = ...' and 'name = ...' "
                               f"lines only")
        raise ParseProblem("expected 'dx/dt = expression : unit' or 'name = expression : "
                           "unit'")
    lhs, rest = s.split("=", 1)
    if ":" not in rest:
        raise ParseProblem("missing the unit: end the line with ': unit' (': 1' for a plain "
                           "number), e.g. 'dv/dt = (v_rest - v)/tau : mV'")
    expr_text, unit = rest.rsplit(":", 1)
    unit = unit.strip()
    if not unit:
        raise ParseProblem("empty unit after ':' (write ': 1' for a plain number)")
    flag = re.search(r"\(\s*[A-Za-z][\w\s,]*\)\s*$", unit)
    before = unit[:flag.start()].strip() if flag else ""
    if before and before[-1] not in "/*^(":  # Brian2's ': volt (unless refractory)', not 1/(ms)
        raise ParseProblem(f"flags such as {flag.group(0).strip()!r} are Brian2's and not "
                           f"available: write the unit alone (': {before}'"
                           f"); refractory: holds the variables that reset assigns")
    side = _left_side(lhs)
    if side is None:
        raise ParseProblem(f"left-hand side {lhs.strip()!r} is neither 'dx/dt' nor a name")
    if "=" in expr_text and ":" in expr_text:  # 'dv/dt = ... : mV dw/dt = ... : 1'
        raise ParseProblem("this line holds more than one equation: write one per line "
                           "(YAML's 'equations: |' keeps the lines; 'equations: >' folds them "
                           "into one)")
    kind, name = side
    if name in RESERVED or name.startswith("__"):
        raise ParseProblem(f"{name!r} is a reserved name; choose another")
    if name in FUNCTIONS:  # as for a parameter: exp(x) and a variable exp would read alike
        raise ParseProblem(f"{name!r} is a function name; choose another name for the variable")
    if RUN_VARIABLES.fullmatch(name):
        raise ParseProblem(f"{name!r} is the name of a variable the run adds (the injected "
                           f"current 'input', the refractory counter 'refrac', the synaptic "
                           f"variables g_syn0, I_syn0, ...), recorded and stored under it; "
                           f"choose another name")
    expr = parse_expression(expr_text)
    return Line(kind, name, expr, unit, s, offset)


def parse_reset(text: str) -> list[tuple[int, str, str, tuple]]:
    """``"v = c; w += b"`` -> ``[(offset, target, op, tree)]``; statements are separated by
    ``;`` or new lines and run in order; ``op`` is ``=``, ``+=`` or ``-=``."""
    out = []
    for i, raw in enumerate(text.split("\n")):
        for stmt in _strip_comment(raw).split(";"):
            s = stmt.strip()
            if not s:
                continue
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*([+\-*/]?=)\s*(.+)", s)
            if not m:
                raise ParseProblem(f"expected a statement 'x = expression' or 'x += "
                                   f"expression', got {s!r}")
            if m.group(2) not in ("=", "+=", "-="):
                raise ParseProblem(f"{m.group(2)} is not available; write 'x = x * ...'")
            if m.group(3).lstrip().startswith("="):
                raise ParseProblem(f"{s!r}: '==' compares; a reset assigns with '='")
            out.append((i, m.group(1), m.group(2), parse_expression(m.group(3),
                                                                    quantities=True)))
    if not out:
        raise ParseProblem("empty reset: write statements such as 'v = v_reset; w += b', or "
                           "reset: null")
    return out
