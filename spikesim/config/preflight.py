"""What a run checks before any work: the output path and the devices. ``spikesim validate``
runs the same checks, so a config that validates does not fail on them later.

Problems name where the value came from (``file:line`` of the config, an override or ``-o``)
and are usage errors: exit 2, nothing written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import UsageError


def partial_path(path: Path) -> Path:
    """Where a run writes ``path`` while it runs (``Path.with_name`` would refuse ``.``)."""
    return Path(f"{path}.partial")


#: below this many neurons per device, sharding a CPU run costs more than it gains
MIN_NEURONS_PER_CPU_DEVICE = 4096


def _where(plan, path: tuple) -> str:
    src = getattr(plan, "source", None)
    return f"{src.where(path)}: " if src is not None else ""


def being_written(path: Path) -> bool:
    """Whether a running process holds ``path`` open for writing: HDF5 locks the files it
    writes (flock, exclusive), and a shared lock then cannot be had."""
    try:
        import fcntl
    except ImportError:  # no flock here (Windows): HDF5 does not lock either
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    except OSError:  # a file system without locks
        return False
    finally:
        os.close(fd)


def preflight(plan, force: bool = False, protect=()) -> list:
    """Check the output path (never one of ``protect``, the config and input files) and the
    devices; returns the JAX devices of the run."""
    check_output(plan, force, protect)
    return select_devices(plan)


def protected_files(plan) -> list[Path]:
    """Files a run reads and must never replace: the config file and every input file."""
    files = []
    src = getattr(plan, "source", None)
    if src is not None and Path(src.file).is_file():
        files.append(Path(src.file))
    for proto, _ in plan.inputs:
        resolved = getattr(proto, "_resolved", None)
        if resolved is not None:
            files.append(Path(resolved))
    return files


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(plan, force: bool, protect=()):
    """Refuse to overwrite (exit 2) and make sure the folder can be written, before any work."""
    where = "-o: " if getattr(plan, "output_given", False) else _where(plan, ("output", "path"))
    check_output_path(Path(plan.output), force or plan.overwrite,
                      list(protect) + protected_files(plan), where,
                      force_hint="--force (or output.overwrite: true)")


def nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (where folders would be created)."""
    while not path.exists():
        path = path.parent
    return path


