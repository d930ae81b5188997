"""Values with units in a config (SPEC section 4), converted before validation.

:func:`convert_config` walks the raw mapping (after ``KEY=VALUE`` overrides) and replaces every
``"<number> <unit>"`` string in a field that declares a unit by the number in that unit
(:func:`spikesim.core.units.convert`). So the schema, the checks, the resolved config (``validate``,
the file's ``config`` attribute) and the compiled loop only ever see plain numbers in the
declared units; a bare number is left untouched.

Declared units come from one place each:

* ``model.params.X`` and ``model.init.X``: the model's ``Param.unit`` / ``StateVar.unit``;
* input fields: the protocol's field (``Quantity`` in ``spikesim/inputs/*.py``), with
  ``<model current unit>`` standing for the model's ``current_unit``;
* ``simulation.duration``/``dt``, ``record.start``/``stop``: their fields in
  :mod:`spikesim.config.schema`;
* a sweep axis (a list of values or ``{start, stop}``): the unit of the key it sweeps.

A per-neuron value may carry units in each of its numbers: ``[1 nA, 2 nA]``,
``{linspace: [0 nA, 2 nA]}``, ``{uniform: [...]}``, ``{normal: {mean: .., std: ..}}``.
"""

from __future__ import annotations

from typing import Any

from ..core.units import MODEL_CONDUCTANCE, MODEL_CURRENT, UnitError, convert, field_unit, resolve, widen

Path_ = tuple


def _protocol_units(proto, current_unit: str, raw: dict | None = None) -> dict[str, str]:
    """Config name -> declared unit of a protocol's fields (``raw``: the protocol as written,
    for units that depend on its other fields, e.g. a synapse's ``weight`` on ``kind``)."""
    out = {}
    for attr, info in proto.model_fields.items():
        unit = field_unit(info)
        if unit is not None:
            out[info.alias or attr] = resolve(unit, current_unit)
    for name, unit in proto.declared_units(raw or {}).items():
        out[name] = resolve(unit, current_unit)
    return out


def _section_units(cls) -> dict[str, str]:
    return {name: u for name, info in cls.model_fields.items()
            if (u := field_unit(info)) is not None}


def key_units(raw: dict) -> dict[tuple, tuple[str, str | None]]:
    """Every key of ``raw`` that has a unit: path -> (unit, owner) where owner names who
    declares it (the model, for its parameters and currents) for messages."""
    from ..inputs import PROTOCOLS
    from ..models import MODELS
    from .schema import RecordSection, SimulationSection

    out: dict[tuple, tuple[str, str | None]] = {}
    for section, cls in (("simulation", SimulationSection), ("record", RecordSection)):
        for name, unit in _section_units(cls).items():
            out[(section, name)] = (unit, None)
    model_sec = raw.get("model")
    mtype = model_sec.get("type") if isinstance(model_sec, dict) else None
    model = MODELS.get(mtype) if isinstance(mtype, str) else None
    if mtype == "equations":
        from ..equations import units_model

        model = units_model(model_sec)
    if model is None:
        return out
    for name, p in model.params.items():
        out[("model", "params", name)] = (p.unit, model.name)
    for name, s in model.states.items():
        if s.integrated:  # bookkeeping state (a refractory counter) is not configurable
            out[("model", "init", name)] = (s.unit, model.name)
    analysis = raw.get("analysis")
    if isinstance(analysis, dict):
        from .analysis import SECTIONS

        for kind, cls in SECTIONS.items():
            for name, unit in _section_units(cls).items():
                out[("analysis", kind, name)] = (resolve(unit, model.current_unit),
                                                  model.name if MODEL_CURRENT in unit else None)
    inputs = raw.get("input")
    single = isinstance(inputs, dict)
    for i, proto in enumerate([inputs] if single else inputs if isinstance(inputs, list) else []):
        kind = proto.get("type") if isinstance(proto, dict) else None
        cls = PROTOCOLS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            continue
        declared = {**{n: _declared(cls, n) for n in _protocol_units(cls, "")},
                    **cls.declared_units(proto)}
        for name, unit in _protocol_units(cls, model.current_unit, proto).items():
            who = (model.name if MODEL_CURRENT in declared[name]
                   or MODEL_CONDUCTANCE in declared[name] else None)
            out[("input", name) if single else ("input", i, name)] = (unit, who)
            if single or len(inputs) == 1:  # input.F and input.0.F name the same key
                out[("input", 0, name)] = out[("input", name)] = (unit, who)
    return out


