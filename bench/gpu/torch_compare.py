#!/usr/bin/env python3
"""qfloat's CUDA encode against PyTorch's own float8 casts, on the GPU.

  torch_compare.py --shim build/bench/gpu/libqfloat_torch_shim.so --out DIR [--inputs all|N]

1. Bits: every float32 bit pattern (--inputs all, 2^32) or the first N patterns of a fixed
   random permutation-free sample, cast with x.to(torch.float8_e4m3fn / float8_e5m2) and encoded
   by qfloat (EncodeOnDevice through the shim, rne, under ovf-inf and sat-finite). Every
   difference is grouped by input class (NaN by sign, infinity by sign, finite overflow beyond the
   largest finite value, zero, in range) and code pair, with a count, an example and the cause.
   qfloat's own results are the reference's bits (cuda_backend_test checks that exhaustively), so
   each class is a difference of conventions, not an error on either side, unless it is
   "in range", which would be a rounding disagreement.
2. Speed, on one 1 GiB float32 tensor: torch's cast x.to(float8_e4m3fn), the same cast into a
   preallocated tensor, qfloat's encode, torch's fake-quant x.to(f8).to(f32), qfloat's fake-quant,
   and a device-to-device copy, each the median of CUDA-event timings.

Writes DIR/torch_compare.json and prints a summary. Exit status: 0 done, 77 PyTorch or a CUDA
device missing (the caller reports a skip), 1 on an error. --selftest exercises the
classification and report on synthetic differences with no GPU and no PyTorch.
"""
import argparse
import ctypes
import json
import os
import statistics
import sys

import numpy as np

SKIP = 77
FORMATS = [("e4m3fn", "float8_e4m3fn"), ("e5m2", "float8_e5m2")]
POLICIES = ["ovf-inf", "sat-finite"]


class Shim:
    """ctypes binding of libqfloat_torch_shim.so."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(os.path.abspath(path))
        args = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint64,
                ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p,
                ctypes.c_char_p, ctypes.c_size_t]
        for name in ("qfloat_shim_encode_f32", "qfloat_shim_quantize_f32"):
            fn = getattr(self.lib, name)
            fn.argtypes = args
            fn.restype = ctypes.c_int
        host = self.lib.qfloat_shim_encode_f32_host
        host.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint64,
                         ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p,
                         ctypes.c_size_t]
        host.restype = ctypes.c_int
        self.lib.qfloat_shim_max_finite.argtypes = [ctypes.c_char_p]
        self.lib.qfloat_shim_max_finite.restype = ctypes.c_double

    def _call(self, name, fmt, rounding, overflow, in_ptr, out_ptr, count, stream, seed=0):
        err = ctypes.create_string_buffer(512)
        rc = getattr(self.lib, name)(fmt.encode(), rounding.encode(), overflow.encode(), seed,
                                     in_ptr, out_ptr, count, stream, err, len(err))
        if rc != 0:
            raise RuntimeError(f"{name}({fmt}, {rounding}, {overflow}): {err.value.decode()}")

    def encode_device(self, fmt, rounding, overflow, in_ptr, out_ptr, count, stream):
        self._call("qfloat_shim_encode_f32", fmt, rounding, overflow, in_ptr, out_ptr, count,
                   stream)

    def quantize_device(self, fmt, rounding, overflow, in_ptr, out_ptr, count, stream):
        self._call("qfloat_shim_quantize_f32", fmt, rounding, overflow, in_ptr, out_ptr, count,
                   stream)

    def encode_host(self, fmt, rounding, overflow, x):
        x = np.ascontiguousarray(x, dtype=np.float32)
        codes = np.empty(x.size, dtype=np.uint32)
        err = ctypes.create_string_buffer(512)
        rc = self.lib.qfloat_shim_encode_f32_host(
            fmt.encode(), rounding.encode(), overflow.encode(), 0, x.ctypes.data,
            codes.ctypes.data, x.size, err, len(err))
        if rc != 0:
            raise RuntimeError(err.value.decode())
        return codes

    def max_finite(self, fmt):
        return self.lib.qfloat_shim_max_finite(fmt.encode())


# ---- classification of differences ----

CLASSES = ["in range", "zero", "finite overflow +", "finite overflow -", "infinity +",
           "infinity -", "NaN +", "NaN -"]


def class_ids(xp, bits, max_bits):
    """Class index (CLASSES) of float32 inputs given as int64 bit patterns, with numpy or torch
    (xp); max_bits: the float32 bits of the format's largest finite value."""
    mag = bits & 0x7FFFFFFF
    neg = (bits >> 31) & 1
    ids = xp.zeros_like(bits)
    ids = xp.where(mag == 0, 1, ids)
    ids = xp.where((mag > max_bits) & (mag < 0x7F800000), 2 + neg, ids)
    ids = xp.where(mag == 0x7F800000, 4 + neg, ids)
    ids = xp.where(mag > 0x7F800000, 6 + neg, ids)
    return ids


