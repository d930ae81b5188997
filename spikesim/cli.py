"""The command line (SPEC section 1). Commands parse, call the library and exit with a code:
0 done, 2 bad usage or invalid config (nothing written), 1 the run failed (partial kept).
stdout carries only what a script needs (the path written, or requested data); everything
else goes to stderr."""

from __future__ import annotations

import json
import sys
from inspect import cleandoc
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from .errors import SpikesimError, UsageError

app = typer.Typer(
    name="spikesim",
    help="Simulate populations of spiking neurons from a YAML config; results go to HDF5.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
# highlight=False: rich's highlighter is slow on long text (a user's long value in a message)
err = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True)


def _path(value: str) -> Path:
    """A path given on the command line; an empty one (``-o ''``, an unset shell variable)
    is refused: ``Path('')`` is the current folder, where a run would then write."""
    if not value.strip():
        raise typer.BadParameter("an empty path; give a file (or folder) name")
    return Path(value)


OVERRIDES_HELP = ("KEY=VALUE overrides of config keys by dotted path, VALUE parsed as YAML: "
                  "input.amplitude=12.5  model.params.g_K=[30,36]  simulation.integrator=rk4")


def _load(config: Path, overrides: list[str], output: Optional[Path] = None):
    from .config.load import load
    from .sim.plan import make_plan

    return make_plan(load(config, overrides or []), output)


@app.command()
def run(
    config: Optional[Path] = typer.Argument(None, help="YAML config file (not with --from)",
                                            show_default=False, parser=_path),
    overrides: Optional[List[str]] = typer.Argument(None, help=OVERRIDES_HELP, show_default=False),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="output HDF5 path (default: output.path of "
                                               "the config)",
                                          parser=_path),
    device: Optional[str] = typer.Option(None, "--device", help="auto | cpu | gpu (overrides simulation.device)"),
    force: bool = typer.Option(False, "--force", help="replace an existing output file once the new run completes"),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="no progress bar (warnings are "
                               "still printed on stderr)"),
    from_file: Optional[Path] = typer.Option(
        None, "--from", help="re-run a past run from the config embedded in its HDF5 file "
                             "(KEY=VALUE overrides still apply; give a new path with -o)",
        parser=_path),
    init_from: Optional[Path] = typer.Option(
        None, "--init-from", help="start from the final state stored in a completed run's "
                                  "file (same model and number of neurons): a warm-up run "
                                  "once, reused; noise continues, time restarts at 0",
        parser=_path),
    shards: Optional[int] = typer.Option(
        None, "--shards", help="cut the run's neurons into K shards, each its own file in "
                               "the folder -o RUN_DIR/ (resumable; join with spikesim merge)"),
    shard: Optional[int] = typer.Option(
        None, "--shard", help="with --shards: run shard I only, here (a job-array task)"),
    executor: Optional[str] = typer.Option(
        None, "--executor", help="with --shards: local[:W] (W worker processes; default one "
                                 "per core or GPU) or dask[:ADDRESS] (a Dask scheduler; a "
                                 "LocalCluster when no address)"),
    merge_to: Optional[Path] = typer.Option(
        None, "--merge", help="with --shards (not --shard I): once every shard is complete, "
                              "merge them into this .h5 file (as spikesim merge, in this "
                              "process)", parser=_path),
):
    """Run a simulation and write its HDF5 file; prints the path written (the run folder
    for --shards)."""
    log = _log
    overrides = list(overrides or [])
    if device is not None:
        if device not in ("auto", "cpu", "gpu"):
            raise UsageError(f"--device must be auto, cpu or gpu, got {device!r}")
        overrides.append(f"simulation.device={device}")
    if shards is not None or shard is not None or executor is not None or merge_to is not None:
        from .cluster.run import run_cli

        print(run_cli(config, overrides, output, shards, shard, executor, force, quiet, log,
                      from_file=from_file, init_from=init_from, merge_to=merge_to))
        return
    start = None
    if from_file is not None:
        from .config.load import load
        from .sim.plan import make_plan
        from .io.resume import embedded_config

        if config is not None and "=" not in str(config):
            raise UsageError(f"give either a CONFIG file or --from FILE.h5, not both "
                             f"({config} and {from_file})")
        if config is not None:  # typer took the first override for CONFIG
            overrides.insert(0, str(config))
        data, info = embedded_config(from_file)
        _warn_versions(info["versions"], log)
        if info["analysis"]:  # its config is the analysis' input, not the analysis
            log(f"note: {from_file} is a file of `spikesim analyze {info['analysis'][0]}`; "
                f"this runs its stored config once, the analysis is not redone (run `spikesim "
                f"analyze {info['analysis'][0]} CONFIG` for that)")
        plan = make_plan(load(None, overrides, data=data,
                                   name=f"{from_file} (its stored config)"), output)
        start = info["init"]
    elif config is None:
        raise UsageError("give a CONFIG file (or --from FILE.h5 to re-run a past run)")
    else:
        plan = _load(config, overrides, output)
    if init_from is not None:
        from .io.resume import final_state

        start = final_state(init_from, plan)
    protect = [p for p in (from_file, init_from) if p is not None]
    protect += [p.with_name(p.name + ".partial") for p in protect]  # what --from FILE reads
    from .sim.runner import run_plan  # (JAX starts here; a sharded run's parent needs none)

    path = run_plan(plan, force=force, quiet=quiet, init_state=start, log=log, protect=protect)
    print(path)


