"""``linreg plot``: a model's loss curve and, given data, predicted vs actual and residuals vs
fitted, in one image."""

from __future__ import annotations

from .errors import OK
from .output import save_figure
from .reading import load_model, model_targets, read_for_model

__all__ = ["cmd_plot"]


def cmd_plot(args, out, err) -> int:
    from .. import plotting

    figure_class = plotting.require_matplotlib()
    model = load_model(args.model, args.data)
    table = None
    if args.data:
        table = read_for_model(model, args, need_target=True)
    fig = plotting.model_figure(model, None if table is None else table.X,
                                None if table is None else table.y, figure_class=figure_class,
                                target_name=", ".join(model_targets(model) or []) or None)
    save_figure(fig, args.output)
    if not args.quiet:
        err.write(f"wrote {args.output}\n")
    return OK
