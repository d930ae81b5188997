"""Every user mistake in a config, an override or an output path: through the real CLI
(``spikesim.cli.main``), exit 2, one message that names where, the key and what was
expected, nothing created or changed on disk, and nothing compiled."""

from __future__ import annotations

import os
import textwrap

import pytest
import yaml


BASE = """\
model:
  type: hodgkin_huxley
  params: {g_K: 36.0}
population:
  size: 3
simulation:
  duration: 10.0
  dt: 0.01
  integrator: rk4
input:
  type: step
  amplitude: 10.0
  start: 1.0
record:
  variables: [v]
  every: 10
"""


@pytest.fixture
def spikesim_cli(spikesim_cli, monkeypatch):
    """The in-process CLI of conftest, failing the test if anything gets compiled or a file
    gets opened for writing."""
    import spikesim.sim.engine
    import spikesim.io.writer

    def forbidden(*a, **k):
        raise AssertionError("a config error must be found before compiling or writing")

    monkeypatch.setattr(spikesim.sim.engine.Engine, "compile", forbidden)
    monkeypatch.setattr(spikesim.io.writer.Writer, "__init__", forbidden)
    return spikesim_cli


def snapshot(folder):
    return {p: (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
            for p in folder.rglob("*")}


def write(tmp_path, text, name="cfg.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def expect_error(spikesim_cli, tmp_path, argv, *needles):
    """Exit 2, every needle in the one-paragraph message, no traceback, no file changed."""
    before = snapshot(tmp_path)
    code, out, err = spikesim_cli(*argv)
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith("error:") or err.startswith("Usage:"), err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert snapshot(tmp_path) == before
    return err


# -- the YAML itself --------------------------------------------------------------------
def test_malformed_yaml_names_line_and_column(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE.replace("params: {g_K: 36.0}", "params: {g_K: [1, 2}"))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:3:22", "malformed YAML")


def test_duplicate_key(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE + "population:\n  size: 4\n")
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:17", "duplicate key")


def test_duplicate_key_in_an_override(spikesim_cli, tmp_path):
    """A duplicate in an override's flow mapping was taken silently (the last one won)."""
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "model.params={g_K: 30, g_K: 36}"],
                 "override 'model.params={g_K: 30, g_K: 36}': model.params.g_K: duplicate key")


def test_merge_key_is_overridden_not_duplicated(spikesim_cli, tmp_path):
    """A key beside a merge key (``<<: *s``) overrides the merged one (YAML's merge rule); a
    key given twice in the mapping itself is still a duplicate."""
    from spikesim.config.load import load

    merged = BASE.replace("input:\n  type: step\n  amplitude: 10.0\n  start: 1.0\n",
                          "input:\n  - &s {type: step, amplitude: 10.0, start: 1.0}\n"
                          "  - <<: *s\n    amplitude: 5.0\n")
    assert merged != BASE
    cfg = write(tmp_path, merged)
    assert [p.amplitude for p in load(cfg).cfg.input] == [10.0, 5.0]
    cfg = write(tmp_path, merged.replace("amplitude: 5.0\n",
                                         "amplitude: 5.0\n    amplitude: 6.0\n"))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:14", "input.1.amplitude",
                 "duplicate key")


def test_config_not_a_mapping(spikesim_cli, tmp_path):
    cfg = write(tmp_path, "- 1\n- 2\n")
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:1", "mapping")


def test_missing_config_file(spikesim_cli, tmp_path):
    expect_error(spikesim_cli, tmp_path, ["run", "nope.yaml"], "nope.yaml", "not found")


def test_exponent_without_dot_is_a_number(tmp_path):
    """YAML 1.1 reads ``1e-3`` as a string; spikesim reads it as the number people mean."""
    from spikesim.config.load import load

    cfg = write(tmp_path, BASE.replace("dt: 0.01", "dt: 1e-2"))
    assert load(cfg).cfg.simulation.dt == 0.01


