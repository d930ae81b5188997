"""Export (SPEC section 9): NWB through pynwb (spike times in seconds, values equal, the file
passes pynwb's validator) and NEO (numbers agree with `spikesim inspect`)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import spikesim
from spikesim.errors import UsageError
from spikesim.inspect import inspect

REPO = Path(__file__).resolve().parents[1]

#: LIF neurons that differ (a generator and a sweep axis) under step + white-noise input, so
#: that ISIs vary within a neuron (a non-trivial ISI CV); v and the input recorded
CFG = {
    "name": "export_test",
    "model": {"type": "lif", "params": {"tau_m": {"linspace": [8.0, 12.0]}, "t_ref": 1.0}},
    "population": {"size": 3},
    "simulation": {"duration": 200.0, "dt": 0.1, "precision": "float64", "seed": 3},
    "input": [{"type": "step", "amplitude": "2000 pA", "start": 10.0},
              {"type": "noise", "std": 1.0}],
    "record": {"variables": ["v", "input"], "neurons": [0, 2, 5], "every": 2},
    "sweep": {"axes": {"input.0.amplitude": [1.8, 2.5]}},
}


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    return spikesim.run(CFG, output=tmp_path_factory.mktemp("export") / "run.h5")


# -- NWB ------------------------------------------------------------------------------------
def test_nwb_round_trip(run_file, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from spikesim.io.nwb import to_nwb

    out = to_nwb(run_file, tmp_path / "run.nwb")
    assert pynwb.validate(path=str(out)) == []
    r = spikesim.load(run_file)
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        units = nwb.units
        assert list(units.id[:]) == list(range(r.n))
        for i in range(r.n):
            # NWB times are seconds, spikesim's ms: the exported times are the ms / 1000
            assert np.array_equal(units["spike_times"][i], r.spikes[i] / 1000.0)
        assert sum(len(units["spike_times"][i]) for i in range(r.n)) == len(r.spikes) > 20
        for key in ("model.params.tau_m", "input.0.amplitude", "combination"):
            assert np.array_equal(units[key][:], r.neurons[key]), key
        assert "ms" in units["model.params.tau_m"].description
        v, inp = nwb.acquisition["v"], nwb.acquisition["input"]
        tv = r.trace("v")
        assert np.array_equal(v.data[:], tv.data)
        assert (v.unit, v.conversion) == ("volts", 0.001)  # mV
        assert inp.unit == "amperes" and inp.conversion == pytest.approx(1e-9, rel=1e-15)  # nA
        assert np.array_equal(inp.data[:], r.trace("input").data)
        assert v.rate == pytest.approx(1000.0 / 0.2) and v.starting_time == 0.0
        assert "neuron_ids: 0, 2, 5" == v.comments
        assert nwb.source_script == r.attrs["config"]
        notes = json.loads(nwb.notes)
        assert notes["spikesim_version"] == spikesim.__version__
        assert notes["jax_version"] == r.attrs["jax_version"] and notes["status"] == "complete"
        assert "complete" in nwb.session_description


def test_nwb_of_a_partial_run_says_so(run_file, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from spikesim.io.nwb import to_nwb

    part = tmp_path / "cut.h5.partial"
    shutil.copy(run_file, part)
    with h5py.File(part, "a") as f:  # as a failed run leaves it: status and steps done
        f.attrs["status"] = "failed"
        f.attrs["steps_done"] = 1000
    out = to_nwb(tmp_path / "cut.h5", tmp_path / "cut.nwb")
    assert pynwb.validate(path=str(out)) == []
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert "PARTIAL (failed): holds the first 100 of 200 ms" in nwb.session_description
        assert json.loads(nwb.notes)["export"] == {"status": "failed", "complete": False,
                                                   "simulated_ms": 100.0}


def test_export_cli_refuses_to_overwrite_and_writes_the_default_path(run_file, tmp_path,
                                                                       spikesim_cli):
    pytest.importorskip("pynwb")
    h5 = tmp_path / "run.h5"
    shutil.copy(run_file, h5)
    code, out, err = spikesim_cli("export", h5, "--to", "nwb")
    assert code == 0 and out.strip() == str(tmp_path / "run.nwb")
    code, out, err = spikesim_cli("export", h5, "--to", "nwb")
    assert code == 2 and "exists" in err and "--force" in err
    code, out, err = spikesim_cli("export", h5, "--to", "sonata")
    assert code == 2 and "nwb" in err


def test_export_of_a_patterns_file_carries_its_results(run_file, tmp_path, spikesim_cli):
    """`analyze patterns FILE.h5` writes a file of its own; its export holds the table in
    processing/analysis, as fi's does (test below), and says nothing of results left behind."""
    pynwb = pytest.importorskip("pynwb")
    code, out, err = spikesim_cli("analyze", "patterns", run_file, "-q", "-o", tmp_path / "p.h5")
    assert code == 0, err
    code, out, err = spikesim_cli("export", tmp_path / "p.h5", "--to", "nwb")
    assert code == 0 and out.strip() == str(tmp_path / "p.nwb") and "warning" not in err
    labels = spikesim.load(tmp_path / "p.h5").analysis["patterns"]["pattern"]
    with pynwb.NWBHDF5IO(str(tmp_path / "p.nwb"), "r") as io:
        table = io.read().processing["analysis"]["patterns"]
        assert [str(x) for x in table["pattern"][:]] == [str(x) for x in labels]


