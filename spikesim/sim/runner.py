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

from .engine import Engine, iter_precise_spikes, iter_spikes  # noqa: E402
from ..errors import RunError  # noqa: E402
from ..config.preflight import device_label, partial_path, preflight  # noqa: E402
from ..io.resume import InitState  # noqa: E402
from ..io.writer import Writer  # noqa: E402


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


def _release_large_buffers():
    """Serve host allocations of 1 MiB and more (each chunk's spike words and samples) from
    mmap, so they go back to the OS when freed. With glibc's default (a threshold that grows
    up to 32 MiB) those buffers stay in the heap and fragment it, and the peak memory of a
    long run crept up with its number of chunks (+20% at 10x the duration)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


_release_large_buffers()


class _Stop:
    """The first SIGINT or SIGTERM of a run, recorded by the handler; the chunk loop acts on
    it once the chunk it is writing is on disk."""

    signum: int | None = None


@contextmanager
def _deferred_signals():
    """SIGINT and SIGTERM end the run at the next chunk boundary: the chunk being written is
    completed and flushed, then the partial file is marked failed (exit 130 after SIGINT, 1
    after SIGTERM). A second signal interrupts at once (the file is still closed, marked
    failed, with what was flushed)."""
    stop = _Stop()

    def handler(signum, frame):
        if stop.signum is not None:
            raise KeyboardInterrupt
        stop.signum = signum

    try:
        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield stop
        return
    try:
        yield stop
    finally:
        for s, h in old.items():
            signal.signal(s, h)


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
             log=None, protect=()) -> Path:
    """Run ``plan`` and write its output; returns the path written. Raises UsageError before
    any work for a bad output path or device, RunError when the run fails midway.
    ``init_state`` (an :class:`InitState`, e.g. from :func:`spikesim.io.resume.final_state`)
    continues a previous run: its state variables, random-input states and step count.
    ``protect``: files the run reads (a ``--from`` or ``--init-from`` file) that the output
    must not be."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    devices = preflight(plan, force, protect)
    start = InitState(dict(init_state)) if isinstance(init_state, dict) else init_state
    for w in plan.warnings:
        log(f"warning: {w}")
    with jax.default_device(devices[0]):
        engine = Engine(plan, devices, step_offset=start.step if start else 0)
        carry = engine.initial_carry(start.y if start else None)
        if start is not None:
            carry = _continue_inputs(engine, carry, start, log)
        compile_s = engine.compile(carry)
        writer = _open_writer(plan, devices, start)
        try:
            with _deferred_signals() as stop:
                path = _loop(plan, engine, writer, carry, compile_s, quiet, stop, start)
        except BaseException:
            if writer.f.id.valid:  # an unexpected error: keep what was written, marked
                writer.close("failed", note=f"{sys.exc_info()[0].__name__}: {sys.exc_info()[1]}")
            raise
    if plan.record.spikes and writer.n_spikes == 0:
        log(_silent_note(plan))
    return path


def _silent_note(plan) -> str:
    """What a run in which no neuron spiked tells its user (most often an input below
    threshold, or in the wrong unit), and the analysis that finds the threshold current."""
    where = plan.source.where(("input",)) if plan.source is not None else "the config"
    config = plan.source.file if plan.source is not None else ""
    if Path(config).suffix not in (".yaml", ".yml"):  # --from FILE.h5, a mapping from Python
        config = "CONFIG"
    return (f"note: no neuron spiked: 0 spikes from {plan.n} neurons in "
            f"{plan.duration:g} ms. The input ({where}) may be below the model's "
            f"threshold current, or in another unit than the model's: `spikesim analyze "
            f"rheobase {config}` finds each neuron's rheobase")


def _open_writer(plan, devices, start):
    try:
        return Writer(plan, device_label(devices), start)
    except OSError as e:
        partial_path(Path(plan.output)).unlink(missing_ok=True)
        raise RunError(f"cannot create {partial_path(Path(plan.output))}: {e}. Nothing was "
                       f"computed; free some space or choose another path with -o") from None


