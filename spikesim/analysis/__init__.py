"""``spikesim analyze``: characterising a model on every neuron of a config at once (SPEC
section 7). One module per analysis:

* :mod:`.rheobase`: smallest step that elicits a spike (bisection);
* :mod:`.fi`: f-I curve up and down (hysteresis), onset rate, type I / type II;
* :mod:`.prc`: phase-response curve;
* :mod:`.dt`: convergence of spike counts and times in dt;
* :mod:`.patterns`: firing patterns (tonic, adapting, bursting...) by ISI criteria;

:mod:`.probe` runs the config's population under an analysis' own input, compiled once, with
per-neuron amplitudes as arguments; :mod:`.store` writes ``/analysis/<kind>/``
(:mod:`spikesim.io.analysis` reads it back); :mod:`spikesim.config.analysis` holds the config
sections. Importing this package does not import JAX.
"""

from __future__ import annotations

#: analyses by name -> module (imported on use)
KINDS = ("rheobase", "fi", "prc", "dt", "patterns")


def module(kind: str):
    import importlib

    return importlib.import_module(f"{__name__}.{kind}")


def plural(count: int, noun: str) -> str:
    """``"1 run"``, ``"6 runs"``: a count and its noun for a person."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
