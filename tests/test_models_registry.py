"""Checks run over every registered model: its declarations are complete and consistent, and
every integrator it accepts runs its defaults and every preset to finite values in float32 and
float64 (one neuron per preset, in one compiled run, which also exercises per-neuron
parameters)."""

import jax.numpy as jnp
import numpy as np
import pytest

from _modelsim import simulate
from spikesim.models.integrators import INTEGRATORS
from spikesim.models import MODELS, get_model

#: an input that makes each model's defaults fire (presets use their own ``current``)
DRIVE = {"hodgkin_huxley": 10.0, "wang_buzsaki": 1.0, "adex": 30.0, "izhikevich": 10.0,
         "lif": 2.0, "qif": 2.0, "eif": 2.0}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_declarations(name):
    model = MODELS[name]
    assert model.name == name
    for attr in ("summary", "citation", "equations", "update_order", "current_unit"):
        assert isinstance(getattr(model, attr), str) and getattr(model, attr).strip()
    assert model.threshold_param in model.params
    assert model.default_integrator in model.integrators()
    assert set(model.integrators()) <= set(INTEGRATORS)
    for pname, par in model.params.items():
        assert par.unit and par.doc and par.ref, pname
        assert par.domain in (None, "positive", "nonnegative")
    assert "v" in model.states
    for preset in model.presets.values():
        assert set(preset.params) <= set(model.params)
        assert set(preset.init) <= set(model.states)
        assert preset.source
    # exp_euler is offered exactly when there is a conditionally linear variable
    assert ("exp_euler" in model.integrators()) == bool(model.linear_states())


def test_models_without_linear_variable_refuse_exp_euler():
    assert "exp_euler" not in MODELS["qif"].integrators()
    assert "exp_euler" not in MODELS["eif"].integrators()
    for name in ("hodgkin_huxley", "wang_buzsaki", "adex", "izhikevich", "lif"):
        assert "exp_euler" in MODELS[name].integrators()


CASES = [(name, integ, dtype) for name in sorted(MODELS) for integ in MODELS[name].integrators()
         for dtype in (jnp.float32, jnp.float64)]


@pytest.mark.parametrize("name,integrator,dtype", CASES)
def test_defaults_and_presets_run_finite(name, integrator, dtype):
    model = get_model(name)
    sets = [None] + list(model.presets)
    params = {k: np.array([model.defaults(s)[k] for s in sets]) for k in model.params}
    init = {}
    for var in model.states:
        values = [model.presets[s].init.get(var) if s else None for s in sets]
        if any(v is not None for v in values):
            default = model.states[var].init
            init[var] = np.array([default if v is None else v for v in values])
    current = np.array([DRIVE.get(name, 0.0) if s is None or model.presets[s].current is None
                        else model.presets[s].current for s in sets])
    tr, sp = simulate(model, dt=0.01, n_steps=3000, integrator=integrator, dtype=dtype,
                      params=params, init=init, current=current, n=len(sets))
    for var, x in tr.items():
        assert np.all(np.isfinite(x)), (var, np.flatnonzero(~np.isfinite(x).all(axis=0)))
    assert sp[:, 0].any(), "the defaults should fire under DRIVE"
