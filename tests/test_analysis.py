"""``spikesim analyze`` (SPEC section 7) against closed forms and independent references:
rheobase of the LIF (closed form), of classic HH and of Wang-Buzsaki (scipy DOP853
bisection); the f-I curve of Wang-Buzsaki (type I) and of classic HH (type II, bistable;
DOP853, same protocol); the PRC of the LIF and the QIF (closed forms; type I) and of classic
HH (DOP853, same pulses)."""

import json
import math

import h5py
import numpy as np
import pytest
import yaml
from scipy.integrate import solve_ivp

import spikesim
from spikesim.analysis.run import analyze

import hh_reference as hh


def _write(tmp_path, cfg, name="cfg"):
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return p


LIF = {
    "name": "lif_rb",
    "model": {"type": "lif", "params": {"tau_m": [5.0, 10.0, 15.0, 20.0, 10.0, 10.0],
                                        "R_m": [8.0, 10.0, 12.0, 9.0, 0.1, 10.0],
                                        "t_ref": 0.0},
              "init": {"v": [-65.0, -65.0, -65.0, -65.0, -65.0, -45.0]}},
    "population": {"size": 6},
    "simulation": {"duration": 100.0, "dt": 0.01, "integrator": "exp_euler",
                   "precision": "float64"},
    "input": {"type": "step", "amplitude": 1.0},
    "analysis": {"rheobase": {"duration": 20.0, "range": [0.0, 5.0], "tolerance": 1e-4}},
}


def test_rheobase_lif_closed_form(tmp_path, monkeypatch):
    """Per neuron (tau_m, R_m): (v_th - v_rest) / (R_m (1 - exp(-D/tau_m))). exp_euler is exact
    for the LIF under a constant input, and the step's last grid point is t = D, where v takes
    its largest value, so the grid's rheobase is the closed form itself: the result (an
    amplitude that fired) lies in [closed form, closed form + tolerance] (1e-12: float64
    round-off). Neuron 4 (R_m = 0.1) needs 150 nA: NaN; neuron 5 starts above threshold: it
    fires at the bottom of the range, flagged."""
    from spikesim.sim.engine import Engine

    compiled = []
    original = Engine.compile
    monkeypatch.setattr(Engine, "compile",
                        lambda self, carry: compiled.append(1) or original(self, carry))
    path = analyze("rheobase", _write(tmp_path, LIF), output=tmp_path / "rb.h5")
    assert len(compiled) == 1  # one compiled program for the whole bisection
    a = spikesim.load(path).analysis["rheobase"]
    tau = np.array(LIF["model"]["params"]["tau_m"])
    R = np.array(LIF["model"]["params"]["R_m"])
    closed = 15.0 / (R * (1 - np.exp(-20.0 / tau)))
    rb = a["rheobase"]
    assert np.all(rb[:4] >= closed[:4] - 1e-12)
    assert np.all(rb[:4] <= closed[:4] + 1e-4 + 1e-12)
    assert np.all(a["lower"][:4] < closed[:4] + 1e-12)
    assert math.isnan(rb[4]) and not a["low_fires"][4]
    assert a["low_fires"][5] and rb[5] == 0.0
    assert a.units["rheobase"] == "nA"
    # the bisection is a fixed number of calls of one compiled program
    assert a.attrs["calls"] == math.ceil(math.log2(5.0 / 1e-4)) + 2


def test_spikesim_analyze_takes_a_mapping_and_overrides(tmp_path):
    """``spikesim.analyze`` (the Python entry point, as ``spikesim.run``): a config mapping
    with overrides gives the closed form as the CLI's path does; nothing is written where
    the config is refused."""
    path = spikesim.analyze("rheobase", LIF, "analysis.rheobase.tolerance=0.001",
                            "population.size=1", "model.params.tau_m=10",
                            "model.params.R_m=10", "model.init.v=-65", output=tmp_path / "a.h5")
    rb = spikesim.load(path).analysis["rheobase"]["rheobase"]
    closed = 15.0 / (10.0 * (1 - np.exp(-20.0 / 10.0)))
    assert closed - 1e-12 <= rb[0] <= closed + 0.001 + 1e-12
    from spikesim.errors import ConfigError

    with pytest.raises(ConfigError, match="analysis.rheobase.tolerance"):
        spikesim.analyze("rheobase", LIF, "analysis.rheobase.tolerance=-1",
                         output=tmp_path / "b.h5")
    assert not (tmp_path / "b.h5").exists()


def test_analysis_file_layout_inspect_plot(tmp_path, spikesim_cli):
    """The file holds the section 3 layout plus /analysis/rheobase (units, one row per neuron);
    inspect prints the table, plot writes a PNG, load() returns the arrays."""
    cfg = _write(tmp_path, LIF)
    code, out, err = spikesim_cli("analyze", "rheobase", cfg, "analysis.rheobase.tolerance=0.01",
                                  "-o", tmp_path / "rb.h5")
    assert code == 0, err
    assert out.strip() == str(tmp_path / "rb.h5")
    with h5py.File(tmp_path / "rb.h5") as f:
        assert f.attrs["status"] == "complete" and f.attrs["analysis"] == "rheobase"
        d = f["analysis/rheobase/rheobase"]
        assert d.shape == (6,) and d.attrs["units"] == "nA"
        assert "neurons/lif/model.params.tau_m" in f
        assert yaml.safe_load(f.attrs["config"])["analysis"]["rheobase"]["tolerance"] == 0.01
    code, out, _ = spikesim_cli("inspect", tmp_path / "rb.h5")
    assert code == 0 and "analysis rheobase" in out
    assert "rheobase" in out.split("analysis rheobase")[1]
    code, out, _ = spikesim_cli("plot", tmp_path / "rb.h5")
    assert code == 0 and (tmp_path / "rb.png").stat().st_size > 10_000
    # an existing file is not replaced without --force
    code, _, err = spikesim_cli("analyze", "rheobase", cfg, "-o", tmp_path / "rb.h5")
    assert code == 2 and "exists" in err
    # --from re-runs its stored config, not the analysis: it says so
    code, out, err = spikesim_cli("run", "--from", tmp_path / "rb.h5", "-o", tmp_path / "re.h5")
    assert code == 0 and out.strip() == str(tmp_path / "re.h5")
    assert "a file of `spikesim analyze rheobase`" in err and "not redone" in err
    code, _, err = spikesim_cli("run", "--from", tmp_path / "re.h5", "-o", tmp_path / "re2.h5")
    assert code == 0 and "spikesim analyze" not in err


def test_an_analysis_iterates_over_its_dataset_names():
    """`for name in r.analysis["prc"]` like a dict (was: KeyError 0, from __getitem__)."""
    from spikesim.io.analysis import Analysis

    a = Analysis("prc", {"prc": np.zeros((1, 2)), "T0": np.ones(1)}, {"T0": "ms"})
    assert list(a) == ["prc", "T0"] and {k: a[k].shape for k in a} == {"prc": (1, 2), "T0": (1,)}


def test_datasets_without_dims_read_with_the_axes_their_analysis_declares(tmp_path):
    """A file written before datasets carried ``dims`` is read by the rule it was written by:
    io's table of axes for such files agrees with each analysis' AXES, and a 2-D dataset is
    (neuron, <axis>)."""
    from spikesim.analysis import module
    from spikesim.io.analysis import _AXES_BEFORE_DIMS, read

    assert _AXES_BEFORE_DIMS == {k: module(k).AXES for k in ("fi", "prc", "dt")}
    with h5py.File(tmp_path / "old.h5", "w") as f:
        f["analysis/fi/amplitude"] = np.arange(3.0)
        f["analysis/fi/rate_up"] = np.zeros((2, 3))
        f["analysis/fi/onset"] = np.zeros(2)
        f["analysis/rheobase/rheobase"] = np.zeros(2)
    a = read(tmp_path / "old.h5")
    assert a["fi"].dims == {"amplitude": ("amplitude",), "rate_up": ("neuron", "amplitude"),
                            "onset": ("neuron",)}
    assert a["rheobase"].dims == {"rheobase": ("neuron",)}


