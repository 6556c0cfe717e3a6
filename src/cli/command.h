// The qfloat command's subcommand registry, exit codes and error reporting.
//
// Each subcommand lives in its own file, src/cli/cmd_<name>.cc, and registers itself with
//
//   QFLOAT_CLI_COMMAND(encode, 20, "encode float bit patterns to codes", SetupEncode);
//
// where SetupEncode(CLI::App& command) declares the options on `command` (already created with
// the name and summary) and returns the function that runs it once the command line has been
// parsed. The sources are compiled straight into the executable (not a static library), so the
// registrars' static initializers always run. See src/cli/README.md.
#ifndef QFLOAT_SRC_CLI_COMMAND_H_
#define QFLOAT_SRC_CLI_COMMAND_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace qfloat::cli {

// Exit codes. Usage errors exit 2 as argparse/click users expect (ECOSYSTEM.md §2), not CLI11's
// 100-127.
inline constexpr int kExitOk = 0;
inline constexpr int kExitData = 1;       // bad stdin or file contents, I/O, backend unavailable
inline constexpr int kExitUsage = 2;      // bad options: unknown format, mode, malformed -f file
inline constexpr int kExitThreshold = 3;  // a --fail-if threshold was crossed (later commands)

// Runs a parsed command and returns its exit code. Options bind to state the closure owns.
using RunFn = std::function<int()>;
// Declares a command's options (and nested subcommands) on `command`; returns its RunFn.
using SetupFn = RunFn (*)(CLI::App& command);

struct CommandInfo {
  const char* name;
  int order;  // position in `qfloat --help`: the CLI contract's order (see README.md)
  const char* summary;
  SetupFn setup;
};

// Called by QFLOAT_CLI_COMMAND during static initialization; returns true.
bool RegisterCommand(const CommandInfo& info);
// Every registered command, by `order` then name.
std::vector<CommandInfo> Commands();

#define QFLOAT_CLI_COMMAND(name, order, summary, setup)                \
  [[maybe_unused]] static const bool qfloat_cli_registered_##name##_ = \
      ::qfloat::cli::RegisterCommand({#name, order, summary, setup})

// ---- errors: one line on stderr starting with "qfloat: " ----

// Prints "qfloat: <message>" (newlines folded into "; ") to stderr and returns `exit_code`.
int Fail(int exit_code, std::string_view message);
// The exit code for a library Status: invalid argument / not found are usage errors (2), the
// rest data errors (1).
int ExitCodeFor(const Status& status);
// Fail(ExitCodeFor(status), context + ": " + message); no prefix when context is empty.
int FailStatus(const Status& status, std::string_view context = {});

// ---- shared option handling ----

// Resolves -f: a registered name or alias (case-insensitive) or a path to a .toml file. The
// library's messages name the input (unknown name; file, line and field of a bad file).
StatusOr<Format> ResolveFormatOption(std::string_view name_or_path);
// An unsigned integer option (decimal, or hex with 0x) in 0..max; the message names the option
// and the text. CLI11 2.1 would wrap "-1" and clamp overflow silently, so seeds are parsed here.
StatusOr<uint64_t> ParseUnsignedOption(std::string_view option, std::string_view text,
                                       uint64_t max);
// Commands that work on one element format (encode, decode) refuse block presets, naming the
// element format to use instead.
Status RequireElementFormat(const Format& format, std::string_view command);

}  // namespace qfloat::cli

#endif  // QFLOAT_SRC_CLI_COMMAND_H_
