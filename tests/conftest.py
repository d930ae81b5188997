"""Shared fixtures: an isolated compilation cache and a helper to run configs in tmp_path."""

import os

import pytest

# A private compilation cache per test session keeps tests independent of the user's cache.
os.environ.setdefault("SPIKESIM_CACHE_DIR", "")


@pytest.fixture
def spikesim_cli(monkeypatch, capsys, tmp_path):
    """``spikesim_cli(*argv) -> (exit code, stdout, stderr)``: the real CLI entry point
    (``spikesim.cli.main``), in process, in ``tmp_path``."""
    import sys

    from spikesim import cli

    monkeypatch.chdir(tmp_path)

    def run(*argv):
        monkeypatch.setattr(sys, "argv", ["spikesim", *map(str, argv)])
        try:
            cli.main()
            code = 0
        except SystemExit as e:
            code = e.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def run_config(tmp_path):
    """``run_config(cfg_dict, *overrides) -> h5py.File`` (opened read-only)."""
    import h5py

    import spikesim

    opened = []

    def _run(cfg, *overrides, name="run"):
        path = spikesim.run(cfg, *overrides, output=tmp_path / f"{name}.h5", force=True)
        f = h5py.File(path, "r")
        opened.append(f)
        return f

    yield _run
    for f in opened:
        f.close()


def hh_config(**sections):
    """A small classic-HH config; keyword arguments replace or extend its sections."""
    cfg = {
        "model": {"type": "hodgkin_huxley"},
        "population": {"size": 1},
        "simulation": {"duration": 50.0, "dt": 0.01, "integrator": "rk4",
                       "precision": "float64"},
        "input": {"type": "constant", "amplitude": 10.0},
        "record": {"spikes": True},
    }
    for k, v in sections.items():
        if isinstance(v, dict) and isinstance(cfg.get(k), dict):
            cfg[k] = {**cfg[k], **v}
        else:
            cfg[k] = v
    return cfg
