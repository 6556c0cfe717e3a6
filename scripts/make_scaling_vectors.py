#!/usr/bin/env python3
"""Cross-check vectors for qfloat's scaling recipes, generated with public implementations.

Writes tests/data/scaling/*.txt, read by tests/scaling/vectors_test.cc:
  - mx_<element>_<rule>.txt: torchao `to_mx` (torchao/prototype/mx_formats/mx_tensor.py) for the
    five MX float elements x four ScaleCalculationMode rules (FLOOR, CEIL, EVEN, RCEIL), on CPU:
    E8M0 scale bytes, element codes, torchao's dequantized values (`to_dtype`), and ml_dtypes'
    independent cast of each scaled element (x / X clamped to the element's max, then
    ml_dtypes.astype: round to nearest even).
  - nvfp4_torchao_<input>.txt: torchao `nvfp4_quantize` with a per-tensor scale from
    `per_tensor_amax_to_scale` (two-level NVFP4), and its dequantization.
  - nvfp4_te_<input>.txt: TransformerEngine's NVFP4QuantizerRef._quantize_blockwise_reference
    (transformer_engine/pytorch/custom_recipes/quantization_nvfp4.py) transcribed op by op in torch
    (TransformerEngine itself needs a CUDA build and does not install here), and the dequantization
    of its kernel dequantize_nvfp4.cuh.

Requires: pip install torch torchao ml_dtypes numpy (CPU is enough). Not part of the normal test
run; the generated files are committed. Run from the repository root:
  python3 scripts/make_scaling_vectors.py [--out tests/data/scaling]
"""

import argparse
import os
import struct

import ml_dtypes
import numpy as np
import torch
import torchao
from torchao.prototype.mx_formats import config as mx_config
from torchao.prototype.mx_formats import mx_tensor
from torchao.prototype.mx_formats import nvfp4_tensor
from torchao.prototype.mx_formats.constants import DTYPE_FP6_E2M3, DTYPE_FP6_E3M2
from torchao.prototype.mx_formats.kernels import unpack_uint4

BLOCK = 32
ROWS = 32  # blocks in the MX input (one block per row: ROWS x 32)

# element name in qfloat, torch/torchao dtype, ml_dtypes dtype, max
ELEMENTS = [
    ("e4m3fn", torch.float8_e4m3fn, ml_dtypes.float8_e4m3fn, 448.0),
    ("e5m2", torch.float8_e5m2, ml_dtypes.float8_e5m2, 57344.0),
    ("e3m2fn", DTYPE_FP6_E3M2, ml_dtypes.float6_e3m2fn, 28.0),
    ("e2m3fn", DTYPE_FP6_E2M3, ml_dtypes.float6_e2m3fn, 7.5),
    ("e2m1fn", torch.float4_e2m1fn_x2, ml_dtypes.float4_e2m1fn, 6.0),
]
RULES = [
    ("floor", mx_config.ScaleCalculationMode.FLOOR),
    ("ceil", mx_config.ScaleCalculationMode.CEIL),
    ("even", mx_config.ScaleCalculationMode.EVEN),
    ("rceil", mx_config.ScaleCalculationMode.RCEIL),
]


def f32(v):
    return np.float32(v)


