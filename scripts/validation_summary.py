#!/usr/bin/env python3
"""Headline tables of the validation experiment from docs/validation/*.json (scripts/validate.sh).

    python3 scripts/validation_summary.py docs/validation > docs/validation/summary.md
"""
import json
import math
import os
import sys

EXPERIMENTS = ["logreg_b32", "logreg_b1", "logreg_full", "lsq_b32", "lsq_full", "softmax_b32",
               "logreg_dim_b32", "nonconvex_b32"]
KEY = ["bf16", "fp16", "bf16@sr", "e5m2", "e4m3fn", "e3m2fn", "e2m1fn", "posit8_2",
       "e4m3fn+tensor", "e4m3fn+tensor@sr", "e2m1fn+tensor", "e2m1fn+tensor@sr", "mxfp8_e4m3",
       "mxfp4", "nvfp4"]


def num(v, digits=3):
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if v == 0:
        return "0"
    return "%.*g" % (digits, v)


def ratio(v):
    """Slowdowns and floor ratios: three decimals (they are all near 1 or explained)."""
    if isinstance(v, str) or v is None or (isinstance(v, float) and math.isnan(v)):
        return num(v)
    return "%.3f" % v if abs(v) < 100 else "%.3g" % v


def constants_table(d):
    print("| experiment | problem | batch | schedule | L | c | M | M_V | Delta1 | F* | V(w*) | "
          "V/(M + M_V \\|grad F\\|^2) max | FP plateau |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for e in EXPERIMENTS:
        path = os.path.join(d, e + ".json")
        if not os.path.exists(path):
            continue
        j = json.load(open(path))
        c, a = j["constants"], j["analysis"]
        print("| %s | %s on %s | %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            e, j["problem"], j["dataset"], j["batch"], j["schedule"]["text"], num(c["L"], 5),
            num(c.get("c", "-"), 4), num(c["M"], 5), num(c["M_V"], 4), num(c["Delta1"], 5),
            num(a["F_star"], 6), num(a["V_star"], 4), num(j["variance_check"]),
            num(j["fp_plateau"], 3) + ("" if j["fp_stationary"] else " (not stationary)")))
    print()


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "docs/validation"
    constants_table(d)
    print("| experiment | quantizer | q_min | q̄_α | target | S_obs [95% CI] | bound S(q_min) | "
          "S_pred(q̄_α) | holds | Φ_obs | Φ_pred | Φ_bound |")
    print("|---|---|---:|---:|---|---|---:|---:|---|---:|---:|---:|")
    for e in EXPERIMENTS:
        path = os.path.join(d, e + ".json")
        if not os.path.exists(path):
            continue
        j = json.load(open(path))
        h = j["headline_target"]
        for r in j["results"]:
            if r["label"] not in KEY:
                continue
            t = r["targets"][h] if h < len(r["targets"]) else None
            if t is None:
                continue
            bound = t["s_bound"]
            if isinstance(bound, str) or (isinstance(bound, float) and math.isnan(bound)):
                bound_text = ratio(t["s_rate"]) + " (rate)"
            else:
                bound_text = ratio(bound)
            s = "%s [%s, %s]" % (ratio(t["s_obs"]), ratio(t["s_ci"][0]), ratio(t["s_ci"][1]))
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                e, r["label"], num(r["q_min"], 4), num(r["q_bar_alpha"], 4), t["name"], s,
                bound_text, ratio(t["s_pred"]), "yes" if t["bound_holds"] else "**NO**",
                ratio(r["phi_obs"]), ratio(r["phi_pred"]), ratio(r["phi_bound"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
