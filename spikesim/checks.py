"""Checks that need the model, the duration or several keys at once (the schema checks each
key alone). Each problem is one line: where, key, what is wrong, and the fix."""

from __future__ import annotations

import math
from pathlib import Path

from .keys import dotted as _dotted, split_key, suggest
from .inputs import CheckContext
from .inputs.base import scalar_values
from .models import MODELS


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


def _out_of_domain(value, domain) -> str | None:
    """A message when a configured value (scalar, list, linspace/uniform ends) leaves its
    domain; ``normal`` generators are unbounded and not checked here."""
    vals = scalar_values(value)
    if domain == "positive" and any(v <= 0 for v in vals):
        return f"must be > 0, got {value!r}"
    if domain == "nonnegative" and any(v < 0 for v in vals):
        return f"must be >= 0, got {value!r}"
    return None


def _domain_of(path: tuple, cfg, model) -> str | None:
    if path[:2] == ("model", "params"):
        return model.params[path[2]].domain
    if path[0] == "input":
        return cfg.input[path[1]].domains.get(path[2])
    return None


def check_config(cfg, raw, source) -> list[str]:
    out: list[str] = []

    def err(path, msg):
        out.append(f"{source.where(tuple(path))}: {_dotted(path)}: {msg}")

    # -- model ------------------------------------------------------------------------
    mtype = cfg.model.type
    if mtype not in MODELS:
        err(("model", "type"), f"unknown model {mtype!r}.{suggest(mtype, MODELS)} "
                               f"Models: {', '.join(MODELS)} (`spikesim models` describes them)")
        return out
    model = MODELS[mtype]
    if cfg.model.preset is not None and cfg.model.preset not in model.presets:
        err(("model", "preset"), f"model {mtype} has no preset {cfg.model.preset!r}."
            f"{suggest(cfg.model.preset, model.presets)} Presets: "
            f"{', '.join(model.presets) or 'none'}")
    for name, value in cfg.model.params.items():
        if name not in model.params:
            err(("model", "params", name), f"model {mtype} has no parameter {name!r}."
                f"{suggest(name, model.params)} Parameters: {', '.join(model.params)}")
            continue
        problem = _out_of_domain(value, model.params[name].domain)
        if problem:
            err(("model", "params", name), problem)
    for name in cfg.model.init:
        if name not in model.states or not model.states[name].integrated:
            states = [s for s in model.states if model.states[s].integrated]
            err(("model", "init", name), f"model {mtype} has no state variable {name!r}."
                f"{suggest(name, states)} State variables: {', '.join(states)}")
    integ = cfg.simulation.integrator
    if integ is not None and integ not in model.integrators():
        why = (" (it needs a conditionally linear variable; this model has none)"
               if integ == "exp_euler" else "")
        err(("simulation", "integrator"), f"model {mtype} cannot use {integ}{why}. "
            f"Use one of: {', '.join(model.integrators())}")

    # -- time ---------------------------------------------------------------------------
    sim = cfg.simulation
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
    for i, proto in enumerate(cfg.input):
        for f, msg in proto.check(ctx):
            err(("input", f) if single else ("input", i, f), msg)
        for f, domain in proto.domains.items():
            problem = _out_of_domain(proto.value(f), domain)
            if problem:
                err(("input", f) if single else ("input", i, f), problem)

    # -- recording ----------------------------------------------------------------------
    allowed = [s for s in model.states if model.states[s].integrated] + ["input"]
    for j, var in enumerate(rec.variables):
        if var not in allowed:
            err(("record", "variables", j), f"model {mtype} has no variable {var!r}."
                f"{suggest(var, allowed)} Recordable: {', '.join(allowed)}")

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
        for axis, values in cfg.sweep.axes.items():
            path = canonical(split_key(axis), cfg)
            if path not in keys:
                names = sorted(_dotted(("input",) + k[2:] if k[0] == "input" and single else k)
                               for k in keys)
                err(("sweep", "axes", axis), f"{axis!r} is not a numeric key of this config."
                    f"{suggest(axis, names)} Sweepable keys: {', '.join(names)}")
            lengths.append(values.num if hasattr(values, "num") else len(values))
            if path in keys:
                pts = [values.start, values.stop] if hasattr(values, "num") else values
                problem = _out_of_domain(list(pts), _domain_of(path, cfg, model))
                if problem:
                    err(("sweep", "axes", axis), problem)
                shown = path if not (path[0] == "input" and single) else ("input",) + path[2:]
                for p in (path, shown):
                    if p in source.overrides:
                        err(p, f"{_dotted(shown)} is swept by sweep.axes.{axis}, so this value "
                               f"would be ignored. Override the axis instead: "
                               f"'sweep.axes.{_dotted(shown)}=[...]'")
        if cfg.sweep.mode == "zip" and len(set(lengths)) > 1:
            err(("sweep", "axes"), f"zip mode needs axes of equal length, got {lengths}")
        n_total = size * (lengths[0] if cfg.sweep.mode == "zip" and lengths
                          else math.prod(lengths))
    if isinstance(rec.neurons, list):
        bad = [i for i in rec.neurons if i >= n_total]
        if bad:
            err(("record", "neurons"), f"neuron ids {bad} do not exist (the run has {n_total} "
                                       f"neurons, ids 0..{n_total - 1})")
    return out
