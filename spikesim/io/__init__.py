"""Results in the formats other tools read (SPEC section 9): NWB 2 (:mod:`.nwb`, extra
``.[nwb]``) and NEO (:mod:`.neo`, extra ``.[neo]``). Both read the run's HDF5 file through
:class:`spikesim.io.results.Result` (h5py and numpy only), never the simulation engine."""

from __future__ import annotations

from ..errors import UsageError


def need(module: str, extra: str, what: str):
    """Import an optional dependency, or say which extra installs it (exit 2)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"{what} needs the {module} package, which is not installed. Install "
                         f"the extra: pip install 'spikesim[{extra}]' (or pip install "
                         f"{module})") from None
