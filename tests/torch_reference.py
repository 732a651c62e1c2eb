"""PyTorch as an independent reference: one epoch of mini-batch training of a zero-initialised
``torch.nn.Linear`` on J_batch = mean ½(ŷ − y)² + (α/2)‖w‖²."""

from __future__ import annotations

import numpy as np
import torch


def torch_minibatch_epoch(X, y, make_optimizer, batch_size: int, alpha: float):
    """``(w, b)`` after one pass over the rows of ``X``, ``y`` in order, batches of
    ``batch_size`` (the last may be smaller), with ``make_optimizer(parameters)``."""
    lin = torch.nn.Linear(X.shape[1], 1).double()
    torch.nn.init.zeros_(lin.weight)
    torch.nn.init.zeros_(lin.bias)
    opt = make_optimizer(lin.parameters())
    Xt, yt = torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.ascontiguousarray(y))[:, None]
    for start in range(0, X.shape[0], batch_size):
        opt.zero_grad()
        J = 0.5 * ((lin(Xt[start:start + batch_size]) - yt[start:start + batch_size]) ** 2).mean() \
            + 0.5 * alpha * (lin.weight**2).sum()
        J.backward()
        opt.step()
    return lin.weight.detach().numpy()[0], lin.bias.item()
