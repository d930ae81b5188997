"""``spikesim merge RUN_DIR -o FILE.h5``: the shards of a sharded run (:mod:`spikesim.cluster.shards`)
joined into one ordinary spikesim file, equal to the unsharded run's except for provenance
and timings.

* spikes: a k-way merge by time of the shards' spike lists, streamed in blocks. The
  unsharded run orders spikes by step, then by neuron id; the shards hold contiguous id
  ranges in order, so a stable sort of each merged block by timestamp, the shards'
  pieces in shard order, gives the same order (SONATA ``sorting = by_time``);
* reports, ``/neurons`` and ``/state``: joined along the neuron axis (the last axis of each
  dataset), a shard at a time and, for reports, a block of rows at a time;
* attributes: the shards' (all equal but for timings, device and creation time), with
  ``n_neurons`` of the whole run, the manifest's config (``output.path`` = the merged file),
  ``compile_seconds`` and ``run_seconds`` summed over the shards (per shard in
  ``shard_compile_seconds``, ``shard_run_seconds``), ``merge_seconds``, and ``merged_from``.

Memory stays bounded whatever the run's size: about ``SPIKE_BUDGET`` spikes in flight across
all shards, ``REPORT_BUDGET`` bytes of report rows, and one shard's per-neuron arrays.
The merged file is written as ``FILE.h5.partial`` and renamed when complete.
"""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

import h5py
import numpy as np

from ..errors import UsageError
from .shards import check_merge_output, read_manifest, states, with_output
from ..config.preflight import partial_path
from ..io.writer import Writer

#: spikes read ahead over all shards together (16 bytes each: 64 MiB)
SPIKE_BUDGET = 1 << 22
#: fewest spikes read from a shard at a time
MIN_BLOCK = 4096
#: bytes of report rows copied at a time
REPORT_BUDGET = 64 << 20
#: root attributes that describe one shard, not the merged run
SHARD_ATTRS = ("shard", "shards", "neuron_start", "neuron_stop", "config_hash")


def check_complete(run_dir: Path, manifest: dict):
    """UsageError (exit 2) naming every shard that is missing or failed: a shard that is not
    there is never read as zeros."""
    bad = [(i, s, d) for i, (s, d) in enumerate(states(run_dir, manifest)) if s != "complete"]
    if bad:
        k = manifest["shards"]
        lines = [f"  shard {i}: {s} ({d})" for i, s, d in bad[:50]]
        if len(bad) > 50:
            lines.append(f"  ... and {len(bad) - 50} more")
        raise UsageError(
            f"cannot merge {run_dir}: {len(bad)} of {k} shards are not complete:\n"
            + "\n".join(lines) + f"\nRun the same `spikesim run CONFIG --shards {k} -o "
            f"{run_dir}` again: it runs only these")


def _raise_open_files(k: int):
    """A k-way merge holds every shard open: raise the soft limit of open files towards
    the hard one when K needs it."""
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = k + 64
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def merge(run_dir: str | Path, out: str | Path, force: bool = False) -> Path:
    """Merge the complete shards of ``run_dir`` into ``out``; returns ``out``."""
    t0 = time.perf_counter()
    run_dir, out = Path(run_dir), Path(out)
    manifest = read_manifest(run_dir)
    check_complete(run_dir, manifest)
    check_merge_output(out, run_dir, manifest, force)
    _raise_open_files(manifest["shards"])
    made = [d for d in (out.parent, *out.parent.parents) if not d.exists()]  # deepest first
    out.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(out)
    paths = [run_dir / name for name in manifest["files"]]
    shards = [h5py.File(p, "r") for p in paths]
    try:
        with h5py.File(part, "w") as f:
            _attrs(f, shards, manifest, out, run_dir)
            pop = manifest["population"]
            starts = [lo for lo, _ in manifest["ranges"]]
            if f"spikes/{pop}" in shards[0]:
                _spikes(f, shards, pop, starts)
            if f"report/{pop}" in shards[0]:
                _reports(f, shards, pop, starts)
            for group in ("neurons", "state"):
                if f"{group}/{pop}" in shards[0]:
                    _join_group(f, shards, f"{group}/{pop}")
            f[f"neurons/{pop}"].attrs["n"] = manifest["n_neurons"]
            f.attrs["merge_seconds"] = time.perf_counter() - t0
            f.attrs["status"] = "complete"
    except BaseException:
        part.unlink(missing_ok=True)
        for d in made:  # a merge that fails leaves no folder it made either
            try:
                d.rmdir()
            except OSError:
                break
        raise
    finally:
        for s in shards:
            s.close()
    os.replace(part, out)
    return out


def _attrs(f, shards, manifest, out, run_dir):
    a0 = shards[0].attrs
    for k, v in a0.items():
        if k not in SHARD_ATTRS:
            f.attrs[k] = v
    f.attrs["n_neurons"] = manifest["n_neurons"]
    f.attrs["config"] = with_output(manifest["config"], out)
    f.attrs["status"] = "running"
    f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    comp = np.asarray([s.attrs.get("compile_seconds", np.nan) for s in shards], np.float64)
    run = np.asarray([s.attrs.get("run_seconds", np.nan) for s in shards], np.float64)
    f.attrs["compile_seconds"] = comp.sum()
    f.attrs["run_seconds"] = run.sum()
    f.attrs["shard_compile_seconds"] = comp
    f.attrs["shard_run_seconds"] = run
    devices = list(dict.fromkeys(str(s.attrs.get("device", "")) for s in shards))
    f.attrs["device"] = devices[0] if len(devices) == 1 else "; ".join(devices)
    f.attrs["merged_from"] = str(Path(run_dir).resolve())
    f.attrs["merged_shards"] = manifest["shards"]


