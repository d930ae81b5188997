"""Every firing-pattern preset produces its named pattern, judged by spike-train measures
(adaptation index, ISI ratios, bursts, first-spike latency), not by eye.

All presets of a model run in one compiled simulation, one neuron per preset, with rk4 at
dt = 0.01 ms (far finer than any ISI here, so the classification does not hinge on the step)."""

import jax.numpy as jnp
import numpy as np
import pytest

from _modelsim import adaptation_index, bursts, simulate, spike_times
from spikesim.models import get_model

DT = 0.01


def _run_presets(model, current, n_steps, init=None):
    names = list(model.presets)
    params = {k: np.array([model.defaults(n)[k] for n in names]) for k in model.params}
    tr, sp = simulate(model, dt=DT, n_steps=n_steps, integrator="rk4", params=params,
                      current=current, init=init, n=len(names))
    return {n: spike_times(sp, DT, i) for i, n in enumerate(names)}, tr, names


# ----------------------------------------------------------------------------- Izhikevich 2003
@pytest.fixture(scope="module")
def izh_step():
    """The paper's Fig. 2 protocol: a DC step of I = 10 (the presets' ``current``) at 10 ms."""
    model = get_model("izhikevich")
    assert {p.current for p in model.presets.values()} == {10.0}
    times, _, _ = _run_presets(model, lambda t: jnp.where(t >= 10.0, 10.0, 0.0), 30000)
    return times


def test_izhikevich_rs_adapts_without_bursting(izh_step):
    isi = np.diff(izh_step["RS"])
    assert len(isi) >= 4
    assert isi.min() > 10.0  # no burst: every ISI is long
    assert isi[-1] > 1.5 * isi[0]  # spike-frequency adaptation
    assert adaptation_index(isi) > 0.03


def test_izhikevich_ib_initial_burst_then_tonic(izh_step):
    isi = np.diff(izh_step["IB"])
    assert len(isi) >= 6
    assert isi[0] < 0.2 * np.median(isi[-4:])  # a burst at onset ...
    tail = isi[-4:]
    assert tail.std() < 0.05 * tail.mean()  # ... then regular single spikes
    assert tail.min() > 10.0


def test_izhikevich_ch_repetitive_bursts(izh_step):
    groups = bursts(izh_step["CH"], gap=20.0)
    assert len(groups) >= 4
    assert all(len(g) >= 2 for g in groups)
    isi = np.diff(izh_step["CH"])
    assert isi.max() > 5 * np.median(isi)  # bimodal: intra-burst vs inter-burst


def test_izhikevich_fs_fast_and_non_adapting(izh_step):
    isi = np.diff(izh_step["FS"])
    rs = np.diff(izh_step["RS"])
    assert len(isi) >= 20 and np.median(isi) < 0.25 * np.median(rs)
    tail = isi[3:]
    assert tail.max() - tail.min() < 0.05 * tail.mean()
    assert abs(adaptation_index(isi)) < 0.02


def test_izhikevich_lts_low_threshold_and_adapting(izh_step):
    isi = np.diff(izh_step["LTS"])
    assert isi[-1] > 3 * isi[0]  # high-frequency start, strong adaptation
    # Low threshold: at I = 3 LTS fires while RS is below its rheobase. For u = b v at
    # equilibrium, 0.04 v^2 + (5 - b) v + 140 + I = 0 has no root once
    # I > (5 - b)^2 / 0.16 - 140: 4.0 for RS (b = 0.2), 1.0 for LTS (b = 0.25).
    times, _, names = _run_presets(get_model("izhikevich"), 3.0, 20000)
    assert len(times["RS"]) == 0
    assert len(times["LTS"]) >= 3


def test_izhikevich_tc_rebound_burst():
    """Released from hyperpolarisation (I = -10 for 100 ms), TC fires a rebound burst; RS
    does not."""
    times, _, _ = _run_presets(get_model("izhikevich"),
                               lambda t: jnp.where(t < 100.0, -10.0, 0.0), 30000)
    rebound = times["TC"][times["TC"] > 100.0]
    assert len(rebound) >= 3 and rebound[0] < 120.0
    assert np.diff(rebound[:3]).max() < 15.0
    assert len(times["RS"]) == 0


