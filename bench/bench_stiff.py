"""Benchmark (issue 4): wall time of the whole section-6.5 staircase (modular addition, p = 20,
width 18, square activation, alpha = 1e-2, seed 0, canonical t in [0, 2000] = MSELoss time
t' in [0, 2e4]) for gradient_flow(method="auto" | "implicit" | "explicit"), the paper's gradient
descent (lr 0.01, momentum 0.9, MSELoss, 2e5 steps) and SciPy BDF (with the exact Hessian as its
Jacobian).

    python bench/bench_stiff.py                       # auto, implicit, gd, bdf, torch32 (if installed)
    python bench/bench_stiff.py --only auto explicit  # a selection
    python bench/bench_stiff.py --only auto --threads 2
    python bench/bench_stiff.py --only torch torch32  # the PyTorch loop (needs torch), float64 / float32
    python bench/bench_stiff.py --reference           # explicit at rtol 1e-9 (~10 min): drop times
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import agf

P, WIDTH, T_MAX = 20, 18, 2000.0
S = 2.0 / P
MIDS = (0.40625, 0.09375, 0.015625)


def problem():
    xh = np.zeros(P, complex)
    for xi, amp in [(1, 10.0), (3, 5.0), (5, 2.5)]:
        xh[xi] = xh[P - xi] = amp
    x = np.real(np.fft.ifft(xh))
    x -= x.mean()
    shifts = np.stack([np.roll(x, k) for k in range(P)])
    a, b = np.divmod(np.arange(P * P), P)
    data = agf.Dataset(np.hstack([shifts[a], shifts[b]]), shifts[(a + b) % P])
    model = agf.TwoLayer(2 * P, P, WIDTH, "square")
    return model, data, model.init(1e-2, seed=0)


def run_flow(method, rtol, threads=1):
    model, data, p0 = problem()
    ev = [agf.LossBelow(v, terminal=False) for v in MIDS]
    t0 = time.perf_counter()
    tr = agf.gradient_flow(model, data, p0, T_MAX, rtol=rtol, loss_scale=S, method=method, events=ev,
                           save_at=np.array([5.0, 100.0, 600.0, T_MAX]), n_threads=threads)
    wall = time.perf_counter() - t0
    st = tr.stats
    extra = ", ".join(f"{k}={st[k]}" for k in ("n_hessian", "n_factorizations", "n_refine", "steps_explicit",
                                                 "steps_implicit") if k in st)
    return (f"{method} rtol={rtol:g} n_threads={threads}: {wall:.1f} s, n_grad={st['n_grad']}, steps={st['n_steps']} "
            f"(rejected {st['n_rejected']}), {extra}; drops t={[round(e.t, 4) for e in tr.events]}, "
            f"levels={np.round(tr.loss, 5).tolist()}")


def run_gd():
    model, data, p0 = problem()
    t0 = time.perf_counter()
    out = agf.gradient_descent(model, data, p0, lr=0.01, steps=200_000, momentum=0.9, loss_scale=S)
    wall = time.perf_counter() - t0
    return f"gradient_descent lr=0.01 momentum=0.9 2e5 steps: {wall:.1f} s, final loss {out.loss[-1]:.3g}"


def run_torch(steps, threads, dtype_name):
    """The research code's loop: nn.MSELoss, torch.optim.SGD(lr=0.01, momentum=0.9), full batch;
    checked against agf.gradient_descent over the same steps (same update rule)."""
    import torch
    torch.set_num_threads(threads)
    dtype = getattr(torch, dtype_name)
    model, data, p0 = problem()
    X, Y = torch.tensor(data.X, dtype=dtype), torch.tensor(data.Y, dtype=dtype)
    W = torch.tensor(p0["w"], dtype=dtype, requires_grad=True)
    A = torch.tensor(p0["a"], dtype=dtype, requires_grad=True)
    opt = torch.optim.SGD([W, A], lr=0.01, momentum=0.9)
    mse = torch.nn.MSELoss()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = mse(((X @ W.T) ** 2) @ A, Y)
        loss.backward()
        opt.step()
    wall = time.perf_counter() - t0
    with torch.no_grad():
        final = float(mse(((X @ W.T) ** 2) @ A, Y))
    ref = agf.gradient_descent(model, data, p0, lr=0.01, steps=steps, momentum=0.9, loss_scale=S).loss[-1]
    return (f"torch {torch.__version__} {dtype_name} n_threads={threads}, SGD lr=0.01 momentum=0.9, {steps} steps: "
            f"{wall:.1f} s ({1e6 * wall / steps:.0f} us/step; 2e5 steps = {2e5 * wall / steps:.0f} s), "
            f"final MSELoss {final:.6g} (agf.gradient_descent: {ref:.6g})")


def run_bdf(rtol):
    from scipy.integrate import solve_ivp
    model, data, p0 = problem()
    core, X, Y = model._core, data.X, data.Y
    f = lambda t, y: -core.loss_grad(X, Y, np.ascontiguousarray(y))[1]  # noqa: E731
    jac = lambda t, y: -core.hessian(X, Y, np.ascontiguousarray(y))  # noqa: E731
    t0 = time.perf_counter()
    sol = solve_ivp(f, (0, T_MAX), p0.to_vector(), method="BDF", jac=jac, rtol=rtol, atol=1e-12)
    wall = time.perf_counter() - t0
    loss = S * core.loss_grad(X, Y, np.ascontiguousarray(sol.y[:, -1]))[0]
    return (f"scipy BDF rtol={rtol:g} (exact Hessian jac): {wall:.1f} s, nfev={sol.nfev}, njev={sol.njev}, "
            f"nlu={sol.nlu}, final loss {loss:.3g}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=["auto", "implicit", "gd", "bdf", "torch32"])
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--torch-steps", type=int, default=200_000)
    ap.add_argument("--reference", action="store_true")
    a = ap.parse_args()
    if a.reference:
        print(run_flow("explicit", 1e-9), flush=True)
        return
    for name in a.only:
        if name in ("auto", "implicit", "explicit"):
            print(run_flow(name, a.rtol, a.threads), flush=True)
        elif name == "gd":
            print(run_gd(), flush=True)
        elif name == "bdf":
            print(run_bdf(a.rtol), flush=True)
        elif name in ("torch", "torch32"):
            try:
                import torch  # noqa: F401
            except ImportError:
                print("torch not installed: the PyTorch loop is skipped (pip install torch)", flush=True)
                continue
            print(run_torch(a.torch_steps, a.threads, "float64" if name == "torch" else "float32"), flush=True)


if __name__ == "__main__":
    main()
