"""The step of an equations model: its trees evaluated with ``jax.numpy`` while JAX traces
the compiled loop, so XLA compiles the same program as for a hand-written model (the trees
keep the written order of operations; no Python runs per step).

:func:`model_class` turns a checked definition (:class:`spikesim.equations.build.Definition`)
into a :class:`spikesim.models.base.Model` subclass, so inputs, per-neuron values, sweeps,
recording, devices, tiles, resume and blow-up detection treat it as any built-in model.

Update order of a step: with a refractory period, the counter drops by one and neurons still
refractory hold the variables that ``reset`` assigns (their time derivatives are zero for
such neurons, so the input does not reach them and the other variables see them held at
every stage of the integrator); the integrator advances every state variable; a spike is
a step on which the threshold condition becomes true (false with the state at the start of
the step, true at its end), only for neurons not refractory; the reset statements run, in
order, on the neurons that spiked; the refractory counter starts at round(refractory/dt)
(the rule of the built-in integrate-and-fire models); recorded subexpressions are evaluated
on the new state.
"""

from __future__ import annotations

from ..lazyjax import jnp
from ..models.base import Model, Param, StateVar
from ..models.drive import input_at


def _functions():
    from ..models._rates import exprel

    return {
        "exp": jnp.exp, "log": jnp.log, "log10": jnp.log10, "sqrt": jnp.sqrt, "abs": jnp.abs,
        "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan, "sinh": jnp.sinh, "cosh": jnp.cosh,
        "tanh": jnp.tanh, "arcsin": jnp.arcsin, "arccos": jnp.arccos, "arctan": jnp.arctan,
        "minimum": jnp.minimum, "maximum": jnp.maximum, "clip": jnp.clip,
        "where": jnp.where, "exprel": exprel,
    }


def _numpy_exprel(x, e=None):
    import numpy as np

    return 1.0 if x == 0 else x / np.expm1(x)


def _numpy():
    import numpy as np

    return {"exp": np.exp, "log": np.log, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs,
            "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh,
            "tanh": np.tanh, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
            "minimum": np.minimum, "maximum": np.maximum, "clip": np.clip,
            "exprel": _numpy_exprel}


class _Lazy(dict):
    def __missing__(self, key):
        self.update(_numpy())
        return self[key]


_NUMPY = _Lazy()


def _numbers(op, a, b) -> float:
    """An operation on two numbers of the text (``10**400``, ``1/0``) in float64, as the
    compiled step would do it: inf or NaN where Python would raise (the run then stops at
    its finiteness check with a message). Integer powers stay exact below 2**53."""
    import numpy as np

    if op == "**" and isinstance(a, int) and isinstance(b, int) and 0 <= b and abs(a) ** b < 2**53:
        return a ** b
    x, y = np.float64(a), np.float64(b)
    with np.errstate(all="ignore"):
        out = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
               "**": np.power}[op](x, y)
    return float(out)


def evaluate(node, env: dict, subs: dict, fns: dict):
    """The value of a tree; ``env`` holds states, parameters, current and t; a
    subexpression is evaluated once, on first use, and kept in ``env``."""
    k = node[0]
    if k == "num":
        return node[1]
    if k == "name":
        name = node[1]
        if name not in env:
            env[name] = evaluate(subs[name], env, subs, fns)
        return env[name]
    if k == "bin":
        a = evaluate(node[2], env, subs, fns)
        b = evaluate(node[3], env, subs, fns)
        op = node[1]
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return _numbers(op, a, b)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        return a ** b
    if k == "neg":
        return -evaluate(node[1], env, subs, fns)
    if k == "scale":
        return evaluate(node[2], env, subs, fns) * node[1]
    if k == "call":
        args = [evaluate(a, env, subs, fns) for a in node[2]]
        if all(isinstance(a, (int, float)) for a in args) and node[1] != "where":
            # a function of numbers only (exp(3.0)): a Python float, which JAX keeps weakly
            # typed, so a float32 run stays float32
            import numpy as np

            with np.errstate(all="ignore"):
                return float(_NUMPY[node[1]](*map(np.float64, args)))
        return fns[node[1]](*args)
    if k == "cmp":
        a = evaluate(node[2], env, subs, fns)
        b = evaluate(node[3], env, subs, fns)
        return {"<": jnp.less, "<=": jnp.less_equal, ">": jnp.greater,
                ">=": jnp.greater_equal, "==": jnp.equal, "!=": jnp.not_equal}[node[1]](a, b)
    if k == "bool":
        vals = [evaluate(a, env, subs, fns) for a in node[2]]
        out = vals[0]
        for v in vals[1:]:
            out = (out & v) if node[1] == "and" else (out | v)
        return out
    if k == "not":
        return ~evaluate(node[1], env, subs, fns)
    raise AssertionError(k)


REFRAC = "refrac"


