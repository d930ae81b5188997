"""Precise spike timing (``simulation.spike_timing: precise``, SPEC section 6).

On the grid (the default) a spike is stamped at the end of the step in which v crossed, and a
model with a reset resets there, so spike times carry an O(dt) error whatever the integrator.
In ``precise`` mode one step of a model does, for every neuron (vectorised, branch-free):

1. integrate the step, keeping a *dense output* of every integrated variable over it: a cubic
   in theta = (s - t)/h for s in [t, t + h]. For ``rk4`` it is the method's own continuous
   extension of order 3, built from its four stages at no extra cost (Hairer, Norsett &
   Wanner, Solving ODEs I, section II.6); for every other integrator the cubic Hermite
   interpolant through v and dv/dt at both ends of the step (one extra evaluation of the
   vector field at the end of the step);
2. detect the spike with the model's own test (``Model.spiked``, as on the grid);
3. locate the crossing time: in closed form where the model has one over the step
   (``Model.crossing_time``: LIF and QIF under the input held at its value at the start of
   the (sub-)step; a conductance input as ``I = a - b v``, its conductance held too), else
   the root of ``poly_v(theta) = v_th`` in [0, 1] (v the model's ``threshold_var``, v_th
   its ``threshold``) by Newton's method safeguarded by bisection, a fixed number of
   iterations (no data-dependent branch);
4. for a model that resets (``Model.resets_at_crossing``): evaluate the dense output of every
   variable at the crossing, apply the model's reset there, and integrate the rest of the
   step from the reset state by one sub-step of the configured integrator (exact for LIF's
   ``exp_euler``). Integrate-and-fire models are refractory for ``t_ref`` in continuous time
   from the crossing: the sub-step starts when the refractory period ends, and a neuron whose
   refractory period ends inside a later step integrates that step from that moment.
   Equations models with ``refractory`` do the same with several variables: on a refractory
   stretch the variables that ``reset`` assigns keep their values and the others are
   integrated with them held (:func:`equations_refractory_step`);
5. models without a reset (Hodgkin-Huxley, Wang-Buzsaki) keep their dynamics unchanged;
   only the timestamps move (HH's optional ``spike_reset`` still snaps at the end of the
   step).

A neuron spikes at most once per step: a second crossing within the rest of the step (only
possible when t_ref < dt) is not detected in that step; the level test finds v above
threshold on the next step, whose crossing is then located at that step's start. (An
equations model's threshold is an upward crossing, false at the step's start: there such a
second crossing gives no spike until v has fallen below the threshold again; it needs a rate
near 1/dt.)

The refractory counter ``refrac`` of the integrate-and-fire models (and of equations models
with ``refractory``) keeps its grid meaning in steps (free when it is at most 1 at the start
of a step), but holds fractions: at the start of a step a neuron is free from
``clip(refrac - 1, 0, 1) * dt`` into the step on. A grid counter is therefore a valid precise
one, and a file's final state continues either way.

The step returns the spike's offset from the start of the step in ms (``0 < offset <= dt``
for a crossing inside the step); the host adds it to the step's start time in float64.

In a run, the engine does this work only on the steps where it can change anything: grid
steps (``Model.step``) as long as no neuron needs more (``Model.precise_needed``: none
crossed on the grid, and for the integrate-and-fire models none has its refractory period
end inside the step, which ``Model.precise_due`` foretells at the start of a run), checked
once per block for each neuron, then once per run of grid steps for the neurons done again
(whole tiles, or batches gathered from several), and :func:`sparse_step` on the steps where
one does. Where no neuron needs it the precise step computes the grid step's values, so the
result does not depend on the path taken. The offsets go into one slot per neuron and block
(:mod:`spikesim.sim.engine`).
"""

from __future__ import annotations

from ..lazyjax import jnp

from .integrators import RK4
from .drive import held_input, input_at, input_before

#: Newton iterations of the crossing search (each also narrows a bisection bracket): enough
#: for a cubic that is monotone across the root to reach the last bits of float64 from the
#: secant start; float32 needs fewer.
NEWTON_ITERATIONS = {"float64": 4, "float32": 2}


def _hermite(y0, y1, hf0, hf1):
    """Cubic Hermite interpolant through (y0, h f0) at theta = 0 and (y1, h f1) at 1, as
    polynomial coefficients in theta."""
    return (y0, hf0, 3.0 * (y1 - y0) - 2.0 * hf0 - hf1, 2.0 * (y0 - y1) + hf0 + hf1)


