"""Sharded runs (SPEC section 8): the run's neurons cut into K contiguous ranges, each range
an ordinary spikesim run written into a run folder, resumable shard by shard.

A run folder holds::

    manifest.json                     the resolved config, its hash, K and the ranges
    shard-00000-of-00004.h5           shard 0: neurons [0, n/4), an ordinary spikesim file
    shard-00001-of-00004.h5.partial   shard 1, running (or failed, or killed)
    ...

The neurons are uncoupled, so a shard is the unsharded run restricted to its range: the plan
of the whole run is made once and every per-neuron value (lists, generators, sweep axes) is
cut out of it, and the noise of a neuron and its column of a file input are keyed by its
global id (:attr:`spikesim.sim.plan.Plan.first`). A neuron's results therefore do not depend on K.
A shard's file numbers its neurons from 0 (it is an ordinary run of its range); its root
attributes ``shard``, ``shards``, ``neuron_start``, ``neuron_stop`` and ``config_hash`` place
it in the whole run, and ``spikesim merge`` (:mod:`spikesim.cluster.merge`) joins the shards into one
file equal to the unsharded run's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import yaml
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from ..config.checks import size_text
from ..config.preflight import check_output_path, nearest_existing, partial_path
from ..errors import UsageError

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


def shard_name(i: int, k: int) -> str:
    return f"shard-{i:05d}-of-{k:05d}.h5"


def ranges(n: int, k: int) -> list[tuple[int, int]]:
    """K contiguous ranges ``[lo, hi)`` covering ``0..n-1``, sizes differing by at most one."""
    bounds = [i * n // k for i in range(k + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def config_hash(config_yaml: str) -> str:
    """SHA-256 of a resolved config, output path left out (the run folder may move, and the
    merged file gets its own path)."""
    data = yaml.safe_load(config_yaml)
    data.get("output", {}).pop("path", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def with_output(config_yaml: str, path) -> str:
    """The resolved config with ``output.path`` set to ``path``."""
    data = yaml.safe_load(config_yaml)
    data["output"]["path"] = str(path)
    return yaml.safe_dump(data, sort_keys=False)


# -- the manifest ----------------------------------------------------------------------------
class _Manifest(TypedDict):
    """What a manifest must hold for ``merge`` and ``run --shards`` to use it."""

    format: int
    name: str
    population: str
    n_neurons: int
    shards: int
    ranges: list[tuple[int, int]]
    files: list[str]
    config_hash: str
    config: str
    config_file: str
    overrides: list[str]


_MANIFEST = TypeAdapter(_Manifest)


def make_manifest(plan, k: int, config_file, overrides) -> dict:
    if k < 1:
        raise UsageError(f"--shards takes a number of shards >= 1, got {k}")
    if k > plan.n:
        raise UsageError(f"--shards {k}: the run has only {plan.n} neurons; use at most "
                         f"{plan.n} shards")
    return {
        "format": MANIFEST_FORMAT,
        "name": plan.name,
        "population": plan.population,
        "n_neurons": plan.n,
        "shards": k,
        "ranges": [list(r) for r in ranges(plan.n, k)],
        "files": [shard_name(i, k) for i in range(k)],
        "config_hash": config_hash(plan.config_yaml),
        "config": plan.config_yaml,
        # where the workers rebuild the plan from (the hash must match)
        "config_file": str(Path(config_file).resolve()),
        "overrides": list(overrides),
    }


def read_manifest(run_dir: Path) -> dict:
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        why = "does not exist" if not Path(run_dir).exists() else f"holds no {MANIFEST}"
        raise UsageError(f"{run_dir} {why}: it is not the folder of a sharded run (made by "
                         f"`spikesim run CONFIG --shards K -o {run_dir}`)")
    try:
        m = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: not a readable manifest ({e})") from None
    fix = (f"Make the run folder again with `spikesim run CONFIG --shards K -o {run_dir}` "
           f"(--force starts it afresh)")
    if not isinstance(m, dict):
        raise UsageError(f"{path}: not a spikesim manifest (a JSON {type(m).__name__}, not "
                         f"an object). {fix}")
    if m.get("format") != MANIFEST_FORMAT:
        raise UsageError(f"{path}: manifest format {m.get('format')!r}, this spikesim reads "
                         f"format {MANIFEST_FORMAT}")
    try:
        m = dict(m, **_MANIFEST.validate_python(m))
    except ValidationError as e:
        where = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg'].lower()}"
                          for err in e.errors()[:3])
        raise UsageError(f"{path}: a damaged manifest ({where}). {fix}") from None
    k = m["shards"]
    if k < 1 or len(m["ranges"]) != k or len(m["files"]) != k:
        raise UsageError(f"{path}: a damaged manifest ({k} shards, {len(m['ranges'])} ranges, "
                         f"{len(m['files'])} files). {fix}")
    m["ranges"] = [list(r) for r in m["ranges"]]
    return m


def _written(run_dir: Path, manifest: dict) -> str:
    """A temporary file in ``run_dir`` holding ``manifest``, to be put in place whole."""
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=run_dir)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(manifest, fh, indent=1)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def open_run_dir(run_dir: Path, manifest: dict, force: bool) -> dict:
    """Create ``run_dir`` with its manifest, or check that an existing one is the same run
    (same config, same K): a different one is an error (exit 2), unless ``force``, which
    starts the folder afresh (its shard files are deleted). Several job-array tasks may
    start at once: the manifest is created atomically (a hard link of a complete temporary
    file), and the losers check theirs against it."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"-o {run_dir}: a sharded run writes a folder, and {run_dir} is a "
                         f"file. Give a folder path, e.g. -o {run_dir.with_suffix('')}.d/")
    if run_dir.suffix in (".h5", ".hdf5"):
        raise UsageError(f"-o {run_dir}: a sharded run writes a folder of shards; give a "
                         f"folder path (e.g. -o {run_dir.with_suffix('')}.d/) and "
                         f"`spikesim merge` it into {run_dir}")
    existing = nearest_existing(run_dir)
    if not existing.is_dir():
        raise UsageError(f"-o {run_dir}: cannot create that folder: {existing} is a file, not "
                         f"a folder. Choose another path with -o")
    path = run_dir / MANIFEST
    if path.exists():
        try:
            old = read_manifest(run_dir)
        except UsageError:
            if not force:
                raise
            old = None  # a damaged manifest: --force starts afresh
        same = old is not None and (old["config_hash"] == manifest["config_hash"]
                                    and old["shards"] == manifest["shards"])
        if same:
            where = ("config_file", "overrides")
            if [old[k] for k in where] != [manifest[k] for k in where]:
                # the same run from a moved or renamed config file (or other overrides that
                # resolve the same): the workers rebuild the plan from this one
                old = {**old, **{k: manifest[k] for k in where}}
                os.replace(_written(run_dir, old), path)  # whole, for a concurrent reader
            return old
        if not force:
            what = ("a different config" if old["config_hash"] != manifest["config_hash"]
                    else f"{old['shards']} shards, not {manifest['shards']}")
            raise UsageError(f"{run_dir} holds a sharded run of {what} ({old['name']!r}, "
                             f"{old['n_neurons']} neurons). Choose another folder with -o, "
                             f"or pass --force to delete its shards and start afresh")
        for p in list(run_dir.glob("shard-*-of-*.h5")) + list(run_dir.glob("shard-*-of-*.h5.partial")):
            p.unlink()
        path.unlink()
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = _written(run_dir, manifest)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:  # another task made it first
            return open_run_dir(run_dir, manifest, force=False)
    finally:
        os.unlink(tmp)
    return manifest