def cause(klass, theirs, ours, max_code):
    """The convention behind a difference class, read off the two codes (max_code: the format's
    largest finite magnitude code)."""
    t, o = int(theirs), int(ours)
    if klass.startswith("NaN"):
        if (t & 0x7F) == (o & 0x7F):
            return ("NaN sign: the two keep the input NaN's sign differently (qfloat keeps it "
                    "where the format's NaNs are signed, DESIGN.md 'Overflow and specials')")
        return (f"NaN encoding: PyTorch writes 0x{t:02X}, qfloat its canonical NaN 0x{o:02X} "
                "(payloads are dropped; which NaN code is canonical is a convention)")
    if klass.startswith("infinity") or klass.startswith("finite overflow"):
        if (t & 0x7F) == max_code:
            return ("saturation: PyTorch's cast saturates to +-max (0x%02X) where qfloat's "
                    "policy gives inf/NaN (0x%02X); qfloat's sat-finite is PyTorch's "
                    "convention here" % (t, o))
        if (o & 0x7F) == max_code:
            return ("saturation: PyTorch's cast does not saturate (0x%02X, inf/NaN) where "
                    "qfloat's sat-finite gives +-max (0x%02X); qfloat's ovf-inf is PyTorch's "
                    "convention here" % (t, o))
        return f"overflow convention: PyTorch 0x{t:02X}, qfloat 0x{o:02X}"
    if klass == "zero":
        return "signed zero convention"
    return "ROUNDING DISAGREEMENT in range (unexpected: check against the reference)"


