"""``spike_file``: a few hand-placed presynaptic spikes through conductance and current
synapses against an independent scipy DOP853 solution with the events applied exactly
(solved piecewise between events), for every integrator with its order of convergence
measured; the file's forms (shared train, pairs, .csv) and its errors."""

import h5py
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import spikesim
from hh_reference import _rhs as hh_rhs, initial_state as hh_initial_state

#: (time ms, neuron) of the presynaptic spikes: on the grid of every dt below; two at once
EVENTS = np.array([[1.0, 0], [3.0, 1], [3.0, 0], [6.5, 2], [6.5, 2], [6.5, 0], [10.0, 1]])
DURATION = 14.0
W_G, TAU_G, E_SYN = 0.02, 2.0, 0.0  # LIF: uS, ms, mV (an EPSP of a few mV)
W_I, TAU_I = 0.8, 3.0  # LIF: nA, ms
# LIF defaults (Dayan & Abbott): tau_m dv/dt = -(v - v_rest) + R_m I
TAU_M, R_M, V_REST = 10.0, 10.0, -65.0


def piecewise(rhs, y0, jumps, t_eval, rtol=1e-10, atol=1e-12):
    """DOP853 between the event times, the synaptic variables (the last entries of y) kicked
    at each; ``jumps(t)`` is the vector added at event time t. Returns y at ``t_eval``."""
    cuts = sorted(set(EVENTS[:, 0]) | {0.0, DURATION})
    y, out = np.asarray(y0, float), []
    for a, b in zip(cuts[:-1], cuts[1:]):
        y = y + jumps(a)
        inside = t_eval[(t_eval >= a) & ((t_eval < b) | (b == DURATION))]
        sol = solve_ivp(rhs, (a, b), y, method="DOP853", rtol=rtol, atol=atol,
                        dense_output=True)
        out.append(sol.sol(inside).T)
        y = sol.y[:, -1]
    return np.concatenate(out)


def lif_reference(t_eval):
    """v of the three neurons: excitatory conductance (pairs) plus a current synapse that
    every neuron gets (the shared train of all event times)."""
    out = []
    for neuron in range(3):
        def rhs(t, y):
            v, g, i = y
            return [(-(v - V_REST) + R_M * (g * (E_SYN - v) + i)) / TAU_M, -g / TAU_G,
                    -i / TAU_I]

        def jumps(t, neuron=neuron):
            here = EVENTS[:, 0] == t
            return np.array([0.0, W_G * np.sum(here & (EVENTS[:, 1] == neuron)),
                             W_I * np.sum(here)])

        # rtol 1e-13: v is about 65 mV, and rk4's error at the finest dt is 1e-9 mV
        out.append(piecewise(rhs, [V_REST, 0.0, 0.0], jumps, t_eval, 1e-13, 1e-14)[:, 0])
    return np.stack(out, axis=1)


def lif_config(tmp_path, integrator, dt):
    np.save(tmp_path / "pairs.npy", EVENTS)
    np.save(tmp_path / "times.npy", EVENTS[:, 0])
    return {"model": {"type": "lif", "params": {"v_th": 1e9}}, "population": {"size": 3},
            "simulation": {"duration": DURATION, "dt": dt, "integrator": integrator,
                           "precision": "float64"},
            "input": [{"type": "spike_file", "path": str(tmp_path / "pairs.npy"),
                       "weight": W_G, "tau": TAU_G, "reversal": E_SYN},
                      {"type": "spike_file", "path": str(tmp_path / "times.npy"),
                       "kind": "current", "weight": W_I, "tau": TAU_I}],
            "record": {"spikes": False, "variables": ["v"]}}


def _v(path, pop):
    with h5py.File(path) as f:
        return f[f"report/{pop}/v/data"][:]


DTS = [0.5, 0.25, 0.125, 0.0625]


@pytest.mark.parametrize("integrator,order", [("euler", 1), ("rk2", 2), ("rk4", 4),
                                              ("exp_euler", 1)])