def _log(message: str) -> None:
    """Warnings (and analyze's summary) to stderr; -q silences progress only (SPEC
    section 1)."""
    err.print(message, markup=False)


def _warn_versions(recorded: dict, log):
    """Say which versions differ from those a past run was made with (results may differ)."""
    from .io.writer import versions

    now = versions()
    for k, v in recorded.items():
        if k in now and now[k] != v:
            log(f"warning: that run was made with {k.removesuffix('_version')} {v}, this is "
                f"{now[k]}; results may differ slightly")


@app.command()
def analyze(
    kind: str = typer.Argument(..., help="rheobase | fi | prc | dt | patterns",
                               show_default=False),
    config: Path = typer.Argument(..., help="YAML config file: its population (and sweep) "
                                            "is characterised; rheobase, fi and prc replace "
                                            "its `input` by their own, dt and patterns run "
                                            "it as it is. patterns also takes the .h5 file "
                                            "of a run", show_default=False, parser=_path),
    overrides: Optional[List[str]] = typer.Argument(None, help=OVERRIDES_HELP + "; options "
                                                    "sit under analysis.KIND, e.g. "
                                                    "analysis.rheobase.tolerance=0.01",
                                                    show_default=False),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="output HDF5 path "
                                          "(default: output.path of the config with _KIND)",
                                          parser=_path),
    force: bool = typer.Option(False, "--force", help="replace an existing output file"),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="no progress bar or summary on "
                               "stderr (warnings are still printed)"),
):
    """Characterise every neuron of a config: rheobase (bisection), fi (f-I curve up and
    down, onset rate, type I/II), prc (phase-response curve), dt (spike-time convergence),
    patterns (tonic, adapting, bursting... by ISI criteria).
    One compiled program per analysis; results under /analysis/KIND in the HDF5 file
    (`spikesim inspect` / `plot` show them). Prints the path written."""
    from .analysis.run import analyze as run_analysis

    log = _log
    print(run_analysis(kind, config, overrides or [], output, force=force, quiet=quiet,
                       log=log))