def polyval(c, theta):
    c0, c1, c2, c3 = c
    return c0 + theta * (c1 + theta * (c2 + theta * c3))


def dense_step(integrate, model, y, p, t, h, current):
    """One step of length ``h`` (scalar or per neuron) and its dense output:
    ``(y1, {var: (c0, c1, c2, c3)})`` with ``var(t + theta h) ~ c0 + c1 theta + c2 theta^2
    + c3 theta^3`` for every integrated variable."""
    stages = getattr(integrate, "stages", None)
    if stages is not None and integrate.tableau is RK4:
        # rk4's continuous extension (order 3): b1(th) = th - 3/2 th^2 + 2/3 th^3,
        # b2 = b3 = th^2 - 2/3 th^3, b4 = -1/2 th^2 + 2/3 th^3; b(1) = (1/6, 1/3, 1/3, 1/6)
        y1, (k1, k2, k3, k4) = stages(model, y, p, t, h, current)
        poly = {n: (y[n], h * k1[n], h * (-1.5 * k1[n] + k2[n] + k3[n] - 0.5 * k4[n]),
                    h * (2.0 / 3.0) * (k1[n] - k2[n] - k3[n] + k4[n])) for n in k1}
        return y1, poly
    y1 = integrate(model, y, p, t, h, current)
    f0 = model.vector_field(t, y, p, input_at(current, t, y))
    f1 = model.vector_field(t + h, y1, p, input_before(current, t + h, y1))
    return y1, {n: _hermite(y[n], y1[n], h * f0[n], h * f1[n]) for n in f0}


def cubic_crossing(c, level, iterations: int):
    """theta in [0, 1] where the cubic ``c`` first reaches ``level`` from below, for a cubic
    with ``c(0) < level <= c(1)``: 0 where it starts at or above the level, 1 where it ends
    below. Newton from the secant's root, each iterate kept in a bracket that shrinks with
    every evaluation (bisection where Newton would leave it)."""
    c0, c1, c2, c3 = c
    g0 = c0 - level
    g1 = c0 + c1 + c2 + c3 - level
    ok = (g0 < 0) & (g1 >= 0)
    end = (g0 < 0).astype(g0.dtype)  # where there is no crossing: 0 if above from the start
    # lanes with no crossing iterate on a stand-in line with its root at 1/2: on their own
    # cubic Newton's iterates run off to inf, NaN or subnormal numbers, each of which costs an
    # x86 core some hundred cycles per operation (an isolated search ran 3x slower so)
    g0 = jnp.where(ok, g0, -0.5)
    c1 = jnp.where(ok, c1, 1.0)
    c2 = jnp.where(ok, c2, 0.0)
    c3 = jnp.where(ok, c3, 0.0)
    lo = jnp.zeros_like(g0)
    hi = jnp.ones_like(g0)
    theta = -g0 / (g0 + c1 + c2 + c3 - g0)  # secant: in (0, 1] on every lane
    for _ in range(iterations):
        g = polyval((g0, c1, c2, c3), theta)
        below = g < 0
        lo = jnp.where(below, theta, lo)
        hi = jnp.where(below, hi, theta)
        d = c1 + theta * (2.0 * c2 + 3.0 * theta * c3)
        nxt = theta - g / jnp.where(d > 0, d, 1.0)
        theta = jnp.where((d > 0) & (nxt >= lo) & (nxt <= hi), nxt, 0.5 * (lo + hi))
    return jnp.where(ok, theta, end)


def _crossing(model, integrate, y, p, t, h, current, iterations):
    """``(y1, poly, tau)``: the step from ``t`` over ``h``, its dense output (None where the
    model's closed form makes it unnecessary) and the crossing's time after ``t``, clipped to
    [0, h] (meaningful where the model's spike test fires)."""
    th = model.threshold(p)
    if model.closed_form_crossing:
        y1 = integrate(model, y, p, t, h, current)
        tau = model.crossing_time(y, p, held_input(current, t), h)
        # where the closed form has no root in the step (the numerical step crossed but the
        # exact solution from its start does not), the end of the step, as on the grid
        tau = jnp.where(jnp.isfinite(tau), jnp.clip(tau, 0.0, h), h)
        return y1, None, tau
    y1, poly = dense_step(integrate, model, y, p, t, h, current)
    return y1, poly, h * cubic_crossing(poly[model.threshold_var], th, iterations)


