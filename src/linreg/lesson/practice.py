"""Steps 6–10 of the lesson: optimizers, vectorization, the cost of the closed form, L2
against overfitting, and the debugging checklist."""

from __future__ import annotations

import numpy as np

from .. import textbook as tb
from ..estimator import LinearRegression
from ..exceptions import DivergenceError
from .basics import lipschitz, textbook_path
from .steps import LessonData, Step, best_time, quiet_fit, textbook_source

__all__ = ["step_optimizers", "step_vectorized", "step_closed_form_cost", "step_l2",
           "step_debugging", "loop_gradients", "polynomial_features", "iterations_to_loss",
           "OPTIMIZERS"]

OPTIMIZERS = ("plain", "momentum", "nesterov", "adam")


def iterations_to_loss(history, target: float) -> int | None:
    """The first iteration whose loss is at most ``target`` (None if none is)."""
    hit = np.flatnonzero(np.asarray(history) <= target)
    return int(hit[0]) if hit.size else None


def step_optimizers(data: LessonData, tol: float = 1e-6, rel_loss: float = 1e-6) -> Step:
    X, y = data.X, data.y
    J_star = tb.loss(X, y, *tb.normal_equation(X, y))
    target = J_star * (1 + rel_loss)
    fits = {}
    for name in OPTIMIZERS:
        m, _ = quiet_fit(LinearRegression(solver="gd", optimizer=name, max_iter=20_000, tol=tol), X, y)
        fits[name] = m
    reach = {name: iterations_to_loss(m.loss_history_, target) for name, m in fits.items()}
    lines = [f"{name:9} η = {m.learning_rate_:<8.4g} to tol = {tol:g}: {m.n_iter_:>5} iterations "
             f"({m.stop_reason_});  to J ≤ J*(1 + {rel_loss:g}): "
             f"{reach[name] if reach[name] is not None else 'not reached'}"
             for name, m in fits.items()]
    text = [
        "Momentum remembers the last steps, so it keeps going along a long narrow valley "
        "instead of zig-zagging across it; Nesterov looks ahead one step; Adam scales each "
        "coordinate by its own gradient history. Batch descent on the diabetes data, each at "
        "the automatic rate linreg picks for it:",
        "\n".join(lines),
        f"Plain descent needs {fits['plain'].n_iter_ / fits['momentum'].n_iter_:.1f}× the "
        f"iterations of momentum: its count grows like κ, momentum's like √κ (κ of the "
        f"Hessian = {np.linalg.cond(data.Z) ** 2:.4g}, √κ = {np.linalg.cond(data.Z):.3g}).",
    ]

    def draw(fig):
        ax = fig.add_subplot(1, 1, 1)
        for name, m in fits.items():
            ax.plot(np.maximum(np.asarray(m.loss_history_) - J_star, 1e-13),
                    label=f"{name} ({m.n_iter_} iterations)")
        ax.axhline(J_star * rel_loss, color="grey", ls="--", lw=1, label="J*·1e-6")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("J − J*")
        ax.set_title("Plain, momentum, Nesterov and Adam on the same data")
        ax.legend()

    return Step("Plain vs momentum vs Nesterov vs Adam", text,
                code=textbook_source(tb.momentum_step, tb.nesterov_step, tb.adam_step),
                draw=draw, figure_size=(8.0, 4.5),
                facts={"n_iter": {k: m.n_iter_ for k, m in fits.items()}, "reach": reach,
                       "target": target, "tol": tol,
                       "stop_reason": {k: m.stop_reason_ for k, m in fits.items()}},
                caption="The loss above the optimum per iteration (log–log).")


def loop_gradients(X, y, w, b):
    """The gradients of :func:`linreg.textbook.gradients`, one sample at a time."""
    grad_w, grad_b = np.zeros(X.shape[1]), 0.0
    for i in range(X.shape[0]):
        r = X[i] @ w + b - y[i]
        grad_w += r * X[i]
        grad_b += r
    return grad_w / X.shape[0], grad_b / X.shape[0]