class Tally:
    """Differences grouped by (input class, PyTorch code, qfloat code), counted where the data
    is (numpy arrays or torch tensors, on the GPU too): only the groups reach Python."""

    def __init__(self, max_finite):
        self.max_bits = int(np.array([max_finite], dtype=np.float32).view(np.uint32)[0])
        self.groups = {}
        self.total = 0
        self.compared = 0

    def add(self, bits, theirs, ours):
        """bits: int64 float32 patterns of the differing inputs; theirs, ours: their codes."""
        n = int(bits.shape[0])
        self.total += n
        if n == 0:
            return
        if isinstance(bits, np.ndarray):
            keys = class_ids(np, bits, self.max_bits) * 65536 + theirs.astype(np.int64) * 256 \
                + ours.astype(np.int64)
            uniq, first, counts = np.unique(keys, return_index=True, return_counts=True)
            examples = bits[first]
        else:
            import torch  # noqa: PLC0415
            keys = class_ids(torch, bits, self.max_bits) * 65536 + theirs.to(torch.int64) * 256 \
                + ours.to(torch.int64)
            uniq, inverse, counts = torch.unique(keys, return_inverse=True, return_counts=True)
            positions = torch.arange(n, device=keys.device)
            first = torch.full((uniq.numel(),), n, dtype=torch.int64, device=keys.device)
            first = first.scatter_reduce(0, inverse, positions, reduce="amin")
            examples = bits[first].cpu().numpy()
            uniq, counts = uniq.cpu().numpy(), counts.cpu().numpy()
        for key, count, example in zip(uniq.tolist(), counts.tolist(), examples.tolist()):
            g = self.groups.setdefault(key, {"count": 0, "example": f"0x{example & 0xFFFFFFFF:08X}"})
            g["count"] += count

    def report(self, max_code):
        rows = []
        for key, g in sorted(self.groups.items(), key=lambda kv: -kv[1]["count"]):
            klass, t, o = CLASSES[key // 65536], (key // 256) % 256, key % 256
            rows.append({"class": klass, "torch": f"0x{t:02X}", "qfloat": f"0x{o:02X}",
                         "count": g["count"], "example_input": g["example"],
                         "cause": cause(klass, t, o, max_code)})
        return rows


# ---- the comparisons on the GPU ----

def compare_bits(torch, shim, inputs, device="cuda"):
    """Every (or a sample of) float32 bit pattern: PyTorch's casts vs qfloat's encode (on the
    GPU with EncodeOnDevice; with device="cpu", PyTorch's CPU cast vs the scalar reference)."""
    total = 1 << 32 if inputs == "all" else int(inputs)
    chunk = min(total, 1 << 28 if device == "cuda" else 1 << 24)
    results = []
    stream = torch.cuda.current_stream().cuda_stream if device == "cuda" else None
    for fmt, dtype_name in FORMATS:
        dtype = getattr(torch, dtype_name)
        max_finite = shim.max_finite(fmt)
        max_code = int(shim.encode_host(fmt, "rne", "ovf-inf", np.array([max_finite]))[0])
        extra = special_inputs(max_finite) if inputs != "all" else np.zeros(0, np.uint32)
        tallies = {p: Tally(max_finite) for p in POLICIES}
        ours = torch.empty(max(chunk, extra.size), dtype=torch.uint8, device=device)
        starts = list(range(0, total, chunk)) + ([None] if extra.size else [])
        for start in starts:
            if start is None:  # the special inputs, after a sample
                n = int(extra.size)
                idx = torch.from_numpy(extra.astype(np.int64)).to(device)
            else:
                n = min(chunk, total - start)
                idx = torch.arange(start, start + n, dtype=torch.int64, device=device)
                if inputs != "all":  # a spread-out sample: multiplicative hashing of the index
                    idx = (idx * 2654435761) & 0xFFFFFFFF
            idx = torch.where(idx >= (1 << 31), idx - (1 << 32), idx).to(torch.int32)
            x = idx.view(torch.float32)
            theirs = x.to(dtype).view(torch.uint8)
            for policy in POLICIES:
                if device == "cuda":
                    shim.encode_device(fmt, "rne", policy, x.data_ptr(), ours.data_ptr(), n,
                                       stream)
                else:
                    ours[:n] = torch.from_numpy(
                        shim.encode_host(fmt, "rne", policy, x.numpy()).astype(np.uint8))
                diff = (theirs != ours[:n]).nonzero().flatten()
                tallies[policy].compared += n
                tallies[policy].add(idx[diff].to(torch.int64) & 0xFFFFFFFF, theirs[diff],
                                    ours[:n][diff])
            if device == "cuda":
                torch.cuda.synchronize()
        for policy in POLICIES:
            t = tallies[policy]
            results.append({"format": fmt, "torch_dtype": dtype_name, "qfloat_overflow": policy,
                            "device": device, "inputs": t.compared, "differences": t.total,
                            "classes": t.report(max_code)})
    return results


def special_inputs(max_finite):
    """Inputs a sample may miss: zeros, infinities, NaNs, float32 extremes, and the float32
    neighbourhood of the format's largest value and of its overflow threshold."""
    f32 = np.float32
    out = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001,
           0xFF800001, 0x7FFFFFFF, 0xFFFFFFFF, 0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x80000001]
    for v in (max_finite, max_finite * (1 + 1 / 16), max_finite * (1 + 1 / 8), max_finite * 2):
        b = int(np.array([v], dtype=f32).view(np.uint32)[0])
        for d in range(-3, 4):
            out += [(b + d) & 0x7FFFFFFF, ((b + d) & 0x7FFFFFFF) | 0x80000000]
    return np.array(out, dtype=np.uint32)


def time_ms(torch, fn, reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times)


