#!/usr/bin/env bash
# The main job: set up, build, then analyse the bundled real gradient recording
# (data/grads_digits_mlp: 50 SGD steps of a PyTorch MLP on digits) for the standard formats,
# rne and sr, and turn the measured shrinkage into the SGD bounds it implies.
# Writes out/analysis*.json, out/prediction*.json and SVG plots under out/plots*.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DQFLOAT_CUDA=OFF \
  -DQFLOAT_ENABLE_TESTS=OFF -DQFLOAT_ENABLE_BENCH=OFF > /dev/null
cmake --build build-release -j "$(nproc)" --target qfloat
qfloat=build-release/src/cli/qfloat
mkdir -p out
grads=data/grads_digits_mlp
constants=$grads/constants.json
step=0.1  # an admissible fixed step (the recording used lr 0.3, beyond mu/(L M_G) = 0.14)

echo "== Shrinkage of real gradients (50 steps, 26k parameters), each format with its own scaling"
"$qfloat" analyze "$grads" \
  -f bf16,fp16,e5m2,e4m3fn,mxfp8_e4m3,mxfp4,nvfp4,posit8_2,posit16_1 -r rne,sr \
  --json out/analysis.json --plot out/plots --progress never
echo
echo "== The same FP8 formats with per-tensor (current) amax scaling"
"$qfloat" analyze "$grads" -f e4m3fn,e5m2 -r rne,sr --scaling tensor \
  --json out/analysis_tensor.json --plot out/plots_tensor --progress never
echo
echo "== What that does to SGD (nonconvex bound (c), fixed step $step; constants estimated at recording)"
"$qfloat" predict out/analysis.json --constants "$constants" --step "$step" \
  --json out/prediction.json --plot out/prediction.svg
"$qfloat" predict out/analysis_tensor.json --constants "$constants" --step "$step" \
  --json out/prediction_tensor.json --plot out/prediction_tensor.svg
echo
echo "Wrote out/analysis*.json, out/prediction*.json, out/plots*/ and out/prediction*.svg"
