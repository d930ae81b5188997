"""Declared units are complete and consistent (issue 15): every parameter, initial value,
input field and simulation field declares a unit that pint parses, of the dimension the
equations need; `spikesim schema`, `spikesim models NAME --json` and the HDF5 file show them."""

import json

import pytest

from spikesim.describe import model_info
from spikesim.inputs import PROTOCOLS
from spikesim.models import MODELS
from spikesim.config.quantities import schema_with_units
from spikesim.config.schema import RecordSection, SimulationSection, config_class
from spikesim.core.units import field_unit, parse_unit, resolve


def dim(unit):
    return parse_unit(unit).dimensionality


def same(a, b):
    return dim(a) == dim(b)


def expected(model, name: str) -> str:
    """The dimension (as a unit expression) a parameter needs, from the role its name has in
    the model's equations; a parameter with no rule fails the test, so a new one must be
    given one."""
    I, V = model.current_unit, "mV"
    if name.startswith(("v_", "E_")) or name in ("delta_T", "reset_offset", "c"):
        return V
    if name.startswith("tau_") or name == "t_ref":
        return "ms"
    if name.startswith("g_"):  # I = g (v - E)
        return f"({I})/mV"
    if name == "C":  # C dv/dt = I
        return f"({I})*ms/mV"
    if name == "R_m":  # v moves by R_m I: a resistance, or a scale where I is v's own unit
        return "mV/(" + I + ")" if not same(I, "uA/cm2") else "1"
    if name in ("reset_mode", "reset_slope", "spike_reset", "phi"):
        return "1"
    rules = {("izhikevich", "a"): "1/ms", ("izhikevich", "b"): "1/ms",
             ("izhikevich", "d"): I,  # u jumps by d; u enters dv/dt as a current
             ("adex", "a"): f"({I})/mV",  # tau_w dw/dt = -w + a (v - v_rest), w a current
             ("adex", "b"): I, ("qif", "a"): "1/mV"}
    return rules[(model.name, name)]


@pytest.mark.parametrize("name", list(MODELS))
def test_every_parameter_has_a_unit_of_the_right_dimension(name):
    m = MODELS[name]
    parse_unit(m.current_unit)
    # the current unit is what moves v: C dv/dt (or v/ms for a model without C) per unit
    assert same(m.current_unit, "nA") or same(m.current_unit, "uA/cm2") \
        or same(m.current_unit, "mV/ms"), m.current_unit
    for p, decl in m.params.items():
        assert same(decl.unit, expected(m, p)), (name, p, decl.unit, expected(m, p))


@pytest.mark.parametrize("name", list(MODELS))
def test_every_state_variable_has_a_unit(name):
    m = MODELS[name]
    for s, decl in m.states.items():
        if not decl.integrated:
            continue  # bookkeeping (refractory steps left): not a physical quantity
        want = {"v": "mV", "w": m.current_unit, "u": m.current_unit}.get(s, "1")
        assert same(decl.unit, want), (name, s, decl.unit)


#: dimension of every numeric field of every protocol, with I for the model's current unit
PROTOCOL_FIELDS = {
    "constant": {"amplitude": "I"},
    "step": {"amplitude": "I", "start": "ms", "stop": "ms"},
    "pulses": {"amplitude": "I", "start": "ms", "width": "ms", "period": "ms", "count": "1"},
    "ramp": {"start": "ms", "stop": "ms", "from": "I", "to": "I"},
    "sine": {"amplitude": "I", "frequency": "1/s", "phase": "1", "offset": "I",
             "start": "ms", "stop": "ms"},
    "noise": {"mean": "I", "std": "I*ms^0.5", "start": "ms", "stop": "ms"},
    "ou": {"mean": "I", "std": "I", "tau": "ms", "start": "ms", "stop": "ms"},
    "file": {"scale": "1", "dt": "ms"},
    # weight as declared on the field (the default kind: conductance); kind: current's is I,
    # see test_synaptic_weight_unit_follows_kind
    "poisson_synapses": {"rate": "1/s", "weight": "I/mV", "tau": "ms", "reversal": "mV",
                         "start": "ms", "stop": "ms"},
    "spike_file": {"weight": "I/mV", "tau": "ms", "reversal": "mV"},
}


