"""Sharded runs (SPEC section 8): merged shards equal the unsharded run bit for bit, whatever
K and the executor; resuming after a kill; refusals (exit 2)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from spikesim.errors import UsageError
from spikesim.cluster.merge import merge
from spikesim.cluster.shards import read_manifest, run_one, with_output

#: noisy, heterogeneous sweep: generators (normal, uniform), a per-neuron list, a sweep over
#: an input field and a parameter, OU and white noise (one std per neuron), recorded v and
#: input on every other neuron. 30 neurons (5 x 6 combinations).
HET = {
    "name": "het",
    "model": {"type": "lif", "params": {"tau_m": {"normal": {"mean": 10.0, "std": 1.0}},
                                        "v_th": {"uniform": [-52.0, -48.0]},
                                        "t_ref": [2.0, 1.0, 3.0, 2.0, 1.5]}},
    "population": {"size": 5},
    "simulation": {"duration": 50.0, "dt": 0.1, "seed": 3},
    "input": [{"type": "step", "amplitude": 1.5, "start": 5.0, "stop": 45.0},
              {"type": "ou", "mean": 0.5, "std": 0.8, "tau": 5.0},
              {"type": "noise", "mean": 0.0, "std": {"uniform": [0.2, 0.6]}}],
    "record": {"spikes": True, "variables": ["v", "input"], "neurons": {"every": 2},
               "every": 5},
    "sweep": {"axes": {"input.0.amplitude": [1.0, 1.6, 2.2], "model.params.R_m": [10.0, 12.0]}},
}

#: root attributes that may differ: provenance and timings
PROVENANCE = {"created", "compile_seconds", "run_seconds", "device", "config"}


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "spikesim", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def het(tmp_path_factory):
    """The config file and its unsharded run."""
    folder = tmp_path_factory.mktemp("het")
    path = folder / "het.yaml"
    path.write_text(yaml.safe_dump(HET))
    r = cli("run", path, "-o", folder / "whole.h5", "-q")
    assert r.returncode == 0, r.stderr
    return path, folder / "whole.h5"


def _datasets(f) -> dict:
    out = {}
    f.visititems(lambda name, o: out.__setitem__(name, o) if isinstance(o, h5py.Dataset)
                 else None)
    return out


def assert_same_run(whole: Path, merged: Path, min_spikes: int = 20):
    """Every dataset equal (dtype, shape, values, attributes), and the root and group
    attributes equal except provenance and timings."""
    with h5py.File(whole) as a, h5py.File(merged) as b:
        da, db = _datasets(a), _datasets(b)
        assert sorted(da) == sorted(db)
        for name, x in da.items():
            y = db[name]
            assert (x.dtype, x.shape) == (y.dtype, y.shape), name
            assert np.array_equal(x[()], y[()]), f"{name} differs"
            assert dict(x.attrs) == dict(y.attrs), name
        for name in ("spikes/lif", "neurons/lif", "state/lif"):
            assert dict(a[name].attrs) == dict(b[name].attrs), name
        for k, v in a.attrs.items():
            if k not in PROVENANCE:
                assert np.array_equal(v, b.attrs[k]), k
        assert b.attrs["config"] == with_output(a.attrs["config"], merged)
        assert b.attrs["status"] == "complete"
        # the comparison has spikes to compare
        assert a["spikes/lif/timestamps"].size >= min_spikes


def _run_in_process(config: Path, run_dir: Path, k: int, *overrides):
    """`spikesim run CONFIG --shards K --shard I` for every I, in this process."""
    from spikesim.config.load import load
    from spikesim.sim.plan import make_plan
    from spikesim.cluster.shards import make_manifest, open_run_dir

    plan = make_plan(load(config, list(overrides)), run_dir)
    manifest = open_run_dir(run_dir, make_manifest(plan, k, config, list(overrides)), False)
    for i in range(k):
        run_one(run_dir, manifest, i, plan=plan)


@pytest.mark.parametrize("k", [3, pytest.param(1, marks=pytest.mark.slow),
                               pytest.param(2, marks=pytest.mark.slow),
                               pytest.param(7, marks=pytest.mark.slow)])
def test_merged_shards_equal_the_unsharded_run(het, tmp_path, k):
    config, whole = het
    _run_in_process(config, tmp_path / "run.d", k)
    with h5py.File(tmp_path / "run.d" / f"shard-00000-of-{k:05d}.h5") as f:
        lo, hi = read_manifest(tmp_path / "run.d")["ranges"][0]
        assert (f.attrs["neuron_start"], f.attrs["neuron_stop"]) == (lo, hi)
        assert f.attrs["n_neurons"] == hi - lo  # an ordinary run of its range
    assert_same_run(whole, merge(tmp_path / "run.d", tmp_path / "merged.h5"))


def test_streamed_merge_in_tiny_blocks(het, tmp_path, monkeypatch):
    """Blocks of 3 spikes per shard and report rows 2 at a time: many rounds of the k-way
    merge, spikes of one time step split across blocks, same file."""
    import spikesim.cluster.merge as merging

    config, whole = het
    _run_in_process(config, tmp_path / "run.d", 3)
    monkeypatch.setattr(merging, "MIN_BLOCK", 3)
    monkeypatch.setattr(merging, "SPIKE_BUDGET", 3)
    monkeypatch.setattr(merging, "REPORT_BUDGET", 2 * 5 * 4)
    with h5py.File(whole) as f:
        t = f["spikes/lif/timestamps"][()]
        assert np.unique(t).size < t.size  # some time steps hold several spikes
    assert_same_run(whole, merge(tmp_path / "run.d", tmp_path / "merged.h5"))


def test_local_executor_and_merge_from_the_command_line(het, tmp_path):
    config, whole = het
    run_dir = tmp_path / "run.d"
    r = cli("run", config, "--shards", 3, "-o", run_dir, "--executor", "local:2")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{run_dir}\n"
    assert "3/3" in r.stderr  # one progress bar, counting shards
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["shards"] == 3 and m["ranges"] == [[0, 10], [10, 20], [20, 30]]
    r = cli("merge", run_dir, "-o", tmp_path / "merged.h5")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{tmp_path / 'merged.h5'}\n"
    assert_same_run(whole, tmp_path / "merged.h5")
    # the merged file is an ordinary file for the other commands
    r = cli("inspect", tmp_path / "merged.h5", "--json")
    assert r.returncode == 0, r.stderr
    import spikesim

    res = spikesim.load(tmp_path / "merged.h5")
    assert res.n == 30 and res.complete
    # merging again refuses to overwrite, unless --force
    assert cli("merge", run_dir, "-o", tmp_path / "merged.h5").returncode == 2
    assert cli("merge", run_dir, "-o", tmp_path / "merged.h5", "--force").returncode == 0


def test_inspect_or_load_of_the_run_folder_says_merge(het, tmp_path, spikesim_cli):
    """`spikesim inspect RUN_DIR/` (and load, plot, export) said only "is a folder; give the
    .h5 file of a run"; now it says that the folder is a sharded run's and how to merge it."""
    import spikesim

    config, _ = het
    run_dir = tmp_path / "run.d"
    _run_in_process(config, run_dir, 2)
    code, out, err = spikesim_cli("inspect", run_dir)
    assert code == 2 and out == ""
    assert f"{run_dir} is the folder of a sharded run" in err
    assert f"spikesim merge {run_dir} -o FILE.h5" in err
    with pytest.raises(UsageError, match="folder of a sharded run"):
        spikesim.load(run_dir)
    code, out, err = spikesim_cli("run", "--from", run_dir, "-o", tmp_path / "again.h5")
    assert code == 2 and f"--from {run_dir} is the folder of a sharded run" in err
    code, out, err = spikesim_cli("inspect", tmp_path)  # any other folder: as before
    assert code == 2 and "is a folder; give the .h5 file of a run" in err


