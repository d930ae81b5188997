"""Where the shards of a sharded run (:mod:`spikesim.cluster.shards`) run: ``local[:W]``, W worker
processes on this machine, or ``dask[:ADDRESS]``, one task per shard on a Dask distributed
scheduler (Rocklin 2015, "Dask: parallel computation with blocked algorithms and task
scheduling"; a ``LocalCluster`` when no address is given). Neither is a scheduler of our own:
both hand each missing shard to :func:`spikesim.cluster.shards.run_task` and count what comes back
on one progress bar.

``local``: W worker processes ``python -m spikesim.cluster.shards RUN_DIR`` take the shards one at a
time (JAX starts once per worker, and shards of one shape compile once per worker with
the compilation cache); a crash or SIGKILL costs its shard only, reported with the
worker's last message, and a fresh worker takes the next shard. Worker slot ``w`` of W
is pinned to its share of the CPU cores when there are at least as many cores as workers
(so each process's XLA devices and threads stay on its cores), and on a machine with GPUs
sees one GPU (``CUDA_VISIBLE_DEVICES``), worker ``w`` GPU ``w mod GPUs``.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import UsageError


def parse(spec: str | None) -> tuple[str, str | None]:
    """``local``, ``local:4``, ``dask``, ``dask:tcp://host:8786`` -> (kind, argument)."""
    if spec is None:
        return "local", None
    kind, colon, arg = spec.partition(":")
    if colon and not arg.strip() and kind in ("local", "dask"):
        # `dask:$ADDRESS` with the variable unset would quietly start a LocalCluster
        raise UsageError(f"--executor {spec!r}: nothing after the colon; give "
                         + ("a number of workers (local:4), or local for one per core or GPU"
                            if kind == "local" else "a scheduler address "
                            "(dask:tcp://scheduler:8786), or dask for a LocalCluster"))
    if kind == "local":
        if arg and not (arg.isdigit() and int(arg) >= 1):
            raise UsageError(f"--executor local:W takes a number of workers >= 1, got {spec!r}")
        return "local", arg or None
    if kind == "dask":
        return "dask", arg or None
    raise UsageError(f"--executor takes local[:W] or dask[:ADDRESS] (e.g. local:4, "
                     f"dask:tcp://scheduler:8786), got {spec!r}")


def _cores() -> list[int]:
    return (sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else list(range(os.cpu_count() or 1)))


