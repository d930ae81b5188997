"""``spikesim.load(path).to_neo()``: a run as a NEO Block (extra ``.[neo]``), for Elephant and
the other tools of the NEO ecosystem (https://neo.readthedocs.io).

One Segment holds the whole run:

* ``spiketrains``: one ``SpikeTrain`` per neuron, in id order, times in ms, ``t_start = 0``
  and ``t_stop`` = the end of the simulated time (the duration, or how far a partial run got);
  annotations ``id`` and the neuron's per-neuron values (``/neurons``, by dotted config key);
  none where the run did not record spikes (the Block's annotation ``spikes_recorded``);
* ``analogsignals``: one ``AnalogSignal`` per recorded variable, shape [T, neurons recorded],
  in the variable's unit, ``sampling_period`` and ``t_start`` from the report's time mapping;
  ``array_annotations['neuron_ids']`` names the neuron of each channel.

The Block's annotations carry the run's attributes (model, dt, integrator, status,
versions...) and ``config`` the resolved config; a file of ``spikesim analyze`` adds
``analysis``: kind -> ``data`` (name -> array, one row per neuron in id order; 2-D ones
along the axis that ``dims`` names), ``units``, ``dims`` and ``attrs`` (the summary and the
options), as in ``spikesim.load(path).analysis``.
"""

from __future__ import annotations

import numpy as np

from . import need


def _pq_unit(unit: str) -> str:
    """A spikesim unit in the spelling of the ``quantities`` package neo uses."""
    from ..core.units import normalise

    if unit in ("", "1"):
        return "dimensionless"
    return normalise(unit).replace("^", "**")


def to_neo(result):
    """The NEO Block of a :class:`spikesim.io.results.Result`."""
    neo = need("neo", "neo", "Result.to_neo()")
    import quantities as pq

    r = result
    block = neo.Block(name=r.name, description=f"spikesim run of {r.n} {r.model} neurons",
                      file_origin=str(r.path))
    # the run's attributes (neo reserves ``name``, which is the Block's name already)
    block.annotate(**{k: v for k, v in r.attrs.items() if k not in ("magic", "version", "name")})
    if r.analysis:
        block.annotate(analysis={
            kind: {"data": a.data, "units": a.units,
                   "dims": {k: list(d) for k, d in a.dims.items()}, "attrs": a.attrs}
            for kind, a in r.analysis.items()})
    seg = neo.Segment(name=r.name, index=0)
    block.segments.append(seg)
    t_stop = r.t_end * pq.ms
    per_neuron = {k: v for k, v in r.neurons.items() if k != "id"}
    # a run that did not record spikes has no spike trains: empty ones would read as silent
    # neurons (0 Hz in Elephant's mean_firing_rate)
    block.annotate(spikes_recorded=bool(r.spikes_recorded))
    for i, times in enumerate(r.spikes.times if r.spikes_recorded else []):
        st = neo.SpikeTrain(times, units="ms", t_start=0.0 * pq.ms, t_stop=t_stop,
                            name=f"neuron {i}", id=i,
                            **{k: _scalar(v[i]) for k, v in per_neuron.items()})
        seg.spiketrains.append(st)
    for var in r.variables:
        tr = r.trace(var)
        with r._open() as f:
            start, _, step = f[f"report/{r.population}/{var}/mapping/time"][:]
        sig = neo.AnalogSignal(np.asarray(tr.data), units=_pq_unit(tr.units),
                               sampling_period=float(step) * pq.ms,
                               t_start=float(start) * pq.ms, name=var,
                               array_annotations={"neuron_ids": tr.neurons})
        seg.analogsignals.append(sig)
    return block


def _scalar(x):
    return x.item() if isinstance(x, np.generic) else x