def _domain(p: str, d) -> str | None:
    """A capacitance (per area too) is > 0, and so is a time constant (a time that a dx/dt
    divides by): a negative one runs, the leak pushing v away from rest, x growing where it
    was to decay (silently, for a normal generator's draws, until it blows up); a parameter
    dx/dt divides by is != 0."""
    from ..core.units import parse_unit

    dim = parse_unit(d.param_units[p]).dimensionality
    if dim in (parse_unit("F").dimensionality, parse_unit("F/m^2").dimensionality) or (
            p in d.divisors and dim == parse_unit("ms").dimensionality):
        return "positive"
    return "nonzero" if p in d.divisors else None


def _update_order(d) -> str:
    """The module docstring's update order, for this model's keys only."""
    parts = []
    if d.refractory is not None:
        parts.append(f"count down the refractory steps; neurons still refractory hold "
                     f"{', '.join(d.held)} (the input does not reach them)")
    parts.append(f"integrate {', '.join(d.odes)} over the step")
    if d.threshold is not None:
        free = " by a neuron not refractory" if d.refractory is not None else ""
        parts.append(f"spike where '{d.threshold_text}' becomes true{free}")
    if d.reset:
        parts.append(f"on a spike run '{d.reset_text.strip()}'")
    if d.refractory is not None:
        parts.append("and start round(refractory/dt) refractory steps")
    if d.recorded:
        parts.append(f"evaluate {', '.join(d.recorded)} on the new state")
    return "; ".join(parts)


def model_class(d) -> type[Model]:
    """A :class:`Model` subclass for the checked definition ``d``."""
    states = {}
    for x in d.odes:
        states[x] = StateVar(d.state_units[x], f"state variable (dimension: "
                             f"{d.state_units[x]})", d.init.get(x), linear=x in d.linear)
    if d.refractory is not None:
        states[REFRAC] = StateVar("steps", "refractory steps left (bookkeeping; 0 = free)",
                                  0.0, integrated=False)
    for s in d.recorded:
        states[s] = StateVar(d.sub_units[s], "subexpression, evaluated after each step",
                             None, integrated=False)
    params = {k: Param(v, d.param_units[k], "parameter of the equations",
                       domain=_domain(k, d)) for k, v in d.param_defaults.items()}
    attrs = dict(
        name=d.name, summary=d.summary, citation=d.citation, equations=d.text,
        update_order=_update_order(d),
        current_unit=d.current_unit, params=params, states=states, presets={},
        threshold_param=d.threshold_param, threshold_var=d.threshold_var or "v",
        default_integrator="rk4",
        resets_at_crossing=bool(d.reset), definition=d,
        # the tile sizes of the built-ins (Model.cpu_tile): large where the step computes
        # transcendental functions (hodgkin_huxley), small for a cheap step (lif)
        cpu_tile=8192 if any(_calls(t) for t in [*d.odes.values(), *d.subs.values()])
        else 2048,
    )
    return type(f"Equations_{d.name}", (EquationsModel,), attrs)


def _calls(node) -> bool:
    """Whether a tree calls a function other than minimum/maximum/clip/where/abs."""
    k = node[0]
    if k == "call":
        return (node[1] not in ("minimum", "maximum", "clip", "where", "abs")
                or any(_calls(a) for a in node[2]))
    if k == "bool":
        return any(_calls(a) for a in node[2])
    if k in ("bin", "cmp"):
        return _calls(node[2]) or _calls(node[3])
    if k in ("neg", "not"):
        return _calls(node[1])
    return k == "scale" and _calls(node[2])


class _Holding:
    """``model`` with the time derivatives of the variables ``held`` zero where ``mask``
    holds (refractory neurons), for an integrator: it asks the model for ``vector_field``
    and its declarations only."""

    def __init__(self, model, held, mask):
        self._model, self._held, self._mask = model, held, mask

    def __getattr__(self, name):
        return getattr(self._model, name)

    def vector_field(self, t, y, p, current):
        f = self._model.vector_field(t, y, p, current)
        return {n: (jnp.where(self._mask, 0.0, f[n]) if n in self._held else f[n]) for n in f}


