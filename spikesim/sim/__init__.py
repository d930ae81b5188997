"""The simulation: a checked config becomes a plan (:mod:`.plan`), the plan a compiled
``jax.lax.scan`` over chunks of steps (:mod:`.engine`, which steps each model with
:mod:`spikesim.models.integrators` and :mod:`spikesim.models.spike_timing`), run and streamed
to the writer by :mod:`.runner`."""