def test_inspect_table_keeps_per_dt_values_out_of_the_neuron_columns(tmp_path, spikesim_cli):
    """With as many dt factors as neurons, /analysis/dt/dt (one value per dt) was shown as a
    per-neuron column "dt (ms)", one dt on each neuron's row; it is a curve."""
    cfg = {**LIF, "model": {"type": "lif", "params": {"R_m": [10.0, 11.0, 12.0]}},
           "population": {"size": 3}, "simulation": {**LIF["simulation"], "duration": 20.0,
                                                     "dt": 0.1},
           "input": {"type": "constant", "amplitude": 2.0},
           "analysis": {"dt": {"factors": [1, 0.5, 0.25]}}}
    code, _, err = spikesim_cli("analyze", "dt", _write(tmp_path, cfg), "-o", tmp_path / "dt.h5")
    assert code == 0, err
    code, out, _ = spikesim_cli("inspect", tmp_path / "dt.h5", "--json")
    t = json.loads(out)["analysis"]["dt"]
    assert "dt" not in t["columns"] and "largest_dt" in t["columns"]
    assert t["curves"]["dt"] == pytest.approx([0.1, 0.05, 0.025])
    code, out, _ = spikesim_cli("inspect", tmp_path / "dt.h5")
    assert code == 0 and " dt (ms)" not in out.split("analysis dt")[1]


def test_dt_warns_that_poisson_synapses_draw_anew_at_each_dt(tmp_path, spikesim_cli):
    """poisson_synapses draw other events at another dt; without the warning the dt
    analysis read the different trains as integration error ("no dt ... keeps every spike")."""
    cfg = {**LIF, "population": {"size": 1},
           "model": {"type": "lif"}, "simulation": {**LIF["simulation"], "duration": 5.0,
                                                    "dt": 0.1},
           "input": {"type": "poisson_synapses", "rate": 1000.0, "weight": 0.01, "tau": 5.0},
           "analysis": {"dt": {"factors": [1, 0.5]}}}
    code, _, err = spikesim_cli("analyze", "dt", _write(tmp_path, cfg), "-o", tmp_path / "dt.h5")
    assert code == 0 and "warning: a random input draws other numbers at another dt" in err


@pytest.mark.parametrize("override, expect", [
    ("analysis.rheobase.tolerence=0.1", "unknown key 'tolerence'"),
    ("analysis.rheobase.range=[5, 1]", "low < high"),
    ("analysis.rheobase.duration=20 mV", "analysis.rheobase.duration"),
    ("analysis.rheobase.range=[0, 2 mS]", "analysis.rheobase.range"),
    ("analysis.fi.transient=900", "shorter than duration"),
])
def test_bad_options_are_config_errors(tmp_path, spikesim_cli, override, expect):
    cfg = _write(tmp_path, LIF)
    kind = override.split(".")[1]
    code, out, err = spikesim_cli("analyze", kind, cfg, override, "-o", tmp_path / "x.h5")
    assert code == 2 and expect in err and "Traceback" not in err
    assert not (tmp_path / "x.h5").exists()


def _refused_analysis(spikesim_cli, tmp_path, kind, *overrides, expect, cfg=LIF):
    """Exit 2, one message (no traceback) holding ``expect``, nothing written."""
    path = _write(tmp_path, cfg)
    before = set(tmp_path.rglob("*"))
    code, out, err = spikesim_cli("analyze", kind, path, *overrides, "-o", tmp_path / "x.h5")
    assert code == 2, (out, err)
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and expect in err, err
    assert set(tmp_path.rglob("*")) == before
    return err


@pytest.mark.parametrize("factors, expect", [
    ("[1, 0.5, 0.5]", "[1.0, 0.5, 0.5] gives 0.5 more than once; give each factor once, e.g. "
                      "[1.0, 0.5]"),
    ("[0.25, 0.5, 1]", "[0.25, 0.5, 1.0] is not in decreasing order; list the factors from the "
                       "coarsest dt to the finest (the reference), e.g. [1.0, 0.5, 0.25]"),
    ("[1, 0]", "expected a number > 0, got 0"),
])
def test_dt_factors_repeated_or_unsorted_are_refused(spikesim_cli, tmp_path, factors, expect):
    """[1, 0.5, 0.5] ran 0.5 once (a set) and [0.25, 0.5, 1] was silently reordered, so the
    columns of count/shift were not in the order given; now both are config errors, like a
    [high, low] range."""
    err = _refused_analysis(spikesim_cli, tmp_path, "dt", f"analysis.dt.factors={factors}",
                            expect=expect)
    assert f"override analysis.dt.factors={factors}: analysis.dt.factors" in err


def test_dt_factors_need_not_contain_1(spikesim_cli, tmp_path):
    cfg = {**LIF, "population": {"size": 1}, "model": {"type": "lif"},
           "simulation": {**LIF["simulation"], "duration": 5.0, "dt": 0.1},
           "input": {"type": "constant", "amplitude": 2.0}}
    code, _, err = spikesim_cli("analyze", "dt", _write(tmp_path, cfg),
                                "analysis.dt.factors=[0.5, 0.25]", "-o", tmp_path / "dt.h5")
    assert code == 0, err
    assert spikesim.load(tmp_path / "dt.h5").analysis["dt"]["dt"] == pytest.approx([0.05, 0.025])


@pytest.mark.parametrize("overrides, expect", [
    (["analysis.rheobase.tolerance=6"], "override analysis.rheobase.tolerance=6: "
     "analysis.rheobase: tolerance 6 is wider than the range [0, 5] (width 5)"),
    (["analysis.rheobase.range=[1, 2]", "analysis.rheobase.tolerance=1.5"],
     "tolerance 1.5 is wider than the range [1, 2] (width 1)"),
    (["analysis.rheobase.range=null", "analysis.rheobase.tolerance=6"],
     "analysis.rheobase.tolerance: tolerance 6 is wider than the default range for nA [0, 5]"),
])
def test_rheobase_tolerance_wider_than_the_range_is_refused(spikesim_cli, tmp_path, overrides,
                                                            expect):
    """A tolerance wider than the range ran no bisection step: the top of the range came out
    as every neuron's rheobase, exit 0. `validate` refuses it too (it passed the default
    range's case, exit 0)."""
    err = _refused_analysis(spikesim_cli, tmp_path, "rheobase", *overrides, expect=expect)
    assert "Give a tolerance <= " in err
    code, out, err = spikesim_cli("validate", _write(tmp_path, LIF), *overrides)
    assert code == 2 and out == "" and expect in err, err


def test_patterns_stop_after_the_run_is_refused_like_record_stop(spikesim_cli, tmp_path):
    """analysis.patterns.stop past the run's end was silently clipped to it (record.stop past
    the duration is an error): refused, from a config and from a run's file alike."""
    cfg = {**LIF, "population": {"size": 1}, "model": {"type": "lif"},
           "simulation": {**LIF["simulation"], "duration": 10.0, "dt": 0.1},
           "input": {"type": "constant", "amplitude": 2.0}, "record": {"spikes": True}}
    expect = ("override analysis.patterns.stop=50: analysis.patterns.stop: window stop 50 ms is "
              "after the run ends (10 ms); use at most 10 or null")
    _refused_analysis(spikesim_cli, tmp_path, "patterns", "analysis.patterns.stop=50",
                      expect=expect, cfg=cfg)
    assert spikesim_cli("run", _write(tmp_path, cfg), "-q", "-o", tmp_path / "run.h5")[0] == 0
    before = set(tmp_path.rglob("*"))
    code, _, err = spikesim_cli("analyze", "patterns", tmp_path / "run.h5",
                                "analysis.patterns.stop=50")
    assert code == 2 and expect in err and len(err.strip().splitlines()) == 1, err
    assert set(tmp_path.rglob("*")) == before
    code, _, err = spikesim_cli("analyze", "patterns", tmp_path / "run.h5",
                                "analysis.patterns.stop=10")
    assert code == 0, err
    assert spikesim.load(tmp_path / "run_patterns.h5").analysis["patterns"].attrs["stop"] == 10


