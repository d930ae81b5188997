"""From the keys of an equations model to a checked :class:`Definition`: parsed lines, names
resolved, subexpressions ordered, units checked and converted, conditionally linear
variables found. Every problem is collected as one message line naming where it is (the
file and line of the equation inside the YAML block) and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..core.keys import suggest
from ..core.units import UnitError, convert as convert_quantity
from . import dims
from .parse import (FUNCTIONS, RESERVED, ParseProblem, defined_name, names, nodes,
                    parse_equations, parse_expression, parse_reset)


@dataclass
class Spec:
    """The keys of an equations model, as plain values, with where each came from:
    ``where(key)`` gives ``"file:line"`` for a key path inside ``model``, and
    ``where_line(offset)`` the line of the equations block's line ``offset``."""

    name: str
    equations: str
    where: Callable[[tuple], str]
    where_line: Callable[[int], str]
    current: tuple[str, str] | None = None  # (name, unit)
    params: dict = field(default_factory=dict)  # name -> (scalar value or None, unit)
    init: dict = field(default_factory=dict)  # name -> value as written (scalar or other)
    threshold: str | None = None
    reset: str | None = None
    refractory: object = None  # None, a number (ms), "<number> <unit>" or a parameter name
    record: tuple = ()  # record.variables of the config (subexpressions among them)
    # ``where_record(i)``: "file:line" of record.variables[i] (the config's, not the model's)
    where_record: Callable[[int], str] | None = None
    # parameters that may go unused: a model file's, whose threshold, reset or equations a
    # config may replace (a misspelt override of them is refused as unknown to the file)
    file_params: frozenset = frozenset()
    summary: str = ""
    citation: str = ""
    # ``line_note(offset)``: words naming line ``offset`` of the equations in a message, for
    # equations whose lines are not lines of the file (a quoted text: "line 2 of the ...")
    line_note: Callable[[int], str] | None = None


@dataclass
class Definition:
    name: str
    summary: str
    citation: str
    text: str
    lines: list
    odes: dict
    subs: dict
    state_units: dict
    sub_units: dict
    param_units: dict
    param_defaults: dict
    current_name: str | None
    current_unit: str
    init: dict
    derived_init: dict  # state -> tree, in the order to evaluate them
    derived_text: dict  # state -> the expression as written
    threshold: tuple | None
    threshold_text: str | None
    threshold_param: str | None
    threshold_var: str | None
    threshold_value: float | None
    reset: list
    reset_text: str | None
    held: tuple
    refractory: object
    #: ms per unit of the refractory parameter (1 for a parameter in ms, 1000 in s)
    refractory_ms: float
    linear: tuple
    recorded: tuple
    #: the subexpressions a run may record (those that depend on neither the current nor t)
    recordable: tuple
    uses_t: bool
    precise_problem: str | None
    #: parameter -> the line (a state's or subexpression's name) whose right-hand side
    #: divides by it on every evaluation (:func:`divisors`): a 0 there is refused
    divisors: dict = field(default_factory=dict)


def _topological(subs: dict, deps: dict) -> tuple[list[str], list[str] | None]:
    """Subexpressions in an order where each comes after those it uses, or a cycle."""
    order, state = [], {}
    for start in subs:
        stack = [(start, iter(sorted(deps[start])))]
        path = [start]
        if state.get(start) == 2:
            continue
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
                order.append(node)
                continue
            if state.get(nxt) == 1:
                return order, path[path.index(nxt):] + [nxt]
            if state.get(nxt) != 2:
                state[nxt] = 1
                stack.append((nxt, iter(sorted(deps[nxt]))))
                path.append(nxt)
    return order, None