@pytest.mark.parametrize("text, value", [
    ("010", 10), ("0o10", 8), ("0x10", 16), ("-.5", -0.5), ("+.5", 0.5)])
def test_numbers_read_as_written(tmp_path, text, value):
    """YAML 1.1 reads ``010`` as octal 8 and makes strings of ``-.5``; spikesim reads the
    number written (YAML 1.2), octal only with ``0o``."""
    from spikesim.config.load import load

    cfg = write(tmp_path, BASE.replace("amplitude: 10.0", f"amplitude: {text}"))
    assert load(cfg).cfg.input[0].amplitude == value


def test_sexagesimal_is_not_a_number(spikesim_cli, tmp_path):
    """YAML 1.1 reads ``1:30`` as 90 (base 60): a run of 90 steps nobody asked for."""
    cfg = write(tmp_path, BASE.replace("dt: 0.01", "dt: 1:30"))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:8", "simulation.dt", "'1:30'")


# -- unknown keys, everywhere, with a suggestion ----------------------------------------
@pytest.mark.parametrize("old, new, where, hint", [
    ("simulation:", "simulaton:", "cfg.yaml:6", "'simulation'"),
    ("  params:", "  parms:", "cfg.yaml:3", "'params'"),
    ("  size: 3", "  sise: 3", "cfg.yaml:5", "'size'"),
    ("  dt: 0.01", "  dtt: 0.01", "cfg.yaml:8", "'dt'"),
    ("  amplitude: 10.0", "  amplitud: 10.0", "cfg.yaml:12", "'amplitude'"),
    ("  every: 10", "  evry: 10", "cfg.yaml:16", "'every'"),
])
def test_unknown_key_suggests(spikesim_cli, tmp_path, old, new, where, hint):
    cfg = write(tmp_path, BASE.replace(old, new))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], where, "unknown key",
                 f"Did you mean {hint}")


def test_misspelt_required_key_is_not_also_reported_missing(spikesim_cli, tmp_path):
    """'durration' left 'duration' missing, and the message began "cfg.yaml:7:
    simulation.duration: required key is missing" (pointing at the typo's line), the typo
    second: one problem, one line, as README's example shows."""
    cfg = write(tmp_path, BASE.replace("  duration: 10.0", "  durration: 10.0"))
    err = expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:7: simulation.durration:",
                       "unknown key 'durration'. Did you mean 'duration'?")
    assert "missing" not in err and err.count("\n") <= 1, err
    # a missing key that no unknown key resembles is still reported
    cfg = write(tmp_path, BASE.replace("  duration: 10.0", "  length: 10.0"))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "simulation.length: unknown key 'length'",
                 "simulation.duration: required key is missing")


def test_unknown_key_in_override_and_output_section(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "output.pth=x.h5"],
                 "override output.pth=x.h5", "Did you mean 'path'")


def test_unknown_model_parameter(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE.replace("g_K: 36.0", "gK: 36.0"))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:3", "model.params.gK",
                 "Did you mean 'g_K'")