def test_summaries_count_one_run_and_one_phase_in_the_singular(tmp_path, spikesim_cli):
    """A tolerance as wide as the range makes the bisection a single run: the summary said
    "1 runs"; a PRC at one phase said "at 1 phases"."""
    cfg = {**LIF, "population": {"size": 1}, "model": {"type": "lif", "params": {"t_ref": 0.0}}}
    code, _, err = spikesim_cli("analyze", "rheobase", _write(tmp_path, cfg),
                                "analysis.rheobase.range=[0, 1]", "analysis.rheobase.tolerance=1",
                                "-o", tmp_path / "rb.h5")
    assert code == 0, err
    summary = spikesim.load(tmp_path / "rb.h5").analysis["rheobase"].attrs["summary"]
    assert "(tolerance 1 nA, 1 run)" in summary and summary in err
    code, _, err = spikesim_cli("analyze", "prc", _write(tmp_path, cfg), "-o", tmp_path / "p.h5",
                                "analysis.prc={current: 3, amplitude: 0.1, phases: 1, cycles: 2}")
    assert code == 0, err
    assert " at 1 phase:" in spikesim.load(tmp_path / "p.h5").analysis["prc"].attrs["summary"]


def test_inspect_shows_what_the_analysis_ran_not_simulation_duration(tmp_path, spikesim_cli):
    """inspect of a rheobase file said "simulation 100 ms" (the config's simulation.duration,
    which rheobase does not run) for runs of start + duration = 25 ms; a PRC file likewise."""
    cfg = _write(tmp_path, {**LIF, "population": {"size": 1},
                            "model": {"type": "lif", "params": {"t_ref": 0.0}},
                            "analysis": {"rheobase": {"start": 5.0, "duration": 20.0,
                                                      "tolerance": 0.5}}})
    code, _, err = spikesim_cli("analyze", "rheobase", cfg, "-o", tmp_path / "rb.h5")
    assert code == 0, err
    code, out, _ = spikesim_cli("inspect", tmp_path / "rb.h5", "--json")
    run = json.loads(out)["run"]
    assert run["duration"] == pytest.approx(25.0) and run["n_steps"] == 2500
    code, out, _ = spikesim_cli("inspect", tmp_path / "rb.h5")
    assert code == 0
    assert ("simulation  25 ms per run, 4 runs (rheobase: a 20 ms step from 5 ms), "
            "dt 0.01 ms (2,500 steps)") in out
    assert "100 ms" not in out
    code, _, err = spikesim_cli("analyze", "prc", cfg, "-o", tmp_path / "p.h5",
                                "analysis.prc={current: 3, amplitude: 0.1, phases: 2, cycles: 2}")
    assert code == 0, err
    code, out, _ = spikesim_cli("inspect", tmp_path / "p.h5")
    line = next(x for x in out.splitlines() if x.strip().startswith("simulation"))
    assert "(prc: the perturbed run, after a warm-up run)" in line
    assert not line.strip().startswith("simulation  100 ms"), line


def test_rheobase_says_a_synaptic_background_is_not_applied(tmp_path, spikesim_cli):
    """A Poisson background (the high-conductance state) was dropped without a word, and the
    rheobase given was the bare neuron's."""
    cfg = {**LIF, "input": {"type": "poisson_synapses", "rate": 5000.0, "weight": 0.001,
                            "tau": 5.0}}
    code, _, err = spikesim_cli("analyze", "rheobase", _write(tmp_path, cfg),
                                "analysis.rheobase.tolerance=0.1", "-o", tmp_path / "rb.h5")
    assert code == 0, err
    assert "warning: rheobase replaces the config's input" in err
    assert "poisson_synapses background is not applied" in err


def test_cross_option_error_names_the_override_that_made_it(tmp_path, spikesim_cli):
    """transient >= duration with two overrides under analysis.fi blamed the last one
    (num=5), not transient=900."""
    code, _, err = spikesim_cli("analyze", "fi", _write(tmp_path, LIF),
                                "analysis.fi.transient=900", "analysis.fi.num=5",
                                "-o", tmp_path / "x.h5")
    assert code == 2 and "analysis.fi.transient=900" in err and "shorter than duration" in err
    assert not (tmp_path / "x.h5").exists()


def test_option_in_file_names_its_line(tmp_path, spikesim_cli):
    cfg = {**LIF, "analysis": {"rheobase": {"tolerance": -1.0}}}
    code, _, err = spikesim_cli("analyze", "rheobase", _write(tmp_path, cfg))
    assert code == 2 and "cfg.yaml:" in err and "analysis.rheobase.tolerance" in err


def test_prc_needs_current(tmp_path, spikesim_cli):
    code, _, err = spikesim_cli("analyze", "prc", _write(tmp_path, LIF), "-o", tmp_path / "p.h5")
    assert code == 2 and "analysis.prc.current" in err
    assert not (tmp_path / "p.h5").exists()


def test_fi_lif_closed_form_and_type_i(tmp_path):
    """LIF (t_ref 0) with precise spike times: the rate at I is 1000 / (tau_m ln(R I / (R I -
    15 mV))) Hz exactly, on the way up and down alike (no hysteresis: one attractor). The
    onset of firing is R I = 15 mV (I = 1.5 nA for R_m = 10); 10 bisection steps put the onset
    within 0.5 / 2^10 nA above it, where the closed form gives ~12 Hz: type I (the LIF's rate
    starts from 0, logarithmically)."""
    cfg = {"name": "lif_fi",
           "model": {"type": "lif", "params": {"tau_m": [10.0, 20.0], "R_m": 10.0, "t_ref": 0.0}},
           "population": {"size": 2},
           "simulation": {"duration": 10.0, "dt": 0.05, "integrator": "exp_euler",
                          "precision": "float64", "spike_timing": "precise"},
           "analysis": {"fi": {"range": [1.0, 3.0], "num": 5, "duration": 300.0,
                               "transient": 50.0, "refine": 10}}}
    a = spikesim.load(analyze("fi", _write(tmp_path, cfg), output=tmp_path / "fi.h5")
                      ).analysis["fi"]
    amps = a["amplitude"]
    for i, tau in enumerate((10.0, 20.0)):
        RI = 10.0 * amps
        with np.errstate(divide="ignore", invalid="ignore"):
            closed = np.where(RI > 15.0, 1000.0 / (tau * np.log(RI / (RI - 15.0))), 0.0)
        np.testing.assert_allclose(a["rate_up"][i], closed, rtol=1e-9)
        np.testing.assert_allclose(a["rate_down"][i], closed, rtol=1e-9)
        # 2 spikes must fit in the 250 ms window: at the onset found the second one falls
        # just inside it, a few 1e-3 nA above 1.5 nA (tau_m 20: 1.5 + 2 x 0.5 / 2^10)
        assert 1.5 < a["onset"][i] <= 1.5 + 0.01
        onset_rate = 1000.0 / (tau * np.log(10 * a["onset"][i] / (10 * a["onset"][i] - 15)))
        assert a["onset_rate"][i] == pytest.approx(onset_rate, rel=1e-9)
    assert (a["type"] == 1).all() and np.isnan(a["bistable_low"]).all()


