"""Spike times of one model neuron, on the grid and precise, by driving the model directly
(``Model.step`` / ``Model.precise_step`` in a jitted ``lax.scan``, as ``_modelsim``), and an
event-driven reference: scipy DOP853 on the equations of ``_equations`` with a terminal event
at the threshold, the reset applied at the event and the refractory period held exactly."""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from _equations import rhs  # noqa: E402
from _modelsim import make_params  # noqa: E402
from spikesim.models.integrators import INTEGRATORS  # noqa: E402
from spikesim.models import MODELS  # noqa: E402


def conductance_input(current, g, reversal):
    """``I(t, v) = current + g (reversal - v)``: a constant current and a constant
    conductance, in the form spikesim's engine gives the models a conductance input
    (``conductance`` and ``affine(t) = (a, b)``, ``I = a - b v``; spikesim.sim.engine)."""

    def drive(t, v):
        return current + g * (reversal - v)

    drive.conductance = True
    drive.affine = lambda t: (current + g * reversal, g)
    return drive


def model_spike_times(name, *, dt, t_end, integrator="rk4", current=0.0, params=None,
                      preset=None, init=None, timing="precise", dtype=jnp.float64,
                      conductance=None):
    """Spike times (ms) of one neuron: the end of the crossing step (grid) or the crossing
    time (precise). ``conductance = (g, reversal)`` adds a constant conductance input."""
    model = MODELS[name]()
    p = make_params(model, dtype, preset, **(params or {}))
    init_values = dict(model.presets[preset].init) if preset else {}
    init_values.update(init or {})
    y0 = model.initial_state(p, {k: jnp.asarray(v, dtype) for k, v in init_values.items()},
                             1, dtype)
    integrate = INTEGRATORS[integrator]
    c = jnp.asarray(current, dtype)
    drive = (lambda tt: c) if conductance is None else conductance_input(
        c, *(jnp.asarray(x, dtype) for x in conductance))
    n_steps = int(round(t_end / dt))

    def body(y, k):
        t = k.astype(jnp.float64) * dt
        if timing == "precise":
            y, s, off = model.precise_step(integrate, y, p, t, dt, drive,
                                           "float64" if dtype == jnp.float64 else "float32")
            return y, (s, t + off)
        y, s = model.step(integrate, y, p, t, dt, drive)
        return y, (s, jnp.broadcast_to(t + dt, s.shape))

    _, (s, times) = jax.jit(lambda y: jax.lax.scan(body, y, jnp.arange(n_steps)))(y0)
    s, times = np.asarray(s)[:, 0], np.asarray(times, np.float64)[:, 0]
    return times[s]


#: what each model's reset does to its state vector (in _equations' order), and its
#: threshold test's parameter
RESETS = {
    "adex": lambda y, p: [p["v_reset"], y[1] + p["b"]],
    "izhikevich": lambda y, p: [p["c"], y[1] + p["d"]],
    "eif": lambda y, p: [p["v_reset"]],
    "qif": lambda y, p: [p["v_reset"]],
    "lif": lambda y, p: [p["v_reset"]],
    "hodgkin_huxley": None,
    "wang_buzsaki": None,
}


def reference_spike_times(name, *, t_end, current=0.0, params=None, preset=None, init=None,
                          rtol=1e-12, atol=1e-12, conductance=None, start=0.0):
    """Event-driven DOP853 spike times: upward crossings of the threshold; for models with a
    reset, the reset at the crossing and (integrate-and-fire models) v held for t_ref.
    ``conductance = (g, reversal)`` adds a constant conductance input; ``start``: the
    current is switched on then (a step), integrated as two pieces around the jump."""
    model = MODELS[name]()
    p = model.defaults(preset)
    p.update(params or {})
    f, names = rhs(name, p, current if conductance is None else
                   conductance_input(current, *conductance))
    init_values = dict(model.presets[preset].init) if preset else {}
    init_values.update(init or {})
    y0 = model.initial_state(make_params(model, jnp.float64, preset, **(params or {})),
                             {k: jnp.asarray(v, jnp.float64) for k, v in init_values.items()},
                             1, jnp.float64)
    y = [float(np.asarray(y0[k])[0]) for k in names]
    th = p[model.threshold_param]
    reset = RESETS[name]

    def event(t, y):
        return y[0] - th

    event.direction = 1
    event.terminal = reset is not None
    t, times = 0.0, []
    if start > 0:  # no input before the step (and no spike: checked by the event)
        f0, _ = rhs(name, p, 0.0)
        sol = solve_ivp(f0, (0.0, start), y, method="DOP853", rtol=rtol, atol=atol,
                        events=event)
        assert not sol.t_events[0].size
        t, y = start, list(sol.y[:, -1])
    while t < t_end:
        sol = solve_ivp(f, (t, t_end), y, method="DOP853", rtol=rtol, atol=atol, events=event)
        if reset is None:
            return np.asarray(sol.t_events[0])
        if not sol.t_events[0].size:
            break
        t = float(sol.t_events[0][0])
        times.append(t)
        y = reset(list(sol.y_events[0][0]), p)
        t += p.get("t_ref", 0.0) if name in ("lif", "qif", "eif") else 0.0
    return np.asarray(times)


def error(times, ref):
    """Largest spike-time error over the spikes both have (the counts must agree)."""
    assert times.size == ref.size, (times.size, ref.size, times[:5], ref[:5])
    return float(np.abs(times - ref).max())
