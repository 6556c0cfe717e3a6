#!/usr/bin/env bash
# GPU check of the CUDA backend (issue 4): builds with CUDA, runs the CUDA tests, the GPU bench
# and the PyTorch comparison, and writes a summary.
#
#   bench/gpu_check.sh OUTDIR       on the GPU machine: OUTDIR/summary.txt plus raw logs
#   bench/gpu_check.sh --fetch-deps on a machine with apt (the dev machine): downloads the Debian
#                                   packages the build needs into build-gpudeps/ (ignored by git)
#
# The GPU machine (device tool, nvidia-h200: 16 cores, H200, CUDA 13, PyTorch, CMake, ninja) is
# offline and fresh, so the build's Debian dependencies (Highway, toml++, Catch2, Boost, ...)
# travel as .deb files: run --fetch-deps here, then in the device call carry `build-gpudeps`.
# The script unpacks them into a private prefix (never into /) and points CMake at it; binaries
# find the libraries through their build RPATH. Where no .deb files came along it tries apt-get
# (with a short timeout) and otherwise reports what is missing.
#
# Outputs (the device tool brings back at most 8 files): OUTDIR/summary.txt, OUTDIR/gpu_check.log
# (everything printed) and OUTDIR/logs.tar.gz (configure/build/test/bench logs and
# torch_compare.json). The summary is printed last, so it is in the tool's output tail.
#
# Budget: well under 10 minutes on the H200 machine (build ~2, tests ~3, bench, PyTorch and the
# optional CLI check ~2; the CLI check runs last and is the first to go when time runs short).
# Each stage runs under a timeout taken from what is left of QFLOAT_GPU_CHECK_BUDGET seconds
# (default 540; a larger budget scales the per-stage caps, for slow machines); a stage that
# cannot start in time is reported as not run. A rerun on the same (warm) machine reuses the
# build directory. QFLOAT_GPU_CHECK_QUICK=1 shrinks the random/exhaustive input counts to a
# quarter. Without a GPU every GPU stage reports a skip and the script exits 0 saying so.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS_DIR="$ROOT/build-gpudeps"
DEBS=${QFLOAT_GPU_DEBS:-"libhwy-dev libhwy1 libtomlplusplus-dev libtomlplusplus3 nlohmann-json3-dev
  catch2 libbenchmark-dev libbenchmark1debian libcli11-dev libboost1.74-dev zlib1g-dev zlib1g
  libzip-dev libzip4 libeigen3-dev librandom123-dev"}

if [[ "${1:-}" == "--fetch-deps" ]]; then
  mkdir -p "$DEPS_DIR"
  cd "$DEPS_DIR" || exit 1
  # shellcheck disable=SC2086
  apt-get download $DEBS || { echo "apt-get download failed" >&2; exit 1; }
  du -sh "$DEPS_DIR"
  echo "carry 'build-gpudeps' in the device call"
  exit 0
fi
if [[ $# -ne 1 || "$1" == -* ]]; then
  echo "usage: $0 OUTDIR | --fetch-deps" >&2
  exit 2
fi

OUT=$(mkdir -p "$1" && cd "$1" && pwd) || { echo "cannot create $1" >&2; exit 2; }
BUILD=${QFLOAT_GPU_BUILD_DIR:-"$ROOT/build-gpucheck"}
PREFIX=${QFLOAT_GPU_DEPS_PREFIX:-/tmp/qfloat-gpudeps}
BUDGET=${QFLOAT_GPU_CHECK_BUDGET:-540}
JOBS=$(nproc 2>/dev/null || echo 4)
START=$(date +%s)
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
LOG="$OUT/gpu_check.log"
: >"$LOG"
LOGS="$OUT/logs"
mkdir -p "$LOGS"
exec > >(tee -a "$LOG") 2>&1

# Packs the raw logs into one file and prints the summary (on every exit path).
# shellcheck disable=SC2317  # invoked by the EXIT trap
finish() {
  tar -czf "$OUT/logs.tar.gz" -C "$OUT" logs && rm -rf "$LOGS"
  echo
  echo "=== summary ($OUT/summary.txt)"
  cat "$SUMMARY"
}
trap finish EXIT

note() { echo "$*" | tee -a "$SUMMARY"; }
elapsed() { echo $(($(date +%s) - START)); }
# Seconds a stage may take: what is left of the budget, capped at $1 (scaled up with a budget
# above the default 540 s).
allow() {
  local left=$((BUDGET - $(elapsed)))
  local cap=$(($1 * (BUDGET > 540 ? BUDGET : 540) / 540))
  ((left > cap)) && left=$cap
  echo "$left"
}
stage() { echo; echo "=== $* ($(elapsed) s)"; }

note "qfloat GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), budget ${BUDGET} s"
stage "environment"
{
  uname -a
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1
  command -v nvcc && nvcc --version | tail -2
  cmake --version | head -1
  ${CXX:-c++} --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
  nproc
} >"$LOGS/environment.txt" 2>&1
cat "$LOGS/environment.txt"
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
note "gpu: ${GPU_NAME:-none found by nvidia-smi}; cores: $JOBS"

# ---- dependencies ----
stage "dependencies"
CMAKE_PREFIXES=""
shopt -s nullglob
debs=("$DEPS_DIR"/*.deb)
if ((${#debs[@]} > 0)); then
  mkdir -p "$PREFIX"
  for deb in "${debs[@]}"; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$PREFIX"
    else  # ar + tar, for a machine without dpkg
      (cd "$(mktemp -d)" && ar x "$deb" && tar -xf data.tar.* -C "$PREFIX")
    fi
  done
  # Absolute symlinks inside the packages (libz.so -> /lib/...) must point into the prefix.
  while IFS= read -r link; do
    target=$(readlink "$link")
    [[ -e "$PREFIX$target" ]] && ln -sfn "$PREFIX$target" "$link"
  done < <(find "$PREFIX" -type l -lname '/*')
  CMAKE_PREFIXES="$PREFIX/usr"
  note "dependencies: ${#debs[@]} carried .deb files unpacked into $PREFIX"
else
  note "dependencies: no carried .deb files (build-gpudeps/); using the system's packages"
fi

configure() {
  local args=(-S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DQFLOAT_CUDA=ON
    -DCMAKE_CUDA_ARCHITECTURES="${QFLOAT_CUDA_ARCHS:-90}" -DQFLOAT_ENABLE_TESTS=ON
    -DQFLOAT_ENABLE_BENCH=ON -DQFLOAT_ENABLE_INSTALL=OFF -DQFLOAT_ENABLE_FUZZ=OFF
    -DCMAKE_POLICY_VERSION_MINIMUM=3.5)
  command -v ninja >/dev/null && args+=(-G Ninja)
  [[ -n "$CMAKE_PREFIXES" ]] && args+=(-DCMAKE_PREFIX_PATH="$CMAKE_PREFIXES")
  command -v nvcc >/dev/null || args+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
  timeout "$(allow 120)" cmake "${args[@]}" >"$LOGS/configure.log" 2>&1
}

stage "configure"
if ! configure; then
  rm -rf "$BUILD"  # a stale or foreign build directory: start afresh once
  configure
fi
if ! grep -q "Build files have been written" "$LOGS/configure.log"; then
  if ((${#debs[@]} == 0)) && command -v apt-get >/dev/null; then
    note "configure failed; trying apt-get install (needs a network)"
    # shellcheck disable=SC2086
    timeout 60 apt-get update >"$LOGS/apt.log" 2>&1 &&
      timeout 180 apt-get install -y --no-install-recommends $DEBS >>"$LOGS/apt.log" 2>&1
    rm -rf "$BUILD"
    configure
  else
    false
  fi
fi
if ! grep -q "Build files have been written" "$LOGS/configure.log"; then
  note "BUILD: configure FAILED (see configure.log):"
  grep -E "Could not find|CMake Error|not found|NOTFOUND" "$LOGS/configure.log" | head -15 |
    tee -a "$SUMMARY"
  note "result: FAILED at configure after $(elapsed) s"
  exit 1
fi
grep -E "qfloat: CUDA backend" "$LOGS/configure.log" | tee -a "$SUMMARY"

stage "build"
TARGETS=(cuda_backend_test cuda_fast_path_test cuda_emulation_test qfloat_gpu_bench
  qfloat_torch_shim)
timeout "$(allow 300)" cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}" \
  >"$LOGS/build.log" 2>&1
rc=$?
if ((rc == 124)); then
  note "BUILD: TIMED OUT after $(elapsed) s (see logs/build.log)"
  note "result: FAILED at build after $(elapsed) s"
  exit 1
elif ((rc != 0)); then
  note "BUILD: FAILED (see logs/build.log):"
  grep -E "error|Error" "$LOGS/build.log" | head -20 | tee -a "$SUMMARY"
  note "result: FAILED at build after $(elapsed) s"
  exit 1
fi
note "build: ok ($(elapsed) s; CUDA architectures ${QFLOAT_CUDA_ARCHS:-90})"
note "build warnings: $(grep -c "warning" "$LOGS/build.log")"

# ---- tests ----
# ctest lines "N/M Test #k: name .... Passed|***Failed|***Skipped|***Timeout" -> summary counts.
tally_ctest() {
  local log=$1
  local passed failed skipped
  passed=$(grep -cE "Test +#[0-9]+: .* Passed" "$log")
  failed=$(grep -cE "Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception)|Not Run" "$log")
  skipped=$(grep -cE "Test +#[0-9]+: .*\*\*\*Skipped" "$log")
  echo "passed $passed, failed $failed, skipped $skipped"
  grep -E "Test +#[0-9]+: " "$log" | sed 's/^/  /'
}

stage "CPU tests of the CUDA code (fast path, emulated kernels)"
timeout "$(allow 150)" ctest --test-dir "$BUILD" -L "fast_path|emulation" -j "$JOBS" \
  --output-on-failure >"$LOGS/ctest_cpu.log" 2>&1
note "tests (CPU: fast_path, emulation): $(tally_ctest "$LOGS/ctest_cpu.log")"

SCALE_ARGS=()
[[ "${QFLOAT_GPU_CHECK_QUICK:-0}" == 1 ]] && SCALE_ARGS=(--scale 0.25)
stage "GPU tests (label cuda)"
: >"$LOGS/ctest_cuda.log"
for suite in api random exhaustive; do
  t=$(allow 300)
  if ((t < 30)); then
    note "test cuda_$suite: NOT RUN (budget spent)"
    continue
  fi
  if ((${#SCALE_ARGS[@]} > 0)); then  # run the binary with --scale (ctest has the full sizes)
    timeout "$t" "$BUILD/tests/cuda/cuda_backend_test" --suite "$suite" "${SCALE_ARGS[@]}" \
      >"$LOGS/cuda_$suite.log" 2>&1
    rc=$?
    case $rc in
      0) status=Passed ;;
      77) status="***Skipped" ;;
      *) status="***Failed" ;;
    esac
    echo "1/1 Test #0: cuda_$suite ...... $status (quick)" >>"$LOGS/ctest_cuda.log"
  else
    timeout "$t" ctest --test-dir "$BUILD" -R "^cuda_${suite}\$" -V --timeout "$t" \
      >"$LOGS/cuda_$suite.log" 2>&1
    grep -E "Test +#[0-9]+: " "$LOGS/cuda_$suite.log" >>"$LOGS/ctest_cuda.log" ||
      echo "1/1 Test #0: cuda_$suite ...... ***Timeout (stage)" >>"$LOGS/ctest_cuda.log"
  fi
  grep -hE "^([0-9]+: )?(RESULT|SKIPPED|FAILED|exhaustive:|random: .*[1-9][0-9]* mismatches$)" \
    "$LOGS/cuda_$suite.log" | sed 's/^[0-9]*: //' | head -40 | sed "s/^/  [$suite] /" |
    tee -a "$LOGS/mismatches.txt"
done
note "tests (GPU, label cuda): $(tally_ctest "$LOGS/ctest_cuda.log")"
{
  echo "GPU test results (checked inputs / mismatches per suite):"
  grep -hE "RESULT suite=" "$LOGS"/cuda_*.log | sed 's/^[0-9]*: //; s/^/  /'
  grep -hE "exhaustive: " "$LOGS"/cuda_exhaustive.log 2>/dev/null | sed 's/^[0-9]*: //; s/^/  /'
} | tee -a "$SUMMARY"

# ---- bench ----
stage "GPU bench"
t=$(allow 120)
if ((t >= 20)); then
  timeout "$t" "$BUILD/bench/gpu/qfloat_gpu_bench" --mib 1024 --reps 20 >"$LOGS/bench.log" 2>&1
  rc=$?
  if [[ $rc == 77 ]]; then
    note "bench: SKIPPED ($(grep -m1 SKIPPED "$LOGS/bench.log"))"
  else
    note "bench (1 GiB float32, median of 20; ratio = bandwidth / D2D copy bandwidth; rc $rc):"
    grep -vE "^BENCH" "$LOGS/bench.log" | sed 's/^/  /' | tee -a "$SUMMARY" >/dev/null
  fi
else
  note "bench: NOT RUN (budget spent)"
fi

# ---- PyTorch comparison ----
stage "PyTorch comparison"
t=$(allow 180)
if ((t >= 30)); then
  PYTHONUNBUFFERED=1 timeout "$t" python3 "$ROOT/bench/gpu/torch_compare.py" \
    --shim "$BUILD/bench/gpu/libqfloat_torch_shim.so" --out "$LOGS" --inputs all \
    >"$LOGS/torch_compare.log" 2>&1
  rc=$?
  if [[ $rc == 77 ]]; then
    note "torch comparison: SKIPPED ($(grep -m1 SKIPPED "$LOGS/torch_compare.log"))"
  elif [[ $rc != 0 ]]; then
    note "torch comparison: FAILED (rc $rc; see torch_compare.log):"
    tail -5 "$LOGS/torch_compare.log" | tee -a "$SUMMARY"
  else
    note "torch comparison (every float32, rne; qfloat under ovf-inf and sat-finite):"
    sed 's/^/  /' "$LOGS/torch_compare.log" | tee -a "$SUMMARY" >/dev/null
  fi
else
  note "torch comparison: NOT RUN (budget spent)"
fi

# ---- the CLI end to end (optional: the qfloat command belongs to another layer) ----
stage "CLI: qfloat encode --backend cuda vs --backend scalar"
t=$(allow 120)
if ((t < 30)); then
  note "cli: skipped (budget spent; the check is optional)"
elif ! timeout "$t" cmake --build "$BUILD" -j "$JOBS" --target qfloat >"$LOGS/build_cli.log" 2>&1; then
  note "cli: skipped (the qfloat target did not build; logs/build_cli.log)"
else
  python3 - >"$LOGS/cli_input.txt" <<'PY'
import random
r = random.Random(7)
special = [0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x00000001, 0x43E00000,
           0x43E80000, 0xC3F00000, 0x477FE000, 0x7F7FFFFF]
print("\n".join("%08x" % b for b in special + [r.getrandbits(32) for _ in range(200000)]))
PY
  cli_ok=0 cli_bad=0 cli_skip=0
  for f in e4m3fn e5m2 e3m2fn e2m1fn posit8_2 bf16; do
    for r in rne sr; do
      "$BUILD/src/cli/qfloat" encode -f "$f" -r "$r" --seed 7 --backend cuda \
        <"$LOGS/cli_input.txt" >"$LOGS/cli_cuda.txt" 2>"$LOGS/cli_cuda.err"
      rc=$?
      "$BUILD/src/cli/qfloat" encode -f "$f" -r "$r" --seed 7 --backend scalar \
        <"$LOGS/cli_input.txt" >"$LOGS/cli_scalar.txt" 2>>"$LOGS/cli_scalar.err"
      if ((rc != 0)) && grep -q "no CUDA device" "$LOGS/cli_cuda.err"; then
        cli_skip=$((cli_skip + 1))
      elif ((rc == 0)) && cmp -s "$LOGS/cli_cuda.txt" "$LOGS/cli_scalar.txt"; then
        cli_ok=$((cli_ok + 1))
      else
        cli_bad=$((cli_bad + 1))
        echo "cli mismatch: $f $r (rc $rc)" >>"$LOGS/cli_mismatch.txt"
      fi
    done
  done
  if ((cli_bad > 0)); then
    note "cli: FAILED: $cli_bad of 12 (format, rounding) runs differ from --backend scalar"
  elif ((cli_skip > 0)); then
    note "cli: skipped (no CUDA device)"
  else
    note "cli: qfloat encode --backend cuda == --backend scalar on 200012 inputs x 12 runs"
  fi
fi

# ---- verdict ----
failed=$(grep -cE "\*\*\*(Failed|Timeout|Exception)|FAILED" "$LOGS/ctest_cpu.log" \
  "$LOGS/ctest_cuda.log" 2>/dev/null | awk -F: '{s += $NF} END {print s + 0}')
failed=$((failed + $(grep -cE "NOT RUN|FAILED" "$SUMMARY")))
skipped=$(grep -cE "\*\*\*Skipped" "$LOGS/ctest_cuda.log")
if ((failed > 0)); then
  note "result: FAILED ($failed failing, unrun or failed stages) after $(elapsed) s"
  exit 1
elif ((skipped > 0)); then
  note "result: GPU tests SKIPPED (no usable CUDA device) after $(elapsed) s"
else
  note "result: PASSED after $(elapsed) s"
fi
exit 0