def check_output_path(out: Path, force: bool, protect=(), where: str = "-o: ",
                      option: str = "-o", force_hint: str = "--force",
                      suffixes: tuple = (".h5", ".hdf5"), kind: str = "an HDF5 file"):
    """:func:`check_output` for a path: the file to write, files it must not be
    (``protect``), where the path was given (for messages), the option that gives it, and
    the file names it takes (``suffixes``, a file of ``kind``)."""
    text = str(out)
    if "\0" in text:
        raise UsageError(f"{where}output path {text!r} holds a NUL byte; choose another path")
    try:
        name_max = os.pathconf(out.parent if out.parent.exists() else ".", "PC_NAME_MAX")
        path_max = os.pathconf(".", "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    long = [p for p in out.parts if len(os.fsencode(p)) + len(".partial") > name_max]
    if long:
        raise UsageError(f"{where}output path: the name {long[0][:40]}... has "
                         f"{len(os.fsencode(long[0]))} bytes; file names here take at most "
                         f"{name_max - len('.partial')} (with room for .partial). Choose a "
                         f"shorter name")
    if len(os.fsencode(str(out.absolute()))) + len(".partial") > path_max:
        raise UsageError(f"{where}output path has {len(os.fsencode(str(out.absolute())))} "
                         f"bytes; paths here take at most {path_max - len('.partial')}. Choose "
                         f"a shorter path")
    if out.is_dir():  # before the suffix: the folder, not its name, is the mistake
        raise UsageError(f"{where}output path {out} is a folder; give a file name ending in "
                         f"{suffixes[0]}, e.g. {out / ('NAME' + suffixes[0])}")
    if out.suffix not in suffixes:
        raise UsageError(f"{where}output path {out} should end in {suffixes[0]} ({kind})")
    part = partial_path(out)
    if part.is_dir():
        raise UsageError(f"{where}{part}, where the output is written while it runs, is a "
                         f"folder; move it away or choose another path with {option}")
    for f in protect:
        if _same_file(out, Path(f)) or _same_file(part, Path(f)):
            raise UsageError(f"{where}output path {out} is {f}, which this run reads; "
                             f"choose another path with {option}")
    if out.exists() and not force:
        raise UsageError(f"{out} exists; pass {force_hint} to replace it when the new run "
                         f"completes, or choose another path with {option}")
    if part.exists() and not force:
        raise UsageError(f"{part} exists (left by an earlier run that did not complete); look "
                         f"at it with `spikesim inspect {part}`, then delete it or pass --force")
    if part.exists() and being_written(part):  # --force (or a shard's rerun) would clobber it
        raise UsageError(f"{part} is being written by another run (its file is locked): the "
                         f"same output twice at once. Wait for that run to end (or stop it), "
                         f"or choose another path with {option}")
    # The nearest existing folder must take a new file: try one (os.access says yes to root
    # even on a read-only file system). No folder is created yet, so that a later exit 2
    # leaves nothing behind; the writer creates them.
    folder = out.parent
    existing = nearest_existing(folder)
    if not existing.is_dir():
        raise UsageError(f"{where}cannot create output folder {folder}: {existing} is a file, "
                         f"not a folder. Choose another path with {option}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".spikesim-", suffix=".probe", dir=existing)
    except OSError as e:
        raise UsageError(f"{where}output folder {existing} is not writable ({e.strerror}). "
                         f"Choose another path with {option}") from None
    os.close(fd)
    os.unlink(probe)


def select_devices(plan) -> list:
    """The JAX devices for ``simulation.device`` (auto | cpu | gpu) and
    ``simulation.devices`` (auto | all | N). ``auto`` shares a CPU run among all host CPU
    devices (spikesim asks XLA for one per core) when each gets at least
    ``MIN_NEURONS_PER_CPU_DEVICE`` neurons, and keeps a GPU run on one GPU."""
    import jax

    name = plan.device
    if name == "auto":
        devs = jax.devices()
    else:
        try:
            devs = jax.devices(name)
        except RuntimeError:
            devs = []
    if not devs:
        fix = ("install the GPU build (pip install -e \".[cuda12]\" or \".[cuda13]\") on a "
               "machine with an NVIDIA GPU, or use --device cpu / auto") if name == "gpu" else ""
        raise UsageError(f"{_where(plan, ('simulation', 'device'))}simulation.device: device "
                         f"{name!r} was asked for, but JAX sees none (available: "
                         f"{', '.join(sorted({d.platform for d in jax.devices()}))}). {fix}")
    want = plan.devices
    if want == "all":
        return devs
    if want == "auto":
        if devs[0].platform != "cpu":
            return devs[:1]
        return devs[:max(1, min(len(devs), plan.n // MIN_NEURONS_PER_CPU_DEVICE))]
    if want > len(devs):
        hint = (" For simulated CPU devices set XLA_FLAGS=--xla_force_host_platform_device_count"
                f"={want} before starting." if devs[0].platform == "cpu" else "")
        raise UsageError(f"{_where(plan, ('simulation', 'devices'))}simulation.devices: {want} "
                         f"devices were asked for, but JAX sees {len(devs)} {devs[0].platform} "
                         f"device(s). Use at most {len(devs)}, or all.{hint}")
    return devs[:want]


def device_label(devs) -> str:
    d = devs[0]
    if len(devs) == 1:
        return f"{d.platform}:{d.id} ({d.device_kind})"
    return (f"{d.platform} x{len(devs)} ({d.device_kind}; devices "
            f"{', '.join(str(x.id) for x in devs)})")