def test_run_merges_its_shards_with_merge_option(het, tmp_path):
    """``run --shards K --merge FILE``: the shards, then the merge in the same process."""
    config, whole = het
    run_dir, merged = tmp_path / "run.d", tmp_path / "merged.h5"
    r = cli("run", config, "--shards", 2, "-o", run_dir, "--executor", "local:2", "--merge",
            merged, "-q")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{merged}\n"
    assert_same_run(whole, merged)
    # again: the shards are complete (nothing runs) and the merged file exists: refused
    # before anything is touched, unless --force
    before = merged.stat().st_mtime_ns
    r = cli("run", config, "--shards", 2, "-o", run_dir, "--merge", merged, "-q")
    assert r.returncode == 2 and "--merge" in r.stderr and "exists" in r.stderr, r.stderr
    assert merged.stat().st_mtime_ns == before
    # the merged file may not be one of the shards
    r = cli("run", config, "--shards", 2, "-o", run_dir, "--merge",
            run_dir / "shard-00001-of-00002.h5", "-q", "--force")
    assert r.returncode == 2 and "one of the run's shard files" in r.stderr, r.stderr
    assert (run_dir / "shard-00001-of-00002.h5").exists()


def test_dask_local_cluster(het, tmp_path):
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from spikesim.config.load import load
    from spikesim.cluster.executors import run_all
    from spikesim.sim.plan import make_plan
    from spikesim.cluster.shards import make_manifest, open_run_dir

    config, whole = het
    run_dir = tmp_path / "run.d"
    plan = make_plan(load(config, []), run_dir)
    manifest = open_run_dir(run_dir, make_manifest(plan, 2, config, []), False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        failures = run_all(run_dir, manifest, "dask", "cpu", client=client)
    assert failures == []
    assert_same_run(whole, merge(run_dir, tmp_path / "merged.h5"))


def test_a_bad_or_unreachable_dask_address(het, tmp_path, spikesim_cli, monkeypatch):
    """`--executor dask:badaddress` (no port) was distributed's ValueError traceback, exit 1,
    with the run folder and its manifest made; an unreachable scheduler was exit 2 with the
    folder made. Now both are exit 2 naming the address, and nothing is written."""
    pytest.importorskip("distributed")
    import distributed

    config, _ = het
    run_dir = tmp_path / "run.d"
    code, out, err = spikesim_cli("run", config, "--shards", 2, "-o", run_dir, "-q",
                                  "--executor", "dask:badaddress")
    assert code == 2 and "Traceback" not in err, err
    assert "--executor dask:badaddress: not a Dask scheduler address" in err
    assert "dask:tcp://HOST:PORT" in err and out == ""
    assert not run_dir.exists()

    def unreachable(address, timeout):  # what Client raises after its timeout, without the wait
        raise OSError(f"Timed out trying to connect to {address} after {timeout}")

    monkeypatch.setattr(distributed, "Client", unreachable)
    code, out, err = spikesim_cli("run", config, "--shards", 2, "-o", run_dir, "-q",
                                  "--executor", "dask:tcp://10.0.0.1:8786")
    assert code == 2 and "cannot reach the Dask scheduler (Timed out" in err, err
    assert not run_dir.exists()


def _workers_of(run_dir: Path) -> list[int]:
    """Process ids of the local workers serving ``run_dir`` (whoever their parent is)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"spikesim.cluster.shards" in argv and str(run_dir).encode() in argv:
            pids.append(int(proc.name))
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig, code, name", [(signal.SIGTERM, 1, "SIGTERM"),
                                             (signal.SIGINT, 130, "SIGINT")])
def test_a_signal_to_a_local_run_stops_its_workers(tmp_path, sig, code, name):
    """SIGTERM to `run --shards K --executor local:W` (kill PID, a batch system's time limit)
    killed the parent alone (exit -15, no message) and left its workers running on, unseen,
    into shard files that a rerun would start on too; Ctrl-C (SIGINT to the terminal's
    process group) let the workers go on to the next shards and exited 0. Now the workers
    are stopped, their shards' .partial marked failed, exit 1 (130 after SIGINT) naming the
    signal; the rerun finishes the run."""
    long = tmp_path / "long.yaml"
    # each shard runs some seconds, so that both are running when the signal comes
    cfg = {**HET, "simulation": {**HET["simulation"], "duration": 6000.0, "chunk_steps": 200}}
    long.write_text(yaml.safe_dump(cfg))
    run_dir = tmp_path / "run.d"
    proc = subprocess.Popen([sys.executable, "-m", "spikesim", "run", str(long), "--shards",
                             "2", "--executor", "local:2", "-q", "-o", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    parts = [run_dir / f"shard-0000{i}-of-00002.h5.partial" for i in range(2)]

    def running(p):  # a chunk is on disk: the shard's run handles signals
        try:
            with h5py.File(p, "r", locking=False) as f:
                return int(f.attrs.get("steps_done", 0)) >= 200
        except (OSError, KeyError):
            return False

    t0 = time.time()
    while not all(running(p) for p in parts):
        assert proc.poll() is None and time.time() - t0 < 120, proc.communicate()
        time.sleep(0.05)
    if sig == signal.SIGINT:  # Ctrl-C: the whole process group
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code and out == "", err
    assert f"interrupted ({name}): 0 of 2 shards are complete" in err
    assert "Run the same command again" in err
    assert _workers_of(run_dir) == []
    for p in parts:
        with h5py.File(p, "r") as f:
            assert f.attrs["status"] == "failed"
            assert f.attrs["note"].startswith(f"interrupted ({name})")
    if sig == signal.SIGINT:
        return  # (resuming: as after SIGTERM)
    r = cli("run", long, "--shards", 2, "--executor", "local:2", "-q", "-o", run_dir,
            "--merge", tmp_path / "merged.h5")
    assert r.returncode == 0, r.stderr
    r = cli("run", long, "-o", tmp_path / "whole.h5", "-q")
    assert r.returncode == 0, r.stderr
    assert_same_run(tmp_path / "whole.h5", tmp_path / "merged.h5")


def test_resume_from_a_renamed_config_file(het, tmp_path):
    """The config file renamed (same content) between the first shard and the rest: the
    run folder was accepted (same config), but the workers read the old path, every missing
    shard failed with "config file not found", and "run the same command again" could never
    finish. Now the manifest follows the config file of the current command."""
    config, whole = het
    first = tmp_path / "first.yaml"
    first.write_text(config.read_text())
    run_dir = tmp_path / "run.d"
    r = cli("run", first, "--shards", 3, "--shard", 0, "-o", run_dir, "-q")
    assert r.returncode == 0, r.stderr
    renamed = first.rename(tmp_path / "renamed.yaml")
    r = cli("run", renamed, "--shards", 3, "--executor", "local:1", "-q", "-o", run_dir,
            "--merge", tmp_path / "merged.h5")
    assert r.returncode == 0, r.stderr
    assert read_manifest(run_dir)["config_file"] == str(renamed.resolve())
    assert_same_run(whole, tmp_path / "merged.h5")


def test_the_same_shard_twice_at_once(het, tmp_path):
    """A job-array task run twice (a requeue while the first still runs): the second
    truncated the first's .partial, failed on HDF5's lock (exit 1, "free some space"), and
    deleted that .partial, so the first failed too at its rename. Now the second is refused
    (exit 2) and the file being written is left alone."""
    config, _ = het
    run_dir = tmp_path / "run.d"
    _run_in_process(config, run_dir, 2)
    (run_dir / "shard-00000-of-00002.h5").unlink()
    part = run_dir / "shard-00000-of-00002.h5.partial"
    with h5py.File(part, "w") as f:  # another run writing shard 0 (HDF5 locks the file)
        f.attrs["status"] = "running"
        f.attrs["mark"] = 7
        f.flush()
        r = cli("run", config, "--shards", 2, "--shard", 0, "-o", run_dir, "-q")
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert f"{part} is being written by another run" in r.stderr
        assert r.stdout == ""
        # merge names it as being written (was: "unreadable")
        r = cli("merge", run_dir, "-o", tmp_path / "m.h5")
        assert r.returncode == 2 and not (tmp_path / "m.h5").exists(), r.stderr
        assert ("shard-00000-of-00002.h5.partial: running (being written by a running "
                "process (its file is locked))" in r.stderr), r.stderr
    with h5py.File(part, "r") as f:
        assert f.attrs["mark"] == 7
    # once that run is gone, the shard runs again
    r = cli("run", config, "--shards", 2, "--shard", 0, "-o", run_dir, "-q")
    assert r.returncode == 0, r.stderr
    assert not part.exists() and (run_dir / "shard-00000-of-00002.h5").exists()


def test_a_complete_partial_is_named_as_stopped_before_its_rename(het, tmp_path):
    """A .partial whose status is complete (closed, then stopped before the rename into
    place) was listed as "failed (... .partial: complete)"; now merge says what happened."""
    config, _ = het
    run_dir = tmp_path / "run.d"
    _run_in_process(config, run_dir, 2)
    done = run_dir / "shard-00001-of-00002.h5"
    done.rename(run_dir / "shard-00001-of-00002.h5.partial")
    r = cli("merge", run_dir, "-o", tmp_path / "m.h5")
    assert r.returncode == 2 and not (tmp_path / "m.h5").exists(), r.stderr
    assert ("shard-00001-of-00002.h5.partial: complete (stopped before it was renamed into "
            "place; a rerun runs the shard again)" in r.stderr), r.stderr


@pytest.mark.slow
def test_sigkill_then_rerun_finishes_only_the_missing_shard(het, tmp_path):
    config, _ = het
    long = tmp_path / "long.yaml"
    cfg = {**HET, "simulation": {**HET["simulation"], "duration": 3000.0, "chunk_steps": 200}}
    long.write_text(yaml.safe_dump(cfg))
    run_dir = tmp_path / "run.d"
    r = cli("run", long, "--shards", 3, "--shard", 0, "-o", run_dir, "-q")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{run_dir / 'shard-00000-of-00003.h5'}\n"
    done = run_dir / "shard-00000-of-00003.h5"
    stamp = done.stat().st_mtime_ns
    # shard 1 killed mid-run: its .partial stays, status running
    proc = subprocess.Popen([sys.executable, "-m", "spikesim.cluster.shards", str(run_dir)],
                            stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    proc.stdin.write("1\n")
    proc.stdin.flush()
    part = run_dir / "shard-00001-of-00003.h5.partial"
    t0 = time.time()
    while time.time() - t0 < 120:
        try:
            with h5py.File(part, "r", locking=False) as f:
                if f.attrs["steps_done"] > 0:
                    break
        except (OSError, KeyError):
            pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert part.exists() and not (run_dir / "shard-00001-of-00003.h5").exists()
    r = cli("merge", run_dir, "-o", tmp_path / "m.h5")
    assert r.returncode == 2
    assert "shard 1: failed" in r.stderr and "shard 2: missing" in r.stderr
    assert not (tmp_path / "m.h5").exists()
    r = cli("run", long, "--shards", 3, "-o", run_dir, "--executor", "local:2")
    assert r.returncode == 0, r.stderr
    assert done.stat().st_mtime_ns == stamp  # the complete shard was not run again
    assert not part.exists()
    r = cli("run", long, "-o", tmp_path / "whole.h5", "-q")
    assert r.returncode == 0, r.stderr
    assert_same_run(tmp_path / "whole.h5", merge(run_dir, tmp_path / "m.h5"))


def test_refusals(het, tmp_path, spikesim_cli):
    config, _ = het
    cli = spikesim_cli
    run_dir = tmp_path / "run.d"
    _run_in_process(config, run_dir, 2)
    (tmp_path / "notes.txt").write_text("not a folder")
    # a different config in the same folder: exit 2, nothing touched
    code, _, err = cli("run", config, "simulation.seed=4", "--shards", 2, "-o", run_dir)
    assert code == 2 and "different config" in err
    code, _, err = cli("run", config, "--shards", 3, "-o", run_dir)
    assert code == 2 and "2 shards, not 3" in err
    # a rerun of a complete run does nothing
    code, out, err = cli("run", config, "--shards", 2, "-o", run_dir)
    assert code == 0 and out == f"{run_dir}\n", err
    # a hand-deleted shard: merge refuses and names it
    (run_dir / "shard-00001-of-00002.h5").unlink()
    with pytest.raises(UsageError, match=r"shard 1: missing \(shard-00001-of-00002.h5"):
        merge(run_dir, tmp_path / "m.h5")
    assert not (tmp_path / "m.h5").exists()
    for args, msg in [(("--shards", 2, "--shard", 2, "-o", run_dir), "numbered 0 to 1"),
                      (("--shard", 0, "-o", run_dir), "go with --shards"),
                      (("--shards", 2, "-o", tmp_path / "x.h5"), "folder"),
                      (("--shards", 31, "-o", tmp_path / "y.d"), "only 30 neurons"),
                      (("--shards", 2, "-o", tmp_path / "z.d", "--executor", "mpi"),
                       "local[:W] or dask"),
                      (("--shards", 2, "-o", tmp_path / "z.d", "--executor", "dask:"),
                       "--executor 'dask:': nothing after the colon"),
                      (("--shards", 2, "-o", tmp_path / "z.d", "--executor", "local:"),
                       "--executor 'local:': nothing after the colon"),
                      (("--shards", 2, "--shard", 0, "-o", tmp_path / "z.d", "--merge",
                        tmp_path / "m.h5"), "spikesim merge RUN_DIR"),
                      (("--shards", 2, "-o", tmp_path / "z.d", "--merge", tmp_path / "m.txt"),
                       "should end in .h5"),
                      (("-o", tmp_path / "z.d", "--merge", tmp_path / "m.h5"),
                       "go with --shards"),
                      (("--shards", 2, "-o", tmp_path / "notes.txt" / "z.d"),
                       "notes.txt is a file, not a folder")]:
        code, _, err = cli("run", config, *args)
        assert code == 2 and msg in err, (args, err)
    assert not (tmp_path / "x.h5").exists() and not (tmp_path / "z.d").exists()
    code, _, err = cli("merge", tmp_path / "nowhere", "-o", tmp_path / "m.h5")
    assert code == 2 and "not the folder of a sharded run" in err


def test_bad_shard_index_and_damaged_manifests(het, tmp_path, spikesim_cli):
    """--shard out of range in a new folder makes no folder; a manifest that is JSON but not
    a manifest (a list, a key missing, a wrong type, too few ranges) is a message naming the
    file, for merge and for run --shards, and --force starts such a folder afresh."""
    config, _ = het
    cli = spikesim_cli
    code, _, err = cli("run", config, "--shards", 2, "--shard", 5, "-o", tmp_path / "new.d")
    assert code == 2 and "numbered 0 to 1" in err and not (tmp_path / "new.d").exists()
    run_dir = tmp_path / "run.d"
    _run_in_process(config, run_dir, 2)
    good = json.loads((run_dir / "manifest.json").read_text())
    damaged = {"a list": ([1, 2], "a JSON list"),
               "no ranges": ({k: v for k, v in good.items() if k != "ranges"},
                             "ranges: field required"),
               "shards a word": ({**good, "shards": "two"}, "shards:"),
               "one range": ({**good, "ranges": good["ranges"][:1]}, "1 ranges")}
    for what, (manifest, needle) in damaged.items():
        (run_dir / "manifest.json").write_text(json.dumps(manifest))
        for argv in (("merge", run_dir, "-o", tmp_path / "m.h5"),
                     ("run", config, "--shards", 2, "-o", run_dir)):
            code, out, err = cli(*argv)
            assert code == 2 and "Traceback" not in err, (what, err)
            assert "manifest.json" in err and needle in err, (what, err)
        assert not (tmp_path / "m.h5").exists()
    code, _, err = cli("run", config, "--shards", 2, "-o", run_dir, "--force")
    assert code == 0, err
    assert read_manifest(run_dir)["ranges"] == good["ranges"]


def test_validate_lists_the_shards(het, spikesim_cli):
    config, _ = het
    code, _, err = spikesim_cli("validate", config, "--shards", 7)
    assert code == 0, err
    assert "shard     6  neurons [25, 30) = 5" in err
    # the time of each shard: the compile and throughput measured on a short run of the
    # largest shard (here, whole: it is small), applied to each shard's own work
    speed = re.search(r"compile ([\d.]+) s, ([\d.e+]+) neuron-steps/s", err)
    assert speed, err
    compile_s, rate = float(speed[1]), float(speed[2])
    shards = re.findall(r"= (\d+)  ([\d.e+]+) neuron-steps  time ~([\d.e+]+) s", err)
    assert len(shards) == 7
    for n, work, t in shards:
        # (printed rounded: compile to 0.1 s, the rest to 3 digits)
        assert float(t) == pytest.approx(compile_s + float(work) / rate, rel=0.01, abs=0.06)
    before = set(config.parent.rglob("*"))
    assert spikesim_cli("validate", config, "--shards", 7)[0] == 0
    assert set(config.parent.rglob("*")) == before  # the measuring run left nothing


def test_merge_of_a_damaged_shard(het, tmp_path, spikesim_cli):
    """A complete shard whose report data is gone: merge was an h5py KeyError traceback; now
    exit 2 naming the run folder, no merged file (nor its .partial)."""
    config, _ = het
    run_dir = tmp_path / "run.d"
    _run_in_process(config, run_dir, 2)
    with h5py.File(run_dir / "shard-00001-of-00002.h5", "a") as f:
        pop = next(iter(f["report"]))
        del f[f"report/{pop}/v/data"]
    code, out, err = spikesim_cli("merge", run_dir, "-o", tmp_path / "m.h5")
    assert code == 2 and "Traceback" not in err, err
    assert f"a shard file of {run_dir} is damaged" in err and "--shards K` again" in err
    assert not (tmp_path / "m.h5").exists() and not (tmp_path / "m.h5.partial").exists()
    # nor the folders it made for the merged file
    code, out, err = spikesim_cli("merge", run_dir, "-o", tmp_path / "new" / "deep" / "m.h5")
    assert code == 2 and not (tmp_path / "new").exists(), err


@pytest.mark.parametrize("shard", [None, 1])
def test_a_folder_in_place_of_a_shard_file(het, tmp_path, spikesim_cli, shard):
    """A folder at a shard's path (or its .partial): every shard ran and that one failed,
    exit 1 "run failed"; now exit 2 before anything is written (no manifest either)."""
    config, _ = het
    run_dir = tmp_path / "run.d"
    (run_dir / "shard-00001-of-00002.h5.partial").mkdir(parents=True)
    extra = [] if shard is None else ["--shard", shard]
    code, _, err = spikesim_cli("run", config, "--shards", 2, *extra, "-o", run_dir, "-q")
    assert code == 2 and "shard-00001-of-00002.h5.partial is a folder where a shard's " in err
    assert sorted(p.name for p in run_dir.iterdir()) == ["shard-00001-of-00002.h5.partial"]


@pytest.mark.parametrize("k", [0, 4])
def test_validate_refuses_a_shard_count_before_printing(spikesim_cli, k):
    """validate --shards 0 printed the whole resolved config on stdout, then exit 2."""
    lif = Path(__file__).parent.parent / "configs" / "lif.yaml"
    code, out, err = spikesim_cli("validate", lif, "population.size=3", "--shards", k)
    assert code == 2 and f"--shards {k}: give 1 to 3 shards" in err
    assert out == ""


def test_a_shard_without_recorded_neurons(tmp_path):
    """Recorded neurons [1, 2] of 40: shards 1 and 2 record none (a report of no columns)."""
    cfg = {"name": "few", "model": {"type": "lif"}, "population": {"size": 40},
           "simulation": {"duration": 20.0, "dt": 0.1},
           "input": {"type": "constant", "amplitude": {"linspace": [1.0, 3.0]}},
           "record": {"variables": ["v"], "neurons": [1, 2]}}
    config = tmp_path / "few.yaml"
    config.write_text(yaml.safe_dump(cfg))
    import spikesim

    whole = spikesim.run(str(config), output=tmp_path / "whole.h5")
    _run_in_process(config, tmp_path / "run.d", 3)
    with h5py.File(tmp_path / "run.d" / "shard-00002-of-00003.h5") as f:
        assert f["report/lif/v/data"].shape == (201, 0)
    merged = merge(tmp_path / "run.d", tmp_path / "merged.h5")
    with h5py.File(merged) as f:
        assert f["report/lif/v/data"].shape == (201, 2)
    assert_same_run(whole, merged)


def test_file_input_columns_follow_the_global_neuron_id(tmp_path):
    """A file input with one column per neuron of a combination: a shard that starts inside
    a combination reads its neurons' own columns (global id mod population.size)."""
    rng = np.random.default_rng(1)
    np.save(tmp_path / "drive.npy", rng.uniform(1.0, 3.0, (50, 4)))
    cfg = {"name": "filed", "model": {"type": "lif"}, "population": {"size": 4},
           "simulation": {"duration": 20.0, "dt": 0.1},
           "input": {"type": "file", "path": str(tmp_path / "drive.npy"), "dt": 0.5,
                     "after": "hold"},
           "record": {"variables": ["input"]},
           "sweep": {"axes": {"model.params.R_m": [10.0, 12.0, 14.0]}}}
    config = tmp_path / "filed.yaml"
    config.write_text(yaml.safe_dump(cfg))
    import spikesim

    whole = spikesim.run(str(config), output=tmp_path / "whole.h5")
    _run_in_process(config, tmp_path / "run.d", 5)  # ranges [0,2) [2,4) [4,7) [7,9) [9,12)
    assert_same_run(whole, merge(tmp_path / "run.d", tmp_path / "merged.h5"), min_spikes=10)


def test_the_parent_of_local_workers_starts_no_jax(het, tmp_path):
    """`run --shards K --executor local:W` only plans and hands out shards: JAX starts in the
    workers, not a second time in the parent (about a second of the whole run's wall time,
    benchmarks/RESULTS.md "Sharded runs")."""
    config, whole = het
    run_dir = tmp_path / "run.d"
    probe = ("import sys, runpy; sys.argv = ['spikesim'] + sys.argv[1:]\n"
             "try:\n    runpy.run_module('spikesim', run_name='__main__')\n"
             "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
             "print('jax' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", probe, "run", str(config), "--shards", "2",
                        "--executor", "local:2", "-q", "-o", str(run_dir)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "False"
    assert_same_run(whole, merge(run_dir, tmp_path / "merged.h5"))