def _at(poly, y, y1, theta):
    """The state at ``theta`` of the step: the dense output of the integrated variables,
    bookkeeping variables as after the step."""
    return {n: (polyval(poly[n], theta) if n in poly else y1[n]) for n in y1}


def _at_crossing(model, poly, y, y1, theta, p):
    """The state at the crossing, ``theta`` into the step: the dense output, or with a
    closed-form crossing (no dense output) the threshold itself for the crossing variable."""
    if poly is not None:
        return _at(poly, y, y1, theta)
    x = model.threshold_var
    return {**y1, x: jnp.broadcast_to(model.threshold(p), y1[x].shape).astype(y1[x].dtype)}


def step(model, integrate, y, p, t, dt, current, precision="float64"):
    """One precise step of a model without refractory period: ``(y_new, spiked, offset)``,
    ``offset`` the crossing's time after ``t`` in ms."""
    it = NEWTON_ITERATIONS[precision]
    y1, poly, tau = _crossing(model, integrate, y, p, t, dt, current, it)
    s = model.spiked(y, y1, p)
    if not model.resets_at_crossing:
        return model.reset(y1, s, p), s, tau
    y_c = _at_crossing(model, poly, y, y1, tau / dt, p)
    y_r = model.reset(y_c, s, p)
    # the rest of the step from the reset state; neurons that did not spike run a sub-step of
    # length dt - tau too (vectorised), whose result is discarded
    y2 = integrate(model, y_r, p, t + tau, dt - tau, current)
    return {n: jnp.where(s, y2[n], y1[n]) for n in y1}, s, tau


def integrate_and_fire_step(model, integrate, y, p, t, dt, current, precision="float64"):
    """One precise step of an integrate-and-fire model (``refrac`` counter, ``t_ref`` in
    continuous time): ``(y_new, spiked, offset)``."""
    it = NEWTON_ITERATIONS[precision]
    r = y["refrac"]
    dtype = y["v"].dtype
    # free from s0 into the step on (s0 = dt: refractory for the whole step)
    s0 = (jnp.clip(r - 1.0, 0.0, 1.0) * dt).astype(dtype)
    free = r < 2.0
    h = dt - s0
    y1, poly, tau = _crossing(model, integrate, y, p, t + s0, h, current, it)
    v1 = jnp.where(free, y1["v"], y["v"])
    s = free & (v1 >= p["v_th"])
    t_c = s0 + tau  # the crossing, from the start of the step
    # reset from the value at the crossing: v_th itself (the linear reset's v)
    v_th = jnp.broadcast_to(p["v_th"], v1.shape).astype(dtype)
    y_r = model.reset({**y1, "v": v_th}, s, p)
    t_free = t_c + p["t_ref"]
    rest = jnp.maximum(dt - t_free, 0.0).astype(dtype)
    y2 = integrate(model, y_r, p, t + jnp.minimum(t_free, dt), rest, current)
    v_new = jnp.where(s, y2["v"], v1)
    refrac = jnp.where(s, _counter_after_spike(t_free, dt),
                       jnp.maximum(r - 1.0, 0.0)).astype(r.dtype)
    return {**y1, "v": v_new, "refrac": refrac}, s, t_c


def _counter_after_spike(t_free, dt):
    """The refractory counter at the start of the next step for a neuron free again at
    ``t_free`` after the start of this one: 1 + (time left after the next step starts) / dt,
    or 0 where it is free before then."""
    left = t_free - dt
    return jnp.where(left > 0, 1.0 + left / dt, 0.0)


def refractory_end_needed(y, spiked):
    """``Model.precise_needed`` of a model with a refractory counter ``refrac``: the neurons
    that spiked, and those whose refractory period ends inside the step (counter in (1, 2)):
    precise timing integrates them from that moment, the grid step holds them."""
    r = y["refrac"]
    return spiked | ((r > 1.0) & (r < 2.0))


