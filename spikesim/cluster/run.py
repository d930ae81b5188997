"""``spikesim run CONFIG --shards K ...`` (SPEC section 8): the checks of the command, then
one shard here (``--shard I``) or all of them through an executor (:mod:`.executors`), and
``--merge`` (:mod:`.merge`). The shards themselves, their folder and manifest are
:mod:`.shards`."""

from __future__ import annotations

from pathlib import Path

from ..config.preflight import protected_files
from ..errors import UsageError
from .shards import check_merge_output, make_manifest, open_run_dir, run_one


def run_cli(config, overrides, output, k, shard, executor, force, quiet, log,
            from_file=None, init_from=None, merge_to=None) -> Path:
    """``spikesim run CONFIG --shards K [--shard I] -o RUN_DIR [--executor E] [--merge
    FILE]``: returns the path to print (the shard's file with --shard, the merged file with
    --merge, else the run folder). Raises UsageError for bad usage (nothing written),
    RunError when shards failed (each named)."""
    from ..config.load import load
    from ..errors import RunError
    from ..sim.plan import make_plan

    if k is None:
        raise UsageError("--shard, --executor and --merge go with --shards K (the number of "
                         "shards)")
    if shard is not None and merge_to is not None:
        raise UsageError("--merge joins all the shards once they are complete; with --shard I "
                         "(one shard here) run `spikesim merge RUN_DIR -o FILE.h5` when the "
                         "last one is done")
    if shard is not None and executor is not None:
        raise UsageError("--shard I runs one shard here; --executor runs all of them. Give "
                         "one or the other")
    if from_file is not None or init_from is not None:
        raise UsageError("--shards does not combine with --from or --init-from; run the "
                         "config file itself")
    if config is None:
        raise UsageError("give a CONFIG file with --shards")
    if output is None:
        raise UsageError("--shards writes a folder: give it with -o RUN_DIR/")
    from .executors import parse

    kind, address = parse(executor)  # a bad --executor is an error before anything is written
    run_dir = Path(output)
    plan = make_plan(load(config, overrides), run_dir)
    manifest = make_manifest(plan, k, config, overrides)
    if shard is not None and not 0 <= shard < k:  # before the folder is made
        raise UsageError(f"--shard {shard}: shards are numbered 0 to {k - 1}")
    if merge_to is not None:  # its path checked before any shard runs, as run checks -o
        check_merge_output(Path(merge_to), run_dir, manifest, force,
                           protected_files(plan), where="--merge: ", option="--merge")
    todo = manifest["files"] if shard is None else [manifest["files"][shard]]
    folders = [q for f in todo for q in (run_dir / f, run_dir / (f + ".partial")) if q.is_dir()]
    if folders:  # each shard's run would refuse it: say so once, before anything is written
        raise UsageError(f"{folders[0]} is a folder where a shard's file goes; move it out of "
                         f"{run_dir} and run the same command again")
    client = None
    if kind == "dask" and address:  # an unreachable scheduler: exit 2 before the folder is made
        from .executors import connect

        client = connect(address)
    try:
        manifest = open_run_dir(run_dir, manifest, force)
        if shard is not None:
            return run_one(run_dir, manifest, shard, plan=plan, quiet=quiet, log=log)
        from .executors import run_all

        for w in plan.warnings:
            log(f"warning: {w}")
        failures = run_all(run_dir, manifest, executor, plan.device, quiet=quiet, log=log,
                           client=client)
    finally:
        if client is not None:
            client.close()
    if failures:
        listing = "\n".join(f"  shard {i}: {m}" for i, m in failures)
        raise RunError(f"{len(failures)} of {k} shards failed:\n{listing}\nThe complete "
                       f"shards are kept; run the same command again to redo only these")
    if merge_to is not None:  # here, not in a new process: no second Python and h5py start
        from .merge import merge

        return merge(run_dir, merge_to, force=force)
    return run_dir
