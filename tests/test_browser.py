"""The report and the lesson page in a real browser: headless Chromium.

Run by ``make test-browser``; skipped when ``chromium`` is not installed.  Each page is opened
twice: as written, for a 1280-px screenshot and the browser's log, and as a copy with a probe
script appended (the pages themselves have no scripts) that reports, into the DOM that
``--dump-dom`` prints: whether each image decoded and how many distinct colours it has, the
page's scroll width against the window's, the resources the page loaded and any script error.
The network is unreachable for the browser (a proxy on a closed port, every host name
unresolvable), so a page that needed it would show it.
"""

import base64
import io
import json
import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("chromium") is None,
                                 reason="chromium is not installed (apt-get install chromium)")]

CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", "--window-size=1280,2000",
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr", "--v=0"]

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message)));
window.addEventListener("load", () => {
  const images = Array.from(document.images).map(img => {
    const c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0);
    const px = c.width && c.height ? ctx.getImageData(0, 0, c.width, c.height).data : [];
    const colours = new Set();
    for (let i = 0; i < px.length && colours.size < 50; i += 4 * 97)
      colours.add(px[i] + "," + px[i + 1] + "," + px[i + 2]);
    return {complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
            colours: colours.size, shown: img.getBoundingClientRect().width};
  });
  const resources = performance.getEntriesByType("resource").map(r => r.name);
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({images, resources, errors: window.__errors,
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth});
  document.body.appendChild(out);
});
</script>"""


def _chromium(*args, timeout=120):
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run(CHROMIUM + [f"--user-data-dir={profile}", *args],
                             capture_output=True, text=True, timeout=timeout)
    return run


def _probe(page, tmp_path):
    copy = tmp_path / ("probed-" + page.name)
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                    encoding="utf-8")
    run = _chromium("--virtual-time-budget=20000", "--dump-dom", copy.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S)
    assert found, f"the probe did not report; chromium said: {run.stderr[-2000:]}"
    import html
    return json.loads(html.unescape(found.group(1))), run.stdout


def _check_page(page, tmp_path, n_images):
    assert page.stat().st_size < 3e6
    probe, dom = _probe(page, tmp_path)
    assert len(probe["images"]) == n_images
    for img in probe["images"]:
        assert img["complete"] and img["width"] > 100 and img["height"] > 100
        assert img["colours"] >= 3                      # not blank: more than a background
        assert img["shown"] <= 1280
    assert probe["resources"] == []                    # nothing fetched
    assert probe["errors"] == []
    assert probe["scrollWidth"] <= probe["clientWidth"] == 1280   # no horizontal overflow
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", dom)
    # the page as written: a screenshot of the window's width, and a clean browser log
    shot = tmp_path / (page.stem + ".png")
    run = _chromium(f"--screenshot={shot}", page.as_uri())
    log = run.stderr
    assert not re.search(r"Uncaught|CONSOLE\(\d+\).*[Ee]rror|ERR_", log), log[-2000:]
    from matplotlib.image import imread
    pixels = imread(shot)
    assert pixels.shape[1] == 1280 and pixels[..., :3].std() > 0.01
    return probe, dom


def _decode_inline_images(html_text):
    """Every inline PNG decodes (independently of the browser) and is not one colour."""
    from matplotlib.image import imread
    found = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html_text)
    for data in found:
        pixels = imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert pixels[..., :3].std() > 0.01
    return len(found)


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    from linreg import LinearRegression
    from linreg.demo import load_diabetes
    X, y, names, target = load_diabetes()
    model = LinearRegression(solver="gd", max_iter=2000).fit(X, y)
    path = tmp_path_factory.mktemp("report") / "report.html"
    model.report(X, y, path)
    return path, model.summary()


@pytest.fixture(scope="module")
def lesson_page(tmp_path_factory):
    from linreg.cli import main
    path = tmp_path_factory.mktemp("lesson") / "lesson.html"
    assert main(["lesson", "-q", "--html", str(path)], io.StringIO(), io.StringIO()) == 0
    return path


def test_report_in_chromium(report_page, tmp_path):
    page, result = report_page
    assert _decode_inline_images(page.read_text(encoding="utf-8")) == 2
    probe, dom = _check_page(page, tmp_path, n_images=2)
    # the tables the browser shows hold the numbers the API gives
    table = dom.split('id="coefficients"')[1].split("</table>")[0]
    cells = [float(c) for c in re.findall(r"<td>([^<]*)</td>", table)]
    shown = np.array(cells).reshape(len(result.params), 6)
    np.testing.assert_allclose(shown[:, 0], result.params, rtol=1e-5)
    np.testing.assert_allclose(shown[:, 1], result.bse, rtol=1e-3)
    stats = dom.split('id="fit-statistics"')[1].split("</table>")[0]
    assert f"<td>{result.rsquared:.6g}</td>" in stats


@pytest.fixture(scope="module")
def formula_page(tmp_path_factory):
    """A formula fit on the bundled penguins (rows with a missing value left out)."""
    import pandas as pd
    from importlib import resources

    from linreg import LinearRegression
    with resources.files("linreg").joinpath("data/penguins.csv").open("r") as f:
        penguins = pd.read_csv(f)
    model = LinearRegression(formula="body_mass_g ~ flipper_length_mm + species * sex",
                             missing="drop").fit(penguins)
    path = tmp_path_factory.mktemp("formula") / "formula.html"
    model.report(penguins, path=path)
    return path, model.summary()


@pytest.fixture(scope="module")
def cv_page(tmp_path_factory):
    """A ridge fit whose alpha was chosen by cross-validation."""
    from linreg import LinearRegressionCV
    from linreg.demo import load_diabetes
    from linreg.report import write_report
    X, y, names, target = load_diabetes()
    searched = LinearRegressionCV(alphas=np.geomspace(1e-3, 10, 12)).fit(X, y)
    path = tmp_path_factory.mktemp("cv") / "cv.html"
    write_report(searched, X, y, path)
    return path, searched


def _cells(dom, table_id):
    body = dom.split(f'id="{table_id}"')[1].split("</table>")[0]
    return re.findall(r"<td(?: class=\"name\")?>([^<]*)</td>", body)


def test_formula_report_in_chromium(formula_page, tmp_path):
    page, result = formula_page
    assert _decode_inline_images(page.read_text(encoding="utf-8")) == 1
    _, dom = _check_page(page, tmp_path, n_images=1)
    shown = np.array(_cells(dom, "coefficients"), dtype=object).reshape(-1, 7)
    assert list(shown[:, 0]) == list(result.param_names)          # statsmodels' names
    np.testing.assert_allclose(shown[:, 1].astype(float), result.params, rtol=1e-5)
    anova = result.anova(typ=2)
    rows = np.array(_cells(dom, "anova-0"), dtype=object).reshape(-1, 5)
    assert list(rows[:, 0]) == list(anova.index)
    np.testing.assert_allclose(rows[:-1, 3].astype(float), anova["F"].to_numpy()[:-1], rtol=1e-5)
    wald = np.array(_cells(dom, "wald-0"), dtype=object).reshape(-1, 5)
    np.testing.assert_allclose(wald[:, 1].astype(float),
                               result.wald_test_terms().statistic, rtol=1e-5)
    assert "(11 observations deleted due to missingness" in dom


def test_cross_validation_report_in_chromium(cv_page, tmp_path):
    page, searched = cv_page
    assert _decode_inline_images(page.read_text(encoding="utf-8")) == 2
    _, dom = _check_page(page, tmp_path, n_images=2)
    curve = np.array(_cells(dom, "cv-curve"), dtype=float).reshape(-1, 3)
    np.testing.assert_allclose(curve[:, 1], searched.cv_results_["mean_test_mse"], rtol=1e-5)
    coef = np.array(_cells(dom, "coefficients")[1::2], dtype=float)
    np.testing.assert_allclose(coef, np.r_[searched.intercept_, searched.coef_], rtol=1e-5)
    assert f"uses alpha = {searched.alpha_:.6g}" in dom and "std err" not in dom


def test_lesson_in_chromium(lesson_page, tmp_path):
    text = lesson_page.read_text(encoding="utf-8")
    assert _decode_inline_images(text) == 10
    _, dom = _check_page(lesson_page, tmp_path, n_images=10)
    assert dom.count("<section") == 10 and "DivergenceError: learning_rate=" in dom


def test_the_probe_sees_overflow_external_requests_and_errors(tmp_path):
    """The checks above can fail: a page too wide, fetching an image and raising an error."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><div style="width:2000px">wide</div>'
                    '<img src="http://example.invalid/x.png"><script>undefined_name()</script>'
                    "</body></html>", encoding="utf-8")
    probe, _ = _probe(page, tmp_path)
    assert probe["scrollWidth"] > probe["clientWidth"]
    assert probe["resources"] == ["http://example.invalid/x.png"]
    assert probe["images"][0]["width"] == 0               # it did not load: no network
    run = _chromium("--screenshot=" + str(tmp_path / "bad.png"), page.as_uri())
    assert re.search(r"Uncaught|CONSOLE\(\d+\).*[Ee]rror", run.stderr)