def speed(torch, shim, mib, reps):
    """PyTorch's cast vs qfloat's encode on the same 1 GiB tensor, and a copy of it."""
    n = mib * (1 << 20) // 4
    gen = torch.Generator(device="cuda").manual_seed(0)
    x = torch.randn(n, device="cuda", generator=gen) * 64  # spans e4m3fn's range
    y = torch.empty_like(x)
    f8 = torch.empty(n, dtype=torch.float8_e4m3fn, device="cuda")
    codes = torch.empty(n, dtype=torch.uint8, device="cuda")
    stream = torch.cuda.current_stream().cuda_stream
    rows = {
        "copy (y.copy_(x))": (lambda: y.copy_(x), 8 * n),
        "torch x.to(float8_e4m3fn)": (lambda: x.to(torch.float8_e4m3fn), 5 * n),
        "torch f8.copy_(x) (preallocated)": (lambda: f8.copy_(x), 5 * n),
        "qfloat encode e4m3fn rne": (lambda: shim.encode_device(
            "e4m3fn", "rne", "ovf-inf", x.data_ptr(), codes.data_ptr(), n, stream), 5 * n),
        "torch fake-quant x.to(f8).to(f32)": (
            lambda: x.to(torch.float8_e4m3fn).to(torch.float32), 8 * n),
        "qfloat fake-quant e4m3fn rne": (lambda: shim.quantize_device(
            "e4m3fn", "rne", "ovf-inf", x.data_ptr(), y.data_ptr(), n, stream), 8 * n),
        "qfloat fake-quant e4m3fn sr": (lambda: shim.quantize_device(
            "e4m3fn", "sr", "ovf-inf", x.data_ptr(), y.data_ptr(), n, stream), 8 * n),
    }
    out = {}
    for name, (fn, nbytes) in rows.items():
        ms = time_ms(torch, fn, reps)
        out[name] = {"ms": ms, "bytes": nbytes, "gbps": nbytes / (ms * 1e6)}
    copy_gbps = out["copy (y.copy_(x))"]["gbps"]
    for r in out.values():
        r["ratio_to_copy"] = r["gbps"] / copy_gbps
    # The identical-bits check on this tensor too: our codes vs torch's (nonzero only at the
    # conventions above; randn * 64 has no NaN or inf, and overflows beyond 448).
    torch_codes = x.to(torch.float8_e4m3fn).view(torch.uint8)
    shim.encode_device("e4m3fn", "rne", "ovf-inf", x.data_ptr(), codes.data_ptr(), n, stream)
    torch.cuda.synchronize()
    out["_same_tensor_code_differences"] = int((torch_codes != codes).sum().item())
    return out


def print_summary(report, stream=sys.stdout):
    for r in report.get("bits", []):
        print(f"{r['format']} vs torch.{r['torch_dtype']} (qfloat rne {r['qfloat_overflow']}): "
              f"{r['inputs']} inputs, {r['differences']} differences", file=stream)
        for c in r["classes"]:
            print(f"  {c['count']:>12}  {c['class']:<18} torch {c['torch']} qfloat {c['qfloat']}"
                  f"  e.g. {c['example_input']}: {c['cause']}", file=stream)
    sp = report.get("speed")
    if sp:
        print("speed (median of CUDA events; ratio = bandwidth / copy bandwidth):", file=stream)
        for name, r in sp.items():
            if name.startswith("_"):
                continue
            print(f"  {name:<36} {r['ms']:8.3f} ms {r['gbps']:8.1f} GB/s "
                  f"ratio {r['ratio_to_copy']:.3f}", file=stream)
        t = sp["torch x.to(float8_e4m3fn)"]["ms"]
        q = sp["qfloat encode e4m3fn rne"]["ms"]
        print(f"  qfloat encode vs torch cast: {t / q:.2f}x "
              f"({'faster' if q < t else 'SLOWER'})", file=stream)
        tf = sp["torch fake-quant x.to(f8).to(f32)"]["ms"]
        qf = sp["qfloat fake-quant e4m3fn rne"]["ms"]
        print(f"  qfloat fake-quant vs torch round trip: {tf / qf:.2f}x", file=stream)
        print(f"  code differences on the timed tensor: {sp['_same_tensor_code_differences']}",
              file=stream)


