"""``linreg demo``: the bundled diabetes data, end to end (and, with ``--plot``, drawn)."""

from __future__ import annotations

from .output import save_figure

__all__ = ["cmd_demo"]


def cmd_demo(args, out, err) -> int:
    from ..demo import fit_demo_models, load_diabetes, run_demo

    X, y, names, target = load_diabetes()
    models = fit_demo_models(X, y)
    code = run_demo(out=out, models=models)
    if args.plot:
        from .. import plotting

        figure_class = plotting.require_matplotlib()
        model = models["gd"]          # the table's gradient-descent fit, not another run
        fig = plotting.model_figure(model, X, y, figure_class=figure_class, target_name=target)
        save_figure(fig, args.plot)
        out.write(f"\nwrote {args.plot}: the table's gradient descent fit — its loss curve "
                  f"({model.n_iter_} iterations) against the closed-form optimum, predicted vs "
                  "actual, residuals vs fitted\n")
    return code
