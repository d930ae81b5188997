"""The model equations written out again from the papers, in numpy (float64, one neuron), as
right-hand sides for scipy's ``solve_ivp``: the independent references of the model tests,
sharing no code with spikesim."""

import numpy as np


def rhs(name, p, current):
    """Right-hand side of model ``name`` with parameters ``p`` (floats). ``current`` is a number,
    a function of t, or one of t and the membrane potential y[0] (a conductance input: a
    function with the attribute ``conductance`` set). Returns (f, names of the integrated
    states in the order of y)."""

    def f_of(g):
        def f(t, y):
            if getattr(current, "conductance", False):
                return g(t, y, current(t, y[0]))
            return g(t, y, current(t) if callable(current) else current)
        return f

    if name == "hodgkin_huxley":  # Hodgkin & Huxley 1952, u = v - v_rest
        def g(t, y, I):
            v, n, m, h = y
            u = v - p["v_rest"]
            an = 0.01 * (10 - u) / np.expm1((10 - u) / 10)
            am = 0.1 * (25 - u) / np.expm1((25 - u) / 10)
            bn, bm = 0.125 * np.exp(-u / 80), 4 * np.exp(-u / 18)
            ah, bh = 0.07 * np.exp(-u / 20), 1 / (np.exp((30 - u) / 10) + 1)
            i_ion = (p["g_Na"] * m**3 * h * (v - p["E_Na"]) + p["g_K"] * n**4 * (v - p["E_K"])
                     + p["g_L"] * (v - p["E_L"]))
            return [(p["R_m"] * I - i_ion) / p["C"], an * (1 - n) - bn * n,
                    am * (1 - m) - bm * m, ah * (1 - h) - bh * h]
        return f_of(g), ["v", "n", "m", "h"]
    if name == "wang_buzsaki":  # Wang & Buzsaki 1996
        def g(t, y, I):
            v, h, n = y
            am = -0.1 * (v + 35) / (np.exp(-0.1 * (v + 35)) - 1)
            bm = 4 * np.exp(-(v + 60) / 18)
            ah, bh = 0.07 * np.exp(-(v + 58) / 20), 1 / (np.exp(-0.1 * (v + 28)) + 1)
            an = -0.01 * (v + 34) / (np.exp(-0.1 * (v + 34)) - 1)
            bn = 0.125 * np.exp(-(v + 44) / 80)
            minf = am / (am + bm)
            i_ion = (p["g_Na"] * minf**3 * h * (v - p["E_Na"]) + p["g_K"] * n**4
                     * (v - p["E_K"]) + p["g_L"] * (v - p["E_L"]))
            return [(I - i_ion) / p["C"], p["phi"] * (ah * (1 - h) - bh * h),
                    p["phi"] * (an * (1 - n) - bn * n)]
        return f_of(g), ["v", "h", "n"]
    if name == "adex":  # Brette & Gerstner 2005 in ngclearn's tau_m, R_m form
        def g(t, y, I):
            v, w = y
            dv = (-(v - p["v_rest"]) + p["delta_T"] * np.exp((v - p["v_T"]) / p["delta_T"])
                  - p["R_m"] * w + p["R_m"] * I) / p["tau_m"]
            return [dv, (-w + p["a"] * (v - p["v_rest"])) / p["tau_w"]]
        return f_of(g), ["v", "w"]
    if name == "izhikevich":  # Izhikevich 2003
        def g(t, y, I):
            v, u = y
            return [0.04 * v * v + 5 * v + 140 - u + I, p["a"] * (p["b"] * v - u)]
        return f_of(g), ["v", "u"]
    if name == "lif":  # inferno voltage_integration_linear's equation
        def g(t, y, I):
            return [(-(y[0] - p["v_rest"]) + p["R_m"] * I) / p["tau_m"]]
        return f_of(g), ["v"]
    if name == "qif":  # inferno voltage_integration_quadratic
        def g(t, y, I):
            return [(p["a"] * (y[0] - p["v_rest"]) * (y[0] - p["v_crit"]) + p["R_m"] * I)
                    / p["tau_m"]]
        return f_of(g), ["v"]
    if name == "eif":  # inferno voltage_integration_exponential
        def g(t, y, I):
            return [(-(y[0] - p["v_rest"]) + p["delta_T"] * np.exp((y[0] - p["v_T"])
                     / p["delta_T"]) + p["R_m"] * I) / p["tau_m"]]
        return f_of(g), ["v"]
    if name == "hh_mcurrent":  # HH 1952 + M-current (Yamada et al. 1989, Pospischil 2008)
        f_hh, _ = rhs("hodgkin_huxley", {**p, "R_m": 1.0}, current)

        def g(t, y, I):
            v, n, m, h, q = y
            dv, dn, dm, dh = f_hh(t, [v, n, m, h])
            q_inf = 1 / (1 + np.exp(-(v + 35) / 10))
            tau_q = p["tau_max"] / (3.3 * np.exp((v + 35) / 20) + np.exp(-(v + 35) / 20))
            return [dv - p["g_M"] * q * (v - p["E_K"]) / p["C"], dn, dm, dh, (q_inf - q) / tau_q]
        return f_of(g), ["v", "n", "m", "h", "p"]
    if name == "morris_lecar":  # Morris & Lecar 1981, Rinzel & Ermentrout 1998 form
        def g(t, y, I):
            v, w = y
            m_inf = 0.5 * (1 + np.tanh((v - p["V1"]) / p["V2"]))
            w_inf = 0.5 * (1 + np.tanh((v - p["V3"]) / p["V4"]))
            lam = p["phi"] * np.cosh((v - p["V3"]) / (2 * p["V4"]))
            i_ion = (p["g_L"] * (v - p["E_L"]) + p["g_Ca"] * m_inf * (v - p["E_Ca"])
                     + p["g_K"] * w * (v - p["E_K"]))
            return [(I - i_ion) / p["C"], lam * (w_inf - w)]
        return f_of(g), ["v", "w"]
    if name == "fitzhugh_nagumo":  # FitzHugh 1961, time in ms
        def g(t, y, I):
            v, w = y
            return [v - v**3 / 3 - w + I, (v + p["a"] - p["b"] * w) / p["tau"]]
        return f_of(g), ["v", "w"]
    if name == "hindmarsh_rose":  # Hindmarsh & Rose 1984, time in ms
        def g(t, y, I):
            x, yy, z = y
            return [yy - p["a"] * x**3 + p["b"] * x**2 - z + I, p["c"] - p["d"] * x**2 - yy,
                    p["r"] * (p["s"] * (x - p["x_R"]) - z)]
        return f_of(g), ["x", "y", "z"]
    if name == "connor_stevens":  # Dayan & Abbott 2001, section 6.2 (per mm^2)
        def g(t, y, I):
            v, n, m, h, a, b = y
            an = 0.02 * (v + 45.7) / (1 - np.exp(-0.1 * (v + 45.7)))
            bn = 0.25 * np.exp(-0.0125 * (v + 55.7))
            am = 0.38 * (v + 29.7) / (1 - np.exp(-0.1 * (v + 29.7)))
            bm = 15.2 * np.exp(-0.0556 * (v + 54.7))
            ah = 0.266 * np.exp(-0.05 * (v + 48))
            bh = 3.8 / (1 + np.exp(-0.1 * (v + 18)))
            a_inf = np.cbrt(0.0761 * np.exp(0.0314 * (v + 94.22)) / (1 + np.exp(0.0346 * (v + 1.17))))
            tau_a = 0.3632 + 1.158 / (1 + np.exp(0.0497 * (v + 55.96)))
            b_inf = (1 + np.exp(0.0688 * (v + 53.3))) ** -4
            tau_b = 1.24 + 2.678 / (1 + np.exp(0.0624 * (v + 50)))
            # currents in uA/mm^2 (mS/mm^2 x mV); I_e/A in nA/mm^2 = 1e-3 uA/mm^2;
            # c_m in nF/mm^2: (uA/mm^2) / (nF/mm^2) = 1000 mV/ms
            i_m = (p["g_L"] * (v - p["E_L"]) + p["g_K"] * n**4 * (v - p["E_K"])
                   + p["g_Na"] * m**3 * h * (v - p["E_Na"]) + p["g_A"] * a**3 * b * (v - p["E_A"]))
            return [1000 * (1e-3 * I - i_m) / p["c_m"], an * (1 - n) - bn * n,
                    am * (1 - m) - bm * m, ah * (1 - h) - bh * h, (a_inf - a) / tau_a,
                    (b_inf - b) / tau_b]
        return f_of(g), ["v", "n", "m", "h", "a", "b"]
    raise KeyError(name)