def edge_blocks(rng):
    """Blocks whose amax sits on the edges where scale rules and implementations differ."""
    blocks = []

    def block(amax, fill=None, sign=True):
        b = rng.uniform(-1.0, 1.0, BLOCK) if fill is None else np.full(BLOCK, fill)
        b = b * (amax * 0.999)
        if not sign:
            b = np.abs(b)
        b[rng.integers(BLOCK)] = amax * (1 if rng.integers(2) else -1)
        return b.astype(np.float32)

    blocks.append(np.zeros(BLOCK, np.float32))                        # all zero -> 0x00
    b = block(3.0); b[5] = np.nan; blocks.append(b)                   # NaN amax -> 0xFF
    b = block(3.0); b[7] = np.inf; blocks.append(b)                   # inf amax
    b = block(3.0); b[9] = -np.inf; blocks.append(b)
    blocks.append(block(2.0**-130))                                   # subnormal amax
    blocks.append(block(2.0**-120))                                   # tiny: scale byte 0
    blocks.append(block(2.0**-125 * 1.3))
    blocks.append(block(1.5 * 2.0**127))                              # near float32 max
    for amax in [448.0, 500.0, 7.0, 127.9999, 6.0 * 2**-3, 28.0 * 2**5, 7.5 * 2**10,
                 57344.0 * 2**-20, 2**5 * (2 - 2**-20), 1.75 * 8, 1.875 * 8, 1.9375, 1.96875,
                 2.0**12, 1.0, 448.0 * 2**20 * (1 + 2**-22), 6.0 * 2**40 * (1 + 2**-23),
                 7.5 * 2**-30 * (1 + 2**-21), 3.0 * 2**100]:
        blocks.append(block(amax))
    # Element ties: the block max fixes X = 1 for e2m1 (amax 4 -> floor X = 1), the rest sit on
    # e2m1 midpoints and signed zeros.
    b = np.array([4.0, 0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, -0.25, -0.75, -1.25, -1.75, -2.5,
                  -3.5, -5.0, -0.0, 0.0, 0.1, -0.1, 2.75, 3.25, 4.5, 5.5, -5.9, 1e-30, -1e-30,
                  0.5, 1.0, 1.5, 2.0, 3.0, 6.0 * 0.66], np.float32)
    blocks.append(b)
    return blocks


def mx_input(seed=20261129):
    rng = np.random.default_rng(seed)
    blocks = edge_blocks(rng)
    while len(blocks) < ROWS:
        e = rng.integers(-20, 21)
        blocks.append((rng.standard_normal(BLOCK) * 2.0**e).astype(np.float32))
    return np.stack(blocks[:ROWS]).astype(np.float32)


def hex32(a):
    return " ".join("%08x" % v for v in np.asarray(a, np.float32).view(np.uint32).ravel())


def hexcodes(a, width=2):
    return " ".join(("%0" + str(width) + "x") % int(v) for v in np.asarray(a).ravel())


def torchao_codes(name, data_lp):
    if name == "e2m1fn":
        return unpack_uint4(data_lp.view(torch.uint8)).numpy().astype(np.uint32)
    if name in ("e3m2fn", "e2m3fn"):
        return data_lp.view(torch.uint8).numpy().astype(np.uint32)
    return data_lp.view(torch.uint8).numpy().astype(np.uint32)


def ml_dtypes_codes(x, scale_bytes, mldt, vmax):
    """Independent element cast: y = x / 2^(s-127) exactly, clamped to ±max, cast by ml_dtypes."""
    k = scale_bytes.astype(np.int64) - 127
    y = x.astype(np.float64) / np.ldexp(1.0, k)[:, None]
    y = np.clip(y, -vmax, vmax)
    c = y.astype(mldt).view(np.uint8).astype(np.uint32)
    c[scale_bytes == 255, :] = 0  # NaN scale: element codes are not compared
    return c


def write_case(path, header, lines):
    with open(path, "w") as f:
        for h in header:
            f.write("# " + h + "\n")
        for key, value in lines:
            f.write(key + " " + value + "\n")


def provenance():
    return [
        "generated by scripts/make_scaling_vectors.py",
        "torch %s, torchao %s, ml_dtypes %s, numpy %s (CPU)" % (
            torch.__version__, torchao.__version__, ml_dtypes.__version__, np.__version__),
    ]


