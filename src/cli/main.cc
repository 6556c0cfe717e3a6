// qfloat: the command-line tool. Subcommands register themselves (command.h); this file builds
// the parser, maps CLI11's errors to exit code 2 and runs the selected command.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"

namespace qfloat::cli {
namespace {

// "qfloat 0.1.0 (backends: scalar, simd)": which backends this build can run, found by asking the
// dispatcher for an empty call on each.
std::string VersionString() {
  std::string backends;
  const FormatSpec& spec = BuiltinFormats().front().spec;
  for (Backend b : {Backend::kScalar, Backend::kSimd, Backend::kCuda}) {
    TensorOptions options;
    options.backend = b;
    if (Encode(spec, std::span<const float>(), std::span<uint8_t>(), options).ok()) {
      backends += backends.empty() ? "" : ", ";
      backends += ToString(b);
    }
  }
  return std::string("qfloat ") + QFLOAT_VERSION + " (backends: " + backends + ")";
}

std::string CommandList(const std::vector<CommandInfo>& commands) {
  std::string list;
  for (const CommandInfo& c : commands) {
    list += list.empty() ? "" : ", ";
    list += c.name;
  }
  return list;
}

int Main(int argc, char** argv) {
  CLI::App app(
      "qfloat: bit-exact emulation of low-precision number formats (FP8/FP6/FP4, E8M0, fp16, "
      "bf16, posits, user formats) and what quantization does to gradients.\n"
      "Exit codes: 0 ok, 1 data error, 2 usage error, 3 a --fail-if threshold was crossed.",
      "qfloat");
  app.set_version_flag("--version", VersionString);
  app.require_subcommand(0, 1);

  const std::vector<CommandInfo> commands = Commands();
  std::vector<std::pair<CLI::App*, RunFn>> runs;
  for (const CommandInfo& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runs.emplace_back(sub, c.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive as "errors" with exit code 0: print them to stdout.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    return Fail(kExitUsage, e.what());
  }
  for (auto& [sub, run] : runs) {
    if (sub->parsed()) return run();
  }
  return Fail(kExitUsage, "no command given (expected one of: " + CommandList(commands) +
                              "; see `qfloat --help`)");
}

}  // namespace
}  // namespace qfloat::cli

int main(int argc, char** argv) {
  // Never a crash or an uncaught exception on any input: the library reports errors as Status,
  // and whatever else escapes (out of memory, a bug) still ends in one line and a non-zero exit.
  try {
    return qfloat::cli::Main(argc, argv);
  } catch (const std::bad_alloc&) {
    return qfloat::cli::Fail(qfloat::cli::kExitData, "out of memory");
  } catch (const std::exception& e) {
    return qfloat::cli::Fail(qfloat::cli::kExitData, std::string("internal error: ") + e.what());
  } catch (...) {
    return qfloat::cli::Fail(qfloat::cli::kExitData, "internal error");
  }
}
