"""The one timing loop of igx's PyTorch peers: ms per image-step (one forward and one input-gradient
backward of one output column), median over `reps` rounds after one warm-up round."""
import statistics, time

import torch


def time_input_gradient(model, x, column, reps):
    for p in model.parameters():
        p.requires_grad_(False)
    times = []
    for r in range(reps + 1):  # the first round warms up and is not counted
        t0 = time.perf_counter()
        xi = x.clone().requires_grad_(True)
        out = model(xi)[:, column].sum()
        torch.autograd.grad(out, xi)
        if r:
            times.append((time.perf_counter() - t0) / x.shape[0] * 1000)
    return statistics.median(times)
