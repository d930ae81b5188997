"""Bad equations models: through the real CLI, exit 2, the file and line of the offending
equation inside the YAML block (or of the key), what is wrong and, for a misspelt name, a
did-you-mean; nothing compiled or written, no traceback. And random text fed to the parser
gives a ParseProblem or a parsed tree, never another exception."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from test_config_errors import expect_error, spikesim_cli, write  # noqa: F401 - fixture

#: a leaky integrator with an adaptation current; line 4 is the first line of the block
TEMPLATE = """\
model:
  type: equations
  equations: |
    dv/dt = (v_rest - v + R*I - R*w)/tau : mV
    dw/dt = (a*(v - v_rest) - w)/tau_w : nA
    v_inf = v_rest + R*I : mV
  current: {name: I, unit: nA}
  params: {v_rest: -65 mV, R: 10 MOhm, tau: 10 ms, a: 0.01 uS, tau_w: 100 ms, v_th: -50 mV}
  init: {v: -65 mV, w: 0 nA}
  threshold: v > v_th
  reset: v = v_rest; w += 0.1 nA
simulation: {duration: 5.0, dt: 0.1, integrator: rk4}
input: {type: constant, amplitude: 2.0}
"""
LINE = {"v": 4, "w": 5, "v_inf": 6}
V = "dv/dt = (v_rest - v + R*I - R*w)/tau : mV"
W = "dw/dt = (a*(v - v_rest) - w)/tau_w : nA"
SUB = "v_inf = v_rest + R*I : mV"

#: (what to replace, by what, line expected, words expected in the message)
CASES = {
    "misspelt parameter": (V, V.replace("tau :", "taau :"), 4, ["unknown name 'taau'",
                                                               "Did you mean 'tau'"]),
    "syntax error": (W, "dw/dt = (a*(v - v_rest) - w/tau_w : nA", 5, ["syntax error"]),
    "missing unit": (SUB, "v_inf = v_rest + R*I", 6, ["missing the unit"]),
    "unknown unit": (SUB, "v_inf = v_rest + R*I : mVV", 6, ["unknown unit 'mVV'"]),
    "lhs and rhs differ": (V, "dv/dt = (v_rest - v + R*I - R*w) : mV", 4,
                           ["dv/dt must be a voltage per time", "the right-hand side is a voltage"]),
    # the unit of dv/dt written for v: the messages said only that terms differed
    "unit of the derivative": (V, V.replace("/tau : mV", "/tau : mV/ms"), 4,
                               ["the terms differ in dimension",
                                "v is declared in mV/ms, a unit per time",
                                "the unit after ':' is that of v itself, not of dv/dt"]),
    "terms differ": (W, "dw/dt = (a*(v - v_rest) - v)/tau_w : nA", 5,
                     ["the terms differ in dimension", "a current", "a voltage"]),
    "cycle": (SUB, "v_inf = v_rest + R*I + x : mV\n    x = v_inf - v : mV", 6,
              ["cyclic subexpressions", "v_inf -> x -> v_inf"]),
    "unknown function": (SUB, "v_inf = v_rest + R*I*expp(0) : mV", 6,
                         ["unknown function 'expp'", "Did you mean 'exp'"]),
    # letters swapped: difflib's ratio alone suggested 'tan'
    "swapped letters in a function": (SUB, "v_inf = v_rest + R*I*tahn(1) : mV", 6,
                                      ["unknown function 'tahn'", "Did you mean 'tanh'"]),
    # a parameter left out of params, named like the subexpression that uses it: the hint
    # was "Did you mean 'v_inf'?", a cycle, instead of saying to give it a value
    "parameter missing, named like its line": (SUB, "v_inf = v_rest + R*I + v_inf0 : mV", 6,
                                               ["unknown name 'v_inf0'",
                                                "Give it a value in params"]),
    "numpy prefix": (SUB, "v_inf = v_rest + R*I*np.tanh(1) : mV", 6,
                     ["write tanh(...), not np.tanh(...)"]),
    "wrong arity": (SUB, "v_inf = v_rest + R*I*exp(1, 2) : mV", 6, ["exp() takes 1 argument"]),
    "caret power": (SUB, "v_inf = v_rest + R*I*(2^2) : mV", 6, ["write powers as x**2"]),
    "defined twice": (SUB, SUB + "\n    v_inf = v : mV", 7,
                      ["'v_inf' is defined twice (also at ", "cfg.yaml:6); keep one"]),
    "exp of a voltage": (SUB, "v_inf = v_rest*exp(v) : mV", 6,
                         ["exp() takes a plain number", "a voltage"]),
    "power with a name": (SUB, "v_inf = v**(tau/tau) : mV", 6, ["needs a number as exponent"]),
    "reserved name": (SUB, "t = v : mV", 6, ["'t' is a reserved name"]),
    "function name": (SUB, "exp = v : mV", 6, ["'exp' is a function name"]),
    "function name of a state": (W, "dwhere/dt = -where/tau_w : nA", 5,
                                 ["'where' is a function name"]),
    "python attribute": (SUB, "v_inf = v.real : mV", 6, ["attribute access"]),
    "python import": (SUB, "v_inf = __import__('os') : mV", 6, ["unknown function"]),
    "comparison as value": (SUB, "v_inf = (v > 0) : mV", 6, ["only allowed as a condition"]),
    "lambda": (SUB, "v_inf = (lambda: 1)() : mV", 6, ["only the functions"]),
    "not an equation": (SUB, "v_inf v_rest", 6, ["expected 'dx/dt = expression : unit'"]),
    "if-else": (SUB, "v_inf = v if v > 0 else v_rest : mV", 6, ["use where(cond, a, b)"]),
    # parts made of numbers only are evaluated at load: not finite is an error, not a NaN run
    "constant division by zero": (V, V.replace("/tau :", "/tau/(1 - 1) :"), 4,
                                  ["divides by zero ((1 - 1) is 0)"]),
    "constant overflow": (SUB, "v_inf = v_rest + R*I*exp(1000) : mV", 6,
                          ["exp(1000) is inf", "finite"]),
    "constant nan": (SUB, "v_inf = v_rest + R*I*log(-1) : mV", 6, ["log(-1) is nan"]),
    # 10**10**10 once hung in sympy, which computed the integer exactly
    "power tower": (SUB, "v_inf = v_rest + R*I*10**10**10 : mV", 6,
                    ["(10 ** (10 ** 10)) is inf"]),
    # a sum of 201 terms nests 201 deep; 200 is the limit (was 60: a 61-term sum)
    "too deep": (SUB, "v_inf = v_rest + R*I" + " + v" * 200 + " : mV", 6,
                 ["nested more than 200 levels deep", "split it into subexpressions"]),
    # names the run adds beside the model's variables: a state 'input' was recorded as the
    # injected current, one 'refrac' clobbered by the refractory counter (silently)
    "state named input": (W, "dinput/dt = -input/tau_w : 1", 5,
                          ["'input' is the name of a variable the run adds"]),
    "subexpression named refrac": (SUB, "refrac = v_rest + R*I : mV", 6,
                                   ["'refrac' is the name of a variable the run adds"]),
    "state named g_syn0": (W, "dg_syn0/dt = -g_syn0/tau_w : 1", 5,
                           ["'g_syn0' is the name of a variable the run adds"]),
    "state without its equation": (W + "\n", "", 4, ["unknown name 'w' in the equation of v",
                                                   "It has an initial value in init",
                                                   "'dw/dt = ... : unit'"]),
    # what 'equations: >' makes of two lines (was: "syntax error ... invalid syntax")
    "two equations on a line": (W, W + " " + SUB, 5, ["more than one equation",
                                                      "'equations: |' keeps the lines"]),
    # Brian2's habits, each with what to write here instead (was: a bare "unknown name
    # 'ms'", "invalid syntax", "unknown unit 'mV (unless refractory)'", "expected 'dx/dt =")
    "unit as a name": (V, V.replace("/tau :", "/(10*ms) :"), 4,
                       ["unknown name 'ms'", "ms is a unit (a time)",
                        "a constant with a unit is a parameter"]),
    "quantity in an equation": (SUB, "v_inf = v_rest + R*I + 1 mV : mV", 6,
                                ["'1 mV' is a quantity with a unit",
                                 "params: {k: 1 mV}"]),
    "brian2 flag": (V, V + " (unless refractory)", 4,
                    ["flags such as '(unless refractory)'", "write the unit alone (': mV')"]),
    "brian2 parameter line": (SUB, "g_L : siemens", 6,
                              ["'g_L : siemens' declares a parameter in Brian2",
                               "params: {g_L: ...}"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_equation_names_its_line(spikesim_cli, tmp_path, case):
    old, new, line, needles = CASES[case]
    cfg = write(tmp_path, TEMPLATE.replace(old, new))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], f"cfg.yaml:{line}:", "model.equations",
                 *needles)


def test_equations_on_the_command_line(spikesim_cli, tmp_path):
    """YAML reads an unquoted 'dv/dt = ... : mV' as a mapping (the ': ' before the unit):
    the message says so and how to quote it (was: "expected the equations as text"); quoted,
    the override is a model."""
    cfg = write(tmp_path, TEMPLATE)
    eq = "dv/dt = (v_rest - v + R*I)/tau : mV"
    expect_error(spikesim_cli, tmp_path, ["validate", cfg, f"model.equations={eq}"],
                 "model.equations: YAML read 'dv/dt = (v_rest - v + R*I)/tau : mV' as a "
                 "mapping", f"'model.equations=\"{eq}\"'")
    cfg = write(tmp_path, """\
        model:
          type: equations
          equations: |
            dv/dt = (v_rest - v)/tau : mV
          params: {v_rest: -65 mV, tau: 10 ms}
          init: {v: -60 mV}
        simulation: {duration: 1.0, dt: 0.1}
        """)
    code, out, err = spikesim_cli("validate", cfg,
                                  'model.equations="dv/dt = (v_rest - v)/tau/2 : mV"')
    assert code == 0, err
    assert "dv/dt = (v_rest - v)/tau/2 : mV" in out


def test_quantities_without_a_space_in_threshold_and_reset(spikesim_cli, tmp_path):
    """'-50mV' is a quantity in threshold and reset, as '10ms' is in the config (was: syntax
    error, invalid decimal literal); '1e5' stays the number 1e5, not 1 of a unit 'e5'."""
    cfg = write(tmp_path, TEMPLATE.replace("threshold: v > v_th", "threshold: v > -50mV")
                .replace(", v_th: -50 mV", "").replace("w += 0.1 nA", "w += 0.1nA"))
    code, out, err = spikesim_cli("validate", cfg)
    assert code == 0, err
    assert "reset         v = v_rest; w += 0.1nA" in err, err
    expect_error(spikesim_cli, tmp_path, ["validate", cfg, "model.threshold=v > 1e5"],
                 "100000.0 is a plain number, expected a voltage")


def test_an_input_that_reaches_nothing(spikesim_cli, tmp_path):
    """A current that no equation uses, or an input beside a model with no current: the
    input would change nothing (was accepted silently, exit 0)."""
    no_i = TEMPLATE.replace(V, V.replace(" + R*I", "")).replace(SUB, "v_inf = v_rest : mV")
    err = expect_error(spikesim_cli, tmp_path, ["run", write(tmp_path, no_i)],
                       "cfg.yaml:7: model.current: no equation uses the current 'I'",
                       "current: null")
    assert len(err.strip().splitlines()) == 1, err
    cfg = write(tmp_path, no_i.replace("  current: {name: I, unit: nA}\n", ""))
    expect_error(spikesim_cli, tmp_path, ["run", cfg],
                 "cfg.yaml:12: input: model equations declares no injected current",
                 "or remove input")
    code, out, err = spikesim_cli("validate", cfg, "input=null")
    assert code == 0, err
    # its resolved config (what run --from reads) says input: [], and is valid too
    assert "\ninput: []\n" in out
    code, out, err = spikesim_cli("validate", write(tmp_path, out, "resolved.yaml"))
    assert code == 0, err


def test_a_threshold_joining_comparisons_with_numbers(spikesim_cli, tmp_path):
    """'v > 1 and w < 2' (plain-number states): a number before 'and' is no quantity of a
    unit 'and' (was: syntax error, in the very example the messages give)."""
    cfg = write(tmp_path, "model: {type: equations, file: fitzhugh_nagumo}\n"
                          "simulation: {duration: 1.0, dt: 0.1}\n")
    for thr in ("v > 1 and w < 2", "v > 1 or not w > 2", "v > 1.5e0 and w < 2"):
        code, out, err = spikesim_cli("validate", cfg, f"model.threshold={thr}")
        assert code == 0, err
        assert f"threshold     {thr}\n" in err, err


def test_a_parameter_named_with_the_micro_sign(spikesim_cli, tmp_path):
    """Python's parser reads the micro sign U+00B5 as the Greek mu U+03BC (NFKC): a parameter
    '\u00b5' used in an equation was an "unknown name '\u03bc'" there; now one message at the
    parameter, with the name to write."""
    text = TEMPLATE.replace("tau: 10 ms", "tau: 10 ms, \u00b5: 1.0").replace(
        V, V.replace("/tau :", "/tau*\u00b5 :"))
    err = expect_error(spikesim_cli, tmp_path, ["run", write(tmp_path, text)],
                       "cfg.yaml:8: model.params.\u00b5:", "read as '\u03bc'",
                       "name the parameter '\u03bc'")
    assert len(err.strip().splitlines()) == 1, err


def test_a_long_sum_is_a_model(tmp_path):
    """A sum of 150 terms (a polynomial, many currents) deeper than the old limit of 60
    runs, through every recursive pass: units, sympy (exp_euler) and the compiled step;
    150 equal terms k*(E - v) make dv/dt = 150 k (E - v), v(t) exact."""
    import numpy as np

    import spikesim

    cfg = {"model": {"type": "equations",
                     "equations": "dv/dt = " + " + ".join(["k*(E - v)"] * 150)
                                  + " : mV\n",
                     "params": {"E": "-65 mV", "k": "0.0001 1/ms"},
                     "init": {"v": "-70 mV"}},
           "simulation": {"duration": 2.0, "dt": 0.1, "integrator": "exp_euler",
                          "precision": "float64"},
           "record": {"variables": ["v"]}}
    r = spikesim.load(spikesim.run(cfg, output=tmp_path / "long.h5"))
    v = r.trace("v").data[:, 0]
    np.testing.assert_allclose(v[-1], -65 - 5 * np.exp(-2.0 * 150 * 1e-4), rtol=0, atol=1e-9)


def test_a_line_in_error_still_defines_its_name(spikesim_cli, tmp_path):
    """The syntax error in w's line is the one message: the line defines w, so v's use of it
    is not also reported as an unknown name."""
    cfg = write(tmp_path, TEMPLATE.replace(W, "dw/dt = (a*(v - v_rest) - w/tau_w : nA"))
    err = expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:5:", "syntax error")
    assert "unknown name" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    # a name no line defines is still unknown alongside the syntax error
    cfg = write(tmp_path, TEMPLATE.replace(W, "dw/dt = (a*(v - v_rest) - w/tau_w : nA")
                .replace("tau :", "taau :"))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "syntax error", "unknown name 'taau'")


def test_a_parameter_without_unit_is_named_with_its_line(spikesim_cli, tmp_path):
    """tau: 10 is a plain number, so v's equation comes out a voltage: the message names the
    equation's line and the parameter's."""
    cfg = write(tmp_path, TEMPLATE.replace("tau: 10 ms", "tau: 10"))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:4:", "differ in dimension",
                 "plain numbers: tau (", "cfg.yaml:8)", "give them their unit")


#: mistakes in the other keys: (what to replace, by what, line, words)
KEY_CASES = {
    "threshold name": ("threshold: v > v_th", "threshold: v > v_thr", 10,
                       ["model.threshold", "Did you mean 'v_th'"]),
    # difflib alone saw no likeness between 'V' and 'v' (with V1..V4 it offered 'V4')
    "threshold name in another case": ("threshold: v > v_th", "threshold: V > v_th", 10,
                                       ["model.threshold", "unknown name 'V'",
                                        "Did you mean 'v'?"]),
    "threshold dimension": ("threshold: v > v_th", "threshold: v > 1 nA", 10,
                            ["compares different dimensions"]),
    # a 0 written with a unit keeps it (the bare 0 takes any unit): both were accepted
    "threshold dimension of a zero": ("threshold: v > v_th", "threshold: v > 0 nA", 10,
                                      ["compares different dimensions",
                                       "0.0 is a current (nA), expected a voltage (mV)"]),
    "reset dimension of a zero": ("reset: v = v_rest", "reset: v = 0 nA", 11,
                                  ["reset of v", "0.0 is a current (nA)"]),
    "reset target": ("reset: v = v_rest", "reset: vv = v_rest", 11,
                     ["'vv' is not one", "Did you mean 'v'"]),
    "reset dimension": ("w += 0.1 nA", "w += 0.1 mV", 11, ["reset of w"]),
    "missing init": ("init: {v: -65 mV, w: 0 nA}", "init: {v: -65 mV}", 9,
                     ["no initial value for w"]),
    "parameter without value": ("tau_w: 100 ms", "tau_w: null", 8, ["model.params.tau_w"]),
    "parameter unit": ("tau_w: 100 ms", "tau_w: 100 mss", 8, ["unknown unit"]),
    "current shape": ("current: {name: I, unit: nA}", "current: I", 7, ["model.current"]),
    "preset": ("  type: equations\n", "  type: equations\n  preset: RS\n", 3,
               ["no presets"]),
    "init expression name": ("init: {v: -65 mV, w: 0 nA}", "init: {v: -65 mV, w: v_rst/R}", 9,
                             ["model.init.w", "Did you mean 'v_rest'"]),
    "init of a subexpression": ("init: {v: -65 mV, w: 0 nA}", "init: {v: -65 mV, w: 0 nA, "
                                "v_inf: 0 mV}", 9, ["'v_inf' is a subexpression",
                                                    "takes no initial value"]),
    "init expression cycle": ("init: {v: -65 mV, w: 0 nA}", "init: {v: w*R, w: v/R}", 9,
                              ["depend on each other"]),
    "parameter used nowhere": ("params: {v_rest: -65 mV,", "params: {v_rset: 1 mV, v_rest: -65 mV,",
                               8, ["model.params.v_rset", "used nowhere",
                                   "Did you mean 'v_rest'"]),
    "init expression divides by zero": ("init: {v: -65 mV, w: 0 nA}",
                                        "init: {v: -65 mV, w: v_rest/R/0}", 9,
                                        ["model.init.w", "divides by zero"]),
    "misspelt key": ("threshold: v > v_th", "treshold: v > v_th", 10,
                     ["unknown key 'treshold'", "Did you mean 'threshold'"]),
    "refractory unit": ("reset: v = v_rest; w += 0.1 nA",
                        "reset: v = v_rest; w += 0.1 nA\n  refractory: 2 mV", 12,
                        ["model.refractory", "a time"]),
    "reset without threshold": ("threshold: v > v_th", "threshold: null", 11,
                                ["model.reset", "without a threshold", "reset: null"]),
    "reset syntax": ("reset: v = v_rest; w += 0.1 nA", "reset: v == v_rest", 11,
                     ["'==' compares"]),
    # the current's name follows a parameter's rules: 't' was silently the time in the
    # equations, 'exp' both the function and the current
    "current named t": ("current: {name: I,", "current: {name: t,", 7,
                        ["model.current.name", "'t' cannot be the current's name"]),
    "current named exp": ("current: {name: I,", "current: {name: exp,", 7,
                          ["model.current.name", "'exp' is a function name"]),
    "current not a name": ("current: {name: I,", "current: {name: 'I 2',", 7,
                           ["model.current.name", "'I 2' cannot be the current's name"]),
    # v steps past v_th between two steps: an equality would (almost) never spike
    "threshold on an equality": ("threshold: v > v_th", "threshold: v == v_th", 10,
                                 ["model.threshold", "an equality (==) on a variable",
                                  "e.g. 'v > v_th'"]),
    "unit as a name in reset": ("w += 0.1 nA", "w += 0.1*nA", 11,
                                ["model.reset", "'nA' is a unit (a current), not a name",
                                 "'-65 mV', not '-65*mV'"]),
}


@pytest.mark.parametrize("case", list(KEY_CASES))
def test_bad_model_key_names_its_line(spikesim_cli, tmp_path, case):
    old, new, line, needles = KEY_CASES[case]
    assert old in TEMPLATE
    cfg = write(tmp_path, TEMPLATE.replace(old, new))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], f"cfg.yaml:{line}:", *needles)


#: the cases above whose one mistake used to bring a second, false message: the parameter
#: that the threshold or refractory in error names was also "used nowhere"; the current
#: with a bad name, also an "unknown name" in the equations
ONE_MESSAGE = {
    "threshold syntax": ("threshold: v > v_th", "threshold: v > (v_th", ["syntax error"]),
    "threshold not a condition": ("threshold: v > v_th", "threshold: v + v_th",
                                  ["expected a condition"]),
    "threshold unknown unit": ("threshold: v > v_th", "threshold: v > v_th + 1 mVV",
                               ["unknown unit 'mVV'"]),
    "refractory parameter not a time": ("params: {v_rest", "params: {t_ref: 2 mV, v_rest",
                                        ["model.refractory", "parameter t_ref is a voltage",
                                         "a refractory period is a time"]),
    "current not a name": ("current: {name: I,", "current: {name: 'I 2',",
                           ["model.current.name"]),
    # an equation broken over two lines: one message at its first (was two: "missing the
    # unit" there and "expected 'dx/dt = ...'" on the next)
    "equation over two lines": (V, "dv/dt = (v_rest - v + R*I\n      - R*w)/tau : mV",
                                ["cfg.yaml:4:", "goes on over the next line"]),
    "equation continued with a backslash": (V, "dv/dt = (v_rest - v + R*I - R*w) \\\n"
                                               "      /tau : mV",
                                            ["cfg.yaml:4:", "goes on over the next line"]),
}


@pytest.mark.parametrize("case", list(ONE_MESSAGE))
def test_one_mistake_gives_one_message(spikesim_cli, tmp_path, case):
    old, new, needles = ONE_MESSAGE[case]
    text = TEMPLATE.replace(old, new)
    if "t_ref" in new:
        text = text.replace("w += 0.1 nA", "w += 0.1 nA\n  refractory: t_ref")
    cfg = write(tmp_path, text)
    err = expect_error(spikesim_cli, tmp_path, ["run", cfg], *needles)
    assert len(err.strip().splitlines()) == 1, err


def test_exp_euler_refused_without_a_linear_variable(spikesim_cli, tmp_path):
    cfg = write(tmp_path, """\
        model:
          type: equations
          equations: |
            dv/dt = (v*v*k - v)/tau : mV
          params: {tau: 10 ms, k: 0.01 1/mV}
          init: {v: 1 mV}
        simulation: {duration: 5.0, dt: 0.1, integrator: exp_euler}
        """)
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:7:", "cannot use exp_euler",
                 "Use one of: euler, rk2, rk4")


def test_model_file_line_and_missing_file(spikesim_cli, tmp_path):
    (tmp_path / "mine.yaml").write_text(textwrap.dedent("""\
        citation: nobody
        equations: |
          dv/dt = -v/tauu : mV
        params: {tau: 10 ms}
        init: {v: 1 mV}
        """))
    cfg = write(tmp_path, "model: {type: equations, file: mine.yaml}\n"
                          "simulation: {duration: 1.0, dt: 0.1}\n")
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "mine.yaml:3:", "unknown name 'tauu'",
                 "Did you mean 'tau'")
    cfg = write(tmp_path, "model: {type: equations, file: morris_lecarr}\n"
                          "simulation: {duration: 1.0, dt: 0.1}\n")
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:1:", "no model file",
                 "Did you mean 'morris_lecar'")


def test_quoted_equations_name_the_line_of_their_key(spikesim_cli, tmp_path):
    """Equations written as a quoted string with \\n escapes: the error is at the line of the
    equations key, naming the equation's line within the text (was: the key's line + 2, as
    if the text were a block scalar); a literal block, blank lines included, keeps the line
    of the equation in the file; in a model file too."""
    params = "  params: {tau: 10 ms}\n  init: {v: -65 mV}\nsimulation: {duration: 1, dt: 0.1}\n"
    cfg = write(tmp_path, "name: q\n\nmodel:\n  type: equations\n"
                          '  equations: "dv/dt = -v/tau : mV\\nx = v +* 2 : mV"\n' + params)
    err = expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:5: model.equations: "
                       "line 2 of the equations: syntax error")
    assert len(err.strip().splitlines()) == 1, err
    # a name defined twice names the other line the same way (was: "line 1 of the block")
    cfg = write(tmp_path, "model:\n  type: equations\n"
                          '  equations: "dv/dt = -v/tau : mV\\ndv/dt = -v/tau : mV"\n' + params)
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:3: model.equations: line 2 "
                 "of the equations: 'v' is defined twice (also at line 1 of the equations)")
    cfg = write(tmp_path, "model:\n  type: equations\n  equations:\n    |\n\n"
                          "      dv/dt = -v/tau : mV\n      x = v +* 2 : mV\n" + params)
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:7: model.equations: syntax")
    (tmp_path / "mine.yaml").write_text('citation: nobody\n\nequations: "dv/dt = -v/tau : '
                                        'mV\\n\\nx = v + tauu : mV"\n'
                                        "params: {tau: 10 ms}\ninit: {v: 1 mV}\n")
    cfg = write(tmp_path, "model: {type: equations, file: mine.yaml}\n"
                          "simulation: {duration: 1.0, dt: 0.1}\n")
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "mine.yaml:3: model.equations: line 3 "
                 "of the equations: unknown name 'tauu'")


def test_a_zero_that_the_equations_divide_by_is_refused(spikesim_cli, tmp_path):
    """tau: 0 where dv/dt = (...)/tau: exit 2 at the parameter's key (was: validated, then a
    numerical blow-up at the first step, exit 1, a .partial kept); per neuron, swept, a
    linspace through 0 and in a model file too. A 0 elsewhere (a factor: a, R) is a model."""
    cfg = write(tmp_path, TEMPLATE.replace("tau: 10 ms", "tau: 0 ms"))
    err = expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:8: model.params.tau: "
                       "must not be 0: the equation of v divides by it", "got '0 ms'")
    assert len(err.strip().splitlines()) == 1, err
    cfg = write(tmp_path, TEMPLATE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "model.params.tau_w=[100 ms, 0 s]"],
                 "override model.params.tau_w=[100 ms, 0 s]: model.params.tau_w: must not be "
                 "0: the equation of w divides by it")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "population.size=3",
                                          "model.params.tau={linspace: [-10 ms, 10 ms]}"],
                 "model.params.tau: must be > 0")  # a time constant (below 0, not just 0)
    # a divisor that is no time may be negative, not 0: drawn, swept, a range through 0
    k = TEMPLATE.replace("- R*w)/tau : mV", "- R*w)/(k*tau) : mV").replace("tau: 10 ms",
                                                                        "tau: 10 ms, k: 1")
    expect_error(spikesim_cli, tmp_path, ["run", write(tmp_path, k), "population.size=3",
                                          "model.params.k={linspace: [-1, 1]}"],
                 "model.params.k: must not be 0", "gives 0 for neuron 1")
    cfg = write(tmp_path, k + "sweep:\n  axes:\n    model.params.k: [-1, 0]\n")
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:16: sweep.axes.model\\."
                 "params\\.k: must not be 0: the equations divide by it")
    cfg = write(tmp_path, k + "sweep:\n  axes:\n    model.params.k: "
                              "{start: -1, stop: 1, num: 5}\n")
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:16: sweep.axes.", "reaches 0")
    (tmp_path / "mine.yaml").write_text("equations: |\n  dv/dt = -v/tau : mV\n"
                                        "params: {tau: 0 ms}\ninit: {v: 1 mV}\n")
    cfg = write(tmp_path, "model: {type: equations, file: mine.yaml}\n"
                          "simulation: {duration: 1.0, dt: 0.1}\n")
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "mine.yaml:3: params.tau: must not be "
                 "0: the equation of v divides by it")
    # a product below the fraction bar: 2*tau, tau*R, tau**2 (was: validated, then NaN)
    for rhs in ("(v_rest - v)/(2*tau)", "(v_rest - v)*R/(tau*R)",
                "(v_rest - v) * tau_w / tau**2", "-(v - v_rest)/(-(tau * 3))"):
        cfg = write(tmp_path, TEMPLATE.replace("(v_rest - v + R*I - R*w)/tau", rhs)
                    .replace("tau: 10 ms", "tau: 0 ms"))
        expect_error(spikesim_cli, tmp_path, ["validate", cfg], "cfg.yaml:8: "
                     "model.params.tau: must not be 0: the equation of v divides by it")
    code, _, err = spikesim_cli("validate", write(tmp_path, TEMPLATE), "model.params.a=0 uS",
                                "model.params.R=[0 MOhm, 1 MOhm]", "population.size=2")
    assert code == 0, err


def test_override_of_a_file_parameter_unknown(spikesim_cli, tmp_path):
    cfg = write(tmp_path, "model: {type: equations, file: lif}\n"
                          "simulation: {duration: 1.0, dt: 0.1}\n")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "model.params.tau=3"],
                 "model.params.tau", "Did you mean 'tau_m'")
    # the same misspelt override of a model written inline (was silently added, unused)
    cfg = write(tmp_path, TEMPLATE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "model.params.tau_ww=3"],
                 "override model.params.tau_ww=3: model.params.tau_ww:", "used nowhere",
                 "Did you mean 'tau_w'")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("v+-*/()**,.<>=! 0123456789eaxpw_[]':;\n^")
                                + ["exp", "where", "tanh", " and ", "__", "e5", "lambda",
                                   " mV", "nA/cm2"]), max_size=40).map("".join))
def test_random_expressions_give_parse_problems_only(text):
    from spikesim.equations.parse import (ParseProblem, parse_equations, parse_expression,
                                          parse_reset)

    for fn in (parse_expression, lambda s: parse_expression(s, condition=True,
                                                            quantities=True), parse_reset):
        try:
            fn(text)
        except ParseProblem:
            pass
    parse_equations(text)  # collects its problems, raises nothing


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_random_equation_blocks_through_the_loader(text):
    """Any text as the equations block of a config: a ConfigError, or a model."""
    from spikesim.config.load import load
    from spikesim.errors import ConfigError

    cfg = {"model": {"type": "equations", "equations": "dv/dt = " + text + " : mV",
                     "params": {"tau": "10 ms"}, "init": {"v": 0.0}},
           "simulation": {"duration": 1.0, "dt": 0.1}}
    try:
        load(None, data=cfg)
    except ConfigError:
        pass


def test_recording_a_subexpression_of_the_current_names_record_variables(spikesim_cli,
                                                                        tmp_path):
    """v_inf uses the current: recording it is refused at record.variables, its file and
    line (was: at model.equations, the line of the block's key)."""
    cfg = write(tmp_path, TEMPLATE + "record:\n  variables:\n    - v\n    - v_inf\n")
    err = expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:17: record.variables.1:",
                       "v_inf depends on the input current or t")
    assert "model.equations" not in err, err
    cfg = write(tmp_path, TEMPLATE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "record.variables=[w, v_inf]"],
                 "override record.variables=[w, v_inf]: record.variables.1:")


