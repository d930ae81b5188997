"""The figure of README.md's "Spike timing: grid or precise": the f-I curve of the LIF at
dt = 0.1 ms with both timings against its closed form, and each rate's relative error.

    python docs/lif_fi_timing.py [OUT.png]      # default docs/lif_fi_timing.png; seconds

Both runs are ``configs/lif_fi_precise.yaml`` (201 currents, 2 s each), one with
``simulation.spike_timing=grid``. A rate is 1000 / (mean inter-spike interval), the
mean being (last spike - first spike) / (spikes - 1): the figure shows the error of the
interval, not the edge effect of counting spikes in a window. The closed form of the
LIF under a constant current I (reset to v_rest, t_ref from the crossing):
rate = 1000 / (t_ref + tau_m ln(R_m I / (R_m I - (v_th - v_rest)))) Hz.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import spikesim

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "configs" / "lif_fi_precise.yaml"


def rates(path) -> tuple[np.ndarray, np.ndarray, dict]:
    """(currents, rates from the mean inter-spike interval, the model's parameters)."""
    r = spikesim.load(path)
    current = r.neurons["input.amplitude"]
    rate = np.full(current.size, np.nan)
    for i, t in enumerate(r.spikes.times):
        if t.size >= 2:
            rate[i] = 1000.0 * (t.size - 1) / (t[-1] - t[0])
    return current, rate, r.config["model"]["params"]


def main(out: Path = HERE / "lif_fi_timing.png", *overrides: str) -> tuple[Path, dict]:
    """Run both timings (``overrides``: more ``KEY=VALUE`` for both) and draw; returns
    ``out`` and, per timing, the relative rate errors against the closed form."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with tempfile.TemporaryDirectory() as tmp:
        runs = {timing: rates(spikesim.run(str(CONFIG), f"simulation.spike_timing={timing}",
                                           *overrides, output=Path(tmp) / f"{timing}.h5"))
                for timing in ("grid", "precise")}
    current, _, p = runs["precise"]
    fine = np.linspace(current.min(), current.max(), 2000)

    def closed(i):
        return 1000.0 / (p["t_ref"] + p["tau_m"] * np.log(
            p["R_m"] * i / (p["R_m"] * i - (p["v_th"] - p["v_rest"]))))

    fig = Figure(figsize=(8, 6.4), dpi=110)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.3, 1])
    top.plot(fine, closed(fine), color="0.6", lw=3, label="closed form")
    style = {"grid": dict(color="#d62728", marker="o", ms=3, lw=0),
             "precise": dict(color="#1f77b4", marker=".", ms=4, lw=0)}
    errors = {timing: np.abs(rate / closed(i) - 1.0) for timing, (i, rate, _) in runs.items()}
    for timing, (i, rate, _) in runs.items():
        top.plot(i, rate, label=f"spike_timing: {timing}", **style[timing])
        bottom.semilogy(i, np.maximum(errors[timing], 1e-17), **style[timing])
    # the staircase, magnified: on the grid an interval is a whole number of steps
    zoom = top.inset_axes([0.6, 0.08, 0.38, 0.5])
    near = fine >= 5.3
    zoom.plot(fine[near], closed(fine[near]), color="0.6", lw=3)
    for timing, (i, rate, _) in runs.items():
        zoom.plot(i[i >= 5.3], rate[i >= 5.3], **style[timing])
    zoom.tick_params(labelsize=7)
    zoom.set_title("5.3-6 nA", fontsize=8, loc="left")
    top.set_ylabel("rate (Hz)")
    top.legend(frameon=False, loc="upper left")
    top.set_title("LIF f-I curve at dt = 0.1 ms (tau_m 10 ms, t_ref 2 ms, exp_euler)",
                  loc="left", fontsize=10)
    bottom.set_ylabel("|rate / closed form - 1|")
    bottom.set_xlabel("input current (nA)")
    bottom.set_ylim(1e-17, 1e-1)
    if any(np.nanmin(err) < 1e-17 for err in errors.values()):
        bottom.text(0.99, 0.03, "errors below 1e-17 drawn at 1e-17",
                    transform=bottom.transAxes, ha="right", fontsize=8, color="0.4")
    for ax in (top, bottom):
        ax.grid(alpha=0.25, lw=0.5)
    fig.tight_layout()
    fig.savefig(out)
    return out, errors


if __name__ == "__main__":
    path, errors = main(*(Path(a) for a in sys.argv[1:2]))
    for timing, err in errors.items():
        print(f"{timing:8s} relative rate error: mean {np.nanmean(err):.2g}, "
              f"largest {np.nanmax(err):.2g}")
    print(path)
