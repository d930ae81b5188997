"""The version of spikesim, the one source of it: ``spikesim.__version__``, the
``spikesim_version`` of every file written (:mod:`spikesim.io.writer`, which reads it here
without importing the package) and the package's metadata (``pyproject.toml`` reads it)."""

__version__ = "0.1.0"