def make_mx(out_dir):
    x = mx_input()
    xt = torch.from_numpy(x.copy())
    for name, dtype, mldt, vmax in ELEMENTS:
        for rule_name, rule in RULES:
            scale, data_lp = mx_tensor.to_mx(xt.clone(), dtype, BLOCK, rule)
            sbytes = scale.view(torch.uint8).numpy().ravel().astype(np.uint32)
            codes = torchao_codes(name, data_lp).reshape(ROWS, BLOCK)
            deq = mx_tensor.to_dtype(data_lp, scale, dtype, BLOCK, torch.float32)
            ml = ml_dtypes_codes(x, sbytes, mldt, vmax)
            write_case(
                os.path.join(out_dir, "mx_%s_%s.txt" % (name, rule_name)),
                provenance() + ["torchao to_mx(x, %s, %d, ScaleCalculationMode.%s); shape %d %d"
                                % (name, BLOCK, rule_name.upper(), ROWS, BLOCK)],
                [("element", name), ("rule", rule_name), ("shape", "%d %d" % (ROWS, BLOCK)),
                 ("x", hex32(x)), ("scales", hexcodes(sbytes)), ("codes", hexcodes(codes)),
                 ("dequant", hex32(deq.numpy())), ("mlcodes", hexcodes(ml))])


def nvfp4_inputs():
    rng = np.random.default_rng(7)
    a = (rng.standard_normal((16, 64)) * np.exp2(rng.integers(-8, 9, (16, 1)))).astype(np.float32)
    a[0, :16] = 0.0                          # an all-zero block
    a[1, :16] *= np.float32(2.0**-40)        # a tiny block: e4m3 scale underflows
    a[2, 3] = np.float32(-0.0)
    a[3, :16] = np.float32(1e-3) * np.arange(16, dtype=np.float32)
    b = a.copy()
    b[5, 7] = np.inf                         # an infinite global amax
    return {"finite": a, "inf": b}


