"""spikesim: populations of single-compartment spiking neurons on JAX."""

__version__ = "0.1.0"

from .api import run  # noqa: E402
from .load import load  # noqa: E402

__all__ = ["run", "load", "__version__"]