@app.command()
def validate(
    config: Path = typer.Argument(..., help="YAML config file", show_default=False,
                                  parser=_path),
    overrides: Optional[List[str]] = typer.Argument(None, help=OVERRIDES_HELP, show_default=False),
    shards: Optional[int] = typer.Option(None, "--shards", help="also print the K shards' "
                                         "ranges and per-shard estimates (the time from a "
                                         "short run of the largest shard, here)"),
):
    """Check a config without running it: print the resolved config and estimates of steps,
    neurons, output size and memory."""
    from rich.markup import escape

    from .config.checks import size_text
    from .config.preflight import preflight

    plan = _load(config, overrides)
    if shards is not None:  # before the resolved config goes to stdout
        from .cluster.shards import check_shard_count

        check_shard_count(plan, shards)
    # what `run` checks before any work; an existing output is only a warning here, since
    # `run --force` or -o settles it
    preflight(plan, force=True)
    if Path(plan.output).exists():
        plan.warnings.append(f"{plan.output} exists: `spikesim run` needs --force (or "
                             f"output.overwrite: true) to replace it, or another path with -o")
    print(plan.config_yaml, end="")
    if getattr(plan.model, "definition", None) is not None:
        from .equations import describe

        for line in describe(type(plan.model), plan.params):
            err.print(line, markup=False, highlight=False)
    itemsize = 8 if plan.precision == "float64" else 4
    rec = plan.record
    report = rec.n_rows * len(rec.neurons) * len(rec.variables) * itemsize
    from .sim.engine import choose_layout

    layout = choose_layout(plan)
    state = plan.n * len(plan.model.states) * itemsize
    offsets = itemsize if layout.words and plan.spike_timing == "precise" else 0
    chunk = (layout.n_blocks * (plan.n * (4 * layout.words + offsets)
                                + len(rec.variables) * len(rec.neurons) * itemsize))
    err.print(f"[bold]{escape(plan.name)}[/bold]: model {plan.model.name}, integrator "
              f"{plan.integrator}, {plan.precision}, spike timing {plan.spike_timing}")
    err.print(f"  steps      {plan.n_steps:,} of {plan.dt:g} ms ({plan.duration:g} ms)")
    err.print(f"  neurons    {plan.n:,}" + (f" ({plan.size} x {plan.n // plan.size} sweep "
                                            f"combinations)" if plan.combination is not None else ""))
    err.print(f"  work       {plan.n * plan.n_steps:.3g} neuron-steps")
    err.print(f"  output     {escape(str(plan.output))}: reports {size_text(report)}"
              + (" + 12 bytes per spike" if rec.spikes else ""))
    err.print(f"  memory     state {size_text(state)}, chunk buffers {size_text(chunk)} "
              f"({layout.steps:,} steps per chunk)")
    synaptic = [f"{proto.variable(i)} ({proto.type} at input.{i}, {proto.kind}, "
                f"{proto.unit(plan.model.current_unit)})"
                for i, (proto, _) in enumerate(plan.inputs) if proto.synaptic]
    if synaptic:
        err.print(f"  synapses   {escape(', '.join(synaptic))}: recordable "
                  f"(record.variables), stored in /state")
    for w in plan.warnings:
        err.print(f"  warning: {escape(w)}")
    if shards is not None:
        from .cluster.shards import describe, measure_speed

        speed = measure_speed(config, overrides, plan, shards) if 1 <= shards <= plan.n else None
        for line in describe(plan, shards, speed):
            err.print(line, markup=False, highlight=False)


