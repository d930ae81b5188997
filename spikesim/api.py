"""The Python entry points: run a config, as the CLI does."""

from __future__ import annotations

from pathlib import Path

from .config.load import load as load_config
from .sim.plan import make_plan


def run(config: str | Path | dict, *overrides: str, output: str | Path | None = None,
        force: bool = False, quiet: bool = True, init_from: str | Path | None = None) -> Path:
    """Run a config (a YAML path or a mapping) with ``KEY=VALUE`` overrides; returns the path
    of the HDF5 file written. ``init_from`` continues from the final state stored in a
    completed run's file (as ``spikesim run --init-from``).

    >>> spikesim.run("configs/hh_step.yaml", "input.amplitude=12", output="out/hh12.h5")
    """
    from .sim.runner import run_plan

    if isinstance(config, dict):
        loaded = load_config(None, list(overrides), data=config)
    else:
        loaded = load_config(config, list(overrides))
    plan = make_plan(loaded, output)
    start = None
    if init_from is not None:
        from .io.resume import final_state

        start = final_state(init_from, plan)
    return run_plan(plan, force=force, quiet=quiet, init_state=start)


def analyze(kind: str, config: str | Path | dict, *overrides: str,
            output: str | Path | None = None, force: bool = False, quiet: bool = True) -> Path:
    """Run analysis ``kind`` (rheobase, fi, prc, dt, patterns) of a config (a YAML path or a
    mapping; for ``patterns`` also a run's HDF5 file) with ``KEY=VALUE`` overrides, as
    ``spikesim analyze`` does; returns the path of the file written, whose results
    ``spikesim.load(path).analysis[kind]`` holds.

    >>> spikesim.analyze("fi", "configs/analysis/hh_fi.yaml", "analysis.fi.num=11")
    """
    from .analysis.run import analyze as run_analysis

    return run_analysis(kind, config, overrides, output, force=force, quiet=quiet)
