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

import contextlib
import importlib

_numpy_instead = False  # set by numpy_instead(): jnp names NumPy


class _Lazy:
    """A module stand-in that imports ``name`` when an attribute is first read."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        if _numpy_instead and self._name == "jax.numpy":
            import numpy
            return getattr(numpy, attr)
        module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self):
        return f"<lazy module {self._name!r}>"


@contextlib.contextmanager
def numpy_instead():
    """Inside this block ``jnp`` names NumPy: ``spikesim plot`` evaluates the deterministic
    input protocols (elementwise ``where``/``sin``/``clip`` on arrays, the same calls in both
    libraries) on the times it draws without starting JAX."""
    global _numpy_instead
    _numpy_instead = True
    try:
        yield
    finally:
        _numpy_instead = False


jax = _Lazy("jax")
jnp = _Lazy("jax.numpy")