def test_recordable_lists_the_subexpressions(spikesim_cli):
    """A misspelt recorded variable: the did-you-mean and the list include the model's
    subexpressions (recordable when they depend on neither the current nor t)."""
    from pathlib import Path

    ml = Path(__file__).resolve().parent.parent / "configs" / "morris_lecar.yaml"
    code, _, err = spikesim_cli("validate", ml, "record.variables=[m_infx]")
    assert code == 2 and "Did you mean 'm_inf'?" in err, err
    assert "Recordable: v, w, m_inf, w_inf, tau_w, input" in err, err


def test_a_capacitance_and_a_time_constant_must_be_positive(spikesim_cli, tmp_path):
    """C < 0 (given, or drawn by a normal generator) ran: the leak then pushes v away from
    rest, a wrong result with exit 0. A capacitance (and one per area) is > 0, as the
    built-in models' C is; a capacitance elsewhere in the units (a 0 nF offset) stays free."""
    model = TEMPLATE.replace("dv/dt = (v_rest - v + R*I - R*w)/tau : mV",
                             "dv/dt = (v_rest - v + R*I - R*w)/(R*C) : mV").replace(
        "tau: 10 ms,", "C: 1 nF,")
    cfg = write(tmp_path, model)
    assert spikesim_cli("validate", cfg)[0] == 0
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "model.params.C=-1 nF"],
                 "override model.params.C=-1 nF: model.params.C: must be > 0, got -1.0")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "population.size=10",
                                          "model.params.C={normal: {mean: 1 nF, std: 2 nF}}"],
                 "model.params.C: must be > 0; the generator", "neurons out of range")
    per_area = model.replace("(R*C) : mV", "(R*C*A) : mV").replace("C: 1 nF,",
                                                                    "C: 1 uF/cm2, A: 0.01 cm2,")
    cfg = write(tmp_path, per_area)
    assert spikesim_cli("validate", cfg)[0] == 0
    expect_error(spikesim_cli, tmp_path, ["validate", cfg, "model.params.C=-1 uF/cm2"],
                 "model.params.C: must be > 0")
    # a time constant too (a time the equations divide by): w grew where it was to decay
    cfg = write(tmp_path, TEMPLATE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "model.params.tau_w=-15 ms"],
                 "override model.params.tau_w=-15 ms: model.params.tau_w: must be > 0")
