"""Runs that fail midway, through the real CLI: signals (subprocess), a numerical blow-up, a
full disk, --force, --init-from, and the reproducibility record (--from)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import yaml


LIF = {
    "model": {"type": "lif"},
    "population": {"size": 8},
    # 1.6 .. 3.0 nA into 10 MOhm: suprathreshold (15 mV), 20-100 Hz
    "input": {"type": "constant", "amplitude": {"linspace": [1.6, 3.0]}},
    "simulation": {"duration": 200.0, "dt": 0.1, "chunk_steps": 200},
    "record": {"variables": ["v"], "every": 10},
}


def write_config(folder, cfg, name="cfg.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump(cfg))
    return path


def spikes(path):
    with h5py.File(path, "r") as f:
        g = f[f"spikes/{f.attrs['population']}"]
        return g["timestamps"][:], g["node_ids"][:]


# -- signals ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cache_env(tmp_path_factory):
    """Subprocesses share a private compilation cache: only the first compiles."""
    return {**os.environ, "SPIKESIM_CACHE_DIR": str(tmp_path_factory.mktemp("xla"))}


def start_long_run(tmp_path, env):
    cfg = {**LIF, "simulation": {**LIF["simulation"], "duration": 1.0e7}}
    path = write_config(tmp_path, cfg)
    out = tmp_path / "long.h5"
    proc = subprocess.Popen([sys.executable, "-m", "spikesim", "run", str(path), "-o", str(out),
                             "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=tmp_path)
    partial = tmp_path / "long.h5.partial"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:  # the writer holds the file: read without HDF5's lock
            with h5py.File(partial, "r", locking=False) as f:
                if f.attrs["steps_done"] > 0:
                    return proc, out, partial
        except (OSError, KeyError):
            pass
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the run wrote no chunk: {proc.communicate()[1].decode()[-2000:]}")


@pytest.mark.parametrize("sig, code, name", [(signal.SIGINT, 130, "SIGINT"),
                                             (signal.SIGTERM, 1, "SIGTERM")])
def test_signal_after_first_chunk_keeps_the_chunks_done(tmp_path, cache_env, sig, code, name):
    proc, out, partial = start_long_run(tmp_path, cache_env)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    stderr = stderr.decode()
    assert proc.returncode == code, stderr
    assert stdout == b"" and "Traceback" not in stderr
    assert name in stderr and str(partial.name) in stderr
    assert not out.exists()
    with h5py.File(partial, "r") as f:
        assert f.attrs["status"] == "failed"
        done = int(f.attrs["steps_done"])
        assert f"after {done} of" in f.attrs["note"] and name in f.attrs["note"]
        rows = f["report/lif/v/data"].shape[0]
    assert done > 0 and done % 200 == 0
    assert rows == done // 10 + 1  # row 0 is the initial state
    # the spikes kept are exactly those of an uninterrupted run of the same length
    ref = write_config(tmp_path, {**LIF, "simulation": {**LIF["simulation"],
                                                        "duration": done * 0.1}}, "ref.yaml")
    subprocess.run([sys.executable, "-m", "spikesim", "run", str(ref), "-o",
                    str(tmp_path / "ref.h5"), "-q"], check=True, env=cache_env,
                   capture_output=True)
    t_kept, i_kept = spikes(partial)
    t_ref, i_ref = spikes(tmp_path / "ref.h5")
    assert t_ref.size > 0
    np.testing.assert_array_equal(i_kept, i_ref)
    np.testing.assert_allclose(t_kept, t_ref, rtol=0, atol=1e-9)


def test_sigkill_leaves_a_readable_partial_file(tmp_path, cache_env):
    proc, out, partial = start_long_run(tmp_path, cache_env)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    with h5py.File(partial, "r") as f:
        assert f.attrs["status"] == "running"  # it never got to say otherwise
        done = int(f.attrs["steps_done"])
        t = f["spikes/lif/timestamps"][:]
        v = f["report/lif/v/data"][:]
    assert done >= 200 and t.size > 0 and np.all(np.diff(t) >= 0)
    assert v.shape[0] >= done // 10 + 1 and np.isfinite(v).all()



def test_ctrl_c_outside_the_chunk_loop_exits_130(spikesim_cli, tmp_path, monkeypatch):
    """Ctrl-C while no run's handler is installed (a config loading, a merge): typer turns
    the KeyboardInterrupt into an exit code that it returns, and the CLI exited 0, silently,
    with nothing written."""
    import spikesim.cluster.merge as merging

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(merging, "merge", interrupted)
    code, out, err = spikesim_cli("merge", tmp_path, "-o", tmp_path / "m.h5")
    assert (code, out) == (130, "") and "interrupted" in err
    assert not (tmp_path / "m.h5").exists()

# -- numerical blow-up ------------------------------------------------------------------
BLOWUP = {
    "model": {"type": "hodgkin_huxley"},
    "population": {"size": 4},
    "simulation": {"duration": 50.0, "dt": 0.05, "integrator": "euler", "chunk_steps": 100,
                   "precision": "float32"},
    # every neuron fires under 10 uA/cm2; at 20 ms neuron 2 gets 1e5 on top, which explicit
    # Euler at dt = 0.05 ms cannot follow
    "input": [{"type": "constant", "amplitude": 10.0},
              {"type": "step", "amplitude": [0.0, 0.0, 1.0e5, 0.0], "start": 20.0}],
    "record": {"variables": ["v"], "every": 10},
}


def first_nonfinite_step():
    """The first step after which neuron 2's state is not finite, simulated on its own
    (a plain lax.scan over model.step, no chunks, no runner)."""
    import jax.numpy as jnp

    from spikesim.models import MODELS
    from tests._modelsim import simulate

    traces, _ = simulate(MODELS["hodgkin_huxley"](), dt=0.05, n_steps=1000, integrator="euler",
                         dtype=jnp.float32,
                         current=lambda t: 10.0 + jnp.where(t >= 20.0 - 1e-9, 1.0e5, 0.0))
    bad = ~np.isfinite(np.stack([x[:, 0] for x in traces.values()]))
    return int(np.flatnonzero(bad.any(axis=0))[0])


def test_blowup_stops_names_neuron_time_and_keeps_good_chunks(spikesim_cli, tmp_path):
    cfg = write_config(tmp_path, BLOWUP)
    (tmp_path / "out.h5").write_bytes(b"an earlier result")
    code, out, err = spikesim_cli("run", cfg, "-o", "out.h5", "--force", "-q")
    k = first_nonfinite_step()
    assert code == 1, err
    assert out == "" and "Traceback" not in err
    assert "neuron 2" in err and f"t = {k * 0.05:g} ms (step {k})" in err
    assert "smaller dt" in err and "rk4" in err
    # --force replaces the old file only when a run completes
    assert (tmp_path / "out.h5").read_bytes() == b"an earlier result"
    with h5py.File(tmp_path / "out.h5.partial", "r") as f:
        assert f.attrs["status"] == "failed"
        assert "neuron 2" in f.attrs["note"]
        done = int(f.attrs["steps_done"])
        t = f["spikes/hodgkin_huxley/timestamps"][:]
        v = f["report/hodgkin_huxley/v/data"][:]
    assert done == (k - 1) // 100 * 100  # the last chunk that ended finite
    assert t.size >= 4 and t.max() <= done * 0.05 + 1e-9
    assert v.shape[0] == done // 10 + 1 and np.isfinite(v).all()


# -- write errors -----------------------------------------------------------------------
def test_disk_full_ends_the_run_and_keeps_what_was_written(spikesim_cli, tmp_path,
                                                           monkeypatch):
    from spikesim.io.writer import Writer

    calls = {"n": 0}
    real = Writer.spikes

    def spikes_then_full(self, steps, ids):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, steps, ids)

    monkeypatch.setattr(Writer, "spikes", spikes_then_full)
    cfg = write_config(tmp_path, LIF)
    code, out, err = spikesim_cli("run", cfg, "-o", "out.h5", "-q")
    assert code == 1, err
    assert "write error" in err and "No space left" in err and "Traceback" not in err
    assert not (tmp_path / "out.h5").exists()
    with h5py.File(tmp_path / "out.h5.partial", "r") as f:
        assert f.attrs["status"] == "failed"
        assert int(f.attrs["steps_done"]) == 400
        t = f["spikes/lif/timestamps"][:]
    assert t.size > 0 and t.max() <= 40.0 + 1e-9


def test_force_replaces_only_a_completed_run(spikesim_cli, tmp_path):
    cfg = write_config(tmp_path, LIF)
    (tmp_path / "out.h5").write_bytes(b"old")
    code, out, err = spikesim_cli("run", cfg, "-o", "out.h5", "-q")
    assert code == 2 and (tmp_path / "out.h5").read_bytes() == b"old"
    code, out, err = spikesim_cli("run", cfg, "-o", "out.h5", "-q", "--force")
    assert code == 0, err
    assert out.strip() == "out.h5" and not (tmp_path / "out.h5.partial").exists()
    with h5py.File(tmp_path / "out.h5", "r") as f:
        assert f.attrs["status"] == "complete"


# -- continuing a run, and re-running one -----------------------------------------------
def test_init_from_continues_one_run_split_in_two(spikesim_cli, tmp_path):
    """200 ms in one run == 100 ms, then 100 ms --init-from the first: same spikes, same
    traces, and the OU noise continues (it is not the first half's noise again)."""
    cfg = {**LIF, "input": [LIF["input"], {"type": "ou", "mean": 0.0, "std": 0.4,
                                           "tau": 5.0}],
           "record": {"variables": ["v", "input"], "every": 10}}
    path = write_config(tmp_path, cfg)
    assert spikesim_cli("run", path, "-o", "full.h5", "-q")[0] == 0
    assert spikesim_cli("run", path, "simulation.duration=100", "-o", "h1.h5", "-q")[0] == 0
    code, out, err = spikesim_cli("run", path, "simulation.duration=100", "--init-from",
                                  "h1.h5", "-o", "h2.h5", "-q")
    assert code == 0, err
    t_full, i_full = spikes(tmp_path / "full.h5")
    t2, i2 = spikes(tmp_path / "h2.h5")
    late = t_full > 100.0 + 1e-9
    assert late.sum() > 10
    # the continued run's time axis starts at 0; its t_start attr says where it really is
    np.testing.assert_allclose(t2, t_full[late] - 100.0, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(i2, i_full[late])
    with h5py.File(tmp_path / "full.h5") as a, h5py.File(tmp_path / "h1.h5") as b1, \
            h5py.File(tmp_path / "h2.h5") as b2:
        for var in ("v", "input"):
            np.testing.assert_array_equal(b2[f"report/lif/{var}/data"][:],
                                          a[f"report/lif/{var}/data"][100:])
        assert not np.array_equal(b2["report/lif/input/data"][1:],
                                  b1["report/lif/input/data"][1:])
        assert b2.attrs["t_start"] == 100.0 and b2.attrs["step_start"] == 1000
        assert b2["state/lif"].attrs["step"] == 2000
        for var in a["state/lif"]:
            if var != "inputs":
                np.testing.assert_array_equal(a[f"state/lif/{var}"][:],
                                              b2[f"state/lif/{var}"][:])


def test_output_records_everything_to_rerun_it(spikesim_cli, tmp_path):
    import jax
    import jaxlib

    path = write_config(tmp_path, {**LIF, "simulation": {**LIF["simulation"],
                                                         "duration": 50.0, "seed": 7}})
    assert spikesim_cli("run", path, "-o", "a.h5", "-q")[0] == 0
    with h5py.File(tmp_path / "a.h5") as f:
        a = dict(f.attrs)
    assert a["jax_version"] == jax.__version__ and a["jaxlib_version"] == jaxlib.__version__
    assert a["numpy_version"] == np.__version__ and a["h5py_version"] == h5py.__version__
    assert a["spikesim_version"] and a["device"].startswith("cpu")
    assert a["precision"] == "float32" and a["seed"] == 7
    cfg = yaml.safe_load(a["config"])
    assert cfg["simulation"]["seed"] == 7 and cfg["simulation"]["integrator"]
    # the config file is gone: the output alone re-runs it
    path.unlink()
    assert spikesim_cli("run", "--from", "a.h5", "-q")[0] == 2  # would overwrite a.h5
    code, out, err = spikesim_cli("run", "--from", "a.h5", "-o", "b.h5", "-q")
    assert code == 0, err
    for x, y in zip(spikes(tmp_path / "a.h5"), spikes(tmp_path / "b.h5")):
        np.testing.assert_array_equal(x, y)
    with h5py.File(tmp_path / "a.h5") as fa, h5py.File(tmp_path / "b.h5") as fb:
        np.testing.assert_array_equal(fa["report/lif/v/data"][:], fb["report/lif/v/data"][:])
    # overrides apply on top of the embedded config
    code, out, err = spikesim_cli("run", "--from", "a.h5", "simulation.duration=20", "-o",
                                  "c.h5", "-q")
    assert code == 0, err
    with h5py.File(tmp_path / "c.h5") as f:
        assert f.attrs["duration"] == 20.0
