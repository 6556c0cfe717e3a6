#!/usr/bin/env python3
"""Writes the tensor-file fixtures of tests/data/io/ with the real writers users have.

Every file here is produced by numpy (np.save, np.savez, np.savez_compressed,
np.lib.format.write_array), ml_dtypes (bfloat16 / float8 / float4 arrays through np.save),
safetensors.numpy and safetensors.torch, exactly as a user's script would write it. The one
exception is F6_E2M3/F6_E3M2: no library writes them yet, so `f6.safetensors` is assembled by
hand from the safetensors layout (documented below).

Alongside the files, `expected.json` records what each tensor must read back as, computed here
independently of the C++ reader:
  {"files": {"<file>": {"kind", "metadata", "as_format", "tensors": [
      {"name", "dtype", "shape", "fortran_order", "numel",
       "f64": [hex of each float64 value, C order] | "f64_fnv1a": FNV-1a 64 of the C-order <f8
              bytes, every NaN made 0x7FF8000000000000 (tensors over 512 elements),
       "f32": [...] | "f32_fnv1a": ...,       (float32 rounding of the same values; NaN 0x7FC00000)
       "codes": [raw bit pattern of each element, C order] (dtypes of <= 32 bits, when small),
       "convert_error": "..."}]}}}                (a substring of the expected error, if any)
Values are the exact values numpy/ml_dtypes/torch assign to the stored codes. NaNs compare as
"any NaN". The test (tests/io/io_fixtures_test.cc) reads every file and compares bit for bit.

Also copies small files into fuzz/corpus/<target>/ as seeds for the fuzzers.

Usage: python3 scripts/make_io_fixtures.py [--out tests/data/io] [--corpus fuzz/corpus]
Needs: numpy, ml_dtypes, safetensors, torch (pip install numpy ml_dtypes safetensors torch).
"""

import argparse
import json
import os
import shutil
import struct
import sys

import ml_dtypes
import numpy as np

SMALL = 512  # tensors up to this many elements list every value in expected.json


