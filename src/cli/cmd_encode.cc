// qfloat encode -f F [-r R] [--overflow P] [--seed S] [--stream T] [--backend B]
//               [--input-type f32|f64]
// stdin: float bit patterns in hex; stdout: one code per line (lower-case hex, ceil(bits/4)
// digits). Runs through the tensor API so every backend is reachable; item k of stdin is element
// k-1 of one call, so stochastic rounding is reproducible from (seed, stream, position).
#include <CLI/CLI.hpp>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/text_input.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"

namespace qfloat::cli {
namespace {

struct EncodeArgs {
  std::string format;
  std::string rounding = "rne";
  std::string overflow = "ovf-inf";
  std::string seed = "0";
  std::string stream = "0";
  std::string backend = "auto";
  std::string input_type = "f32";
};

template <typename T>
Status EncodeAll(const FormatSpec& spec, const std::vector<uint64_t>& bits,
                 const TensorOptions& options, std::vector<uint8_t>& packed) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  std::vector<T> values(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) values[i] = std::bit_cast<T>(static_cast<Bits>(bits[i]));
  packed.assign(PackedBytes(spec, values.size()), 0);
  return Encode(spec, std::span<const T>(values), std::span<uint8_t>(packed), options);
}

int RunEncode(const EncodeArgs& args) {
  // Options first (usage errors, exit 2), then stdin (data errors, exit 1).
  StatusOr<Format> format = ResolveFormatOption(args.format);
  if (!format.ok()) return Fail(kExitUsage, format.status().message());
  if (Status st = RequireElementFormat(*format, "encode"); !st.ok()) return FailStatus(st);
  StatusOr<Rounding> rounding = ParseRounding(args.rounding);
  if (!rounding.ok()) return Fail(kExitUsage, "-r: " + rounding.status().message());
  StatusOr<Overflow> overflow = ParseOverflow(args.overflow);
  if (!overflow.ok()) return Fail(kExitUsage, "--overflow: " + overflow.status().message());
  StatusOr<Backend> backend = ParseBackend(args.backend);
  if (!backend.ok()) return Fail(kExitUsage, "--backend: " + backend.status().message());
  StatusOr<uint64_t> seed = ParseUnsignedOption("--seed", args.seed, UINT64_MAX);
  if (!seed.ok()) return FailStatus(seed.status());
  StatusOr<uint64_t> stream = ParseUnsignedOption("--stream", args.stream, UINT32_MAX);
  if (!stream.ok()) return FailStatus(stream.status());
  const bool f64 = args.input_type == "f64";
  if (!f64 && args.input_type != "f32") {
    return Fail(kExitUsage,
                "--input-type: unknown input type '" + args.input_type + "' (expected f32 or f64)");
  }

  StatusOr<std::string> text = ReadAll(stdin);
  if (!text.ok()) return FailStatus(text.status());
  StatusOr<std::vector<uint64_t>> bits =
      ParseHexValues(*text, f64 ? 64 : 32, f64 ? "float64 bit patterns" : "float32 bit patterns");
  if (!bits.ok()) return FailStatus(bits.status());

  const FormatSpec& spec = format->spec;
  TensorOptions options;
  options.quantize.rounding = *rounding;
  options.quantize.overflow = *overflow;
  options.quantize.seed = *seed;
  options.quantize.stream = static_cast<uint32_t>(*stream);
  options.backend = *backend;
  std::vector<uint8_t> packed;
  const Status st = f64 ? EncodeAll<double>(spec, *bits, options, packed)
                        : EncodeAll<float>(spec, *bits, options, packed);
  if (!st.ok()) {
    // Unavailable backends are a property of this build/machine: exit 1, naming the backend.
    return Fail(st.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitData,
                "--backend " + ToString(*backend) + ": " + st.message());
  }

  std::string out;
  const size_t digits = (spec.bits + 3) / 4;
  out.reserve(bits->size() * (digits + 1));
  for (size_t i = 0; i < bits->size(); ++i) {
    out += HexCode(ReadPackedCode(spec, packed, i), spec.bits);
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  const Status flushed = FlushStdout();
  return flushed.ok() ? kExitOk : FailStatus(flushed);
}

RunFn SetupEncode(CLI::App& command) {
  auto args = std::make_shared<EncodeArgs>();
  command.add_option("-f,--format", args->format, "format name, alias, or path to a .toml file")
      ->required();
  command.add_option("-r,--rounding", args->rounding,
                     "rne (default), rna, rtz, rup, rdn, rto, sr, sr:K");
  command.add_option("--overflow", args->overflow, "ovf-inf (default), sat-finite, sat-propagate");
  command
      .add_option("--seed", args->seed,
                  "stochastic rounding seed, 64-bit (default 0; decimal or 0x hex)")
      ->type_name("UINT");
  command.add_option("--stream", args->stream, "stochastic rounding stream, 32-bit (default 0)")
      ->type_name("UINT");
  command.add_option("--backend", args->backend, "auto (default), scalar, simd, cuda");
  command.add_option("--input-type", args->input_type,
                     "f32 (default): 8-digit bit patterns; f64: 16-digit");
  command.footer(
      "stdin: float bit patterns in hex (whitespace-separated, optional 0x prefix); item k is "
      "element k-1 for stochastic rounding.\nstdout: one code per line, lower-case hex.");
  return [args] { return RunEncode(*args); };
}

}  // namespace

QFLOAT_CLI_COMMAND(encode, 20, "encode float bit patterns (stdin, hex) to codes", SetupEncode);

}  // namespace qfloat::cli
