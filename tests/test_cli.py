"""The command line as a user meets it: stdout, exit codes, refusals, the informational
commands."""

import json
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
import yaml

from conftest import hh_config

ROOT = Path(__file__).resolve().parents[1]


def spikesim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "spikesim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def small_config(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(hh_config(simulation={"duration": 2.0, "precision": "float32",
                                                         "integrator": "euler"},
                                             output={"path": str(tmp_path / "{name}.h5")})))
    return path


def test_run_prints_only_the_path(small_config, tmp_path):
    r = spikesim("run", small_config, "-q")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{tmp_path / 'small.h5'}\n"
    with h5py.File(r.stdout.strip()) as f:
        assert f.attrs["status"] == "complete"


def test_existing_output_is_not_touched_without_force(small_config, tmp_path):
    out = tmp_path / "small.h5"
    out.write_bytes(b"precious")
    r = spikesim("run", small_config, "-q")
    assert r.returncode == 2 and "--force" in r.stderr and r.stdout == ""
    assert out.read_bytes() == b"precious"
    r = spikesim("run", small_config, "-q", "--force")
    assert r.returncode == 0, r.stderr
    with h5py.File(out) as f:
        assert f.attrs["status"] == "complete"


def test_gpu_without_gpu_is_a_usage_error(small_config, tmp_path):
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("this machine has a GPU")
    r = spikesim("run", small_config, "--device", "gpu", "-q")
    assert r.returncode == 2 and "gpu" in r.stderr.lower()
    assert not list(tmp_path.glob("*.h5*"))


def test_override_reaches_the_run(small_config, tmp_path):
    r = spikesim("run", small_config, "-q", "input.amplitude=0", "model.params.g_K=30",
                 "-o", tmp_path / "o.h5")
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "o.h5") as f:
        cfg = yaml.safe_load(f.attrs["config"])
        assert cfg["input"][0]["amplitude"] == 0 and cfg["model"]["params"]["g_K"] == 30
        assert len(f["spikes/hodgkin_huxley/timestamps"]) == 0


def test_a_run_without_spikes_says_so_and_names_the_rheobase_analysis(small_config, tmp_path):
    """A silent run is most often an input below threshold (or in the wrong unit): stderr
    says so, names where the input was set and the analysis that finds the threshold."""
    r = spikesim("run", small_config, "-q", "input.amplitude=0", "-o", tmp_path / "o.h5")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{tmp_path / 'o.h5'}\n"
    assert "no neuron spiked" in r.stderr and "override input.amplitude=0" in r.stderr
    assert f"spikesim analyze rheobase {small_config}" in r.stderr
    # re-run from the file: its stored config is no file that analyze could take
    r = spikesim("run", "--from", tmp_path / "o.h5", "-q", "-o", tmp_path / "q.h5")
    assert r.returncode == 0, r.stderr
    assert "`spikesim analyze rheobase CONFIG`" in r.stderr
    # HH at 10 uA/cm2 fires its first spike within 10 ms: no note then
    r = spikesim("run", small_config, "-q", "simulation.duration=10", "-o", tmp_path / "p.h5")
    assert r.returncode == 0, r.stderr
    with h5py.File(tmp_path / "p.h5") as f:
        assert len(f["spikes/hodgkin_huxley/timestamps"]) > 0
    assert "no neuron spiked" not in r.stderr


def test_validate_prints_resolved_config_and_estimates(small_config, tmp_path):
    r = spikesim("validate", small_config, "population.size=10")
    assert r.returncode == 0, r.stderr
    resolved = yaml.safe_load(r.stdout)
    assert resolved["population"]["size"] == 10
    assert resolved["simulation"]["integrator"] == "euler"
    for word in ("steps", "neurons", "output", "memory"):
        assert word in r.stderr
    assert not list(tmp_path.glob("*.h5*"))  # validate writes nothing


def test_models_list_and_describe():
    r = spikesim("models")
    assert r.returncode == 0 and "hodgkin_huxley" in r.stdout
    r = spikesim("models", "hodgkin_huxley")
    assert r.returncode == 0
    for word in ("g_Na", "120", "mS/cm2", "ngclearn", "rk4", "exp_euler", "Hodgkin"):
        assert word in r.stdout, word
    info = json.loads(spikesim("models", "hodgkin_huxley", "--json").stdout)
    assert info["params"]["g_K"]["default"] == 36.0 and "classic" in info["presets"]
    r = spikesim("models", "hodkin_huxley")
    assert r.returncode == 2 and "hodgkin_huxley" in r.stderr


def test_schema_is_json_schema():
    r = spikesim("schema")
    s = json.loads(r.stdout)
    assert s["type"] == "object" and "simulation" in s["properties"]
    assert s["additionalProperties"] is False


def test_schema_keeps_the_bounds_of_numbers():
    """The schema said only "a number" for dt, size, every...: an editor accepted dt: -0.1.
    Its bounds are JSON Schema's (minimum, exclusiveMinimum...), not pydantic's names."""
    jsonschema = pytest.importorskip("jsonschema")
    s = json.loads(spikesim("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(s)
    text = json.dumps(s)
    assert '"gt":' not in text and '"ge":' not in text and '"le":' not in text
    v = jsonschema.Draft202012Validator(s)
    cfg = {"model": {"type": "hodgkin_huxley"}, "simulation": {"duration": 10, "dt": 0.1}}
    v.validate(cfg)
    for section, key, value in [
            ("simulation", "dt", -0.1), ("simulation", "duration", 0), ("population", "size", 0),
            ("record", "every", 0), ("simulation", "seed", -1), ("simulation", "chunk_steps", 0),
            ("analysis", "dt", {"factors": [1.0, 2.0]})]:
        bad = {**cfg, section: {**cfg.get(section, {}), key: value}}
        assert not v.is_valid(bad), (section, key, value)


def test_help_lists_each_command_in_whole_lines():
    """The commands' list shows each docstring's first paragraph wrapped to the terminal,
    not broken where the source's lines end (typer's rich mode keeps those breaks)."""
    import os

    r = subprocess.run([sys.executable, "-m", "spikesim", "--help"], capture_output=True,
                       text=True, timeout=300, env={**os.environ, "COLUMNS": "300"})
    assert r.returncode == 0, r.stderr
    run_line = next(line for line in r.stdout.splitlines() if "│ run " in line)
    assert "prints the path written (the run folder for --shards)." in run_line
    analyze = next(line for line in r.stdout.splitlines() if "│ analyze " in line)
    assert "fi (f-I curve up and down, onset rate" in analyze


def test_help_shows_bracketed_text_of_every_option():
    """Rich markup reads "[nwb]" as a style tag and drops it: `export --help` said "needs the
    extra ." with the extra's name gone. Every "[...]" of a command's or option's help text
    (model.params.g_K=[30,36], local[:W], .[nwb]) must reach the rendered --help."""
    import os
    import re

    import typer

    from spikesim.cli import app

    for name, command in typer.main.get_command(app).commands.items():
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        brackets = {b.replace("\\[", "[") for t in texts for b in re.findall(r"\\?\[[^\]\s]*\]", t)}
        if not brackets:
            continue
        r = subprocess.run([sys.executable, "-m", "spikesim", name, "--help"], capture_output=True,
                           text=True, timeout=300, env={**os.environ, "COLUMNS": "300"})
        assert r.returncode == 0, r.stderr
        for b in brackets:
            assert b in r.stdout, (name, b)