def _lif_T1(s, w, I, A, tau, R, v_rest, v_th, v_reset):
    """Closed-form time from a spike (v = v_reset) to the next one, under I with a pulse A on
    [s, s + w): v relaxes exponentially to v_rest + R I (or + R (I + A) during the pulse)."""
    def reach(v0, v_inf):  # time from v0 to v_th relaxing to v_inf (inf if never)
        return tau * math.log((v_inf - v0) / (v_inf - v_th)) if v_inf > v_th else math.inf

    v_inf, v_pulse = v_rest + R * I, v_rest + R * (I + A)
    T0 = reach(v_reset, v_inf)
    if s >= T0:
        return T0, T0
    v_s = v_inf + (v_reset - v_inf) * math.exp(-s / tau)
    t = reach(v_s, v_pulse)
    if t <= w:
        return T0, s + t
    v_e = v_pulse + (v_s - v_pulse) * math.exp(-w / tau)
    return T0, s + w + reach(v_e, v_inf)


def test_prc_lif_closed_form(tmp_path):
    """Precise spike times make the LIF's spike times exact under an input held over each
    step, and the pulse's edges fall on step boundaries, so T0 and T1(phase applied) equal the
    closed form to round-off (1e-9 relative). Two neurons (tau_m 10 and 20 ms)."""
    cfg = {"name": "lif_prc",
           "model": {"type": "lif", "params": {"tau_m": [10.0, 20.0], "R_m": 10.0, "t_ref": 0.0}},
           "population": {"size": 2},
           "simulation": {"duration": 10.0, "dt": 0.05, "integrator": "exp_euler",
                          "precision": "float64", "spike_timing": "precise"},
           "analysis": {"prc": {"current": 2.0, "amplitude": 1.0, "width": 0.5, "phases": 8,
                                "cycles": 3}}}
    path = analyze("prc", _write(tmp_path, cfg), output=tmp_path / "prc.h5")
    a = spikesim.load(path).analysis["prc"]
    assert a["prc"].shape == (2, 8)
    for i, tau in enumerate((10.0, 20.0)):
        for j in range(8):
            s = a["phase_applied"][i, j] * a["T0"][i]
            T0, T1 = _lif_T1(s, 0.5, 2.0, 1.0, tau, 10.0, -65.0, -50.0, -65.0)
            assert a["T0"][i] == pytest.approx(T0, rel=1e-9)
            assert a["prc"][i, j] == pytest.approx((T0 - T1) / T0, abs=1e-9)
    assert (a["prc"][:, 1:] > 0).all()  # an excitatory pulse only ever advances a LIF


def _qif_T1(s, w, I, A, tau, R, a, v_rest, v_crit, v_th, v_reset):
    """Closed-form time from a spike (v = v_reset) to the next one of the QIF
    tau dv/dt = a (v - v_rest) (v - v_crit) + R I under I, with a pulse A on [s, s + w): with
    u = v - (v_rest + v_crit)/2 and d = (v_crit - v_rest)/2 it is tau du/dt = a u^2 + c,
    c = R I - a d^2 > 0, solved by u(t) = sqrt(c/a) tan(sqrt(a c) t / tau + atan(u0 sqrt(a/c)))
    (Ermentrout & Kopell 1986's theta neuron is this equation with v_reset, v_th at -+inf)."""
    m, d = (v_rest + v_crit) / 2, (v_crit - v_rest) / 2

    def reach(u0, c):  # time from u0 to the cut-off
        k = math.sqrt(a / c)
        return tau / math.sqrt(a * c) * (math.atan((v_th - m) * k) - math.atan(u0 * k))

    def after(u0, c, t):  # u after t (t shorter than reach(u0, c))
        k = math.sqrt(a / c)
        return math.tan(math.sqrt(a * c) * t / tau + math.atan(u0 * k)) / k

    c, c_pulse = R * I - a * d * d, R * (I + A) - a * d * d
    T0 = reach(v_reset - m, c)
    if s >= T0:
        return T0, T0
    u_s = after(v_reset - m, c, s)
    t = reach(u_s, c_pulse)
    if t <= w:
        return T0, s + t
    return T0, s + w + reach(after(u_s, c_pulse, w), c)


def test_prc_qif_closed_form_type_i(tmp_path):
    """The QIF is the normal form of a saddle-node on invariant circle (type I): an
    excitatory pulse advances the next spike at every phase, most where v crawls past the
    bottleneck (v_rest + v_crit)/2 (Ermentrout 1996; Izhikevich 2007, section 10.4). Against
    the closed form above (1 nA, a 0.5 nA x 0.5 ms pulse, T0 = 33.0 ms): rk4 at dt 0.01 with
    precise timing puts spike times within ~1e-8 ms of the closed form (test_spike_timing's
    test_qif_closed_form, at dt 0.05), and the pulse's edges fall on step boundaries, so 1e-6
    in the PRC is a wide margin that still catches an error in the pulse's phase or size."""
    cfg = {"name": "qif_prc",
           "model": {"type": "qif", "params": {"t_ref": 0.0}},
           "simulation": {"duration": 10.0, "dt": 0.01, "integrator": "rk4",
                          "precision": "float64", "spike_timing": "precise"},
           "analysis": {"prc": {"current": 1.0, "amplitude": 0.5, "width": 0.5, "phases": 10,
                                "cycles": 3}}}
    path = analyze("prc", _write(tmp_path, cfg), output=tmp_path / "prc.h5")
    a = spikesim.load(path).analysis["prc"]
    ref = []
    for j in range(10):
        s = a["phase_applied"][0, j] * a["T0"][0]
        T0, T1 = _qif_T1(s, 0.5, 1.0, 0.5, 10.0, 10.0, 0.1, -65.0, -50.0, -30.0, -65.0)
        ref.append((T0 - T1) / T0)
    assert a["T0"][0] == pytest.approx(T0, rel=1e-6)
    np.testing.assert_allclose(a["prc"][0], ref, atol=1e-6)
    assert (a["prc"][0] > 0).all()  # type I: no negative lobe
    # the peak: at phase ~0.39 v passes the bottleneck, -57.5 mV
    assert a["phase_applied"][0, np.argmax(a["prc"][0])] == pytest.approx(0.4, abs=0.01)


def test_prc_warns_of_a_pulse_longer_than_the_period(tmp_path, spikesim_cli):
    """A 100 ms pulse on a LIF of period ~10 ms gave a PRC without a word."""
    cfg = {**LIF, "model": {"type": "lif", "params": {"t_ref": 0.0}}, "population": {"size": 1},
           "analysis": {"prc": {"current": 3.0, "amplitude": 0.1, "width": 100.0, "phases": 2,
                                "cycles": 2}}}
    code, _, err = spikesim_cli("analyze", "prc", _write(tmp_path, cfg), "-o", tmp_path / "p.h5")
    assert code == 0, err
    assert "warning: the pulse (100 ms) lasts at least one period of 1 of 1 neuron(s)" in err
    code, _, err = spikesim_cli("analyze", "prc", _write(tmp_path, cfg), "analysis.prc.width=0.5",
                                "-o", tmp_path / "q.h5")
    assert code == 0 and "warning: the pulse" not in err