def _spikes(f, shards, pop, starts):
    """k-way merge by time, streamed: each shard's spikes are read ahead in blocks; all
    spikes earlier than the earliest last-read time of the shards that have more to read
    are final, and are sorted (stably, shards in order) and appended."""
    src = f"spikes/{pop}"
    g = f.create_group(src)
    for k, v in shards[0][src].attrs.items():
        g.attrs[k] = v
    C = Writer.SPIKE_CHUNK
    ts_out = g.create_dataset("timestamps", (0,), np.float64, maxshape=(None,), chunks=(C,))
    for k, v in shards[0][f"{src}/timestamps"].attrs.items():
        ts_out.attrs[k] = v
    id_out = g.create_dataset("node_ids", (0,), np.uint64, maxshape=(None,), chunks=(C,))
    ts = [s[f"{src}/timestamps"] for s in shards]
    ids = [s[f"{src}/node_ids"] for s in shards]
    total = [d.shape[0] for d in ts]
    pos = [0] * len(shards)
    block = max(MIN_BLOCK, SPIKE_BUDGET // len(shards))
    buf_t = [np.empty(0, np.float64) for _ in shards]
    buf_i = [np.empty(0, np.uint64) for _ in shards]
    written = 0

    def read(j):
        hi = min(pos[j] + block, total[j])
        buf_t[j] = np.concatenate([buf_t[j], ts[j][pos[j]:hi]])
        buf_i[j] = np.concatenate([buf_i[j], ids[j][pos[j]:hi] + np.uint64(starts[j])])
        pos[j] = hi

    for j in range(len(shards)):
        read(j)
    while any(b.size for b in buf_t):
        more = [j for j in range(len(shards)) if pos[j] < total[j]]
        cutoff = min((buf_t[j][-1] for j in more if buf_t[j].size), default=np.inf)
        cut = [int(np.searchsorted(b, cutoff, side="left")) for b in buf_t]
        if not any(cut):
            # every buffered spike is at the cutoff time: read further where it binds
            for j in more:
                if buf_t[j].size == 0 or buf_t[j][-1] == cutoff:
                    read(j)
            continue
        t = np.concatenate([b[:c] for b, c in zip(buf_t, cut)])
        i = np.concatenate([b[:c] for b, c in zip(buf_i, cut)])
        order = np.argsort(t, kind="stable")
        n = t.size
        ts_out.resize((written + n,))
        id_out.resize((written + n,))
        ts_out[written:] = t[order]
        id_out[written:] = i[order]
        written += n
        for j, c in enumerate(cut):
            buf_t[j], buf_i[j] = buf_t[j][c:], buf_i[j][c:]
            if buf_t[j].size == 0 and pos[j] < total[j]:
                read(j)


def _copy_attrs(src, dst):
    for k, v in src.attrs.items():
        dst.attrs[k] = v


def _reports(f, shards, pop, starts):
    root = f"report/{pop}"
    for var in shards[0][root]:
        base = f"{root}/{var}"
        d0 = shards[0][f"{base}/data"]
        widths = [s[f"{base}/data"].shape[1] for s in shards]
        n_rec, rows = sum(widths), d0.shape[0]
        g = f.create_group(base)
        _copy_attrs(shards[0][base], g)
        # the writer's chunk shape for this many recorded neurons
        r = max(1, min(d0.maxshape[0], max(1, (1 << 20) // max(1, n_rec))))
        c = max(1, min(n_rec, (1 << 20) // r))
        chunked = next((s[f"{base}/data"] for s in shards if s[f"{base}/data"].chunks), d0)
        d = g.create_dataset("data", (rows, n_rec), d0.dtype, maxshape=(d0.maxshape[0], n_rec),
                             chunks=(r, c), compression=chunked.compression,
                             compression_opts=chunked.compression_opts)
        _copy_attrs(d0, d)
        col = 0
        for s, w in zip(shards, widths):
            if w:
                src = s[f"{base}/data"]
                step = max(1, REPORT_BUDGET // (w * d0.dtype.itemsize))
                for r0 in range(0, rows, step):
                    d[r0:r0 + step, col:col + w] = src[r0:r0 + step]
            col += w
        m = g.create_group("mapping")
        _copy_attrs(shards[0][f"{base}/mapping"], m)
        m.create_dataset("node_ids", data=np.concatenate(
            [s[f"{base}/mapping/node_ids"][()] + np.uint64(lo) for s, lo in zip(shards, starts)]
        ).astype(np.uint64))
        t = m.create_dataset("time", data=shards[0][f"{base}/mapping/time"][()])
        _copy_attrs(shards[0][f"{base}/mapping/time"], t)


def _join_group(f, shards, path):
    """Copy group ``path``: datasets whose last axis is each shard's neuron axis are joined
    along it, shard by shard; anything else (the sweep's axis values) is shard 0's."""
    ns = [int(s.attrs["n_neurons"]) for s in shards]
    g = f.require_group(path)
    _copy_attrs(shards[0][path], g)
    for name, item in shards[0][path].items():
        sub = f"{path}/{name}"
        if isinstance(item, h5py.Group):
            if name == "sweep":  # the axis values, not per neuron
                shards[0].copy(item, g, name=name)
            else:
                _join_group(f, shards, sub)
            continue
        parts = [s[sub] for s in shards]
        if item.ndim >= 1 and all(p.shape[-1] == n for p, n in zip(parts, ns)):
            d = g.create_dataset(name, item.shape[:-1] + (sum(ns),), item.dtype)
            at = 0
            for p, n in zip(parts, ns):
                d[..., at:at + n] = p[()]
                at += n
        else:
            d = g.create_dataset(name, data=item[()])
        _copy_attrs(item, d)