def test_export_output_path_checked_before_any_work(run_file, tmp_path, spikesim_cli):
    """-o under a regular file was a traceback (FileExistsError); -o the run's own file with
    --force replaced the run by its NWB; -o a folder said --force would replace it; -o
    x.txt wrote NWB there. Each is now exit 2, one message, nothing touched."""
    pytest.importorskip("pynwb")
    h5 = tmp_path / "run.h5"
    shutil.copy(run_file, h5)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "folder.nwb").mkdir()
    data = h5.read_bytes()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for o, needle in [("notes.txt/x.nwb", "notes.txt is a file, not a folder"),
                      ("run.h5", "should end in .nwb"), ("x.txt", "should end in .nwb"),
                      ("folder.nwb", "folder.nwb is a folder")]:
        code, out, err = spikesim_cli("export", h5, "--to", "nwb", "-o", tmp_path / o,
                                      "--force")
        assert code == 2 and needle in err and "Traceback" not in err, (o, err)
        assert out == ""
    assert h5.read_bytes() == data
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_without_the_extra_export_says_what_to_install(run_file, monkeypatch):
    from spikesim.io.nwb import to_nwb

    monkeypatch.setitem(sys.modules, "pynwb", None)  # import pynwb raises ImportError
    with pytest.raises(UsageError, match=r"pip install 'spikesim\[nwb\]'"):
        to_nwb(run_file)
    monkeypatch.setitem(sys.modules, "neo", None)
    with pytest.raises(UsageError, match=r"pip install 'spikesim\[neo\]'"):
        spikesim.load(run_file).to_neo()


