"""Picking up from a past run's file: its embedded config (``spikesim run --from``) and its
final state (``spikesim run --init-from``).

A file's ``/state/<pop>/`` group holds what continuing needs: every state variable
``[N]``, every synaptic variable (``g_syn0``...), the state of each random input protocol (``inputs/<i>/<leaf>``, attr ``type``),
and attrs ``step`` and ``time``: steps and ms simulated since the first run of the chain.
A continued run's own time axis starts at 0 (its config's stimulus times are relative to its
start, so one warm-up serves many experiments); its file's ``t_start`` / ``step_start``
attrs give the absolute offset, and its noise keys continue from ``step``, so the noise does
not repeat the warm-up's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError


@dataclass
class InitState:
    """Where a run starts: state variables, random-protocol states (index -> (type,
    leaves)), and the absolute step and time of that state."""

    y: dict[str, np.ndarray]
    inputs: dict[int, tuple[str, list[np.ndarray]]] = field(default_factory=dict)
    step: int = 0
    time: float = 0.0
    source: str = ""
    #: synaptic variables by name (``g_syn0``, ``I_syn1``: see spikesim.inputs.synapse)
    synapses: dict[str, np.ndarray] = field(default_factory=dict)


#: names of the synaptic variables stored next to the model's state variables
SYNAPTIC = re.compile(r"^[gI]_syn\d+$")


def _open(path: Path, option: str):
    import h5py

    from .results import resolve_path

    return h5py.File(resolve_path(path, option), "r")


def embedded_config(path: Path, option: str = "--from") -> tuple[dict, dict]:
    """The resolved config stored in a run's file, and the versions it was made with;
    ``option`` names the file in messages (``--from``, or ``patterns`` for ``spikesim
    analyze patterns FILE.h5``). The info holds the versions, the input state of the run
    (``init``) and the kinds of ``spikesim analyze`` that wrote the file (``analysis``)."""
    import h5py
    import yaml

    with _open(path, option) as f:
        text = f.attrs.get("config")
        versions = {k: str(v) for k, v in f.attrs.items() if k.endswith("_version")}
        init = read_group(f, "init") if "init" in f else None
        analyses = sorted(f["analysis"]) if isinstance(f.get("analysis"), h5py.Group) else []
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    if text is None or (isinstance(text, str) and not text):
        raise UsageError(f"{option} {path}: the file holds no config attribute")
    problem = None
    if not isinstance(text, str):
        shown = text.tolist() if isinstance(text, (np.ndarray, np.generic)) else text
        problem = f"its attribute 'config' is {shown!r}, not the YAML text of a config"
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            problem = f"its attribute 'config' is not YAML ({str(e).splitlines()[0]})"
        else:
            if not isinstance(data, dict):
                problem = "its attribute 'config' is not a config (a YAML mapping)"
    if problem is not None:
        raise UsageError(f"{option} {path}: the file is damaged, {problem}. Run its config "
                         f"file again instead")
    return data, {"versions": versions, "init": init, "analysis": analyses}


def read_group(f, group: str) -> InitState | None:
    """The state stored under ``/<group>/<pop>/`` of an open file (``state`` or ``init``)."""
    pop = f.attrs.get("population")
    g = f.get(f"{group}/{pop}")
    if g is None:
        return None
    y = {k: np.asarray(v) for k, v in g.items() if k != "inputs" and not SYNAPTIC.match(k)}
    synapses = {k: np.asarray(v) for k, v in g.items() if SYNAPTIC.match(k)}
    inputs = {}
    for i, gi in g.get("inputs", {}).items():
        leaves = [np.asarray(gi[str(j)]) for j in range(len(gi))]
        inputs[int(i)] = (str(gi.attrs["type"]), leaves)
    return InitState(y, inputs, int(g.attrs.get("step", 0)), float(g.attrs.get("time", 0.0)),
                     str(f.filename), synapses)


def final_state(path: Path, plan) -> InitState:
    """The final state of the run in ``path``, checked against ``plan``: same model, same
    number of neurons, every state variable present."""
    option = "--init-from"
    with _open(path, option) as f:
        status = str(f.attrs.get("status"))
        state = read_group(f, "state")
        model, n = str(f.attrs.get("model")), int(f.attrs.get("n_neurons", -1))
        dt_file = float(f.attrs.get("dt", plan.dt))
        analysis = f.attrs.get("analysis")
    if state is None:
        why = (f"its status is {status!r}: only a completed run stores a final state"
               if status != "complete" else
               f"it is the result of `spikesim analyze {analysis}`, which keeps no final "
               f"state; continue from a run's file (spikesim run)" if analysis is not None
               else "it holds no /state group")
        raise UsageError(f"{option} {path}: cannot continue from this file, {why}")
    if model != plan.model.name:
        raise UsageError(f"{option} {path}: that run used model {model!r}, this config uses "
                         f"{plan.model.name!r}; continue with the same model")
    if n != plan.n:
        raise UsageError(f"{option} {path}: that run has {n} neurons, this config has "
                         f"{plan.n}; population.size (x sweep combinations) must match")
    missing = sorted(set(plan.model.states) - set(state.y))
    if missing:
        raise UsageError(f"{option} {path}: the stored state lacks {', '.join(missing)}")
    state.y = {k: state.y[k] for k in plan.model.states}
    bad = [k for k, v in state.y.items() if v.shape != (plan.n,)]
    if bad:
        raise UsageError(f"{option} {path}: state {bad[0]} has shape {state.y[bad[0]].shape}, "
                         f"expected ({plan.n},)")
    bad = [k for k, v in state.synapses.items() if v.shape != (plan.n,)]
    if bad:
        raise UsageError(f"{option} {path}: {bad[0]} has shape {state.synapses[bad[0]].shape}, "
                         f"expected ({plan.n},)")
    if dt_file != plan.dt:
        for k, var in plan.model.states.items():
            if var.unit == "steps":
                state.y[k] = counter_in_new_steps(state.y[k], dt_file, plan.dt,
                                                  plan.spike_timing == "precise")
    state.source = str(Path(path).resolve())
    return state


def counter_in_new_steps(r, dt_old: float, dt_new: float, fractional: bool):
    """A refractory counter of a run at ``dt_old`` for a run at ``dt_new``. A counter ``r``
    holds the neuron for ``(r - 1) dt`` from the start of the step (free where ``r <= 1``;
    spikesim.models.spike_timing), so the time left is kept: ``1 + (r - 1) dt_old / dt_new``,
    rounded to whole steps on the grid (as ``t_ref`` is) and kept fractional with precise
    timing."""
    left = np.maximum(np.asarray(r, np.float64) - 1.0, 0.0) * dt_old / dt_new
    steps = left if fractional else np.round(left)
    return np.where(steps > 0, 1.0 + steps, 0.0).astype(np.asarray(r).dtype)
