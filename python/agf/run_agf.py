"""Alternating Gradient Flows (method section 3): the orchestration of the AGF engine.

``run_agf`` alternates a dormant phase (utility maximization against the residual of the active
neurons, C++: ``agf._core.agf_dormant``) that ends at the first activation, located as an event,
with cost minimization (gradient flow of the active neurons until the gradient vanishes, C++:
``agf._core.agf_cost_min``), until a termination criterion holds. Three specialisations:

- diagonal linear networks use the exact closed form of the dormant dynamics
  (:mod:`agf._agf_diagonal`): exact at any alpha (1e-100 and below);
- linear two-layer networks (activation ``"linear"``, kappa = 2) treat the dormant neurons as an
  orthonormal frame (method section 3, "Degenerate utilities"): the j-th dormant neuron (in
  neuron-id order) follows the j-th singular pair (u_j, v_j) of the residual cross-covariance
  M = E[r x^T] and accumulates S_j at rate sigma_j(M); it activates at a = u_j/sqrt(2),
  w = v_j/sqrt(2) (unit norm, U = sigma_j/2). Between events M is constant so S is linear in time
  and the jump times are exact;
- every other model integrates the polar dormant ODE of all dormant neurons at once.

Initialization scale alpha: given explicitly, or inferred from params0 as the geometric mean of
the initial neuron norms divided by sqrt(2) (the paper's initializations give norms about
sqrt(2) alpha; for DiagonalLinear.init(alpha) it is exactly alpha). It is used only to report
``rescaled_times = jump_times / log(1/alpha)``; thresholds use each neuron's own initial norm,
c_i = log(1/||theta_i(0)||) (kappa = 2) or (||theta_i(0)||^(2-kappa) - 1)/(kappa - 2).
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from agf import _core
from agf._validate import integer, n_threads as check_threads, positive
from agf.agf_result import AGF_STATUS, AGFResult
from agf.data import Dataset
from agf.errors import ConfigError, NumericalError
from agf.models.base import Model
from agf.models.diagonal import DiagonalLinear
from agf.models.two_layer import TwoLayer
from agf.params import Params

__all__ = ["run_agf", "AGFBasinWarning", "AGFApproximationWarning", "AGFConvergenceWarning"]


class AGFBasinWarning(UserWarning):
    """Several dormant kappa = 2 neurons converged to one basin of the utility (they will share a
    feature and activate in quick sub-steps; the paper compares ReLU networks of widths 1-3 only)."""


class AGFApproximationWarning(UserWarning):
    """AGF on a non-homogeneous activation is an approximation (kappa from small arguments)."""


class AGFConvergenceWarning(UserWarning):
    """A cost minimization hit its limit before converging (recorded in the events table)."""


# Stagnation tolerance of cost minimization for two-layer polynomial activations (see run_agf).
DEFAULT_POLY_COST_FTOL = 5e-4


# --------------------------------------------------------------------------- recording
class _Recorder:
    """Collects the rounds. Levels are reported with the data's ``loss_offset`` (the irreducible
    part of a population loss) added; the engines themselves work with the dataset's own loss."""

    def __init__(self, H, limit, offset=0.0):
        self.H = H
        self.offset = float(offset)
        self.limit = limit
        self.events = []
        self.order = []
        self.path = []
        self.times = []
        self.levels = []
        self.features = []
        self.S = []
        self.dirs = []
        self.same_time = {}

    def start(self, L0):
        self.levels.append(float(L0) + self.offset)

    def jump(self, t, new, deact, level, features, S, dirs, signs=None, n_active=0, note=None, cost_time=None):
        k = len(self.order)
        self.order.append(new[0] if len(new) == 1 else tuple(new))
        self.times.append(float(t))
        level = float(level) + self.offset
        self.levels.append(level)
        self.features.append(features)
        self.S.append(np.asarray(S, float))
        self.dirs.append(dirs)
        signs = signs or {}
        e = dict(round=k, kind="activate", time=float(t), neurons=tuple(new), level=float(level), n_active=n_active)
        if signs:
            e["sign"] = tuple(signs.get(i, np.nan) for i in new)
        if cost_time is not None:
            e["cost_time"] = float(cost_time)
        if note:
            e["note"] = note
        self.events.append(e)
        self.path.extend(new)
        for i in deact:
            e = dict(round=k, kind="deactivate", time=float(t), neurons=(i,), level=float(level), n_active=n_active)
            if signs:
                e["sign"] = (signs.get(i, np.nan),)
            self.events.append(e)
            self.path.append(~i)

    def release(self, t, i):
        k = len(self.order)
        self.events.append(dict(round=k, kind="release", time=float(t), neurons=(int(i),),
                                level=self.levels[-1], n_active=-1))


