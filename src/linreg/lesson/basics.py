"""Steps 1–5 of the lesson: the equations, the closed form against descent, the learning
rate, feature scaling, and batch against stochastic updates."""

from __future__ import annotations

import time

import numpy as np

from .. import textbook as tb
from ..estimator import LinearRegression
from ..exceptions import DivergenceError
from .steps import LessonData, Step, quiet_fit, textbook_source

__all__ = ["step_equations", "step_normal_vs_gd", "step_learning_rate", "step_scaling",
           "step_batch_sizes", "lipschitz", "textbook_path", "RATE_FACTORS"]

#: the learning rates of step 3, as multiples of 1/L
RATE_FACTORS = (0.1, 1.0, 1.9, 2.1)


def lipschitz(data: LessonData) -> float:
    """``L``, the largest eigenvalue of the loss's Hessian on the standardized features, as
    the library finds it: its automatic step for plain descent is ``1/L``."""
    model, _ = quiet_fit(LinearRegression(solver="gd", optimizer="plain", max_iter=1, tol=0),
                         data.X, data.y)
    return 1.0 / model.learning_rate_


def textbook_path(Z, y, learning_rate, steps):
    """``tb.gd_step`` from ``w = 0, b = 0``: the losses and the parameters after each step."""
    w, b = np.zeros(Z.shape[1]), 0.0
    losses, params = [tb.loss(Z, y, w, b)], [np.append(w, b)]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            w, b = tb.gd_step(Z, y, w, b, learning_rate)
            losses.append(tb.loss(Z, y, w, b))
            params.append(np.append(w, b))
    return np.array(losses), np.array(params)


def step_equations(data: LessonData) -> Step:
    n, d = data.X.shape
    z = data.Z[:, data.names.index("bmi")] if "bmi" in data.names else data.Z[:, 0]
    feature = "bmi" if "bmi" in data.names else data.names[0]
    Z1 = z[:, None]
    J0 = tb.loss(Z1, data.y, np.zeros(1), 0.0)
    w_star, b_star = tb.normal_equation(Z1, data.y)
    J_star = tb.loss(Z1, data.y, w_star, b_star)
    rate = 0.3
    path = [(0.0, 0.0)]
    w, b = np.zeros(1), 0.0
    for _ in range(15):
        w, b = tb.gd_step(Z1, data.y, w, b, rate)
        path.append((w[0], b))
    path = np.array(path)
    text = [
        f"The data: {n} patients, {d} features, target {data.target!r} (disease progression "
        "after one year). The model is ŷ = Xw + b and every solver minimises the same loss.",
        "model      ŷ = Xw + b                          textbook.predict\n"
        "loss       J = 1/(2n) Σ (ŷ_i − y_i)²             textbook.loss\n"
        "gradients  ∇_w J = Xᵀ(ŷ − y)/n, ∇_b J = mean(ŷ − y)   textbook.gradients\n"
        "step       w := w − η ∇_w J, b := b − η ∇_b J    textbook.gd_step\n"
        "closed form (AᵀA)[w; b] = Aᵀy, A = [X, 1]       textbook.normal_equation",
        f"On one feature ({feature}, standardized) J is a bowl in (w, b): J = {J0:.6g} at "
        f"w = b = 0, and its floor is J* = {J_star:.6g} at w = {w_star[0]:.6g}, "
        f"b = {b_star:.6g}. Fifteen steps of gd_step with η = {rate} walk down it "
        f"(J = {tb.loss(Z1, data.y, w, b):.6g} after them).",
    ]

    def draw(fig):
        ax = fig.add_subplot(1, 1, 1)
        W, B = np.meshgrid(np.linspace(-20, w_star[0] * 1.6 + 20, 120),
                           np.linspace(-20, b_star * 1.3, 120))
        r = W[..., None] * z + B[..., None] - data.y
        Jg = (r ** 2).mean(axis=-1) / 2
        cs = ax.contour(W, B, Jg, levels=np.geomspace(J_star * 1.01, Jg.max(), 12), cmap="viridis")
        ax.clabel(cs, fontsize=7, fmt="%.0f")
        ax.plot(path[:, 0], path[:, 1], "o-", color="C3", ms=3, label=f"gd_step, η = {rate}")
        ax.plot(w_star, b_star, "k*", ms=12, label="normal_equation")
        ax.set_xlabel(f"w ({feature}, standardized)")
        ax.set_ylabel("b (intercept)")
        ax.set_title("J(w, b) on one feature: gradient steps down the bowl")
        ax.legend(loc="lower right")

    return Step("The model, the loss, the gradient, the step", text,
                code=textbook_source(tb.predict, tb.loss, tb.gradients, tb.gd_step,
                                     tb.normal_equation),
                draw=draw, figure_size=(8.0, 4.5),
                facts={"J0": J0, "J_star": J_star, "n": n, "d": d},
                caption="Contours of the loss over (w, b) for one feature; the red path is "
                        "textbook.gd_step, the star the normal equation's solution.")


