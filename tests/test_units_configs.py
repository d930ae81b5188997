"""Every example config has a twin written with units (configs/with_units/), and both give
the same run: the same resolved config, plan and (run end to end, shortened) the same datasets."""

from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

import spikesim
from spikesim.config.load import load
from spikesim.sim.plan import make_plan

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (REPO / "configs").glob("*.yaml"))


def test_every_example_has_a_twin_with_units():
    assert EXAMPLES and EXAMPLES == sorted(p.name for p in (REPO / "configs/with_units").glob("*.yaml"))
    for name in EXAMPLES:
        raw = yaml.safe_load((REPO / "configs/with_units" / name).read_text())
        assert isinstance(raw["simulation"]["dt"], str)  # it does use units, e.g. "10 us"


def _resolved(plan):
    cfg = yaml.safe_load(plan.config_yaml)
    cfg.pop("name")
    cfg["output"].pop("path")
    return cfg


@pytest.mark.parametrize("name", EXAMPLES)
def test_twin_gives_the_same_plan(name):
    a = make_plan(load(REPO / "configs" / name))
    b = make_plan(load(REPO / "configs/with_units" / name))
    ra, rb = _resolved(a), _resolved(b)
    if name == "adex.yaml":  # the twin restates the preset's a and b, in nS and nA
        assert rb["model"].pop("params") == {"a": 2.0, "b": 60.0}
        ra["model"].pop("params")
    assert ra == rb
    assert a.dt == b.dt and a.n_steps == b.n_steps and a.n == b.n
    assert a.params.keys() == b.params.keys()
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k]), k
    assert {k: np.asarray(v).tolist() for k, v in a.init.items()} == \
        {k: np.asarray(v).tolist() for k, v in b.init.items()}
    for (_, fa), (_, fb) in zip(a.inputs, b.inputs):
        assert {k: np.asarray(v).tolist() for k, v in fa.items()} == \
            {k: np.asarray(v).tolist() for k, v in fb.items()}
    assert {k: v.tolist() for k, v in a.sweep_axes.items()} == \
        {k: v.tolist() for k, v in b.sweep_axes.items()}


def _datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda k, d: out.__setitem__(k, d[()]) if isinstance(d, h5py.Dataset)
                     else None)
    return out


@pytest.mark.parametrize("name, short", [("hh_step.yaml", "12 ms"), ("adex.yaml", "30 ms"),
                                         ("fi_curve.yaml", "0.01 s")])
def test_twin_writes_identical_datasets(tmp_path, name, short):
    # both shortened by the same override, given with a unit to the twin
    ms = float(short.split()[0]) * (1000 if short.endswith(" s") else 1)
    a = spikesim.run(REPO / "configs" / name, f"simulation.duration={ms}",
                     f"input.stop={ms}", output=tmp_path / "a.h5")
    b = spikesim.run(REPO / "configs/with_units" / name, f"simulation.duration={short}",
                     f"input.stop={short}", output=tmp_path / "b.h5")
    da, db = _datasets(a), _datasets(b)
    assert da.keys() == db.keys() and da
    for k in da:
        assert np.array_equal(da[k], db[k]), k


def test_twins_pass_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from spikesim.config.quantities import schema_with_units
    from spikesim.config.schema import config_class

    schema = schema_with_units(config_class().model_json_schema())
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)  # (validate() would check the schema each time)
    for name in EXAMPLES:
        for folder in ("configs", "configs/with_units"):
            v.validate(yaml.safe_load((REPO / folder / name).read_text()))
    # and every other example, e.g. analysis options with units (a list of two currents)
    others = sorted(set((REPO / "configs").rglob("*.yaml")) - {
        REPO / folder / name for name in EXAMPLES for folder in ("configs", "configs/with_units")})
    assert any("analysis" in p.parts for p in others)
    for path in others:
        v.validate(yaml.safe_load(path.read_text()))
    with pytest.raises(jsonschema.ValidationError):
        v.validate({"model": {"type": "lif", "params": {"tau_m": "ten ms"}},
                    "simulation": {"duration": 1, "dt": 0.1}})
    # switches by name (issue 14), for all neurons or per neuron
    v.validate({"model": {"type": "lif", "params": {"reset_mode": "linear"}},
                "simulation": {"duration": 1, "dt": 0.1}})
    v.validate({"model": {"type": "hodgkin_huxley", "params": {"spike_reset": [True, False]}},
                "simulation": {"duration": 1, "dt": 0.1}})
    with pytest.raises(jsonschema.ValidationError):
        v.validate({"model": {"type": "lif", "params": {"reset_mode": "linaer"}},
                    "simulation": {"duration": 1, "dt": 0.1}})
    with pytest.raises(jsonschema.ValidationError):  # not a parameter of lif
        v.validate({"model": {"type": "lif", "params": {"g_K": 3}},
                    "simulation": {"duration": 1, "dt": 0.1}})
