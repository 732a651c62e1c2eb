"""Why iterative fits stop (``stop_reason_``), the warnings that say how far from the optimum
they stopped, and where the reason shows: the model file, the summary table, the command line.

Trusted answers: the exact optimum from numpy.linalg.lstsq (the relative loss gap), statsmodels
(the standard errors behind the distance in standard errors), hand-worked learning rates
(powers of two of a given η₀).
"""

from __future__ import annotations

import io
import json
import math
import warnings

import numpy as np
import pytest

import linreg
from linreg import ConvergenceWarning, LinearRegression
from linreg.cli import cli_setting, main
from linreg.stopping import STOP_REASONS


# ---------------------------------------------------------------- data and trusted answers
def well_conditioned(n=600, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + np.linspace(-1, 1, d)
    y = X @ rng.standard_normal(d) + 3.0 + 0.5 * rng.standard_normal(n)
    return X, y


def diamonds_like(n=4000, seed=0):
    """Shaped like ggplot2's diamonds with one-hot cut/color/clarity (drop_first): carat
    near 1, depth and table near 60 (so the raw design is far from standardized), x, y, z
    nearly collinear with carat^(1/3), 17 dummies; price in the thousands."""
    rng = np.random.default_rng(seed)
    carat = rng.lognormal(-0.4, 0.55, n)
    depth, table = rng.normal(61.7, 1.4, n), rng.normal(57.5, 2.2, n)
    size = 6.5 * carat ** (1 / 3)
    x, y2 = size + rng.normal(0, 0.05, n), size + rng.normal(0, 0.05, n)
    z = 0.62 * size + rng.normal(0, 0.04, n)
    dummies = np.hstack([np.eye(levels)[rng.integers(0, levels, n)][:, 1:] for levels in (5, 7, 8)])
    X = np.column_stack([carat, depth, table, x, y2, z, dummies])
    price = (9000 * carat - 30 * depth - 20 * table - 300 * x + 10 * y2 - 200 * z
             + dummies @ rng.normal(0, 800, dummies.shape[1]) + rng.normal(0, 1100, n))
    return X, price


def lstsq_optimum(X, y, sample_weight=None, fit_intercept=True):
    """``(coef, intercept)`` of weighted least squares by numpy.linalg.lstsq."""
    s = np.ones(len(X)) if sample_weight is None else sample_weight
    A = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    sol = np.linalg.lstsq(A * np.sqrt(s)[:, None], y * np.sqrt(s), rcond=None)[0]
    return (sol[:-1], sol[-1]) if fit_intercept else (sol, 0.0)


def loss(X, y, coef, intercept, sample_weight=None):
    s = np.ones(len(X)) if sample_weight is None else sample_weight
    r = X @ coef + intercept - y
    return float(s @ r**2 / (2 * s.sum()))


def relative_gap(model, X, y, sample_weight=None):
    """``(J − J*)/J*`` with ``J*`` from numpy.linalg.lstsq, ``J`` from the rows."""
    J_star = loss(X, y, *lstsq_optimum(X, y, sample_weight, model.fit_intercept), sample_weight)
    return (loss(X, y, model.coef_, model.intercept_, sample_weight) - J_star) / J_star


def fit_recording(model, *args, **kwargs):
    """``(model, [ConvergenceWarning messages])``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(*args, **kwargs)
    return model, [w.message for w in caught if issubclass(w.category, ConvergenceWarning)]


def only_warning(messages):
    assert len(messages) == 1, [str(m) for m in messages]
    return messages[0]


# ---------------------------------------------------------------- each reason, provoked
def test_tolerance_converges_silently_and_exactly():
    X, y = well_conditioned(seed=1)
    model, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", max_iter=5000), X, y)
    assert model.stop_reason_ == "tolerance" and model.n_iter_ < 5000
    assert caught == []
    assert relative_gap(model, X, y) < 1e-10


def test_max_iter_warns_with_the_gap_and_advice_that_fits():
    X, y = well_conditioned(seed=2)
    X[:, 1] = X[:, 0] + 0.3 * X[:, 1]           # correlated: plain gd is slow
    model, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", max_iter=60), X, y)
    assert model.stop_reason_ == "max_iter" and model.n_iter_ == 60
    warning = only_warning(caught)
    text = str(warning)
    assert "gradient descent stopped at max_iter=60 iterations before the gradient reached tol=1e-06" in text
    assert "optimizer='nesterov'" in text and "solver='auto'" in text
    assert "standardize=True" not in text           # it is on already
    suggested = int(text.split("max_iter=")[-1].split(" ")[0])
    assert suggested >= 120                         # more than it had
    gap = relative_gap(model, X, y)
    assert 0.01 < gap < 1
    assert warning.relative_loss_gap == pytest.approx(gap, rel=1e-6)
    assert f"{100 * gap:.3g} % above the exact optimum" in text
    assert warning.stop_reason == "max_iter"


def test_suggested_max_iter_is_enough():
    """The suggestion, tried: plain gd then meets tol (it is a bound from the Hessian's
    smallest eigenvalue; the real diamonds table needs 2,832 iterations, and the warning
    after 1,000 suggests 3,200)."""
    X, y = diamonds_like(2000, seed=3)
    _first, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", max_iter=300), X, y)
    suggested = int(str(only_warning(caught)).split("max_iter=")[-1].split(" ")[0])
    again, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", max_iter=suggested), X, y)
    assert again.stop_reason_ == "tolerance" and caught == []
    assert again.n_iter_ > 300


def test_raw_design_advice_is_to_standardize():
    X, y = diamonds_like(2000, seed=4)
    _model, caught = fit_recording(LinearRegression(solver="sgd", standardize=False), X, y)
    text = str(only_warning(caught))
    assert "standardize=True" in text
    assert "optimizer='nesterov'" not in text        # only advised for full-batch gd


def test_learning_rate_exhausted_is_not_convergence():
    X, y = well_conditioned(n=400, d=3, seed=5)
    model, caught = fit_recording(LinearRegression(solver="sgd", learning_rate=0.01,
                                                   n_iter_no_change=2, max_iter=500), X, y)
    assert model.stop_reason_ == "learning_rate_exhausted" and model.n_iter_ < 500
    warning = only_warning(caught)
    assert "learning rate exhausted, not converged" in str(warning)
    assert "halved it 20 times (to 9.54e-09)" in str(warning)      # 0.01·2⁻²⁰
    assert warning.relative_loss_gap == pytest.approx(relative_gap(model, X, y), rel=1e-6)
    # the initial rate stays what was given; the final one is 2⁻²⁰ of it, exactly
    assert model.learning_rate_ == 0.01 == model.learning_rate_history_[0]
    assert model.final_learning_rate_ == 0.01 * 2.0**-20


def test_validation_plateau_warns_with_the_gap():
    X, y = diamonds_like(2000, seed=6)
    model, caught = fit_recording(LinearRegression(solver="minibatch", optimizer="adam",
                                                   early_stopping=True), X, y)
    assert model.stop_reason_ == "validation_plateau"
    warning = only_warning(caught)
    text = str(warning)
    assert "stopped early" in text and "early_stopping=False" in text
    assert warning.relative_loss_gap == pytest.approx(relative_gap(model, X, y), rel=1e-6)


def test_callback_stop_is_one_quiet_note_with_the_gap():
    X, y = well_conditioned(seed=7)
    model, caught = fit_recording(LinearRegression(
        solver="sgd", max_iter=100, callback=lambda info: info["epoch"] == 3), X, y)
    assert model.stop_reason_ == "callback" and model.n_iter_ == 3
    warning = only_warning(caught)
    assert "stopped by the callback after 3 epochs" in str(warning)
    assert "To get closer" not in str(warning)      # asked for: no advice
    assert warning.relative_loss_gap == pytest.approx(relative_gap(model, X, y), rel=1e-6)


def test_loose_tolerance_far_from_the_optimum_still_warns():
    X, y = diamonds_like(2000, seed=8)
    model, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", tol=0.3), X, y)
    assert model.stop_reason_ == "tolerance"
    gap = relative_gap(model, X, y)
    assert gap >= 0.01
    text = str(only_warning(caught))
    assert "reached tol=0.3" in text and "tol=0.003" in text


def test_tol_zero_runs_max_iter_and_warns_only_when_far():
    X, y = well_conditioned(seed=9)
    near, caught = fit_recording(LinearRegression(solver="gd", tol=0, max_iter=300), X, y)
    assert near.stop_reason_ == "max_iter" and near.n_iter_ == 300 and caught == []
    assert relative_gap(near, X, y) < 0.01
    far, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", tol=0, max_iter=1), X, y)
    assert relative_gap(far, X, y) >= 0.01
    assert "ran max_iter=1 iteration (tol=0: no stopping rule)" in str(only_warning(caught))


def test_closed_forms_are_exact():
    X, y = well_conditioned(seed=10)
    for solver in ("auto", "normal", "qr"):
        model, caught = fit_recording(LinearRegression(solver=solver), X, y)
        assert model.stop_reason_ == "exact" and caught == []


def test_partial_fit_records_its_epoch_and_warns_once_when_the_rate_is_exhausted():
    X, y = well_conditioned(n=300, d=3, seed=11)
    model = LinearRegression(solver="sgd", learning_rate=0.01, n_iter_no_change=1)
    per_call = []
    for _ in range(80):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.partial_fit(X, y)
        per_call.append((model.stop_reason_, len(caught)))
    assert per_call[0] == ("partial_fit", 0)
    exhausted = [i for i, (reason, _) in enumerate(per_call) if reason == "learning_rate_exhausted"]
    assert exhausted and exhausted == list(range(exhausted[0], 80))
    assert [count for _, count in per_call] == [int(i == exhausted[0]) for i in range(80)]
    assert model.learning_rate_ == 0.01 and model.final_learning_rate_ <= 0.01 * 2.0**-20


def test_learning_rate_is_the_initial_rate_after_divergence_halvings_only():
    X, y = well_conditioned(n=1000, d=5, seed=19)
    model, caught = fit_recording(LinearRegression(solver="sgd", learning_rate=50.0, max_iter=100), X, y)
    halvings = model.training_state_.divergences
    diverged, stopped = caught                    # the divergences, then why it stopped
    assert halvings >= 1 and f"diverged {halvings} time(s)" in str(diverged)
    assert f"50 -> {50.0 * 2.0**-halvings:.4g}" in str(diverged)
    assert stopped.stop_reason == model.stop_reason_ == "max_iter"
    assert model.learning_rate_ == 50.0 * 2.0**-halvings
    # the plateau halvings come on top, in the final rate only
    plateau = model.training_state_.plateau_halvings
    assert plateau >= 1
    assert model.final_learning_rate_ == model.learning_rate_ * 2.0**-plateau


def test_final_learning_rate_follows_the_schedule():
    X, y = well_conditioned(n=400, d=3, seed=12)
    model, _ = fit_recording(LinearRegression(solver="minibatch", schedule="invscaling",
                                              power_t=0.5, learning_rate=0.01, tol=0,
                                              max_iter=6), X, y)
    assert model.learning_rate_ == 0.01
    assert model.final_learning_rate_ == pytest.approx(0.01 / np.sqrt(7), rel=1e-15)


@pytest.mark.parametrize("params", [{"solver": "sgd", "standardize": False},
                                    {"solver": "gd", "optimizer": "plain", "max_iter": 30}],
                         ids=["sgd-raw", "gd"])
def test_a_file_source_fit_stops_and_warns_the_same_way(tmp_path, params):
    """Rows streamed from .npy files go through the same loop: the same reason, and the gap
    against numpy.linalg.lstsq of all the rows."""
    from linreg import sources
    X, y = diamonds_like(1500, seed=25)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    source = sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=400)
    model, caught = fit_recording(LinearRegression(**params), source)
    assert model.stop_reason_ == ("learning_rate_exhausted" if params["solver"] == "sgd" else "max_iter")
    warning = only_warning(caught)
    assert warning.stop_reason == model.stop_reason_
    assert warning.relative_loss_gap == pytest.approx(relative_gap(model, X, y), rel=1e-6)


# ---------------------------------------------------------------- never 1 % above silently
@pytest.mark.parametrize("params", [
    {"solver": "sgd"},
    {"solver": "sgd", "standardize": False},
    {"solver": "minibatch", "optimizer": "adam", "early_stopping": True},
    {"solver": "minibatch", "standardize": False},
    {"solver": "minibatch", "optimizer": "momentum", "max_iter": 5},
    {"solver": "gd", "optimizer": "plain", "max_iter": 50},
    {"solver": "gd", "standardize": False, "max_iter": 100},
], ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("design", ["diamonds_like", "weighted", "no_intercept"])
def test_no_fit_ends_one_percent_above_the_optimum_without_a_warning(params, design):
    X, y = diamonds_like(3000, seed=13)
    weights, fit_intercept = None, True
    if design == "weighted":
        weights = np.random.default_rng(14).uniform(0.2, 3.0, len(y))
    if design == "no_intercept":
        fit_intercept = False
    model, caught = fit_recording(LinearRegression(fit_intercept=fit_intercept, **params), X, y,
                                  sample_weight=weights)
    gap = relative_gap(model, X, y, weights)
    stops = [m for m in caught if m.stop_reason is not None]
    if gap >= 0.01:
        assert stops, f"{model.stop_reason_}: {gap:.3g} above the optimum, no warning"
    if stops:
        assert only_warning(stops).relative_loss_gap == pytest.approx(gap, rel=1e-5, abs=1e-12)


def test_the_property_is_exercised():
    """The parametrized property above is not vacuous: on this design the raw stochastic fits
    and Adam with early stopping do end 1 % or more above the optimum."""
    X, y = diamonds_like(3000, seed=13)
    for params in ({"solver": "sgd", "standardize": False},
                   {"solver": "minibatch", "optimizer": "adam", "early_stopping": True}):
        model, caught = fit_recording(LinearRegression(**params), X, y)
        assert relative_gap(model, X, y) >= 0.01 and len(caught) == 1


# ---------------------------------------------------------------- distance in standard errors
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("standardize", [True, False])
def test_distance_in_standard_errors_matches_statsmodels(fit_intercept, weighted, standardize):
    """statsmodels' WLS at the optimum gives the standard errors; at the fitted coefficients
    σ² scales by SSR_fit/SSR*, as summary() takes it."""
    import statsmodels.api as sm
    X, y = diamonds_like(1500, seed=15)
    X = X[:, :8]
    w = np.random.default_rng(16).uniform(0.5, 2.0, len(y)) if weighted else None
    model, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", max_iter=40,
                                                   fit_intercept=fit_intercept,
                                                   standardize=standardize), X, y,
                                  sample_weight=w)
    warning = only_warning(caught)
    A = sm.add_constant(X) if fit_intercept else X
    ols = sm.WLS(y, A, weights=np.ones(len(y)) if w is None else w).fit()
    params = np.concatenate([[model.intercept_], model.coef_]) if fit_intercept else model.coef_
    s = np.ones(len(y)) if w is None else w
    ssr_fit = float(s @ (A @ params - y) ** 2)
    bse = ols.bse * np.sqrt(ssr_fit / ols.ssr)
    expected = float(np.max(np.abs(params - ols.params) / bse))
    assert warning.distance_in_se == pytest.approx(expected, rel=1e-6)
    assert model.summary().distance_in_se == pytest.approx(expected, rel=1e-6)
    assert f"up to {expected:.3g} standard errors" in str(warning)


def test_several_targets_sum_the_gap_and_take_each_targets_standard_errors():
    import statsmodels.api as sm
    X, y = diamonds_like(1500, seed=23)
    X = X[:, :6]
    Y = np.column_stack([y, 0.01 * y + X[:, 1], X @ np.arange(6.0)
                         + np.random.default_rng(24).normal(size=len(y))])
    model, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", max_iter=40), X, Y)
    warning = only_warning(caught)
    A = sm.add_constant(X)
    excess = optimum = 0.0
    distances = []
    for j in range(3):
        ols = sm.OLS(Y[:, j], A).fit()
        params = np.concatenate([[model.intercept_[j]], model.coef_[j]])
        ssr_fit = float(np.sum((A @ params - Y[:, j]) ** 2))
        excess, optimum = excess + ssr_fit - ols.ssr, optimum + ols.ssr
        distances.append(np.max(np.abs(params - ols.params) / (ols.bse * np.sqrt(ssr_fit / ols.ssr))))
    assert warning.relative_loss_gap == pytest.approx(excess / optimum, rel=1e-6)
    assert warning.distance_in_se == pytest.approx(max(distances), rel=1e-6)


def test_a_penalized_fit_gives_the_gap_but_no_standard_errors():
    X, y = well_conditioned(seed=17)
    model, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", alpha=0.1,
                                                   standardize=False, max_iter=3), X, y)
    warning = only_warning(caught)
    # the optimum of the penalized objective, by lstsq on rows augmented with √(nα)·I
    n, d = X.shape
    A = np.vstack([np.column_stack([X, np.ones(n)]),
                   np.column_stack([np.sqrt(n * 0.1) * np.eye(d), np.zeros(d)])])
    sol = np.linalg.lstsq(A, np.concatenate([y, np.zeros(d)]), rcond=None)[0]
    def J(coef, b):
        return loss(X, y, coef, b) + 0.05 * coef @ coef
    J_star = J(sol[:-1], sol[-1])
    assert warning.relative_loss_gap == pytest.approx(
        (J(model.coef_, model.intercept_) - J_star) / J_star, rel=1e-6)
    assert warning.distance_in_se is None and "standard errors" not in str(warning)


# ---------------------------------------------------------------- where the reason shows
def test_summary_table_says_why_it_stopped():
    X, y = well_conditioned(seed=18)
    model, _ = fit_recording(LinearRegression(solver="gd", optimizer="plain", max_iter=5), X, y)
    assert f"; {STOP_REASONS['max_iter']}." in " ".join(str(model.summary()).split())
    model, _ = fit_recording(LinearRegression(solver="sgd", callback=lambda i: True), X, y)
    assert STOP_REASONS["callback"] in " ".join(str(model.summary()).split())
    exact = LinearRegression().fit(X, y)
    assert STOP_REASONS["exact"] in " ".join(str(exact.summary()).split())


def test_model_file_keeps_the_stop_reason(tmp_path):
    X, y = well_conditioned(seed=20)
    model, _ = fit_recording(LinearRegression(solver="gd", max_iter=5), X, y)
    model.save(tmp_path / "m.json")
    assert linreg.load(tmp_path / "m.json").stop_reason_ == "max_iter"
    data = json.loads((tmp_path / "m.json").read_text())
    # a file from before stop_reason_: unknown for an iterative solver, exact for a closed form
    del data["fitted"]["stop_reason_"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    assert linreg.load(tmp_path / "old.json").stop_reason_ is None
    data["fitted"]["solver_"] = "normal"
    (tmp_path / "old.json").write_text(json.dumps(data))
    assert linreg.load(tmp_path / "old.json").stop_reason_ == "exact"
    for bad in ("converged", 3, ["tolerance"]):
        data["fitted"]["stop_reason_"] = bad
        (tmp_path / "bad.json").write_text(json.dumps(data))
        with pytest.raises(linreg.ModelFileError, match="stop_reason_ must be one of"):
            linreg.load(tmp_path / "bad.json")


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def diamonds_csv(tmp_path_factory):
    X, y = diamonds_like(1500, seed=21)
    path = tmp_path_factory.mktemp("stopping") / "d.csv"
    names = [f"x{j}" for j in range(X.shape[1])] + ["price"]
    rows = [",".join(names)] + [",".join(map(repr, row)) for row in np.column_stack([X, y]).tolist()]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_cli_fit_says_why_it_stopped_in_its_own_flags(diamonds_csv, tmp_path):
    code, out, err = run(["fit", diamonds_csv, "--target", "price", "--solver", "gd",
                          "--optimizer", "plain", "--max-iter", "30", "-o", tmp_path / "m.json"])
    assert code == 0, err
    assert f"stopped: {STOP_REASONS['max_iter']}" in out
    assert err.count("linreg: warning:") == 1
    assert "stopped at --max-iter 30 iterations before the gradient reached --tol 1e-06" in err
    for flag in ("--optimizer nesterov", "--solver auto", "--max-iter "):
        assert flag in err
    assert "max_iter=" not in err and "solver='auto'" not in err and "standardize" not in err
    code, out, err = run(["summary", tmp_path / "m.json"])
    assert f"stopped: {STOP_REASONS['max_iter']}" in out
    code, out, err = run(["summary", tmp_path / "m.json", diamonds_csv])
    assert STOP_REASONS["max_iter"] in " ".join(out.split())


def test_cli_advice_for_a_raw_design_and_the_json_report(diamonds_csv, tmp_path):
    code, out, err = run(["fit", diamonds_csv, "--target", "price", "--solver", "sgd",
                          "--no-standardize", "-o", tmp_path / "m.json", "--json"])
    assert code == 0, err
    report = json.loads(out)
    assert report["stop_reason"] == "learning_rate_exhausted"
    assert report["warnings"] == [err.strip().removeprefix("linreg: warning: ")]
    assert "leaving out --no-standardize" in err and "--solver auto" in err


def test_cli_error_speaks_in_flags(diamonds_csv, tmp_path):
    assert run(["fit", diamonds_csv, "--target", "price", "--alpha", "0.5", "-q",
                "-o", tmp_path / "ridge.json"])[0] == 0
    code, out, err = run(["summary", tmp_path / "ridge.json", diamonds_csv])
    # (issue 20: a ridge summary is shown; its refusal of the OLS statistics is one sentence)
    words = " ".join(out.split())
    assert code == 0 and "fitted with --alpha 0.5" in words and "Refit with --alpha 0 " in words


def test_one_message_two_wordings():
    X, y = well_conditioned(seed=22)
    _, caught = fit_recording(LinearRegression(solver="gd", optimizer="plain", max_iter=3,
                                               standardize=False), X, y)
    warning = only_warning(caught)
    python, cli = str(warning), warning.worded(cli_setting)
    assert "max_iter=3 " in python and "--max-iter 3 " in cli
    assert "standardize=True" in python and "leaving out --no-standardize" in cli
    # nothing else differs: swap the settings back and the two texts are the same
    for name, value in warning.parameters.values():
        cli = cli.replace(cli_setting(name, value), linreg.exceptions.python_setting(name, value), 1)
    assert cli == python
    assert math.isfinite(warning.relative_loss_gap)