def test_izhikevich_rz_damped_subthreshold_oscillation():
    """A resonator rings after a small kick: started at its equilibrium, a 1 ms pulse makes
    v - v_eq change sign repeatedly. RS's rest is a node (two real eigenvalues), so its
    response, a sum of two decaying exponentials, changes sign at most once."""
    model = get_model("izhikevich")
    out = {}
    for name in ("RZ", "RS"):
        b = model.presets[name].params["b"]
        v_eq = (-(5 - b) - np.sqrt((5 - b) ** 2 - 4 * 0.04 * 140)) / (2 * 0.04)  # stable root
        tr, sp = simulate(model, dt=DT, n_steps=20000, integrator="rk4", preset=name,
                          init={"v": v_eq, "u": b * v_eq},
                          current=lambda t: jnp.where((t >= 10.0) & (t < 11.0), 1.0, 0.0))
        assert not sp.any()
        x = tr["v"][1200:, 0] - v_eq  # after the pulse
        big = x[np.abs(x) > 1e-3 * np.abs(x).max()]  # ignore round-off around zero
        out[name] = int(np.sum(np.sign(big[1:]) != np.sign(big[:-1])))
    assert out["RZ"] >= 3
    assert out["RS"] <= 1


# ----------------------------------------------------------------------------- AdEx, Naud 2008
@pytest.fixture(scope="module")
def naud():
    """Each Naud et al. (2008) preset from rest, with its Table 1 current stepped on at 20 ms,
    for 600 ms."""
    model = get_model("adex")
    names = list(model.presets)
    amp = np.array([model.presets[n].current or 0.0 for n in names])
    init = {"v": np.array([model.presets[n].init["v"] for n in names]), "w": 0.0}
    times, _, _ = _run_presets(model, lambda t: jnp.where(t >= 20.0, amp, 0.0), 60000, init)
    return times


def _isi(times):
    return np.diff(times)


def test_adex_tonic(naud):
    isi = _isi(naud["tonic"])
    assert len(isi) >= 20
    assert abs(adaptation_index(isi)) < 0.01
    assert isi.max() - isi.min() < 0.1 * isi.mean()


def test_adex_adapting(naud):
    isi = _isi(naud["adapting"])
    assert len(isi) >= 5
    assert np.all(np.diff(isi) > -1e-6)  # ISIs lengthen monotonically
    assert isi[-1] > 3 * isi[0]
    assert np.max(isi[1:] / isi[:-1]) < 2.0  # gradual: no burst-then-pause jump


def test_adex_initial_burst(naud):
    isi = _isi(naud["initial_burst"])
    assert len(isi) >= 5
    steady = isi[-3:]
    assert isi[0] < 0.2 * steady.mean()  # short ISIs at onset ...
    assert steady.std() < 0.05 * steady.mean()  # ... then regular spiking
    groups = bursts(naud["initial_burst"], gap=0.5 * steady.mean())
    assert len(groups[0]) >= 3 and all(len(g) == 1 for g in groups[1:])  # one burst only


def _regular_bursts(times, n_min):
    isi = _isi(times)
    groups = bursts(times, gap=0.5 * isi.max())
    assert len(groups) >= n_min
    assert all(len(g) >= 2 for g in groups[1:])  # every burst after the first has >= 2 spikes
    assert isi.max() > 5 * np.median(isi[isi < 0.5 * isi.max()])
    return groups


def test_adex_regular_bursting(naud):
    _regular_bursts(naud["regular_bursting"], 4)


def test_adex_delayed_accelerating(naud):
    times = naud["delayed_accelerating"]
    isi = _isi(times)
    latency = times[0] - 20.0
    assert latency > 2 * (naud["tonic"][0] - 20.0)  # delayed onset
    assert adaptation_index(isi) < 0  # ISIs shorten
    assert isi[-1] < 0.8 * isi[0]


def test_adex_delayed_regular_bursting(naud):
    times = naud["delayed_regular_bursting"]
    assert times[0] - 20.0 > 2 * (naud["tonic"][0] - 20.0)
    _regular_bursts(times, 4)


def test_adex_transient(naud):
    times = naud["transient"]
    assert len(times) >= 1
    assert times[-1] < 20.0 + 100.0  # fires at onset only, then silent for ~500 ms


def test_adex_irregular(naud):
    isi = _isi(naud["irregular"])
    assert len(isi) >= 15
    cv = isi.std() / isi.mean()
    assert cv > 0.3
    # Not a periodic burst pattern either: the ISI sequence does not repeat with any short
    # period (as the bursting presets' does).
    tail = isi[5:]
    for period in range(1, 6):
        assert np.max(np.abs(tail[period:] - tail[:-period])) > 0.2 * tail.mean()
