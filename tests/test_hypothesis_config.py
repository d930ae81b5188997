"""Property: whatever config, override or YAML text the loader is fed, the only outcomes are a
plan or a clean spikesim error (exit 2, a message naming a key or a place). Never a traceback.
Nothing is compiled: only ``config.load`` and ``plan.make_plan`` run."""

from __future__ import annotations

import copy

import yaml
from _configtree import container, paths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikesim.config.load import load
from spikesim.errors import SpikesimError
from spikesim.sim.plan import make_plan

VALID = [
    {"model": {"type": "hodgkin_huxley", "params": {"g_K": 36.0}},
     "population": {"size": 3},
     "simulation": {"duration": 10.0, "dt": 0.01, "integrator": "rk4"},
     "input": {"type": "step", "amplitude": 10.0, "start": 1.0, "stop": 8.0},
     "record": {"variables": ["v"], "every": 10, "neurons": [0, 2]}},
    {"model": {"type": "lif", "params": {"tau_m": {"normal": {"mean": 10.0, "std": 1.0}}}},
     "population": {"size": 4, "name": "exc"},
     "simulation": {"duration": 5.0, "dt": 0.1, "seed": 3},
     "input": [{"type": "constant", "amplitude": [1.0, 2.0, 3.0, 4.0]},
               {"type": "ou", "mean": 0.0, "std": 0.5, "tau": 5.0}],
     "sweep": {"mode": "grid", "axes": {"model.params.v_th": [-50.0, -45.0],
                                        "input.0.amplitude": {"start": 1.0, "stop": 2.0,
                                                              "num": 2}}}},
    {"model": {"type": "izhikevich", "preset": "RS"},
     "simulation": {"duration": 2.0, "dt": 0.5, "precision": "float64"},
     "input": {"type": "pulses", "amplitude": 10.0, "start": 0.0, "width": 0.5,
               "period": 1.0, "count": 2},
     "record": {"spikes": False, "variables": ["v", "input"], "start": 0.5, "stop": 1.5},
     "output": {"path": "out/{name}_{model.preset}.h5"}},
]

# small numbers: a mutated size or sweep must stay cheap to plan (the plan draws generators)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 40),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([0, 0.0, -1.0, 1e-12, 1e12, "", "abc", "1e-3", "all", "rk4", "v",
                     "hodgkin_huxley", "{name}", "step"]),
    st.text(max_size=8),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["type", "mean", "std", "start", "stop", "num", "first",
                                     "every", "linspace", "normal", "uniform", "x"]) | st.text(max_size=6),
                    inner, max_size=3)), max_leaves=8)


@st.composite
def mutated(draw):
    cfg = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        keys = paths(cfg)
        if not keys:
            break
        path = draw(st.sampled_from(keys))
        parent, last = container(cfg, path), path[-1]
        action = draw(st.sampled_from(["replace", "delete", "rename", "add"]))
        if action == "replace":
            parent[last] = draw(values)
        elif action == "delete":
            del parent[last]
        elif action == "rename" and isinstance(parent, dict):
            new = draw(st.sampled_from([str(last)[:-1], str(last) + "s", str(last).upper(),
                                        "_" + str(last)]) | st.text(min_size=1, max_size=6))
            parent[new] = parent.pop(last)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=6))] = draw(values)
    return cfg


def _outcome(cfg=None, overrides=(), path=None):
    """A plan, or a SpikesimError with a message; anything else fails the test."""
    try:
        plan = make_plan(load(path, list(overrides), data=cfg if path is None else None))
    except SpikesimError as e:
        assert e.exit_code == 2
        assert str(e).strip() and "Traceback" not in str(e)
        return e
    assert plan.n >= 1 and plan.n_steps >= 1
    yaml.safe_load(plan.config_yaml)
    return plan


SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(mutated())
def test_mutated_configs_give_a_plan_or_a_clean_error(cfg):
    _outcome(cfg)


@SETTINGS
@given(st.sampled_from(VALID),
       st.lists(st.tuples(st.sampled_from(["simulation.dt", "population.size", "model.type",
                                           "record.every", "input.amplitude", "input.0.std",
                                           "sweep.axes.model.params.g_K", "model.params.x",
                                           "record.neurons", "output.path", "a.b.c", "input.5",
                                           "model.init.v", "record.variables.0", "sweep"]),
                          st.text(max_size=12) | st.sampled_from(["[1, 2", "{a: 1}", "-1", "0",
                                                                  "nan", ".inf", "[]", "~"])),
                max_size=3))
def test_overrides_give_a_plan_or_a_clean_error(cfg, pairs):
    _outcome(cfg, [f"{k}={v}" for k, v in pairs])


@SETTINGS
@given(st.text(max_size=200) | st.sampled_from([
    yaml.safe_dump(c, sort_keys=False) for c in VALID]).flatmap(
        lambda text: st.integers(0, len(text)).map(lambda i: text[:i] + text[i + 1:])))
def test_yaml_text_gives_a_plan_or_a_clean_error(tmp_path_factory, text):
    path = tmp_path_factory.getbasetemp() / "hypothesis.yaml"
    path.write_text(text)
    _outcome(path=path)


def test_the_valid_configs_are_valid():
    for cfg in VALID:
        assert not isinstance(_outcome(cfg), SpikesimError)
