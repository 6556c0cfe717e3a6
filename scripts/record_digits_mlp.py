#!/usr/bin/env python3
"""Records the bundled real-gradient data set: a small PyTorch MLP trained on digits.

    python3 scripts/record_digits_mlp.py --out data/grads_digits_mlp

Writes ``<out>/step_000000.safetensors`` ... (one float32 tensor per parameter, via
scripts/record_gradients.py's GradRecorder), ``<out>/constants.json`` (problem constants for
``qfloat predict --constants``, estimated as described below) and ``<out>/README.md``.

Model and training (all fixed, so the recording is reproducible on CPU):
  data    data/digits.csv.gz (1797 8x8 images, pixel counts 0..16 scaled by 1/16), all samples
  model   Linear(64,128) - ReLU - Linear(128,128) - ReLU - Linear(128,10): 26,122 parameters
  loss    mean cross-entropy over the minibatch
  SGD     plain torch.optim.SGD, lr 0.3, no momentum or weight decay, minibatch 64 drawn uniformly
          with replacement by a torch.Generator seeded with --seed; torch.manual_seed(--seed)
  steps   50, the gradient of every step recorded after backward() and before step()

Constants (estimates; a ReLU network has no global L, c or M):
  L       power iteration (40 Hessian-vector products, double backward) on the full-data loss at
          the first and the last iterate; the larger top eigenvalue magnitude. A local curvature.
  M, M_V  at every recorded step, the exact minibatch variance V(w_k) = tr Cov_i[grad f_i]/B from
          the per-sample gradients of all 1797 samples (torch.func.vmap); M = max_k V(w_k),
          M_V = 0. It bounds V only along this trajectory.
  Delta1  F(w_1) - F_inf with F_inf = 0 (cross-entropy >= 0): the initial full-data loss.
  mu, mu_G = 1 (the minibatch gradient is unbiased), M_G = M_V + 1. No c: nonconvex.
"""

import argparse
import gzip
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from record_gradients import GradRecorder  # noqa: E402


def load_digits(path):
    import torch

    rows = []
    with gzip.open(path, "rt") as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append([float(v) for v in line.split(",")])
    data = torch.tensor(rows, dtype=torch.float64)
    x = (data[:, :64] / 16.0).to(torch.float32)
    y = data[:, 64].to(torch.int64)
    return x, y


def make_model(hidden1, hidden2):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(64, hidden1), torch.nn.ReLU(),
                               torch.nn.Linear(hidden1, hidden2), torch.nn.ReLU(),
                               torch.nn.Linear(hidden2, 10))


def full_loss(model, x, y):
    import torch

    return torch.nn.functional.cross_entropy(model(x), y)


def top_hessian_eigenvalue(model, x, y, iterations, seed):
    """Power iteration with Hessian-vector products (double backward) on the full-data loss."""
    import torch

    params = [p for p in model.parameters()]
    gen = torch.Generator().manual_seed(seed)
    v = [torch.randn(p.shape, generator=gen) for p in params]
    norm = math.sqrt(sum(float((t * t).sum()) for t in v))
    v = [t / norm for t in v]
    eig = 0.0
    for _ in range(iterations):
        loss = full_loss(model, x, y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * t).sum() for g, t in zip(grads, v))
        hv = torch.autograd.grad(dot, params)
        eig = sum(float((h * t).sum()) for h, t in zip(hv, v))  # Rayleigh quotient v^T H v
        norm = math.sqrt(sum(float((h * h).sum()) for h in hv))
        if norm == 0.0:
            break
        v = [h.detach() / norm for h in hv]
    return abs(eig), norm


