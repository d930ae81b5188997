"""Start-up time of the commands that simulate nothing (issue 14): each as a fresh process,
as a user starts it, with the median wall time over ``--repeats`` runs and whether JAX was
imported (which costs more than the rest together).

The baseline, measured in the same run, is ``python3 -c pass`` (the interpreter alone) and
``python3 -c "import jax"``, so that figures from machines of different speed compare as
ratios. The target of issue 14 is under 0.7 s each.

Usage: python benchmarks/startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# runs the CLI, then says on stderr's last line whether jax was imported
_PROBE = ("import sys, runpy; sys.argv = ['spikesim'] + sys.argv[1:]\n"
          "try:\n    runpy.run_module('spikesim', run_name='__main__')\n"
          "except SystemExit:\n    pass\n"
          "print('JAX' if 'jax' in sys.modules else 'NOJAX', file=sys.stderr)\n")


def _time(argv: list[str], repeats: int) -> tuple[float, bool]:
    times, jax = [], False
    for _ in range(repeats):
        t = time.perf_counter()
        r = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
        jax = r.stderr.strip().endswith("JAX") and not r.stderr.strip().endswith("NOJAX")
    return statistics.median(times), jax


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        h5 = Path(tmp) / "hh.h5"
        subprocess.run([py, "-m", "spikesim", "run", "configs/hh_step.yaml", "-q", "-o", str(h5),
                        "population.size=10", "simulation.duration=20"], check=True, cwd=ROOT,
                       capture_output=True)
        png = Path(tmp) / "hh.png"
        cases = {
            "python -c pass": [py, "-c", "pass"],
            "python -c 'import jax'": [py, "-c", "import jax"],
            "spikesim --help": ["--help"],
            "spikesim --version": ["--version"],
            "spikesim models": ["models"],
            "spikesim models hodgkin_huxley": ["models", "hodgkin_huxley"],
            "spikesim schema": ["schema"],
            "spikesim inspect FILE": ["inspect", str(h5)],
            "spikesim plot FILE": ["plot", str(h5), "-o", str(png)],
            "spikesim validate CONFIG": ["validate", "configs/hh_step.yaml"],
            "import spikesim; spikesim.load(FILE)": [py, "-c", "import sys, spikesim; "
                                                     f"spikesim.load({str(h5)!r}); print("
                                                     "'JAX' if 'jax' in sys.modules else "
                                                     "'NOJAX', file=sys.stderr)"],
        }
        base = None
        print(f"{'command':40s} {'median s':>9s} {'x python':>9s}  jax imported")
        for name, argv in cases.items():
            if argv[0] != py:
                argv = [py, "-c", _PROBE, *argv]
            t, jax = _time(argv, args.repeats)
            base = base or t
            shown = "-" if name.startswith("python") else ("yes" if jax else "no")
            print(f"{name:40s} {t:9.3f} {t / base:9.2f}  {shown}")


if __name__ == "__main__":
    main()
