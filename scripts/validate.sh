#!/usr/bin/env bash
# Regenerates the validation experiment of docs/validation.md (THEORY.md §5): SGD with quantized
# gradients on the four test problems, observed slowdown and floor against the bounds.
#
#   scripts/validate.sh [BUILD_DIR]      (default: build-release; the qfloat binary must exist)
#
# Writes docs/validation/<experiment>.{txt,md} (tables), <experiment>/{curves,q,bounds,slowdown}.svg
# and summary.md (the headline tables of docs/validation.md), and BUILD_DIR/validation/
# <experiment>.json (everything: curves, bootstrap bands, per-step q, rho, |eps|^2; not committed).
# About 2.5 CPU-minutes (148 s user measured; 10 min wall on a heavily shared 2-core machine); QFLOAT_VALIDATE_QUICK=1 makes a smoke run (fewer
# seeds and steps: the numbers then differ).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-release}"
qfloat="$build/src/cli/qfloat"
if [ ! -x "$qfloat" ]; then
  echo "validate: $qfloat not found (build first: cmake -S . -B $build -G Ninja && cmake --build $build)" >&2
  exit 1
fi
out=docs/validation
json="$build/validation"
mkdir -p "$out" "$json"

# The standard quantizers (THEORY.md §5 "Quantizers"): unscaled formats, per-tensor (amax and
# power-of-two) scaling, MX and NVFP4 block formats; RNE, and SR for the null controls.
formats="fp32,bf16,fp16,e5m2,e4m3fn,e3m2fn,e2m1fn,posit8_2,bf16@sr"
formats+=",e4m3fn+tensor,e4m3fn+tensor:pow2,e4m3fn+tensor@sr,e5m2+tensor,e3m2fn+tensor"
formats+=",e2m1fn+tensor,e2m1fn+tensor@sr,mxfp8_e4m3,mxfp6_e3m2,mxfp4,nvfp4"

scale=1
if [ "${QFLOAT_VALIDATE_QUICK:-0}" = 1 ]; then scale=8; fi

run() {  # NAME STEPS SEEDS ARGS...
  local name=$1 steps=$(( $2 / scale )) seeds=$(( ($3 + scale - 1) / scale ))
  shift 3
  echo "validate: $name (K = $steps, R = $seeds)" >&2
  local start=$(date +%s)
  "$qfloat" simulate "$@" -f "$formats" --steps "$steps" --seeds "$seeds" --progress never \
    --json "$json/$name.json" --markdown "$out/$name.md" --plot "$out/$name" > "$out/$name.txt"
  echo "validate: $name done in $(( $(date +%s) - start )) s" >&2
}

start=$(date +%s)
# Strongly convex, fixed step alpha = theta mu/(L M_G), THEORY.md §3(a).
run logreg_b32      4000 16 --problem logreg --lambda 1e-2 --batch 32 --schedule fixed:0.25
run logreg_b1       8000 16 --problem logreg --lambda 1e-2 --batch 1 --schedule fixed:0.25
run logreg_full     4000  4 --problem logreg --lambda 1e-2 --batch full --schedule fixed:1
run lsq_b32        20000  8 --problem lsq --lambda 1e-2 --batch 32 --schedule fixed:1
run lsq_full        5000  2 --problem lsq --lambda 1e-2 --batch full --schedule fixed:1
run softmax_b32     2000  6 --problem softmax --lambda 1e-2 --batch 32 --schedule fixed:0.25 --record 80
# Strongly convex, alpha_k = beta/(gamma + k), §3(b).
run logreg_dim_b32  4000 16 --problem logreg --lambda 1e-2 --batch 32 --schedule diminishing
# Nonconvex, fixed step, §3(c).
run nonconvex_b32   4000  8 --problem nonconvex --lambda 1e-2 --batch 32 --schedule fixed:0.25
# The constants file of the diabetes problem for `qfloat predict --constants`.
"$qfloat" simulate --problem lsq --lambda 1e-2 --batch 32 -f bf16 --steps 10 --seeds 1 \
  --progress never --constants-out "$out/lsq_b32_constants.json" > /dev/null
echo "validate: all done in $(( $(date +%s) - start )) s" >&2
python3 scripts/validation_summary.py "$json" > "$out/summary.md"
