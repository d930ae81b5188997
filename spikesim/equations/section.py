"""The ``model:`` section of a config with ``type: equations`` (SPEC section 5): the model
file it names (``file:``, a path or the name of a shipped model), merged with the keys of the
config on top, built into a model class, and rewritten into one self-contained section.

The rewritten section holds every key inline (no ``file:``), so the resolved config of a run
(``validate``, the file's ``config`` attribute, ``run --from``) rebuilds the same model. A
parameter's unit is the one its value is written in (in the model file, else in the config);
a value given in the config for a parameter of the model file is converted to the file's
unit, and a bare number means that unit.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError
from ..core.keys import suggest

#: keys of an equations model (in the config's ``model:`` or in a model file)
MODEL_KEYS = ("name", "equations", "current", "params", "init", "threshold", "reset",
              "refractory")
#: keys only a model file has: where the model comes from
FILE_KEYS = ("summary", "citation")
LIBRARY = Path(__file__).resolve().parent.parent / "models" / "library"

_UNITS_MODELS: dict[str, type] = {}


def library() -> dict[str, Path]:
    """The shipped model files by name."""
    return {p.stem: p for p in sorted(LIBRARY.glob("*.yaml"))}


def declared(value) -> tuple[float | None, str]:
    """``(scalar value or None, unit)`` of a parameter as written: ``20 uF/cm2`` ->
    (20.0, "uF/cm2"); a bare number is a plain number (unit 1); a per-neuron value takes the
    unit of its first number."""
    from ..core.units import QUANTITY

    if isinstance(value, bool):
        raise ValueError(f"expected a number or '<number> <unit>', got {value!r}")
    if isinstance(value, (int, float)):
        return float(value), "1"
    if isinstance(value, str):
        m = QUANTITY.match(value.strip())
        if not m:
            raise ValueError(f"expected a number or '<number> <unit>' such as '20 uF/cm2', "
                             f"got {value[:60]!r}")
        return float(m.group(1)), (m.group(2).strip() or "1")
    if isinstance(value, list) and value:
        return None, declared(value[0])[1]
    if isinstance(value, dict) and len(value) == 1:
        (kind, arg), = value.items()
        first = (arg[0] if isinstance(arg, list) and arg else
                 next(iter(arg.values()), None) if isinstance(arg, dict) else None)
        if first is not None:
            return None, declared(first)[1]
    raise ValueError(f"expected a number, '<number> <unit>', a per-neuron list or a "
                     f"generator, got {str(value)[:60]!r}")


def _zero(value) -> bool:
    """Whether a parameter's value as written takes 0 for certain: a scalar, an element of
    a list, an end of a linspace (``0``, ``"0 ms"``, ``[1 ms, 0 ms]``)."""
    from ..core.units import QUANTITY

    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("linspace"), list):
        value = value["linspace"]
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, str):
            m = QUANTITY.match(v.strip())
            v = float(m.group(1)) if m else None
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0:
            return True
    return False


def _units_key(section: dict) -> str:
    params = section.get("params") if isinstance(section.get("params"), dict) else {}
    units = {}
    for k, v in params.items():
        try:
            units[k] = declared(v)[1]
        except ValueError:
            units[k] = None
    keys = {k: section.get(k) for k in MODEL_KEYS if k not in ("params", "init")}
    return json.dumps([keys, units], sort_keys=True, default=str)


def _line_of(where: str, offset: int, first: int | None) -> str:
    """``where`` (the equations key's ``file:line``) for line ``offset`` of the equations:
    line ``first + offset`` of the file for a literal block (``first``: the line of its first
    line), else the key's line (a quoted text's lines are no lines of the file)."""
    if first is None or where.startswith("override") or ":" not in where:
        return where
    file, _, line = where.rpartition(":")
    if not line.isdigit():
        return where
    return f"{file}:{first + offset}"


def _read_file(ref, where: str):
    from ..core.source import read_yaml
    from ..errors import UsageError

    if not isinstance(ref, str) or not ref.strip():
        raise ConfigError(f"{where}: model.file: expected the path of a model file or the "
                          f"name of a shipped one ({', '.join(library())})")
    lib = library()
    path = Path(ref)
    if ref in lib:
        path = lib[ref]
    elif not path.is_absolute():
        base = where.rpartition(":")[0] if ":" in where else ""
        base_dir = Path(base).parent if base and Path(base).is_file() else Path.cwd()
        path = base_dir / path
    if not path.exists():
        raise ConfigError(f"{where}: model.file: no model file {ref!r} (looked for {path})."
                          f"{suggest(ref, lib)} Shipped models: {', '.join(lib)}; or give "
                          f"the path of a YAML file with equations, params, init, ...")
    try:
        data, src = read_yaml(path)
    except UsageError as e:
        raise ConfigError(f"{where}: model.file: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: a model file is a mapping (equations:, params:, ...)")
    return data, src, path


def expand(raw: dict, source) -> type | None:
    """For ``model.type: equations``: build the model and rewrite ``raw["model"]`` in place
    (module docstring); returns the model class, or None for a built-in model."""
    section = raw.get("model")
    if not isinstance(section, dict) or section.get("type") != "equations":
        return None
    from .build import Spec, build
    from .codegen import model_class

    problems = []
    allowed = ("type", "file") + MODEL_KEYS
    for key in section:
        if key not in allowed:
            hint = (" Equations models have no presets: put the values in params."
                    if key == "preset" else suggest(key, allowed))
            problems.append(f"{source.where(('model', key))}: model.{key}: unknown key "
                            f"{key!r} for type: equations.{hint} Allowed: {', '.join(allowed)}")
    if problems:
        raise ConfigError(problems)

    # key -> (value, where(path) function, the path of the key in its file)
    file_data, file_src, file_path = {}, None, None
    if section.get("file") is not None:
        file_data, file_src, file_path = _read_file(section["file"],
                                                    source.where(("model", "file")))
        for key in file_data:
            if key not in MODEL_KEYS + FILE_KEYS + ("type",):
                problems.append(f"{file_src.where((key,))}: {key}: unknown key in a model "
                                f"file.{suggest(key, MODEL_KEYS + FILE_KEYS)} Allowed: "
                                f"{', '.join(MODEL_KEYS + FILE_KEYS)}")
        if file_data.get("type", "equations") != "equations":
            problems.append(f"{file_src.where(('type',))}: type: a model file holds an "
                            f"equations model (type: equations, or no type)")
        if problems:
            raise ConfigError(problems)

    def pick(key):
        """(value, where function for paths under model.KEY) from the config or the file."""
        if key in section:
            return section[key], lambda path: source.where(path)
        if key in file_data:
            return file_data[key], lambda path: file_src.where(path[1:])
        return None, lambda path: source.where(("model",))

    def where(path):
        key = path[1] if len(path) > 1 else None
        if len(path) > 2 and path[1] in ("params", "init"):
            if path[2] in (section.get(path[1]) or {}):
                return source.where(path)
            if path[2] in (file_data.get(path[1]) or {}):
                return file_src.where(path[1:])
        return pick(key)[1](path) if key else source.where(path)

    eq_text, eq_where = pick("equations")
    if eq_text is None:
        raise ConfigError(f"{source.where(('model',))}: model.equations: an equations model "
                          f"needs equations (or file: a model file that has them), e.g. "
                          f"'dv/dt = (v_rest - v)/tau : mV'")
    eq_base = eq_where(("model", "equations"))
    eq_src, eq_path = ((source, ("model", "equations")) if "equations" in section
                       else (file_src, ("equations",)))
    first = (None if eq_base.startswith("override")
             else getattr(eq_src, "literal", {}).get(eq_path))
    # several lines that are not a literal block: say which one (the line is the key's)
    several = first is None and isinstance(eq_text, str) and "\n" in eq_text.strip("\n")

    # parameters: declared in the file (or, without one, in the config)
    file_params = file_data.get("params") or {}
    conf_params = section.get("params") or {}
    for what, values, w in (("params", file_params, file_src), ("params", conf_params, None),
                            ("init", file_data.get("init") or {}, file_src),
                            ("init", section.get("init") or {}, None)):
        if not isinstance(values, dict):
            at = w.where((what,)) if w else source.where(("model", what))
            problems.append(f"{at}: model.{what}: expected a mapping name: value")
    if problems:
        raise ConfigError(problems)
    params = {}
    for name, value in file_params.items():
        try:
            params[name] = declared(value)
        except ValueError as e:
            problems.append(f"{file_src.where(('params', name))}: params.{name}: {e}")
    for name, value in conf_params.items():
        if file_path is not None and name not in file_params:
            problems.append(f"{source.where(('model', 'params', name))}: model.params.{name}: "
                            f"the model file {file_path.name} has no parameter {name!r}."
                            f"{suggest(name, file_params)} Parameters: "
                            f"{', '.join(file_params)}")
            continue
        try:
            d = declared(value)
            params[name] = d if file_path is None else params[name]
        except ValueError as e:
            problems.append(f"{source.where(('model', 'params', name))}: model.params.{name}: {e}")
    if problems:
        raise ConfigError(problems)
    init = {**(file_data.get("init") or {}), **(section.get("init") or {})}

    cur, _ = pick("current")
    current = None
    if cur is not None:
        if isinstance(cur, dict) and cur.get("unit") == 1 and not isinstance(cur["unit"], bool):
            cur = {**cur, "unit": "1"}  # YAML's 1 is a number: a plain current, as ': 1' writes it
        if (not isinstance(cur, dict) or set(cur) != {"name", "unit"}
                or not all(isinstance(cur[k], str) for k in cur)):
            raise ConfigError(f"{where(('model', 'current'))}: model.current: expected "
                              f"{{name: I, unit: uA/cm2}}: the name of the injected current in "
                              f"the equations and its unit, got {str(cur)[:80]}")
        current = (cur["name"], cur["unit"])
    name = pick("name")[0] or (file_path.stem if file_path else "equations")
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"{where(('model', 'name'))}: model.name: expected a name of "
                          f"letters, digits and _, got {name!r}")
    record = raw.get("record")
    rec_vars = record.get("variables") if isinstance(record, dict) else None
    # the names, kept at their index for where_record (a name that is not text is the
    # schema's to refuse)
    rec_vars = tuple(v if isinstance(v, str) else None for v in rec_vars) if isinstance(
        rec_vars, list) else ()
    spec = Spec(
        name=name, equations=eq_text, where=where,
        where_line=lambda off: _line_of(eq_base, off, first),
        line_note=(lambda off: f"line {off + 1} of the equations: ") if several else None,
        current=current, params=params, init=init, threshold=pick("threshold")[0],
        reset=pick("reset")[0], refractory=pick("refractory")[0], record=rec_vars,
        where_record=lambda i: source.where(("record", "variables", i)),
        file_params=frozenset(file_params),
        summary=str(file_data.get("summary") or ""), citation=str(file_data.get("citation")
                                                                  or ""))
    cls = model_class(build(spec))
    for p, line in cls.definition.divisors.items():  # a 0 that dx/dt divides by
        value = conf_params.get(p, file_params.get(p))
        if _zero(value):
            at, key = ((source.where(("model", "params", p)), f"model.params.{p}")
                       if p in conf_params else (file_src.where(("params", p)), f"params.{p}"))
            problems.append(f"{at}: {key}: must not be 0: the equation of {line} divides by "
                            f"it (dx/dt would be infinite), got {value!r}")
    if problems:
        raise ConfigError(problems)
    if current is None and raw.get("input") not in (None, []):  # [] in a resolved config
        # the input protocols would add up to a current that no equation can take
        raise ConfigError(f"{source.where(('input',))}: input: model {name} declares no "
                          f"injected current, so the input would reach nothing: declare it "
                          f"(model.current: {{name: I, unit: nA}}) and use it in the "
                          f"equations, or remove input")
    # the section, inline: parameter values as written, in the file's units where a bare
    # number overrides a file value
    values = {p: conf_params.get(p, file_params.get(p)) for p in params}
    section.clear()
    section.update({"type": "equations", "name": name, "equations": eq_text,
                    "current": None if current is None else {"name": current[0],
                                                             "unit": current[1]},
                    "threshold": spec.threshold, "reset": spec.reset,
                    "refractory": spec.refractory, "params": values,
                    # initial values written as expressions stay in the model class: the
                    # config's init holds numbers (per neuron), as for any model
                    "init": {k: v for k, v in init.items()
                             if k not in cls.definition.derived_init}})
    _UNITS_MODELS[_units_key(section)] = cls
    return cls


def units_model(section) -> type | None:
    """The model class whose declarations give the units of an equations ``section``
    (expanded, or as in a resolved config); None where it does not build."""
    if not isinstance(section, dict) or section.get("type") != "equations":
        return None
    key = _units_key(section)
    if key not in _UNITS_MODELS:
        from ..core.source import Source

        try:
            copy = json.loads(json.dumps(section, default=str))
            _UNITS_MODELS[key] = expand({"model": copy}, Source("<config>"))
        except (ConfigError, ValueError, TypeError):
            return None
    return _UNITS_MODELS[key]


def resolved(cls, params: dict, dumped: dict) -> dict:
    """The ``model`` section of a resolved config: ``dumped`` (numbers in declared units)
    with each parameter's unit written beside its value, so that it rebuilds the model."""
    out = dict(dumped)
    out.pop("preset", None)
    out.pop("file", None)
    d = cls.definition

    def q(v, unit):
        if unit == "1" or v is None or isinstance(v, str):
            return v
        if isinstance(v, list):
            return [q(x, unit) for x in v]
        if isinstance(v, dict):
            return {k: q(x, unit) for k, x in v.items()}
        return f"{v!r} {unit}"

    out["params"] = {p: q(dumped["params"].get(p, d.param_defaults[p]), d.param_units[p])
                     for p in d.param_units}
    out["init"] = {x: d.derived_text[x] if x in d.derived_text and x not in dumped["init"]
                   else q(dumped["init"].get(x, d.init.get(x)), d.state_units[x])
                   for x in d.odes}
    return out