def step_normal_vs_gd(data: LessonData) -> Step:
    w_tb, b_tb = tb.normal_equation(data.X, data.y)
    normal = LinearRegression(solver="normal").fit(data.X, data.y)
    gd, _ = quiet_fit(LinearRegression(solver="gd", optimizer="nesterov", max_iter=20_000, tol=1e-12),
                      data.X, data.y)
    diff = np.max(np.abs(gd.coef_ - normal.coef_)) / np.max(np.abs(normal.coef_))
    diff_tb = np.max(np.abs(w_tb - normal.coef_)) / np.max(np.abs(normal.coef_))
    width = max(len(s) for s in data.names + ["intercept"])
    rows = [f"{'':{width}}  {'normal equation':>18}  {'gradient descent':>18}"]
    rows += [f"{name:{width}}  {normal.coef_[j]:18.10f}  {gd.coef_[j]:18.10f}"
             for j, name in enumerate(data.names)]
    rows.append(f"{'intercept':{width}}  {normal.intercept_:18.10f}  {gd.intercept_:18.10f}")
    text = [
        "The closed form solves (AᵀA)θ = Aᵀy once; gradient descent walks to the same θ. "
        f"linreg's normal equations and its gradient descent (Nesterov, {gd.n_iter_} iterations, "
        f"stopped by: {gd.stop_reason_}):",
        "\n".join(rows),
        f"Largest coefficient difference: {diff:.2e} of the largest coefficient "
        f"(textbook.normal_equation vs linreg's: {diff_tb:.2e}).",
    ]
    scale = data.X.std(axis=0)

    def draw(fig):
        ax1, ax2 = fig.subplots(1, 2)
        pos = np.arange(len(data.names))
        ax1.bar(pos - 0.2, normal.coef_ * scale, 0.4, label="normal equation")
        ax1.bar(pos + 0.2, gd.coef_ * scale, 0.4, label="gradient descent")
        ax1.set_xticks(pos, data.names, rotation=45)
        ax1.set_ylabel("coefficient × feature's std")
        ax1.set_title("The same coefficients")
        ax1.legend()
        gap = np.abs(gd.coef_ - normal.coef_) / np.max(np.abs(normal.coef_))
        ax2.bar(pos, np.maximum(gap, 1e-17), color="C2")
        ax2.set_yscale("log")
        ax2.set_xticks(pos, data.names, rotation=45)
        ax2.set_title("|difference| / largest coefficient")

    return Step("Normal equation vs gradient descent: the same coefficients", text,
                draw=draw, facts={"relative_difference": diff, "gd_iterations": gd.n_iter_,
                                  "gd_stop": gd.stop_reason_, "normal_coef": normal.coef_,
                                  "gd_coef": gd.coef_},
                caption="Left: both solutions, in units of one standard deviation of each "
                        "feature. Right: how far apart they are (log scale).")


