"""spikesim: populations of single-compartment spiking neurons on JAX."""

import os as _os

__version__ = "0.1.0"


def _host_devices():
    """One XLA CPU device per core, so that a CPU run can shard its neurons across the cores
    (``simulation.devices``). XLA reads this flag once, when JAX starts: it has no effect if
    JAX was imported before spikesim, and a flag the user set wins."""
    flag = "--xla_force_host_platform_device_count"
    flags = _os.environ.get("XLA_FLAGS", "")
    if flag not in flags:
        cores = len(_os.sched_getaffinity(0)) if hasattr(_os, "sched_getaffinity") else _os.cpu_count()
        _os.environ["XLA_FLAGS"] = f"{flags} {flag}={max(1, cores or 1)}".strip()


_host_devices()

from .api import run  # noqa: E402
from .load import load  # noqa: E402

__all__ = ["run", "load", "__version__"]