# -- the state of each shard -----------------------------------------------------------------
def shard_state(run_dir: Path, manifest: dict, i: int) -> tuple[str, str]:
    """``(state, detail)`` of shard ``i``: ``complete`` (its file is complete and belongs to
    this manifest), ``failed`` (a ``.partial`` left by a failed or killed run, or a file
    that does not belong), or ``missing``."""
    import h5py

    from ..config.preflight import being_written
    from ..io.results import unreadable

    path = Path(run_dir) / manifest["files"][i]
    part = partial_path(path)
    if path.exists():
        try:
            with h5py.File(path, "r") as f:
                a = f.attrs
                status, h = str(a.get("status")), str(a.get("config_hash", ""))
                lo, hi = int(a.get("neuron_start", -1)), int(a.get("neuron_stop", -1))
        except OSError as e:
            return "failed", unreadable(Path(path.name), e, fix="")
        if h != manifest["config_hash"] or [lo, hi] != list(manifest["ranges"][i]):
            return "failed", f"{path.name} belongs to another run (config hash or range differ)"
        if status != "complete":
            return "failed", f"{path.name} has status {status!r}"
        return "complete", ""
    if part.exists():
        try:
            with h5py.File(part, "r") as f:
                status = str(f.attrs.get("status"))
                note = str(f.attrs.get("note", ""))
        except OSError:  # HDF5 cannot open a file that a running writer holds locked
            status, note = "unreadable", ""
        if status == "running" or (status == "unreadable" and being_written(part)):
            status, note = "running", ("being written by a running process (its file is "
                                       "locked)" if being_written(part) else
                                       "killed while running, or still running")
        elif status == "complete":  # closed, then stopped before its rename into place
            note = "stopped before it was renamed into place; a rerun runs the shard again"
        return "failed", f"{part.name}: {status}" + (f" ({note})" if note else "")
    return "missing", f"{path.name} does not exist"