def step_learning_rate(data: LessonData, steps: int = 60) -> Step:
    L = lipschitz(data)
    Z, y = data.Z, data.y
    w_star, b_star = tb.normal_equation(Z, y)
    theta_star = np.append(w_star, b_star)
    J_star = tb.loss(Z, y, w_star, b_star)
    # the direction of largest curvature: the top eigenvector of the Hessian [ZᵀZ/n, 0; 0, 1]
    H = np.zeros((Z.shape[1] + 1,) * 2)
    H[:-1, :-1] = Z.T @ Z / len(y)
    H[-1, -1] = 1.0
    top = np.linalg.eigh(H)[1][:, -1]
    library, paths, message = {}, {}, ""
    for c in RATE_FACTORS:
        paths[c] = textbook_path(Z, y, c / L, steps)
        try:
            m, _ = quiet_fit(LinearRegression(solver="gd", optimizer="plain", learning_rate=c / L,
                                              max_iter=steps, tol=0), data.X, y)
            library[c] = np.asarray(m.loss_history_)
        except DivergenceError as exc:
            message = str(exc)
    final = {c: paths[c][0][-1] for c in RATE_FACTORS}
    flips = {c: int(np.sum(np.diff(np.sign((paths[c][1] - theta_star) @ top)) != 0))
             for c in RATE_FACTORS}
    lines = [f"η = {c:>3}/L = {c / L:.4f}: J after {steps} steps = {final[c]:.6g}"
             f" (J* = {J_star:.6g}); the error along the steepest direction changes sign "
             f"{flips[c]} times" for c in RATE_FACTORS]
    text = [
        f"The curvature of J (standardized features) is L = {L:.4g}, the largest eigenvalue of "
        "its Hessian; plain descent is stable for η < 2/L. From the same start, w = b = 0:",
        "\n".join(lines),
        "0.1/L crawls, 1/L goes straight down, 1.9/L overshoots and oscillates across the "
        "valley but still shrinks, 2.1/L overshoots further each time and diverges. linreg "
        "refuses that rate before taking a step:",
        f"DivergenceError: {message}",
    ]

    def draw(fig):
        ax1, ax2 = fig.subplots(1, 2)
        for c in RATE_FACTORS:
            ax1.plot(np.maximum(paths[c][0] - J_star, 1e-12), label=f"η = {c}/L")
            ax2.plot((paths[c][1] - theta_star) @ top, label=f"η = {c}/L")
        ax1.set_yscale("log")
        ax1.set_xlabel("iteration")
        ax1.set_ylabel("J − J*")
        ax1.set_title("Loss above the optimum")
        ax1.legend()
        ax2.set_yscale("symlog", linthresh=1.0)
        ax2.set_xlabel("iteration")
        ax2.set_ylabel("error along the steepest direction")
        ax2.set_title("Oscillation: the sign flips at 1.9/L and 2.1/L")

    return Step("The learning rate: 0.1/L, 1/L, 1.9/L, 2.1/L", text,
                code=textbook_source(tb.gd_step), draw=draw,
                facts={"L": L, "final_loss": final, "J_star": J_star, "sign_flips": flips,
                       "library_loss": library, "textbook_loss": {c: p[0] for c, p in paths.items()},
                       "divergence_message": message},
                caption="Left: J − J* per iteration (log scale). Right: the parameters' error "
                        "projected on the Hessian's top eigenvector (symmetric log scale).")


def step_scaling(data: LessonData, tol: float = 1e-4, max_iter: int = 20_000) -> Step:
    Xc = data.X - data.X.mean(axis=0)
    kappa_raw, kappa_std = np.linalg.cond(Xc), np.linalg.cond(data.Z)
    fits = {}
    for standardize in (True, False):
        m, _ = quiet_fit(LinearRegression(solver="gd", optimizer="plain", standardize=standardize,
                                          max_iter=max_iter, tol=tol), data.X, data.y)
        fits[standardize] = m
    J_star = tb.loss(data.X, data.y, *tb.normal_equation(data.X, data.y))
    raw, std = fits[False], fits[True]
    excess = {s: (m.loss_history_[-1] - J_star) / J_star for s, m in fits.items()}
    raw_result = (f"{raw.n_iter_} iterations" if raw.stop_reason_ == "tolerance" else
                  f"not reached in {raw.n_iter_} iterations (stopped by {raw.stop_reason_}; "
                  f"J still {100 * excess[False]:.3g} % above J*)")
    scales = data.X.std(axis=0)
    text = [
        f"The features' standard deviations run from {scales.min():.3g} "
        f"({data.names[int(scales.argmin())]}) to {scales.max():.3g} "
        f"({data.names[int(scales.argmax())]}). The condition number of the centred design is "
        f"κ = {kappa_raw:.4g} unscaled and {kappa_std:.4g} standardized; gradient descent's "
        f"speed depends on the Hessian's κ², {kappa_raw ** 2:.4g} against {kappa_std ** 2:.4g}.",
        f"Plain gradient descent at its automatic rate 1/L, to the same tolerance "
        f"(tol = {tol:g}):\n  standardized: {std.n_iter_} iterations "
        f"(J {100 * excess[True]:.2g} % above J*)\n  unscaled:     {raw_result}",
        "So linreg standardizes inside the fit by default (standardize=True) and reports the "
        "coefficients in the original units.",
    ]

    def draw(fig):
        ax1, ax2 = fig.subplots(1, 2)
        ax1.bar(data.names, scales, color="C1")
        ax1.set_yscale("log")
        ax1.tick_params(axis="x", rotation=45)
        ax1.set_title("Each feature's standard deviation")
        for s, label in ((True, "standardized"), (False, "unscaled")):
            h = np.asarray(fits[s].loss_history_)
            ax2.plot(np.maximum(h - J_star, 1e-12), label=f"{label} ({fits[s].n_iter_} it.)")
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        ax2.set_xlabel("iteration")
        ax2.set_ylabel("J − J*")
        ax2.set_title("Plain descent at 1/L")
        ax2.legend()

    return Step("Unscaled vs standardized features", text, draw=draw,
                facts={"kappa_raw": kappa_raw, "kappa_std": kappa_std, "tol": tol,
                       "iterations": {s: m.n_iter_ for s, m in fits.items()},
                       "stop_reason": {s: m.stop_reason_ for s, m in fits.items()},
                       "max_iter": max_iter},
                caption="Left: the scales of the raw features (log). Right: the loss above "
                        "the optimum for both runs (log–log).")