def selftest(shim):
    """The classification and report on synthetic differences (no GPU, no PyTorch)."""
    rng = np.random.default_rng(1)
    bits = np.concatenate([
        rng.integers(0, 1 << 32, 10000, dtype=np.uint64).astype(np.uint32),
        np.array([0x7FC00000, 0xFFC00000, 0x7F800000, 0xFF800000, 0x43E80000, 0xC3E80000,
                  0x00000000, 0x80000000], dtype=np.uint32)])
    x = bits.view(np.float32)
    ours = shim.encode_host("e4m3fn", "rne", "ovf-inf", x).astype(np.uint8)
    sat = shim.encode_host("e4m3fn", "rne", "sat-finite", x).astype(np.uint8)
    # A "peer" that flips every NaN's sign: the classifier must name only NaN classes.
    peer = ours.copy()
    nan = (bits & 0x7FFFFFFF) > 0x7F800000
    peer[nan] ^= 0x80
    max_finite = shim.max_finite("e4m3fn")
    assert max_finite == 448.0, max_finite
    b64 = bits.astype(np.int64)
    t = Tally(max_finite)
    d = np.nonzero(peer != ours)[0]
    t.add(b64[d], peer[d], ours[d])
    classes = {r["class"] for r in t.report(0x7E)}
    assert classes <= {"NaN +", "NaN -"} and classes, classes
    assert t.total == int(nan.sum()), (t.total, int(nan.sum()))
    assert sum(r["count"] for r in t.report(0x7E)) == t.total
    # ovf-inf vs sat-finite: differences only at infinities and finite overflow.
    t2 = Tally(max_finite)
    d = np.nonzero(sat != ours)[0]
    t2.add(b64[d], ours[d], sat[d])
    rows = t2.report(0x7E)
    assert rows and all(r["class"].startswith(("infinity", "finite overflow")) for r in rows), rows
    assert all("saturat" in r["cause"] for r in rows)
    over = (bits & 0x7FFFFFFF) > 0x43E00000  # |x| > 448 (includes inf and NaN patterns)
    assert t2.total <= int(over.sum())
    print_summary({"bits": [{"format": "e4m3fn", "torch_dtype": "(synthetic)",
                             "qfloat_overflow": "sat-finite", "inputs": int(bits.size),
                             "differences": t2.total, "classes": rows}]})
    print("selftest: ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shim", required=True, help="path to libqfloat_torch_shim.so")
    ap.add_argument("--out", default=".", help="directory for torch_compare.json")
    ap.add_argument("--inputs", default="all", help="'all' (2^32) or a number of inputs")
    ap.add_argument("--mib", type=int, default=1024, help="tensor size for the speed part")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--cpu", action="store_true",
                    help="PyTorch's CPU cast vs the scalar reference (no GPU needed)")
    args = ap.parse_args()
    shim = Shim(args.shim)
    if args.selftest:
        selftest(shim)
        return 0
    try:
        import torch  # noqa: PLC0415 (optional dependency)
    except ImportError as e:
        print(f"SKIPPED: PyTorch is not importable ({e})")
        return SKIP
    if args.cpu:
        report = {"torch": torch.__version__, "device": "cpu"}
        report["bits"] = compare_bits(torch, shim, args.inputs, device="cpu")
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "torch_compare_cpu.json"), "w") as f:
            json.dump(report, f, indent=1)
        print(f"torch {report['torch']} on the CPU")
        print_summary(report)
        return 0
    if not torch.cuda.is_available():
        print("SKIPPED: torch.cuda.is_available() is False")
        return SKIP
    if not all(hasattr(torch, d) for _, d in FORMATS):
        print(f"SKIPPED: torch {torch.__version__} has no float8 dtypes")
        return SKIP
    report = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0)}
    report["bits"] = compare_bits(torch, shim, args.inputs)
    report["speed"] = speed(torch, shim, args.mib, args.reps)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "torch_compare.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"torch {report['torch']} on {report['device']}")
    print_summary(report)
    unexplained = sum(c["count"] for r in report["bits"] for c in r["classes"]
                      if c["class"] == "in range")
    print(f"TORCH_COMPARE in_range_differences={unexplained}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
