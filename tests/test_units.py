"""Values with units in a config (SPEC section 4): conversion of every kind of field, the
spellings people write, exact conversion, and the errors (file:line:key, dimensions named)."""

import subprocess
import sys
from pathlib import Path

import pytest

from spikesim.config.load import load
from spikesim.errors import ConfigError
from spikesim.sim.plan import make_plan
from spikesim.core.units import UnitError, convert, normalise

REPO = Path(__file__).resolve().parents[1]


def hh(**sections):
    cfg = {"model": {"type": "hodgkin_huxley"}, "population": {"size": 4},
           "simulation": {"duration": 20.0, "dt": 0.01},
           "input": {"type": "step", "amplitude": 10.0, "start": 1.0, "stop": 15.0}}
    cfg.update(sections)
    return cfg


@pytest.mark.parametrize("text, unit, value", [
    ("10 us", "ms", 0.01), ("1 s", "ms", 1000.0), ("0.5 nA", "pA", 500.0),
    ("500 pA", "pA", 500.0), ("-65 mV", "mV", -65.0), ("0.1 V", "mV", 100.0),
    ("12 uA/cm2", "uA/cm2", 12.0), ("12 uA/cm^2", "uA/cm2", 12.0),
    ("12 µA/cm²", "uA/cm2", 12.0), ("12 μA/cm2", "uA/cm2", 12.0),  # micro sign, Greek mu
    ("0.012 mA/cm2", "uA/cm2", 12.0), ("36 mS/cm2", "mS/cm2", 36.0), ("2 nS", "nS", 2.0),
    ("200 pF", "pF", 200.0), ("1 uF/cm2", "uF/cm2", 1.0), ("10 MOhm", "MOhm", 10.0),
    ("10 Mohm", "MOhm", 10.0), ("10 MΩ", "MOhm", 10.0), ("10 MΩ", "MOhm", 10.0),
    ("1 GOhm", "MOhm", 1000.0), ("40 Hz", "Hz", 40.0), ("20 Hz", "1/ms", 0.02),
    ("0.02 1/ms", "1/ms", 0.02), ("2 nA ms^1/2", "nA*ms^0.5", 2.0),
    ("1e-3 s", "ms", 1.0),
])
def test_spellings_convert_to_the_declared_unit(text, unit, value):
    # == on floats on purpose: the conversion is exact (rational), so "10 us" is the float
    # 0.01 itself, not 0.010000000000000002
    assert convert(text, unit) == value


def test_bare_numbers_and_other_values_pass_through_untouched():
    # (a quoted number without a unit too: the schema refuses it, "write numbers without quotes")
    for x in (0.1, 3, -2.5, None, [1.0], {"linspace": [0, 1]}, "0.01"):
        assert convert(x, "ms") is x
    with pytest.raises(ConfigError, match="a string; write numbers without quotes"):
        load(None, ['simulation.dt="0.01"'], data=hh())


def test_normalise_documented_spellings():
    assert normalise("uA/cm2") == normalise("uA/cm^2") == normalise("µA/cm²") == "uA/cm^2"
    assert normalise("MOhm") == normalise("MΩ") == "Mohm"