def _timed_fit(model, X, y):
    times = []
    start = time.perf_counter()

    def record(info):
        times.append(time.perf_counter() - start)
        return False

    model.set_params(callback=record)
    quiet_fit(model, X, y)
    return np.array([0.0] + times)


def step_batch_sizes(data: LessonData, epochs: int = 30, batch_size: int = 32) -> Step:
    X, y = data.X, data.y
    J_star = tb.loss(X, y, *tb.normal_equation(X, y))
    settings = {"batch (gd)": dict(solver="gd"), "SGD": dict(solver="sgd"),
                f"mini-batch ({batch_size})": dict(solver="minibatch", batch_size=batch_size)}
    for kw in settings.values():   # compile the kernels once (numba caches them), untimed
        quiet_fit(LinearRegression(optimizer="plain", max_iter=1, tol=0, **kw), X, y)
    runs = {}
    for name, kw in settings.items():
        model = LinearRegression(optimizer="plain", max_iter=epochs, tol=0, schedule="constant",
                                 **kw)
        seconds = _timed_fit(model, X, y)
        runs[name] = (np.asarray(model.loss_history_), seconds, model)
    rises = {name: int(np.sum(np.diff(h) > 0)) for name, (h, _, _) in runs.items()}
    lines = [f"{name:16} η = {m.learning_rate_:.4g}: J after 1 epoch = {h[1]:.6g}, after {epochs} = {h[-1]:.6g} "
             f"({100 * (h[-1] - J_star) / J_star:.3g} % above J*), {s[-1]:.3g} s, the loss "
             f"went up in {rises[name]} of {epochs} epochs" for name, (h, s, m) in runs.items()]
    text = [
        f"An epoch is one pass over the {len(y)} rows: batch descent takes one step per epoch, "
        f"SGD one per row ({len(y)} steps), mini-batch one per {batch_size} rows. "
        f"Same data, plain updates, constant automatic rates, {epochs} epochs:",
        "\n".join(lines),
        "Stochastic steps get close fast but then bounce around the optimum: each step "
        "follows one row's (or batch's) gradient, not the mean.",
    ]

    def draw(fig):
        ax1, ax2 = fig.subplots(1, 2)
        for name, (h, s, _) in runs.items():
            excess = np.maximum(h - J_star, 1e-9)
            ax1.plot(excess, label=name)
            ax2.plot(s, excess, label=name)
        for ax, label in ((ax1, "epoch"), (ax2, "seconds")):
            ax.set_yscale("log")
            ax.set_xlabel(label)
            ax.set_ylabel("J − J*")
            ax.legend()
        ax1.set_title("Loss against epochs")
        ax2.set_title("Loss against wall-clock time")

    return Step("Batch vs SGD vs mini-batch", text,
                code=textbook_source(tb.sgd_epoch, tb.minibatch_epoch), draw=draw,
                facts={"final_loss": {k: v[0][-1] for k, v in runs.items()}, "rises": rises,
                       "J_star": J_star, "seconds": {k: v[1][-1] for k, v in runs.items()},
                       "epochs": {k: v[2].n_iter_ for k, v in runs.items()}},
                caption="The loss above the optimum (log scale) per epoch, and against the seconds "
                        "since fit() was called (its setup — statistics, step size — included).")
