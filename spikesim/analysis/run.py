"""``spikesim analyze KIND CONFIG``: load and check the config, run the analysis on every
neuron of it, write the file. Nothing is compiled or written before the config, the output
path and the devices pass their checks."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from . import KINDS, module

#: analyses whose stimulus replaces the config's ``input`` (dt and patterns run it as it is)
REPLACE_INPUT = ("rheobase", "fi", "prc")


@dataclass
class Outcome:
    """What an analysis returns: per-neuron ``data`` (name -> array; but for the analysis
    module's ``AXES``, the axis of its 2-D data) with ``units``, group
    ``attrs`` (``summary``: one sentence for a person), and optionally the spikes of its main
    run (t ms, ids), the length of that run in steps (``n_steps``: the file's duration, which
    ``inspect`` shows; default the config's), and the plan they belong to."""

    data: dict
    units: dict
    attrs: dict
    compile_seconds: float
    run_seconds: float
    spikes: tuple | None = None
    n_steps: int | None = None
    plan: object = None


def analyze(kind: str, config, overrides=(), output=None, force: bool = False,
            quiet: bool = True, log=None):
    """Run analysis ``kind`` of ``config`` (for ``patterns`` also the HDF5 file of a past
    run: its spikes are classified, nothing is simulated); returns the path written."""
    from ..config.load import load
    from ..errors import UsageError
    from ..sim.plan import make_plan
    from ..config.preflight import check_output, device_label, select_devices
    from ..config.analysis import Analysis
    from .store import output_path, write

    log = log or (lambda m: print(m, file=sys.stderr))
    if kind not in KINDS:
        from ..core.keys import suggest

        raise UsageError(f"unknown analysis {kind!r}.{suggest(kind, KINDS)} Analyses: "
                         f"{', '.join(KINDS)}")
    from_file = (kind == "patterns" and not isinstance(config, dict)
                 and str(config).endswith((".h5", ".hdf5", ".partial")))
    if from_file:  # a past run: its embedded config, its spikes
        from ..io.resume import embedded_config

        data, _ = embedded_config(config, "analyze patterns")
        data.get("output", {}).pop("path", None)
        loaded = load(None, list(overrides), data=data, name=f"{config} (its stored config)")
    elif isinstance(config, dict):  # spikesim.analyze with a mapping
        loaded = load(None, list(overrides), data=config)
    else:
        loaded = load(config, list(overrides))
    if loaded.cfg.analysis is None:
        loaded.cfg.analysis = Analysis()
    opts = getattr(loaded.cfg.analysis, kind)
    if from_file:
        from ..io.results import Result

        r = Result(config)
        if not r.complete and (opts.stop is None or opts.stop > r.t_end):
            part = (f", or classify the part it holds with analysis.patterns.stop={r.t_end:g}"
                    if r.t_end > 0 else "")
            raise UsageError(
                f"{config}: the run did not complete (status {r.status}): it holds the first "
                f"{r.t_end:g} of {r.duration:g} ms, so its neurons would be classified from "
                f"a spike train cut short. Run it again to the end{part}")
    plan = make_plan(loaded)
    d = getattr(plan.model, "definition", None)
    from ..errors import ConfigError

    if d is not None and d.threshold is None:
        raise ConfigError(f"{loaded.source.where(('model',))}: model: {kind} measures spikes, "
                          f"and model {d.name} has no threshold, so it never spikes: give one "
                          f"(model.threshold: v > v_th, with v_th in params)")
    if kind in REPLACE_INPUT and d is not None and d.current_name is None:
        what = {"rheobase": "current step", "fi": "constant currents", "prc": "current pulse"}
        raise ConfigError(f"{loaded.source.where(('model',))}: model: {kind} drives the neuron "
                          f"with its {what[kind]}, and model {d.name} declares no injected "
                          f"current for it to reach: declare one (model.current: {{name: I, "
                          f"unit: nA}}) and use it in the equations")
    if from_file and output is None:
        from pathlib import Path

        output = Path(config).with_name(Path(config).name.split(".")[0] + "_patterns.h5")
    plan.output = output_path(plan, kind, output)
    plan.output_given = output is not None
    check_output(plan, force, protect=[r.path] if from_file else ())  # not the run read
    devices = select_devices(plan)
    for w in plan.warnings:
        log(f"warning: {w}")
    if kind in REPLACE_INPUT:
        moot = [k for k in plan.varying if k.startswith("input")]
        background = [p.type for p, _ in plan.inputs if p.synaptic or p.random]
        if moot:
            log(f"warning: {kind} replaces the config's input by its own stimulus, so "
                f"{', '.join(moot)} (per neuron or swept) changes nothing: neurons that "
                f"differ only there get the same result")
        elif background:  # e.g. a high-conductance state: the result is the bare neuron's
            log(f"warning: {kind} replaces the config's input by its own stimulus, so its "
                f"{', '.join(background)} background is not applied: the result is the "
                f"neuron's without it")
    if from_file:
        if r.n != plan.n or not r.spikes_recorded:
            what = ("recorded no spikes" if not r.spikes_recorded
                    else f"holds {r.n} neurons where its config makes {plan.n}")
            raise UsageError(f"{config}: {what}; classify a run of spikesim that recorded "
                             f"spikes (record.spikes: true)")
        res = module(kind).run(plan, opts, devices, loaded.source, log,
                               times=r.spikes.times)
        res.spikes = (r.spikes.t, r.spikes.ids)
    else:
        res = module(kind).run(plan, opts, devices, loaded.source, log)
    path = write(res.plan or plan, kind, opts, res.data, res.units, res.attrs,
                 device_label(devices), res.compile_seconds, res.run_seconds, res.spikes,
                 res.n_steps)
    if not quiet and res.attrs.get("summary"):
        log(res.attrs["summary"])
    return path