# --------------------------------------------------------------------------- helpers
def _owner(model: Model) -> np.ndarray:
    H = model.width
    return np.concatenate([np.repeat(np.arange(H), int(np.prod(shape, dtype=int))) for _, shape in model.blocks])


def _thresholds(rho0, kappa):
    if kappa == 2:
        return np.log(1.0 / rho0)
    return (rho0 ** (2.0 - kappa) - 1.0) / (kappa - 2.0)


def run_agf(
    model: Model,
    data: Dataset,
    params0=None,
    *,
    alpha: float | None = None,
    seed=None,
    max_rounds: int | None = None,
    loss_tol: float | None = None,
    limit: bool = False,
    t_max: float = math.inf,
    n_threads: int = 1,
    progress=False,
    loss_scale: float = 1.0,
    rtol: float = 1e-10,
    cost_gtol: float = 1e-6,
    cost_ftol: float | None = None,
    cost_polish: float = 0.0,
    cost_method: str = "auto",
    cost_rtol: float = 1e-6,
    cost_t_max: float = 1e8,
    cost_max_steps: int = 20_000,
    deact_frac: float = 0.1,
    stationary_tol: float = 1e-9,
) -> AGFResult:
    """Run Alternating Gradient Flows (method section 3) on ``model`` and ``data``.

    Parameters
    ----------
    model, data : the network and its full-batch training data.
    params0 : initial parameters (the same a gradient-flow run starts from). If None,
        ``model.init(alpha, seed)``.
    alpha : initialization scale used for ``rescaled_times = jump_times / log(1/alpha)``.
        Default: inferred from params0 as geometric-mean(initial neuron norms) / sqrt(2).
    seed : seed for ``model.init`` when params0 is None.
    max_rounds : limit on the number of jumps.
    loss_tol : stop when the loss is below ``loss_tol * L(0)``. Default 1e-10, or 1e-6 when the
        stagnation rule is on (``cost_ftol`` > 0): a fit stopped on stagnation leaves a residual
        of about that order, which dormant neurons would otherwise go on to fit as noise.
    limit : the alpha -> 0 algorithm (kappa = 2 only): rescaled clock, threshold 1, each dormant
        direction at the local maximum of U-bar reached by gradient ascent, S~ at rate kappa U*.
    t_max : time limit (canonical time; in limit mode the rescaled clock).
    n_threads : kernel threads.
    progress : print one line per jump when True.
    loss_scale : the user's loss convention (levels_scaled = levels * loss_scale); times stay
        canonical.
    rtol : tolerance of the dormant-phase integrator (mixed abs/rel, max norm); activation
        events are located to 1e-10 relative in time.
    cost_gtol : cost minimization stops when ||grad L|| <= cost_gtol * L(0).
    cost_ftol : if > 0, cost minimization also stops when the loss fell by at most
        ``cost_ftol * L`` over the last doubling of its flow time (checked once the flow is past
        its initial time scale L/||grad L||^2 and below the previous plateau). For flows whose
        cost has its infimum at infinite norm, which converge only algebraically: two to four
        square neurons sharing a frequency (method section 6.5) need flow times of 1e7 and more
        to meet the gradient criterion, and meanwhile drift along the valley (picking up other
        frequencies) far beyond what gradient flow does between two jumps. The level is then
        known to about ``cost_ftol`` relative (for L - L* ~ t^-p the last doubling's decrease is
        (2^p - 1)(L - L*)). Default (None): 5e-4 for two-layer networks with a polynomial
        activation of degree >= 2 (``"square"``, ``"monomial"``), where this happens (on 6.5,
        seed 0, the plateaus are then 0.15626, 0.03127, 0 against 0.15625, 0.03125, 0), and 0
        (off: the gradient criterion of method section 3 alone) for every other model, whose cost
        minimizations converge exponentially and keep their full accuracy (e.g. linear networks'
        levels to 1e-6). 0 turns the rule off.
        Caveat (measured on 6.5 at alpha = 1e-2, seeds 0-5): AGF's premise that cost
        minimization is fast against the plateaus fails for square neurons sharing a frequency
        (flow times of 1e3-1e5 against jump gaps of 0.2-1000), so where such a flow stops
        decides the path. Frequencies are acquired in the order 1, 3, 5 on every seed, but a
        late extra xi = 1 neuron may activate after the xi = 3 ones (gradient flow too grows
        extra xi = 1 neurons late) or a neuron end on another frequency than the one it was
        activated for, and the plateaus after xi = 1 and xi = 3 are off by 4e-5 to 3e-4 and
        5e-4 to 1e-3 relative, and the timing can leave gradient flow's (seed 3: the first
        xi = 3 neuron activates at t = 47, gradient flow's first xi = 3 sub-step is at t = 146;
        seed 0: 174 and ~178). Gradient flow itself varies as much between seeds (xi = 3 at
        t = 74-174; its plateau after xi = 1 off the theory by 2e-5 to 8.5e-4); see
        bench/RESULTS.md. No setting of ``cost_ftol`` / ``cost_polish`` tried
        (5e-4 and 1e-3, 0 and 64) does better on all six seeds.
    cost_polish : if > 1, a cost minimization that the stagnation rule stopped at flow time t
        is continued up to ``cost_polish * t``; if it meets the gradient criterion there, the
        minimum is finite (only ill-conditioned) and that converged state is the round's result,
        otherwise the continuation is discarded and the stagnated state is kept, bit for bit
        (``stats["n_cost_polished"]`` counts the rounds it converged). Default 0 (off). On 6.5,
        seed 0, ``cost_ftol=1e-3, cost_polish=64`` takes the rounds that complete xi = 1 and
        xi = 3 to their minima (at 5 and 63 times their stagnation time, flow time up to 1e5)
        and puts those plateaus at 0.15625 and 0.03125 to 1e-6; on seeds 1-5 the same setting
        changes the path and leaves errors of up to 2.5e-3 (see the caveat above).
    cost_method : integrator of the cost-minimization gradient flow, as in
        :func:`agf.gradient_flow`: ``"auto"`` (default: Dormand-Prince while the flow is not
        stiff, RODAS4 with the exact Hessian once it is), ``"explicit"``, ``"implicit"``,
        ``"rosw"``. Cost minimization is stiff as soon as a few neurons share a feature (on
        method section 6.5 the explicit method needs 200,000 steps for t = 1.8 while the flow
        converges at t ~ 1e4; the stiff stepper gets there in ~150 steps).
    cost_rtol : relative tolerance of that integrator (per-neuron norm). It is a gradient-flow
        solve, not an optimizer: the end point is the flow's limit to this tolerance.
    cost_t_max, cost_max_steps : limits of one cost minimization (gradient-flow time and
        steps); a minimization that hits one records ``note="cost minimization not converged"``
        in the events table and warns (:class:`AGFConvergenceWarning`).
    deact_frac : deactivation rule for two-layer neurons: a neuron whose norm falls below
        ``deact_frac`` times its norm at the start of the cost minimization is returned to the
        dormant set with S = c and its direction frozen (until S falls back to 0). Diagonal
        networks use the exact sign rule instead (see :mod:`agf._agf_diagonal`).
    stationary_tol : the run stops as "stationary" when every dormant neuron has
        kappa U-bar <= stationary_tol * L(0) and a converged direction.

    Returns
    -------
    :class:`agf.AGFResult`.

    Termination: loss below tolerance, no dormant neuron left, every dormant neuron stationary
    with non-positive utility, max_rounds or t_max. A neuron cannot cycle: one that is
    deactivated at the same instant it was activated twice is retired (never activated again)
    with a warning.
    """
    if not isinstance(model, Model):
        raise ConfigError(f"model must be an agf model, got {type(model).__name__}")
    model.check_data(data)
    s = positive("loss_scale", loss_scale)
    rtol = positive("rtol", rtol)
    cost_gtol = positive("cost_gtol", cost_gtol)
    cost_rtol = positive("cost_rtol", cost_rtol)
    if cost_ftol is None:
        poly = isinstance(model, TwoLayer) and model.activation in ("square", "monomial")
        cost_ftol = DEFAULT_POLY_COST_FTOL if poly else 0.0
    cost_ftol = float(cost_ftol)
    cost_polish = float(cost_polish)
    if not (np.isfinite(cost_polish) and cost_polish >= 0):
        raise ConfigError(f"cost_polish must be a finite number >= 0, got {cost_polish}")
    if loss_tol is None:
        loss_tol = 1e-6 if cost_ftol > 0 else 1e-10
    loss_tol = positive("loss_tol", loss_tol, allow_zero=True)
    if not 0 <= cost_ftol < 1:
        raise ConfigError(f"cost_ftol must be in [0, 1), got {cost_ftol}")
    cost_t_max = positive("cost_t_max", cost_t_max)
    if cost_method not in ("auto", "explicit", "implicit", "rosw"):
        raise ConfigError(f"cost_method must be 'auto', 'explicit', 'implicit' or 'rosw', got {cost_method!r}")
    cost_max_steps = integer("cost_max_steps", cost_max_steps, minimum=1)
    deact_frac = positive("deact_frac", deact_frac)
    if deact_frac >= 1:
        raise ConfigError(f"deact_frac must be in (0, 1), got {deact_frac}")
    threads = check_threads(n_threads)
    if params0 is None:
        if alpha is None:
            raise ConfigError("give params0, or alpha (and seed) to initialise the model")
        params0 = model.init(alpha, seed)
    p0 = model.as_params(params0)
    kappa = model.kappa
    if not model.homogeneous:
        warnings.warn(f"AGF on the non-homogeneous {model!r} is an approximation (kappa={kappa} from "
                      "the small-argument behaviour)", AGFApproximationWarning, stacklevel=2)
    if limit and kappa != 2:
        raise ConfigError("limit mode is defined for kappa = 2 models only")
    is_diag = isinstance(model, DiagonalLinear)
    rho0 = model.neuron_norms(p0)
    if not is_diag and (np.any(rho0 <= 0) or np.any(rho0 >= 1)):
        raise ConfigError("AGF needs every initial neuron norm in (0, 1) (small initialization)")
    if alpha is None:
        if isinstance(model, DiagonalLinear):
            u, v = p0["u"], p0["v"]
            with np.errstate(divide="ignore"):
                lognorm = 0.5 * np.logaddexp(2 * np.log(np.abs(u)), 2 * np.log(np.abs(v)))
            alpha = float(np.exp(np.mean(lognorm) - 0.5 * math.log(2.0)))
        else:
            alpha = float(np.exp(np.mean(np.log(rho0))) / math.sqrt(2.0))
    alpha = float(alpha)
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha}")
    log_inv = math.log(1.0 / alpha)
    if alpha == 0.0 or not np.isfinite(log_inv):
        raise ConfigError("alpha underflows")
    rec = _Recorder(model.width, limit, data.loss_offset)
    stats = {"n_dormant_steps": 0, "n_cost_steps": 0, "n_cost_not_converged": 0}
    clock = time.perf_counter()
    max_rounds = None if max_rounds is None else int(max_rounds)

    if isinstance(model, DiagonalLinear):
        from agf._agf_diagonal import run_diagonal

        status, fin, thr = run_diagonal(data.X, data.Y, p0["u"], p0["v"], limit=limit, max_rounds=max_rounds,
                                        loss_tol=loss_tol, t_max=t_max, rec=rec)
        final = model.params(**fin)
        rec.features = [model.params(**f) for f in rec.features]
        message = AGF_STATUS[status]
    else:
        eng = _TwoLayerEngine(model, data, p0, rho0, limit=limit, threads=threads, rtol=rtol,
                              cost=dict(gtol=cost_gtol, ftol=cost_ftol, polish=cost_polish, method=cost_method, rtol=cost_rtol, t_max=cost_t_max,
                                        max_steps=cost_max_steps), deact_frac=deact_frac,
                              stationary_tol=stationary_tol, loss_tol=loss_tol, t_max=t_max, rec=rec,
                              stats=stats, progress=progress)
        status, message = eng.run(max_rounds)
        final = model.from_vector(eng.theta)
        thr = eng.c
    stats["wall_time"] = time.perf_counter() - clock

    times = np.asarray(rec.times, float)
    if limit:
        rescaled = times
        jump_times = times * log_inv
    else:
        jump_times = times
        rescaled = times / log_inv if kappa == 2 else None
    for e in rec.events:
        if limit:
            e["rescaled_time"] = e["time"]
            e["time"] = e["time"] * log_inv
        else:
            e["rescaled_time"] = e["time"] / log_inv if kappa == 2 else float("nan")
    H = model.width
    return AGFResult(
        events=rec.events, order=rec.order, path=rec.path, jump_times=jump_times, rescaled_times=rescaled,
        levels=np.asarray(rec.levels, float), loss_scale=s, d_out=model.d_out, features=rec.features,
        dormant_S=np.asarray(rec.S, float).reshape(len(rec.S), H),
        dormant_directions=rec.dirs, thresholds=np.asarray(thr, float), alpha=alpha, kappa=kappa,
        status=status, message=message, final_params=final, stats=stats, limit=bool(limit),
    )


