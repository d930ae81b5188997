"""Fuzzing the config path (issue 14): mutated example configs and overrides through the real
CLI (``spikesim.cli.main``, in process), ``validate`` for every mutation and a short ``run``
for some. Whatever the input: exit 0, 1 or 2 only, never a traceback or another exception,
nothing written on exit 2, the config file untouched.

The generator is seeded (``SPIKESIM_FUZZ_SEED``, default a fixed seed, so a failure replays),
and each CI run makes at least 500 mutations.
"""

from __future__ import annotations

import copy
import hashlib
import os
import random
import sys
from pathlib import Path

import pytest
from _configtree import container, paths
import yaml

from spikesim import cli

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))
SEED = int(os.environ.get("SPIKESIM_FUZZ_SEED", "20261201"))
N_VALIDATE = 520
N_RUN = 16

# values people (and fuzzers) write where they should not
NASTY = [None, True, False, "", "x", "10", "0.01", "yes", "linear", "true", -1, 0, 1, 0.5,
         -0.0, 7, 1e-300, 1e308, -1e308, float("nan"), float("inf"), float("-inf"), 10**30,
         2**63, 2**64, [], [1], [1, 2], [True], ["a"], {}, {"a": 1}, {"uniform": [5, 1]},
         {"uniform": [1]}, {"linspace": [0, 1, 2]}, {"normal": {"mean": float("nan")}},
         {"normal": {"mean": 0, "std": -1}}, {"every": 0}, {"first": 10**12},
         {"start": 0, "stop": 1, "num": 10**9}, "a\0b", "x" * 300, "../" * 50 + "a.h5",
         "/proc/x.h5", "{name}/{model.params.nope}.h5", [[[[1]]]], "1 mV", "\x01"]


def _mutate_tree(rng: random.Random, data: dict) -> dict:
    data = copy.deepcopy(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        keys = paths(data)
        if not keys:
            break
        path = rng.choice(keys)
        parent = container(data, path)
        op = rng.random()
        if op < 0.6:
            parent[path[-1]] = copy.deepcopy(rng.choice(NASTY))
        elif op < 0.7 and isinstance(parent, dict):
            del parent[path[-1]]
        elif op < 0.8 and isinstance(parent, dict):  # a typo in a key
            key = str(path[-1])
            parent[key[:-1] + rng.choice("xsa_") if key else "x"] = parent.pop(path[-1])
        elif op < 0.9 and isinstance(parent, dict):
            parent[rng.choice(("durration", "sweep", "extra", "input", "stop"))] = \
                copy.deepcopy(rng.choice(NASTY))
        else:  # swap in a whole section of another config
            other = yaml.safe_load(rng.choice(CONFIGS).read_text())
            key = rng.choice(list(other))
            data[key] = other[key]
    return data


def _mutate_text(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    i = rng.randrange(len(lines))
    op = rng.random()
    if op < 0.25:
        del lines[i]
    elif op < 0.5:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif op < 0.75:
        j = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:j] + rng.choice(["[", "{", ":", "&a ", "*a", "\t", "'", "!!int ",
                                              "- ", "\x07", "  "]) + lines[i][j:]
    else:
        lines[i] = " " * rng.randrange(8) + lines[i].lstrip()
    return "".join(lines)


def _override(rng: random.Random, data: dict) -> str:
    keys = [p for p in paths(data) if all(isinstance(x, (str, int)) for x in p)]
    key = ".".join(str(x).replace(".", "\\.") for x in rng.choice(keys)) if keys else "name"
    value = rng.choice(["[", "{a: ", "1e400", ".nan", "true", "'10'", "[1, 2", "{uniform: [2, 1]}",
                        "-5", "0", "'a\\0b'", "[" * 300, "!!int 1e3", "*x", "1 uA/cm2"])
    return f"{key}={value}"


def _small(data: dict) -> dict:
    """The config made quick to run: few neurons, a few ms, output in the test's folder."""
    data = copy.deepcopy(data)
    data.setdefault("population", {})["size"] = 2
    sim = data.setdefault("simulation", {})
    sim["duration"] = min(float(sim.get("duration", 5.0)), 5.0)
    sim["dt"] = max(float(sim.get("dt", 0.05)), 0.05)
    data.setdefault("output", {})["path"] = "out/{name}.h5"
    if "sweep" in data:
        for axis, spec in data["sweep"]["axes"].items():
            if isinstance(spec, dict):
                spec["num"] = min(spec["num"], 3)
    return data


def _cli(monkeypatch, capsys, argv) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["spikesim", *map(str, argv)])
    try:
        cli.main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return code, out + err


def _case(rng: random.Random, tmp: Path, i: int) -> tuple[Path, list[str]]:
    source = rng.choice(CONFIGS)
    data = _small(yaml.safe_load(source.read_text()))
    roll = rng.random()
    overrides = []
    if roll < 0.45:
        text = yaml.safe_dump(_mutate_tree(rng, data), sort_keys=False, allow_unicode=True)
    elif roll < 0.8:
        text = _mutate_text(rng, yaml.safe_dump(data, sort_keys=False))
    else:
        text = yaml.safe_dump(data, sort_keys=False)
        overrides = [_override(rng, data)]
    path = tmp / f"case{i}.yaml"
    path.write_text(text)
    return path, overrides


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("batch", range(4))
def test_validate_fuzzed(batch, tmp_path, monkeypatch, capsys):
    rng = random.Random(SEED * 10 + batch)
    monkeypatch.chdir(tmp_path)
    codes = {0: 0, 2: 0}
    for i in range(N_VALIDATE // 4):
        path, overrides = _case(rng, tmp_path, i)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        before = _files(tmp_path)
        code, text = _cli(monkeypatch, capsys, ["validate", path, *overrides])
        replay = f"seed {SEED}, batch {batch}, case {i}: {path.read_text()[:2000]!r} {overrides}"
        assert code in (0, 2), f"exit {code}\n{text}\n{replay}"
        assert "Traceback" not in text, f"{text}\n{replay}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert _files(tmp_path) == before, f"validate wrote files\n{replay}"
        if code == 2:
            assert text.startswith("error:") or "Usage:" in text, f"{text}\n{replay}"
        codes[code] += 1
    # the mutations must reach both outcomes, or the test exercises nothing
    assert codes[0] > 0 and codes[2] > codes[0] / 4, codes


def test_run_fuzzed(tmp_path, monkeypatch, capsys):
    rng = random.Random(SEED + 1)
    monkeypatch.chdir(tmp_path)
    seen = set()
    for i in range(N_RUN):
        path, overrides = _case(rng, tmp_path, i)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        before = _files(tmp_path)
        code, text = _cli(monkeypatch, capsys, ["run", path, "-q", *overrides])
        replay = f"seed {SEED + 1}, case {i}: {path.read_text()[:2000]!r} {overrides}"
        assert code in (0, 1, 2), f"exit {code}\n{text}\n{replay}"
        assert "Traceback" not in text, f"{text}\n{replay}"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        if code == 2:
            assert _files(tmp_path) == before, f"exit 2 but files written\n{replay}"
        if code != 0:
            # the next case must not trip over this one's output
            for p in (tmp_path / "out").glob("*") if (tmp_path / "out").exists() else ():
                p.unlink()
        seen.add(code)
        for p in (tmp_path / "out").glob("*.h5") if (tmp_path / "out").exists() else ():
            p.unlink()
    assert 0 in seen and 2 in seen, seen