def test_prc_hh_negative_lobe(tmp_path):
    """Classic HH at 10 uA/cm2, a 5 uA/cm2 x 0.5 ms pulse: type II, the pulse delays the next
    spike at early-to-middle phases (Hansel, Mato & Meunier 1995) and advances it late.
    Reference: DOP853 (rtol 1e-10) from the reference's own spike k, pulse at the phase that
    spikesim applied, edges integrated exactly. rk4 at dt 0.01 with precise timing puts spike
    times within ~1e-4 ms of it; over T0 = 14.6 ms, 5e-4 in the PRC is a wide margin."""
    cfg = {"name": "hh_prc",
           "model": {"type": "hodgkin_huxley"},
           "simulation": {"duration": 10.0, "dt": 0.01, "integrator": "rk4",
                          "precision": "float64", "spike_timing": "precise"},
           "analysis": {"prc": {"current": 10.0, "amplitude": 5.0, "width": 0.5, "phases": 5,
                                "cycles": 6}}}
    path = analyze("prc", _write(tmp_path, cfg), output=tmp_path / "prc.h5")
    a = spikesim.load(path).analysis["prc"]
    sol, spikes = hh.solve(lambda t: 10.0, 8 * 15.0)
    k = 6
    t_k, T0 = spikes[k], spikes[k] - spikes[k - 1]
    assert a["T0"][0] == pytest.approx(T0, abs=1e-3)
    y_k = sol.sol(t_k)
    for j in range(5):
        on = t_k + a["phase_applied"][0, j] * T0
        t1 = _hh_next_spike(y_k, t_k, on, 0.5, 10.0, 5.0)
        ref = (T0 - (t1 - t_k)) / T0
        assert a["prc"][0, j] == pytest.approx(ref, abs=5e-4), j
    assert a["prc"][0, 2] < -0.005 and a["prc"][0, 3] < -0.02  # the negative lobe
    assert a["prc"][0, 4] > 0.02


def _hh_next_spike(y0, t0, on, width, I, A):
    """First upward crossing of 0 mV after t0 + 1 ms, with the pulse on [on, on + width),
    integrated in three pieces so that DOP853 never steps across an edge."""
    def crossing(t, y, c):
        return y[0]

    crossing.direction = 1
    y, t = np.asarray(y0, float), t0
    for t_end, c in ((on, I), (on + width, I + A), (t0 + 40.0, I)):
        if t_end <= t:
            continue
        sol = solve_ivp(hh._rhs, (t, t_end), y, method="DOP853", rtol=1e-10, atol=1e-12,
                        events=crossing, args=(lambda tt, c=c: c,), max_step=0.05)
        ev = sol.t_events[0]
        ev = ev[ev > t0 + 1.0]  # not spike k itself (v is still falling through 0 there)
        if ev.size:
            return ev[0]
        y, t = sol.y[:, -1], t_end
    raise AssertionError("no spike")


# -- slow: references over hundreds of ms of HH and Wang-Buzsaki -----------------------------
def _crossings(f, y0, t0, t1, threshold=0.0):
    """DOP853 (rtol 1e-10, atol 1e-12) of ``f`` from (t0, y0) to t1: (end state, upward
    crossings of ``threshold`` by y[0])."""
    def crossing(t, y):
        return y[0] - threshold

    crossing.direction = 1
    sol = solve_ivp(f, (t0, t1), y0, method="DOP853", rtol=1e-10, atol=1e-12, events=crossing)
    return sol.y[:, -1], sol.t_events[0]


@pytest.mark.slow
def test_rheobase_hh_matches_a_dop853_bisection(tmp_path):
    """Classic HH, a 500 ms step from rest: spikesim (rk4, dt 0.01, float64, tolerance 0.01)
    against a DOP853 bisection of the same question (a spike in (0, 500] ms), run on a bracket
    of +-2 tolerances around spikesim's answer after checking its ends (the top fires, the
    bottom does not), to 1/8 of the tolerance. The two agree within the tolerance."""
    tol = 0.01
    cfg = {"name": "hh_rb", "model": {"type": "hodgkin_huxley"},
           "simulation": {"duration": 500.0, "dt": 0.01, "integrator": "rk4",
                          "precision": "float64"},
           "analysis": {"rheobase": {"range": [0.0, 10.0], "tolerance": tol}}}
    a = spikesim.load(analyze("rheobase", _write(tmp_path, cfg),
                              output=tmp_path / "rb.h5")).analysis["rheobase"]
    rb = a["rheobase"][0]

    def fires(amp):
        return _crossings(lambda t, y: hh._rhs(t, y, lambda _: amp), hh.initial_state(),
                          0.0, 500.0)[1].size > 0

    lo, hi = rb - 2 * tol, rb + 2 * tol
    assert fires(hi) and not fires(lo)
    while hi - lo > tol / 8:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if fires(mid) else (mid, hi)
    assert abs(rb - hi) <= tol, (rb, lo, hi)


def _fi_reference(f, y0, amps, duration, transient, threshold):
    """The f-I protocol of spikesim.analysis.fi with DOP853: each amplitude for ``duration``
    ms, up then down, the state carried; rate = inverse mean ISI after ``transient`` (0 for
    fewer than 2 spikes there)."""
    y, t, out = np.asarray(y0, float), 0.0, {}
    for branch, order in (("up", amps), ("down", amps[::-1])):
        rates = []
        for amp in order:
            y, ev = _crossings(lambda tt, yy: f(tt, yy, amp), y, t, t + duration, threshold)
            ev = ev[ev > t + transient]
            rates.append(1000.0 * (ev.size - 1) / (ev[-1] - ev[0]) if ev.size >= 2 else 0.0)
            t += duration
        out[branch] = np.asarray(rates if branch == "up" else rates[::-1])
    return out


def _hh_fi(tmp_path, amplitudes, num, refine):
    """fi of the classic HH (rk4, dt 0.01 ms, float64), 300 ms per amplitude of which the
    first 100 ms are left out."""
    cfg = {"name": "hh_fi", "model": {"type": "hodgkin_huxley"},
           "simulation": {"duration": 500.0, "dt": 0.01, "integrator": "rk4",
                          "precision": "float64"},
           "analysis": {"fi": {"range": amplitudes, "num": num, "duration": 300.0,
                               "transient": 100.0, "refine": refine}}}
    return spikesim.load(analyze("fi", _write(tmp_path, cfg), output=tmp_path / "fi.h5")
                         ).analysis["fi"]


@pytest.mark.slow
def test_fi_hh_type_ii_bistable_against_dop853(tmp_path):
    """Classic HH, 4 to 12 uA/cm2 by 0.5, 300 ms each: going up it stays at rest up to 9.5
    and fires from 10 at ~68 Hz (Hopf, type II); coming down it keeps firing to 6.5 (the
    stable limit cycle coexists with rest from ~6.3 uA/cm2 on). The same protocol with DOP853
    gives the same branches; rates agree within 0.5 Hz: spike times on the 0.01 ms grid
    change a rate measured over ~200 ms by at most 2 x 0.01 / 200 = 1e-4 of it (0.01 Hz),
    rk4's own error at dt 0.01 is smaller still, so 0.5 Hz only tolerates a branch that is
    the same, never one that differs (a rate of 0 against ~55 Hz)."""
    a = _hh_fi(tmp_path, [4.0, 12.0], num=17, refine=4)
    amps = a["amplitude"]
    ref = _fi_reference(lambda t, y, amp: hh._rhs(t, y, lambda _: amp), hh.initial_state(),
                        amps, 300.0, 100.0, 0.0)
    np.testing.assert_allclose(a["rate_up"][0], ref["up"], atol=0.5)
    np.testing.assert_allclose(a["rate_down"][0], ref["down"], atol=0.5)
    assert a["type"][0] == 2 and a["onset_rate"][0] > 40.0
    assert a["bistable_low"][0] == pytest.approx(6.5)
    assert a["bistable_high"][0] == pytest.approx(9.5)
    assert 9.5 < a["onset"][0] <= 10.0


def _wang_buzsaki():
    """(rhs f(t, y, amp), the resting state at -65 mV with h and n at steady state, v_th) of
    Wang-Buzsaki with spikesim's defaults, written from the paper's equations (tests/
    _equations.py)."""
    from spikesim.models import MODELS

    from _equations import rhs

    p = dict(MODELS["wang_buzsaki"]().defaults(None))
    f_of = {}

    def f(t, y, amp):
        if amp not in f_of:
            f_of[amp] = rhs("wang_buzsaki", p, amp)[0]
        return f_of[amp](t, y)

    v0 = -65.0
    ah, bh = 0.07 * np.exp(-(v0 + 58) / 20), 1 / (np.exp(-0.1 * (v0 + 28)) + 1)
    an, bn = -0.01 * (v0 + 34) / (np.exp(-0.1 * (v0 + 34)) - 1), 0.125 * np.exp(-(v0 + 44) / 80)
    return f, [v0, ah / (ah + bh), an / (an + bn)], p["v_th"]