# --------------------------------------------------------------------------- two-layer
ACTIVE, DORMANT, FROZEN, RETIRED = 0, 1, 2, 3


class _TwoLayerEngine:
    """Dormant phase + cost minimization for the two-layer family (and any Model with the
    batched utility kernel). State: theta (active rows; dormant rows 0), dirs (unit rows of the
    dormant neurons), S, c, mode."""

    def __init__(self, model, data, p0, rho0, *, limit, threads, rtol, cost, deact_frac,
                 stationary_tol, loss_tol, t_max, rec, stats, progress):
        self.model, self.data = model, data
        self.H = model.width
        self.kappa = model.kappa
        self.owner = _owner(model)
        v = p0.to_vector()
        nrm = rho0[self.owner]
        self.dirs = v / nrm
        self.theta = np.zeros_like(v)
        self.rho0 = rho0
        self.limit = limit
        self.c = np.ones(self.H) if limit else _thresholds(rho0, self.kappa)
        self.S = np.zeros(self.H)
        self.mode = [DORMANT] * self.H
        self.threads = threads
        self.rtol = rtol
        self.L0 = model.loss(data, self.theta_params()) - data.loss_offset  # the dataset's own loss
        self.cost = dict(cost, gtol=cost["gtol"] * self.L0)
        # ReLU utilities have kinks where a dormant direction can slide (as gradient flow does,
        # see agf.gradient_flow's h_min), and error control would shrink the step without end
        # there: the dormant integrator accepts steps of 1e-3 of the time the fastest dormant S
        # needs to move by 1 (at most 1), so a phase takes at most ~1e3 steps per unit of S.
        self.dormant_h_min = 1e-3 if getattr(model, "activation", None) == "relu" else 0.0
        self.deact_frac = deact_frac
        self.utol = stationary_tol * self.L0
        self.loss_tol = loss_tol * self.L0
        self.t_max = t_max
        self.rec = rec
        self.stats = stats
        for key in ("n_cost_grad", "n_cost_stagnated", "n_cost_polished"):  # the two-layer engine's own counters
            stats.setdefault(key, 0)
        self.progress = progress
        self.linear = isinstance(model, TwoLayer) and model.activation == "linear"
        self.frame = list(range(self.H))  # dormant order for the linear frame
        self.t = 0.0
        self.deact_count = {}
        self.warned_basin = False

    def theta_params(self):
        return self.model.from_vector(self.theta)

    def residual(self):
        return np.ascontiguousarray(self.data.Y - self.model._core.forward(self.data.X, self.theta))

    def dormant_mask(self):
        return np.array([m in (DORMANT, FROZEN) for m in self.mode])

    def dirs_params(self):
        d = self.dirs.copy()
        d[~self.dormant_mask()[self.owner]] = 0.0
        return self.model.from_vector(d)

    # ---------------------------------------------------------------- dormant phases
    def dormant_phase(self):
        """Returns (status, t, neurons, S snapshot)."""
        if self.linear:
            return self.frame_phase()
        if self.limit:
            return self.limit_phase()
        R = self.residual()
        th = np.where(self.dormant_mask()[self.owner], self.dirs, 0.0)
        out = _core.agf_dormant(self.model._core, self.data.X, R, self.t, np.ascontiguousarray(th), self.S.copy(),
                                self.c.copy(), self.rho0.copy(), list(self.mode), self.rtol, self.rtol * 1e-2,
                                1e-10, self.t_max, 5_000_000, self.utol, math.sqrt(self.utol), self.threads,
                                self.dormant_h_min)
        self.stats["n_dormant_steps"] += out["n_steps"]
        for tr, i in zip(out["release_t"], out["release_i"]):
            self.rec.release(tr, i)
        self.mode = list(out["mode"])
        dm = self.dormant_mask()
        self.dirs = np.where(dm[self.owner], out["theta"], self.dirs)
        self.S = np.where(dm, out["S"], self.S)
        self.t = out["t"]
        st = out["status"]
        if st == 0:
            self.check_basins()
            return "activation", list(out["neurons"])
        return {1: "stationary", 2: "t_max", 3: "failed", 4: "failed"}[st], []

    def frame_phase(self):
        R = self.residual()
        n = self.data.n
        M = R.T @ self.data.X / n  # (c, d): U_i = a^T M w
        Uu, sv, Vt = np.linalg.svd(M)
        dorm = [i for i in self.frame if self.mode[i] in (DORMANT, FROZEN)]
        self.frame = dorm
        rates = np.array([sv[j] if j < sv.size else 0.0 for j in range(len(dorm))])
        if not dorm:
            return "no_dormant", []
        thr = self.utol
        dt = np.array([(self.c[i] - self.S[i]) / r if r > thr else np.inf for i, r in zip(dorm, rates)])
        dt = np.maximum(dt, 0.0)
        # current directions: j-th singular pair
        d, c = self.model.d_in, self.model.d_out
        for j, i in enumerate(dorm):
            if j < min(Uu.shape[1], Vt.shape[0]):
                self._set_dir(i, Vt[j] / math.sqrt(2), Uu[:, j] / math.sqrt(2))
        if not np.isfinite(dt.min()):
            return "stationary", []
        step = float(dt.min())
        if self.t + step > self.t_max:
            return "t_max", []
        for j, i in enumerate(dorm):
            self.S[i] += rates[j] * step
        self.t += step
        tol = 1e-10 * max(self.t, 1e-300)
        new = [i for j, i in enumerate(dorm) if dt[j] <= step + tol]
        for i in new:
            self.S[i] = self.c[i]
        return "activation", new

    def _set_dir(self, i, w, a):
        H, d, c = self.H, self.model.d_in, self.model.d_out
        self.dirs[i * d:(i + 1) * d] = w
        self.dirs[H * d + i * c:H * d + (i + 1) * c] = a

    def limit_phase(self):
        """alpha -> 0 (kappa = 2): directions jump to the local max of U-bar reached by gradient
        ascent; S~ grows linearly at kappa U*; threshold 1; frozen neurons keep their direction."""
        R = self.residual()
        dm = self.dormant_mask()
        free = np.array([m == DORMANT for m in self.mode])
        th = np.where(dm[self.owner], self.dirs, 0.0)
        th = self._ascend(th, free, R)
        self.dirs = np.where(dm[self.owner], th, self.dirs)
        U, _ = self.model._core.utilities(self.data.X, R, np.ascontiguousarray(th), self.threads)
        rate = self.kappa * U
        while True:
            dt = np.full(self.H, np.inf)
            rel = np.full(self.H, np.inf)
            for i in range(self.H):
                if not dm[i]:
                    continue
                if rate[i] > self.utol:
                    dt[i] = max((self.c[i] - self.S[i]) / rate[i], 0.0)
                elif self.mode[i] == FROZEN and rate[i] < -self.utol:
                    rel[i] = self.S[i] / -rate[i]
            tmin = min(dt.min(), rel.min())
            if not np.isfinite(tmin):
                return "stationary", []
            if self.t + tmin > self.t_max:
                return "t_max", []
            self.S[dm] += rate[dm] * tmin
            self.t += tmin
            if rel.min() < dt.min():
                i = int(np.argmin(rel))
                self.S[i] = 0.0
                self.mode[i] = DORMANT
                self.rec.release(self.t, i)
                return self.limit_phase()
            tol = 1e-10 * max(self.t, 1e-300)
            new = [i for i in range(self.H) if dt[i] - tmin <= tol]
            for i in new:
                self.S[i] = self.c[i]
            self.check_basins()
            return "activation", new

    def _ascend(self, th, free, R, iters=20000):
        """Projected gradient ascent of U-bar on the sphere for the free dormant neurons."""
        mask = free[self.owner]
        th = th.copy()
        nrm = np.sqrt(np.bincount(self.owner, th ** 2, self.H))
        th = np.where(mask, th / np.where(nrm > 0, nrm, 1)[self.owner], th)
        eta = None
        for _ in range(iters):
            U, g = self.model._core.utilities(self.data.X, R, np.ascontiguousarray(th), self.threads)
            proj = g - self.kappa * U[self.owner] * th
            proj[~mask] = 0.0
            pn = np.sqrt(np.bincount(self.owner, proj ** 2, self.H))
            if pn.max() <= 1e-12 * max(1.0, np.abs(U).max()):
                break
            if eta is None:
                eta = 0.5 / max(pn.max(), 1e-300) * 0.1 + 0.1
            th = th + eta * proj
            nrm = np.sqrt(np.bincount(self.owner, th ** 2, self.H))
            th = np.where(mask, th / np.where(nrm > 0, nrm, 1)[self.owner], th)
        return th

    def check_basins(self):
        if self.kappa != 2 or self.linear or self.warned_basin:
            return
        dm = [i for i in range(self.H) if self.mode[i] == DORMANT]
        if len(dm) < 2:
            return
        rows = []
        for i in dm:
            rows.append(self.dirs[self.owner == i])
        D = np.array(rows)
        D = D / np.linalg.norm(D, axis=1, keepdims=True)
        C = D @ D.T
        np.fill_diagonal(C, 0)
        if C.max() > 0.999:
            self.warned_basin = True
            warnings.warn("several dormant kappa = 2 neurons converged to one basin of the utility: they "
                          "share a feature and AGF activates them in quick sub-steps (the paper compares "
                          "ReLU networks of widths 1-3 only)", AGFBasinWarning, stacklevel=4)

    # ---------------------------------------------------------------- cost minimization
    def cost_min(self, level_before):
        """Gradient flow of the active neurons (C++ ``agf_cost_min``: the stepper ``cost_method``
        on a model of the active neurons only, with deactivation detection) until
        ||grad L|| <= cost_gtol L(0), L <= loss_tol L(0) or the loss stagnates (cost_ftol,
        see :func:`run_agf`) below ``level_before``, the plateau before this round's activation. A deactivated neuron returns to the
        dormant set (frozen, S = c) and the minimization re-runs without it. Hitting the time or
        step limit is recorded (note + AGFConvergenceWarning), never silent."""
        deact = []
        note = None
        spent = 0.0
        c = self.cost
        while True:
            active = [1 if m == ACTIVE else 0 for m in self.mode]
            out = _core.agf_cost_min(self.model._core, self.data.X, self.data.Y, np.ascontiguousarray(self.theta),
                                     active, c["rtol"], c["gtol"], self.loss_tol, self.deact_frac,
                                     c["t_max"], c["max_steps"], self.threads, c["method"], c["ftol"],
                                     level_before, c["polish"])
            self.stats["n_cost_stagnated"] += int(out["stagnated"] and not out["polished"])
            self.stats["n_cost_polished"] += int(out["polished"])
            self.stats["n_cost_steps"] += out["n_steps"]
            self.stats["n_cost_grad"] += out["n_rhs"]
            spent += out["t_spent"]
            self.theta = np.array(out["theta"])
            dead = [int(i) for i in out["deactivated"]] if out["status"] == 1 else []
            if out["status"] == 3:
                raise NumericalError("cost minimization failed (non-finite values or step underflow)")
            if out["status"] == 2:
                note = "cost minimization not converged"
                self.stats["n_cost_not_converged"] += 1
                warnings.warn(f"cost minimization at t={self.t} did not converge within t_max={c['t_max']:g} / "
                              f"{c['max_steps']} steps (||grad L|| = {out['grad_norm']:.3g})",
                              AGFConvergenceWarning, stacklevel=4)
            if dead:
                for i in dead:
                    m = self.owner == i
                    row = self.theta[m]
                    nr = np.linalg.norm(row)
                    if nr > 0:
                        self.dirs[m] = row / nr
                    self.theta[m] = 0.0
                    self.S[i] = self.c[i]
                    key = (i, self.t)
                    self.deact_count[key] = self.deact_count.get(key, 0) + 1
                    if self.deact_count[key] >= 2:
                        self.mode[i] = RETIRED
                        warnings.warn(f"neuron {i} was activated and deactivated twice at t={self.t}; retired "
                                      "to prevent cycling", RuntimeWarning, stacklevel=4)
                    else:
                        self.mode[i] = FROZEN
                        if self.linear:
                            if i in self.frame:  # activated this round: still listed
                                self.frame.remove(i)
                            self.frame.insert(0, i)
                    deact.append(i)
                continue
            loss = self.model._core.loss_grad(self.data.X, self.data.Y, self.theta, 1)[0]
            return deact, loss, note, spent

    # ---------------------------------------------------------------- loop
    def run(self, max_rounds):
        rounds = 0
        self.rec.start(self.L0)
        loss = self.L0
        while True:
            if max_rounds is not None and rounds >= max_rounds:
                return "max_rounds", AGF_STATUS["max_rounds"]
            if loss <= self.loss_tol:
                return "loss_tol", AGF_STATUS["loss_tol"]
            if not self.dormant_mask().any():
                return "no_dormant", AGF_STATUS["no_dormant"]
            status, new = self.dormant_phase()
            if status != "activation":
                return status, AGF_STATUS[status]
            S_snap = np.where(self.dormant_mask(), self.S, np.nan)
            dirs_snap = self.dirs_params()  # at the jump (the activating neurons are still dormant)
            for i in new:
                m = self.owner == i
                row = self.dirs[m]
                self.theta[m] = row / np.linalg.norm(row)
                self.mode[i] = ACTIVE
            deact, loss, note, spent = self.cost_min(loss)
            rounds += 1
            n_active = sum(1 for m in self.mode if m == ACTIVE)
            self.rec.jump(self.t, [int(i) for i in new], deact, loss, self.theta_params(), S_snap,
                          dirs_snap, n_active=n_active, note=note, cost_time=spent)
            if self.progress:
                print(f"AGF jump {rounds}: t={self.t:.6g} neurons={new} deactivated={deact} loss={loss:.6g}")
