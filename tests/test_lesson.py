"""The lesson's claims, checked against the library, the textbook, numpy and scikit-learn."""

import io
import re

import numpy as np
import pytest

from linreg import LinearRegression
from linreg import textbook as tb
from linreg.cli import main
from linreg.exceptions import DivergenceError
from linreg.lesson import basics, practice
from linreg.lesson.steps import LessonData

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def data():
    return LessonData.diabetes()


def _hessian_max_eig(Z):
    H = np.zeros((Z.shape[1] + 1,) * 2)
    H[:-1, :-1] = Z.T @ Z / len(Z)
    H[-1, -1] = 1.0
    return np.linalg.eigvalsh(H)[-1]


def test_learning_rate_claims(data):
    step = basics.step_learning_rate(data)
    f = step.facts
    assert f["L"] == pytest.approx(_hessian_max_eig(data.Z), rel=1e-10)
    # 2.1/L really diverges: the loss grows every step once it has turned, and ends far above
    J = f["textbook_loss"][2.1]
    low = int(np.argmin(J))
    assert np.all(np.diff(J[low:]) > 0) and J[-1] > 1e3 * J[0]
    # the others converge, and 1/L is closer to the optimum than 0.1/L
    for c in (0.1, 1.0, 1.9):
        assert np.all(np.diff(f["textbook_loss"][c]) <= 1e-9 * J[0])
    assert f["final_loss"][1.0] < f["final_loss"][0.1]
    # the library's curves are the textbook's (same start, same steps)
    for c in (0.1, 1.0, 1.9):
        np.testing.assert_allclose(f["library_loss"][c], f["textbook_loss"][c], rtol=1e-9)
    # the message shown is the one the library raises
    with pytest.raises(DivergenceError) as exc:
        LinearRegression(solver="gd", optimizer="plain", learning_rate=2.1 / f["L"]).fit(data.X, data.y)
    assert str(exc.value) == f["divergence_message"] and "2/L" in f["divergence_message"]
    assert f["divergence_message"] in "\n".join(step.text)
    # oscillation: the steepest direction's error changes sign at 1.9/L, never at 0.1/L
    assert f["sign_flips"][0.1] == 0 and f["sign_flips"][1.9] > 10


def test_scaling_reduces_iterations(data):
    f = basics.step_scaling(data).facts
    assert f["kappa_raw"] > 10 * f["kappa_std"]
    s = np.linalg.svd(data.X - data.X.mean(axis=0), compute_uv=False)
    assert f["kappa_raw"] == pytest.approx(s[0] / s[-1], rel=1e-12)
    assert f["stop_reason"][True] == "tolerance"
    assert f["iterations"][True] < f["iterations"][False]


def test_normal_vs_gd_are_the_same_coefficients(data):
    step = basics.step_normal_vs_gd(data)
    ref = np.linalg.lstsq(np.column_stack([data.X, np.ones(len(data.y))]), data.y, rcond=None)[0]
    np.testing.assert_allclose(step.facts["normal_coef"], ref[:-1], rtol=1e-9)
    np.testing.assert_allclose(step.facts["gd_coef"], ref[:-1], rtol=1e-6)
    assert step.facts["relative_difference"] < 1e-8
    assert f"{step.facts['normal_coef'][0]:18.10f}".strip() in "\n".join(step.text)


def test_batch_sizes_noise(data):
    f = basics.step_batch_sizes(data, epochs=20).facts
    assert f["rises"]["batch (gd)"] == 0           # batch descent at 1/L never goes up
    assert f["rises"]["SGD"] > 0                   # SGD's loss is noisy
    assert all(v == 20 for v in f["epochs"].values())


def test_optimizer_counts_are_what_the_fits_report(data):
    step = practice.step_optimizers(data)
    f = step.facts
    for name in practice.OPTIMIZERS:
        m = LinearRegression(solver="gd", optimizer=name, max_iter=20_000, tol=f["tol"]).fit(data.X, data.y)
        assert f["n_iter"][name] == m.n_iter_
        assert f"{m.n_iter_:>5} iterations" in "\n".join(step.text)
        reach = practice.iterations_to_loss(m.loss_history_, f["target"])
        assert f["reach"][name] == reach
    assert f["n_iter"]["momentum"] < f["n_iter"]["plain"] / 5
    assert f["n_iter"]["nesterov"] < f["n_iter"]["plain"] / 5


def test_loop_gradients_equal_the_textbook(data):
    w, b = np.linspace(-1, 1, data.Z.shape[1]), 0.3
    np.testing.assert_allclose(np.append(*practice.loop_gradients(data.Z, data.y, w, b)),
                               np.append(*tb.gradients(data.Z, data.y, w, b)), rtol=1e-12)
    f = practice.step_vectorized(data, copies=(1,)).facts
    assert f["ratio"][len(data.y)] > 3        # a loop over rows is slower, by a wide margin


