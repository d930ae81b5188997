"""``poisson_synapses``: independent Poisson trains of presynaptic events onto every neuron."""

from __future__ import annotations

import math
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from ..core.fields import PerNeuron
from ..lazyjax import jnp
from ..core.units import Quantity
from .base import scalar_values, window
from .synapse import Synapse

#: most expected events per step and neuron (rate x dt): the counts are drawn by inversion
#: with a number of terms that grows with it (see ``terms``); Poisson trains add up, so a
#: higher total rate is several inputs (or a smaller dt)
MAX_EVENTS_PER_STEP = 20.0
#: the counts are exact in law up to this tail probability per draw
TAIL = 1e-12


def terms(lam: float) -> int:
    """Smallest K with P(N > K) < ``TAIL`` for N ~ Poisson(``lam``)."""
    p = cdf = math.exp(-lam)
    k = 0
    while 1.0 - cdf >= TAIL:
        k += 1
        p *= lam / k
        cdf += p
    return k


class PoissonSynapses(Synapse):
    """Presynaptic events at ``rate`` Hz per neuron (the total of all its afferents: N
    independent trains of rate r are one Poisson train of rate N r), through an
    exponential synapse (see :mod:`spikesim.inputs.synapse`). Events fall on step
    boundaries: at each boundary and neuron a Poisson count of mean ``rate x dt``, so the
    train is a Poisson process in law whatever dt, only its times are on the grid. A count is
    drawn by inversion of the Poisson distribution from one uniform number (Devroye 1986,
    Non-Uniform Random Variate Generation, X.3.3), with a fixed number of terms so that the
    draw is branch-free and vectorises (``jax.random.poisson`` loops a data-dependent number
    of times per draw); the uniform comes from the counter-based key (seed, protocol
    position, step, neuron), as for the noise inputs. With the stationary mean
    ``rate weight tau`` and variance ``rate weight^2 tau / 2`` (Campbell's theorem), a high
    rate of small events approaches an Ornstein-Uhlenbeck process (the point-conductance
    model of Destexhe et al. 2001, Neuroscience 107, 13)."""

    type: Literal["poisson_synapses"]
    rate: PerNeuron = Field(..., json_schema_extra=Quantity("Hz"),
                            description="presynaptic events per second onto each neuron, Hz "
                                        "(the total over its afferents)")
    start: PerNeuron = Field(0.0, json_schema_extra=Quantity("ms"),
                             description="first event time, ms")
    stop: PerNeuron | None = Field(None, json_schema_extra=Quantity("ms"),
                                   description="no events from this time on, ms (null: until "
                                               "the end)")
    numeric: ClassVar = ("rate", "weight", "tau", "reversal", "start", "stop")
    domains: ClassVar = {"tau": "positive", "rate": "nonnegative"}
    random: ClassVar = False  # draws uniforms through ``counts``, carries no other state

    def check(self, ctx):
        out = super().check(ctx)
        lam = max(scalar_values(self.rate), default=0.0) * ctx.dt / 1000.0
        if lam > MAX_EVENTS_PER_STEP:
            out.append(("rate", too_many(lam, ctx.dt)))
        return out

    def check_resolved(self, f, dt: float):
        """Once generators have drawn (a negative draw is refused by the planner, as for
        every field with a domain): at most ``MAX_EVENTS_PER_STEP``."""
        lam = float(np.max(np.asarray(f["rate"]))) * dt / 1000.0
        if lam > MAX_EVENTS_PER_STEP:
            return [("rate", too_many(lam, dt))]
        return []

    def static(self, f, dt: float) -> dict:
        """Host side, before compiling: the number of terms of the inversion (from the
        largest rate of the run), and whether a ``start``/``stop`` window gates the events."""
        lam = float(np.max(np.asarray(f["rate"]))) * dt / 1000.0
        gated = f.get("stop") is not None or bool(np.any(np.asarray(f.get("start", 0.0)) != 0))
        return {"terms": terms(lam), "gated": gated}

    def counts(self, t, f, uniform, static, dt):
        u = uniform()
        lam = f["rate"] * (dt * 1e-3)
        p = jnp.exp(-lam).astype(u.dtype)
        cdf = p
        n = (u >= cdf).astype(u.dtype)
        for j in range(1, static["terms"] + 1):
            p = p * (lam / j)
            cdf = cdf + p
            n = n + (u >= cdf).astype(u.dtype)
        if static["gated"]:
            n = jnp.where(window(t, f.get("start", 0.0), f.get("stop")), n, 0.0).astype(n.dtype)
        return n


def too_many(lam: float, dt: float) -> str:
    return (f"rate x dt is {lam:.3g} expected events per step and neuron (dt = {dt:g} ms); at "
            f"most {MAX_EVENTS_PER_STEP:g} are drawn per step. Use a smaller dt, or split the "
            f"input into several poisson_synapses (their events add up)")