def build(spec: Spec) -> Definition:
    """The checked definition, or :class:`spikesim.errors.ConfigError` listing every problem."""
    from ..errors import ConfigError

    problems: list[str] = []

    def err_line(offset, msg):
        note = spec.line_note(offset) if spec.line_note else ""
        problems.append(f"{spec.where_line(offset)}: model.equations: {note}{msg}")

    def err(key, msg):
        path = ("model",) + key
        problems.append(f"{spec.where(path)}: {'.'.join(map(str, path))}: {msg}")

    if not isinstance(spec.equations, str):
        eq = spec.equations
        if isinstance(eq, dict) and len(eq) == 1 and "=" in str(next(iter(eq))):
            # YAML reads 'dv/dt = -v/tau : mV' unquoted (an override) as {dv/dt = -v/tau: mV}
            (k, u), = eq.items()
            err(("equations",), f"YAML read '{k} : {u}' as a mapping, at the ': ' before the "
                                f"unit: write the equations as a block ('equations: |', one "
                                f"per line), or quote them (on the command line: "
                                f"'model.equations=\"{k} : {u}\"')")
        else:
            err(("equations",), "expected the equations as text, one per line (a YAML block: "
                                "'equations: |')")
        raise ConfigError(problems)
    lines, parse_problems = parse_equations(spec.equations)
    for offset, msg in parse_problems:
        err_line(offset, msg)
    first: dict[str, int] = {}
    for ln in list(lines):
        if ln.name in first:  # the other line as the message's own place is named
            other = (f"line {first[ln.name] + 1} of the equations" if spec.line_note else
                     spec.where_line(first[ln.name]))
            err_line(ln.offset, f"{ln.name!r} is defined twice (also at {other}); keep one")
            lines.remove(ln)
        else:
            first[ln.name] = ln.offset
    odes = {ln.name: ln for ln in lines if ln.kind == "ode"}
    subs = {ln.name: ln for ln in lines if ln.kind == "sub"}
    if lines and not odes:
        err_line(lines[0].offset, "no differential equation: a model needs at least one "
                                  "'dx/dt = ... : unit' line")

    # -- names ----------------------------------------------------------------------------
    cur_name, cur_unit = spec.current if spec.current else (None, "1")
    known = {**{k: "state variable" for k in odes}, **{k: "subexpression" for k in subs}}
    for p in spec.params:
        if p in known:
            err(("params", p), f"{p!r} is a {known[p]} of the equations and also a parameter; "
                               f"rename one")
        elif p in RESERVED or not p.isidentifier() or p.startswith("__"):
            err(("params", p), f"{p!r} cannot be a parameter name (reserved or not a name)")
        elif p in FUNCTIONS:
            err(("params", p), f"{p!r} is a function name; rename the parameter")
        elif _nfkc(p) != p:
            err(("params", p), f"{p!r} is read as {_nfkc(p)!r} in the equations (Python's "
                               f"parser normalizes names, NFKC, e.g. the micro sign to the "
                               f"Greek mu); name the parameter {_nfkc(p)!r}")
    if cur_name is not None:
        before = len(problems)
        # the rules of a parameter's name: 't' would be read as the time, 'exp' beside exp()
        if cur_name in RESERVED or not cur_name.isidentifier() or cur_name.startswith("__"):
            err(("current", "name"), f"{cur_name!r} cannot be the current's name (reserved or "
                                     f"not a name); e.g. current: {{name: I, unit: ...}}")
        elif cur_name in FUNCTIONS:
            err(("current", "name"), f"{cur_name!r} is a function name; give the current "
                                     f"another name, e.g. I")
        elif _nfkc(cur_name) != cur_name:
            err(("current", "name"), f"{cur_name!r} is read as {_nfkc(cur_name)!r} in the "
                                     f"equations (NFKC); name the current {_nfkc(cur_name)!r}")
        elif cur_name in known or cur_name in spec.params:
            err(("current", "name"), f"the current {cur_name!r} is also a "
                f"{known.get(cur_name, 'parameter')}; the injected current needs its own name")
        if len(problems) > before:  # its uses in the equations would be unknown names too
            raise ConfigError(problems)
    # the names that lines in error define are known: their line has its own message
    text = spec.equations.split("\n")
    failed = {defined_name(text[offset]) for offset, _ in parse_problems} - {None}
    all_names = set(odes) | set(subs) | set(spec.params) | {"t"} | failed | (
        {cur_name} if cur_name else set())
    all_names |= {_nfkc(p) for p in spec.params}  # 'µ' has its own message above
    for ln in lines:
        for n in sorted(names(ln.expr) - all_names):
            # a subexpression cannot use itself (a cycle): 'tau_w0' in tau_w's line is no 'tau_w'
            own = {ln.name} if ln.kind == "sub" else set()
            hint = suggest(n, sorted(all_names - {"t"} - own))
            extra = ("" if hint else " Give it a value in params (with its unit), or define "
                     "it as a subexpression 'name = ... : unit'.")
            unit = _unit_name(n)
            if unit:  # Brian2's 10*ms: here numbers are plain and constants are parameters
                extra = (f" {n} is a unit ({unit}): inside the equations numbers are plain "
                         f"numbers and a constant with a unit is a parameter, e.g. "
                         f"'(v_rest - v)/tau' with params: {{tau: 10 ms}}.")
            if n in spec.init:  # a state variable whose equation is missing
                extra = (f" It has an initial value in init: give it its equation, "
                         f"'d{n}/dt = ... : unit'.")
            if cur_name is None and n in ("I", "I_ext", "I_inj"):
                extra = " If it is the injected current, declare it: current: {name: " \
                        f"{n}, unit: ...}}."
            err_line(ln.offset, f"unknown name {n!r} in the equation of {ln.name}.{hint}{extra}")
    if problems:
        raise ConfigError(problems)

    deps = {s: names(ln.expr) & set(subs) for s, ln in subs.items()}
    order, cycle = _topological(subs, deps)
    if cycle:
        err_line(subs[cycle[0]].offset, f"cyclic subexpressions: {' -> '.join(cycle)}; a "
                 f"subexpression may not depend on itself (make one of them a state variable)")
        raise ConfigError(problems)

    # -- units ----------------------------------------------------------------------------
    units: dict = {}
    for ln in lines:
        try:
            units[ln.name] = dims.unit_of(ln.unit)
        except ParseProblem as e:
            err_line(ln.offset, f"{ln.name}: {e}")
    for p, (_, u) in spec.params.items():
        try:
            units[p] = dims.unit_of(u)
        except ParseProblem as e:
            err(("params", p), str(e))
    if cur_name is not None:
        try:
            units[cur_name] = dims.unit_of(cur_unit)
        except ParseProblem as e:
            err(("current", "unit"), str(e))
    units["t"] = dims.unit_of("ms")
    if problems:
        raise ConfigError(problems)
    ms = dims.unit_of("ms")
    trees: dict = {}
    for ln in lines:
        try:
            tree, u = dims.check(ln.expr, units)
            want = units[ln.name] / ms if ln.kind == "ode" else units[ln.name]
            lhs = f"d{ln.name}/dt" if ln.kind == "ode" else ln.name
            if u.dimensionality != want.dimensionality:
                why = (f" ({ln.name} is in {ln.unit}, time in ms)" if ln.kind == "ode" else
                       " (its declared unit)")
                raise ParseProblem(f"the two sides differ in dimension: {lhs} must be "
                                   f"{dims.words(want)}{why}, the right-hand side is "
                                   f"{dims.words(u)}")
            trees[ln.name] = dims.convert(tree, u, want, lhs)
        except ParseProblem as e:
            msg = str(e)
            bare = [p for p in names(ln.expr) & set(spec.params) if spec.params[p][1] == "1"]
            if bare and ("plain number" in msg or "dimension" in msg):
                where = ", ".join(f"{p} ({spec.where(('model', 'params', p))})"
                                  for p in sorted(bare))
                msg += (f". (Parameters written without a unit are plain numbers: {where}; "
                        f"give them their unit, e.g. '10 ms'.)")
            # Brian2's habit inverted: 'dv/dt = ... : mV/ms' declares v itself per time
            per_time = sorted(x for x in odes if x in names(ln.expr) | {ln.name}
                              and dict(units[x].dimensionality).get("[time]", 0) < 0)
            if per_time and "dimension" in msg:
                x = per_time[0]
                msg += (f". ({x} is declared in {odes[x].unit}, a unit per time: the unit "
                        f"after ':' is that of {x} itself, not of d{x}/dt, e.g. "
                        f"'dv/dt = ... : mV')")
            err_line(ln.offset, msg)
        except Exception as e:  # noqa: BLE001 - pint on a unit power it cannot take
            err_line(ln.offset, f"cannot check the units of {ln.name}: {e}"[:300])
    if problems:
        raise ConfigError(problems)
    ode_trees = {x: trees[x] for x in odes}
    sub_trees = {s: trees[s] for s in order}

    # -- threshold, reset, refractory -----------------------------------------------------
    allowed_cond = set(odes) | set(subs) | set(spec.params)
    current_dependent = {s for s in subs if _depends(s, sub_trees, cur_name, "t")}
    # precise timing locates the crossing of "x > P" or "x >= P", x a state variable and P a
    # parameter or a constant (threshold_param or threshold_value)
    threshold = threshold_param = threshold_var = threshold_value = None
    if spec.threshold is not None:
        try:
            if not isinstance(spec.threshold, str):
                raise ParseProblem("expected a condition such as 'v > 0 mV'")
            tree = parse_expression(spec.threshold, condition=True, quantities=True)
            _check_names(tree, allowed_cond, current_dependent, cur_name, "threshold")
            threshold, _ = dims.check(tree, units)
            varying = set(odes) | set(subs) | {"t"}
            if any(n[0] == "cmp" and n[1] == "==" and names(n) & varying
                   for n in nodes(threshold)):
                # a variable that changes in steps passes any one value between two steps
                raise ParseProblem(f"{spec.threshold.strip()!r}: an equality (==) on a "
                                   f"variable that changes continuously is almost never met "
                                   f"on a step; write a crossing, e.g. 'v > v_th'")
            if (threshold[0] == "cmp" and threshold[1] in (">", ">=")
                    and threshold[2][0] == "name" and threshold[2][1] in odes):
                threshold_var = threshold[2][1]
                if (threshold[3][0] == "name" and threshold[3][1] in spec.params
                        and threshold[3] == tree[3]):
                    threshold_param = threshold[3][1]
                else:
                    threshold_value = _constant(threshold[3])
        except ParseProblem as e:
            err(("threshold",), str(e))
    reset, held = [], ()
    if spec.reset and spec.threshold is None:
        err(("reset",), "a reset runs after each spike, and without a threshold there is none: "
                        "give a threshold (e.g. 'v > v_th'), or reset: null")
    if spec.reset is not None:
        try:
            if not isinstance(spec.reset, str):
                raise ParseProblem("expected statements such as 'v = v_reset; w += b'")
            for _, target, op, tree in parse_reset(spec.reset):
                if target not in odes:
                    raise ParseProblem(f"a reset assigns state variables; {target!r} is not "
                                       f"one.{suggest(target, odes)} State variables: "
                                       f"{', '.join(odes)}")
                _check_names(tree, allowed_cond, current_dependent, cur_name, "reset")
                t2, u = dims.check(tree, units)
                reset.append((target, op, dims.convert(
                    t2, u, units[target], f"reset of {target} ({odes[target].unit})")))
            held = tuple(dict.fromkeys(t for t, _, _ in reset))
        except ParseProblem as e:
            err(("reset",), str(e))
    refractory, refractory_ms = None, 1.0
    if spec.refractory is not None:
        r = spec.refractory
        if not spec.reset:
            err(("refractory",), "a refractory period holds the variables that reset "
                                 "assigns: give a reset too, or refractory: null")
        elif isinstance(r, str) and r.strip() in spec.params:
            name = r.strip()
            if units[name].dimensionality != ms.dimensionality:
                err(("refractory",), f"parameter {name} is {dims.words(units[name])}; a "
                                     f"refractory period is a time")
            else:
                refractory, refractory_ms = name, float(dims.factor(units[name], ms))
        else:
            try:
                value = convert_quantity(r, "ms")
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise UnitError(f"expected a duration >= 0 such as '2 ms' or a parameter "
                                    f"name, got {r!r}."
                                    + (suggest(r, spec.params) if isinstance(r, str) else ""))
                refractory = float(value)
            except UnitError as e:
                err(("refractory",), str(e))

    # -- initial values, recorded subexpressions --------------------------------------------
    init, derived = {}, {}
    from ..core.units import QUANTITY

    for x, value in spec.init.items():
        if x not in odes:
            if x in subs:
                err(("init", x), f"{x!r} is a subexpression, computed from the state at every "
                                 f"step: it takes no initial value; remove it from init (or "
                                 f"make it a state variable, 'd{x}/dt = ... : unit')")
            else:
                err(("init", x), f"{x!r} is not a state variable.{suggest(x, odes)} State "
                                 f"variables: {', '.join(odes)}")
            continue
        if isinstance(value, (list, dict)):
            continue  # per-neuron: converted and checked with the other per-neuron values
        if isinstance(value, str) and not QUANTITY.match(value.strip()):
            # an expression of the parameters and the other initial values, e.g. a gate at
            # its steady state: n_inf, or alpha_n/(alpha_n + beta_n)
            try:
                tree = parse_expression(value)
                _check_names(tree, (set(odes) | set(subs) | set(spec.params)) - {x},
                             current_dependent, cur_name, "initial value")
                t2, u = dims.check(tree, units)
                derived[x] = dims.convert(t2, u, units[x], f"initial value of {x} "
                                                           f"({odes[x].unit})")
            except ParseProblem as e:
                err(("init", x), str(e))
            continue
        try:
            v = convert_quantity(value, odes[x].unit)
        except UnitError as e:
            err(("init", x), str(e))
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            err(("init", x), f"expected a number, got {value!r}")
            continue
        init[x] = float(v)
    missing = [x for x in odes if x not in spec.init]
    if missing:
        err(("init",), f"no initial value for {', '.join(missing)}: give every state "
                       f"variable one, e.g. init: {{{missing[0]}: 0.0}}")
    # derived initial values in an order where each comes after the states it uses
    used = {x: {n for n in _closure(tree, sub_trees) if n in odes} for x, tree in derived.items()}
    init_order, cycle = _topological(derived, {x: used[x] & set(derived) for x in derived})
    if cycle:
        err(("init", cycle[0]), f"initial values that depend on each other: "
                                f"{' -> '.join(cycle)}; give one of them a number")
    recorded = []
    for i, s in enumerate(spec.record):
        if s in subs:
            if s in current_dependent:
                # the mistake is in record.variables, not in the model
                at = spec.where_record(i) if spec.where_record else spec.where(("model",))
                problems.append(f"{at}: record.variables.{i}: {s} depends on the input "
                                f"current or t, and only subexpressions that depend on "
                                f"neither are recorded; record the state variables and "
                                f"'input' instead")
            recorded.append(s)
    if problems:  # a threshold, reset or refractory in error names nothing: no false
        raise ConfigError(problems)  # "used nowhere" for the parameters it uses
    # a parameter nothing uses is a misspelt one (an override model.params.tua_m=30 would
    # otherwise change nothing, silently)
    used_names = set().union(*(names(ln.expr) for ln in lines),
                             *(names(tr) for _, _, tr in reset),
                             *(names(tr) for tr in derived.values()))
    if threshold is not None:
        used_names |= names(threshold)
    if isinstance(refractory, str):
        used_names.add(refractory)
    for p in spec.params:
        if p not in used_names and p not in spec.file_params:
            err(("params", p), f"parameter {p!r} is used nowhere (no equation, threshold, "
                               f"reset, refractory or initial value names it)."
                               f"{suggest(p, sorted(used_names & set(spec.params)))} "
                               f"Remove it, or use it in the model")
    # likewise a current no equation names: every input would reach nothing, silently
    if cur_name is not None and not any(cur_name in names(ln.expr) for ln in lines):
        err(("current",), f"no equation uses the current {cur_name!r}, so the input would "
                          f"reach nothing: use it (e.g. 'dv/dt = (v_rest - v + R*{cur_name})/"
                          f"tau : mV'), or current: null")
    if problems:
        raise ConfigError(problems)

    from .symbolic import linear_variables

    linear = tuple(linear_variables(ode_trees, sub_trees,
                                    set(odes) | set(spec.params) | {"t"} | (
                                        {cur_name} if cur_name else set())))
    precise_problem = None
    if threshold is not None and threshold_param is None and threshold_value is None:
        precise_problem = (f"precise timing locates a crossing of a threshold of the form "
                           f"'x > P' or 'x >= P', x a state variable and P a parameter or a "
                           f"constant, and model.threshold is {spec.threshold!r}: write it so "
                           f"(e.g. 'v > v_th' with v_th in params, or 'v > 0 mV')")
    uses_t = any("t" in names(tr) for tr in list(ode_trees.values()) + list(sub_trees.values()))
    return Definition(
        name=spec.name, summary=spec.summary or f"equations model {spec.name}",
        citation=spec.citation, text=spec.equations.strip("\n"), lines=lines,
        odes=ode_trees, subs=sub_trees,
        state_units={x: odes[x].unit for x in odes}, sub_units={s: subs[s].unit for s in subs},
        param_units={p: u for p, (_, u) in spec.params.items()},
        param_defaults={p: (float("nan") if v is None else v)
                        for p, (v, _) in spec.params.items()},
        current_name=cur_name, current_unit=cur_unit, init=init,
        derived_init={x: derived[x] for x in init_order},
        derived_text={x: spec.init[x] for x in derived}, threshold=threshold,
        threshold_text=spec.threshold, threshold_param=threshold_param,
        threshold_var=threshold_var, threshold_value=threshold_value, reset=reset,
        reset_text=spec.reset, held=held, refractory=refractory, refractory_ms=refractory_ms,
        linear=linear,
        recorded=tuple(recorded),
        recordable=tuple(s for s in subs if s not in current_dependent),
        uses_t=uses_t, precise_problem=precise_problem,
        divisors=divisors({x: odes[x].expr for x in odes}, {s: subs[s].expr for s in subs},
                          set(spec.params)))


