#!/usr/bin/env bash
# The main job: set up, build, then analyse the bundled real gradient recording
# (data/grads_digits_mlp: 50 SGD steps of a PyTorch MLP on digits) for the standard formats,
# rne and sr, and turn the measured shrinkage into the SGD bounds it implies.
# Writes out/analysis*.json, out/prediction*.json and SVG plots under out/plots*.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build-quickstart -G Ninja -DCMAKE_BUILD_TYPE=Release -DQFLOAT_CUDA=OFF \
  -DQFLOAT_ENABLE_TESTS=OFF -DQFLOAT_ENABLE_BENCH=OFF > /dev/null
cmake --build build-quickstart -j "$(nproc)" --target qfloat
qfloat=build-quickstart/src/cli/qfloat
mkdir -p out
grads=data/grads_digits_mlp
constants=$grads/constants.json
step=0.1  # an admissible fixed step (the recording used lr 0.3, beyond mu/(L M_G) = 0.14)

# Measure (analyze), then predict; the tables go to out/*.txt and the one a user reads first (what
# each format does to the gradients, and what that does to SGD) is printed.
"$qfloat" analyze "$grads" \
  -f bf16,fp16,e5m2,e4m3fn,mxfp8_e4m3,mxfp4,nvfp4,posit8_2,posit16_1 -r rne,sr \
  --json out/analysis.json --plot out/plots --progress never > out/analysis.txt
"$qfloat" analyze "$grads" -f e4m3fn,e5m2 -r rne,sr --scaling tensor \
  --json out/analysis_tensor.json --plot out/plots_tensor --progress never > out/analysis_tensor.txt
echo "== Real gradients (50 SGD steps of a 26k-parameter MLP): shrinkage q = <Q(g),g>/|g|^2, noise"
echo "== rho = |eps|^2/|g|^2, and the SGD bound they imply (nonconvex, fixed step $step)"
"$qfloat" predict out/analysis.json --constants "$constants" --step "$step" \
  --json out/prediction.json --plot out/prediction.svg | tee out/prediction.txt
echo
echo "== FP8 with per-tensor (current) amax scaling"
"$qfloat" predict out/analysis_tensor.json --constants "$constants" --step "$step" \
  --json out/prediction_tensor.json --plot out/prediction_tensor.svg | tee out/prediction_tensor.txt
echo
echo "Per-step and per-tensor figures: out/analysis*.txt and out/analysis*.json (the JSON contract);"
echo "plots: out/plots*/ (q over steps, q histogram, flushed/saturated fractions, ratio histogram)"
echo "and out/prediction*.svg (predicted bound curves)."