@app.command()
def models(
    name: Optional[str] = typer.Argument(None, help="a model to describe", show_default=False),
    as_json: bool = typer.Option(False, "--json", help="print as JSON"),
):
    """List the models, or describe one: equations, parameters, state variables, presets,
    integrators and citation."""
    from .core.keys import suggest
    from .describe import model_info, render_model
    from .equations import library
    from .models import MODELS

    files = library()
    if name is None:
        if as_json:
            print(json.dumps({**{k: m.summary for k, m in MODELS.items()},
                              **{f"file:{k}": _file_summary(p) for k, p in files.items()}},
                             indent=2))
            return
        from rich.table import Table

        t = Table(show_header=True, box=None)
        t.add_column("model", style="bold")
        t.add_column("description")
        t.add_column("integrators")
        for k, m in MODELS.items():
            t.add_row(k, m.summary, ", ".join(m.integrators()))
        out.print(t)
        t = Table(show_header=True, box=None, title="\nmodel files: model: {type: equations, "
                  "file: NAME} (`spikesim models file:NAME` describes one)", title_justify="left")
        t.add_column("file", style="bold")
        t.add_column("description")
        for k, p in files.items():
            t.add_row(k, _file_summary(p))
        out.print(t)
        return
    cls = None
    if name.startswith("file:") or (name not in MODELS and name in files):
        fname = name.removeprefix("file:")
        # a shipped model file by name, or the path of one's own (as model.file takes)
        own = fname not in files and name.startswith("file:") and Path(fname).is_file()
        if fname not in files and not own:
            raise UsageError(f"no model file {fname!r}.{suggest(fname, files)} Model files: "
                             f"{', '.join(files)}; or give the path of a model file")
        from .core.source import Source
        from .equations import expand

        ref = str(Path(fname).resolve()) if own else fname
        cls = expand({"model": {"type": "equations", "file": ref}},
                     Source(fname if own else str(files[fname])))
        name = Path(fname).stem if own else fname
    elif name not in MODELS:
        raise UsageError(f"unknown model {name!r}.{suggest(name, list(MODELS) + list(files))} "
                         f"Models: {', '.join(MODELS)}; model files: {', '.join(files)}")
    if as_json:
        print(json.dumps(model_info(name, cls), indent=2))
    else:
        render_model(name, out, cls)


