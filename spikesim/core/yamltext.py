"""YAML text to Python values, bounded: the config file and each ``KEY=VALUE`` override go
through :func:`parse`, which refuses, before anything is built, text that would take more
than a moment or more than a little memory to read.

Limits (README "Config"): a config file of at most 1 MiB (an override value: 64 KiB), at most
64 levels of nesting, and at most 100,000 nodes once aliases are expanded (a "billion
laughs" file expands exponentially; a recursive alias never ends). A config needs none of
these near their limits. Tags are those of ``yaml.SafeLoader`` (no code runs), and numbers
such as ``1e-3`` are floats as in YAML 1.2.
"""

from __future__ import annotations

import re

import yaml

from .keys import dotted

#: the largest config file read (bytes)
MAX_FILE_BYTES = 1 << 20
#: the largest override value (characters)
MAX_VALUE_CHARS = 64 << 10
#: deepest nesting of mappings and lists
MAX_DEPTH = 64
#: most nodes once aliases are expanded
MAX_NODES = 100_000


class YAMLProblem(ValueError):
    """Text that is not a config we read: ``line`` (1-based, or None) and ``problem``."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None,
                 syntax: bool = False):
        self.problem, self.line, self.column, self.syntax = problem, line, column, syntax
        super().__init__(problem)


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads numbers as YAML 1.2 does, and people mean them: ``1e-3`` and
    ``1.0e5`` are numbers (YAML 1.1 makes strings of them), ``010`` is ten (not YAML 1.1's
    octal eight: write ``0o10`` for that), and ``1:30`` is text (not YAML 1.1's sexagesimal
    90), so that a number a user did not write is never read."""

    def flatten_mapping(self, node):
        # a merge key (``<<: *base``) puts the merged pairs first; ``node.merged`` counts
        # them, so that a key given beside it overrides them without being a duplicate
        merges = sum(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value)
        own = len(node.value) - merges
        super().flatten_mapping(node)
        if merges:
            node.merged = len(node.value) - own


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(
    _FLOAT, re.compile(r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
                       |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
                       |[-+]?\.(?:inf|Inf|INF)
                       |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))
_Loader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$"),
    list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT, re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def _construct_int(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    prefix = text.lstrip("+-")[:2].lower()
    return int(text, 0) if prefix in ("0b", "0o", "0x") else int(text, 10)


_Loader.add_constructor(_INT, _construct_int)


def _check_events(text: str) -> None:
    """Nesting depth, from the parser's events (the parser is iterative; the composer that
    builds nodes recurses once per level, so depth is bounded before it runs)."""
    depth = 0
    for ev in yaml.parse(text, Loader=_Loader):
        if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YAMLProblem(f"nested more than {MAX_DEPTH} levels deep (a config needs "
                                  f"four or five); check the brackets",
                                  ev.start_mark.line + 1, ev.start_mark.column + 1)
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _check_nodes(root) -> None:
    """Nodes once aliases are expanded (an alias is the same node object again), counted
    with memoisation so that a billion laughs costs one visit per distinct node; a node that
    contains itself is a recursive alias."""
    sizes: dict[int, int] = {}
    # iterative post-order walk: (node, children done?)
    stack, active = [(root, False)], set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            kids = _children(node)
            sizes[key] = min(MAX_NODES + 1, 1 + sum(sizes[id(k)] for k in kids))
            if sizes[key] > MAX_NODES:
                raise YAMLProblem(f"more than {MAX_NODES:,} values once its aliases (*name) are "
                                  f"expanded", node.start_mark.line + 1)
            continue
        if key in sizes:
            continue
        if key in active:
            raise YAMLProblem("recursive alias: an anchored value (&name) contains an alias "
                              "to itself (*name)", node.start_mark.line + 1)
        active.add(key)
        stack.append((node, True))
        for k in _children(node):
            if id(k) in active:
                raise YAMLProblem("recursive alias: an anchored value (&name) contains an "
                                  "alias to itself (*name)", k.start_mark.line + 1)
            if id(k) not in sizes:
                stack.append((k, False))


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [x for kv in node.value for x in kv]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, max(0, position)) + 1


def parse(text: str, max_chars: int = MAX_FILE_BYTES):
    """``(value, node)`` of one YAML document (``node`` None for an empty one); raises
    :class:`YAMLProblem` with the line for malformed or oversized text."""
    if len(text) > max_chars:
        raise YAMLProblem(f"longer than {max_chars:,} characters; a config is a few kB")
    try:
        _check_events(text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            _check_nodes(node)
            return loader.construct_document(node), node
        finally:
            loader.dispose()
    except YAMLProblem:
        raise
    except yaml.reader.ReaderError as e:
        what = (f"the character {chr(e.character)!r} (code {e.character:#x}) is not allowed "
                f"in YAML" if isinstance(e.character, int) else str(e.reason))
        raise YAMLProblem(f"{what}; remove it (control characters are often pasted by "
                          f"accident)", _line_of(text, e.position)) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        raise YAMLProblem(problem, mark.line + 1 if mark else None,
                          mark.column + 1 if mark else None, syntax=True) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as e:
        # a constructor that rejects its scalar, e.g. ``!!int 1e3``
        raise YAMLProblem(f"a value cannot be read as its tag says ({e}); remove the tag "
                          f"(!!int, !!float, ...) and write the value plainly",
                          _bad_scalar_line(text)) from None


def _bad_scalar_line(text: str) -> int | None:
    """The line of the first scalar whose constructor fails (only called after a failure)."""
    loader = _Loader(text)
    try:
        stack = [loader.get_single_node()]
        while stack:
            node = stack.pop()
            if isinstance(node, yaml.ScalarNode):
                try:
                    loader.construct_object(node)
                except Exception:
                    return node.start_mark.line + 1
            else:
                stack.extend(reversed(_children(node)))
    finally:
        loader.dispose()
    return None


def line_map(node, problems: list[str] | None = None, file: str = "",
             literal: dict[tuple, int] | None = None) -> dict[tuple, int]:
    """Every key path to its 1-based line; duplicate keys go to ``problems``; into
    ``literal``, the path of each literal block scalar (``key: |``) to the line of its first
    line of text (the others, quoted or plain, fold or escape their line breaks, so a line
    of their text is no line of the file). Aliases are walked like any node: :func:`parse`
    has bounded their expansion."""
    out: dict[tuple, int] = {}
    stack = [(node, ())]
    while stack:
        node, path = stack.pop()
        out.setdefault(path, node.start_mark.line + 1)
        if literal is not None and isinstance(node, yaml.ScalarNode) and node.style == "|":
            literal.setdefault(path, node.start_mark.line + 2)  # the line after the '|'
        if isinstance(node, yaml.MappingNode):
            # the first ``merged`` pairs come from a merge key (<<:), which the mapping's
            # own keys override: only those are duplicates of each other
            seen, merged = set(), getattr(node, "merged", 0)
            for j, (k, v) in enumerate(node.value):
                key = k.value
                if key in seen and problems is not None:
                    problems.append(f"{file}:{k.start_mark.line + 1}: {dotted(path + (key,))}: "
                                    f"duplicate key; keep one of them")
                if j >= merged:
                    seen.add(key)
                out[path + (key,)] = k.start_mark.line + 1
                stack.append((v, path + (key,)))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                stack.append((v, path + (i,)))
    return out
