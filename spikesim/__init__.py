"""spikesim: populations of single-compartment spiking neurons on JAX."""

__version__ = "0.1.0"
