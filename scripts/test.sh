#!/usr/bin/env bash
# Sets up, builds and runs qfloat's tests.
#   scripts/test.sh              Release build (CUDA compiled when nvcc is found), all tests
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build, fast tests
# Long exhaustive sweeps carry the ctest label `exhaustive`; CUDA tests the label `cuda` (they
# report SKIPPED without a GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-release}"
bash scripts/setup.sh --python
jobs="$(nproc)"

if [ "$mode" = "--sanitize" ]; then
  # The layers that parse untrusted input and the reference itself, under ASan + UBSan.
  build=build-asan
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DQFLOAT_SANITIZE=ON \
    -DQFLOAT_CUDA=OFF -DQFLOAT_ENABLE_TESTS=ON -DQFLOAT_ENABLE_BENCH=OFF
  cmake --build "$build" -j "$jobs" --target reference_test reference_oracle_test io_test \
    qfloat_plot_test qfloat_plot_samples qfloat
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export QFLOAT_ORACLE_SAMPLES=20000
  (cd "$build" && ctest --output-on-failure --no-tests=error -j "$jobs" -L "reference|oracle|plot|io" \
    -LE "exhaustive|fuzz|install|python")
else
  build=build-release
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQFLOAT_CUDA=AUTO -DQFLOAT_WERROR=ON \
    -DQFLOAT_ENABLE_TESTS=ON -DQFLOAT_ENABLE_BENCH=ON
  cmake --build "$build" -j "$jobs"
  (cd "$build" && ctest --output-on-failure --no-tests=error -j "$jobs")
fi