def divisors(odes: dict, subs: dict, params) -> dict[str, str]:
    """The parameters p that a dx/dt divides by whatever the state: p a factor of the
    denominator in ``a / p``, ``a / (2*p*q)`` or ``p**-k`` (a negative number k) reached from
    the top of a right-hand side through ``+ - *``, signs, numerators and the subexpressions
    named there. A 0 there gives an infinite or NaN term, and through these operations an
    infinite or NaN dx/dt (inf * 0 and inf - inf are NaN), so the run would blow up at its
    first step. Not below a function (where(p > 0, x/p, 0), exp(-x/p), clip, tanh may be
    finite), a power or another denominator (1/(x/p) is 0). p -> the name of the line that
    divides by it."""
    out: dict[str, str] = {}

    def factors(n):
        """The parameters a denominator is a product of (``tau``, ``2*tau``, ``(C*R)``,
        ``tau**2``): a 0 in any of them makes the whole denominator 0."""
        k = n[0]
        if k in ("neg", "scale"):
            return factors(n[-1])
        if k == "name":
            return [n[1]] if n[1] in params else []
        if k == "bin" and n[1] == "*":
            return factors(n[2]) + factors(n[3])
        if k == "bin" and n[1] == "**" and (_constant(n[3]) or 0) > 0:
            return factors(n[2])
        return []

    for x, tree in odes.items():
        seen: set = set()
        stack = [(tree, x)]
        while stack:
            n, line = stack.pop()
            k = n[0]
            if k == "name" and n[1] in subs and n[1] not in seen:
                seen.add(n[1])
                stack.append((subs[n[1]], n[1]))
            elif k == "neg":
                stack.append((n[1], line))
            elif k == "bin" and n[1] in ("+", "-", "*"):
                stack += [(n[2], line), (n[3], line)]
            elif k == "bin" and n[1] == "/":
                for p in factors(n[3]):
                    out.setdefault(p, line)
                stack.append((n[2], line))
            elif k == "bin" and n[1] == "**" and (_constant(n[3]) or 0) < 0:
                for p in factors(n[2]):
                    out.setdefault(p, line)
    return out


