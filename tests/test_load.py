"""spikesim.load: every recorded quantity round-trips, compared with the file read by h5py."""

from __future__ import annotations

import importlib.util

import h5py
import numpy as np
import pytest
import yaml

import spikesim
from _runs import config, run
from spikesim.errors import RunError, UsageError
from spikesim.io.writer import Writer

RECORDS = {
    "all": dict(every=1),
    "subset_window_every": dict(every=3, start=0.7, stop=17.3, neurons=[1, 3]),
    "first_every": dict(every=4, start=1.0, neurons={"first": 2}),
}


@pytest.mark.parametrize("case", list(RECORDS))
def test_round_trip(tmp_path, case):
    cfg = config(record=RECORDS[case], model={"params": {"t_ref": 1.0, "v_reset": -72.0,
                                                        "tau_m": [8.0, 9.0, 10, 11, 12, 13]}})
    p = run(tmp_path, case, cfg)
    r = spikesim.load(p)
    assert r.complete and r.status == "complete" and r.t_end == pytest.approx(40.0)
    with h5py.File(p) as f:
        ts, ids = f["spikes/lif/timestamps"][:], f["spikes/lif/node_ids"][:]
        for var in ("v", "input"):
            g = f[f"report/lif/{var}"]
            tr = r.trace(var)
            start, _, step = g["mapping/time"][:]
            np.testing.assert_array_equal(tr.data, g["data"][:])
            np.testing.assert_array_equal(tr.neurons, g["mapping/node_ids"][:])
            np.testing.assert_allclose(tr.t, start + step * np.arange(g["data"].shape[0]))
            assert tr.units == g["data"].attrs["units"]
            for c, i in enumerate(tr.neurons):
                np.testing.assert_array_equal(tr.of(i), g["data"][:, c])
        tau = f["neurons/lif/model.params.tau_m"][:]
    np.testing.assert_array_equal(r.spikes.t, ts)
    np.testing.assert_array_equal(r.spikes.ids, ids)
    assert sum(len(x) for x in r.spikes.times) == ts.size
    for i in range(6):
        np.testing.assert_array_equal(r.spikes[i], ts[ids == i])
    np.testing.assert_array_equal(r.spikes.counts, np.bincount(ids.astype(int), minlength=6))
    np.testing.assert_array_equal(r.neurons["id"], np.arange(6))
    np.testing.assert_array_equal(r.neurons["model.params.tau_m"], tau)
    assert r.config == yaml.safe_load(r.attrs["config"])
    assert r.config["record"]["every"] == RECORDS[case]["every"]
    assert set(r.traces) == {"v", "input"}
    assert set(r.final_state) >= {"v"}


def test_trace_selection_reads_a_slice(tmp_path):
    p = run(tmp_path, "sel", config(record={"every": 2}))
    r = spikesim.load(p)
    full = r.trace("v")
    part = r.trace("v", neurons=[4, 2], t0=5.0, t1=12.0)
    rows = (full.t >= 5.0 - 1e-9) & (full.t <= 12.0 + 1e-9)
    np.testing.assert_array_equal(part.neurons, [2, 4])
    np.testing.assert_array_equal(part.t, full.t[rows])
    np.testing.assert_array_equal(part.data, full.data[rows][:, [2, 4]])
    win = r.spikes_between(10.0, 30.0)
    m = (r.spikes.t >= 10.0) & (r.spikes.t < 30.0)
    np.testing.assert_array_equal(win.t, r.spikes.t[m])
    np.testing.assert_array_equal(win.ids, r.spikes.ids[m])
    with pytest.raises(KeyError, match="not recorded"):
        r.trace("refrac")


def test_sweep_combinations(tmp_path):
    cfg = config(population={"size": 2}, record={"every": 10},
                 sweep={"mode": "grid", "axes": {"model.params.tau_m": [10.0, 20.0],
                                                 "input.0.start": [1.0, 2.0, 3.0]}})
    cfg["input"][0]["amplitude"] = 3.0
    cfg["input"][1]["amplitude"] = 0.0
    r = spikesim.load(run(tmp_path, "sweep", cfg))
    assert r.size == 2 and r.n == 12
    assert list(r.sweep) == ["model.params.tau_m", "input.0.start"]
    np.testing.assert_array_equal(r.combinations["model.params.tau_m"], [10] * 3 + [20] * 3)
    np.testing.assert_array_equal(r.combinations["input.0.start"], [1, 2, 3] * 2)
    np.testing.assert_array_equal(r.neurons["combination"], np.repeat(np.arange(6), 2))


