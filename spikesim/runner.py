"""Running a plan: device choice, compilation, the chunk loop, and the output file.

The loop dispatches chunk i+1 before it decodes and writes chunk i, so the host's HDF5 work
overlaps the device's computation. Nothing is written before the config, the output path and
the device have been checked.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)  # float64 runs; float32 runs use explicit dtypes

import numpy as np  # noqa: E402

from .engine import Engine, decode_spikes  # noqa: E402
from .errors import RunError, UsageError  # noqa: E402
from .writer import Writer, partial_path  # noqa: E402


def _enable_compilation_cache():
    """A persistent XLA compilation cache makes a second identical run skip compilation.
    ``SPIKESIM_CACHE_DIR`` chooses the folder; an empty value turns the cache off."""
    folder = os.environ.get("SPIKESIM_CACHE_DIR",
                            str(Path.home() / ".cache" / "spikesim" / "xla"))
    if folder:
        jax.config.update("jax_compilation_cache_dir", folder)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


_enable_compilation_cache()


def select_device(name: str):
    """The JAX device for ``simulation.device`` (auto | cpu | gpu)."""
    if name == "auto":
        return jax.devices()[0]
    try:
        devs = jax.devices(name)
    except RuntimeError:
        devs = []
    if not devs:
        fix = ("install the GPU build (pip install -e \".[cuda12]\" or \".[cuda13]\") on a "
               "machine with an NVIDIA GPU, or use --device cpu / auto") if name == "gpu" else ""
        raise UsageError(f"device {name!r} was asked for, but JAX sees none "
                         f"(available: {', '.join(sorted({d.platform for d in jax.devices()}))}). {fix}")
    return devs[0]


def device_label(d) -> str:
    return f"{d.platform}:{d.id} ({d.device_kind})"


def check_output(plan, force: bool):
    """Refuse to overwrite (exit 2) and make sure the folder can be written, before any work."""
    out = Path(plan.output)
    if out.suffix not in (".h5", ".hdf5"):
        raise UsageError(f"output path {out} should end in .h5 (an HDF5 file)")
    if out.is_dir():
        raise UsageError(f"output path {out} is a folder; give a file name ending in .h5")
    force = force or plan.overwrite
    if out.exists() and not force:
        raise UsageError(f"{out} exists; pass --force (or output.overwrite: true) to replace it "
                         f"when the new run completes, or choose another path with -o")
    part = partial_path(out)
    if part.exists() and not force:
        raise UsageError(f"{part} exists (left by an earlier run that did not complete); look "
                         f"at it with `spikesim inspect {part}`, then delete it or pass --force")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create output folder {parent}: {e.strerror}. "
                         f"Choose another path with -o") from None
    if not os.access(parent, os.W_OK):
        raise UsageError(f"output folder {parent} is not writable. Choose another path with -o")


class _Terminated(Exception):
    pass


@contextmanager
def _sigterm_as_exception():
    """SIGTERM ends the run like Ctrl-C does: the current chunk is flushed and the partial
    file marked failed (exit 1 instead of 130)."""
    def handler(signum, frame):
        raise _Terminated()

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _progress(total: int, quiet: bool, label: str):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)

    console = Console(stderr=True)
    prog = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("steps"), TimeRemainingColumn(), console=console,
                    disable=quiet, transient=False)
    return prog, prog.add_task(label, total=total)


def run_plan(plan, force: bool = False, quiet: bool = True, init_state=None,
             log=None) -> Path:
    """Run ``plan`` and write its output; returns the path written. Raises UsageError before
    any work for a bad output path or device, RunError when the run fails midway."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    check_output(plan, force)
    device = select_device(plan.device)
    for w in plan.warnings:
        log(f"warning: {w}")
    with jax.default_device(device):
        engine = Engine(plan, device)
        carry = engine.initial_carry(init_state)
        compile_s = engine.compile(carry)
        writer = Writer(plan, device_label(device))
        try:
            with _sigterm_as_exception():
                return _loop(plan, engine, writer, carry, compile_s, quiet)
        except BaseException:
            if writer.f.id.valid:  # an unexpected error: keep what was written, marked
                writer.close("failed", note=f"{sys.exc_info()[0].__name__}: {sys.exc_info()[1]}")
            raise


