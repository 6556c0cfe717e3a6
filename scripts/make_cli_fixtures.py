#!/usr/bin/env python3
"""Writes the end-to-end fixtures of the CLI tests (tests/data/cli/) with the writers users have.

  grads/step_{1,2,10}.safetensors   real per-step gradients of a tiny torch MLP, written by
                                    safetensors.torch.save_file with __metadata__ {"step", "lr"}
                                    (unpadded step numbers: natural order is 1, 2, 10)
  grads_npz/step_{3,20}.npz         the same model's gradients as JAX users write them
                                    (np.savez with keystr names; no metadata: alpha = 1)
  verify_in.safetensors             inputs of a third-party quantizer (safetensors.numpy):
                                    "x" [96] float32 with ties, NaNs, overflow and subnormals;
                                    "m" [2, 64] float32 for MXFP4
  verify_good.safetensors           that quantizer's output, written by safetensors.torch:
                                    "x" as F8_E4M3 codes from ml_dtypes' float8_e4m3fn cast (RNE,
                                    overflow -> NaN, = qfloat e4m3fn rne ovf-inf); "m" as U8 e2m1
                                    codes and "m.scale" as F8_E8M0 from an OCP MX v1.0 reference
                                    in numpy (floor rule, clamp, RNE)
  verify_bad.safetensors            a perturbed copy (see PERTURBATIONS); expected.json says
                                    which mismatch class each perturbation is
  verify_values.npy                 "x" dequantized to float32 by ml_dtypes (np.save), with the
                                    sign of one NaN flipped
  constants.json                    problem constants for `qfloat predict --constants`
  expected.json                     what the tests check against

Usage: python3 scripts/make_cli_fixtures.py [--out tests/data/cli]
Needs: numpy, ml_dtypes, safetensors, torch (pip install numpy ml_dtypes safetensors torch).
"""

import argparse
import json
import math
import os

import ml_dtypes
import numpy as np
import safetensors.numpy
import safetensors.torch
import torch


