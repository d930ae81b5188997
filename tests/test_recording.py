"""Recording options end to end (SPEC section 3): a subsampled, windowed, subset report must
equal the every-step, all-neuron report of the same run sliced in numpy."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from _runs import config, run

DT = 0.1
N_STEPS = 400


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """Every step, every neuron, chunks of 7 steps (so windows straddle chunk edges)."""
    p = run(tmp_path_factory.mktemp("full"), "full",
            config(simulation={"chunk_steps": 7}, record={"every": 1}))
    with h5py.File(p) as f:
        return {v: f[f"report/lif/{v}/data"][:] for v in ("v", "input")} | {
            "t": f["spikes/lif/timestamps"][:], "ids": f["spikes/lif/node_ids"][:]}


CASES = {
    "every3_window": dict(every=3, start=0.7, stop=17.3, neurons=[1, 3]),
    "start_inside_first_block": dict(every=5, start=0.3),
    "single_row": dict(every=5, start=0.3, stop=0.3),
    "every4_from1": dict(every=4, start=1.0, neurons={"every": 2}),
    "every7_first2": dict(every=7, neurons={"first": 2}),
    "last_step_only": dict(every=1, start=39.95),
    "every_longer_than_run": dict(every=450, neurons=[5]),
}


@pytest.mark.parametrize("case,chunk", [(c, None) for c in CASES]
                         + [("every3_window", 11), ("start_inside_first_block", 4)])
def test_report_is_the_full_run_sliced(tmp_path, full, case, chunk):
    rec = CASES[case]
    cfg = config(record=rec, simulation={"chunk_steps": chunk} if chunk else {})
    p = run(tmp_path, case, cfg)
    # the rows the SPEC asks for, computed here from the config alone
    start_step = int(np.ceil(rec.get("start", 0.0) / DT - 1e-9))
    stop_step = N_STEPS if rec.get("stop") is None else int(np.floor(rec["stop"] / DT + 1e-9))
    steps = np.arange(start_step, stop_step + 1, rec["every"])
    neurons = rec.get("neurons", "all")
    ids = (np.arange(6) if neurons == "all" else np.asarray(neurons) if isinstance(neurons, list)
           else np.arange(neurons["first"]) if "first" in neurons
           else np.arange(0, 6, neurons["every"]))
    with h5py.File(p) as f:
        for var in ("v", "input"):
            g = f[f"report/lif/{var}"]
            np.testing.assert_array_equal(g["mapping/node_ids"][:], ids)
            start, stop, step = g["mapping/time"][:]
            assert start == pytest.approx(start_step * DT)
            assert step == pytest.approx(rec["every"] * DT)
            assert stop == pytest.approx((start_step + steps.size * rec["every"]) * DT)
            data = g["data"][:]
            assert data.shape == (steps.size, ids.size)
            np.testing.assert_array_equal(data, full[var][steps][:, ids])
        np.testing.assert_array_equal(f["spikes/lif/timestamps"][:], full["t"])
        np.testing.assert_array_equal(f["spikes/lif/node_ids"][:], full["ids"])


def test_row_zero_is_the_initial_state(full):
    np.testing.assert_array_equal(full["v"][0], -68.0)  # model.init.v of the config
    np.testing.assert_array_equal(full["input"][0], 0.0)  # the steps start at 2 ms


def test_input_is_the_configured_current(full):
    t = np.arange(N_STEPS + 1) * DT
    a1 = np.linspace(1.6, 6.0, 6)
    a2 = np.asarray([0.0, 2.0, 3.0, 8.0, 0.0, 4.0])
    on1 = ((t >= 2.0 - 1e-9) & (t < 15.0 - 1e-9))[:, None]
    on2 = (t >= 15.0 - 1e-9)[:, None]
    np.testing.assert_allclose(full["input"], on1 * a1 + on2 * a2, rtol=0, atol=1e-12)


def test_value_on_a_spike_step_is_after_the_reset(full):
    assert full["t"].size > 10
    k = np.round(full["t"] / DT).astype(int)  # a spike's timestamp is the end of its step
    ids = full["ids"].astype(int)
    np.testing.assert_array_equal(full["v"][k, ids], -72.0)  # v_reset
    assert np.all(full["v"][k - 1, ids] < -50.0)  # below v_th before the crossing step


def test_gzip_compression_changes_nothing_but_the_filter(tmp_path, full):
    p = run(tmp_path, "gz", config(record={"every": 2}, output={"compression": "gzip"}))
    with h5py.File(p) as f:
        d = f["report/lif/v/data"]
        assert d.compression == "gzip"
        np.testing.assert_array_equal(d[:], full["v"][::2])


def test_reports_are_uncompressed_by_default(tmp_path):
    p = run(tmp_path, "plain", config(record={"every": 10}))
    with h5py.File(p) as f:
        assert f["report/lif/v/data"].compression is None
