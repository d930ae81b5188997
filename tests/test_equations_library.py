"""The shipped model files (spikesim/models/library): each against an independent reference,
scipy's DOP853 with events on the right-hand side written out again from the paper in
tests/_equations.py, and a published property of the model, run through the whole pipeline
(config, sweep over the input, HDF5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from _equations import rhs
from _modelsim import simulate, spike_times
from spikesim.core.source import Source
from spikesim.equations import expand, library

#: (constant input, duration ms, dt ms, threshold variable) with several spikes
CASES = {
    "morris_lecar": (100.0, 200.0, 0.1, "v"),
    "fitzhugh_nagumo": (0.5, 200.0, 0.05, "v"),
    "hindmarsh_rose": (2.0, 300.0, 0.05, "x"),
    "connor_stevens": (100.0, 100.0, 0.01, "v"),
    "hh_mcurrent": (10.0, 100.0, 0.01, "v"),
}


def _model(name):
    return expand({"model": {"type": "equations", "file": name}}, Source("<test>"))()


def test_library_ships_the_models():
    assert {"morris_lecar", "fitzhugh_nagumo", "hindmarsh_rose", "connor_stevens",
            "hh_mcurrent", "hodgkin_huxley", "adex", "izhikevich", "lif"} <= set(library())


@pytest.mark.parametrize("name", list(CASES))
def test_library_model_against_dop853(name):
    """rk4 at dt and dt/2 against DOP853 (rtol 1e-10, atol 1e-12, whose own error is below
    1e-8 mV here): the same spikes, each grid timestamp the end of the step that holds the
    reference crossing, and the error of the trace falling at order >= 3.3 (rk4: 4; the
    measured slope is 3.9-4.9)."""
    I, T, dt, var = CASES[name]
    model = _model(name)
    d = model.definition
    p = dict(d.param_defaults)
    f, order = rhs(name, p, I)
    th = p["x_th" if var == "x" else "v_th"]

    def crossing(t, y):
        return y[0] - th
    crossing.direction = 1
    ts = np.arange(int(round(T / dt)) + 1) * dt
    # the same initial state for both (the model file derives HH gates at steady state)
    import jax.numpy as jnp

    y_init = model.initial_state({k: jnp.asarray(v) for k, v in p.items()}, {}, 1, jnp.float64)
    ref = solve_ivp(f, (0, T), [float(y_init[k][0]) for k in order], method="DOP853",
                    rtol=1e-10, atol=1e-12, t_eval=ts, events=crossing)
    events = ref.t_events[0]
    assert len(events) >= 3, f"{name}: the case should spike"
    errors = []
    for h in (dt, dt / 2):
        traces, spikes = simulate(model, dt=h, n_steps=int(round(T / h)), integrator="rk4",
                                  current=I)
        stamps = spike_times(spikes, h)
        assert len(stamps) == len(events), f"{name} dt={h}: {len(stamps)} vs {len(events)}"
        # the crossing lies in the stamped step (slack: the phase error of the solution,
        # well below one step here)
        assert np.all((events > stamps - h - 0.2 * h) & (events <= stamps + 0.2 * h)), \
            (name, h, stamps - events)
        errors.append(np.max(np.abs(traces[var][:: int(round(dt / h)), 0] - ref.y[0])))
    slope = math.log2(errors[0] / errors[1])
    assert slope > 3.3, f"{name}: errors {errors}, order {slope:.2f}"


def _rates(tmp_path, name, amplitudes, duration, dt, params=None, settle=None):
    """Firing rate (Hz, from the spikes after ``settle`` ms) of one neuron per amplitude, from
    one compiled run with a sweep over the input."""
    import spikesim

    cfg = {"name": name,
           "model": {"type": "equations", "file": name, "params": params or {}},
           "simulation": {"duration": duration, "dt": dt, "integrator": "rk4",
                          "precision": "float64"},
           "input": {"type": "constant", "amplitude": 0.0},
           "sweep": {"axes": {"input.amplitude": list(amplitudes)}}}
    if name == "hodgkin_huxley":
        cfg["model"] = {"type": "hodgkin_huxley"}
    res = spikesim.load(spikesim.run(cfg, output=tmp_path / f"{name}_{amplitudes[0]:g}.h5"))
    spikes = res.spikes
    settle = duration / 2 if settle is None else settle
    out = []
    for i in range(len(amplitudes)):
        t = spikes[i][spikes[i] > settle]
        out.append(1000.0 / np.mean(np.diff(t)) if len(t) >= 2 else 0.0)
    return np.asarray(out)


TYPE_I = {"g_Ca": 4.0, "V3": 12.0, "V4": 17.4, "phi": 0.0666667}


@pytest.mark.slow
def test_morris_lecar_type_I_and_type_II_onsets(tmp_path):
    """Rinzel & Ermentrout (1998), section 7.3: with the SNLC ("type I") set firing starts
    (near I = 40 uA/cm2) at an arbitrarily low rate; with the Hopf ("type II") set it starts
    (near I = 88) at a finite rate, about 9 Hz (their Fig. 7.4: period ~110 ms)."""
    type1 = _rates(tmp_path, "morris_lecar", np.arange(39.0, 46.0, 0.5), 4000.0, 0.1, TYPE_I)
    type2 = _rates(tmp_path, "morris_lecar", np.arange(84.0, 96.0, 1.0), 3000.0, 0.1)
    assert type1[0] == 0 and type2[0] == 0, (type1, type2)
    first1, first2 = type1[type1 > 0][0], type2[type2 > 0][0]
    assert first1 < 5.0, type1  # onset near 0 Hz
    assert 7.0 < first2 < 12.0, type2  # onset at a finite rate
    assert np.all(np.diff(type1[type1 > 0]) > 0)


def test_morris_lecar_type_I_rate_grows_as_the_square_root_past_the_snic(tmp_path):
    """The SNLC set's rest vanishes where the v-nullcline's I(v) = g_L (v - E_L) + g_Ca m_inf
    (v - E_Ca) + g_K w_inf (v - E_K) has its local maximum (Rinzel & Ermentrout 1998, section
    7.3): I_c = 39.963 uA/cm2, computed here from their Table 7.1 values. Past it the rate
    follows the saddle-node normal form, f ~ sqrt(I - I_c) (Izhikevich 2007, section 6.1.2):
    at I_c + 0.04, + 0.14, + 0.34 (6 s runs, rates over the last 5 s: 4 or more ISIs of up
    to 1 s, the grid's 0.1 ms a 1e-4 part of them) f / sqrt(I - I_c) stays within 5 % of
    its mean (it falls by ~5 % over the range as the next order comes in), and below I_c
    there is no firing."""
    from scipy.optimize import minimize_scalar

    def nullcline(v):  # Rinzel & Ermentrout (1998), Table 7.1, SNLC set
        m = 0.5 * (1 + np.tanh((v + 1.2) / 18.0))
        w = 0.5 * (1 + np.tanh((v - 12.0) / 17.4))
        return 2.0 * (v + 60.0) + 4.0 * m * (v - 120.0) + 8.0 * w * (v + 84.0)

    fold = minimize_scalar(lambda v: -nullcline(v), bounds=(-50.0, -10.0), method="bounded",
                           options={"xatol": 1e-8})
    I_c = nullcline(fold.x)
    assert I_c == pytest.approx(39.963, abs=1e-3)
    amps = np.array([39.9, 40.0, 40.1, 40.3])
    f = _rates(tmp_path, "morris_lecar", amps, 6000.0, 0.1, TYPE_I, settle=1000.0)
    assert f[0] == 0.0, f
    scaled = f[1:] / np.sqrt(amps[1:] - I_c)
    np.testing.assert_allclose(scaled, scaled.mean(), rtol=0.05)


@pytest.mark.slow
def test_connor_stevens_fires_at_low_rates_unlike_hodgkin_huxley(tmp_path):
    """Dayan & Abbott (2001), Fig. 6.2: the A-current lets the Connor-Stevens model fire at
    low rates just above threshold, where Hodgkin-Huxley jumps to about 50 Hz."""
    cs = _rates(tmp_path, "connor_stevens", np.arange(80.0, 90.0, 1.0), 2000.0, 0.02)
    hh = _rates(tmp_path, "hodgkin_huxley", np.arange(5.0, 8.0, 0.25), 500.0, 0.01)
    assert cs[0] == 0 and hh[0] == 0, (cs, hh)
    assert cs[cs > 0][0] < 15.0, cs
    assert hh[hh > 0][0] > 40.0, hh


@pytest.mark.slow
def test_hindmarsh_rose_bursts(tmp_path):
    """Hindmarsh & Rose (1984): under a constant input (I = 2) the slow variable z makes the
    model fire bursts of spikes separated by long silences: the ISIs fall into two groups,
    intervals within bursts and, more than ten times longer, between bursts."""
    import spikesim

    cfg = {"model": {"type": "equations", "file": "hindmarsh_rose"},
           "simulation": {"duration": 4000.0, "dt": 0.05, "integrator": "rk4",
                          "precision": "float64"},
           "input": {"type": "constant", "amplitude": 2.0}}
    res = spikesim.load(spikesim.run(cfg, output=tmp_path / "hr.h5"))
    t = res.spikes[0]
    t = t[t > 1000.0]
    isi = np.diff(t)
    long_ = isi > 10 * np.median(isi)
    assert long_.sum() >= 4, isi
    spikes_per_burst = np.diff(np.flatnonzero(long_))
    assert np.all(spikes_per_burst >= 3), spikes_per_burst


def test_fitzhugh_nagumo_hopf_point(tmp_path):
    """FitzHugh (1961): the rest state loses stability where 1 - v*^2 = b/tau at the fixed
    point v* (a Hopf bifurcation, I_H = 0.3313 for a = 0.7, b = 0.8, tau = 12.5): below it
    the model rests after a transient, above it it oscillates."""
    a, b, tau = 0.7, 0.8, 12.5
    v = -math.sqrt(1 - b / tau)
    i_h = -(v - v**3 / 3 - (v + a) / b)
    rates = _rates(tmp_path, "fitzhugh_nagumo", [i_h - 0.1, i_h + 0.1, i_h + 0.3], 1000.0,
                   0.05, settle=300.0)
    assert rates[0] == 0 and rates[1] > 0 and rates[2] > 0, rates


def test_m_current_adapts():
    """The M-current builds up with each spike: under a constant input the interspike
    intervals lengthen (Pospischil et al. 2008, regular-spiking cells), and without it
    (g_M = 0) they do not."""
    from _modelsim import adaptation_index

    model = _model("hh_mcurrent")
    isi = {}
    for g_m in (0.5, 0.0):
        _, spikes = simulate(model, dt=0.02, n_steps=10_000, integrator="rk4", current=10.0,
                             params={"g_M": g_m})
        isi[g_m] = np.diff(spike_times(spikes, 0.02))
    assert adaptation_index(isi[0.5]) > 0.02, isi[0.5]
    assert abs(adaptation_index(isi[0.0])) < 0.005, isi[0.0]
    assert isi[0.5][-1] > 1.1 * isi[0.5][0]  # measured: 16 % longer over 200 ms