def tiny_model_gradients(steps):
    """Real gradients: a 2-layer MLP on a fixed regression problem, SGD, one batch per step."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    x = torch.randn(256, 8)
    y = (x[:, :1] * 2.0 - x[:, 1:2]).tanh() + 0.05 * torch.randn(256, 1)
    out = {}
    lr = 0.1
    for step in range(1, max(steps) + 1):
        idx = torch.randint(0, 256, (32,))
        model.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx])
        loss.backward()
        if step in steps:
            out[step] = ({n: p.grad.detach().clone() for n, p in model.named_parameters()}, lr)
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        if step == 5:
            lr = 0.05  # a schedule change, so that q-bar_alpha differs from the plain mean
    return out


def e4m3fn_codes(values):
    """ml_dtypes' cast (RNE; overflow and inf -> NaN, as qfloat's ovf-inf for e4m3fn)."""
    return np.asarray(values, dtype=np.float32).astype(ml_dtypes.float8_e4m3fn).view(np.uint8)


def mx_floor_reference(m):
    """OCP MX v1.0 MXFP4 along the last axis, blocks of 32: X = 2^(floor(log2 amax) - 2) clamped
    to E8M0's [2^-127, 2^127], elements x / X clamped to +-6 and cast RNE to E2M1."""
    rows, cols = m.shape
    codes = np.zeros(m.shape, dtype=np.uint8)
    scales = np.zeros((rows, cols // 32), dtype=np.uint8)
    for r in range(rows):
        for b in range(cols // 32):
            block = m[r, 32 * b:32 * (b + 1)].astype(np.float64)
            amax = float(np.max(np.abs(block)))
            if amax == 0:
                k = -127
            else:
                k = math.frexp(amax)[1] - 1 - 2
            k = max(-127, min(127, k))
            scales[r, b] = k + 127
            codes[r, 32 * b:32 * (b + 1)] = block_codes(block, k)
    return codes, scales


def block_codes(block, k):
    y = np.clip(block / 2.0 ** k, -6.0, 6.0).astype(np.float32)
    return y.astype(ml_dtypes.float4_e2m1fn).view(np.uint8) & 0x0F


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests",
                                                      "data", "cli"))
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, "grads"), exist_ok=True)
    os.makedirs(os.path.join(out, "grads_npz"), exist_ok=True)
    expected = {}

    # ---- gradients ----
    grads = tiny_model_gradients([1, 2, 3, 10, 20])
    for step in (1, 2, 10):
        g, lr = grads[step]
        safetensors.torch.save_file(
            {n: t.contiguous() for n, t in g.items()},
            os.path.join(out, "grads", "step_%d.safetensors" % step),
            metadata={"step": str(step), "lr": repr(lr), "framework": "torch"})
    for step in (3, 20):
        g, _ = grads[step]
        np.savez(os.path.join(out, "grads_npz", "step_%d.npz" % step),
                 **{"['params']['%s']" % n: t.numpy() for n, t in g.items()})
    expected["grads"] = {"steps": [1, 2, 10], "lr": {str(s): grads[s][1] for s in (1, 2, 10)},
                         "tensors": list(grads[1][0].keys())}
    expected["grads_npz"] = {"steps": [3, 20]}

    # ---- verify: inputs ----
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, 4.0, 96).astype(np.float32)
    special = {
        "tie_a": 1.0625,            # halfway between 1.0 (0x38) and 1.125 (0x39): RNE -> 0x38
        "tie_b": -2.125,            # halfway between -2.0 (0xc0) and -2.25 (0xc1): RNE -> 0xc0
        "nan_pos": float("nan"),
        "overflow": 1000.0,         # beyond 448: NaN under ovf-inf
        "inf": float("inf"),
        "subnormal": 1.25 * 2.0 ** -9,  # rounds to the smallest subnormal 2^-9 (code 0x01)
    }
    idx = {"tie_a": 5, "tie_b": 17, "nan_pos": 23, "overflow": 40, "inf": 41, "subnormal": 60}
    for k, i in idx.items():
        x[i] = special[k]
    m = (rng.normal(0.0, 1.0, (2, 64)) * np.array([[1.0], [300.0]])).astype(np.float32)
    safetensors.numpy.save_file({"x": x, "m": m}, os.path.join(out, "verify_in.safetensors"))

    # ---- verify: the third party's output ----
    xc = e4m3fn_codes(x)
    assert xc[idx["tie_a"]] == 0x38 and xc[idx["tie_b"]] == 0xC0, (hex(xc[idx["tie_a"]]),
                                                                  hex(xc[idx["tie_b"]]))
    assert xc[idx["nan_pos"]] == 0x7F and xc[idx["overflow"]] == 0x7F and xc[idx["inf"]] == 0x7F
    assert xc[idx["subnormal"]] == 0x01
    mc, ms = mx_floor_reference(m)

    def save_codes(path, xcodes, mcodes, mscales):
        safetensors.torch.save_file(
            {"x": torch.from_numpy(xcodes.copy()).view(torch.float8_e4m3fn),
             "m": torch.from_numpy(mcodes.copy()),
             "m.scale": torch.from_numpy(mscales.copy()).view(torch.float8_e8m0fnu)},
            path, metadata={"producer": "ml_dtypes %s + numpy MX reference" % ml_dtypes.__version__})

    save_codes(os.path.join(out, "verify_good.safetensors"), xc, mc, ms)

    # PERTURBATIONS: each one a mismatch class of `qfloat verify`.
    bad_x = xc.copy()
    bad_x[idx["tie_a"]] = 0x39      # tie: the other neighbour (ties away from zero)
    bad_x[idx["tie_b"]] = 0xC1      # tie
    bad_x[idx["nan_pos"]] = 0xFF    # nan: sign flipped
    bad_x[idx["overflow"]] = 0x7E   # overflow: saturated to 448 instead of NaN
    bad_x[idx["inf"]] = 0x7E        # overflow: +inf saturated
    bad_x[idx["subnormal"]] = 0x00  # subnormal boundary: flushed to zero
    bad_m = mc.copy()
    bad_s = ms.copy()
    # scale off by one: block (1, 0) with a scale one binade up (a ceil-like rule), elements
    # recomputed consistently with that scale.
    k = int(ms[1, 0]) - 127 + 1
    bad_s[1, 0] = k + 127
    bad_m[1, 0:32] = block_codes(m[1, 0:32].astype(np.float64), k)
    save_codes(os.path.join(out, "verify_bad.safetensors"), bad_x, bad_m, bad_s)
    expected["verify_bad"] = {
        "tie": 2, "nan": 1, "overflow": 2, "subnormal": 1,
        "scale_off_by_one": 32,  # every element of the block (its scale differs)
        "mismatches": 6 + 32,
        "x_mismatches": 6, "m_mismatches": 32, "m_scales_off_by_one": 1,
        "indices": idx,
    }

    # Values mode: ml_dtypes' dequantized float32, NaN sign flipped at one place.
    xv = xc.view(ml_dtypes.float8_e4m3fn).astype(np.float32)
    xv[idx["nan_pos"]] = -np.abs(xv[idx["nan_pos"]])
    np.save(os.path.join(out, "verify_values.npy"), xv)
    expected["verify_values"] = {"nan": 1, "mismatches": 1}

    # ---- predict ----
    constants = {"L": 4.0, "c": 0.5, "M": 2.0, "M_V": 0.0, "mu": 1.0, "mu_G": 1.0, "Delta1": 10.0}
    with open(os.path.join(out, "constants.json"), "w") as f:
        json.dump(constants, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote fixtures to", out)


if __name__ == "__main__":
    main()