def test_lif_matches_dop853_at_the_integrators_order(tmp_path, integrator, order):
    """Max error of v over the grid against the reference, at four dt; the fitted slope of
    log error against log dt is the method's order (exp_euler: 1, since the conductance is
    frozen over each step; exact only for a constant one). Tolerance 0.3 on the slope:
    these smooth, event-free stretches give slopes within 0.1 of the order here."""
    errors = []
    dts = DTS[:3] if order == 4 else DTS  # rk4 at 0.0625 ms: 3e-10 mV, near round-off
    for dt in dts:
        v = _v(spikesim.run(lif_config(tmp_path, integrator, dt),
                            output=tmp_path / f"{integrator}{dt}.h5"), "lif")
        t = np.arange(v.shape[0]) * dt
        errors.append(np.abs(v - lif_reference(t)).max())
    slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.3, (integrator, errors, slope)
    assert errors[-1] > 1e-9  # above round-off: the slope measures the method
    # the EPSPs are there: the reference moves v by millivolts
    assert np.ptp(lif_reference(np.arange(0, DURATION, 0.5))) > 2.0


def test_hh_conductance_through_every_stage(tmp_path):
    """Hodgkin-Huxley under excitatory conductance events (subthreshold EPSPs) against the
    independent HH of tests/hh_reference.py: rk4 converges at order 4 through v-dependent
    synaptic currents at every stage, and the generic exponential Euler (v's coefficient
    including -g/C) at order 1."""
    w, tau, e = 0.01, 2.0, 0.0  # mS/cm2, ms, mV: EPSPs of about 1 mV

    def rhs(t, y):
        return [*hh_rhs(t, y[:4], lambda tt: y[4] * (e - y[0])), -y[4] / tau]

    times = EVENTS[EVENTS[:, 1] == 0, 0]  # neuron 0's train, as a one-column file

    def jumps(t):
        return np.array([0, 0, 0, 0, w * np.sum(times == t)])

    for integrator, order, dts in (("rk4", 4, [0.1, 0.05, 0.025]),
                                   ("exp_euler", 1, [0.05, 0.025, 0.0125])):
        errors = []
        for dt in dts:
            cfg = {"model": {"type": "hodgkin_huxley"}, "population": {"size": 1},
                   "simulation": {"duration": DURATION, "dt": dt, "integrator": integrator,
                                  "precision": "float64"},
                   "input": {"type": "spike_file", "path": str(tmp_path / "hh.npy"),
                             "weight": w, "tau": tau, "reversal": e},
                   "record": {"spikes": False, "variables": ["v"]}}
            np.save(tmp_path / "hh.npy", times)
            v = _v(spikesim.run(cfg, output=tmp_path / f"hh{integrator}{dt}.h5"),
                   "hodgkin_huxley")[:, 0]
            t = np.arange(v.shape[0]) * dt
            ref = piecewise(rhs, [*hh_initial_state(), 0.0], jumps, t)[:, 0]
            assert ref.max() < -60.0 and np.ptp(ref) > 0.5  # EPSPs, no spike
            errors.append(np.abs(v - ref).max())
        slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
        assert abs(slope - order) < 0.3, (integrator, errors, slope)


def test_forms_of_the_file_agree(tmp_path):
    """A .csv of pairs (with a header) is the .npy; a shared train is pairs to every
    neuron; times off the grid are rounded to the nearest step (and said so)."""
    cfg = lif_config(tmp_path, "rk4", 0.25)
    a = _v(spikesim.run(cfg, output=tmp_path / "a.h5"), "lif")
    (tmp_path / "pairs.csv").write_text(
        "time_ms,neuron\n" + "".join(f"{t},{int(n)}\n" for t, n in EVENTS))
    cfg["input"][0]["path"] = str(tmp_path / "pairs.csv")
    np.testing.assert_array_equal(_v(spikesim.run(cfg, output=tmp_path / "csv.h5"), "lif"), a)
    # the shared train as pairs: every event to every neuron, off the grid by < dt/2
    np.save(tmp_path / "all.npy", np.array([[t + 0.1, n] for t in EVENTS[:, 0]
                                            for n in range(3)]))
    cfg["input"][1]["path"] = str(tmp_path / "all.npy")
    from spikesim.config.load import load
    from spikesim.sim.plan import make_plan

    plan = make_plan(load(None, data=cfg), tmp_path / "b.h5")
    assert any("21 of 21 spike times are off the grid" in w for w in plan.warnings)
    b = _v(spikesim.run(cfg, output=tmp_path / "b.h5"), "lif")
    # the same events; a count shared by all neurons is a broadcast scalar, which XLA may
    # round differently in the last bit from a per-neuron one
    np.testing.assert_allclose(b, a, rtol=1e-14, atol=0)


