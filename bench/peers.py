#!/usr/bin/env python3
"""What a user would pick instead of qfloat, timed the way bench_quantize.cc times qfloat.

Every figure is a ratio to memory speed measured in the same process, like qfloat_bench's
vs_memcpy counter:

    (input + output bytes per second of the conversion)
    / (input + output bytes per second of numpy copying the same array)

so `python3 bench/peers.py` and `qfloat_bench --benchmark_filter=Encode16M` compare directly.
Peers: ml_dtypes' `x.astype(float8_e4m3fn | float8_e5m2 | float4_e2m1fn)` (one thread; one byte
per element, float4 unpacked) and PyTorch's CPU `x.to(torch.float8_e4m3fn | torch.float8_e5m2)`
(its own thread pool, all cores unless --threads). Data: float32, normal with sigma 1e-3
(gradient-like), 16M elements by default, as in bench_quantize.cc. Needs numpy; ml_dtypes and
torch are skipped (and said so) when not installed: pip install ml_dtypes torch.
"""

import argparse
import json
import sys
import time

import numpy as np


def best_seconds(fn, repeat, min_seconds=0.2):
    """Best per-call wall time of fn() over `repeat` runs of enough calls to fill min_seconds."""
    fn()  # warm up (page faults, lazy initialisation)
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < min_seconds / 4:
        fn()
        calls += 1
    per_run = max(1, int(calls * 4 * (min_seconds / 4) / max(time.perf_counter() - start, 1e-9) / 4))
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(per_run):
            fn()
        best = min(best, (time.perf_counter() - t0) / per_run)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elements", type=int, default=16 << 20, help="array size (default 16M)")
    parser.add_argument("--sigma", type=float, default=1e-3, help="standard deviation (default 1e-3)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (best kept)")
    parser.add_argument("--threads", type=int, default=0, help="PyTorch threads (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    x = np.random.default_rng(1).normal(0.0, args.sigma, args.elements).astype(np.float32)
    dst = np.empty_like(x)
    copy_s = best_seconds(lambda: np.copyto(dst, x), args.repeat)
    copy_rate = 2 * x.nbytes / copy_s
    rows = [{"peer": "numpy copy (baseline)", "threads": 1, "seconds": copy_s,
             "bytes_per_second": copy_rate, "vs_memcpy": 1.0}]
    notes = []

    def add(name, threads, fn, out_bytes):
        s = best_seconds(fn, args.repeat)
        rate = (x.nbytes + out_bytes) / s
        rows.append({"peer": name, "threads": threads, "seconds": s, "bytes_per_second": rate,
                     "vs_memcpy": rate / copy_rate})

    try:
        import ml_dtypes

        for dtype in ("float8_e4m3fn", "float8_e5m2", "float4_e2m1fn"):
            t = getattr(ml_dtypes, dtype)
            out_bytes = x.size * np.dtype(t).itemsize
            add(f"ml_dtypes {ml_dtypes.__version__} astype({dtype})", 1, lambda t=t: x.astype(t), out_bytes)
    except ImportError:
        notes.append("ml_dtypes not installed (pip install ml_dtypes): skipped")

    try:
        import torch

        if args.threads > 0:
            torch.set_num_threads(args.threads)
        xt = torch.from_numpy(x)
        for dtype in ("float8_e4m3fn", "float8_e5m2"):
            t = getattr(torch, dtype)
            add(f"torch {torch.__version__} x.to({dtype})", torch.get_num_threads(),
                lambda t=t: xt.to(t), x.size)
    except ImportError:
        notes.append("torch not installed (pip install torch): skipped")

    if args.json:
        json.dump({"elements": args.elements, "sigma": args.sigma, "rows": rows, "notes": notes},
                  sys.stdout, indent=2)
        print()
        return
    print(f"{args.elements} float32 elements, normal sigma {args.sigma}; "
          "vs_memcpy = (in + out bytes/s) / (numpy copy in + out bytes/s)")
    width = max(len(r["peer"]) for r in rows)
    print(f"{'peer':<{width}}  threads  {'ms':>9}  {'GB/s':>7}  vs_memcpy")
    for r in rows:
        print(f"{r['peer']:<{width}}  {r['threads']:>7}  {r['seconds'] * 1e3:>9.2f}  "
              f"{r['bytes_per_second'] / 1e9:>7.2f}  {r['vs_memcpy']:.4f}")
    for n in notes:
        print(n)


if __name__ == "__main__":
    main()