def minibatch_variance(model, x, y, batch, chunk=256):
    """Exact V(w) = (1/B) (1/n) sum_i |grad f_i - grad F|^2 from per-sample gradients (fp64 sums)."""
    import torch
    from torch.func import functional_call, grad, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}

    def sample_loss(p, xi, yi):
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(out, yi.unsqueeze(0))

    per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))
    n = x.shape[0]
    total = {k: torch.zeros(v.shape, dtype=torch.float64) for k, v in params.items()}
    sq = 0.0
    for s in range(0, n, chunk):
        g = per_sample(params, x[s:s + chunk], y[s:s + chunk])
        for k in params:
            gk = g[k].to(torch.float64)
            total[k] += gk.sum(0)
            sq += float((gk * gk).sum())
    mean_sq = sum(float((t * t).sum()) for t in total.values()) / (n * n)
    per_sample_var = sq / n - mean_sq
    return per_sample_var / batch, mean_sq


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "data", "grads_digits_mlp"))
    ap.add_argument("--data", default=os.path.join(HERE, "..", "data", "digits.csv.gz"))
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hidden", type=int, nargs=2, default=[128, 128])
    ap.add_argument("--power-iterations", type=int, default=40)
    args = ap.parse_args(argv)

    import torch

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # summation order, hence the bits, does not depend on the machine
    x, y = load_digits(args.data)
    n = x.shape[0]
    model = make_model(*args.hidden)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    with torch.no_grad():
        f1 = float(full_loss(model, x, y))
    l_start, _ = top_hessian_eigenvalue(model, x, y, args.power_iterations, args.seed + 1)
    variances = []
    grad_sq = []
    losses = []
    meta = {"model": "mlp 64-%d-%d-10 relu" % tuple(args.hidden), "dataset": "digits (x/16)",
            "batch": str(args.batch), "seed": str(args.seed), "parameters": str(params)}
    with GradRecorder(model, args.out, optimizer=opt, metadata=meta) as rec:
        for step in range(args.steps):
            v, full_sq = minibatch_variance(model, x, y, args.batch)
            variances.append(v)
            grad_sq.append(full_sq)
            idx = torch.randint(0, n, (args.batch,), generator=gen)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            rec.record(step, loss=repr(loss.item()))
            opt.step()
            losses.append(loss.item())
    with torch.no_grad():
        f_end = float(full_loss(model, x, y))
    l_end, _ = top_hessian_eigenvalue(model, x, y, args.power_iterations, args.seed + 2)

    constants = {
        "L": max(l_start, l_end),
        "M": max(variances),
        "M_V": 0.0,
        "M_G": 1.0,
        "mu": 1.0,
        "mu_G": 1.0,
        "Delta1": f1,
        "estimates": {
            "L": "power iteration (%d HVPs) on the full-data loss: |lambda_top| = %.6g at w_1, "
                 "%.6g at w_%d; the larger (local curvature, not a global Lipschitz constant)"
                 % (args.power_iterations, l_start, l_end, args.steps + 1),
            "M": "max over the %d recorded steps of the exact minibatch variance "
                 "V(w_k) = tr Cov_i[grad f_i(w_k)] / B over all %d samples (B = %d); "
                 "min %.6g, max %.6g; with M_V = 0 it bounds V along this trajectory only"
                 % (args.steps, n, args.batch, min(variances), max(variances)),
            "Delta1": "F(w_1) - F_inf with F_inf = 0 (cross-entropy >= 0); F(w_1) = %.6g, "
                      "F(w_%d) = %.6g" % (f1, args.steps + 1, f_end),
            "mu": "1: the minibatch gradient is unbiased (mu = mu_G = 1, M_G = M_V + 1)",
            "c": "none: the model is nonconvex (predict uses BCN Thms 4.8-4.10)",
        },
        "recording": {"steps": args.steps, "batch": args.batch, "lr": args.lr,
                      "seed": args.seed, "parameters": params, "samples": n,
                      "torch_version": torch.__version__,
                      "full_grad_sq": grad_sq, "minibatch_variance": variances,
                      "minibatch_loss": losses},
    }
    with open(os.path.join(args.out, "constants.json"), "w") as f:
        json.dump(constants, f, indent=2)
        f.write("\n")
    print("recorded %d steps of a %d-parameter MLP into %s" % (args.steps, params, args.out))
    print("L ~ %.6g, M ~ %.6g, Delta1 = %.6g, loss %.4f -> %.4f" % (
        constants["L"], constants["M"], f1, f1, f_end))
    return 0


if __name__ == "__main__":
    sys.exit(main())
