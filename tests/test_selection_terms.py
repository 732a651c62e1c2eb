"""StepwiseSelector on tables: whole terms selected, marginality respected, every criterion
equal to statsmodels' fit of the same formula.

The trusted answers: ``statsmodels.formula.api.ols``/``wls`` fitted on every model the search
visits and on all its neighbours (the terms that may enter or leave, marginality worked out
here from the terms' factors), and brute force over every hierarchical set of terms for the
exhaustive search.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from penguins import load_penguins

from linreg import load, sources
from linreg.selection import StepwiseSelector

smf = pytest.importorskip("statsmodels.formula.api")

FORMULA = "body_mass_g ~ flipper_length_mm + bill_length_mm + species * sex + island"
COLUMNS = ["body_mass_g", "flipper_length_mm", "bill_length_mm", "species", "sex", "island"]


@pytest.fixture(scope="module")
def penguins():
    return load_penguins()


@pytest.fixture(scope="module")
def complete(penguins):
    return penguins.dropna(subset=COLUMNS).reset_index(drop=True)


def factors(term):
    return frozenset(term.split(":"))


def formula_of(target, terms, all_terms):
    chosen = [t for t in all_terms if t in terms]
    return f"{target} ~ " + (" + ".join(chosen) if chosen else "1")


def criterion_of(formula, data, criterion, weights=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = (smf.ols(formula, data).fit() if weights is None
               else smf.wls(formula, data, weights=weights).fit())
    if criterion == "adjr2":
        return fit.rsquared_adj
    return getattr(fit, criterion)


def neighbours(model, all_terms, direction):
    """The models one allowed step away (marginality: a term enters with all the terms whose
    factors it contains, leaves only when no term of the model contains it)."""
    out = []
    for t in all_terms:
        if t not in model and direction != "backward":
            if all(u in model for u in all_terms if factors(u) < factors(t)):
                out.append(("+", t, model | {t}))
        if t in model and direction != "forward":
            if not any(factors(t) < factors(u) for u in model):
                out.append(("-", t, model - {t}))
    return out


def replay(selector, data, target, all_terms, direction, weights=None, start=()):
    """Check every step of the path against statsmodels fits of the model and its
    neighbours; returns the final set of terms."""
    crit = selector.criterion
    sign = -1 if crit == "adjr2" else 1
    model = set(start)
    first = selector.path_[0]
    assert first[0] == "start"
    value = criterion_of(formula_of(target, model, all_terms), data, crit, weights)
    assert first[2] == pytest.approx(value, rel=1e-8)
    steps = selector.path_[1:] + [None]
    for step in steps:
        options = {(a, t): criterion_of(formula_of(target, m, all_terms), data, crit, weights)
                   for a, t, m in neighbours(model, all_terms, direction)}
        best = min(options.values(), key=lambda v: sign * v) if options else None
        if step is None:              # the search stopped: no neighbour is better
            assert best is None or sign * best >= sign * value - 1e-8 * abs(value)
            return model
        action, index, v = step
        term = selector.result_.feature_names[index]
        assert (action, term) in options
        assert v == pytest.approx(options[(action, term)], rel=1e-8)
        assert sign * v <= sign * best + 1e-8 * abs(best)
        model = model | {term} if action == "+" else model - {term}
        value = v
    return model


TERMS = ["flipper_length_mm", "bill_length_mm", "species", "sex", "species:sex", "island"]


@pytest.mark.parametrize("direction", ["both", "forward", "backward"])
@pytest.mark.parametrize("criterion", ["aic", "bic", "adjr2"])
def test_stepwise_terms_equal_statsmodels_refits(complete, direction, criterion):
    s = StepwiseSelector(formula=FORMULA, criterion=criterion, direction=direction).fit(complete)
    start = TERMS if direction == "backward" else ()
    final = replay(s, complete, "body_mass_g", TERMS, direction, start=start)
    assert set(s.selected_names_) == final
    assert s.formula_ == formula_of("body_mass_g", final, TERMS)
    assert s.criterion_value_ == pytest.approx(
        criterion_of(s.formula_, complete, criterion), rel=1e-8)
    # the chosen model is statsmodels' fit of its formula, with its names
    ref = smf.ols(s.formula_, complete).fit()
    assert s.model_.coef_names_ == list(ref.params.index[1:])
    np.testing.assert_allclose(s.model_.coef_, ref.params.values[1:], rtol=1e-8)
    result = s.model_.summary()
    np.testing.assert_allclose(result.bse, ref.bse, rtol=1e-7)
    assert result.aic == pytest.approx(ref.aic, rel=1e-10)
    # support_ marks the chosen terms' columns of the full design
    chosen = {c for t in s.selected_names_ for c in range(s.terms_[t].start, s.terms_[t].stop)}
    assert set(np.flatnonzero(s.support_)) == chosen


def test_dummies_move_together_and_interactions_after_their_margins(complete):
    s = StepwiseSelector(formula=FORMULA, criterion="aic", direction="forward").fit(complete)
    inside = set()
    for _action, index, _ in s.path_[1:]:
        term = s.result_.feature_names[index]
        if term == "species:sex":
            assert {"species", "sex"} <= inside
        inside.add(term)
    b = StepwiseSelector(formula=FORMULA, criterion="bic", direction="backward").fit(complete)
    inside = set(TERMS)
    for _action, index, _ in b.path_[1:]:
        term = b.result_.feature_names[index]
        if term in ("species", "sex"):
            assert "species:sex" not in inside
        inside.discard(term)


def hierarchical_sets(all_terms):
    for k in range(len(all_terms) + 1):
        for chosen in itertools.combinations(all_terms, k):
            if all(u in chosen for t in chosen for u in all_terms if factors(u) < factors(t)):
                yield set(chosen)


@pytest.mark.parametrize("criterion", ["aic", "bic"])
@pytest.mark.parametrize("formula, terms", [
    (FORMULA, TERMS),
    # aliased columns: island × species has empty cells (statsmodels counts the rank)
    ("body_mass_g ~ island * species + sex + flipper_length_mm",
     ["island", "species", "island:species", "sex", "flipper_length_mm"]),
])
def test_exhaustive_terms_equal_brute_force_statsmodels(complete, criterion, formula, terms):
    s = StepwiseSelector(formula=formula, criterion=criterion, direction="exhaustive").fit(complete)
    values = {frozenset(m): criterion_of(formula_of("body_mass_g", m, terms), complete, criterion)
              for m in hierarchical_sets(terms)}
    best = min(values, key=values.get)
    assert set(s.selected_names_) == best
    assert s.criterion_value_ == pytest.approx(values[best], rel=1e-8)
    for size, chosen, value in s.path_:
        names = frozenset(s.result_.feature_names[t] for t in chosen)
        assert len(names) == size
        assert value == pytest.approx(min(v for m, v in values.items() if len(m) == size),
                                      rel=1e-8)


def test_aliased_columns_in_stepwise(complete):
    formula = "body_mass_g ~ island * species + sex + flipper_length_mm"
    terms = ["island", "species", "island:species", "sex", "flipper_length_mm"]
    for direction in ("both", "backward"):
        s = StepwiseSelector(formula=formula, criterion="aic", direction=direction).fit(complete)
        replay(s, complete, "body_mass_g", terms, direction,
               start=terms if direction == "backward" else ())


def test_weighted_and_missing_drop(penguins):
    """Weights: statsmodels' WLS criteria; missing="drop": every model on the rows the full
    formula keeps (a row missing only `sex` is left out of a model without `sex` too)."""
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(penguins))
    s = StepwiseSelector(formula=FORMULA, criterion="bic", missing="drop").fit(
        penguins, sample_weight=w)
    kept = penguins[COLUMNS].notna().all(axis=1).to_numpy()
    assert s.n_dropped_ == int((~kept).sum())
    data = penguins[kept].reset_index(drop=True)
    replay(s, data, "body_mass_g", TERMS, "both", weights=w[kept])
    ref = smf.wls(s.formula_, data, weights=w[kept]).fit()
    result = s.model_.summary()
    assert result.nobs == kept.sum()
    np.testing.assert_allclose(result.params, ref.params, rtol=1e-8)
    assert result.bic == pytest.approx(ref.bic, rel=1e-10)


def test_text_columns_without_a_formula(complete):
    X, y = complete[COLUMNS[1:]], complete["body_mass_g"]
    s = StepwiseSelector(criterion="aic").fit(X, y)
    terms = COLUMNS[1:]
    final = replay(s, complete, "body_mass_g", terms, "both")
    assert s.formula_ == formula_of("body_mass_g", final, terms)
    np.testing.assert_allclose(s.predict(complete),
                               smf.ols(s.formula_, complete).fit().predict(complete), rtol=1e-9)
    with pytest.raises(ValueError, match="chose terms"):
        s.transform(X)


def test_files_and_model_file(penguins, tmp_path):
    """A CSV in blocks gives the in-memory selection; the chosen model reads the file again
    for summary() (the same rows), predicts tables, and saves."""
    penguins.to_csv(tmp_path / "p.csv", index=False)
    mem = StepwiseSelector(formula=FORMULA, missing="drop").fit(penguins)
    s = StepwiseSelector(formula=FORMULA, missing="drop").fit(
        sources.csv(tmp_path / "p.csv", target=None, chunk_rows=40))
    assert s.formula_ == mem.formula_ and s.path_[-1][1] == mem.path_[-1][1]
    assert s.criterion_value_ == pytest.approx(mem.criterion_value_, rel=1e-10)
    data = penguins.dropna(subset=COLUMNS)
    ref = smf.ols(s.formula_, data).fit()
    np.testing.assert_allclose(s.model_.summary().bse, ref.bse, rtol=1e-7)
    s.model_.save(tmp_path / "m.json")
    back = load(tmp_path / "m.json")
    assert back.coef_names_ == list(ref.params.index[1:])
    np.testing.assert_allclose(back.predict(data), ref.predict(data), rtol=1e-9)


def test_dask_frame(penguins, client):
    dd = pytest.importorskip("dask.dataframe")
    mem = StepwiseSelector(formula=FORMULA, missing="drop").fit(penguins)
    s = StepwiseSelector(formula=FORMULA, missing="drop").fit(dd.from_pandas(penguins, npartitions=3))
    assert s.formula_ == mem.formula_
    assert s.criterion_value_ == pytest.approx(mem.criterion_value_, rel=1e-10)
    np.testing.assert_allclose(s.model_.coef_, mem.model_.coef_, rtol=1e-9)
    data = penguins.dropna(subset=COLUMNS)
    np.testing.assert_allclose(s.predict(data), mem.predict(data), rtol=1e-9)
    w = np.random.default_rng(5).uniform(0.5, 2.0, len(penguins))
    mem = StepwiseSelector(formula=FORMULA, missing="drop").fit(penguins, sample_weight=w)
    s = StepwiseSelector(formula=FORMULA, missing="drop").fit(
        dd.from_pandas(penguins.assign(w=w), npartitions=3), sample_weight="w")
    assert s.formula_ == mem.formula_
    assert s.criterion_value_ == pytest.approx(mem.criterion_value_, rel=1e-10)


def test_bad_input(complete):
    with pytest.raises(ValueError, match="without its margin"):
        StepwiseSelector(formula=FORMULA, start=["species:sex"]).fit(complete)
    with pytest.raises(ValueError, match="not a term"):
        StepwiseSelector(formula=FORMULA, start=["beak"]).fit(complete)
    with pytest.raises(ValueError, match="intercept"):
        StepwiseSelector(formula="body_mass_g ~ species + sex - 1").fit(complete)
    with pytest.raises(ValueError, match="missing"):
        StepwiseSelector(formula=FORMULA, missing="keep").fit(complete)
    with pytest.raises(ValueError, match="at most"):
        StepwiseSelector(formula=FORMULA, direction="exhaustive", max_features=3).fit(complete)
    with pytest.raises(ValueError, match="zero"):
        StepwiseSelector(formula=FORMULA).fit(complete, sample_weight=np.r_[0.0, np.ones(len(complete) - 1)])
    # start from a hierarchical set
    s = StepwiseSelector(formula=FORMULA, start=["species", "sex", "species:sex"],
                         criterion="aic").fit(complete)
    replay(s, complete, "body_mass_g", TERMS, "both", start=("species", "sex", "species:sex"))