def test_every_field_kind_converts_at_load():
    cfg = hh(simulation={"duration": "0.02 s", "dt": "10 us"},
             model={"type": "hodgkin_huxley",
                    "params": {"g_K": "36 mS/cm2", "g_Na": {"linspace": ["100 mS/cm2", "0.12 S/cm2"]},
                               "E_K": {"normal": {"mean": "-77 mV", "std": "1 mV"}},
                               "g_L": {"uniform": ["0.2 mS/cm2", "0.4 mS/cm2"]},
                               "C": ["1 uF/cm2", "1000 nF/cm2", 1.0, "0.001 mF/cm2"]},
                    "init": {"v": "-0.065 V", "m": 0.05}},
             input=[{"type": "step", "amplitude": "10 uA/cm2", "start": "1 ms", "stop": "15 ms"},
                    {"type": "sine", "amplitude": "0.001 mA/cm2", "frequency": "0.04 1/ms",
                     "phase": "90 deg", "start": "0 s"},
                    {"type": "ou", "mean": 0, "std": "1 uA/cm2", "tau": "5000 us"},
                    {"type": "noise", "std": "0.5 uA/cm2 ms^1/2"},
                    {"type": "pulses", "amplitude": "2 uA/cm2", "width": "1 ms",
                     "period": "0.004 s", "count": 3},
                    {"type": "ramp", "stop": "10 ms", "from": "0 uA/cm2", "to": "0.005 mA/cm2"}],
             record={"start": "2 ms", "stop": "0.015 s", "variables": ["v"]})
    c = load(None, data=cfg).cfg
    assert (c.simulation.duration, c.simulation.dt) == (20.0, 0.01)
    assert (c.record.start, c.record.stop) == (2.0, 15.0)
    p = c.model.params
    assert p["g_K"] == 36.0 and p["g_Na"] == {"linspace": [100.0, 120.0]}
    assert p["E_K"] == {"normal": {"mean": -77.0, "std": 1.0}}
    assert p["g_L"] == {"uniform": [0.2, 0.4]} and p["C"] == [1.0, 1.0, 1.0, 1.0]
    assert c.model.init == {"v": -65.0, "m": 0.05}
    step, sine, ou, noise, pulses, ramp = c.input
    assert (step.amplitude, step.start, step.stop) == (10.0, 1.0, 15.0)
    assert (sine.amplitude, sine.frequency, sine.start) == (1.0, 40.0, 0.0)
    assert sine.phase == pytest.approx(1.5707963267948966, rel=1e-15)
    assert (ou.std, ou.tau, noise.std) == (1.0, 5.0, 0.5)
    assert (pulses.amplitude, pulses.width, pulses.period, pulses.count) == (2.0, 1.0, 4.0, 3)
    assert (ramp.stop, ramp.from_, ramp.to) == (10.0, 0.0, 5.0)


def test_refractory_period_and_other_model_units():
    cfg = {"model": {"type": "lif", "params": {"t_ref": "2000 us", "R_m": "0.01 GOhm",
                                               "tau_m": "0.01 s"}},
           "simulation": {"duration": 10, "dt": 0.1},
           "input": {"type": "constant", "amplitude": "1500 pA"}}
    c = load(None, data=cfg).cfg
    assert c.model.params == {"t_ref": 2.0, "R_m": 10.0, "tau_m": 10.0}
    assert c.input[0].amplitude == 1.5
    adex = {"model": {"type": "adex", "params": {"a": "0.002 uS", "b": "0.06 nA"}},
            "simulation": {"duration": 10, "dt": 0.1},
            "input": {"type": "constant", "amplitude": "0.5 nA"}}
    c = load(None, data=adex).cfg
    assert c.model.params == {"a": 2.0, "b": 60.0} and c.input[0].amplitude == 500.0


def test_sweep_axes_take_units():
    cfg = hh(sweep={"axes": {"input.amplitude": {"start": "0 uA/cm2", "stop": "0.02 mA/cm2",
                                                 "num": 5},
                             "model.params.g_K": ["30 mS/cm2", "0.036 S/cm2"]}})
    plan = make_plan(load(None, data=cfg))
    assert list(plan.sweep_axes["input.amplitude"]) == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert list(plan.sweep_axes["model.params.g_K"]) == [30.0, 36.0]


def test_overrides_take_units():
    lc = load(None, ["input.amplitude=12 uA/cm2", "simulation.dt=20 us",
                     "model.params.g_K=[30 mS/cm2, 36 mS/cm2, 42 mS/cm2, 48 mS/cm2]"],
              data=hh())
    assert lc.cfg.input[0].amplitude == 12.0 and lc.cfg.simulation.dt == 0.02
    assert lc.cfg.model.params["g_K"] == [30.0, 36.0, 42.0, 48.0]


def test_with_units_gives_the_same_plan_bit_for_bit_as_bare_numbers():
    bare = make_plan(load(None, data=hh(model={"type": "hodgkin_huxley",
                                               "params": {"g_K": {"linspace": [30.0, 42.0]}}})))
    units = make_plan(load(None, ["simulation.duration=0.02 s", "simulation.dt=10 us",
                                  "input.amplitude=0.01 mA/cm2",
                                  "model.params.g_K={linspace: [0.03 S/cm2, 42 mS/cm2]}"],
                           data=hh()))
    assert units.config_yaml == bare.config_yaml  # the resolved config holds plain numbers
    assert (units.params["g_K"] == bare.params["g_K"]).all()
    assert units.dt == bare.dt and units.n_steps == bare.n_steps


