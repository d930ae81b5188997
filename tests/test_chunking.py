"""Chunking is invisible: the same run with chunk sizes that do and do not divide the number
of steps gives bit-identical output."""

import numpy as np
import pytest

from conftest import hh_config

CFG = hh_config(population={"size": 5},
                model={"type": "hodgkin_huxley", "params": {"g_K": {"linspace": [30.0, 40.0]}}},
                simulation={"duration": 30.0, "dt": 0.025, "precision": "float32",
                            "integrator": "rk2"},
                input={"type": "step", "amplitude": 12.0, "start": 1.0, "stop": 25.0},
                record={"variables": ["v", "input"], "every": 3, "start": 0.5, "stop": 29.0})


def _read(f):
    out = {k: f[f"spikes/hodgkin_huxley/{k}"][:] for k in ("timestamps", "node_ids")}
    for var in ("v", "input"):
        out[var] = f[f"report/hodgkin_huxley/{var}/data"][:]
    for var in ("v", "n", "m", "h"):
        out["state_" + var] = f[f"state/hodgkin_huxley/{var}"][:]
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    import h5py

    import spikesim

    path = spikesim.run(CFG, "simulation.chunk_steps=100000",
                        output=tmp_path_factory.mktemp("ref") / "ref.h5")
    with h5py.File(path) as f:
        return _read(f)


@pytest.mark.parametrize("chunk", [1, 7, 64, 150])
def test_chunk_size_does_not_change_output(run_config, reference, chunk):
    # 1200 steps in blocks of 3: chunks of 150 steps divide them, 7 (-> 9) and 64 (-> 66) do
    # not; 1 (-> one block per chunk) is the extreme
    ref = reference
    got = _read(run_config(CFG, f"simulation.chunk_steps={chunk}", name=f"c{chunk}"))
    assert len(ref["timestamps"]) >= 10
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)


def test_report_rows_follow_window(run_config):
    f = run_config(CFG)
    mapping = f["report/hodgkin_huxley/v/mapping/time"][:]
    dt, every = 0.025, 3
    start_step = 20  # ceil(0.5 / 0.025)
    stop_step = 1160  # floor(29.0 / 0.025)
    n_rows = (stop_step - start_step) // every + 1
    assert f["report/hodgkin_huxley/v/data"].shape[0] == n_rows
    np.testing.assert_allclose(mapping, [0.5, 0.5 + n_rows * every * dt, every * dt])


@pytest.mark.parametrize("chunk,buffer", [(13, 39), (16, 100), (64, 1)])
def test_spike_buffer_size_does_not_change_output(tmp_path, monkeypatch, chunk, buffer):
    """Spikes reach the file through a fixed buffer, as whole HDF5 chunks: a buffer far
    smaller than a chunk's spikes (so that it fills and is written many times within a
    chunk, and partly, ending inside an HDF5 chunk, at chunk ends) gives the same spikes as
    one buffer and one HDF5 chunk for the whole run, which only dataset writes reach (no
    chunk of it is ever complete); the buffer rounds up to whole chunks (100 -> 112,
    1 -> 64)."""
    import h5py

    import spikesim
    from spikesim.io.writer import Writer

    cfg = {"model": {"type": "lif"}, "population": {"size": 50},
           "simulation": {"duration": 200.0, "dt": 0.1, "chunk_steps": 640},
           "input": {"type": "constant", "amplitude": {"linspace": [16.0, 40.0]}}}
    out = {}
    for c, b in ((chunk, buffer), (1 << 20, 1 << 20)):
        monkeypatch.setattr(Writer, "SPIKE_CHUNK", c)
        monkeypatch.setattr(Writer, "SPIKE_BUFFER", b)
        path = spikesim.run(cfg, output=tmp_path / f"b{b}.h5")
        with h5py.File(path) as f:
            ts = f["spikes/lif/timestamps"]
            assert ts.chunks == (c,)
            out[c] = (ts[:], f["spikes/lif/node_ids"][:])
    small, whole = out[chunk], out[1 << 20]
    assert small[0].size > 20 * max(chunk, buffer)
    for a, b in zip(small, whole):
        np.testing.assert_array_equal(a, b)
    assert np.all(np.diff(small[0]) >= 0)