def test_rheobase_wang_buzsaki_low_threshold_against_dop853(tmp_path):
    """Wang-Buzsaki's spikes start from a saddle-node on invariant circle at a low current
    (type I: the f-I curve of Wang & Buzsaki 1996 rises from zero). A 500 ms step from rest:
    spikesim (rk4, dt 0.01, float64, tolerance 0.001) against a DOP853 bisection of the same
    question on +-2 tolerances around spikesim's answer, its ends checked first, to 1/8 of the
    tolerance: the two agree within the tolerance, and the value lies in (0.16, 0.17) (DOP853
    from rest over 2 s: no spike at 0.16, repetitive firing at 0.17, ~4 Hz)."""
    tol = 0.001
    cfg = {"name": "wb_rb", "model": {"type": "wang_buzsaki"},
           "simulation": {"duration": 500.0, "dt": 0.01, "integrator": "rk4",
                          "precision": "float64"},
           "analysis": {"rheobase": {"range": [0.0, 1.0], "tolerance": tol}}}
    rb = spikesim.load(analyze("rheobase", _write(tmp_path, cfg), output=tmp_path / "rb.h5")
                       ).analysis["rheobase"]["rheobase"][0]
    f, y0, v_th = _wang_buzsaki()

    def fires(amp):
        return _crossings(lambda t, y: f(t, y, amp), y0, 0.0, 500.0, v_th)[1].size > 0

    lo, hi = rb - 2 * tol, rb + 2 * tol
    assert fires(hi) and not fires(lo)
    while hi - lo > tol / 8:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if fires(mid) else (mid, hi)
    assert abs(rb - hi) <= tol, (rb, lo, hi)
    assert 0.16 < rb < 0.17


def _hh_hopf():
    """The current where HH's resting state loses stability: the rest found by fsolve, its
    Jacobian by central differences, brentq on the largest real part of its eigenvalues."""
    from scipy.optimize import brentq, fsolve

    def growth(amp):
        def f(y):
            return np.asarray(hh._rhs(0.0, y, lambda _: amp))

        y = fsolve(f, np.asarray(hh.initial_state(), float), xtol=1e-13)
        J = np.column_stack([(f(y + e) - f(y - e)) / 2e-6 for e in 1e-6 * np.eye(4)])
        return np.linalg.eigvals(J).real.max()

    return brentq(growth, 9.0, 10.5, xtol=1e-6)


@pytest.mark.slow
def test_fi_hh_published_bifurcations(tmp_path):
    """Classic HH, 6 to 10 uA/cm2 by 0.1, 300 ms each, against Rinzel & Miller (1980): the
    stable limit cycle appears at I_nu = 6.26 uA/cm2 (a saddle-node of cycles) and rest loses
    stability at a subcritical Hopf, I = 9.78 uA/cm2 (here recomputed from the eigenvalues:
    9.7754). So coming down the firing stops below 6.3 (bistable_low 6.3), at a finite rate
    (type II; DOP853 on the cycle at 6.3, reached from firing at 10 uA/cm2, gives the same
    rate within 0.5 Hz and no firing at 6.2). Going up, the onset lies above the Hopf point:
    just past it the oscillation grows at ~5e-4 /ms (an e-fold in 2 s), too slowly to show in
    300 ms, so the onset found is a little higher (9.90), never below 9.7754."""
    a = _hh_fi(tmp_path, [6.0, 10.0], num=41, refine=6)
    assert a["bistable_low"][0] == pytest.approx(6.3)
    assert _hh_hopf() < a["onset"][0] < 10.0
    y, _ = _crossings(lambda t, yy: hh._rhs(t, yy, lambda _: 10.0), hh.initial_state(),
                      0.0, 300.0)
    rates = {}
    for amp in (6.2, 6.3):
        _, ev = _crossings(lambda t, yy: hh._rhs(t, yy, lambda _: amp), y, 0.0, 600.0)
        ev = ev[ev > 300.0]
        rates[amp] = 1000.0 * (ev.size - 1) / (ev[-1] - ev[0]) if ev.size >= 2 else 0.0
    assert rates[6.2] == 0.0
    i = int(np.argmin(abs(a["amplitude"] - 6.3)))
    assert a["rate_down"][0, i] == pytest.approx(rates[6.3], abs=0.5)
    assert 45.0 < rates[6.3] < 60.0  # type II: firing stops at ~50 Hz, not at 0


@pytest.mark.slow
def test_fi_wang_buzsaki_type_i_against_dop853(tmp_path):
    """Wang-Buzsaki (1996), 0 to 2 uA/cm2 by 0.2, 500 ms each: firing starts at an
    arbitrarily low rate (saddle-node on invariant circle; the paper's Fig. 1: f ~ sqrt(I -
    I_c)), so the onset rate found by 6 bisection steps is low (type I, < 20 Hz); no
    hysteresis. Rates agree with DOP853 of the same protocol within 0.5 Hz."""
    cfg = {"name": "wb_fi", "model": {"type": "wang_buzsaki"},
           "simulation": {"duration": 500.0, "dt": 0.01, "integrator": "rk4",
                          "precision": "float64"},
           "analysis": {"fi": {"range": [0.0, 2.0], "num": 11, "duration": 500.0,
                               "transient": 100.0}}}
    a = spikesim.load(analyze("fi", _write(tmp_path, cfg), output=tmp_path / "fi.h5")
                      ).analysis["fi"]
    assert a["type"][0] == 1 and a["onset_rate"][0] < 20.0
    assert math.isnan(a["bistable_low"][0])
    f, y0, v_th = _wang_buzsaki()
    ref = _fi_reference(f, y0, a["amplitude"], 500.0, 100.0, v_th)
    np.testing.assert_allclose(a["rate_up"][0], ref["up"], atol=0.5)
    np.testing.assert_allclose(a["rate_down"][0], ref["down"], atol=0.5)


@pytest.mark.slow
def test_dt_hh_rk4_shifts_shrink_at_order_4(tmp_path):
    """Classic HH under a constant 10 uA/cm2 (no input edge: a step's edge on the grid costs
    rk4 an O(dt) error in the stage that straddles it), rk4, precise spike times, dt = 0.04 x
    1, 1/2, 1/4, 1/8: the largest spike-time change against dt = 0.005 falls as dt^4 (fitted
    slope in [3.5, 4.5]; against a reference (1/8)^4 ~ 2e-4 as accurate, the finest
    introduces no visible bias). Grid timing: every spike moves by less than a step."""
    cfg = {"name": "hh_dt", "model": {"type": "hodgkin_huxley", "params": {"g_K": [30.0, 36.0]}},
           "population": {"size": 2},
           "simulation": {"duration": 60.0, "dt": 0.04, "integrator": "rk4",
                          "precision": "float64", "spike_timing": "precise"},
           "input": {"type": "constant", "amplitude": 10.0},
           "analysis": {"dt": {"factors": [1, 0.5, 0.25, 0.125], "tolerance": 1e-4}}}
    a = spikesim.load(analyze("dt", _write(tmp_path, cfg), output=tmp_path / "dt.h5")
                      ).analysis["dt"]
    assert (a["count_change"] == 0).all() and (a["count"] >= 3).all()
    slopes = np.polyfit(np.log(a["dt"][:-1]), np.log(a["shift"][:, :-1].T), 1)[0]
    assert np.all((slopes > 3.5) & (slopes < 4.5)), slopes
    assert a.attrs["sentence"] == "dt = 0.04 ms keeps every spike within 0.0001 ms of dt = 0.005 ms"
    cfg["simulation"]["spike_timing"] = "grid"
    cfg["analysis"]["dt"] = {"factors": [1, 0.25], "tolerance": 0.01}
    a = spikesim.load(analyze("dt", _write(tmp_path, cfg), output=tmp_path / "dtg.h5")
                      ).analysis["dt"]
    assert (a["shift"][:, 0] < 0.04 + 1e-9).all()
    assert a.attrs["sentence"].startswith("no dt coarser than 0.01 ms")