def test_export_cli_exit_2_without_pynwb(run_file, tmp_path):
    code = ("import sys; sys.modules['pynwb'] = None; sys.argv = ['spikesim', 'export', "
            f"{str(run_file)!r}, '--to', 'nwb', '-o', {str(tmp_path / 'x.nwb')!r}]; "
            "from spikesim.cli import main; main()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 2 and "pip install 'spikesim[nwb]'" in r.stderr
    assert not (tmp_path / "x.nwb").exists()


def test_export_does_not_start_jax(run_file, tmp_path):
    pytest.importorskip("pynwb")
    code = ("import sys; from spikesim.io.nwb import to_nwb; "
            f"to_nwb({str(run_file)!r}, {str(tmp_path / 'y.nwb')!r}); "
            "print(sorted(m for m in ('jax', 'spikesim.sim.engine', 'spikesim.sim.plan', "
            "'spikesim.models') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"  # h5py, numpy, pint and pynwb only


# -- NEO ------------------------------------------------------------------------------------
def test_neo_block_agrees_with_inspect(run_file):
    neo = pytest.importorskip("neo")
    pq = pytest.importorskip("quantities")
    r = spikesim.load(run_file)
    block = r.to_neo()
    assert isinstance(block, neo.Block)
    seg = block.segments[0]
    assert len(seg.spiketrains) == r.n == 6
    for i, st in enumerate(seg.spiketrains):
        assert st.units == pq.ms and float(st.t_stop) == r.t_end == 200.0
        assert np.array_equal(st.magnitude, r.spikes[i])
        assert st.annotations["id"] == i
        assert st.annotations["model.params.tau_m"] == r.neurons["model.params.tau_m"][i]
    v, inp = seg.analogsignals
    assert v.name == "v" and v.units == pq.mV and inp.units == pq.nA
    assert float(v.sampling_period.rescale("ms")) == pytest.approx(0.2)
    assert np.array_equal(v.magnitude, r.trace("v").data)
    assert list(v.array_annotations["neuron_ids"]) == [0, 2, 5]

    info = inspect(run_file)["populations"]["lif"]
    es = pytest.importorskip("elephant.statistics")
    rates = [float(es.mean_firing_rate(st).rescale("Hz")) for st in seg.spiketrains]
    assert np.mean(rates) == pytest.approx(info["mean_rate_hz"], rel=1e-12)
    cvs = [es.cv(es.isi(st)) for st in seg.spiketrains if len(st) >= 3]
    assert len(cvs) == info["isi_cv_neurons"] == 6
    assert np.mean(cvs) == pytest.approx(info["isi_cv"], rel=1e-9)
    assert info["isi_cv"] > 0.01  # the noise makes the ISIs differ: not a trivial agreement


def test_neo_of_a_run_without_spikes_has_no_spike_trains(tmp_path):
    """record.spikes: false gave one empty SpikeTrain per neuron, which Elephant reads as
    silent neurons (0 Hz); now there are none, and the Block says spikes were not recorded."""
    pytest.importorskip("neo")
    cfg = {**CFG, "record": {**CFG["record"], "spikes": False}}
    block = spikesim.load(spikesim.run(cfg, output=tmp_path / "nosp.h5")).to_neo()
    seg = block.segments[0]
    assert len(seg.spiketrains) == 0 and block.annotations["spikes_recorded"] is False
    assert [a.name for a in seg.analogsignals] == ["v", "input"]
    assert spikesim.load(spikesim.run(CFG, output=tmp_path / "sp.h5")).to_neo().annotations[
        "spikes_recorded"] is True


@pytest.fixture(scope="module")
def fi_file(tmp_path_factory):
    cfg = {"model": {"type": "lif", "params": {"tau_m": [10.0, 15.0, 20.0]}},
           "population": {"size": 3}, "simulation": {"duration": 100.0, "dt": 0.1},
           "analysis": {"fi": {"num": 4, "range": [1.0, 4.0], "duration": 100.0,
                               "transient": 20.0}}}
    return spikesim.analyze("fi", cfg, output=tmp_path_factory.mktemp("fi") / "fi.h5")


def test_an_analysis_exports_its_results(fi_file, tmp_path):
    """A file of `spikesim analyze` exported without its /analysis (only the empty Units
    table): now NWB's processing module `analysis` holds a per-neuron table `fi` (2-D rates
    [neuron, amplitude]) and the axis table `fi_amplitude`, equal to the HDF5 datasets and
    valid for pynwb; the NEO Block carries them as its `analysis` annotation."""
    pynwb = pytest.importorskip("pynwb")
    from spikesim.io.nwb import to_nwb

    with h5py.File(fi_file) as f:
        g = f["analysis/fi"]
        stored = {k: g[k][()] for k in g}
        assert g["rate_up"].attrs["dims"] == "neuron, amplitude"
    out = to_nwb(fi_file, tmp_path / "fi.nwb")
    assert pynwb.validate(path=str(out)) == []
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        module = io.read().processing["analysis"]
        assert set(module.data_interfaces) == {"fi", "fi_amplitude"}
        table, axis = module["fi"], module["fi_amplitude"]
        assert list(table.id[:]) == [0, 1, 2]
        np.testing.assert_array_equal(axis["amplitude"][:], stored["amplitude"])
        np.testing.assert_array_equal(axis["amplitude"][:], [1.0, 2.0, 3.0, 4.0])
        for name in ("rate_up", "rate_down", "onset", "type"):
            np.testing.assert_array_equal(table[name][:], stored[name])
        assert table["rate_up"][:].shape == (3, 4) and np.nanmax(stored["rate_up"]) > 0
        assert table["rate_up"].description == "rate_up [neuron, k] at fi_amplitude[k], Hz"
        assert table["onset"].description == "onset, nA" and "f-I" in table.description
    pytest.importorskip("neo")
    a = spikesim.load(fi_file).to_neo().annotations["analysis"]["fi"]
    np.testing.assert_array_equal(a["data"]["rate_up"], stored["rate_up"])
    assert a["dims"]["rate_up"] == ["neuron", "amplitude"] and a["units"]["rate_up"] == "Hz"