def _blow_up(tmp_path):
    """Hodgkin-Huxley with Euler at dt = 0.5 ms diverges once the 40 uA/cm2 step is on."""
    out = tmp_path / "fail.h5"
    cfg = {"model": {"type": "hodgkin_huxley"}, "population": {"size": 3},
           "simulation": {"duration": 100.0, "dt": 0.5, "integrator": "euler",
                          "chunk_steps": 20},
           "input": {"type": "step", "amplitude": 40.0, "start": 10.0},
           "record": {"variables": ["v"], "every": 2}}
    with pytest.raises(RunError, match="blow-up"):
        spikesim.run(cfg, output=out)
    return out


def test_failed_run_is_readable_and_partial(tmp_path):
    out = _blow_up(tmp_path)
    assert not out.exists()
    r = spikesim.load(out)  # finds <path>.partial
    assert r.path.name == "fail.h5.partial"
    assert r.status == "failed" and not r.complete
    assert 0 < r.t_end < 100.0
    assert "partial" in repr(r)
    v = r.trace("v")
    assert v.t[-1] <= r.t_end and np.all(np.isfinite(v.data))


def test_writer_closed_failed_directly(tmp_path):
    from spikesim.config.load import load as load_config
    from spikesim.sim.plan import make_plan

    plan = make_plan(load_config(None, [], data=config()), tmp_path / "w.h5")
    w = Writer(plan, "cpu:0")
    w.spikes(np.asarray([3, 9]), np.asarray([1, 4]))
    w.progress(10)
    w.close("failed", note="test")
    r = spikesim.load(tmp_path / "w.h5.partial")
    assert not r.complete and r.t_end == pytest.approx(1.0)
    np.testing.assert_allclose(r.spikes.t, [0.4, 1.0])
    assert r.trace("v").data.shape == (0, 6)