def _preset_config(model_name, names, amplitude, onset, duration):
    """One neuron per preset (its parameters and initial values as per-neuron lists), under a
    step of ``amplitude`` (one per neuron or shared) from ``onset``."""
    from spikesim.models import MODELS

    m = MODELS[model_name]()
    params = {k: [float(m.defaults(n)[k]) for n in names]
              for k, p in m.params.items() if not p.choices}
    init = {}
    for n in names:
        for k, v in (m.presets[n].init or {}).items():
            init.setdefault(k, []).append(float(v))
    return {"name": f"{model_name}_patterns",
            "model": {"type": model_name, "params": params, "init": init},
            "population": {"size": len(names)},
            "simulation": {"duration": duration, "dt": 0.01, "integrator": "rk4",
                           "precision": "float64"},
            "input": {"type": "step", "amplitude": amplitude, "start": onset}}


#: what Naud et al. (2008) call their Table 1 parameter sets, in this classification
NAUD = {"tonic": "tonic", "adapting": "adapting", "initial_burst": "initial burst",
        "regular_bursting": "bursting", "delayed_accelerating": "delayed accelerating",
        "delayed_regular_bursting": "delayed bursting", "transient": "transient",
        "irregular": "irregular"}
#: what Izhikevich (2003, Fig. 2 and its text) says each does under a DC step: RS "fire a
#: few spikes with short interspike period and then the period increases" (adaptation), IB
#: "a stereotypical burst of spikes followed by repetitive single spikes", CH "stereotypical
#: bursts of closely spaced spikes", FS "periodic trains of action potentials with extremely
#: high frequency practically without any adaptation", LTS "high-frequency trains ... with a
#: pronounced spike frequency adaptation", TC depolarised from rest "tonic firing". RZ is
#: named for its subthreshold resonance, not for a DC-step pattern: not checked.
IZHIKEVICH = {"RS": "adapting", "IB": "initial burst", "CH": "bursting", "FS": "tonic",
              "LTS": "adapting", "TC": "tonic"}


def test_patterns_naud_2008_presets(tmp_path):
    """The eight AdEx parameter sets of Naud et al. (2008) Table 1, each under its Table 1
    current stepped on at 20 ms for 500 ms, in one run, are named as the paper names them."""
    from spikesim.models import MODELS

    model = MODELS["adex"]()
    names = list(NAUD)
    amps = [float(model.presets[n].current) for n in names]
    cfg = _preset_config("adex", names, amps, 20.0, 520.0)
    a = spikesim.load(analyze("patterns", _write(tmp_path, cfg), output=tmp_path / "p.h5")
                      ).analysis["patterns"]
    got = list(a["label"])
    assert got == [NAUD[n] for n in names]


def test_patterns_izhikevich_2003_presets_and_from_a_run_file(tmp_path, spikesim_cli):
    """The Izhikevich (2003) presets under I = 10 from 10 ms (the paper's Fig. 2 protocol),
    classified from the file of an ordinary `spikesim run`."""
    names = list(IZHIKEVICH)
    cfg = _preset_config("izhikevich", names, 10.0, 10.0, 310.0)
    code, out, err = spikesim_cli("run", _write(tmp_path, cfg), "-o", tmp_path / "izh.h5", "-q")
    assert code == 0, err
    code, out, err = spikesim_cli("analyze", "patterns", tmp_path / "izh.h5")
    assert code == 0, err
    path = out.strip()
    assert path.endswith("izh_patterns.h5")
    a = spikesim.load(path).analysis["patterns"]
    assert list(a["label"]) == [IZHIKEVICH[n] for n in names]
    assert a.attrs["start"] == 10.0


def test_fi_morris_lecar_type_ii_and_type_i_sets(tmp_path):
    """Morris-Lecar as equations (issue 16), its two parameter sets of Rinzel & Ermentrout
    (1998, Table 7.1) side by side: the type II set starts firing through a subcritical Hopf
    bifurcation, at a finite rate (~10 Hz: a slow model) with rest and firing coexisting just
    below the onset; the type I set through a saddle-node on the invariant circle, at an
    arbitrarily low rate and without bistability. The onset rate alone (both under the
    20 Hz default) would call both type I; the bistable range tells the Hopf apart."""
    cfg = {"name": "ml_fi", "model": {"type": "equations", "file": "morris_lecar", "params": {
               "g_Ca": [4.4, 4.0], "V3": [2.0, 12.0], "V4": [30.0, 17.4],
               "phi": [0.04, 0.0666667]}},
           "population": {"size": 2},
           "simulation": {"duration": 100.0, "dt": 0.1, "integrator": "rk4",
                          "precision": "float64"},
           "analysis": {"fi": {"range": [30.0, 120.0], "num": 31, "duration": 600.0,
                               "transient": 200.0}}}
    a = spikesim.load(analyze("fi", _write(tmp_path, cfg), output=tmp_path / "fi.h5")
                      ).analysis["fi"]
    assert list(a["type"]) == [2, 1]
    assert np.isfinite(a["bistable_low"][0]) and np.isnan(a["bistable_low"][1])
    assert a["bistable_high"][0] < a["onset"][0]
    assert 80.0 < a["onset"][0] < 100.0 and a["onset_rate"][0] > 5.0  # finite onset rate
    assert 35.0 < a["onset"][1] < 45.0 and a["onset_rate"][1] < 5.0  # near 0 Hz


def test_patterns_of_a_missing_run_file(spikesim_cli, tmp_path):
    code, _, err = spikesim_cli("analyze", "patterns", tmp_path / "nothere.h5")
    assert code == 2 and f"analyze patterns {tmp_path / 'nothere.h5'}: no such file" in err
    assert "--from" not in err and "Traceback" not in err


def test_fi_warns_where_its_window_cannot_show_type_i(spikesim_cli, tmp_path):
    """The LIF is type I (its rate falls to 0 at rheobase, logarithmically). With a rate
    window of 80 ms, two spikes fit in it for certain only from 25 Hz, above type1_max_rate
    (20 Hz): the LIF with tau_m = 10 ms came out type II, silently. Now a warning names the
    duration that can show it, and with that duration every neuron is type I."""
    cfg = _write(tmp_path, {"model": {"type": "lif", "params": {"tau_m": [10.0, 15.0, 20.0]}},
                            "population": {"size": 3},
                            "simulation": {"duration": 100.0, "dt": 0.1}})
    opts = ["analysis.fi.num=5", "analysis.fi.transient=20"]
    code, _, err = spikesim_cli("analyze", "fi", cfg, *opts, "analysis.fi.duration=100",
                                "-o", tmp_path / "short.h5")
    assert code == 0, err
    assert ("warning: the rate window (analysis.fi.duration - transient = 80 ms) shows "
            "repetitive firing for certain only from 25 Hz" in err), err
    assert "Use analysis.fi.duration >= 120 ms" in err
    # inspect: the spike statistics are those of the fi protocol, and say so
    code, out, _ = spikesim_cli("inspect", tmp_path / "short.h5")
    assert code == 0 and "ms of the fi analysis' protocol, its stimulus" in " ".join(out.split())
    assert 2 in spikesim.load(tmp_path / "short.h5").analysis["fi"]["type"]
    code, _, err = spikesim_cli("analyze", "fi", cfg, *opts, "analysis.fi.duration=120",
                                "-o", tmp_path / "long.h5")
    assert code == 0 and "warning" not in err, err
    assert list(spikesim.load(tmp_path / "long.h5").analysis["fi"]["type"]) == [1, 1, 1]


