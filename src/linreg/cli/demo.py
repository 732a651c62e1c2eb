"""``linreg demo``: the bundled diabetes data, end to end (and, with ``--plot``, drawn)."""

from __future__ import annotations

from .output import save_figure

__all__ = ["cmd_demo"]


def cmd_demo(args, out, err) -> int:
    from ..demo import load_diabetes, run_demo

    code = run_demo(out=out)
    if args.plot:
        from .. import plotting
        from ..estimator import LinearRegression

        figure_class = plotting.require_matplotlib()
        X, y, names, target = load_diabetes()
        model = LinearRegression(solver="gd", max_iter=500, tol=0.0).fit(X, y)
        fig = plotting.model_figure(model, X, y, figure_class=figure_class, target_name=target)
        save_figure(fig, args.plot)
        out.write(f"\nwrote {args.plot}: gradient descent's loss curve (500 iterations) against "
                  "the closed-form optimum, predicted vs actual, residuals vs fitted\n")
    return code
