"""Drive a model directly with an integrator (no runner): ``lax.scan`` over ``model.step``
under ``jax.jit``, and small spike-train measures used by the model tests."""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from spikesim.models.integrators import INTEGRATORS  # noqa: E402


def make_params(model, dtype, preset=None, **overrides):
    values = model.defaults(preset)
    values.update(overrides)
    return {k: jnp.asarray(v, dtype) for k, v in values.items()}


def simulate(model, *, dt, n_steps, integrator=None, dtype=jnp.float64, current=0.0,
             preset=None, params=None, init=None, n=1):
    """Run ``n_steps`` steps. ``current`` is a number, an [n] array or a function of t (a jax
    scalar) returning either. ``params`` values may be scalars or [n] arrays. Returns
    ``(traces, spikes)``: traces maps each state to a float64 array [n_steps + 1, n] (row 0 is
    the initial state), spikes is a bool array [n_steps, n] (row k: spike on step k, stamped at
    (k + 1) dt)."""
    integrator = integrator or model.default_integrator
    p = make_params(model, dtype, preset, **(params or {}))
    init_values = dict(model.presets[preset].init) if preset else {}
    init_values.update(init or {})
    y0 = model.initial_state(p, {k: jnp.asarray(v, dtype) for k, v in init_values.items()},
                             n, dtype)
    integrate = INTEGRATORS[integrator]
    if callable(current):
        def cur(t):
            return jnp.asarray(current(t), dtype)
    else:
        c = jnp.asarray(current, dtype)

        def cur(t):
            return c

    def body(y, k):
        t = k.astype(dtype) * dt
        y_new, s = model.step(integrate, y, p, t, dt, cur)
        return y_new, (y_new, s)

    @jax.jit
    def run(y0):
        return jax.lax.scan(body, y0, jnp.arange(n_steps))

    _, (ys, spikes) = run(y0)
    for name, x in ys.items():
        assert x.dtype == dtype, f"{model.name}.{name} changed dtype to {x.dtype}"
    traces = {k: np.concatenate([np.asarray(y0[k])[None], np.asarray(ys[k])]).astype(np.float64)
              for k in ys}
    return traces, np.asarray(spikes)


def spike_times(spikes, dt, neuron=0):
    """Timestamps (end of the crossing step) of one neuron's spikes."""
    return (np.flatnonzero(spikes[:, neuron]) + 1) * dt


def adaptation_index(isi):
    """Mean normalised change of consecutive ISIs (Naud et al. 2008): > 0 adapting, ~0 tonic,
    < 0 accelerating."""
    isi = np.asarray(isi)
    return float(np.mean((isi[1:] - isi[:-1]) / (isi[1:] + isi[:-1])))


def bursts(times, gap):
    """Split spike times into groups separated by ISIs longer than ``gap``."""
    times = np.asarray(times)
    if times.size == 0:
        return []
    cut = np.flatnonzero(np.diff(times) > gap) + 1
    return np.split(times, cut)