class EquationsModel(Model):
    """Base of the generated classes; ``definition`` holds the checked trees."""

    definition = None

    @classmethod
    def recordable(cls):
        """State variables and the subexpressions that may be recorded (those this run
        records are states too)."""
        states = [s for s in cls.states if s != REFRAC]
        return states + [s for s in cls.definition.recordable if s not in states]

    def _env(self, t, y, p, current):
        d = self.definition
        env = dict(p)
        env.update({k: v for k, v in y.items() if k in d.odes})
        if d.current_name is not None:
            env[d.current_name] = current
        if d.uses_t:
            first = next(iter(d.odes))
            env["t"] = jnp.asarray(t).astype(y[first].dtype)
        return env

    def initial_state(self, p, init, n, dtype):
        d = self.definition
        out = {}
        for x in d.odes:
            value = init.get(x, self.states[x].init)
            if value is not None:
                out[x] = jnp.broadcast_to(jnp.asarray(value, dtype), (n,))
        fns = _functions()
        for x, tree in d.derived_init.items():  # the others, from the parameters and those
            if x not in out:
                env = {**p, **out}
                out[x] = jnp.broadcast_to(jnp.asarray(evaluate(tree, env, d.subs, fns),
                                                      dtype), (n,))
        out = {x: out[x] for x in d.odes}
        if self.definition.refractory is not None:
            out[REFRAC] = jnp.zeros((n,), dtype)
        return self._with_recorded(0.0, out, p, lambda t: 0.0)

    def _with_recorded(self, t, y, p, current):
        d = self.definition
        if not d.recorded:
            return y
        env = self._env(t, y, p, input_at(current, t, y))
        fns = _functions()
        first = y[next(iter(d.odes))]
        for s in d.recorded:
            v = evaluate(("name", s), env, d.subs, fns)
            y[s] = jnp.broadcast_to(jnp.asarray(v, first.dtype), first.shape)
        return y

    def vector_field(self, t, y, p, current):
        d = self.definition
        env = self._env(t, y, p, current)
        fns = _functions()
        return {x: evaluate(rhs, env, d.subs, fns) for x, rhs in d.odes.items()}

    def _condition(self, y, p):
        d = self.definition
        env = self._env(0.0, y, p, 0.0)
        return evaluate(d.threshold, env, d.subs, _functions())

    def spiked(self, y_old, y_new, p):
        if self.definition.threshold is None:
            return jnp.zeros(y_new[next(iter(self.definition.odes))].shape, bool)
        return self._condition(y_new, p) & ~self._condition(y_old, p)

    def reset(self, y, spiked, p):
        d = self.definition
        if not d.reset:
            return y
        y = dict(y)
        fns = _functions()
        for target, op, tree in d.reset:
            env = self._env(0.0, y, p, 0.0)
            value = evaluate(tree, env, d.subs, fns)
            if op == "+=":
                value = y[target] + value
            elif op == "-=":
                value = y[target] - value
            y[target] = jnp.where(spiked, value, y[target])
        return y

    def step(self, integrate, y, p, t, dt, current):
        d = self.definition
        if d.refractory is None:
            y_new = integrate(self, y, p, t, dt, current)
            s = self.spiked(y, y_new, p)
            y_new = self.reset(y_new, s, p)
        else:
            refrac = jnp.maximum(y[REFRAC] - 1, 0)
            free = y[REFRAC] <= 1  # max(r - 1, 0) == 0, tested before the countdown
            held = {**y, REFRAC: refrac}
            y_int = integrate(self.holding(~free), held, p, t, dt, current)
            y_new = {**y_int, **{x: jnp.where(free, y_int[x], y[x]) for x in d.held}}
            s = free & self.spiked(y, y_new, p)
            y_new = self.reset(y_new, s, p)
            n_ref = jnp.round(self._t_ref(p) / dt)
            y_new[REFRAC] = jnp.where(s, n_ref, refrac).astype(y[REFRAC].dtype)
        return self._with_recorded(t + dt, y_new, p, current), s

    def threshold(self, p):
        """The threshold's parameter, or its constant (``v > 0 mV``: 0 in v's unit)."""
        d = self.definition
        return p[d.threshold_param] if d.threshold_param is not None else d.threshold_value

    def holding(self, mask):
        """The model for an integrator, the variables that ``reset`` assigns held where
        ``mask``; the model itself where they are its only state variables (their integrated
        values are then simply discarded, as the built-in integrate-and-fire models do)."""
        d = self.definition
        if set(d.odes) <= set(d.held):
            return self
        return _Holding(self, d.held, mask)

    def _t_ref(self, p):
        d = self.definition
        if not isinstance(d.refractory, str):
            return d.refractory
        # a parameter in another unit of time (s, us): ms, as dt is
        return p[d.refractory] if d.refractory_ms == 1 else p[d.refractory] * d.refractory_ms

    def precise_step(self, integrate, y, p, t, dt, current, precision="float64"):
        """Without ``refractory``: :func:`spikesim.models.spike_timing.step`; with it, the step
        cut where refractoriness starts and ends
        (:func:`spikesim.models.spike_timing.equations_refractory_step`)."""
        from ..models import spike_timing

        d = self.definition
        if d.refractory is None:
            y_new, s, tau = spike_timing.step(self, integrate, y, p, t, dt, current, precision)
        else:
            y_new, s, tau = spike_timing.equations_refractory_step(
                self, self.holding(True), integrate, y, p, t, dt, current, d.held,
                self._t_ref(p), precision)
        return self._with_recorded(t + dt, y_new, p, current), s, tau

    def precise_needed(self, y, spiked):
        if self.definition.refractory is None:
            return spiked
        from ..models.spike_timing import refractory_end_needed

        return refractory_end_needed(y, spiked)

    def precise_due(self, y):
        if self.definition.refractory is None:
            return None
        from ..models.spike_timing import refractory_end_due

        return refractory_end_due(y)