def _file_summary(path) -> str:
    """The ``summary`` of a model file (read as YAML, not built)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
        return str(data.get("summary", "")) if isinstance(data, dict) else ""
    except (OSError, yaml.YAMLError):
        return ""


@app.command()
def inspect(
    file: Path = typer.Argument(..., help="HDF5 file of a run (or its .partial)",
                                show_default=False, parser=_path),
    as_json: bool = typer.Option(False, "--json", help="print as JSON"),
):
    """What a run holds: metadata, spike statistics per population, recorded variables, and
    for a sweep a table of axis values against rate. Reads no report data, so it is quick
    on any file size."""
    from .inspect import inspect as inspect_file, jsonable, render
    from .io.results import damaged

    with damaged(str(file)):
        info = inspect_file(file)
    if as_json:
        print(json.dumps(jsonable(info), indent=2))
    else:
        render(info, out)


@app.command()
def plot(
    file: Path = typer.Argument(..., help="HDF5 file of a run (or its .partial)",
                                show_default=False, parser=_path),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="PNG to write (default: FILE with .png)",
                                          parser=_path),
    var: Optional[str] = typer.Option(None, "--var", help="recorded variable to trace "
                                                          "(default: v, else the first one)"),
    neurons: Optional[str] = typer.Option(None, "--neurons", help="neuron ids to trace, e.g. "
                                          "0,5,9 (default: a few spread over the run)"),
    t_start: Optional[float] = typer.Option(None, "--from", help="start of the time window, ms"),
    t_stop: Optional[float] = typer.Option(None, "--to", help="end of the time window, ms"),
):
    """Plot a run: spike raster, traces of a recorded variable with the input current
    beneath, and for a sweep the rate against the swept value (f-I curve). Prints the PNG
    path. An existing PNG is replaced (a figure is cheap to redo)."""
    from .plot import plot as plot_file

    ids = None
    if neurons is not None:
        try:
            ids = [int(x) for x in neurons.replace(" ", "").split(",") if x]
            if not ids or min(ids) < 0:
                raise ValueError
        except ValueError:
            raise UsageError(f"--neurons takes neuron ids (>= 0) separated by commas, e.g. "
                             f"0,5,9; got {neurons[:60]!r}") from None
    from .io.results import damaged, resolve_path

    with damaged(str(file)):
        used = resolve_path(file)
        path = plot_file(used, output, var=var, neurons=ids, t0=t_start, t1=t_stop)
    if used != Path(file):  # the figure's name says .partial; say why
        _log(f"note: {file} does not exist; plotted {used}, left by a run that did not "
             f"complete")
    print(path)


@app.command()
def export(
    file: Path = typer.Argument(..., help="HDF5 file of a run (or its .partial)",
                                show_default=False, parser=_path),
    # "\\[": rich markup would read [nwb] as a style tag and drop it
    to: str = typer.Option(..., "--to", help="format: nwb (NWB 2, needs the extra .\\[nwb])"),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="file to write (default: FILE with .nwb)",
                                          parser=_path),
    force: bool = typer.Option(False, "--force", help="replace an existing output file"),
):
    """Write a run in another format: NWB 2 (a Units table with spike times in seconds, one
    TimeSeries per recorded variable, the resolved config in the metadata). Prints the path
    written. For NEO, use spikesim.load(path).to_neo() in Python."""
    if to != "nwb":
        raise UsageError(f"--to {to!r}: the export formats are: nwb (for NEO/Elephant use "
                         f"spikesim.load(path).to_neo() in Python)")
    from .io.nwb import to_nwb
    from .io.results import damaged

    with damaged(str(file)):
        path = to_nwb(file, output, force=force)
    print(path)


@app.command()
def merge(
    run_dir: Path = typer.Argument(..., help="folder of a sharded run (spikesim run --shards)",
                                   show_default=False, parser=_path),
    output: Path = typer.Option(..., "-o", "--output", help="the merged HDF5 file to write",
                                parser=_path),
    force: bool = typer.Option(False, "--force", help="replace an existing file"),
):
    """Join the shards of a sharded run into one file, equal to the unsharded run's (spikes
    merged by time; reports, /neurons and /state joined along the neuron axis). Refused
    (exit 2) while a shard is missing or failed. Prints the path written."""
    from .cluster.merge import merge as merge_run
    from .io.results import damaged

    with damaged(f"a shard file of {run_dir}", fix="delete the damaged shard file and run the "
                 "same `spikesim run CONFIG --shards K` again: it redoes only missing shards"):
        path = merge_run(run_dir, output, force=force)
    print(path)


@app.command()
def schema():
    """Print the JSON schema of the config file (for editors)."""
    from .config.quantities import schema_with_units
    from .config.schema import config_class

    s = schema_with_units(config_class().model_json_schema())
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    s["title"] = "spikesim config"
    print(json.dumps(s, indent=2))


def _version(value: bool):
    if value:
        from . import __version__

        print(f"spikesim {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="print the version and exit"),
):
    """Simulate populations of spiking neurons from a YAML config; results go to HDF5."""


# the list of commands in --help shows each docstring's first paragraph; typer's rich mode
# would keep the source's line breaks there, so it gets the paragraph as one line
for _info in app.registered_commands:
    if _info.short_help is None and _info.callback.__doc__:
        _first = cleandoc(_info.callback.__doc__).split("\n\n")[0]
        _info.short_help = " ".join(_first.split())


def main():
    """Entry point: run the app, turning spikesim errors into a message and an exit code."""
    try:
        code = app(standalone_mode=False)
        # typer turns a KeyboardInterrupt (Ctrl-C outside a run's chunk loop: while a config
        # loads, a merge) into Exit(130), and without standalone mode returns that code
        if code == 130:
            err.print("interrupted")
        if isinstance(code, int) and code:
            sys.exit(code)
    except SpikesimError as e:
        from rich.markup import escape

        # escape: a message quotes the user's text, and "[vv]" must not be read as markup
        err.print(f"[bold red]error:[/bold red] {escape(str(e))}" if e.exit_code == 2
                  else f"[bold red]run failed:[/bold red] {escape(str(e))}", markup=True,
                  highlight=False)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as e:  # click's own usage errors (typer may vendor its own click)
        names = {c.__name__ for c in type(e).__mro__}
        if "ClickException" in names:
            e.show()
            sys.exit(e.exit_code)
        if "Abort" in names:
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()