# -- types and ranges -------------------------------------------------------------------
@pytest.mark.parametrize("override, needles", [
    ("simulation.dt=abc", ["simulation.dt", "expected a number", "'abc'"]),
    ("population.size=2.5", ["population.size", "integer", "2.5"]),
    ("record.spikes=maybe", ["record.spikes", "true or false"]),
    ("model=3", ["model", "mapping", "got 3"]),
    ("simulation.dt=0", ["simulation.dt", "> 0", "got 0"]),
    ("simulation.dt=-0.1", ["simulation.dt", "> 0", "-0.1"]),
    ("simulation.duration=0.001", ["simulation.duration", "shorter than one step"]),
    ("population.size=0", ["population.size", ">= 1", "got 0"]),
    ("record.every=0", ["record.every", ">= 1", "got 0"]),
    ("record.start=20", ["record.start", "after the run ends"]),
    ("record.stop=20", ["record.stop", "after the run ends"]),
    ("record.start=-1", ["record.start", ">= 0"]),
    ("model.params.g_K={normal: {mean: 36, std: -1}}", ["model.params.g_K", "std", ">= 0"]),
    # a normal generator is unbounded: its draws are checked (a negative g_K ran, exit 0)
    ("model.params.g_K={normal: {mean: 0, std: 36}}", ["model.params.g_K", "must be >= 0",
                                                       "drew -"]),
    ("model.params.g_K=[30, 36]", ["model.params.g_K", "population.size = 3", "got 2"]),
    ("model.params.g_K=-1", ["model.params.g_K", ">= 0", "-1"]),
    ("model.type=hodgkin_huxly", ["model.type", "unknown model", "'hodgkin_huxley'"]),
    ("model.preset=clasic", ["model.preset", "no preset", "'classic'"]),
    ("input.type=stepp", ["input", "unknown input type", "'step'"]),
    ("simulation.integrator=rk5", ["simulation.integrator", "'rk4'", "'rk5'"]),
    ("record.variables=[vv]", ["record.variables", "no variable 'vv'", "'v'"]),
    ("model.init.vm=-70", ["model.init.vm", "no state variable", "'v'"]),
    ("record.neurons=[3]", ["record.neurons", "do not exist"]),
    ("sweep.axes.model\\.params\\.gK=[30, 36]", ["sweep.axes", "not a numeric key",
                                                 "'model.params.g_K'"]),
    # a sweep axis in neither form names both; in one form, that form's complaint alone
    ("sweep.axes.input\\.amplitude=5", ["sweep.axes.input\\.amplitude:", "a list of values",
                                        "{start: a, stop: b, num: n}", "got 5"]),
    ("sweep.axes.input\\.amplitude={values: [1, 2]}", [
        "sweep.axes.input\\.amplitude:", "a list of values", "got a mapping with keys values"]),
    ("sweep.axes.input\\.amplitude={start: 1, stop: 2}", [
        "sweep.axes.input\\.amplitude.num: required key is missing"]),
    ("sweep.axes.input\\.amplitude=[]", ["sweep.axes.input\\.amplitude: needs at least one"]),
])
def test_bad_value(spikesim_cli, tmp_path, override, needles):
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, override], f"override {override}",
                 *needles)


def test_bad_value_in_file_names_its_line(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE.replace("dt: 0.01", "dt: -0.01"))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:8", "simulation.dt", "> 0")


def test_integrator_the_model_cannot_use(spikesim_cli, tmp_path):
    cfg = write(tmp_path, """\
        model: {type: qif}
        simulation: {duration: 10, dt: 0.1, integrator: exp_euler}
        """)
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml:2", "simulation.integrator",
                 "cannot use exp_euler", "rk4")


def test_several_problems_reported_together(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    err = expect_error(spikesim_cli, tmp_path, ["run", cfg, "simulation.dt=0",
                                                "population.size=0"], "simulation.dt",
                       "population.size")
    assert err.count("override") == 2


def test_malformed_override(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "input.amplitude"], "KEY=VALUE")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "input.amplitude=[1,"], "not valid YAML")
    for item in ("nam\udcffe=x", "name=\udcff"):  # argv bytes not UTF-8, as Python keeps them
        err = expect_error(spikesim_cli, tmp_path, ["run", cfg, item], "not UTF-8 text")
        assert err.startswith("error: override "), err  # not a line of the file


def test_unknown_cli_option_is_a_usage_error(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "--nosuch"], "No such option")


# -- input files ------------------------------------------------------------------------
def test_missing_input_file(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE.replace("type: step", "type: file\n  path: nowhere.npy\n  dt: 0.1")
                .replace("  amplitude: 10.0\n  start: 1.0\n", ""))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml", "input.path", "nowhere.npy")


def test_unreadable_input_file(spikesim_cli, tmp_path):
    (tmp_path / "garbage.npy").write_bytes(b"not an npy file")
    cfg = write(tmp_path, BASE.replace("type: step", "type: file\n  path: garbage.npy\n  dt: 0.1")
                .replace("  amplitude: 10.0\n  start: 1.0\n", ""))
    expect_error(spikesim_cli, tmp_path, ["run", cfg], "cfg.yaml", "input.path", "garbage.npy")