@pytest.mark.parametrize("model", list(MODELS))
def test_synaptic_weight_unit_follows_kind(model):
    cur = MODELS[model].current_unit
    for proto in (p for p in PROTOCOLS.values() if p.synaptic):
        assert proto.declared_units({}) == {}  # the field's own unit: a conductance
        assert same(resolve(proto.declared_units({"kind": "current"})["weight"], cur), cur)


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("proto", list(PROTOCOLS))
def test_every_input_field_has_a_unit_of_the_right_dimension(proto, model):
    cls, cur = PROTOCOLS[proto], MODELS[model].current_unit
    declared = {(info.alias or attr): field_unit(info) for attr, info in cls.model_fields.items()
                if field_unit(info) is not None}
    # every numeric field (and every other number) declares a unit
    assert set(cls.numeric) <= set(declared)
    assert declared.keys() == PROTOCOL_FIELDS[proto].keys()
    for f, unit in declared.items():
        want = PROTOCOL_FIELDS[proto][f].replace("I", f"({cur})")
        assert same(resolve(unit, cur), want), (proto, f, unit)


def test_simulation_and_record_fields_are_times():
    for cls, names in ((SimulationSection, ("duration", "dt")), (RecordSection, ("start", "stop"))):
        for n in names:
            assert same(field_unit(cls.model_fields[n]), "ms")


def test_schema_shows_every_unit_and_they_parse():
    s = schema_with_units(config_class().model_json_schema())
    found = []

    def walk(node, path=()):
        if isinstance(node, dict):
            if isinstance(node.get("unit"), str):
                found.append((path, node["unit"]))
            for k, v in node.items():
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))

    walk(s)
    for _, unit in found:
        parse_unit(resolve(unit, "nA"))
    defs = s["$defs"]
    assert defs["SimulationSection"]["properties"]["dt"]["unit"] == "ms"
    assert defs["RecordSection"]["properties"]["stop"]["unit"] == "ms"
    assert defs["Step"]["properties"]["amplitude"]["unit"] == "<model current unit>"
    # a synapse's weight is a conductance for the default kind (it read as a current)
    for proto in ("PoissonSynapses", "SpikeFile"):
        assert defs[proto]["properties"]["weight"]["unit"] == "<model conductance unit>"
    # every model's parameters and initial values, with their units
    for rule in s["allOf"]:
        name = rule["if"]["properties"]["model"]["properties"]["type"]["const"]
        model = rule["then"]["properties"]["model"]["properties"]
        m = MODELS[name]
        assert {k: v["unit"] for k, v in model["params"]["properties"].items()} == \
            {k: p.unit for k, p in m.params.items()}
        assert {k: v["unit"] for k, v in model["init"]["properties"].items()} == \
            {k: st.unit for k, st in m.states.items() if st.integrated}
    assert {r["if"]["properties"]["model"]["properties"]["type"]["const"]
            for r in s["allOf"]} == set(MODELS)
    assert s["x-current-units"]["hodgkin_huxley"] == "uA/cm2"


def test_models_json_lists_units():
    for name in MODELS:
        info = model_info(name)
        assert all(p["unit"] for p in info["params"].values())
        assert all(st["unit"] for st in info["states"].values())
        json.dumps(info)


def test_hdf5_attributes_hold_the_units(run_config):
    f = run_config({"model": {"type": "lif", "params": {"tau_m": {"linspace": [8, 12]}}},
                    "population": {"size": 3}, "simulation": {"duration": 2, "dt": 0.1},
                    "input": {"type": "step", "amplitude": [1, 2, 3]},
                    "record": {"variables": ["v", "input"]},
                    "sweep": {"axes": {"model.params.R_m": [10, 20]}}})
    units = json.loads(f.attrs["units"])
    assert units["model.params.tau_m"] == "ms" and units["input.amplitude"] == "nA"
    assert units["simulation.dt"] == units["dt"] == "ms"
    assert f["neurons/lif/model.params.tau_m"].attrs["units"] == "ms"
    assert f["neurons/lif/input.amplitude"].attrs["units"] == "nA"
    assert f["neurons/lif/sweep/model.params.R_m"].attrs["units"] == "MOhm"
    assert f["report/lif/v/data"].attrs["units"] == "mV"
    assert f["report/lif/input/data"].attrs["units"] == "nA"
    assert f["state/lif/v"].attrs["units"] == "mV"
    for unit in units.values():
        parse_unit(unit)
