"""Checks that need the model, the duration or several keys at once (the schema checks each
key alone). Each problem is one line: where, key, what is wrong, and the fix."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np

from ..core.keys import dotted as _dotted, split_key, suggest
from ..inputs import CheckContext
from ..inputs.base import scalar_values
from ..models import MODELS


def numeric_keys(cfg) -> dict[tuple, object]:
    """Every key that may vary per neuron, with its configured value: ``model.params.X``,
    ``model.init.X`` and each protocol's numeric fields (``input.F`` for a single protocol,
    ``input.I.F`` for a list; both spellings are accepted where a key is named)."""
    keys: dict[tuple, object] = {}
    for name, value in cfg.model.params.items():
        keys[("model", "params", name)] = value
    for name, value in cfg.model.init.items():
        keys[("model", "init", name)] = value
    for i, proto in enumerate(cfg.input):
        for f in proto.numeric:
            keys[("input", i, f)] = proto.value(f)
    return keys


def sweepable(cfg, model) -> set[tuple]:
    """Keys a sweep axis may name (canonical form)."""
    keys = {("model", "params", p) for p in model.params}
    keys |= {("model", "init", s) for s in model.states if model.states[s].integrated}
    for i, proto in enumerate(cfg.input):
        keys |= {("input", i, f) for f in proto.numeric}
    return keys


def canonical(path: tuple, cfg) -> tuple:
    """``input.F`` -> ``input.0.F`` when there is a single protocol."""
    if len(path) == 2 and path[0] == "input" and len(cfg.input) == 1:
        return ("input", 0, path[1])
    return path


#: domain -> the values (an array) outside it, for configured values and drawn ones alike
_OUTSIDE = {"positive": lambda x: x <= 0, "nonnegative": lambda x: x < 0,
            "fraction": lambda x: (x < 0) | (x > 1), "nonzero": lambda x: x == 0}
#: domain -> what a configured value outside it is told
_MUST = {"positive": "must be > 0", "nonnegative": "must be >= 0",
         "fraction": "must be in [0, 1] (a gating variable: the fraction of open gates)",
         "nonzero": "must not be 0: the equations divide by it"}


def _out_of_domain(value, domain) -> str | None:
    """A message when a configured value (scalar, list, linspace/uniform ends; for nonzero
    only the values it certainly takes) leaves its domain; ``normal`` generators are
    unbounded and not checked here."""
    if domain not in _OUTSIDE:
        return None
    vals = _elements(value) if domain == "nonzero" else scalar_values(value)
    if vals and _OUTSIDE[domain](np.asarray(vals, float)).any():
        return f"{_MUST[domain]}, got {value!r}"
    return None


def _elements(value) -> list[float]:
    """The values a configured value certainly takes: a scalar, a list's elements, the ends
    of a linspace (not of a uniform interval, which its draws only approach)."""
    if isinstance(value, dict) and "uniform" in value:
        return []
    return scalar_values(value)


def drawn_out_of_domain(path: tuple, spec, drawn, cfg, model) -> str | None:
    """A message when a ``normal`` generator (unbounded, so not checked at load) drew values
    outside the domain of its key (a negative time constant, a negative conductance jump),
    which would otherwise run and blow up or give a wrong result."""
    domain = _domain_of(path, cfg, model)
    if not (isinstance(spec, dict) and ("normal" in spec or domain == "nonzero")):
        return None
    if domain not in _OUTSIDE:
        return None
    drawn = np.asarray(drawn)
    bad = _OUTSIDE[domain](drawn)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    if domain == "nonzero":  # a linspace through 0 (its ends are checked at load)
        return (f"must not be 0: the equations divide by it; the generator {spec!r} gives 0 "
                f"for neuron {i}. Choose a range that does not reach 0")
    want = {"positive": "> 0", "nonnegative": ">= 0", "fraction": "in [0, 1]"}[domain]
    return (f"must be {want}; the generator {spec!r} drew {drawn[i]:g} for neuron {i} "
            f"({int(bad.sum())} of {drawn.size} neurons out of range). Use a uniform "
            f"generator within the range, or a smaller std")


def _window_problem(proto) -> str | None:
    """``stop`` must come after ``start`` wherever both are known before drawing."""
    if "start" not in proto.numeric or "stop" not in proto.numeric:
        return None
    start, stop = proto.value("start"), proto.value("stop")
    if stop is None or isinstance(start, dict) or isinstance(stop, dict):
        return None
    for a, b in _per_neuron_pairs(start, stop):
        if b < a:
            return f"stop {b:g} ms is before start {a:g} ms; swap them"
    return None


def _swept_window_problem(cfg, i: int, swept: dict) -> tuple[str | None, str | None]:
    """``(axis, problem)`` for a sweep that puts input ``i``'s stop before its start in some
    combination: pairs as in :func:`_swept_reset_problem` (a range by its ends, since stop
    minus start is linear along it), against each value of an unswept start or stop."""
    proto = cfg.input[i]
    keys = [("input", i, "start"), ("input", i, "stop")]
    if not any(k in swept for k in keys) or not {"start", "stop"} <= set(proto.numeric):
        return None, None
    both_zip = cfg.sweep.mode == "zip" and all(k in swept for k in keys)
    lists = both_zip and any(not hasattr(swept[k][1], "num") for k in keys)
    values = []
    for k in keys:
        if k in swept:
            v = swept[k][1]
            if hasattr(v, "num"):  # zipped with a list: its points, pair by pair
                v = np.linspace(v.start, v.stop, v.num) if lists else [v.start, v.stop]
            values.append([float(x) for x in v])
        else:
            v = proto.value(k[2])
            if v is None or isinstance(v, dict):  # to the end of the run, or drawn
                return None, None
            values.append(v if isinstance(v, list) else [v])
    axis = next(swept[k][0] for k in keys if k in swept)
    for a, b in (zip(*values) if both_zip else itertools.product(*values)):
        if b < a:
            return axis, (f"in a combination of this sweep stop {b:g} ms is before start "
                          f"{a:g} ms; make every stop come after its start")
    return None, None


def _per_neuron_pairs(a, b) -> list[tuple]:
    """The (a, b) pairs of each neuron for two values that are scalars or per-neuron lists
    (a scalar broadcasts); none where two lists differ in length, which is reported as a
    per-neuron list of the wrong length."""
    xs = a if isinstance(a, list) else [a]
    ys = b if isinstance(b, list) else [b]
    if len(xs) > 1 and len(ys) > 1 and len(xs) != len(ys):
        return []
    return list(zip(xs * (len(ys) if len(xs) == 1 else 1), ys * (len(xs) if len(ys) == 1 else 1)))


def _domain_of(path: tuple, cfg, model) -> str | None:
    if path[:2] == ("model", "params"):
        return model.params[path[2]].domain
    if path[0] == "input":
        proto = cfg.input[path[1]]
        if path[2] == "weight" and getattr(proto, "kind", None) == "conductance":
            return "nonnegative"  # a conductance jump (inputs.synapse): swept or drawn too
        return proto.domains.get(path[2])
    if path[:2] == ("model", "init"):
        return model.states[path[2]].domain
    return None


# -- switches ----------------------------------------------------------------------------
def normalise_switches(raw: dict) -> list[tuple[tuple, str]]:
    """Replace the names a switch parameter takes (``reset_mode: linear``, ``spike_reset:
    true``) by their numbers in ``raw``, in ``model.params`` and sweep axes, before the schema
    (which takes numbers) sees them. Returns ``[(path, message)]`` for names that are none of
    the choices; numbers are left for :func:`check_config`."""
    model = raw.get("model")
    mtype = model.get("type") if isinstance(model, dict) else None
    if not isinstance(mtype, str) or mtype not in MODELS:
        return []
    declared = MODELS[mtype].params
    problems: list[tuple[tuple, str]] = []

    def number(param, x, path):
        if isinstance(x, list):
            return [number(param, v, path) for v in x]
        for name, value in param.choices.items():
            if x is name or (isinstance(x, str) and isinstance(name, str) and x == name):
                return value
        if isinstance(x, (str, bool)):
            names = [str(k).lower() if isinstance(k, bool) else k for k in param.choices]
            problems.append((path, f"is a switch: it takes {', '.join(names)}, got {x!r}."
                                   f"{suggest(x, names)}"))
        return x

    params = model.get("params")
    if isinstance(params, dict):
        for name, value in params.items():
            if name in declared and declared[name].choices:
                params[name] = number(declared[name], value, ("model", "params", name))
    sweep = raw.get("sweep")
    axes = sweep.get("axes") if isinstance(sweep, dict) else None
    if isinstance(axes, dict):
        for axis, values in axes.items():
            path = split_key(axis) if isinstance(axis, str) else ()
            if (len(path) == 3 and path[:2] == ("model", "params") and path[2] in declared
                    and declared[path[2]].choices):
                axes[axis] = number(declared[path[2]], values, ("sweep", "axes", axis))
    return problems


def _switch_problem(param, value) -> str | None:
    names = ", ".join(str(k).lower() if isinstance(k, bool) else k for k in param.choices)
    allowed = set(param.choices.values())
    if not isinstance(value, (list, int, float)):  # a generator, or a sweep axis's range
        return f"is a switch: it takes {names}, not a generator or a range; list them"
    vals = value if isinstance(value, list) else [value]
    bad = [v for v in vals if v not in allowed]
    if bad:
        return (f"is a switch: it takes {names} (or their numbers "
                f"{', '.join(f'{v:g}' for v in sorted(allowed))}), got {bad[0]!r}")
    return None


def _reset_problem(model, params: dict, preset) -> str | None:
    """A reset at or above the threshold (scalars, per-neuron lists and the generators with
    bounds, see :func:`_bounding_pairs`): the neuron would spike again on every step it is
    free."""
    name, th = model.reset_param, model.threshold_param
    if name is None or (preset is not None and preset not in model.presets):
        return None
    values = {**model.defaults(preset), **params}
    if "reset_mode" in values and scalar_values(values["reset_mode"]) != [0]:
        return None  # a linear reset does not use v_reset
    for a, b in _bounding_pairs(values.get(name), values.get(th)):
        if a >= b:
            return (f"the reset {name} = {a:g} mV is not below the threshold {th} = {b:g} mV: "
                    f"the neuron would fire again on every step it is free. Set {name} "
                    f"below {th}")
    return None


def _bounding_pairs(a, b) -> list[tuple]:
    """Per-neuron pairs of two values, or pairs that bound them, without drawing: scalars and
    lists as :func:`_per_neuron_pairs`; ``{uniform: [lo, hi]}`` is drawn for each neuron on
    its own, so each end of its interval with each of the other's; ``{linspace: [x0, x1]}``
    is the neuron's place on the line, so its ends against the other's (a difference of two
    lines is largest at an end) or its values against a list's. None for ``{normal}``, which
    is unbounded."""
    def form(x):
        if isinstance(x, dict):
            ((kind, arg),) = x.items()
            return kind, (list(arg) if kind != "normal" else None)
        return "list", x if isinstance(x, list) else [x]

    (ka, xa), (kb, xb) = form(a), form(b)
    if xa is None or xb is None or None in xa + xb:
        return []
    if "uniform" in (ka, kb) or (len(xa) == 1 or len(xb) == 1) and "linspace" in (ka, kb):
        return list(itertools.product(xa, xb))
    if ka == kb == "linspace":
        return list(zip(xa, xb))
    if "linspace" in (ka, kb):  # against a per-neuron list: the line's values
        (x0, x1), n = (xa, len(xb)) if ka == "linspace" else (xb, len(xa))
        line = [x0 + (x1 - x0) * i / max(n - 1, 1) for i in range(n)]
        return list(zip(line, xb)) if ka == "linspace" else list(zip(xa, line))
    return _per_neuron_pairs(a, b)


def _swept_reset_problem(model, cfg, swept: dict) -> tuple[str | None, str | None]:
    """``(axis, problem)`` for a sweep that puts the reset at or above the threshold in some
    combination: every pair of the two axes' values in grid mode, pair by pair in zip mode
    (one axis swept: each of its values against the config's)."""
    keys = [("model", "params", model.reset_param), ("model", "params", model.threshold_param)]
    if not any(k in swept for k in keys):
        return None, None
    values = []
    for k in keys:
        if k in swept:
            v = swept[k][1]
            # a range's ends: reset minus threshold is linear along a range, so its largest
            # value over every pair (grid) or pair by pair (zip) is at an end
            values.append([float(x) for x in ([v.start, v.stop] if hasattr(v, "num") else v)])
        else:
            values.append([None])
    pairs = (list(zip(*values)) if cfg.sweep.mode == "zip" and all(k in swept for k in keys)
             else itertools.product(*values))
    axis = next(swept[k][0] for k in keys if k in swept)
    for reset, cut in pairs:
        params = dict(cfg.model.params)
        for k, x in zip(keys, (reset, cut)):
            if x is not None:
                params[k[2]] = x
        problem = _reset_problem(model, params, cfg.model.preset)
        if problem:
            return axis, f"in a combination of this sweep {problem[0].lower()}{problem[1:]}"
    return None, None


# -- what a run can afford ---------------------------------------------------------------
#: most steps in one run: each block's step count is a 32-bit integer in the compiled loop,
#: and the chunk bounds are listed up front; 2^31 steps of 0.1 ms are 60 hours of model time
MAX_STEPS = 2**31 - 1
#: smallest time step (ms): step edges are compared with a slack of 1e-9 ms
MIN_DT = 1e-6


def _memory_bytes() -> int:
    """Physical memory of this machine (bytes); a large number when unknown."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 50


def size_text(n: float) -> str:
    """A number of bytes in words: ``390.6 KB`` (also used by ``spikesim validate``)."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def estimate_bytes(n: int, n_per_neuron: int, itemsize: int, block_bytes: int) -> int:
    """Host and device memory a run of ``n`` neurons needs at least: each per-neuron array
    (state, parameters, the carry and its copy, recorded ids) and one block of outputs.
    Python integers, so it cannot overflow."""
    return 4 * n * n_per_neuron * itemsize + 8 * n + block_bytes


def check_config(cfg, raw, source) -> list[str]:
    out: list[str] = []

    def err(path, msg):
        out.append(f"{source.where(tuple(path))}: {_dotted(path)}: {msg}")

    # -- model ------------------------------------------------------------------------
    mtype = cfg.model.type
    model = cfg.model.model_class()
    if model is None:
        err(("model", "type"), f"unknown model {mtype[:60]!r}.{suggest(mtype, MODELS)} "
                               f"Models: {', '.join(MODELS)}, or equations (`spikesim models` "
                               f"describes them)")
        return out
    if cfg.model._built is not None:  # an equations model: named by its own name in messages
        mtype = f"{getattr(model, 'name', None) or mtype} (equations)"
    if cfg.model._built is None:
        for key in ("name", "file", "equations", "current", "threshold", "reset",
                    "refractory"):
            if getattr(cfg.model, key) is not None:
                err(("model", key), f"model.{key} belongs to type: equations; model {mtype} "
                                    f"is built in (its keys: preset, params, init)")
    elif cfg.simulation.spike_timing == "precise" and model.definition.precise_problem:
        err(("simulation", "spike_timing"), f"{model.definition.precise_problem}, or use "
                                            f"spike_timing: grid")
    if cfg.model.preset is not None and cfg.model.preset not in model.presets:
        err(("model", "preset"), f"model {mtype} has no preset {cfg.model.preset!r}."
            f"{suggest(cfg.model.preset, model.presets)} Presets: "
            f"{', '.join(model.presets) or 'none'}")
    for name, value in cfg.model.params.items():
        if name not in model.params:
            err(("model", "params", name), f"model {mtype} has no parameter {name!r}."
                f"{suggest(name, model.params)} Parameters: {', '.join(model.params)}")
            continue
        if model.params[name].choices:
            problem = _switch_problem(model.params[name], value)
        else:
            problem = _out_of_domain(value, model.params[name].domain)
        if problem:
            err(("model", "params", name), problem)
    problem = _reset_problem(model, cfg.model.params, cfg.model.preset)
    if problem:
        # at the key the user changed: the threshold's where only it is given, or where it
        # alone is overridden on the command line
        reset, cut = (("model", "params", k) for k in (model.reset_param,
                                                        model.threshold_param))
        given = [k for k in (reset, cut) if k[2] in cfg.model.params]
        given = [k for k in given if k in source.overrides] or given or [reset]
        err(given[0], problem)
    for name, value in cfg.model.init.items():
        if name not in model.states or not model.states[name].integrated:
            states = [s for s in model.states if model.states[s].integrated]
            err(("model", "init", name), f"model {mtype} has no state variable {name!r}."
                f"{suggest(name, states)} State variables: {', '.join(states)}")
        else:
            problem = _out_of_domain(value, model.states[name].domain)
            if problem:
                err(("model", "init", name), problem)
    integ = cfg.simulation.integrator
    if integ is not None and integ not in model.integrators():
        why = (" (it needs a conditionally linear variable; this model has none)"
               if integ == "exp_euler" else "")
        if integ == "exp_euler" and cfg.model._built is not None:
            why = (" (it needs a variable x whose dx/dt is linear in x, i.e. d(dx/dt)/dx "
                   "does not depend on x; none of these equations is)")
        err(("simulation", "integrator"), f"model {mtype} cannot use {integ}{why}. "
            f"Use one of: {', '.join(model.integrators())}")

    # -- time ---------------------------------------------------------------------------
    sim = cfg.simulation
    steps = sim.duration / sim.dt
    if sim.dt < MIN_DT:
        err(("simulation", "dt"), f"dt = {sim.dt:g} ms is below {MIN_DT:g} ms (1 ns), finer than "
                                  f"step edges are resolved; use a larger dt")
    elif steps > MAX_STEPS:
        err(("simulation", "duration"), f"duration / dt = {steps:.3g} steps; a run takes at most "
            f"{MAX_STEPS:,} steps. Shorten the duration, use a larger dt, or continue in "
            f"several runs with --init-from")
    if sim.duration < sim.dt:
        err(("simulation", "duration"), f"duration {sim.duration} ms is shorter than one step "
                                        f"(dt = {sim.dt} ms); make it >= dt")
    rec = cfg.record
    if rec.start > sim.duration:
        err(("record", "start"), f"recording starts at {rec.start} ms, after the run ends "
                                 f"({sim.duration} ms)")
    if rec.stop is not None and rec.stop < rec.start:
        err(("record", "stop"), f"recording stop {rec.stop} ms is before start {rec.start} ms")
    if rec.stop is not None and rec.stop > sim.duration:
        err(("record", "stop"), f"recording stop {rec.stop} ms is after the run ends "
                                f"({sim.duration} ms); use at most {sim.duration} or null")
    base = Path(source.file).parent if Path(source.file).is_file() else Path.cwd()
    ctx = CheckContext(sim.duration, sim.dt, cfg.population.size, base)
    single = isinstance(raw.get("input"), dict)
    swept_keys = {canonical(split_key(a), cfg) for a in cfg.sweep.axes} if cfg.sweep else set()
    for i, proto in enumerate(cfg.input):
        for f, msg in proto.check(ctx):
            err(("input", f) if single else ("input", i, f), msg)
        for f, domain in proto.domains.items():
            problem = _out_of_domain(proto.value(f), domain)
            if problem:
                err(("input", f) if single else ("input", i, f), problem)
        # a swept start or stop is checked with the sweep (the config's value is not used)
        problem = None if any(("input", i, f) in swept_keys for f in ("start", "stop")) else \
            _window_problem(proto)
        if problem:
            err(("input", "stop") if single else ("input", i, "stop"), problem)

    for i, proto in enumerate(cfg.input):
        # I = g (reversal - v): the model needs a membrane potential named v, in mV
        if proto.synaptic and proto.kind == "conductance" and (
                "v" not in model.states or model.states["v"].unit != "mV"):
            states = ", ".join(f"{k} ({model.states[k].unit})" for k in model.states
                               if model.states[k].integrated)
            err(("input", "kind") if single else ("input", i, "kind"),
                f"a conductance input drives the membrane potential v (mV), I = g (reversal "
                f"- v); model {mtype} has no such state (its states: {states}). Use kind: "
                f"current, or name the model's membrane potential v with unit mV")
    # -- recording ----------------------------------------------------------------------
    synaptic = [proto.variable(i) for i, proto in enumerate(cfg.input) if proto.synaptic]
    allowed = [s for s in model.states if model.states[s].integrated] + ["input"] + synaptic
    if cfg.model._built is not None:  # an equations model: its subexpressions too
        allowed = list(model.recordable()) + ["input"] + synaptic
    seen, twice = set(), set()
    for j, var in enumerate(rec.variables):
        if var in seen:
            if var not in twice:  # once, at its second place in the list
                err(("record", "variables", j), f"{var!r} is listed more than once; each "
                                                f"variable is recorded once, so keep one")
            twice.add(var)
        elif var not in allowed:
            err(("record", "variables", j), f"model {mtype} has no variable {var!r}."
                f"{suggest(var, allowed)} Recordable: {', '.join(allowed)}")
        seen.add(var)

    # -- analyses -----------------------------------------------------------------------
    rheobase = cfg.analysis.rheobase if cfg.analysis is not None else None
    if rheobase is not None and rheobase.range is None:
        # a given range is checked with the options; the default one is the model's
        from .analysis import default_range, tolerance_problem

        problem = tolerance_problem(rheobase.tolerance, *default_range(model.current_unit),
                                    f"the default range for {model.current_unit}")
        if problem:
            err(("analysis", "rheobase", "tolerance"), problem)

    # -- per-neuron values and sweeps ---------------------------------------------------
    size = cfg.population.size
    for path, value in numeric_keys(cfg).items():
        if isinstance(value, list) and len(value) != size:
            shown = path if not (path[0] == "input" and isinstance(raw.get("input"), dict)) \
                else ("input",) + path[2:]
            err(shown, f"a per-neuron list needs population.size = {size} values, got "
                       f"{len(value)}")
    n_total = size
    if cfg.sweep is not None:
        keys = sweepable(cfg, model)
        lengths = []
        spelled: dict[tuple, str] = {}
        for axis, values in cfg.sweep.axes.items():
            path = canonical(split_key(axis), cfg)
            if path in spelled:
                err(("sweep", "axes", axis), f"{axis!r} names the same key as the axis "
                    f"{spelled[path]!r}; keep one of them")
            spelled[path] = axis
            if path not in keys:
                names = sorted(_dotted(("input",) + k[2:] if k[0] == "input" and single else k)
                               for k in keys)
                err(("sweep", "axes", axis), f"{axis!r} is not a numeric key of this config."
                    f"{suggest(axis, names)} Sweepable keys: {', '.join(names)}")
            lengths.append(values.num if hasattr(values, "num") else len(values))
            if path in keys:
                pts = [values.start, values.stop] if hasattr(values, "num") else values
                switch = (model.params[path[2]] if path[:2] == ("model", "params")
                          and model.params[path[2]].choices else None)
                if switch is not None:  # the numbers a range would give are not choices
                    problem = _switch_problem(switch, values)
                elif (hasattr(values, "num") and _domain_of(path, cfg, model) == "nonzero"
                      and 0 in np.linspace(values.start, values.stop, values.num)):
                    problem = (f"must not be 0: the equations divide by it, and the range "
                               f"from {values.start:g} to {values.stop:g} in {values.num} "
                               f"points reaches 0. Choose a range that does not")
                else:
                    problem = _out_of_domain(list(pts), _domain_of(path, cfg, model))
                if problem:
                    err(("sweep", "axes", axis), problem)
                shown = path if not (path[0] == "input" and single) else ("input",) + path[2:]
                overridden = [p for p in dict.fromkeys((path, shown)) if p in source.overrides]
                if overridden:  # once, whichever spelling (input.F, input.0.F) the user wrote
                    err(overridden[0], f"{_dotted(shown)} is swept by sweep.axes.{axis}, so "
                                       f"this value would be ignored. Override the axis "
                                       f"instead: 'sweep.axes.{_dotted(shown)}=[...]'")
        if cfg.sweep.mode == "zip" and len(set(lengths)) > 1:
            err(("sweep", "axes"), f"zip mode needs axes of equal length, got {lengths}")
        elif model.reset_param is not None:
            swept = {path: (a, cfg.sweep.axes[a]) for path, a in spelled.items()}
            axis, problem = _swept_reset_problem(model, cfg, swept)
            if problem:
                err(("sweep", "axes", axis), problem)
        if not (cfg.sweep.mode == "zip" and len(set(lengths)) > 1):
            swept = {path: (a, cfg.sweep.axes[a]) for path, a in spelled.items()}
            for i in range(len(cfg.input)):
                axis, problem = _swept_window_problem(cfg, i, swept)
                if problem:
                    err(("sweep", "axes", axis), problem)
        n_total = size * (lengths[0] if cfg.sweep.mode == "zip" and lengths
                          else math.prod(lengths))
    # what the run can afford here: refuse before any array of n_total is made
    itemsize = 8 if sim.precision == "float64" else 4
    # a block is record.every steps (32 without variables); it holds one spike bit per neuron
    # and step, however few steps of it the run uses
    block = rec.every if rec.variables else 32
    n_rec = n_total if rec.neurons == "all" else (
        len(rec.neurons) if isinstance(rec.neurons, list) else
        min(rec.neurons.first, n_total) if hasattr(rec.neurons, "first")
        else -(-n_total // rec.neurons.every))
    block_bytes = (n_total * 4 * -(-block // 32) * rec.spikes
                   + len(rec.variables) * n_rec * itemsize * 2)
    need = estimate_bytes(n_total, len(model.states) + len(model.params), itemsize, block_bytes)
    have = _memory_bytes()
    if need > have and 2 * block_bytes > need and rec.variables:
        err(("record", "every"), f"one sample every {rec.every:,} steps: each block of that "
            f"many steps holds every neuron's spike bits, {size_text(block_bytes)} here, more "
            f"than this machine's {size_text(have)}. Use a smaller record.every (the run has "
            f"{min(steps, MAX_STEPS):,.0f} steps)")
    elif need > have:
        shown = (f"{n_total:,} neurons ({size:,} x {n_total // size:,} sweep combinations)"
                 if cfg.sweep is not None else f"{n_total:,} neurons")
        err(("population", "size") if cfg.sweep is None else ("sweep", "axes"),
            f"{shown} need at least {size_text(need)} of memory; this machine has "
            f"{size_text(have)}. "
            f"Make the population or the sweep smaller, or split it into several runs")
    if isinstance(rec.neurons, list):
        bad = [i for i in rec.neurons if i >= n_total]
        if bad:
            err(("record", "neurons"), f"neuron ids {bad} do not exist (the run has {n_total} "
                                       f"neurons, ids 0..{n_total - 1})")
    return out