def test_long_file_streams_and_chunking_changes_nothing(tmp_path):
    """Many events over many chunks: chunk sizes change no bit, and a time past the run is
    ignored."""
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 60.0, 3000))
    pairs = np.stack([t, rng.integers(0, 20, t.size)], axis=1)
    np.save(tmp_path / "many.npy", np.concatenate([pairs, [[99.0, 3]]]))
    cfg = {"model": {"type": "lif"}, "population": {"size": 20},
           "simulation": {"duration": 50.0, "dt": 0.1},
           "input": [{"type": "spike_file", "path": str(tmp_path / "many.npy"),
                      "weight": 0.01, "tau": 3.0}],
           "record": {"variables": ["v", "g_syn0"], "every": 4},
           "sweep": {"axes": {"input.0.weight": [0.01, 0.02]}}}
    runs = [h5py.File(spikesim.run(cfg, f"simulation.chunk_steps={c}",
                                   output=tmp_path / f"c{c}.h5")) for c in (1000, 13, 64)]
    ref = runs[0]
    assert ref["spikes/lif/node_ids"].size > 20
    for f in runs[1:]:
        for key in ("report/lif/v/data", "report/lif/g_syn0/data", "state/lif/g_syn0",
                    "spikes/lif/timestamps", "spikes/lif/node_ids"):
            np.testing.assert_array_equal(f[key][:], ref[key][:], err_msg=key)


# -- mistakes: exit 2, file:line:key, nothing written ----------------------------------------
BASE = """model: {type: lif}
population: {size: 3}
simulation: {duration: 10.0, dt: 0.1}
input:
  - type: constant
    amplitude: 1.0
  - type: spike_file
    path: pre.npy
    weight: 0.01
    tau: 2.0
"""


def expect_error(spikesim_cli, tmp_path, text, *needles):
    (tmp_path / "cfg.yaml").write_text(text)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = spikesim_cli("run", "cfg.yaml")
    assert code == 2, err
    assert out == "" and "Traceback" not in err and err.startswith("error:"), err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    return err


@pytest.mark.parametrize("rows,needles", [
    ([[2.0, 0], [1.0, 1]], ("row 2 (t = 1 ms) comes after t = 2 ms", "increasing order")),
    ([[-1.0, 0]], ("row 1 has the negative time -1 ms",)),
    ([[1.0, 0], [np.nan, 1]], ("row 2 has time nan", "finite")),
    ([[1.0, 0], [2.0, 3]], ("row 2 sends a spike to neuron 3", "0 .. 2")),
    ([[1.0, 0.5]], ("neuron 0.5", "whole numbers")),
    ([[1.0, 0, 1]], ("3 columns", "expected 1",)),
])
def test_bad_spike_files(spikesim_cli, tmp_path, rows, needles):
    np.save(tmp_path / "pre.npy", np.asarray(rows, float))
    expect_error(spikesim_cli, tmp_path, BASE, "cfg.yaml:8: input.1.path", *needles)


@pytest.mark.parametrize("text", ["1.5\t0\n", "1.5;0\n", "1.5 0\n"])
def test_csv_in_another_dialect_is_not_a_header(spikesim_cli, tmp_path, text):
    """A one-line .csv of numbers split by tabs, semicolons or spaces was skipped as a header
    line: the run went on with no spikes at all (exit 0). It is a row that does not parse."""
    (tmp_path / "pre.csv").write_text(text)
    expect_error(spikesim_cli, tmp_path, BASE.replace("pre.npy", "pre.csv"),
                 "cfg.yaml:8: input.1.path", "pre.csv:1: expected comma-separated numbers")