def states(run_dir: Path, manifest: dict) -> list[tuple[str, str]]:
    return [shard_state(run_dir, manifest, i) for i in range(manifest["shards"])]


# -- one shard -------------------------------------------------------------------------------
def _cut(value, lo: int, hi: int, n: int):
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.shape[0] == n:
        return value[lo:hi]
    return value


def subplan(plan, lo: int, hi: int, output: Path, attrs: dict | None = None):
    """The plan of neurons ``[lo, hi)`` of ``plan``: every per-neuron value cut to that range,
    recorded neurons renumbered from ``lo``, output at ``output``."""
    n = plan.n
    rec = plan.record
    ids = rec.neurons[(rec.neurons >= lo) & (rec.neurons < hi)] - lo
    return dataclasses.replace(
        plan, n=hi - lo, first=plan.first + lo, output=Path(output),
        params={k: _cut(v, lo, hi, n) for k, v in plan.params.items()},
        init={k: _cut(v, lo, hi, n) for k, v in plan.init.items()},
        inputs=[(p, {k: _cut(v, lo, hi, n) for k, v in f.items()}) for p, f in plan.inputs],
        varying={k: _cut(v, lo, hi, n) for k, v in plan.varying.items()},
        combination=None if plan.combination is None else plan.combination[lo:hi],
        record=dataclasses.replace(rec, neurons=ids),
        overwrite=True, attrs={**plan.attrs, **(attrs or {})},
    )


def shard_plan(plan, manifest: dict, run_dir: Path, i: int):
    lo, hi = manifest["ranges"][i]
    return subplan(plan, lo, hi, Path(run_dir) / manifest["files"][i], {
        "shard": i, "shards": manifest["shards"], "neuron_start": lo, "neuron_stop": hi,
        "config_hash": manifest["config_hash"]})


def plan_from_manifest(manifest: dict, run_dir: Path):
    """The whole run's plan, rebuilt from the config file and overrides the manifest names,
    checked against the manifest's hash (the config file may have changed since)."""
    from ..config.load import load
    from ..sim.plan import make_plan

    plan = make_plan(load(manifest["config_file"], manifest["overrides"]), run_dir)
    if config_hash(plan.config_yaml) != manifest["config_hash"]:
        raise UsageError(f"{manifest['config_file']} (with overrides "
                         f"{' '.join(manifest['overrides']) or 'none'}) no longer resolves to "
                         f"the config of this sharded run: it changed since the run started. "
                         f"Restore it, or start the run afresh with --force")
    return plan


def run_one(run_dir: Path, manifest: dict, i: int, plan=None, quiet: bool = True,
            log=None) -> Path:
    """Run shard ``i`` in this process, unless it is complete already; returns its path.
    A ``.partial`` left by a failed or killed run of it is replaced."""
    from ..sim.runner import run_plan

    if not 0 <= i < manifest["shards"]:
        raise UsageError(f"--shard {i}: shards are numbered 0 to {manifest['shards'] - 1}")
    path = Path(run_dir) / manifest["files"][i]
    if shard_state(run_dir, manifest, i)[0] == "complete":
        return path
    plan = plan if plan is not None else plan_from_manifest(manifest, run_dir)
    return run_plan(shard_plan(plan, manifest, run_dir, i), force=True, quiet=quiet, log=log)


def run_task(run_dir: str, i: int) -> tuple[int, str, str]:
    """What an executor's worker runs: shard ``i`` of the run in ``run_dir``, as
    ``(i, "complete" | "failed", message)``; never raises, so that any executor can carry
    the result (a spikesim error does not always survive pickling)."""
    try:
        manifest = read_manifest(Path(run_dir))
        run_one(Path(run_dir), manifest, i, log=lambda m: None)
        return i, "complete", ""
    except BaseException as e:  # noqa: BLE001 - reported with its shard
        return i, "failed", f"{type(e).__name__}" + (f": {e}" if str(e) else "")


