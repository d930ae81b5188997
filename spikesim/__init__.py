"""spikesim: populations of single-compartment spiking neurons on JAX."""

import os as _os

from ._version import __version__


def _xla_flag(flag: str, value) -> None:
    """Add ``flag=value`` to ``XLA_FLAGS`` unless the flag is there already (a flag the user
    set wins). XLA reads these flags once, when JAX starts: they have no effect if JAX was
    started before spikesim was imported."""
    flags = _os.environ.get("XLA_FLAGS", "")
    if flag not in flags:
        _os.environ["XLA_FLAGS"] = f"{flags} {flag}={value}".strip()


# One XLA CPU device per core, so that a CPU run can shard its neurons across the cores
# (``simulation.devices``).
_cores = len(_os.sched_getaffinity(0)) if hasattr(_os, "sched_getaffinity") else _os.cpu_count()
_xla_flag("--xla_force_host_platform_device_count", max(1, _cores or 1))

# XLA:CPU multi-output fusion: the updates of a step's state variables, which read the same
# arrays, compile to one loop over the neurons instead of one loop each. XLA's CPU backend
# leaves it off by default. At 10,000 neurons, where launching each loop costs as much as
# running it, LIF and Izhikevich run about 1.5x faster (benchmarks/RESULTS.md). It changes the
# grouping of operations, not the operations: the tested models fire the same spikes, and a
# value may move by an ulp where LLVM contracts another multiply-add into an FMA
# (tests/test_engine_options.py). ``xla_backend_extra_options`` set by the user replace it.
_xla_flag("--xla_backend_extra_options", "xla_cpu_use_multi_output_fusion")

__all__ = ["run", "analyze", "load", "__version__"]


def __getattr__(name):
    # ``spikesim.run`` and ``spikesim.load`` are imported on first use: ``spikesim --help``
    # needs neither, and reading a file (``load``) needs no config machinery (and no JAX)
    if name == "run":
        from .api import run

        return run
    if name == "analyze":
        from .api import analyze

        return analyze
    if name == "load":
        from .io.results import load

        return load
    raise AttributeError(f"module 'spikesim' has no attribute {name!r}")
