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


def _fusion():
    """XLA:CPU multi-output fusion: the updates of a step's state variables, which read the
    same arrays, compile to one loop over the neurons instead of one loop each. XLA's CPU
    backend leaves it off by default. At 10,000 neurons, where launching each loop costs as
    much as running it, LIF and Izhikevich run about 1.5x faster (benchmarks/RESULTS.md). It
    changes the grouping of operations, not the operations: the tested models fire the same
    spikes, and a value may move by an ulp where LLVM contracts another multiply-add into an
    FMA (tests/test_engine_options.py). Like the device count, XLA reads it once, when JAX
    starts; ``xla_backend_extra_options`` set by the user in ``XLA_FLAGS`` replace it."""
    flag = "--xla_backend_extra_options"
    flags = _os.environ.get("XLA_FLAGS", "")
    if flag not in flags:
        _os.environ["XLA_FLAGS"] = f"{flags} {flag}=xla_cpu_use_multi_output_fusion".strip()


_host_devices()
_fusion()

from .api import run  # noqa: E402
from .load import load  # noqa: E402

__all__ = ["run", "load", "__version__"]