def step_vectorized(data: LessonData, copies=(1, 10)) -> Step:
    rows = {}
    for k in copies:
        X, y = np.tile(data.Z, (k, 1)), np.tile(data.y, k)
        w, b = np.linspace(-1, 1, X.shape[1]), 0.5
        gap = np.max(np.abs(np.append(*tb.gradients(X, y, w, b)) - np.append(*loop_gradients(X, y, w, b))))
        t_vec = best_time(lambda X=X, y=y, w=w, b=b: tb.gradients(X, y, w, b), 20)
        t_loop = best_time(lambda X=X, y=y, w=w, b=b: loop_gradients(X, y, w, b), 3)
        rows[X.shape[0]] = (t_vec, t_loop, gap)
    lines = [f"n = {n:>6}: vectorized {1e6 * tv:9.1f} µs, Python loop {1e6 * tl:10.1f} µs — "
             f"{tl / tv:.0f}× slower (largest difference {gap:.1e})"
             for n, (tv, tl, gap) in rows.items()]
    text = [
        "The same gradient, Xᵀ(Xw + b − y)/n, computed two ways: textbook.gradients (two "
        "matrix–vector products, run by BLAS) and a Python loop over the samples "
        "(loop_gradients, below). Best of several runs on this machine:",
        "\n".join(lines),
        "Same numbers, same operation count: the loop pays the interpreter for every sample.",
    ]

    def draw(fig):
        ax = fig.add_subplot(1, 1, 1)
        ns = list(rows)
        pos = np.arange(len(ns))
        ax.bar(pos - 0.2, [1e6 * rows[n][0] for n in ns], 0.4, label="vectorized (textbook.gradients)")
        ax.bar(pos + 0.2, [1e6 * rows[n][1] for n in ns], 0.4, label="Python loop over samples")
        ax.set_xticks(pos, [f"n = {n}" for n in ns])
        ax.set_yscale("log")
        ax.set_ylabel("µs per gradient")
        ax.set_title("One gradient of J")
        ax.legend()

    return Step("Vectorized vs a Python loop", text,
                code=textbook_source(tb.gradients, loop_gradients), draw=draw,
                figure_size=(7.0, 4.0),
                facts={"times": rows, "ratio": {n: tl / tv for n, (tv, tl, _) in rows.items()}},
                caption="Time per gradient (log scale).")


