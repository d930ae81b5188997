"""Descriptions of models generated from their declarations (``spikesim models``)."""

from __future__ import annotations

from .models import MODELS


def model_info(name: str, m=None) -> dict:
    """Everything a model declares, as plain data (``spikesim models NAME --json``); ``m``:
    the class (a model built from a model file), else the built-in model ``name``."""
    m = MODELS[name] if m is None else m
    return {
        "name": m.name,
        "summary": m.summary,
        "citation": m.citation,
        "equations": m.equations,
        "update_order": m.update_order,
        "current_unit": m.current_unit,
        "threshold_param": m.threshold_param,
        "default_integrator": m.default_integrator,
        "integrators": list(m.integrators()),
        "params": {k: {"default": _spelled(p, p.default), "unit": p.unit, "doc": p.doc,
                       "reference_name": p.ref,
                       **({"choices": {_name(c): v for c, v in p.choices.items()}}
                          if p.choices else {})}
                   for k, p in m.params.items()},
        "states": {k: {"unit": s.unit, "doc": s.doc, "init": s.init,
                       "conditionally_linear": s.linear, "integrated": s.integrated}
                   for k, s in m.states.items()},
        "presets": {k: {"params": dict(p.params), "init": dict(p.init), "source": p.source,
                        "doc": p.doc, "current": p.current}
                    for k, p in m.presets.items()},
    }


def _name(choice) -> str:
    """A switch's choice as a config writes it: ``true``, ``linear``."""
    return str(choice).lower() if isinstance(choice, bool) else str(choice)


def _spelled(param, value):
    """A switch's value by its name (``constant``), any other value as is."""
    return _name(param.choice_name(value)) if param.choices else value


def render_model(name: str, console, m=None) -> None:
    from rich.table import Table

    m = MODELS[name] if m is None else m
    info = model_info(name, m)
    console.print(f"[bold]{info['name']}[/bold]: {info['summary']}")
    console.print(f"[dim]{info['citation']}[/dim]\n")
    console.print("[bold]Equations[/bold] (time in ms, voltage in mV, current in "
                  f"{info['current_unit']})")
    for line in info["equations"].splitlines():
        console.print(f"  {line}", markup=False, highlight=False)
    console.print(f"\n[bold]Update order[/bold]: {info['update_order']}\n")
    t = Table(title="Parameters", title_justify="left")
    for col in ("name", "default", "unit", "meaning", "reference name"):
        t.add_column(col)
    for k, p in info["params"].items():
        if "choices" in p:  # a switch: its names instead of a unit
            t.add_row(k, str(p["default"]), " | ".join(p["choices"]), p["doc"],
                      p["reference_name"] or "")
        else:
            t.add_row(k, f"{p['default']:g}", p["unit"], p["doc"], p["reference_name"] or "")
    console.print(t)
    t = Table(title="State variables", title_justify="left")
    for col in ("name", "initial value", "unit", "meaning", "exp_euler"):
        t.add_column(col)
    for k, s in info["states"].items():
        init = "derived" if s["init"] is None else f"{s['init']:g}"
        t.add_row(k, init, s["unit"], s["doc"],
                  "exact" if s["conditionally_linear"] else ("-" if not s["integrated"] else "euler"))
    console.print(t)
    if info["presets"]:
        t = Table(title="Presets", title_justify="left")
        for col in ("name", "values", "source"):
            t.add_column(col)
        for k, p in info["presets"].items():
            vals = ", ".join(f"{a}={_spelled(m.params[a], b) if a in m.params else b:g}"
                             if not (a in m.params and m.params[a].choices)
                             else f"{a}={_spelled(m.params[a], b)}"
                             for a, b in {**p["params"], **p["init"]}.items())
            if p["current"] is not None:
                vals += f"; suggested input {p['current']:g} {info['current_unit']}"
            source = p["source"] + (f" ({p['doc']})" if p["doc"] else "")
            t.add_row(k, vals or "(defaults)", source)
        console.print(t)
    console.print(f"[bold]Integrators[/bold]: {', '.join(info['integrators'])} "
                  f"(default {info['default_integrator']})")