# -- the output path --------------------------------------------------------------------
def test_output_folder_under_a_file(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    (tmp_path / "afile").write_text("x")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "-o", "afile/out.h5"], "afile",
                 "not a folder", "-o")


def test_output_folder_that_refuses_files(spikesim_cli, tmp_path):
    """/proc takes no new files, even from root (for whom permission bits do not count)."""
    if not os.path.isdir("/proc/self"):
        pytest.skip("needs Linux /proc")
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "-o", "/proc/spikesim/out.h5"],
                 "/proc", "not writable", "-o")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into write-protected folders")
def test_write_protected_folder(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        expect_error(spikesim_cli, tmp_path, ["run", cfg, "-o", locked / "out.h5"], "locked",
                     "not writable")
    finally:
        locked.chmod(0o755)


def test_existing_output_needs_force(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    (tmp_path / "out.h5").write_bytes(b"an earlier result")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "-o", "out.h5"], "out.h5 exists",
                 "--force")
    assert (tmp_path / "out.h5").read_bytes() == b"an earlier result"


def test_leftover_partial_needs_force(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    (tmp_path / "out.h5.partial").write_bytes(b"left by a crash")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "-o", "out.h5"], "out.h5.partial",
                 "--force")


def test_output_not_h5(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "-o", "out.txt"], ".h5")


def test_output_template_names_unknown_key(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "output.path=out/{model.params.gK}.h5"],
                 "output.path", "{model.params.gK}")


def test_gpu_asked_for_without_gpu(spikesim_cli, tmp_path):
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present")
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "--device", "gpu", "-o", "new/out.h5"],
                 "gpu")
    assert not (tmp_path / "new").exists()


# -- --from and --init-from -------------------------------------------------------------
def test_from_and_init_from_missing_files(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", "--from", "old.h5"], "--from old.h5",
                 "no such file")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "--init-from", "old.h5"],
                 "--init-from old.h5", "no such file")
    (tmp_path / "fake.h5").write_bytes(b"not hdf5")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "--init-from", "fake.h5"],
                 "--init-from fake.h5 is not an HDF5 file (no HDF5 signature)")


def test_init_from_incompatible_run(spikesim_cli, tmp_path):
    """A file with another model, or another number of neurons, cannot be continued."""
    import h5py

    from spikesim.io.writer import MAGIC

    def fake(name, model, n, status="complete"):
        with h5py.File(tmp_path / name, "w") as f:
            f.attrs.update(magic=MAGIC, model=model, n_neurons=n, population=model,
                           status=status)
            if status == "complete":
                for var in ("v", "m", "h", "n"):
                    f.create_dataset(f"state/{model}/{var}", data=[0.0] * n)

    fake("lif.h5", "lif", 3)
    fake("five.h5", "hodgkin_huxley", 5)
    fake("failed.h5", "hodgkin_huxley", 3, status="failed")
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "--init-from", "lif.h5"], "model 'lif'",
                 "hodgkin_huxley")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "--init-from", "five.h5"], "5 neurons",
                 "3")
    expect_error(spikesim_cli, tmp_path, ["run", cfg, "--init-from", "failed.h5"], "failed",
                 "only a completed run")


def test_validate_reports_the_same_errors(spikesim_cli, tmp_path):
    cfg = write(tmp_path, BASE)
    expect_error(spikesim_cli, tmp_path, ["validate", cfg, "simulation.dt=0"], "simulation.dt")


def test_base_config_is_valid(tmp_path):
    """The configs above fail because of their one mistake, not because BASE is wrong."""
    from spikesim.config.load import load
    from spikesim.sim.plan import make_plan

    plan = make_plan(load(write(tmp_path, BASE)))
    assert plan.n == 3 and yaml.safe_load(plan.config_yaml)["population"]["size"] == 3