def fnv1a64(data):
    """FNV-1a 64 of bytes (easy to recompute in the C++ test)."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def canonical_bytes(values, dtype):
    """Little-endian bytes with every NaN replaced by the canonical quiet NaN (readers need not
    keep NaN payloads)."""
    v = np.array(values, dtype=dtype)
    v[np.isnan(v)] = np.nan
    bits = v.view(np.uint64 if dtype == np.float64 else np.uint32)
    bits[np.isnan(v)] = 0x7FF8000000000000 if dtype == np.float64 else 0x7FC00000
    return bits.astype("<u8" if dtype == np.float64 else "<u4").tobytes()


def f64_hex(values):
    return [struct.pack("<d", float(v)).hex() for v in values]


def f32_hex(values):
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.asarray(values, dtype=np.float32)
    return [struct.pack("<f", float(v)).hex() for v in values]


def expected_entry(name, dtype, shape, values, codes=None, fortran_order=False,
                   convert_error=None):
    """values: exact float64 values in C order (None when conversion must fail)."""
    shape = [int(d) for d in shape]
    entry = {"name": name, "dtype": dtype, "shape": shape, "fortran_order": fortran_order,
             "numel": int(np.prod(shape, dtype=np.int64)) if shape else 1}
    if convert_error is not None:
        entry["convert_error"] = convert_error
    if values is not None:
        v64 = np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(-1))
        with np.errstate(over="ignore", invalid="ignore"):
            v32 = v64.astype(np.float32)
        if v64.size <= SMALL:
            entry["f64"] = f64_hex(v64)
            entry["f32"] = f32_hex(v32)
        else:
            entry["f64_fnv1a"] = fnv1a64(canonical_bytes(v64, np.float64))
            entry["f32_fnv1a"] = fnv1a64(canonical_bytes(v32, np.float32))
    if codes is not None:
        c = np.asarray(codes).reshape(-1)
        if c.size <= SMALL:
            entry["codes"] = [int(x) for x in c]
    return entry


class Fixtures:
    def __init__(self, out):
        self.out = out
        self.files = {}

    def path(self, name):
        return os.path.join(self.out, name)

    def add(self, file, kind, tensors, metadata=None, as_format=None):
        self.files[file] = {"kind": kind, "metadata": metadata or {}, "tensors": tensors}
        if as_format:
            self.files[file]["as_format"] = as_format


def c_values(arr):
    """Exact float64 values of an array of a float dtype, C order."""
    return np.ascontiguousarray(arr).astype(np.float64).reshape(-1)


def make_npy(fx):
    # float32 with every special class: zeros of both signs, subnormal, max, inf, nan.
    f4 = np.array([[0.0, -0.0, 1.0, -2.5],
                   [np.float32(1e-45), np.finfo(np.float32).max, np.inf, -np.inf],
                   [np.nan, 3.1415927, -1e-38, 65504.0]], dtype=np.float32)
    np.save(fx.path("f4.npy"), f4)
    fx.add("f4.npy", "npy", [expected_entry("f4", "F32", f4.shape, c_values(f4))])

    # float64: values that float32 cannot hold exactly (0.1, 1/3, 1e300 -> inf).
    f8 = np.array([[0.1, 1.0 / 3.0, -2.0], [1e300, 5e-324, 0.5]], dtype=np.float64)
    np.save(fx.path("f8.npy"), f8)
    fx.add("f8.npy", "npy", [expected_entry("f8", "F64", f8.shape, c_values(f8))])

    # float16: every code.
    f2 = np.arange(65536, dtype=np.uint16).view(np.float16)
    np.save(fx.path("f2.npy"), f2)
    fx.add("f2.npy", "npy", [expected_entry("f2", "F16", f2.shape, c_values(f2))])

    # bfloat16 via ml_dtypes: '<V2' (JAX convention), a few hundred codes.
    bf_codes = np.concatenate([np.arange(0, 65536, 256, dtype=np.uint16),
                               np.array([0x7FC0, 0xFFC1, 0x0001, 0x8001], dtype=np.uint16)])
    bf = bf_codes.view(ml_dtypes.bfloat16).reshape(-1, 4)
    np.save(fx.path("bf16.npy"), bf)
    fx.add("bf16.npy", "npy",
           [expected_entry("bf16", "BF16", bf.shape, c_values(bf), codes=bf.view(np.uint16))])

    # float8_e5m2 via ml_dtypes: '<f1'; every code.
    e5 = np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e5m2).reshape(16, 16)
    np.save(fx.path("e5m2.npy"), e5)
    fx.add("e5m2.npy", "npy",
           [expected_entry("e5m2", "F8_E5M2", e5.shape, c_values(e5), codes=e5.view(np.uint8))])

    # float8_e4m3fn via ml_dtypes: '<V1', readable only with --as e4m3fn; every code.
    e4 = np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e4m3fn).reshape(2, 128)
    np.save(fx.path("e4m3fn_v1.npy"), e4)
    fx.add("e4m3fn_v1.npy", "npy",
           [expected_entry("e4m3fn_v1", "V1", e4.shape, c_values(e4), codes=e4.view(np.uint8))],
           as_format="e4m3fn")

    # float4_e2m1fn via ml_dtypes: '<V1', one code per byte; every code.
    f4c = np.arange(16, dtype=np.uint8).view(ml_dtypes.float4_e2m1fn)
    np.save(fx.path("e2m1fn_v1.npy"), f4c)
    fx.add("e2m1fn_v1.npy", "npy",
           [expected_entry("e2m1fn_v1", "V1", f4c.shape, c_values(f4c),
                           codes=f4c.view(np.uint8))],
           as_format="e2m1fn")

    # Fortran order (rank 3); the reader returns C order.
    fo = np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.5 - 3)
    np.save(fx.path("fortran.npy"), fo)
    fx.add("fortran.npy", "npy",
           [expected_entry("fortran", "F32", fo.shape, c_values(fo), fortran_order=True)])

    # Explicit header versions 2.0 and 3.0.
    v = np.linspace(-1, 1, 7, dtype=np.float32)
    for major in (2, 3):
        name = "v%d.npy" % major
        with open(fx.path(name), "wb") as f:
            np.lib.format.write_array(f, v, version=(major, 0))
        fx.add(name, "npy", [expected_entry("v%d" % major, "F32", v.shape, c_values(v))])

    # High rank (numpy allows 64 dimensions): a long shape tuple in the header.
    big_rank = np.zeros([1] * 32, dtype=np.float32)
    np.save(fx.path("rank32.npy"), big_rank)
    fx.add("rank32.npy", "npy",
           [expected_entry("rank32", "F32", big_rank.shape, c_values(big_rank))])

    # Rank 0 and zero-size.
    r0 = np.array(3.5, dtype=np.float32)
    np.save(fx.path("rank0.npy"), r0)
    fx.add("rank0.npy", "npy", [expected_entry("rank0", "F32", (), [3.5])])
    z = np.zeros((0, 3), dtype=np.float32)
    np.save(fx.path("empty.npy"), z)
    fx.add("empty.npy", "npy", [expected_entry("empty", "F32", z.shape, [])])

    # Integers and bool.
    i64 = np.array([0, -1, 2**53, 2**53 + 1, -(2**63), 2**63 - 1], dtype=np.int64)
    np.save(fx.path("i64.npy"), i64)
    fx.add("i64.npy", "npy",
           [expected_entry("i64", "I64", i64.shape, None,
                           convert_error="is not exactly representable as float64")])
    i32 = np.array([-(2**31), -1, 0, 1, 2**24 + 1, 2**31 - 1], dtype=np.int32)
    np.save(fx.path("i32.npy"), i32)
    fx.add("i32.npy", "npy",
           [expected_entry("i32", "I32", i32.shape, i32.astype(np.float64),
                           codes=i32.view(np.uint32))])
    u8 = np.array([0, 1, 127, 128, 255], dtype=np.uint8)
    np.save(fx.path("u8.npy"), u8)
    fx.add("u8.npy", "npy", [expected_entry("u8", "U8", u8.shape, u8.astype(np.float64),
                                            codes=u8)])
    b = np.array([True, False, True], dtype=np.bool_)
    np.save(fx.path("bool.npy"), b)
    fx.add("bool.npy", "npy", [expected_entry("bool", "BOOL", b.shape, b.astype(np.float64),
                                              codes=b.astype(np.uint8))])
    c = np.array([1 + 2j, 3 - 4j], dtype=np.complex64)
    np.save(fx.path("c8.npy"), c)
    fx.add("c8.npy", "npy",
           [expected_entry("c8", "C64", c.shape, None, convert_error="complex dtype")])

    # NaN-filled: reads fine; CountNonFinite reports them.
    nan = np.full((4, 4), np.nan, dtype=np.float32)
    np.save(fx.path("nan.npy"), nan)
    fx.add("nan.npy", "npy", [expected_entry("nan", "F32", nan.shape, c_values(nan))])


def make_npz(fx):
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 8
    b = np.array([1, -2, 3], dtype=np.int32)
    bf = np.array([1.0, -0.5, 3.0, np.inf], dtype=ml_dtypes.bfloat16)
    arrays = {"a": a, "b": b, "bf": bf,
              "['params']['dense']['kernel']": np.asfortranarray(a.T.copy())}

    def entries():
        return [expected_entry("a", "F32", a.shape, c_values(a)),
                expected_entry("b", "I32", b.shape, b.astype(np.float64), codes=b.view(np.uint32)),
                expected_entry("bf", "BF16", bf.shape, c_values(bf), codes=bf.view(np.uint16)),
                expected_entry("['params']['dense']['kernel']", "F32", a.T.shape,
                               c_values(a.T), fortran_order=True)]

    np.savez(fx.path("stored.npz"), **arrays)
    fx.add("stored.npz", "npz", entries())
    # Compressed, with a member large enough that deflate matters.
    big = np.tile(np.linspace(-4, 4, 1000, dtype=np.float32), 20).reshape(20, 1000)
    np.savez_compressed(fx.path("compressed.npz"), big=big, **arrays)
    fx.add("compressed.npz", "npz",
           [expected_entry("big", "F32", big.shape, c_values(big))] + entries())


def make_safetensors(fx):
    import safetensors.numpy
    import safetensors.torch
    import torch

    # safetensors.numpy: plain numpy dtypes, rank 0, zero-size, metadata.
    t = {
        "w": np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5,
        "d": np.array([0.1, -1e300, 5e-324], dtype=np.float64),
        "h": np.array([1.0, 65504.0, -6.1e-5, np.inf], dtype=np.float16),
        "i": np.array([[-1, 2], [3, -4]], dtype=np.int32),
        "u": np.array([0, 255], dtype=np.uint8),
        "flag": np.array([True, False]),
        "scalar": np.array(7.25, dtype=np.float32),
        "none": np.zeros((0, 5), dtype=np.float32),
    }
    meta = {"step": "12", "framework": "numpy", "note": "utf-8 ✓"}
    safetensors.numpy.save_file(t, fx.path("numpy.safetensors"), metadata=meta)
    names = {"w": "F32", "d": "F64", "h": "F16", "i": "I32", "u": "U8", "flag": "BOOL",
             "scalar": "F32", "none": "F32"}
    ents = []
    for k, arr in t.items():
        codes = None
        if arr.dtype.itemsize <= 4 and arr.dtype.kind in "iub":
            codes = arr.astype(np.int64) & ((1 << (8 * arr.dtype.itemsize)) - 1)
        ents.append(expected_entry(k, names[k], arr.shape, arr.astype(np.float64).reshape(-1),
                                   codes=codes))
    fx.add("numpy.safetensors", "safetensors", ents, metadata=meta)

    # safetensors.torch: the low-precision dtypes, every code, and F4 as float4_e2m1fn_x2.
    codes8 = torch.arange(256, dtype=torch.int32).to(torch.uint8)
    tt = {
        "bf16": torch.tensor([[1.0, -2.0, 0.15625], [3.0e38, -1e-40, float("nan")]],
                             dtype=torch.bfloat16),
        "e4m3": codes8.clone().view(torch.float8_e4m3fn).reshape(16, 16),
        "e5m2": codes8.clone().view(torch.float8_e5m2),
        "e4m3fnuz": codes8.clone().view(torch.float8_e4m3fnuz),
        "e5m2fnuz": codes8.clone().view(torch.float8_e5m2fnuz),
        "e8m0": codes8.clone().view(torch.float8_e8m0fnu),
        "scale": torch.tensor([0.5, 2.0], dtype=torch.float32),
    }
    have_f4 = hasattr(torch, "float4_e2m1fn_x2")
    # 2 rows of 6 bytes: every (low, high) nibble pair order shows up.
    f4_bytes = torch.tensor([[0x10, 0x32, 0x54, 0x76, 0x98, 0xBA],
                             [0xDC, 0xFE, 0x0F, 0xF0, 0x81, 0x18]], dtype=torch.uint8)
    if have_f4:
        tt["f4"] = f4_bytes.view(torch.float4_e2m1fn_x2)
    tmeta = {"step": "3", "framework": "torch", "lr": "0.001"}
    safetensors.torch.save_file(tt, fx.path("torch.safetensors"), metadata=tmeta)

    def torch_vals(x):
        # torch cannot convert the 8-bit floats of every kind on every build; ml_dtypes gives the
        # same exact values from the same codes.
        return x.to(torch.float64).reshape(-1).numpy()

    u8 = np.arange(256, dtype=np.uint8)
    ents = [
        expected_entry("bf16", "BF16", tt["bf16"].shape, torch_vals(tt["bf16"]),
                       codes=tt["bf16"].view(torch.int16).numpy().view(np.uint16)),
        expected_entry("e4m3", "F8_E4M3", (16, 16), u8.view(ml_dtypes.float8_e4m3fn), codes=u8),
        expected_entry("e5m2", "F8_E5M2", (256,), u8.view(ml_dtypes.float8_e5m2), codes=u8),
        expected_entry("e4m3fnuz", "F8_E4M3FNUZ", (256,), u8.view(ml_dtypes.float8_e4m3fnuz),
                       codes=u8),
        expected_entry("e5m2fnuz", "F8_E5M2FNUZ", (256,), u8.view(ml_dtypes.float8_e5m2fnuz),
                       codes=u8),
        expected_entry("e8m0", "F8_E8M0", (256,), u8.view(ml_dtypes.float8_e8m0fnu), codes=u8),
        expected_entry("scale", "F32", (2,), [0.5, 2.0]),
    ]
    # Cross-check torch against ml_dtypes where torch converts.
    for name, mld in (("e4m3", ml_dtypes.float8_e4m3fn), ("e5m2", ml_dtypes.float8_e5m2)):
        a = torch_vals(tt[name])
        b = u8.view(mld).astype(np.float64)
        assert np.array_equal(a, b, equal_nan=True), name
    if have_f4:
        # Element 2j is the low nibble (PyTorch's tests, torchao); ml_dtypes decodes each code.
        nib = []
        for byte in f4_bytes.reshape(-1).tolist():
            nib += [byte & 0xF, byte >> 4]
        nib = np.array(nib, dtype=np.uint8)
        ents.append(expected_entry("f4", "F4", (2, 12), nib.view(ml_dtypes.float4_e2m1fn),
                                   codes=nib))
    fx.add("torch.safetensors", "safetensors", ents, metadata=tmeta)

    # F6: no library writes these yet. The layout is quantize.h's: a little-endian bit stream,
    # element i in bits [6i, 6i + 6), ceil(6 n / 8) bytes; the header holds the logical count.
    def pack6(codes):
        bits = 0
        for i, c in enumerate(codes):
            bits |= int(c) << (6 * i)
        return bits.to_bytes((6 * len(codes) + 7) // 8, "little")

    c6 = np.arange(64, dtype=np.uint8)
    c6b = np.array([5, 63, 0, 33, 17], dtype=np.uint8)  # 5 codes: a partial 3-byte group
    blobs = [("e2m3", "F6_E2M3", [64], c6, ml_dtypes.float6_e2m3fn),
             ("e3m2", "F6_E3M2", [5], c6b, ml_dtypes.float6_e3m2fn)]
    header, data, ents = {}, b"", []
    for name, dt, shape, codes, mld in blobs:
        raw = pack6(codes)
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
        ents.append(expected_entry(name, dt, shape, codes.view(mld), codes=codes))
    header["__metadata__"] = {"writer": "scripts/make_io_fixtures.py (by hand)"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(fx.path("f6.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    fx.add("f6.safetensors", "safetensors", ents, metadata=header["__metadata__"])

    if not have_f4:
        print("warning: torch has no float4_e2m1fn_x2; torch.safetensors has no F4 tensor",
              file=sys.stderr)


def copy_corpus(fx, corpus):
    targets = {"npy": ".npy", "npz": ".npz", "safetensors": ".safetensors"}
    for target, ext in targets.items():
        d = os.path.join(corpus, target)
        os.makedirs(d, exist_ok=True)
        for name in sorted(fx.files):
            src = fx.path(name)
            if name.endswith(ext) and os.path.getsize(src) <= 16384:
                shutil.copy(src, os.path.join(d, name))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(root, "tests", "data", "io"))
    ap.add_argument("--corpus", default=os.path.join(root, "fuzz", "corpus"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    fx = Fixtures(args.out)
    make_npy(fx)
    make_npz(fx)
    make_safetensors(fx)
    import safetensors
    import torch
    doc = {
        "generator": "scripts/make_io_fixtures.py",
        "versions": {"numpy": np.__version__, "ml_dtypes": ml_dtypes.__version__,
                     "safetensors": safetensors.__version__, "torch": torch.__version__},
        "files": fx.files,
    }
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    for name in fx.files:
        os.chmod(fx.path(name), 0o644)  # safetensors writes 0600
    copy_corpus(fx, args.corpus)
    total = sum(os.path.getsize(fx.path(n)) for n in fx.files)
    total += os.path.getsize(os.path.join(args.out, "expected.json"))
    print("wrote %d files (%d bytes with expected.json) to %s" % (len(fx.files), total, args.out))


if __name__ == "__main__":
    main()
