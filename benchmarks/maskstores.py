"""Masked stores in the compiled chunk programs (x86 CPUs): which kernels use ``vmaskmov``.

LLVM 22 (the one in jaxlib 0.10) turns ``store(select(m, x, load p), p)``, which XLA emits for
a select computed in place, into a masked store (``vmaskmovps``); AMD Zen 1-3 run it in
microcode (llvm/llvm-project issue 213195, fixed for those CPUs by pull request 214187 in a
later LLVM). On a Zen 3 EPYC the LIF grid step ran 2.5x slower so (benchmarks/RESULTS.md,
sixteenth session), before the integrate-and-fire step was written so that XLA no longer
stores in place there. This script compiles, as ``spikesim run`` does, the chunk program of
each config given (grid and precise timing, at ``--n`` neurons in float32, where the CPU
tiles are used) with XLA's object files dumped, and counts ``vmaskmov`` per kernel with
``objdump``. A kernel that runs once per step with such stores is worth a look on AMD CPUs;
those in scatters (the gathered batches of precise timing) run once per block.

Usage: python benchmarks/maskstores.py [configs/lif.yaml ...] [--n 100000]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_COMPILE = """
import sys, jax, spikesim
from spikesim.config.load import load
from spikesim.sim.engine import Engine
from spikesim.sim.plan import make_plan
plan = make_plan(load(sys.argv[1], sys.argv[2:]), sys.argv[1] + ".h5")
engine = Engine(plan, jax.devices())
engine.compile(engine.initial_carry(None))
"""


def masked_kernels(config: Path, overrides: list[str]) -> dict[str, int]:
    """Kernel name -> number of vmaskmov instructions, for the config's chunk program."""
    with tempfile.TemporaryDirectory() as d:
        flags = (f"--xla_dump_to={d} "
                 "--xla_backend_extra_options=xla_cpu_use_multi_output_fusion")
        env = dict(os.environ, XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} {flags}")
        r = subprocess.run([sys.executable, "-c", _COMPILE, str(config), *overrides],
                           env=env, capture_output=True, text=True, cwd=d)
        if r.returncode:
            raise RuntimeError(r.stderr.strip().splitlines()[-1])
        out = {}
        for obj in glob.glob(f"{d}/*jit_chunk*obj-file*.o"):
            asm = subprocess.run(["objdump", "-d", obj], capture_output=True, text=True).stdout
            if asm.count("vmaskmov"):
                out[obj.split("obj-file.")[-1].removesuffix(".o")] = asm.count("vmaskmov")
        return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("configs", nargs="*", type=Path,
                    default=[ROOT / "configs" / f"{m}.yaml" for m in
                             ("lif", "qif", "eif", "adex", "izhikevich", "hh_step",
                              "high_conductance", "my_model")])
    ap.add_argument("--n", type=int, default=100_000, help="population size")
    args = ap.parse_args(argv)
    if shutil.which("objdump") is None:
        sys.exit("objdump (binutils) is needed to read the compiled kernels")
    for cfg in args.configs:
        for timing in ("grid", "precise"):
            ov = [f"population.size={args.n}", "simulation.precision=float32",
                  f"simulation.spike_timing={timing}"]
            try:
                found = masked_kernels(cfg.resolve(), ov)
            except RuntimeError as e:
                print(f"{cfg.name:22} {timing:8} failed: {e}")
                continue
            shown = ", ".join(f"{k} ({v})" for k, v in sorted(found.items())) or "none"
            print(f"{cfg.name:22} {timing:8} {shown}", flush=True)


if __name__ == "__main__":
    main()
