"""spikesim inspect: figures checked against values computed here from the file with h5py."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from _runs import config, run
from spikesim.cli import app
from spikesim.inspect import spike_stats


def _direct(p, ids_of=None):
    """Rate (Hz), active fraction and mean ISI CV straight from the file."""
    with h5py.File(p) as f:
        ts, ids = f["spikes/lif/timestamps"][:], f["spikes/lif/node_ids"][:].astype(int)
        n, T = int(f.attrs["n_neurons"]), float(f.attrs["duration"])
    neurons = range(n) if ids_of is None else ids_of
    per = [ts[ids == i] for i in neurons]
    cvs = [np.std(np.diff(t)) / np.mean(np.diff(t)) for t in per if t.size >= 3]
    counts = np.asarray([t.size for t in per])
    firsts = [t[0] for t in per if t.size]
    return {"rate": counts.sum() / (len(per) * T / 1000.0), "active": np.mean(counts > 0),
            "cv": np.mean(cvs) if cvs else None, "n_cv": len(cvs),
            "first": np.mean(firsts) if firsts else None}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return run(tmp_path_factory.mktemp("plain"), "plain", config(record={"every": 10}))


def _inspect_json(p):
    res = CliRunner().invoke(app, ["inspect", str(p), "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_figures_match_the_file(plain):
    info = _inspect_json(plain)
    d = _direct(plain)
    pop = info["populations"]["lif"]
    assert d["n_cv"] >= 2 and d["cv"] > 0.05  # the test run has irregular ISIs
    assert pop["mean_rate_hz"] == pytest.approx(d["rate"], rel=1e-12)
    assert pop["active_fraction"] == pytest.approx(d["active"])
    assert 0 < d["active"] < 1
    assert pop["isi_cv"] == pytest.approx(d["cv"], rel=1e-9)
    assert pop["isi_cv_neurons"] == d["n_cv"]
    assert info["status"] == "complete" and info["complete"]
    assert info["run"]["model"] == "lif" and info["run"]["dt"] == 0.1
    assert info["run"]["integrator"] == "euler" and info["run"]["seed"] == 0
    with h5py.File(plain) as f:
        v = f["report/lif/v/data"]
        assert info["variables"][0] == info["variables"][0] | {
            "name": "v", "units": "mV", "shape": list(v.shape), "every": 10, "neurons": 6}


@pytest.mark.parametrize("block", [1, 2, 5, 1 << 20])
def test_blockwise_statistics_do_not_depend_on_the_block(plain, block):
    with h5py.File(plain) as f:
        s = spike_stats(f["spikes/lif/timestamps"], f["spikes/lif/node_ids"], 6, block=block)
        ts, ids = f["spikes/lif/timestamps"][:], f["spikes/lif/node_ids"][:].astype(int)
    for i in range(6):
        t = ts[ids == i]
        assert s["counts"][i] == t.size
        if t.size >= 2:
            assert s["isi_mean"][i] == pytest.approx(np.mean(np.diff(t)))
            assert s["isi_std"][i] == pytest.approx(np.std(np.diff(t)), abs=1e-9)
        if t.size:
            assert s["first"][i] == t[0]


def test_sweep_table(tmp_path):
    cfg = config(population={"size": 3}, record={"variables": []},
                 input={"type": "step", "amplitude": 2.0, "start": 2.0},
                 sweep={"axes": {"input.amplitude": {"start": 1.0, "stop": 5.0, "num": 5}}})
    p = run(tmp_path, "sweep", cfg)
    info = _inspect_json(p)
    rows = info["sweep"]["rows"]
    assert info["sweep"]["axes"] == ["input.amplitude"]
    assert [r["input.amplitude"] for r in rows] == pytest.approx(np.linspace(1, 5, 5))
    for c, row in enumerate(rows):
        d = _direct(p, range(3 * c, 3 * c + 3))
        assert row["mean_rate_hz"] == pytest.approx(d["rate"])
        assert row["active_fraction"] == pytest.approx(d["active"])
        assert row["first_spike_ms"] == (None if d["first"] is None
                                         else pytest.approx(d["first"]))
    assert rows[0]["mean_rate_hz"] == 0 and rows[-1]["mean_rate_hz"] > 0
    text = CliRunner().invoke(app, ["inspect", str(p)]).stdout
    assert "sweep" in text and "input.amplitude" in text
    assert "(grid, 5 combinations)" in text


def test_sweep_of_one_value_says_one_combination(tmp_path):
    cfg = config(population={"size": 1}, record={"variables": []},
                 input={"type": "step", "amplitude": 2.0, "start": 2.0},
                 sweep={"axes": {"input.amplitude": [2.0]}})
    text = CliRunner().invoke(app, ["inspect", str(run(tmp_path, "one", cfg))]).stdout
    assert "(grid, 1 combination)" in text, text


def test_failed_run_says_partial(tmp_path):
    from test_load import _blow_up

    out = _blow_up(tmp_path)
    info = _inspect_json(out)
    assert info["status"] == "failed" and not info["complete"]
    assert "partial" in info and 0 < info["simulated_ms"] < 100
    text = CliRunner().invoke(app, ["inspect", str(out) + ".partial"]).stdout
    assert "partial" in text and "failed" in text


def test_text_report(plain):
    res = CliRunner().invoke(app, ["inspect", str(plain)])
    assert res.exit_code == 0
    for word in ("lif", "euler", "mean rate", "ISI CV", "recorded variables", "mV"):
        assert word in res.stdout
