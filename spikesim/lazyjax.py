"""``jax`` and ``jax.numpy``, imported on first use.

Models and input protocols are declarations (parameters, units, presets, config schema) plus
functions that run only inside a compiled run. They name ``jnp`` from here, so that the
commands that only read declarations or files (``spikesim --help``, ``models``, ``schema``,
``inspect``, ``plot``, ``spikesim.load``) do not pay for starting JAX (seconds, against a
fraction of one for the rest; benchmarks/startup.py). The first attribute looked up imports
the real module; every later lookup is a dictionary lookup, done while tracing, never inside
the compiled loop.
"""

from __future__ import annotations

import importlib


class _Lazy:
    """A module stand-in that imports ``name`` when an attribute is first read."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self):
        return f"<lazy module {self._name!r}>"


jax = _Lazy("jax")
jnp = _Lazy("jax.numpy")