def describe(cls, params: dict | None = None) -> list[str]:
    """The parsed model in words (``spikesim validate``); ``params``: the run's values (a
    number or one per neuron, in the declared units), shown in place of the defaults, which
    are a model file's where the config overrides them, and NaN where per neuron."""
    import numpy as np

    d = cls.definition

    def value(p):
        v = np.asarray(d.param_defaults[p] if params is None or p not in params else params[p],
                       dtype=float)
        if v.size > 1 and np.any(v != v.flat[0]):
            return f"{v.min():g} .. {v.max():g}", " (per neuron)"
        return f"{v.flat[0]:g}", ""
    out = [f"equations model {d.name}" + (f": {d.summary}" if d.summary and d.summary !=
                                          f"equations model {d.name}" else "")]
    for ln in d.lines:
        what = "state" if ln.kind == "ode" else "subexpression"
        extra = ""
        if ln.kind == "ode":
            extra = ", exp_euler: exact (conditionally linear)" if ln.name in d.linear else \
                ", exp_euler: Euler"
        out.append(f"  {what:13s} {ln.name} [{ln.unit}]{extra}")
    for p, u in d.param_units.items():
        v, per = value(p)
        out.append(f"  parameter     {p} = {v} {u if u != '1' else ''}".rstrip() + per)
    if d.current_name:
        out.append(f"  current       {d.current_name} [{d.current_unit}]")
    out.append(f"  threshold     {d.threshold_text}")
    if d.reset:
        out.append(f"  reset         {d.reset_text.strip()}")
    if d.refractory is not None:
        out.append(f"  refractory    {d.refractory}" + (" ms" if not isinstance(d.refractory,
                                                                             str) else ""))
    return out


__all__ = ["expand", "units_model", "resolved", "describe", "library"]
