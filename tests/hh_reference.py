"""An independent float64 solution of classic Hodgkin-Huxley (scipy DOP853), written from the
1952 equations in the modern convention, sharing no code with spikesim."""

import numpy as np
from scipy.integrate import solve_ivp


def _rates(v):
    u = v + 65.0
    an = 0.01 * (10 - u) / (np.exp((10 - u) / 10) - 1)
    bn = 0.125 * np.exp(-u / 80)
    am = 0.1 * (25 - u) / (np.exp((25 - u) / 10) - 1)
    bm = 4 * np.exp(-u / 18)
    ah = 0.07 * np.exp(-u / 20)
    bh = 1 / (np.exp((30 - u) / 10) + 1)
    return an, bn, am, bm, ah, bh


def _rhs(t, y, current):
    v, n, m, h = y
    an, bn, am, bm, ah, bh = _rates(v)
    i_ion = 120 * m**3 * h * (v - 50) + 36 * n**4 * (v + 77) + 0.3 * (v + 54.387)
    return [current(t) - i_ion, an * (1 - n) - bn * n, am * (1 - m) - bm * m,
            ah * (1 - h) - bh * h]


def initial_state(v0=-65.0):
    an, bn, am, bm, ah, bh = _rates(v0)
    return [v0, an / (an + bn), am / (am + bm), ah / (ah + bh)]


def solve(current, t_end, t_eval=None, threshold=0.0):
    """Returns (solution, upward threshold-crossing times)."""
    def crossing(t, y, current):
        return y[0] - threshold

    crossing.direction = 1
    sol = solve_ivp(_rhs, (0.0, t_end), initial_state(), method="DOP853", rtol=1e-10,
                    atol=1e-10, events=crossing, args=(current,), t_eval=t_eval,
                    dense_output=t_eval is None, max_step=0.05)
    return sol, sol.t_events[0]
