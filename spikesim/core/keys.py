"""Key paths of a config and the words used to name them in messages.

A key path is a tuple of str and int (``("model", "params", "g_K")``, ``("input", 0,
"amplitude")``). This module sits below :mod:`spikesim.config.load` and
:mod:`spikesim.config.checks` so that both can name keys without importing each other.
"""

from __future__ import annotations

import difflib
import re


def split_key(key: str) -> tuple:
    """``a.b\\.c.0`` -> ("a", "b.c", 0): dots separate levels, ``\\.`` is a literal dot (for
    sweep axes, whose names are themselves dotted keys), integers index lists."""
    parts = [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", key)]
    return tuple(int(p) if p.isdigit() else p for p in parts)


def dotted(path) -> str:
    """A key path as the user writes it: ``model.params.g_K``; a literal dot is escaped."""
    return ".".join(str(p).replace(".", "\\.") if isinstance(p, str) else str(p)
                    for p in path) or "(top level)"


def closest(word, options) -> str | None:
    """The closest of ``options`` to ``word``, or None: first the same word in another case
    ('V': 'v', where difflib's ratio prefers 'V4'), then one with two adjacent letters
    swapped ('tahn': 'tanh', where it prefers 'tan'), then difflib's closest match."""
    word, options = str(word), [str(o) for o in options]
    cased = [o for o in options if o.lower() == word.lower() and o != word]
    swapped = [o for o in options if len(o) == len(word) and o != word and any(
        word[:i] + word[i + 1] + word[i] + word[i + 2:] == o for i in range(len(word) - 1))]
    close = cased or swapped or difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(word, options) -> str:
    """`` Did you mean 'x'?`` for the :func:`closest` of ``options``, or ``""``."""
    close = closest(word, options)
    return f" Did you mean {close!r}?" if close is not None else ""