def step_closed_form_cost(data: LessonData, n: int = 2000, dims=(50, 100, 200, 400, 800)) -> Step:
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    closed, epoch = [], []
    with threadpool_limits(1):   # one core each: steadier timings on a busy machine
        _time_costs(rng, n, dims, closed, epoch)
    closed, epoch = np.array(closed), np.array(epoch)
    logd = np.log(np.asarray(dims, dtype=float))
    slope_closed = np.polyfit(logd, np.log(closed), 1)[0]
    slope_epoch = np.polyfit(logd, np.log(epoch), 1)[0]
    lines = [f"d = {d:>4}: normal equation {1e3 * c:8.2f} ms, one SGD epoch {1e3 * e:8.2f} ms "
             f"(ratio {c / e:6.2f})" for d, c, e in zip(dims, closed, epoch)]
    text = [
        f"Synthetic data, n = {n} rows. textbook.normal_equation forms AᵀA (n·d² operations) "
        "and solves it (d³/3); an epoch of textbook.sgd_epoch touches each of the n·d numbers "
        "a few times:",
        "\n".join(lines),
        f"Measured growth over these d: the closed form ∝ d^{slope_closed:.2f}, the "
        f"epoch ∝ d^{slope_epoch:.2f} (a Python loop: the interpreter's cost per row dominates "
        "at small d). With d² memory and d³ time, the closed form is impractical for very "
        f"large d — a million features would need {8e12 / 1e12:.0f} TB for AᵀA (8 bytes × 10¹²) — and SGD's O(n·d) epochs win. "
        "For the few hundred features of most tables it is one solve, exact, and cheaper than "
        "the tens of epochs SGD needs: linreg's solver='auto' uses it.",
    ]

    def draw(fig):
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(dims, 1e3 * closed, "o-", label="normal equation (AᵀA, solve)")
        ax.plot(dims, 1e3 * epoch, "s-", label="one SGD epoch (Python loop)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("number of features d")
        ax.set_ylabel("milliseconds")
        ax.set_title(f"Cost as d grows, n = {n}")
        ax.legend()

    return Step("The closed form's cost as d grows vs an epoch of SGD", text, draw=draw,
                figure_size=(7.0, 4.0),
                facts={"dims": dims, "closed": closed, "epoch": epoch,
                       "slope_closed": slope_closed, "slope_epoch": slope_epoch},
                caption="Time of one closed-form solve and of one SGD epoch (log–log).")


def _time_costs(rng, n, dims, closed, epoch):
    for d in dims:
        X = rng.normal(size=(n, d))
        y = X @ rng.normal(size=d) + rng.normal(size=n)
        closed.append(best_time(lambda X=X, y=y: tb.normal_equation(X, y), 5))
        epoch.append(best_time(lambda X=X, y=y, d=d: tb.sgd_epoch(X, y, np.zeros(d), 0.0, 1e-3, np.arange(n)), 2))


def polynomial_features(X) -> np.ndarray:
    """The columns of ``X`` and all their products of two (squares included)."""
    d = X.shape[1]
    products = [X[:, i] * X[:, j] for i in range(d) for j in range(i, d)]
    return np.column_stack([X] + products)


def _cross_validation(P, y, alphas, folds: int):
    """The k-fold CV curve of ridge on ``P`` (LinearRegressionCV), and the training error of
    the fit on all rows at every alpha."""
    from ..selection import LinearRegressionCV
    searched = LinearRegressionCV(alphas=alphas, cv=folds).fit(P, y)
    train = []
    for a in alphas:
        m, _ = quiet_fit(LinearRegression(alpha=a), P, y)
        train.append(np.mean((m.predict(P) - y) ** 2))
    return searched, np.array(train)


def _one_se_line(alphas, cv_mean, i_min: int, i_1se: int) -> str:
    if i_1se != i_min:
        return (f"alpha_1se = {alphas[i_1se]:.2g}: held-out MSE {cv_mean[i_1se]:.5g} — the "
                "largest alpha within one standard error of the best: a simpler model, as good "
                "within the noise\n")
    if i_min + 1 == len(alphas):
        return "alpha_1se = alpha_min: it is the largest alpha tried\n"
    return (f"alpha_1se = alpha_min: the next alpha, {alphas[i_min + 1]:.2g}, is already more "
            f"than one standard error worse (held-out MSE {cv_mean[i_min + 1]:.5g})\n")


def step_l2(data: LessonData, alphas=None, seed: int = 0, folds: int = 5) -> Step:
    alphas = np.geomspace(1e-5, 3.0, 16) if alphas is None else np.asarray(alphas)
    P = polynomial_features(data.Z)
    order = np.random.default_rng(seed).permutation(len(data.y))
    train, val = order[: len(order) // 2], order[len(order) // 2:]
    train_err, val_err = [], []
    for a in alphas:
        m, _ = quiet_fit(LinearRegression(alpha=a), P[train], data.y[train])
        train_err.append(np.mean((m.predict(P[train]) - data.y[train]) ** 2))
        val_err.append(np.mean((m.predict(P[val]) - data.y[val]) ** 2))
    train_err, val_err = np.array(train_err), np.array(val_err)
    best = int(np.argmin(val_err))
    lin, _ = quiet_fit(LinearRegression(), data.Z[train], data.y[train])
    lin_val = np.mean((lin.predict(data.Z[val]) - data.y[val]) ** 2)
    searched, cv_train = _cross_validation(P, data.y, alphas, folds)
    cv_mean = np.asarray(searched.cv_results_["mean_test_mse"])
    cv_se = np.asarray(searched.cv_results_["se_test_mse"])
    i_min = int(np.flatnonzero(alphas == searched.alpha_min_)[0])
    i_1se = int(np.flatnonzero(alphas == searched.alpha_1se_)[0])
    text = [
        f"The {data.Z.shape[1]} features and all their products of two give {P.shape[1]} "
        f"features. Half the rows ({len(train)}) train, the other half ({len(val)}) validate "
        "(a seeded random split). The L2 penalty (alpha/2)‖w‖² pulls the coefficients toward 0:",
        f"smallest alpha = {alphas[0]:.2g}: training MSE {train_err[0]:.5g}, validation MSE "
        f"{val_err[0]:.5g} — the model fits the noise of its training half\n"
        f"best alpha     = {alphas[best]:.2g}: training MSE {train_err[best]:.5g}, validation "
        f"MSE {val_err[best]:.5g}\n"
        f"largest alpha  = {alphas[-1]:.2g}: training MSE {train_err[-1]:.5g}, validation MSE "
        f"{val_err[-1]:.5g} — too much penalty underfits\n"
        f"(the plain linear model, {data.Z.shape[1]} features: validation MSE {lin_val:.5g})",
        "Training error only grows with alpha; validation error falls and rises again. "
        "Choose alpha on data the fit has not seen.",
        f"One split is one draw. {folds}-fold cross-validation uses every row for validation "
        f"once: LinearRegressionCV(alphas, cv={folds}) fits the {folds} training sets at every "
        "alpha from the folds' statistics (one pass over the rows) and scores each on its "
        "held-out fold:",
        f"alpha_min = {alphas[i_min]:.2g}: held-out MSE {cv_mean[i_min]:.5g} ± "
        f"{cv_se[i_min]:.2g} (mean ± 1 s.e. over the folds), training MSE "
        f"{cv_train[i_min]:.5g}\n" + _one_se_line(alphas, cv_mean, i_min, i_1se) +
        f"smallest alpha = {alphas[0]:.2g}: held-out MSE {cv_mean[0]:.5g}, training MSE "
        f"{cv_train[0]:.5g}",
        f"The chosen model is refitted on all {len(data.y)} rows with alpha_ = "
        f"{float(searched.alpha_):.2g} (selection=\"1se\" would take alpha_1se).",
    ]

    def draw(fig):
        ax, ax2 = fig.subplots(1, 2)
        ax.plot(alphas, train_err, "o-", label="training")
        ax.plot(alphas, val_err, "s-", label="validation")
        ax.axvline(alphas[best], color="grey", ls="--", lw=1, label=f"best alpha {alphas[best]:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("alpha")
        ax.set_ylabel("mean squared error")
        ax.set_title(f"One split: {P.shape[1]} features, {len(train)} training rows")
        ax.legend()
        ax2.plot(alphas, cv_train, "o-", label="training (fit on all rows)")
        ax2.errorbar(alphas, cv_mean, yerr=cv_se, fmt="s-", color="C1", capsize=2,
                     label=f"held out: mean ± 1 s.e. over {folds} folds")
        ax2.axvline(alphas[i_min], color="grey", ls="--", lw=1,
                    label=f"alpha_min {alphas[i_min]:.2g}")
        if i_1se != i_min:
            ax2.axvline(alphas[i_1se], color="grey", ls=":", lw=1,
                        label=f"alpha_1se {alphas[i_1se]:.2g}")
        ax2.set_xscale("log")
        ax2.set_xlabel("alpha")
        ax2.set_ylabel("mean squared error")
        ax2.set_title(f"{folds}-fold cross-validation (LinearRegressionCV), {len(data.y)} rows")
        ax2.legend(fontsize="small", loc="center left", bbox_to_anchor=(0.0, 0.33))

    return Step("Overfitting and L2", text, draw=draw, figure_size=(12.0, 4.5),
                facts={"alphas": alphas, "train": train_err, "val": val_err, "best": best,
                       "linear_val": lin_val, "n_features": P.shape[1], "folds": folds,
                       "cv_mean": cv_mean, "cv_se": cv_se, "cv_train": cv_train,
                       "alpha_min": float(searched.alpha_min_),
                       "alpha_1se": float(searched.alpha_1se_),
                       "alpha": float(searched.alpha_)},
                caption="Left: training and validation error across the penalty alpha on one "
                        "split (log x). Right: the cross-validation curve — held-out MSE ± 1 "
                        "s.e. over the folds, alpha_min (and alpha_1se when it differs) "
                        "marked — and the training error of the fit on all rows.")


def step_debugging(data: LessonData) -> Step:
    Z, y = data.Z, data.y
    w0, b0 = np.linspace(-1, 1, Z.shape[1]), 10.0
    J = lambda w, b: tb.loss(Z, y, w, b)  # noqa: E731
    right = tb.check_gradient(J, lambda w, b: tb.gradients(Z, y, w, b), w0, b0)
    wrong = tb.check_gradient(J, lambda w, b: tuple(-g for g in tb.gradients(Z, y, w, b)), w0, b0)
    with_bias = LinearRegression().fit(Z, y)
    no_bias = LinearRegression(fit_intercept=False).fit(Z, y)
    res_bias, res_none = y - with_bias.predict(Z), y - no_bias.predict(Z)
    J_bias, J_none = np.mean(res_bias ** 2) / 2, np.mean(res_none ** 2) / 2
    L = lipschitz(data)
    losses, _ = textbook_path(Z, y, 2.1 / L, 40)
    low = int(np.argmin(losses))
    try:
        LinearRegression(solver="gd", optimizer="plain", learning_rate=2.1 / L).fit(data.X, y)
        message = ""
    except DivergenceError as exc:
        message = str(exc)
    text = [
        "1. Check the gradient against finite differences before trusting it. "
        "textbook.check_gradient compares it with (J(θ + εe_j) − J(θ − εe_j))/2ε: "
        f"the right gradient gives a relative error of {right:.1e}, the same gradient with "
        f"its sign flipped {wrong:.3g}.",
        "2. Do not forget the bias. On centred features without an intercept the line must "
        f"pass through 0: J = {J_none:.6g} instead of {J_bias:.6g}, the mean residual is "
        f"{res_none.mean():.4g} instead of {res_bias.mean():.1e}. The symptom: residuals that "
        "do not average to zero.",
        f"3. Watch the loss. At η = 2.1/L it first falls, from {losses[0]:.4g} to "
        f"{losses[low]:.4g} at step {low} (the gentler directions still converge), then grows "
        f"every step, to {losses[-1]:.4g} after {len(losses) - 1} steps: the steepest direction "
        f"overshoots more each time. linreg says so before it starts: DivergenceError: {message}",
    ]

    def draw(fig):
        ax1, ax2, ax3 = fig.subplots(1, 3)
        ax1.bar(["right", "sign flipped"], [right, wrong], color=["C2", "C3"])
        ax1.set_yscale("log")
        ax1.set_title("check_gradient: relative error")
        bins = np.linspace(min(res_bias.min(), res_none.min()), max(res_bias.max(), res_none.max()), 40)
        ax2.hist(res_bias, bins, alpha=0.6, label="with intercept")
        ax2.hist(res_none, bins, alpha=0.6, label="forgotten intercept")
        ax2.axvline(0, color="k", lw=1)
        ax2.set_title("Residuals y − ŷ")
        ax2.legend(fontsize=8)
        ax3.plot(losses, "o-", color="C3")
        ax3.set_yscale("log")
        ax3.set_xlabel("iteration")
        ax3.set_title("J at η = 2.1/L")

    return Step("The debugging checklist", text, code=textbook_source(tb.check_gradient),
                draw=draw, figure_size=(11.0, 3.6),
                facts={"check_right": right, "check_wrong": wrong, "J_bias": J_bias,
                       "J_none": J_none, "mean_resid_none": res_none.mean(),
                       "diverging_losses": losses, "divergence_message": message},
                caption="Left: the gradient check. Middle: residuals with and without the "
                        "intercept. Right: the loss at a too-large rate (log scale).")