def test_not_a_result(tmp_path):
    with pytest.raises(UsageError, match="missing.h5: no such file"):
        spikesim.load(tmp_path / "missing.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(UsageError, match="not a spikesim output"):
        spikesim.load(tmp_path / "other.h5")
    with h5py.File(tmp_path / "text.h5", "w") as f:  # a magic that is not a number
        f.attrs["magic"] = "abc"
    with pytest.raises(UsageError, match="not a spikesim output"):
        spikesim.load(tmp_path / "text.h5")


@pytest.mark.parametrize("damage, needle", [
    ({"config": "name: [unclosed"}, "attribute 'config' is not YAML"),
    ({"config": "- a list"}, "not a config"),
    ({"dt": "abc"}, "attribute 'dt' is 'abc', not a float"),
    ({"version": [9, 0]}, "format 9.0, newer than this spikesim reads"),
    (None, "no attribute 'config'")])
def test_damaged_or_newer_files_are_refused(tmp_path, spikesim_cli, damage, needle):
    """A file with spikesim's magic whose root attributes cannot be read (or that a newer
    format wrote): load raises, and inspect, plot and export exit 2 with the reason, no
    traceback, nothing written."""
    p = run(tmp_path, "good", config())
    if damage is None:  # the magic and the version only
        with h5py.File(p) as f:
            keep = {k: f.attrs[k] for k in ("magic", "version")}
        with h5py.File(p, "w") as f:
            f.attrs.update(keep)
    else:
        with h5py.File(p, "a") as f:
            for k, v in damage.items():
                f.attrs[k] = v
    with pytest.raises(UsageError, match="cannot be read"):
        spikesim.load(p)
    before = sorted(x.name for x in tmp_path.iterdir())
    for argv in (("inspect", p), ("inspect", p, "--json"), ("plot", p),
                 ("export", p, "--to", "nwb", "-o", tmp_path / "x.nwb")):
        code, out, err = spikesim_cli(*argv)
        assert code == 2 and "Traceback" not in err and needle in err, (argv, err)
    assert sorted(x.name for x in tmp_path.iterdir()) == before


@pytest.mark.parametrize("damage, needle", [
    ("name: [unclosed", "attribute 'config' is not YAML"),
    ("- a list", "not a config (a YAML mapping)"),
    (5, "attribute 'config' is 5, not the YAML text")])
def test_damaged_config_refused_by_from_and_patterns(tmp_path, spikesim_cli, damage, needle):
    """`run --from` and `analyze patterns FILE.h5` read a file's embedded config: damaged,
    it was a traceback (a YAMLError, or an AttributeError on a list or a number)."""
    p = run(tmp_path, "good", config())
    with h5py.File(p, "a") as f:
        f.attrs["config"] = damage
    before = sorted(x.name for x in tmp_path.iterdir())
    for argv in (("run", "--from", p, "-o", tmp_path / "again.h5"),
                 ("analyze", "patterns", p, "-o", tmp_path / "pat.h5")):
        code, out, err = spikesim_cli(*argv)
        assert code == 2 and "Traceback" not in err and needle in err, (argv, err)
        assert "the file is damaged" in err and str(p) in err
    assert sorted(x.name for x in tmp_path.iterdir()) == before


@pytest.mark.parametrize("damage", ["dataset removed", "chunk garbled"])
def test_damaged_datasets_refused_by_the_commands(tmp_path, spikesim_cli, damage):
    """A file whose root attributes are fine but a dataset is gone or a compressed chunk does
    not decompress (a cut copy, a disk error): inspect, plot and export were an h5py
    traceback (KeyError, OSError); now exit 2 naming the file, nothing written."""
    p = run(tmp_path, "hurt", config(output={"compression": "gzip"}))
    with h5py.File(p, "a") as f:
        d = f["report/lif/v/data"]
        if damage == "dataset removed":
            del f["report/lif/v/mapping"]
        else:
            chunk = d.id.get_chunk_info(0)
    if damage == "chunk garbled":
        data = bytearray(p.read_bytes())
        for i in range(chunk.byte_offset + 4, chunk.byte_offset + chunk.size - 4):
            data[i] ^= 0x55
        p.write_bytes(bytes(data))
    before = sorted(x.name for x in tmp_path.iterdir())
    argvs = [("plot", p)]
    if importlib.util.find_spec("pynwb") is not None:
        argvs.append(("export", p, "--to", "nwb", "-o", tmp_path / "x.nwb"))
    if damage == "dataset removed":  # inspect reads no report data
        argvs.append(("inspect", p))
    for argv in argvs:
        code, out, err = spikesim_cli(*argv)
        assert code == 2 and "Traceback" not in err, (argv, err)
        assert f"{p} is damaged: HDF5 cannot read part of it" in err, (argv, err)
    assert sorted(x.name for x in tmp_path.iterdir()) == before


def test_from_and_init_from_find_the_partial_file(tmp_path, spikesim_cli):
    """README: `run --from` reads a failed run's file by either name; `--from fail.h5` (and
    `analyze patterns`, `--init-from`) said "no such file" beside fail.h5.partial. Its
    .partial is also what the run must not replace."""
    out = _blow_up(tmp_path)
    part = tmp_path / "fail.h5.partial"
    data = part.read_bytes()
    code, stdout, err = spikesim_cli("run", "--from", out, "simulation.duration=5", "-q", "-o",
                                     tmp_path / "again.h5")
    assert code == 0 and stdout.strip() == str(tmp_path / "again.h5"), err
    code, _, err = spikesim_cli("run", "--from", out, "simulation.duration=5", "-q", "-o", out,
                                "--force")
    assert code == 2 and "which this run reads" in err, err
    code, _, err = spikesim_cli("run", "--from", out, "simulation.duration=5", "-q",
                                "--init-from", out, "-o", tmp_path / "x.h5")
    assert code == 2 and "its status is 'failed'" in err, err
    code, _, err = spikesim_cli("analyze", "patterns", out, "-o", tmp_path / "p.h5")
    assert code == 2 and "the run did not complete (status failed)" in err, err
    assert part.read_bytes() == data and not out.exists()
    assert not (tmp_path / "x.h5").exists() and not (tmp_path / "p.h5").exists()