def refractory_end_due(y):
    """``Model.precise_due`` of a model with a refractory counter: a refractory neuron cannot
    spike and its counter drops by one per step, so a counter ``r > 1`` that is not a whole
    number is in (1, 2) on step ``floor(r) - 1`` from now; a whole one (a grid counter) never
    is."""
    r = y["refrac"]
    due = jnp.minimum(jnp.floor(r) - 1.0, float(1 << 24))
    return jnp.where((r > 1.0) & (r != jnp.floor(r)), due, float(1 << 24)).astype(jnp.int32)


def held_step(holding, integrate, y, p, t, h, current, held):
    """A refractory stretch of length ``h`` (per neuron; 0 where there is none) from ``t``:
    the model ``holding`` the ``held`` variables (zero time derivatives) integrated over it,
    and those given back their values at its start (bit for bit, as on the grid)."""
    y1 = integrate(holding, y, p, t, h, current)
    return {n: (y[n] if n in held else jnp.where(h > 0, y1[n], y[n])) for n in y1}


def equations_refractory_step(model, holding, integrate, y, p, t, dt, current, held, t_ref,
                              precision="float64"):
    """One precise step of an equations model with ``refractory`` (SPEC sections 5 and 6):
    ``(y_new, spiked, offset)``. The step is cut at the moments where the neuron's state of
    refractoriness changes: refractory up to ``s0`` (the counter's fraction, as in
    :func:`integrate_and_fire_step`), free from there to the crossing, reset at the crossing,
    refractory for ``t_ref`` in continuous time, free again to the step's end. On refractory
    stretches the variables that ``reset`` assigns (``held``) keep their values and the others
    are integrated with them held (``holding``: the model with their derivatives zero;
    :func:`held_step`). A neuron refractory for the whole step or free for the
    whole step without a spike gets the grid step's values bit for bit."""
    it = NEWTON_ITERATIONS[precision]
    r = y["refrac"]
    dtype = y[held[0]].dtype
    s0 = (jnp.clip(r - 1.0, 0.0, 1.0) * dt).astype(dtype)
    free = r < 2.0
    y_a = held_step(holding, integrate, y, p, t, s0, current, held)
    h = dt - s0
    y1, poly, tau = _crossing(model, integrate, y_a, p, t + s0, h, current, it)
    # a neuron refractory for the whole step has nothing left to integrate
    y1 = {n: jnp.where(free, y1[n], y_a[n]) for n in y1}
    s = free & model.spiked(y_a, y1, p)
    t_c = s0 + tau
    theta = jnp.where(h > 0, tau / jnp.where(h > 0, h, 1.0), 0.0)
    y_c = _at_crossing(model, poly, y_a, y1, theta, p)
    y_r = model.reset(y_c, s, p)
    t_free = t_c + t_ref
    t_end_ref = jnp.minimum(t_free, dt)
    y_b = held_step(holding, integrate, y_r, p, t + t_c, (t_end_ref - t_c).astype(dtype),
                    current, held)
    rest = jnp.maximum(dt - t_free, 0.0).astype(dtype)
    y2 = integrate(model, y_b, p, t + t_end_ref, rest, current)
    y_new = {n: jnp.where(s, y2[n], y1[n]) for n in y1}
    refrac = jnp.where(s, _counter_after_spike(t_free, dt), jnp.maximum(r - 1.0, 0.0))
    return {**y_new, "refrac": refrac.astype(r.dtype)}, s, t_c


def sparse_step(model, integrate, y, p, t, dt, current, precision="float64"):
    """One step of ``spike_timing: precise`` for a population (or a tile of it) in which some
    neuron needs it: ``(y_new, spiked, offset, need)``, the precise step
    (``Model.precise_step``) vectorised, kept where ``need`` (``Model.precise_needed``) holds
    and the grid step's (``Model.step``) values elsewhere; ``offset`` is meaningful where
    ``spiked``.

    Gathering, at every step, only the neurons in need into a small buffer (and their
    parameters and input) was measured slower on XLA:CPU than the vectorised step on a tile
    of 2,048: each of the two dozen small gathers, searches and scatters costs about as much
    as a whole grid step of the tile (benchmarks/RESULTS.md). The engine gathers once per
    block instead, the neurons that need it at any step of the block."""
    y_grid, s = model.step(integrate, y, p, t, dt, current)
    need = model.precise_needed(y, s)
    y_p, s_p, off = model.precise_step(integrate, y, p, t, dt, current, precision)
    y_new = {n: jnp.where(need, y_p[n], y_grid[n]) for n in y_grid}
    return y_new, s_p & need, off, need
