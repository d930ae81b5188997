"""From a validated config to a *plan*: every number the compiled loop needs, resolved.

Per-neuron values (lists, generators, sweep axes) become arrays of length ``n`` (the whole
run: ``population.size`` x sweep combinations); values that are the same for every neuron stay
scalars, so the compiled loop broadcasts them for free.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..config.checks import canonical, drawn_out_of_domain, numeric_keys
from ..config.load import LoadedConfig
from ..core.keys import dotted as _dotted, split_key
from ..errors import ConfigError
from ..models import Model

Value = Any  # float or np.ndarray [n]


@dataclass
class RecordPlan:
    spikes: bool
    variables: list[str]
    neurons: np.ndarray  # sorted global ids
    every: int
    start_step: int
    stop_step: int  # last step that may be sampled (inclusive)

    @property
    def n_rows(self) -> int:
        if not self.variables or self.stop_step < self.start_step:
            return 0
        return (self.stop_step - self.start_step) // self.every + 1


@dataclass
class Plan:
    name: str
    model: Model
    population: str
    size: int  # neurons per combination
    n: int  # neurons in the run
    params: dict[str, Value]
    init: dict[str, Value]
    inputs: list[tuple[Any, dict[str, Value]]]  # (protocol, resolved numeric fields)
    varying: dict[str, np.ndarray]  # dotted key -> per-neuron values (the /neurons group)
    sweep_axes: dict[str, np.ndarray]  # axis -> values, in config order
    combination: np.ndarray | None  # combination index of each neuron
    dt: float
    n_steps: int
    integrator: str
    precision: str
    seed: int
    device: str
    devices: int | str
    chunk_steps: int | None
    check_finite: bool
    record: RecordPlan
    output: Path
    overwrite: bool
    compression: str | None
    config_yaml: str
    warnings: list[str] = field(default_factory=list)
    spike_timing: str = "grid"  # grid | precise (spikesim.models.spike_timing)
    source: Any = None  # the config's Source: where each key came from, for messages
    output_given: bool = False  # the output path came from -o, not output.path
    #: global id of this plan's neuron 0: 0 for a run, the start of its range for a shard
    #: (spikesim.cluster.shards); noise and file-input columns are keyed by the global id
    first: int = 0
    #: extra root attributes of the output file (a shard's: its place in the sharded run)
    attrs: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return self.n_steps * self.dt


class _Dumper(yaml.SafeDumper):
    """``yaml.safe_dump``, with text of several lines (an equations block) written as a
    literal block, as the user wrote it."""


def _text(dumper, s):
    if "\n" in s:
        # a block scalar keeps neither trailing spaces nor tabs faithfully: only clean text
        if not any(ln != ln.rstrip() or "\t" in ln for ln in s.split("\n")):
            return dumper.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", s)


_Dumper.add_representer(str, _text)


def _generate(spec, key: str, n: int, seed: int) -> np.ndarray:
    """Draw a generator for ``n`` neurons. Each key has its own stream (seed, crc32(key)), so
    adding a generator elsewhere in the config does not change this one's values."""
    kind, arg = next(iter(spec.items()))
    if kind == "linspace":
        return np.linspace(arg[0], arg[1], n)
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    if kind == "normal":
        return rng.normal(arg["mean"], arg["std"], n)
    return rng.uniform(arg[0], arg[1], n)