def check_merge_output(out: Path, run_dir: Path, manifest: dict, force: bool, protect=(),
                       where: str = "-o: ", option: str = "-o"):
    """The merged file's path (``merge -o``, ``run --merge``): writable, not there yet
    without --force, and neither one of the run's shards nor a file the run reads."""
    shard_files = {(Path(run_dir) / f).resolve() for f in manifest["files"]}
    if out.resolve() in shard_files or partial_path(out).resolve() in shard_files:
        raise UsageError(f"{where}{out} is one of the run's shard files; choose another path "
                         f"with {option}")
    check_output_path(out, force, protect, where, option)


def check_shard_count(plan, k: int) -> None:
    """``validate --shards K``: 1 to the run's neurons, checked before anything is printed."""
    if k < 1 or k > plan.n:
        raise UsageError(f"--shards {k}: give 1 to {plan.n} shards (the run has {plan.n} "
                         f"neurons)")


def describe(plan, k: int, speed: tuple[float, float] | None = None) -> list[str]:
    """``spikesim validate --shards K``: each shard's range, neurons, work, output size and,
    given ``speed`` (compile seconds, neuron-steps/s; :func:`measure_speed`), its time."""
    check_shard_count(plan, k)
    itemsize = 8 if plan.precision == "float64" else 4
    lines = [f"  shards     {k} (files shard-IIIII-of-{k:05d}.h5)"]
    if speed is not None:
        lines.append(f"  speed      measured here on a short run of the largest shard: compile "
                     f"{speed[0]:.1f} s, {speed[1]:.3g} neuron-steps/s (another machine, or "
                     f"W workers sharing this one, differ)")
    shown = list(range(k)) if k <= 12 else list(range(5)) + [None] + list(range(k - 5, k))
    for i in shown:
        if i is None:
            lines.append("    ...")
            continue
        lo, hi = ranges(plan.n, k)[i]
        sub = subplan(plan, lo, hi, Path(shard_name(i, k)))
        rec = sub.record
        report = rec.n_rows * len(rec.neurons) * len(rec.variables) * itemsize
        state = sub.n * len(plan.model.states) * itemsize
        work = sub.n * plan.n_steps
        time = f"  time ~{speed[0] + work / speed[1]:.3g} s" if speed is not None else ""
        lines.append(f"    shard {i:>5}  neurons [{lo}, {hi}) = {sub.n:,}  "
                     f"{work:.3g} neuron-steps{time}  reports {size_text(report)}"
                     f"{' + 12 B/spike' if rec.spikes else ''}  state {size_text(state)}")
    return lines


def measure_speed(config, overrides, plan, k: int, work: float = 2e7) -> tuple[float, float]:
    """Compile seconds and neuron-steps/s of this run's largest shard (at most 65,536 of its
    neurons), measured by running about ``work`` neuron-steps of it (at least 200 steps, at
    most the whole run) here into a temporary file: the estimate ``spikesim validate
    --shards`` prints. Long enough that the run's fixed costs (opening the file, the first
    chunk) do not dominate; spikes cost little next to the step."""
    import h5py

    from ..config.load import load
    from ..sim.plan import make_plan
    from ..sim.runner import run_plan

    lo, hi = max(ranges(plan.n, k), key=lambda r: r[1] - r[0])
    n = min(hi - lo, 1 << 16)
    steps = min(max(200, int(work // n)), plan.n_steps)
    with tempfile.TemporaryDirectory() as tmp:
        short = make_plan(load(config, [*(overrides or []), f"simulation.duration="
                                        f"{steps * plan.dt!r}", "record.start=0",
                                        "record.stop=null"]), Path(tmp) / "speed.h5")
        out = run_plan(subplan(short, lo, lo + n, Path(tmp) / "speed.h5"), quiet=True,
                       log=lambda msg: None)
        with h5py.File(out, "r") as f:
            compile_s, run_s = float(f.attrs["compile_seconds"]), float(f.attrs["run_seconds"])
    return compile_s, n * short.n_steps / max(run_s, 1e-9)


def main(argv=None):
    """``python -m spikesim.cluster.shards RUN_DIR``: a local executor's worker. It reads shard
    numbers from stdin, one a line, runs each, and answers one JSON line per shard,
    ``[i, state, message]``, so that one process (one JAX start) serves many shards."""
    import sys

    run_dir = (argv or sys.argv[1:])[0]
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but the answers on the pipe
    for line in sys.stdin:
        if line.strip():
            out.write(json.dumps(run_task(run_dir, int(line))) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
