"""spikesim: populations of single-compartment spiking neurons on JAX."""

__version__ = "0.1.0"

from .api import run  # noqa: E402

__all__ = ["run", "__version__"]