def te_nvfp4_reference(x):
    """TE NVFP4QuantizerRef._quantize_blockwise_reference (1x16 tiles, pow_2_scales False),
    quantization_nvfp4.py, and dequantize_nvfp4.cuh's dequantization."""
    m, n = x.shape
    global_amax = torch.max(torch.abs(x)).to(torch.float32).view(1)
    xb = x.view(m, n // 16, 16)
    vec_max = torch.amax(torch.abs(xb), dim=-1, keepdim=True).to(torch.float32)
    fp4_max = torch.tensor(6.0, dtype=torch.float32)
    fp8_max = torch.tensor(448.0, dtype=torch.float32)
    fmax = torch.tensor(torch.finfo(torch.float32).max, dtype=torch.float32)
    ges = torch.div(fp8_max * fp4_max, global_amax)
    ges = torch.min(ges, fmax)
    if ges == torch.tensor(0.0, dtype=torch.float32):
        ges = torch.tensor(1.0, dtype=torch.float32)
    gds = torch.div(1.0, ges)
    mult = ges * torch.reciprocal(fp4_max)
    ds = vec_max * mult
    ds = torch.min(ds, fmax)
    ds = torch.clamp(ds, min=-fp8_max, max=fp8_max)
    ds8 = ds.to(torch.float8_e4m3fn)
    enc = torch.min(torch.div(1.0, ds8.to(torch.float32) * gds), fmax)
    scaled = xb.to(torch.float32) * enc
    clipped = torch.clamp(scaled, -fp4_max, fp4_max).reshape(m, n)
    codes = torch.zeros_like(clipped, dtype=torch.uint8)
    c = clipped
    codes[(c >= 0.0) & (c <= 0.25)] = 0
    codes[(c > 0.25) & (c < 0.75)] = 1
    codes[(c >= 0.75) & (c <= 1.25)] = 2
    codes[(c > 1.25) & (c < 1.75)] = 3
    codes[(c >= 1.75) & (c <= 2.5)] = 4
    codes[(c > 2.5) & (c < 3.5)] = 5
    codes[(c >= 3.5) & (c <= 5.0)] = 6
    codes[c > 5.0] = 7
    codes[(c >= -0.25) & (c < -0.0)] = 8
    codes[(c < -0.25) & (c > -0.75)] = 9
    codes[(c <= -0.75) & (c >= -1.25)] = 10
    codes[(c < -1.25) & (c > -1.75)] = 11
    codes[(c <= -1.75) & (c >= -2.5)] = 12
    codes[(c < -2.5) & (c > -3.5)] = 13
    codes[(c <= -3.5) & (c >= -5.0)] = 14
    codes[c < -5.0] = 15
    values = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0,
                           -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0], dtype=torch.float32)
    q = values[codes.long()].view(m, n // 16, 16)
    factor_inv = torch.tensor(np.float32(1.0 / (6.0 * 448.0)))
    final = (ds8.to(torch.float32) * global_amax) * factor_inv
    deq = (q * final).reshape(m, n)
    return global_amax, ds8.view(torch.uint8).reshape(m, n // 16), codes, deq


def make_nvfp4(out_dir):
    for label, a in nvfp4_inputs().items():
        x = torch.from_numpy(a.copy())
        m, n = a.shape
        # torchao: two-level scaling with the per-tensor scale its workflows compute.
        amax = torch.max(torch.abs(x))
        pts = nvfp4_tensor.per_tensor_amax_to_scale(amax)
        scales, packed = nvfp4_tensor.nvfp4_quantize(x.clone(), 16, pts)
        codes = unpack_uint4(packed.view(torch.uint8)).reshape(m, n)
        t = nvfp4_tensor.NVFP4Tensor(packed, scales, 16, torch.float32, pts, None, False, False,
                                     None)
        deq = t.dequantize(torch.float32)
        write_case(
            os.path.join(out_dir, "nvfp4_torchao_%s.txt" % label),
            provenance() + ["torchao nvfp4_quantize(x, 16, per_tensor_amax_to_scale(amax)); "
                            "NVFP4Tensor.dequantize"],
            [("variant", "torchao"), ("shape", "%d %d" % (m, n)), ("x", hex32(a)),
             ("tensor", hex32(pts.view(1).numpy())),
             ("scales", hexcodes(scales.view(torch.uint8).numpy().ravel())),
             ("codes", hexcodes(codes.numpy(), 1)), ("dequant", hex32(deq.numpy()))])
        gamax, s8, codes, deq = te_nvfp4_reference(x.clone())
        write_case(
            os.path.join(out_dir, "nvfp4_te_%s.txt" % label),
            provenance() + ["TransformerEngine NVFP4QuantizerRef._quantize_blockwise_reference "
                            "(1x16) transcribed in torch; dequantize_nvfp4.cuh"],
            [("variant", "te"), ("shape", "%d %d" % (m, n)), ("x", hex32(a)),
             ("tensor", hex32(gamax.numpy())), ("scales", hexcodes(s8.numpy().ravel())),
             ("codes", hexcodes(codes.numpy(), 1)), ("dequant", hex32(deq.numpy()))])


def check(generated, committed):
    """Compares every generated file with the committed one, ignoring '#' provenance lines."""
    bad = 0
    for name in sorted(os.listdir(generated)):
        def body(path):
            with open(path) as f:
                return [line for line in f if not line.startswith("#")]
        other = os.path.join(committed, name)
        if not os.path.exists(other) or body(os.path.join(generated, name)) != body(other):
            print("differs:", name)
            bad += 1
    print("%d files differ" % bad if bad else "all vectors reproduced")
    return 1 if bad else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("tests", "data", "scaling"))
    parser.add_argument("--check", metavar="DIR",
                        help="regenerate into a temporary folder and compare with DIR")
    args = parser.parse_args()
    if args.check:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            make_mx(tmp)
            make_nvfp4(tmp)
            return check(tmp, args.check)
    os.makedirs(args.out, exist_ok=True)
    make_mx(args.out)
    make_nvfp4(args.out)
    print("wrote vectors to", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
