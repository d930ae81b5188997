"""Input-current protocols (SPEC section 2, ``input.type``), one small module each.

``input`` in a config is one protocol or a list of them; their currents add up. Synaptic
protocols (``poisson_synapses``, ``spike_file``) drive the membrane through a synaptic variable
(:mod:`spikesim.inputs.synapse`). The
interface every protocol implements is described in :mod:`spikesim.inputs.base`.
"""

from __future__ import annotations

from .base import CheckContext, Protocol
from .constant import Constant
from .file import File
from .noise import Noise
from .ou import OU
from .poisson import PoissonSynapses
from .pulses import Pulses
from .ramp import Ramp
from .sine import Sine
from .spike_file import SpikeFile
from .step import Step

#: protocols by ``input.type``
PROTOCOLS: dict[str, type[Protocol]] = {
    p.model_fields["type"].annotation.__args__[0]: p
    for p in (Constant, Step, Pulses, Ramp, Sine, Noise, OU, File, PoissonSynapses,
              SpikeFile)
}

__all__ = ["PROTOCOLS", "CheckContext", "Protocol"]