# -- errors -------------------------------------------------------------------------------
def _error(tmp_path, text, *overrides):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load(path, list(overrides))
    return str(e.value), path


BASE = """\
model:
  type: hodgkin_huxley
simulation:
  duration: 100 ms
  dt: 0.01
input:
  type: step
  amplitude: {amp}
"""


def test_wrong_dimension_names_file_line_key_and_both_dimensions(tmp_path):
    msg, path = _error(tmp_path, BASE.format(amp="10 mV"))
    assert msg == (f"{path}:8: input.amplitude: hodgkin_huxley takes a current density "
                   f"(uA/cm2); got 10 mV, a voltage. Give it in uA/cm2 or another unit of "
                   f"that dimension")


def test_a_current_where_a_current_density_is_expected_says_so(tmp_path):
    msg, path = _error(tmp_path, BASE.format(amp="1 nA"))
    assert msg.startswith(f"{path}:8: input.amplitude: hodgkin_huxley takes a current density "
                          f"(uA/cm2); got 1 nA, a current. A current where a current density "
                          f"is expected")
    lif = "model: {type: lif}\nsimulation: {duration: 10, dt: 0.1}\n" \
          "input: {type: constant, amplitude: 2 uA/cm2}\n"
    msg, path = _error(tmp_path, lif)
    assert "lif takes a current (nA); got 2 uA/cm2, a current density. A current density " \
           "where a current is expected" in msg and msg.startswith(f"{path}:3: input.amplitude")


def test_unknown_unit_suggests_the_nearest_spelling(tmp_path):
    msg, path = _error(tmp_path, BASE.replace("100 ms", "100 msec_"))
    assert msg.startswith(f"{path}:4: simulation.duration: unknown unit 'msec_'")
    assert "Did you mean 'ms'?" in msg
    msg, _ = _error(tmp_path, BASE.format(amp="3 uAmp/cm2"))
    assert "Did you mean 'uA/cm2'?" in msg


def test_a_unit_off_by_letter_case_is_suggested(tmp_path):
    """ns for nS (a time where a conductance is expected), ms/cm2 for mS/cm2, MS for ms: the
    unit of the right dimension that differs only by case is suggested with the number."""
    adex = "model: {type: adex}\nsimulation: {duration: 10, dt: 0.1}\ninput:\n" \
           "  type: poisson_synapses\n  rate: 1 kHz\n  tau: 5 ms\n  weight: 1 ns\n"
    msg, path = _error(tmp_path, adex)
    assert msg == (f"{path}:7: input.weight: adex takes a conductance (nS); got 1 ns, a time. "
                   f"Did you mean 1 nS? (Letter case matters in units)")
    msg, path = _error(tmp_path, BASE.format(amp="1") + "sweep:\n  axes:\n"
                       "    model.params.g_K: [30 mS/cm2, 36 ms/cm2]\n", "simulation.dt=2 MS")
    assert "simulation.dt: expected a time (ms); got 2 MS, a conductance. Did you mean 2 ms?" \
        in msg
    assert f"{path}:11: sweep.axes.model\\.params\\.g_K: hodgkin_huxley takes a conductance " \
           f"density (mS/cm2); got 36 ms/cm2, of dimension [length]^-2 * [time]. Did you " \
           f"mean 36 mS/cm2?" in msg, msg
    msg, _ = _error(tmp_path, BASE.format(amp="10 ua/cm2"))  # pint: ua is an atto-year
    assert "Did you mean 10 uA/cm2?" in msg
    msg, _ = _error(tmp_path, BASE.format(amp="1"), "model.init.v=-65 mv")
    assert "unknown unit 'mv' in '-65 mv'. Did you mean 'mV'?" in msg  # pint knows no mv