def gpu_count() -> int:
    """GPUs on this machine, without starting JAX (which would take GPU memory here)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([x for x in visible.split(",") if x.strip() and x.strip() != "-1"])
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return 0
    return len([ln for ln in out.stdout.splitlines() if ln.startswith("GPU ")])


def default_workers(device: str) -> int:
    """One worker per GPU when the run may use GPUs and there are some, else one per core."""
    gpus = gpu_count() if device != "cpu" else 0
    return gpus or len(_cores())


def _progress(total: int, done: int, quiet: bool, label: str):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    prog = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("shards"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), disable=quiet)
    return prog, prog.add_task(label, total=total, completed=done)


def _worker_env(slot: int, workers: int, gpus: int, cores: list[int]):
    env = dict(os.environ)
    # the child counts its own XLA CPU devices from its (pinned) cores; the flag inherited
    # from this process (spikesim sets it on import) would give it all of ours
    flags = re.sub(r"--xla_force_host_platform_device_count=\S+", "",
                   env.get("XLA_FLAGS", "")).strip()
    if flags:
        env["XLA_FLAGS"] = flags
    else:
        env.pop("XLA_FLAGS", None)
    if gpus:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        ids = ([x.strip() for x in visible.split(",")] if visible else
               [str(g) for g in range(gpus)])
        env["CUDA_VISIBLE_DEVICES"] = ids[slot % len(ids)]
    mine = None
    if len(cores) >= workers and hasattr(os, "sched_setaffinity"):
        per = len(cores) // workers
        mine = cores[slot * per:(slot + 1) * per]
    return env, mine


def run_local(run_dir: Path, todo: list[int], workers: int, device: str, on_done):
    """Run shards ``todo`` on ``workers`` worker processes (``python -m spikesim.cluster.shards
    RUN_DIR``, each serving shards one after the other, so JAX starts once per worker);
    ``on_done(i, state, message)`` as each ends. A worker that dies (SIGKILL, out of memory)
    fails its shard only and is replaced for the next one.

    SIGINT or SIGTERM here hands out no more shards and passes the signal on, once, to the
    workers (each in its own session, so that Ctrl-C at a terminal reaches them from here
    only): their shards stop at the next chunk, ``.partial`` marked failed, and no worker
    outlives this process. Returns that signal's number, or None."""
    cores = _cores()
    gpus = gpu_count() if device != "cpu" else 0
    work: queue.Queue = queue.Queue()
    for i in todo:
        work.put(i)
    live: dict[int, subprocess.Popen] = {}
    stopped: list[int] = []

    def on_signal(signum, frame):
        stopped.append(signum)
        while True:  # no shard is handed out any more
            try:
                work.get_nowait()
            except queue.Empty:
                break
        for proc in list(live.values()):
            if proc.poll() is None:
                proc.send_signal(signum)

    def start(slot):
        env, mine = _worker_env(slot, workers, gpus, cores)
        # stderr to a file, not a pipe: a pipe nobody reads would block a chatty worker
        log = tempfile.TemporaryFile("w+")
        proc = subprocess.Popen(
            [sys.executable, "-m", "spikesim.cluster.shards", str(run_dir)], env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, mine)) if mine else None)
        proc.log = log
        live[slot] = proc
        return proc

    def serve(slot):
        proc = None
        while True:
            try:
                i = work.get_nowait()
            except queue.Empty:
                break
            if proc is None or proc.poll() is not None:
                proc = start(slot)
            if stopped:  # the signal came while this worker started: it missed it
                break
            try:
                proc.stdin.write(f"{i}\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            if line:
                on_done(*json.loads(line))
                continue
            proc.stdin.close()
            code = proc.wait()
            proc.log.seek(0)
            err = [ln for ln in proc.log.read().splitlines() if ln.strip()]
            proc.log.close()
            msg = (f"worker killed by signal {-code}" if code < 0 else f"worker exit code {code}")
            on_done(i, "failed", msg + (f": {err[-1]}" if err else ""))
            proc = None
        if proc is not None:
            proc.stdin.close()
            proc.wait()
            proc.log.close()

    try:
        old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        old = {}
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for fut in [pool.submit(serve, w) for w in range(workers)]:
                fut.result()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return stopped[0] if stopped else None


def connect(address: str):
    """A Dask ``Client`` of the scheduler at ``address``, or UsageError (exit 2) naming the
    address: one that is not an address (``dask:badaddress``, no port) or that no scheduler
    answers within 30 s."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--executor dask needs Dask distributed: pip install "
                         "\"spikesim[dask]\" (or pip install \"dask[distributed]\")") from None
    try:
        return Client(address, timeout="30s")
    except (OSError, TimeoutError) as e:
        raise UsageError(f"--executor dask:{address}: cannot reach the Dask scheduler "
                         f"({e}). Start one (dask scheduler; dask worker ADDRESS), "
                         f"or use --executor dask for a local cluster") from None
    except Exception as e:  # noqa: BLE001 - distributed's parsing: ValueError, TypeError...
        raise UsageError(f"--executor dask:{address}: not a Dask scheduler address "
                         f"({type(e).__name__}{': ' + str(e) if str(e) else ''}). Give it as "
                         f"dask:tcp://HOST:PORT (e.g. dask:tcp://scheduler:8786), or use "
                         f"--executor dask for a local cluster") from None


def run_dask(run_dir: Path, todo: list[int], address: str | None, workers: int | None,
             on_done, client=None):
    """Submit one task per shard to the Dask scheduler at ``address`` (or ``client``; a
    ``LocalCluster`` of ``workers`` single-threaded processes when neither is given). The
    run folder must be on a file system that the workers see at the same path."""
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise UsageError("--executor dask needs Dask distributed: pip install "
                         "\"spikesim[dask]\" (or pip install \"dask[distributed]\")") from None
    from .shards import run_task

    cluster = None
    own = client is None
    if client is None:
        if address:
            client = connect(address)
        else:
            import logging

            # ERROR: the nanny warns when a worker that still holds JAX threads is stopped
            cluster = LocalCluster(n_workers=workers or len(_cores()), threads_per_worker=1,
                                   processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
            client = Client(cluster)
    try:
        run_dir = str(Path(run_dir).resolve())
        futures = {client.submit(run_task, run_dir, i, pure=False,
                                 key=f"spikesim-shard-{i}-{os.getpid()}-{id(todo)}"): i
                   for i in todo}
        for fut in dask_completed(futures):
            i = futures[fut]
            try:
                on_done(*fut.result())
            except Exception as e:  # noqa: BLE001 - a lost worker (KilledWorker), reported
                on_done(i, "failed", f"{type(e).__name__}: {e}")
    finally:
        if own:
            client.close()
        if cluster is not None:
            cluster.close()


def run_all(run_dir: Path, manifest: dict, executor: str | None, device: str,
            quiet: bool = True, log=None, client=None) -> list[tuple[int, str]]:
    """Run every shard of ``run_dir`` that is not complete, on ``executor``; returns the
    failures ``[(shard, message)]``. One progress bar (stderr) counts shards."""
    from .shards import states

    log = log or (lambda m: print(m, file=sys.stderr))
    kind, arg = parse(executor)
    k = manifest["shards"]
    todo = [i for i, (s, _) in enumerate(states(run_dir, manifest)) if s != "complete"]
    failures = []
    prog, task = _progress(k, k - len(todo), quiet, manifest["name"])

    def on_done(i, state, message):
        if state == "complete":
            prog.advance(task)
        else:
            failures.append((i, message))
            prog.console.print(f"shard {i} ({manifest['files'][i]}) failed: {message}",
                               markup=False, highlight=False)

    if not todo:
        return []
    signum = None
    with prog:
        if kind == "local" and client is None:
            workers = min(int(arg) if arg else default_workers(device), len(todo))
            signum = run_local(run_dir, todo, workers, device, on_done)
        else:
            run_dask(run_dir, todo, arg, None, on_done, client=client)
    complete = k if signum is None else sum(s == "complete" for s, _ in states(run_dir,
                                                                             manifest))
    if complete < k:  # interrupted (a signal that came once every shard was done is not)
        from ..errors import RunError

        name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
        raise RunError(f"interrupted ({name}): {complete} of {k} shards are complete and kept "
                       f"in {run_dir}, the others stopped (their .partial files marked "
                       f"failed) or not started. Run the same command again to run only "
                       f"those", exit_code=1 if name == "SIGTERM" else 130)
    return sorted(failures)