def _loop(plan, engine, writer, carry, compile_s, quiet):
    rec, layout = plan.record, engine.layout
    B = layout.block
    t0 = time.perf_counter()
    if rec.variables and rec.start_step == 0:
        writer.samples({v: x[None] for v, x in zip(rec.variables, engine.sample_now(carry))})
    # chunk boundaries: a first short call reaches the recording window's phase, so that
    # every later block ends on a sampling step
    phase = rec.start_step % B if rec.variables else 0
    bounds, k = [], 0
    if phase:
        bounds.append((0, min(phase, plan.n_steps)))
        k = bounds[-1][1]
    while k < plan.n_steps:
        bounds.append((k, min(k + layout.steps, plan.n_steps)))
        k = bounds[-1][1]

    prog, task = _progress(plan.n_steps, quiet, plan.name)
    done = 0
    status, note = "complete", ""
    pending = None
    with prog:
        try:
            for i in range(len(bounds) + 1):
                nxt = None
                if i < len(bounds):
                    k0, k_end = bounds[i]
                    nxt = (carry, k0, k_end, engine.run_chunk(carry, k_end))
                    carry = nxt[3][0]
                if pending is not None:
                    c_in, k0p, k_endp, (c_out, words, samples, finite) = pending
                    if not bool(finite):
                        raise RunError(_blowup_message(plan, c_out, k0p, k_endp))
                    _write_chunk(plan, writer, layout, k0p, k_endp, words, samples)
                    done = k_endp
                    writer.progress(done)
                    prog.update(task, completed=done)
                pending = nxt
        except KeyboardInterrupt:
            status, note = "failed", f"interrupted (SIGINT) after {done} of {plan.n_steps} steps"
            exc = RunError(f"interrupted: {writer.partial} keeps the first {done * plan.dt:g} ms "
                           f"({done} of {plan.n_steps} steps), marked failed", exit_code=130)
        except _Terminated:
            status, note = "failed", f"terminated (SIGTERM) after {done} of {plan.n_steps} steps"
            exc = RunError(f"terminated: {writer.partial} keeps the first {done * plan.dt:g} ms, "
                           f"marked failed")
        except RunError as e:
            status, note, exc = "failed", str(e), e
        except OSError as e:
            status, note = "failed", f"write error after {done} steps: {e}"
            exc = RunError(f"write error: {e}. {writer.partial} keeps what was written up to "
                           f"{done * plan.dt:g} ms, marked failed")
    run_s = time.perf_counter() - t0
    if status == "complete":
        y = carry[0]
        writer.final_state({k: np.asarray(v) for k, v in y.items()})
    try:
        path = writer.close(status, note=note, compile_seconds=compile_s, run_seconds=run_s)
    except OSError as e:
        raise RunError(f"could not finish writing {writer.partial}: {e}") from None
    if status != "complete":
        raise exc
    return path


def _write_chunk(plan, writer, layout, k0, k_end, words, samples):
    B, rec = layout.block, plan.record
    if layout.words:
        n_valid = -(-(k_end - k0) // B)
        steps, ids = decode_spikes(np.asarray(words), k0, B, n_valid)
        writer.spikes(steps, ids)
    if rec.variables:
        # sample i is the state at the end of block i; a block that straddles k_end stops
        # there, so the phase call (0, start_step) when start_step < every also ends on a
        # sampling step. np.unique keeps the first of the repeated samples at k_end.
        ends = np.minimum(k0 + B * np.arange(1, layout.n_blocks + 1), k_end)
        ends, first = np.unique(ends, return_index=True)
        on = ((ends >= rec.start_step) & (ends <= rec.stop_step) & (ends > 0)
              & ((ends - rec.start_step) % rec.every == 0))
        keep = first[on]
        if keep.size:
            writer.samples({v: np.asarray(x)[keep] for v, x in zip(rec.variables, samples)})


def _blowup_message(plan, carry, k0, k_end) -> str:
    y = carry[0]
    first = None
    for var, x in y.items():
        bad = np.nonzero(~np.isfinite(np.asarray(x)))[0]
        if bad.size and (first is None or bad[0] < first[1]):
            first = (var, int(bad[0]))
    var, nid = first if first else ("?", -1)
    return (f"numerical blow-up: {var} of neuron {nid} became NaN or inf between "
            f"t = {k0 * plan.dt:g} and {k_end * plan.dt:g} ms. The file keeps everything up to "
            f"t = {k0 * plan.dt:g} ms. Try a smaller dt, rk4 or exp_euler, or check the "
            f"parameters of that neuron.")