def _continue_inputs(engine, carry, start, log):
    """Put the stored states of random input protocols into the initial carry, so that e.g.
    an OU current continues rather than restarts; a protocol with no matching stored state
    starts afresh (with a warning)."""
    y, s_in, k = carry
    s_in = list(s_in)
    for name, i in engine.syn_names.items():
        stored = start.synapses.get(name)
        if stored is None:
            log(f"warning: input {i} ({engine.protocols[i].type}) starts with {name} = 0: "
                f"{start.source} holds no {name}")
            continue
        s_in[i] = engine.place_like(stored, s_in[i])
    dropped = sorted(set(start.synapses) - set(engine.syn_names))
    if dropped:  # e.g. the warm-up's synaptic input is not in this config: its current stops
        log(f"warning: {start.source} holds {', '.join(dropped)}, which no synaptic input of "
            f"this config continues: dropped")
    for i in engine.random:
        proto = engine.protocols[i]
        stored = start.inputs.get(i)
        leaves, tree = jax.tree.flatten(s_in[i])
        if stored is None or stored[0] != proto.type or len(stored[1]) != len(leaves):
            log(f"warning: input {i} ({proto.type}) starts afresh: {start.source} holds no "
                f"state for it")
            continue
        s_in[i] = jax.tree.unflatten(tree, [engine.place_like(v, x)
                                            for v, x in zip(stored[1], leaves)])
    return y, tuple(s_in), k


def _loop(plan, engine, writer, carry, compile_s, quiet, stop, start):
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
                    nxt = (carry, k0, k_end, engine.run_chunk(carry, k_end, k0))
                    carry = nxt[3][0]
                if pending is not None:
                    c_in, k0p, k_endp, (c_out, words, samples, finite) = pending
                    if not np.asarray(finite).all():
                        raise RunError(_blowup_message(plan, engine, c_in, k0p, k_endp))
                    # the words stay in their shards (no assembled copy of the chunk)
                    offsets = None
                    if isinstance(words, tuple):  # precise timing: (words, offsets)
                        offsets = _Offsets(engine, engine.host_parts(words[1]), c_in, k0p,
                                           k_endp)
                        words = words[0]
                    _write_chunk(plan, writer, layout, k0p, k_endp, engine.host_parts(words),
                                 offsets, samples)
                    done = k_endp
                    writer.progress(done)
                    prog.update(task, completed=done)
                pending = nxt
                if stop.signum is not None and done < plan.n_steps:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            name = "SIGTERM" if stop.signum == signal.SIGTERM else "SIGINT"
            status = "failed"
            note = (f"interrupted ({name}) after {done} of {plan.n_steps} steps "
                    f"(t = {done * plan.dt:g} ms)")
            exc = RunError(f"interrupted ({name}): {writer.partial} keeps the first "
                           f"{done * plan.dt:g} ms ({done} of {plan.n_steps} steps), marked "
                           f"failed", exit_code=1 if name == "SIGTERM" else 130)
        except RunError as e:
            status, note, exc = "failed", str(e), e
        except OSError as e:
            status, note = "failed", f"write error after {done} steps: {e}"
            exc = RunError(f"write error: {e}. {writer.partial} keeps what was written up to "
                           f"t = {done * plan.dt:g} ms ({done} of {plan.n_steps} steps), "
                           f"marked failed. Free some space and run again")
    run_s = time.perf_counter() - t0
    try:
        if status == "complete":
            y, s_in, _ = carry
            inputs = {i: (engine.protocols[i].type,
                          [engine.host(x) for x in jax.tree.leaves(s_in[i])])
                      for i in engine.random}
            step0, time0 = (start.step, start.time) if start is not None else (0, 0.0)
            # the synaptic variables next to the model's (g_syn0, ...), at t = the run's end
            # before the events that would arrive then
            y = {**y, **{name: s_in[i] for name, i in engine.syn_names.items()}}
            writer.final_state({k: engine.host(v) for k, v in y.items()}, inputs,
                               step0 + plan.n_steps, time0 + plan.n_steps * plan.dt)
        path = writer.close(status, note=note, compile_seconds=compile_s, run_seconds=run_s)
    except OSError as e:
        if writer.f.id.valid:
            writer.close("failed", note=f"write error at the end: {e}")
        raise RunError(f"write error: {e}. {writer.partial} keeps the spikes and samples of "
                       f"the whole run but not its final state, marked failed") from None
    if status != "complete":
        raise exc
    return path


class _Offsets:
    """Precise timing: a chunk's offsets (one slot per neuron and block) and how to get them
    with room for every spike (:meth:`Engine.run_full`, from the chunk's input carry) where
    a neuron spiked twice in a block."""

    def __init__(self, engine, slots, carry, k0, k_end):
        self.slots = slots
        self.rerun = lambda: engine.run_full(carry, k_end, k0)