def test_prc_of_the_lif_against_its_closed_form(spikesim_cli, tmp_path):
    """LIF (v_rest = v_reset = -65 mV, v_th = -50 mV, R_m = 10 MOhm, t_ref = 2 ms) under
    2 nA, a pulse of A = 0.5 nA for w = 0.5 ms at t_p after a spike (t_p >= t_ref) adds
    d = R A (1 - exp(-w/tau)) to v, which then decays, so the next crossing is at
    T1 = tau ln(((V - v_r) e^(t_ref/tau) - d e^((t_p + w)/tau)) / (V - v_th)), V = -45 mV.
    Precise timing gives it to 1e-9 (float64; T0 and T1 from the closed-form crossings).
    The grid's PRC moves in steps of dt / T0 (0.0063 here, a third of the PRC's range) and
    was off by a third without a word: now a warning says so."""
    tau = np.array([10.0, 15.0, 20.0])
    cfg = _write(tmp_path, {"model": {"type": "lif", "params": {"tau_m": tau.tolist()}},
                            "population": {"size": 3},
                            "simulation": {"duration": 100.0, "dt": 0.1,
                                           "precision": "float64"}})
    opts = ["analysis.prc.current=2", "analysis.prc.amplitude=0.5", "analysis.prc.phases=4"]
    code, _, err = spikesim_cli("analyze", "prc", cfg, *opts, "simulation.spike_timing=precise",
                                "-o", tmp_path / "p.h5")
    assert code == 0 and "warning" not in err, err
    a = spikesim.load(tmp_path / "p.h5").analysis["prc"]
    T0 = a["T0"][:, None]
    np.testing.assert_allclose(a["T0"], 2.0 + tau * np.log(4.0), atol=1e-9, rtol=0)
    t_p, tc = a["phase_applied"] * T0, tau[:, None]
    d = np.where(t_p >= 2.0, 5.0 * (1 - np.exp(-0.5 / tc)) * np.exp((t_p + 0.5) / tc), 0.0)
    T1 = tc * np.log((20.0 * np.exp(2.0 / tc) - d) / 5.0)
    closed = (T0 - T1) / T0
    assert closed.max() > 0.02
    np.testing.assert_allclose(a["prc"], closed, atol=1e-9, rtol=0)
    code, _, err = spikesim_cli("analyze", "prc", cfg, *opts, "-o", tmp_path / "g.h5")
    assert code == 0, err
    assert ("warning: with spike_timing: grid the PRC moves in steps of dt / T0 (0.0063 for "
            "neuron 0)" in err), err
    grid = spikesim.load(tmp_path / "g.h5").analysis["prc"]["prc"]
    assert np.abs(grid - closed).max() > 0.003  # what the warning is about


@pytest.mark.parametrize("kind", ["rheobase", "fi", "prc"])
def test_a_stimulus_analysis_of_a_model_without_a_current_is_refused(spikesim_cli, tmp_path,
                                                                      kind):
    """An equations model that declares no injected current: rheobase, fi and prc ran their
    stimulus into nothing and reported "none found in the range" in a unit "1", exit 0."""
    cfg = {"model": {"type": "equations", "equations": "dv/dt = -(v - E)/tau : mV\n",
                     "params": {"E": "-65 mV", "tau": "10 ms", "v_th": "-50 mV"},
                     "init": {"v": "-65 mV"}, "threshold": "v > v_th", "reset": "v = E"},
           "simulation": {"duration": 50.0, "dt": 0.1}}
    _refused_analysis(spikesim_cli, tmp_path, kind, "analysis.prc.current=1",
                      "analysis.prc.amplitude=1", cfg=cfg,
                      expect="cfg.yaml:1: model: " + kind + " drives the neuron")


@pytest.mark.parametrize("kind", ["rheobase", "fi", "prc", "dt", "patterns"])
def test_an_analysis_of_a_model_without_a_threshold_is_refused(spikesim_cli, tmp_path, kind):
    """Every analysis counts spikes; an equations model without a threshold never spikes, and
    each ran and reported "none found", "silent" or a dt that keeps every (no) spike."""
    cfg = {"model": {"type": "equations", "equations": "dv/dt = (E - v + R*I)/tau : mV\n",
                     "current": {"name": "I", "unit": "nA"},
                     "params": {"E": "-65 mV", "tau": "10 ms", "R": "10 MOhm"},
                     "init": {"v": "-65 mV"}},
           "simulation": {"duration": 50.0, "dt": 0.1}}
    _refused_analysis(spikesim_cli, tmp_path, kind, "analysis.prc.current=1",
                      "analysis.prc.amplitude=1", cfg=cfg,
                      expect=f"cfg.yaml:1: model: {kind} measures spikes, and model equations "
                             f"has no threshold")


def test_init_from_an_analysis_file_says_what_it_is(spikesim_cli, tmp_path):
    """--init-from an analysis' file was refused as holding "no /state group"; now the
    message says it is an analysis' result and what to continue from."""
    cfg = _write(tmp_path, {**LIF, "population": {"size": 1}, "model": {"type": "lif"}})
    code, _, err = spikesim_cli("analyze", "rheobase", cfg, "-o", tmp_path / "rb.h5")
    assert code == 0, err
    code, out, err = spikesim_cli("run", cfg, "--init-from", tmp_path / "rb.h5",
                                  "-o", tmp_path / "next.h5")
    assert code == 2 and out == "" and not (tmp_path / "next.h5").exists()
    assert "it is the result of `spikesim analyze rheobase`, which keeps no final state" in err


def test_default_range_of_a_current_unit_of_its_own(tmp_path):
    """The default range of rheobase and fi for a current unit not in the table is the
    range of its dimension, converted (was [0, 20] in any unit: 0-20 uA for a LIF with a
    rheobase of 1.5 nA, 0-20 nA/mm2 for Connor-Stevens, which fires from ~82 nA/mm2).
    20 uA/cm2 = 0.2 A/m2 = 200 nA/mm2; 5 nA = 0.005 uA. A LIF written in uA: the rheobase
    (v_th - E)/(R (1 - exp(-D/tau))) comes out to the default tolerance (width / 1000)."""
    from spikesim.config.analysis import default_range

    assert default_range("nA/mm2") == (0.0, 200.0)
    assert default_range("uA") == (0.0, 0.005) and default_range("mA") == (0.0, 5e-06)
    assert default_range("A/m^2") == (0.0, 0.2) and default_range("1") == (0.0, 20.0)
    cfg = {"model": {"type": "equations", "equations": "dv/dt = (E - v + R*I)/tau : mV\n",
                     "current": {"name": "I", "unit": "uA"},
                     "params": {"E": "-65 mV", "tau": "10 ms", "R": "10 MOhm", "v_th": "-50 mV"},
                     "init": {"v": "-65 mV"}, "threshold": "v > v_th", "reset": "v = E"},
           "simulation": {"duration": 50.0, "dt": 0.1, "integrator": "exp_euler",
                          "precision": "float64"},
           "analysis": {"rheobase": {"duration": 50.0}}}
    rb = spikesim.load(spikesim.analyze("rheobase", cfg, output=tmp_path / "rb.h5")).analysis[
        "rheobase"]
    closed = 15.0 / (10.0 * (1 - np.exp(-50.0 / 10.0))) * 1e-3  # nA -> uA
    assert rb.attrs["range"] == [0.0, 0.005]
    assert closed - 1e-12 <= rb["rheobase"][0] <= closed + 0.005 / 1000 + 1e-12
