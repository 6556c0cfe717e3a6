// qfloat decode -f F [--print hex64|decimal]
// stdin: codes in hex; stdout: each code's exact value (DecodeScalar: every code of every format
// is exact in float64) as a float64 bit pattern or the shortest round-trip decimal.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/text_input.h"
#include "qfloat/format.h"
#include "qfloat/scalar.h"

namespace qfloat::cli {
namespace {

struct DecodeArgs {
  std::string format;
  std::string print = "hex64";
};

int RunDecode(const DecodeArgs& args) {
  StatusOr<Format> format = ResolveFormatOption(args.format);
  if (!format.ok()) return Fail(kExitUsage, format.status().message());
  if (Status st = RequireElementFormat(*format, "decode"); !st.ok()) return FailStatus(st);
  const bool decimal = args.print == "decimal";
  if (!decimal && args.print != "hex64") {
    return Fail(kExitUsage,
                "--print: unknown output '" + args.print + "' (expected hex64 or decimal)");
  }

  StatusOr<std::string> text = ReadAll(stdin);
  if (!text.ok()) return FailStatus(text.status());
  const FormatSpec& spec = format->spec;
  StatusOr<std::vector<uint64_t>> codes = ParseHexValues(*text, spec.bits, format->name + " codes");
  if (!codes.ok()) return FailStatus(codes.status());

  std::string out;
  out.reserve(codes->size() * 17);
  for (uint64_t code : *codes) {
    const double v = DecodeScalar(spec, static_cast<uint32_t>(code));
    out += decimal ? ShortestDecimal(v) : Hex64(v);
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  const Status flushed = FlushStdout();
  return flushed.ok() ? kExitOk : FailStatus(flushed);
}

RunFn SetupDecode(CLI::App& command) {
  auto args = std::make_shared<DecodeArgs>();
  command.add_option("-f,--format", args->format, "format name, alias, or path to a .toml file")
      ->required();
  command.add_option("--print", args->print,
                     "hex64 (default): float64 bit pattern; decimal: shortest round-trip decimal");
  command.footer(
      "stdin: codes in hex (whitespace-separated, optional 0x prefix).\nstdout: one exact value "
      "per line.");
  return [args] { return RunDecode(*args); };
}

}  // namespace

QFLOAT_CLI_COMMAND(decode, 30, "decode codes (stdin, hex) to exact float64 values", SetupDecode);

}  // namespace qfloat::cli