def _write_chunk(plan, writer, layout, k0, k_end, words, offsets, samples):
    B, rec = layout.block, plan.record
    if layout.words:
        n_valid = -(-(k_end - k0) // B)
        # decoded a few blocks at a time (cache-sized pieces), padding neurons dropped
        if offsets is None:
            for steps, ids in iter_spikes(words, k0, B, n_valid, plan.n):
                writer.spikes(steps, ids)
        else:  # precise timing: each spike with its offset in its step
            for steps, ids, off in iter_precise_spikes(words, offsets.slots, k0, B, n_valid,
                                                       plan.n, offsets.rerun):
                writer.spikes(steps, ids, off)
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
            n_rec = len(rec.neurons)
            if keep[-1] - keep[0] == keep.size - 1:  # consecutive rows (the usual case): a
                keep = slice(keep[0], keep[-1] + 1)  # view, not a copy of tens of MB
            writer.samples({v: np.asarray(x)[keep, :n_rec]
                            for v, x in zip(rec.variables, samples)})


def _finite(carry) -> bool:
    return all(bool(np.isfinite(np.asarray(x)).all()) for x in jax.tree.leaves(carry[0]))


def _locate_blowup(engine, c_in, k0, k_end):
    """The first step ``k`` whose state is not finite, between ``k0`` (finite, the state the
    failed chunk started from) and ``k_end``, with the states at ``k - 1`` and ``k``.
    Bisection with the compiled chunk itself (its steps past ``k_end`` hold the state), so
    the failure path needs no second compilation; each probe starts from the last finite
    state found, so the whole search costs about two chunks. It assumes that a state, once
    non-finite, stays so (NaN propagates; a model that resets an infinite value could
    hide an earlier step)."""
    lo, c_lo, hi, c_hi = k0, c_in, k_end, None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        c_mid = engine.run_chunk(c_lo, mid, lo)[0]
        if _finite(c_mid):
            lo, c_lo = mid, c_mid
        else:
            hi, c_hi = mid, c_mid
    if c_hi is None:
        c_hi = engine.run_chunk(c_lo, hi, lo)[0]
    return hi, c_lo, c_hi


def _blowup_message(plan, engine, c_in, k0, k_end) -> str:
    """Where and when the state first became NaN or inf, and what to try."""
    dt = plan.dt
    if k0 == 0 and not _finite(c_in):  # not even the initial state is finite
        k, c_lo, c_hi = 0, c_in, c_in
    else:
        k, c_lo, c_hi = _locate_blowup(engine, c_in, k0, k_end)
    # the padding neurons (copies that fill the devices' tiles) left out: they are not
    # the user's, and would be counted as "other neurons"
    state = {v: engine.host(x) for v, x in c_hi[0].items()}
    bad = {v: ~np.isfinite(x) for v, x in state.items()}
    hit = np.logical_or.reduce(list(bad.values()))
    nid = int(np.argmax(hit))
    var = next(v for v, b in bad.items() if b[nid])
    value = state[var][nid]
    who = f"neuron {nid}"
    if plan.varying:
        who += " (" + ", ".join(f"{key} = {vals[nid]:g}" for key, vals in plan.varying.items()) + ")"
    others = int(hit.sum()) - 1
    if k == 0:
        what = (f"the initial state is not finite: {var} of {who} is {value}. Check model.init "
                f"and the parameters of that neuron")
    else:
        was = engine.host(c_lo[0][var])[nid]
        what = (f"numerical blow-up at t = {k * dt:g} ms (step {k}): {var} of {who} became "
                f"{value} (it was {was:.6g} at t = {(k - 1) * dt:g} ms)"
                + (f"; {others} other neuron(s) too" if others > 0 else ""))
        tries = [f"a smaller dt (now {dt:g} ms)"]
        # exp_euler only where it steps the variable that blew up exactly (else it is Euler)
        better = [i for i in ("rk4", "exp_euler")
                  if i in plan.model.integrators() and i != plan.integrator
                  and (i != "exp_euler" or var in plan.model.linear_states())]
        if better:
            tries.append(f"simulation.integrator: {' or '.join(better)} (now {plan.integrator})")
        what += f". Try {', or '.join(tries)}, or check the parameters of that neuron"
    return (f"{what}. {partial_path(Path(plan.output))} keeps everything up to "
            f"t = {k0 * dt:g} ms (the last chunk that stayed finite), marked failed.")