def _constant(node) -> float | None:
    """The value of a checked tree made of numbers only (``-50``, ``0 mV`` scaled to the
    variable's unit), else None."""
    k = node[0]
    if k == "num":
        return float(node[1])
    if k == "neg":
        inner = _constant(node[1])
        return None if inner is None else -inner
    if k == "scale":
        inner = _constant(node[2])
        return None if inner is None else float(node[1]) * inner
    return None


def _closure(tree, subs) -> set[str]:
    """Every name a tree uses, through its subexpressions."""
    out, stack = set(), [tree]
    while stack:
        for n in names(stack.pop()):
            if n not in out:
                out.add(n)
                if n in subs:
                    stack.append(subs[n])
    return out


def _depends(s, subs, *names_) -> bool:
    seen, stack = set(), [s]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        used = names(subs[n])
        if any(x in used for x in names_ if x):
            return True
        stack += [u for u in used if u in subs]
    return False


def _nfkc(name: str) -> str:
    """A name as Python's parser reads it in an expression (NFKC-normalized: ``µ`` U+00B5
    becomes ``μ`` U+03BC, ``ﬁ`` becomes ``fi``), so that a parameter's name matches its uses."""
    import unicodedata

    return unicodedata.normalize("NFKC", name)


def _unit_name(n: str) -> str | None:
    """The words for the dimension of ``n`` (``a time``) where it is the name of a unit of a
    named dimension (``ms``, ``mV``, ``nS``, ``volt``), for the hint to a name that is
    unknown; None otherwise (one letter and dimensionless names are pint units too, but
    more often a misspelt symbol)."""
    if len(n) < 2:
        return None
    try:
        unit = dims.unit_of(n)
    except ParseProblem:
        return None
    words = dims.words(unit).rsplit(" (", 1)[0]  # "a time (ms)" -> "a time"
    return None if unit.dimensionless or " of dimension" in f" {words}" else words


def _check_names(tree, allowed, current_dependent, cur_name, what):
    for n in sorted(names(tree)):
        if n == cur_name or n == "t":
            raise ParseProblem(f"the {what} may not use the input current or t ({n!r})")
        if n in current_dependent:
            raise ParseProblem(f"the {what} may not use the input current or t, and {n!r} "
                               f"depends on them")
        if n not in allowed:
            unit = _unit_name(n)
            if unit:
                raise ParseProblem(f"{n!r} is a unit ({unit}), not a name: write a quantity "
                                   f"as a number, a space and its unit ('-65 mV', not "
                                   f"'-65*mV'), or use a parameter")
            raise ParseProblem(f"unknown name {n!r}.{suggest(n, sorted(allowed))} The {what} "
                               f"may use state variables, subexpressions and parameters")