@pytest.mark.parametrize("text, unit, meant", [
    ("10 mohm", "MOhm", "10 MOhm"), ("10 mΩ", "MOhm", "10 MOhm"), ("10 Ms", "ms", "10 ms"),
    ("-50 MV", "mV", "-50 mV"), ("500 PA", "pA", "500 pA"), ("200 PF", "pF", "200 pF"),
])
def test_a_prefix_off_by_letter_case_is_an_error(text, unit, meant):
    """Milliohm for megaohm, megasecond for millisecond: the same dimension, so pint converts
    without complaint, 9 to 27 orders of magnitude from what was meant. Units that differ
    from a known spelling only by case are refused with the spelling meant."""
    with pytest.raises(UnitError, match=f"Did you mean {meant}\\? \\(Letter case matters"):
        convert(text, unit)


def test_prefixes_people_mean_are_not_case_slips():
    assert convert("10 MOhm", "MOhm") == convert("10 Mohm", "MOhm") == 10.0
    assert convert("1 mA", "nA") == 1e6 and convert("10 kohm", "MOhm") == 0.01
    assert convert("10 ohm", "MOhm") == 1e-5  # no known spelling differs from ohm by case


def test_errors_in_generators_sweeps_and_overrides_say_where(tmp_path):
    text = BASE.format(amp="{linspace: [0 uA/cm2, 2 nA]}") + \
        "sweep:\n  axes:\n    model.params.g_K: [30 mS/cm2, 36 mV]\n"
    msg, path = _error(tmp_path, text, "simulation.dt=1 mV")
    lines = msg.splitlines()
    assert lines[0].startswith("override simulation.dt=1 mV: simulation.dt: expected a time "
                               "(ms); got 1 mV, a voltage")
    assert any(l.startswith(f"{path}:8: input.amplitude: hodgkin_huxley takes a current "
                            f"density (uA/cm2); got 2 nA, a current") for l in lines)
    assert any(l.startswith(f"{path}:11: sweep.axes.model\\.params\\.g_K: hodgkin_huxley "
                            f"takes a conductance density (mS/cm2); got 36 mV") for l in lines)


def test_dimensionless_fields_take_plain_numbers():
    cfg = hh(input={"type": "pulses", "amplitude": 1, "width": 1, "period": 2, "count": "3 ms"})
    with pytest.raises(ConfigError, match="input.count: expected a plain number "
                                          "\\(dimensionless\\); got 3 ms, a time"):
        load(None, data=cfg)
    assert load(None, data={**cfg, "input": {**cfg["input"], "count": 3}}).cfg.input[0].count == 3


def test_cli_exit_2_and_nothing_written(spikesim_cli, tmp_path):
    (tmp_path / "c.yaml").write_text(BASE.format(amp="10 mV"))
    code, out, err = spikesim_cli("run", "c.yaml", "-o", "x.h5")
    assert code == 2 and out == "" and "got 10 mV, a voltage" in err
    assert not list(tmp_path.glob("x.h5*"))


def test_a_config_of_bare_numbers_does_not_import_pint():
    # Izhikevich under a conductance synapse: its weight's unit (1/ms) is known without pint
    iz = {"model": {"type": "izhikevich"}, "simulation": {"duration": 10, "dt": 0.1},
          "input": {"type": "poisson_synapses", "rate": 1000, "weight": 0.01, "tau": 5}}
    code = ("import sys; from spikesim.config.load import load; "
            f"load({str(REPO / 'configs/hh_step.yaml')!r}); load(None, data={iz!r}); "
            f"print('pint' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=REPO, env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert r.stdout.strip() == "False", r.stderr


def test_an_unknown_key_with_a_unit_is_reported_by_name():
    with pytest.raises(ConfigError) as e:
        load(None, ["model.params.g_KK=30 mS/cm2", "model.init.vv=3 mV",
                    "sweep.axes.model.params.g_NN=[1 mS/cm2]"], data=hh())
    msg = str(e.value)
    assert "model hodgkin_huxley has no parameter 'g_KK'. Did you mean 'g_K'?" in msg
    assert "no state variable 'vv'. Did you mean 'v'?" in msg
    assert "'model.params.g_NN' is not a numeric key of this config" in msg


@pytest.mark.parametrize("text", ["1 )", "1 (ms", "1 ms/0", "1 1/0", "1 ms^", "1e400 ms",
                                  "1e308 s", "1e99999999 ms", "1 __class__", "1 ms;import os",
                                  "ms", "1.2.3 ms", ""])
def test_garbage_is_a_unit_error_never_a_traceback(text):
    with pytest.raises(UnitError):
        convert(text, "ms")
