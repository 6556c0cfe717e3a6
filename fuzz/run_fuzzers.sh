#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.cc) with clang++, AddressSanitizer and UBSan, and runs
# each for a bounded time on a copy of its committed seeds (fuzz/corpus/<target>/).
#
#   fuzz/run_fuzzers.sh [--seconds N] [--build-dir DIR] [--work-dir DIR] [TARGET...]
#
# TARGET: npy, npz, safetensors (default: all). Exit 0 when every fuzzer ran clean, 1 on a
# crash (the reproducer is left in the work dir as <target>-crash-*), 77 when clang++ or its
# libFuzzer runtime is missing (Debian: apt-get install clang libclang-rt-14-dev), which ctest
# reports as skipped.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
seconds=60
build="$root/build-fuzz"
work=""
targets=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --work-dir) work=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -eq 0 ]] && targets=(npy npz safetensors)
[[ -z "$work" ]] && work="$build/work"

cxx=${FUZZ_CXX:-clang++}
cc=${FUZZ_CC:-clang}
if ! command -v "$cxx" >/dev/null 2>&1 || ! command -v "$cc" >/dev/null 2>&1; then
  echo "run_fuzzers: SKIP: $cxx/$cc not found (apt-get install clang libclang-rt-14-dev)"
  exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  > "$probe/p.cc"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/p.cc" -o "$probe/p" >/dev/null 2>&1; then
  echo "run_fuzzers: SKIP: $cxx cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)"
  exit 77
fi

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
# fuzz/CMakeLists.txt instruments the libraries the readers run. HWY_COMPILE_ONLY_STATIC: the
# SIMD layer for the baseline target only (the per-target copies would dominate the build time).
flags="-DHWY_COMPILE_ONLY_STATIC=1"
cmake -S "$root" -B "$build" "${generator[@]}" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags" -DQFLOAT_ENABLE_FUZZ=ON -DQFLOAT_ENABLE_TESTS=OFF \
  -DQFLOAT_ENABLE_BENCH=OFF -DQFLOAT_ENABLE_CLI=OFF -DQFLOAT_ENABLE_INSTALL=OFF \
  -DQFLOAT_CUDA=OFF >"$probe/configure.log" 2>&1 || {
  cat "$probe/configure.log"; echo "run_fuzzers: configure failed"; exit 1; }
cmake --build "$build" --parallel "${FUZZ_JOBS:-2}" \
  --target "${targets[@]/#/fuzz_}"

mkdir -p "$work"
failed=0
for t in "${targets[@]}"; do
  corpus="$work/corpus_$t"
  mkdir -p "$corpus"
  log="$work/$t.log"
  echo "run_fuzzers: fuzz_$t for ${seconds}s (log: $log)"
  set +e
  # New inputs go to the work corpus; the committed seeds are read only. -rss_limit_mb guards the
  # host, -timeout flags hangs (> 10 s on one input).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -dict="$here/$t.dict" -artifact_prefix="$work/$t-" \
    "$corpus" "$here/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
  if [[ $rc -ne 0 ]]; then
    failed=1
    echo "run_fuzzers: fuzz_$t FAILED (exit $rc); last lines of $log:"
    tail -n 40 "$log"
  else
    echo "run_fuzzers: fuzz_$t clean: ${runs:-?} runs, ${cov:-cov: ?} edges, $(ls "$corpus" | wc -l) new corpus files"
  fi
done
exit $failed