def test_closed_form_cost_grows_faster_than_an_epoch(data):
    f = practice.step_closed_form_cost(data, n=500, dims=(50, 100, 200, 400)).facts
    assert f["slope_closed"] > f["slope_epoch"]


def test_l2_curve(data):
    f = practice.step_l2(data).facts
    # the training error of ridge never decreases as alpha grows (within rounding)
    assert np.all(np.diff(f["train"]) >= -1e-9 * f["train"][0])
    assert 0 < f["best"] < len(f["alphas"]) - 1    # validation error falls, then rises
    assert f["val"][0] > f["val"][f["best"]] and f["val"][-1] > f["val"][f["best"]]
    assert f["n_features"] == 10 + 10 * 11 // 2
    assert f["train"][0] < f["val"][0]


def test_l2_cross_validation_curve_equals_scikit_learn(data):
    """Step 9's CV curve: each fold's held-out MSE of ridge fitted on the other folds, as
    scikit-learn computes it (features standardized on the training folds; linreg's alpha is
    per row, so Ridge's is n_train·alpha), over KFold(5)'s contiguous folds."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    f = practice.step_l2(data).facts
    P, y = practice.polynomial_features(data.Z), data.y
    scores = np.array([[np.mean((make_pipeline(StandardScaler(), Ridge(alpha=len(tr) * a))
                                 .fit(P[tr], y[tr]).predict(P[te]) - y[te]) ** 2)
                        for tr, te in KFold(f["folds"]).split(P)] for a in f["alphas"]])
    mean = scores.mean(axis=1)
    np.testing.assert_allclose(f["cv_mean"], mean, rtol=1e-7)
    np.testing.assert_allclose(f["cv_se"], scores.std(axis=1, ddof=1) / np.sqrt(f["folds"]),
                               rtol=1e-6)
    best = int(np.argmin(mean))
    assert f["alpha_min"] == f["alphas"][best] == f["alpha"]
    within = np.flatnonzero(mean <= mean[best] + f["cv_se"][best])
    assert f["alpha_1se"] == f["alphas"][within.max()]
    train = [np.mean((make_pipeline(StandardScaler(), Ridge(alpha=len(y) * a)).fit(P, y)
                      .predict(P) - y) ** 2) for a in f["alphas"]]
    np.testing.assert_allclose(f["cv_train"], train, rtol=1e-7)
    # what the step says: validation error is U-shaped, training error only grows
    assert f["cv_mean"][0] > f["cv_mean"][best] < f["cv_mean"][-1]
    assert np.all(np.diff(f["cv_train"]) >= -1e-9 * f["cv_train"][0])


def test_debugging_checklist(data):
    f = practice.step_debugging(data).facts
    assert f["check_right"] < 1e-6 and f["check_wrong"] == pytest.approx(1.0, abs=1e-6)
    # without an intercept on centred features the loss grows by exactly mean(y)²/2
    assert f["J_none"] - f["J_bias"] == pytest.approx(data.y.mean() ** 2 / 2, rel=1e-9)
    assert f["mean_resid_none"] == pytest.approx(data.y.mean(), rel=1e-9)
    assert f["divergence_message"].startswith("learning_rate=")


def test_numbers_come_from_the_data(data):
    """No hard-coded figures: the text changes with the data."""
    other = LessonData(data.X, 3.0 * data.y + 7.0, data.names, data.target)
    for fn in (basics.step_equations, basics.step_normal_vs_gd, practice.step_debugging):
        assert fn(data).text != fn(other).text
    a, b = basics.step_equations(data), basics.step_equations(other)
    assert f"{a.facts['J_star']:.6g}" in a.text[2] and f"{b.facts['J_star']:.6g}" in b.text[2]
    assert b.facts["J_star"] == pytest.approx(9 * a.facts["J_star"], rel=1e-9)


def test_cli_lesson_runs_chosen_steps(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    page = tmp_path / "lesson.html"
    assert main(["lesson", "--steps", "3,10", "--no-code", "--html", str(page)], out, err) == 0
    text = out.getvalue()
    assert "3. The learning rate" in text and "10. The debugging checklist" in text
    assert "DivergenceError: learning_rate=" in text and "4. Unscaled" not in text
    html = page.read_text(encoding="utf-8")
    assert html.count("<img ") == 2 and not re.search(r"(src|href)=\"https?:", html)


def test_cli_lesson_refuses_unknown_steps():
    out, err = io.StringIO(), io.StringIO()
    assert main(["lesson", "--steps", "11"], out, err) == 1
    assert "numbered 1 to 10" in err.getvalue()