def test_run_from_a_file_finds_a_relative_spike_file(spikesim_cli, tmp_path, monkeypatch):
    """The stored config named the spike file as written ("pre.npy"), so run --from (and
    analyze patterns FILE.h5) from another folder looked for it there: exit 2, "not found".
    It names the file read; the rerun gives the same spikes."""
    (tmp_path / "cfgs").mkdir()
    np.save(tmp_path / "cfgs" / "pre.npy", EVENTS[:, 0])
    (tmp_path / "cfgs" / "cfg.yaml").write_text(BASE.replace("weight: 0.01", "weight: 0.5"))
    code, _, err = spikesim_cli("run", "cfgs/cfg.yaml", "-o", "a.h5")
    assert code == 0, err
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, out, err = spikesim_cli("run", "--from", tmp_path / "a.h5", "-o", tmp_path / "b.h5")
    assert code == 0, err
    with h5py.File(tmp_path / "a.h5") as a, h5py.File(tmp_path / "b.h5") as b:
        assert a["spikes/lif/timestamps"].size > 0
        np.testing.assert_array_equal(a["spikes/lif/timestamps"][:], b["spikes/lif/timestamps"][:])


def test_missing_spike_file(spikesim_cli, tmp_path):
    expect_error(spikesim_cli, tmp_path, BASE, "cfg.yaml:8: input.1.path",
                 "spike file not found")


POISSON = """model: {type: lif}
population: {size: 50}
simulation: {duration: 10.0, dt: 0.1}
input:
  type: poisson_synapses
  rate: 2 kHz
  weight: 1 nS
  tau: 5 ms
"""


@pytest.mark.parametrize("edit,needles", [
    (("weight: 1 nS", "weight: -1 nS"), ("cfg.yaml:7: input.weight", "must be >= 0",
                                         "reversal")),
    (("weight: 1 nS", "weight: 2 mV"), ("input.weight", "lif takes a conductance (uS)",
                                        "2 mV, a voltage")),
    (("weight: 1 nS", "weight: 2 nA"), ("input.weight", "a conductance (uS)", "a current")),
    (("weight: 1 nS", "weight: 20 pA\n  kind: current\n  reversal: 0 mV"),
     ("input.reversal", "kind: conductance only")),
    (("rate: 2 kHz", "rate: 300 kHz"), ("cfg.yaml:6: input.rate", "30 expected events per step",
                                        "smaller dt")),
    (("rate: 2 kHz", "rate: -2 kHz"), ("input.rate", "must be >= 0")),
    (("weight: 1 nS", "weight: 1 nS\n  kind: current"), ("input.weight",
                                                       "lif takes a current (nA)")),
    (("tau: 5 ms", "tau: 0 ms"), ("input.tau", "must be > 0")),
    # a normal generator is checked once drawn (50 draws: one is negative)
    (("rate: 2 kHz", "rate: {normal: {mean: 0 Hz, std: 1 kHz}}"),
     ("cfg.yaml:6: input.rate", "must be >= 0", "drew -")),
    # a negative tau drawn blew up the run (exit 1, a .partial written); a negative
    # conductance jump drawn ran (exit 0)
    (("tau: 5 ms", "tau: {normal: {mean: 1 ms, std: 5 ms}}"),
     ("cfg.yaml:8: input.tau", "must be > 0", "drew -", "of 50 neurons")),
    (("weight: 1 nS", "weight: {normal: {mean: 0 nS, std: 1 nS}}"),
     ("cfg.yaml:7: input.weight", "must be >= 0", "drew -")),
    # a negative conductance jump on a sweep axis blew up the run (exit 1)
    (("tau: 5 ms", "tau: 5 ms\nsweep: {axes: {input.weight: [1 nS, -1 nS]}}"),
     ("cfg.yaml:9: sweep.axes.input\\.weight", "must be >= 0", "-0.001")),
    # too high a rate on a sweep axis named the file's own rate line, which the axis replaces
    (("tau: 5 ms", "tau: 5 ms\nsweep: {axes: {input.rate: [1 kHz, 300 kHz]}}"),
     ("cfg.yaml:9: sweep.axes.input\\.rate", "30 expected events per step")),
    (("tau: 5 ms", "tua: 5 ms"), ("unknown key 'tua'", "Did you mean 'tau'?")),
    (("tau: 5 ms", "tau: 5 ms\nrecord: {variables: [g_syn1]}"),
     ("record.variables.0", "Did you mean 'g_syn0'?")),
])
def test_poisson_mistakes(spikesim_cli, tmp_path, edit, needles):
    assert edit[0] in POISSON
    expect_error(spikesim_cli, tmp_path, POISSON.replace(*edit), *needles)
