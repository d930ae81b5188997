"""Loading a config: YAML with line numbers, ``KEY=VALUE`` overrides, schema validation and
the model-dependent checks. Every problem becomes a :class:`ConfigError` line naming the file,
the line, the key path, what was expected and what was got; nothing is compiled or written
before a config passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, UsageError
from ..core import yamltext
from ..core.keys import closest, dotted as _dotted, split_key, suggest
from ..core.source import Source, read_yaml, short as _short
from ..inputs import PROTOCOLS
from .schema import config_class

Path_ = tuple  # a key path: tuple of str and int


@dataclass
class LoadedConfig:
    """A validated config: the raw mapping (after overrides), the validated object and where
    each key came from."""

    raw: dict
    cfg: Any
    source: Source
    overrides: list[str]


# -- overrides --------------------------------------------------------------------------
def apply_overrides(data: dict, overrides: list[str], source: Source) -> dict:
    for item in overrides:
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:  # argv bytes that are not UTF-8 (surrogate escapes)
            raise UsageError(f"override {_short(item)!r} holds bytes that are not UTF-8 text "
                             f"(a terminal or script in another encoding?); type it again as "
                             f"UTF-8") from None
        if "=" not in item:
            raise UsageError(f"override {_short(item)!r} must be KEY=VALUE, e.g. "
                             f"input.amplitude=12.5 "
                             f"or model.params.g_K=[30,36]")
        key, text = item.split("=", 1)
        if not key or key.startswith(".") or key.endswith(".") or ".." in key:
            raise UsageError(f"override {_short(item)!r}: {key!r} is not a dotted key path")
        try:
            value, node = (yamltext.parse(text, yamltext.MAX_VALUE_CHARS) if text.strip()
                           else (None, None))
        except yamltext.YAMLProblem as e:
            raise UsageError(f"override {_short(item)!r}: VALUE is not valid YAML ({e.problem})."
                             f" Quote it for the shell, e.g. 'key=[1, 2]'") from None
        duplicates: list[str] = []
        if node is not None:
            yamltext.line_map(node, duplicates)  # ":LINE: KEY: duplicate key; keep one of them"
        if duplicates:
            raise UsageError(f"override {_short(item)!r}: {key}."
                             f"{duplicates[0].partition(': ')[2]}")
        path = _sweep_axis_path(split_key(key), data)
        if len(path) > yamltext.MAX_DEPTH:
            raise UsageError(f"override {_short(item)!r}: a key path of {len(path)} levels; "
                             f"configs nest at most {yamltext.MAX_DEPTH}")
        node = data
        for i, part in enumerate(path[:-1]):
            nxt = path[i + 1]
            if (isinstance(node, list) and len(node) == 1 and isinstance(part, str)
                    and path[:1] == ("input",) and i == 1):
                node = node[0]  # input.F on a single protocol written as a list
            if isinstance(node, list):
                if not isinstance(part, int) or part >= len(node):
                    raise UsageError(f"override {_short(item)!r}: {_dotted(path[:i + 1])} does "
                                     f"not exist "
                                     f"(that list has {len(node)} items)")
                node = node[part]
                continue
            if not isinstance(node, dict):
                raise UsageError(f"override {_short(item)!r}: {_dotted(path[:i])} is not a mapping")
            if part not in node or node[part] is None:
                node[part] = [] if isinstance(nxt, int) else {}
            elif part == "input" and isinstance(node[part], dict) and isinstance(nxt, int):
                node[part] = [node[part]]
            node = node[part]
        last = path[-1]
        if (isinstance(node, list) and len(node) == 1 and isinstance(last, str)
                and path[:1] == ("input",) and len(path) == 2):
            node = node[0]
        if isinstance(node, list):
            if not isinstance(last, int) or last > len(node):
                raise UsageError(f"override {_short(item)!r}: no list position {last} there")
            node[last:last + 1] = [value]
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise UsageError(f"override {_short(item)!r}: {_dotted(path[:-1])} is not a mapping")
        source.overrides[path] = item
    return data


def _sweep_axis_path(path: tuple, data: dict) -> tuple:
    """``sweep.axes.input.amplitude`` names the axis ``input.amplitude``: after
    ``sweep.axes.`` the rest of the key is the axis name, so its dots need no escaping on the
    command line. ``sweep.axes.X.start|stop|num`` sets one field of an existing
    ``{start, stop, num}`` axis X."""
    if path[:2] != ("sweep", "axes") or len(path) <= 3:
        return path
    rest = tuple(str(p) for p in path[2:])
    sweep = data.get("sweep")
    axes = sweep.get("axes") if isinstance(sweep, dict) else None
    axes = axes if isinstance(axes, dict) else {}
    if rest[-1] in ("start", "stop", "num") and isinstance(axes.get(".".join(rest[:-1])), dict):
        return ("sweep", "axes", ".".join(rest[:-1]), rest[-1])
    return ("sweep", "axes", ".".join(rest))


# -- messages ---------------------------------------------------------------------------
def _fields_at(data: dict, path: tuple) -> list[str] | None:
    """The keys allowed in the mapping at ``path`` (for did-you-mean), walking the schema."""
    cls: Any = config_class()
    node: Any = data
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else {}
            if cls is PROTOCOLS or path[0] == "input":
                cls = PROTOCOLS.get(node.get("type")) if isinstance(node, dict) else None
            continue
        if path[:1] == ("input",) and part == "input":
            node = node.get("input")
            if isinstance(node, dict):
                cls = PROTOCOLS.get(node.get("type"))
                node = [node]
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or part not in cls.model_fields:
            return None
        ann = cls.model_fields[part].annotation
        node = node.get(part, {}) if isinstance(node, dict) else {}
        cls = next((a for a in getattr(ann, "__args__", (ann,))
                    if isinstance(a, type) and issubclass(a, BaseModel)), ann)
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return list(cls.model_fields)
    return None


_EXPECT = {
    "float_type": "a number", "float_parsing": "a number", "int_type": "an integer",
    "int_parsing": "an integer", "int_from_float": "an integer", "bool_type": "true or false",
    "bool_parsing": "true or false", "string_type": "a string", "list_type": "a list",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
}


def _display_path(loc: tuple, raw: dict) -> tuple:
    """Drop pydantic's union tags from a location; show ``input.0.x`` as ``input.x`` when the
    config has a single input protocol."""
    out = []
    node: Any = raw
    for i, part in enumerate(loc):
        # a key of the user's config is kept whatever it looks like (e.g. "a[0]")
        if (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and part < len(node)):
            out.append(part)
            node = node[part]
            continue
        if i == 1 and part == 0 and loc[0] == "input" and isinstance(node, dict):
            out.append(part)  # a single protocol, wrapped into a list by the schema
            continue
        if isinstance(part, str) and (part in PROTOCOLS and i >= 2 and isinstance(loc[i - 1], int)
                                      and loc[0] == "input"):
            continue
        if isinstance(part, str) and ("[" in part or part in ("Range", "First", "Every")
                                      or part.startswith("function-")):
            continue
        out.append(part)
        node = None
    if out[:2] == ["input", 0] and isinstance(raw.get("input"), dict):
        out = ["input"] + out[2:]
    return tuple(out)


def _message(err: dict, data: dict, path: tuple) -> str:
    kind, got = err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    if isinstance(got, str) and len(got) > 80 and kind not in ("string_too_long",):
        got = got[:77] + "..."  # a message quotes the user's value, not a megabyte of it
    if kind == "extra_forbidden":
        allowed = _fields_at(data, path[:-1]) or []
        hint = suggest(path[-1], allowed)
        listing = f" Allowed here: {', '.join(allowed)}." if allowed else ""
        return f"unknown key {path[-1]!r}.{hint}{listing}"
    if kind == "missing":
        return "required key is missing"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
              "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()))
        return f"expected a number {op} {bound}, got {got!r}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {got!r}"
    if kind == "union_tag_invalid":
        return (f"unknown input type {ctx.get('tag')!r}.{suggest(ctx.get('tag'), PROTOCOLS)} "
                f"Input types: {', '.join(PROTOCOLS)}")
    if kind == "union_tag_not_found":
        return f"an input protocol needs `type:` ({', '.join(PROTOCOLS)})"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and path == ("name",):
        return (f"a run name may not hold control characters or slashes (it becomes part of "
                f"the output file name), got {got!r}"[:300])
    if kind == "string_pattern_mismatch":
        return f"expected a name of letters, digits and _ (not starting with a digit), got {got!r}"
    if kind in ("too_short", "too_long") and ("min_length" in ctx or "max_length" in ctx):
        what = "characters" if isinstance(got, str) else "entries"
        if kind == "too_short":
            n = ctx["min_length"]
            return ("needs at least one entry, got none" if n == 1 else
                    f"needs at least {n} {what}, got {len(got)}")
        return f"takes at most {ctx['max_length']} {what}, got {len(got):,}"
    if kind in ("string_too_short", "string_too_long"):
        n = ctx.get("min_length", ctx.get("max_length"))
        return (f"takes at most {n} characters, got {len(got):,}" if kind == "string_too_long"
                else f"needs at least {n} characters")
    if kind in _EXPECT:
        return f"expected {_EXPECT[kind]}, got {got!r}"
    return f"{err['msg']}, got {got!r}"


def _schema_errors(e: ValidationError, raw: dict, source: Source) -> list[str]:
    errors = [(err, _display_path(tuple(err["loc"]), raw)) for err in e.errors()]
    # a misspelt required key ('durration') also leaves 'duration' missing: the unknown key's
    # "Did you mean 'duration'?" says it all, and a first line "duration: required key is
    # missing" would send the user looking for a key they did write
    meant = {p[:-1] + (_meant(p, raw),) for err, p in errors if err["type"] == "extra_forbidden"}
    seen, lines = set(), []
    for err, path in errors:
        if err["type"] == "missing" and path in meant:
            continue
        if err["type"] == "union_tag_invalid":  # point at the `type:` line itself
            path = path + ("type",)
        # a value that failed every branch of a union gives one error per branch: keep one
        if path in seen:
            continue
        seen.add(path)
        lines.append(f"{source.where(path)}: {_dotted(path)}: {_message(err, raw, path)}")
    return lines


def _meant(path: tuple, raw: dict):
    """The allowed key that the unknown key at ``path`` is a slip of, or None."""
    return closest(path[-1], _fields_at(raw, path[:-1]) or [])


# -- entry point ------------------------------------------------------------------------
def load(path: str | Path | None, overrides: list[str] = (), data: dict | None = None,
         name: str = "the config dict") -> LoadedConfig:
    """Read ``path`` (or take ``data``, which messages call ``name``), apply ``overrides``,
    validate; raise ConfigError."""
    import copy

    if data is not None:
        raw, source = copy.deepcopy(data), Source(name)
    else:
        raw, source = read_yaml(path)
    raw = apply_overrides(raw, list(overrides), source)
    from .checks import check_config, normalise_switches
    from ..equations import expand

    built = expand(raw, source)  # type: equations: the model, and its section inline
    from .quantities import convert_config

    problems = normalise_switches(raw)  # reset_mode: linear -> 1
    if problems:
        raise ConfigError([f"{source.where(p)}: {_dotted(p)}: {m}" for p, m in problems])
    problems = convert_config(raw, source)  # "10 us" -> 0.01 (ms), before validation
    if problems:
        raise ConfigError(problems)
    try:
        cfg = config_class().model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_schema_errors(e, raw, source)) from None
    if cfg.name is None:
        cfg.name = Path(path).stem if path is not None else "run"
    cfg.model._built = built
    problems = check_config(cfg, raw, source)
    if problems:
        raise ConfigError(problems)
    return LoadedConfig(raw, cfg, source, list(overrides))