def _resolve(value, key: str, size: int, n: int, seed: int) -> Value:
    if isinstance(value, dict):
        return _generate(value, key, n, seed)
    if isinstance(value, list):
        return np.tile(np.asarray(value, float), n // size)  # repeats in every combination
    return float(value)


def _sweep(cfg) -> tuple[dict[tuple, np.ndarray], dict[str, np.ndarray], int]:
    """Per-combination values of each axis (canonical key -> [combinations])."""
    if cfg.sweep is None:
        return {}, {}, 1
    axes = {}
    for name, spec in cfg.sweep.axes.items():
        axes[name] = (np.linspace(spec.start, spec.stop, spec.num) if hasattr(spec, "num")
                      else np.asarray(spec, float))
    if cfg.sweep.mode == "zip":
        combos = list(zip(*axes.values()))
    else:
        combos = list(itertools.product(*axes.values()))
    per_combo = {canonical(split_key(name), cfg): np.asarray([c[i] for c in combos])
                 for i, name in enumerate(axes)}
    return per_combo, axes, len(combos)


def _template(path: str, raw: dict, name: str, resolved: dict | None = None,
              where: str = "", varying=()) -> str:
    """Fill ``{name}`` and ``{dotted.key}`` in ``output.path``: the value as written in the
    config or an override (so ``model.params.g_K=30`` gives ``30``), else the resolved value
    (a model default, a protocol field's default)."""
    def find(tree, key):
        node: Any = tree
        for part in split_key(key):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            elif (isinstance(node, list) and len(node) == 1 and isinstance(node[0], dict)
                  and part in node[0]):  # input.F with a single protocol
                node = node[0][part]
            else:
                return None
        return node

    def lookup(m):
        key = m.group(1)
        if key == "name":
            return name
        value = find(raw, key)
        if value is None and resolved is not None:
            value = find(resolved, key)
        if key in varying or isinstance(value, (dict, list)):
            raise ConfigError(f"{where}output.path: the template names {{{key}}}, which varies "
                              f"across neurons (a list, generator or sweep axis), so it has no "
                              f"single value for a file name. Use a key with one value, or "
                              f"{{name}}")
        if value is None:
            raise ConfigError(f"{where}output.path: the template names {{{key}}}, which is not "
                              f"a key with a value in this config. Use {{name}} or a dotted key "
                              f"such as {{model.params.g_K}}")
        return str(value)

    return re.sub(r"\{([^{}]+)\}", lookup, path)


def _steps(t: float, dt: float, how) -> int:
    return int(how(t / dt - 1e-9) if how is math.ceil else how(t / dt + 1e-9))


def make_plan(loaded: LoadedConfig, output: str | Path | None = None) -> Plan:
    cfg, raw = loaded.cfg, loaded.raw
    model = cfg.model.model_class()()
    size, seed = cfg.population.size, cfg.simulation.seed
    per_combo, axes, n_combos = _sweep(cfg)
    n = size * n_combos
    combination = np.repeat(np.arange(n_combos), size) if cfg.sweep is not None else None

    values: dict[tuple, Value] = {k: v for k, v in numeric_keys(cfg).items() if v is not None}
    resolved: dict[tuple, Value] = {k: _resolve(v, _dotted(k), size, n, seed)
                                    for k, v in values.items()}
    for key, combo_values in per_combo.items():
        resolved[key] = combo_values[combination]
    single_input = isinstance(raw.get("input"), dict)
    drawn = []
    for key, value in values.items():
        problem = drawn_out_of_domain(key, value, resolved[key], cfg, model)
        if problem:
            shown = ("input",) + key[2:] if key[0] == "input" and single_input else key
            drawn.append(f"{loaded.source.where(shown)}: {_dotted(shown)}: {problem}")
    if drawn:
        raise ConfigError(drawn)

    params = dict(model.defaults(cfg.model.preset))
    preset_init = dict(model.presets[cfg.model.preset].init) if cfg.model.preset else {}
    init: dict[str, Value] = dict(preset_init)
    inputs = [(proto, {}) for proto in cfg.input]
    for key, value in resolved.items():
        if key[:2] == ("model", "params"):
            params[key[2]] = value
        elif key[:2] == ("model", "init"):
            init[key[2]] = value
        else:
            inputs[key[1]][1][key[2]] = value

    varying = {}
    for key, value in resolved.items():
        if isinstance(value, np.ndarray) and (np.ptp(value) > 0 or key in per_combo):
            shown = ("input",) + key[2:] if key[0] == "input" and single_input else key
            varying[_dotted(shown)] = value

    sim = cfg.simulation
    n_steps = _steps(sim.duration, sim.dt, math.floor)
    warnings = []
    if abs(n_steps * sim.dt - sim.duration) > 1e-9 * sim.duration:
        warnings.append(f"duration {sim.duration} ms is not a whole number of steps of "
                        f"{sim.dt} ms; simulating {n_steps} steps ({n_steps * sim.dt:g} ms)")
    if per_combo:  # a value listed twice: the same neurons simulated twice, most likely a typo
        distinct = np.unique(np.stack(list(per_combo.values()), axis=1), axis=0).shape[0]
        if distinct < n_combos:
            twice = [f"sweep.axes.{name}" for name, vals in axes.items()
                     if np.unique(vals).size < vals.size] if cfg.sweep.mode == "grid" else []
            warnings.append(f"sweep: {n_combos - distinct:,} of the {n_combos:,} combinations "
                            f"repeat another with the same values"
                            + (f" ({', '.join(twice)}: a value listed more than once)"
                               if twice else "")
                            + "; they run the same neurons again (only generators draw "
                              "anew): list each value once")

    # a value that a sweep axis gives is the axis' to fix, not the (ignored) key's own line
    axis_of = {canonical(split_key(a), cfg): a for a in (cfg.sweep.axes if cfg.sweep else {})}
    problems = []
    for i, (proto, f) in enumerate(inputs):
        where = "input" if single_input else f"input.{i}"
        warnings += [f"{where} ({proto.type}): {note}" for note in proto.notes()]
        for name, msg in proto.check_resolved(f, sim.dt):
            key = ("input", name) if single_input else ("input", i, name)
            if ("input", i, name) in axis_of:
                key = ("sweep", "axes", axis_of[("input", i, name)])
            problems.append(f"{loaded.source.where(key)}: {_dotted(key)}: {msg}")
    if problems:
        raise ConfigError(problems)

    rec = cfg.record
    if rec.neurons == "all":
        ids = np.arange(n)
    elif isinstance(rec.neurons, list):
        ids = np.unique(np.asarray(rec.neurons, np.int64))
    elif hasattr(rec.neurons, "first"):
        ids = np.arange(min(rec.neurons.first, n))
    else:
        ids = np.arange(0, n, rec.neurons.every)
    start_step = _steps(rec.start, sim.dt, math.ceil)
    stop_step = n_steps if rec.stop is None else min(n_steps, _steps(rec.stop, sim.dt, math.floor))
    record = RecordPlan(rec.spikes, list(dict.fromkeys(rec.variables)), ids, rec.every,
                        start_step, stop_step)

    resolved_cfg = cfg.model_dump(mode="json", exclude_none=False)
    if resolved_cfg.get("analysis") is None:  # a config without analyses reads as before
        resolved_cfg.pop("analysis", None)
    resolved_cfg["simulation"]["integrator"] = sim.integrator or model.default_integrator
    out_path = Path(output) if output is not None else Path(_template(
        cfg.output.path, raw, cfg.name,
        {**resolved_cfg, "model": {**resolved_cfg["model"],
                                   "params": {k: v for k, v in params.items()
                                              if not isinstance(v, np.ndarray)}}},
        f"{loaded.source.where(('output', 'path'))}: ",
        set(varying) | {_dotted(k) for k in per_combo})).expanduser()  # as input paths
    resolved_cfg["output"]["path"] = str(out_path)
    if cfg.model._built is not None:
        from ..equations import resolved

        resolved_cfg["model"] = resolved(cfg.model._built, params, resolved_cfg["model"])
    else:  # keys of equations models, all unset: keep the resolved config as it was
        for key in ("name", "file", "equations", "current", "threshold", "reset",
                    "refractory"):
            resolved_cfg["model"].pop(key, None)

    return Plan(
        name=cfg.name, model=model, population=cfg.population.name or model.name, size=size,
        n=n, params=params, init=init, inputs=inputs, varying=varying, sweep_axes=axes,
        combination=combination, dt=sim.dt, n_steps=n_steps,
        integrator=sim.integrator or model.default_integrator, precision=sim.precision,
        seed=seed, device=sim.device, devices=sim.devices, chunk_steps=sim.chunk_steps,
        check_finite=sim.check_finite, spike_timing=sim.spike_timing, record=record,
        output=out_path,
        overwrite=cfg.output.overwrite, compression=cfg.output.compression,
        config_yaml=yaml.dump(resolved_cfg, Dumper=_Dumper, sort_keys=False), warnings=warnings,
        source=loaded.source, output_given=output is not None,
    )