def _declared(cls, name: str) -> str:
    for attr, info in cls.model_fields.items():
        if (info.alias or attr) == name:
            return field_unit(info) or ""
    return ""


def _per_neuron(value: Any, unit: str, owner) -> Any:
    """Convert every number of a scalar, list or generator."""
    if isinstance(value, list):
        return [convert(v, unit, owner) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (kind, arg), = value.items()
        if kind in ("linspace", "uniform") and isinstance(arg, list):
            return {kind: [convert(v, unit, owner) for v in arg]}
        if kind == "normal" and isinstance(arg, dict):
            return {kind: {k: convert(v, unit, owner) for k, v in arg.items()}}
        return value
    return convert(value, unit, owner)


def convert_config(raw: dict, source) -> list[str]:
    """Convert, in place, every quantity string of ``raw`` to its declared unit; returns the
    problems (one line each, ``file:line: key: message``)."""
    from ..core.keys import dotted as _dotted, split_key

    problems: list[str] = []
    units = key_units(raw)

    def at(path, parent, key):
        unit, owner = units[path]
        try:
            parent[key] = _per_neuron(parent[key], unit, owner)
        except UnitError as e:
            problems.append(f"{source.where(path)}: {_dotted(path)}: {e}")

    for path in units:
        parent = _node(raw, path[:-1])
        if isinstance(parent, dict) and path[-1] in parent:
            at(path, parent, path[-1])
    if key_units_known(raw):
        # a key the model lacks (``model.params.g_KK: 3 mS/cm2``) has no declared unit; keep
        # the number, so that the checks report the unknown name (with a did-you-mean), not
        # "expected a number"; such a key is always an error, so its value is never used
        for section in ("params", "init"):
            values = _node(raw, ("model", section))
            if isinstance(values, dict):
                for name in values:
                    if ("model", section, name) not in units:
                        values[name] = _numbers_only(values[name])
    sweep = raw.get("sweep")
    axes = sweep.get("axes") if isinstance(sweep, dict) else None
    if isinstance(axes, dict):
        for axis, spec in axes.items():
            key = split_key(axis) if isinstance(axis, str) else (axis,)
            if key not in units:  # not a key of this config: the checks say so, by name
                axes[axis] = _numbers_only(spec)
                continue
            unit, owner = units[key]
            path = ("sweep", "axes", axis)
            try:
                if isinstance(spec, list):
                    axes[axis] = [convert(v, unit, owner) for v in spec]
                elif isinstance(spec, dict):
                    for end in ("start", "stop"):
                        if end in spec:
                            spec[end] = convert(spec[end], unit, owner)
            except UnitError as e:
                problems.append(f"{source.where(path)}: {_dotted(path)}: {e}")
    return problems


def key_units_known(raw: dict) -> bool:
    """True when the config names a known model (so its keys' units are known)."""
    from ..models import MODELS

    m = raw.get("model")
    return isinstance(m, dict) and isinstance(m.get("type"), str) and (
        m["type"] in MODELS or m["type"] == "equations")


def _numbers_only(value):
    """``"3 mS/cm2"`` -> 3.0 wherever it occurs in a value; anything else as it is."""
    from ..core.units import QUANTITY

    if isinstance(value, str):
        m = QUANTITY.match(value.strip())
        return float(m.group(1)) if m else value
    if isinstance(value, list):
        return [_numbers_only(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers_only(v) for k, v in value.items()}
    return value


def _node(raw: dict, path: tuple):
    node: Any = raw
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def config_units(config: dict) -> dict[str, str]:
    """Dotted key -> declared unit of every key of a (resolved) config that has one, both
    spellings of a single protocol's keys (``input.F`` and ``input.0.F``) included: the
    file's ``units`` attribute, and the ``units`` of its ``/neurons`` datasets."""
    from ..core.keys import dotted as _dotted

    return {_dotted(k): unit for k, (unit, _) in key_units(config).items()}


def schema_with_units(schema: dict) -> dict:
    """Add to the JSON schema of the config, for each model, its parameters and initial
    values with their units and defaults (``if model.type == X then ...``), so that an editor
    completes ``model.params`` and shows each unit; and the model's current unit, which the
    input fields marked ``<model current unit>`` take."""
    from ..models import MODELS

    def number(unit, doc, default=None):
        s = {"type": "number", "unit": unit, "description": f"{doc} ({unit})"}
        if default is not None:
            s["default"] = default
        widen(s)
        return s

    rules = []
    for name, m in MODELS.items():
        params = {k: _switch(p) if p.choices else
                  {**_per_neuron_ref(), "unit": p.unit, "default": p.default,
                   "description": f"{p.doc} ({p.unit}); {_per_neuron_ref()['description']}"}
                  for k, p in m.params.items()}
        init = {k: number(s.unit, s.doc, s.init) for k, s in m.states.items() if s.integrated}
        rules.append({
            "if": {"properties": {"model": {"properties": {"type": {"const": name}}}}},
            "then": {"properties": {"model": {
                "description": f"{name}: currents in {m.current_unit}",
                "properties": {
                    "params": {"properties": params, "additionalProperties": False},
                    "init": {"properties": init, "additionalProperties": False}}}}}})
    schema.setdefault("allOf", []).extend(rules)
    # the model-independent rule for every parameter must let the switches' names through
    # too (the per-model rules above say which parameter takes which)
    names = {"enum": list(dict.fromkeys(c for m in MODELS.values() for p in m.params.values()
                                        for c in (p.choices or {})))}
    section = schema.get("$defs", {}).get("ModelSection", {}).get("properties", {})
    values = section.get("params", {}).get("additionalProperties", {}).get("anyOf", [])
    for v in values:
        if v.get("type") == "array":
            v["items"].setdefault("anyOf", []).append(names)
    values.append(names)
    # ``input`` is one protocol or a list of them (the loader wraps a single one)
    inp = schema.get("properties", {}).get("input")
    if isinstance(inp, dict) and inp.get("type") == "array" and "items" in inp:
        items = inp["items"]
        schema["properties"]["input"] = {
            "description": inp.get("description", ""),
            "anyOf": [{k: v for k, v in inp.items() if k != "description"}, items]}
    schema["x-current-units"] = {name: m.current_unit for name, m in MODELS.items()}
    _standard_bounds(schema)
    return schema


#: JSON Schema's names of the bounds that pydantic leaves under its own where a number is
#: validated by a function first (``Float | None = Field(None, gt=0)``, a list's items)
_BOUNDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


def _standard_bounds(node) -> None:
    if isinstance(node, dict):
        if node.get("type") in ("number", "integer"):
            for k, v in _BOUNDS.items():
                if k in node:
                    node[v] = node.pop(k)
        for v in node.values():
            _standard_bounds(v)
    elif isinstance(node, list):
        for v in node:
            _standard_bounds(v)


def _switch(p) -> dict:
    """A switch parameter: one of its names (JSON true/false for the boolean ones) or their
    numbers, for all neurons or as a list per neuron."""
    one = {"enum": [*p.choices, *sorted(set(p.choices.values()))]}
    names = " | ".join(str(c).lower() if isinstance(c, bool) else c for c in p.choices)
    return {"anyOf": [one, {"type": "array", "items": one, "minItems": 1}], "unit": p.unit,
            "default": p.choice_name(p.default),
            "description": f"{p.doc}: {names}"}


def _per_neuron_ref() -> dict:
    from ..core.fields import _PER_NEURON_SCHEMA

    return _PER_NEURON_SCHEMA
