// Runs the built `qfloat` binary for the CLI tests: arguments, stdin text in; exit code, stdout,
// stderr out. Shared by every tests/cli/*_test.cc.
#ifndef QFLOAT_TESTS_CLI_RUN_CLI_H_
#define QFLOAT_TESTS_CLI_RUN_CLI_H_

#include <string>
#include <string_view>
#include <vector>

namespace qfloat::cli_test {

struct CliResult {
  int exit_code = -1;  // 128 + signal number if the process was killed by a signal
  std::string out;
  std::string err;
};

// Runs QFLOAT_CLI_PATH with `args` (not including argv[0]) and `input` on stdin.
CliResult RunCli(const std::vector<std::string>& args, std::string_view input = {});

// A private scratch directory for this test process (removed at exit).
const std::string& ScratchDir();
// Writes `text` to ScratchDir()/name and returns the path.
std::string WriteScratchFile(const std::string& name, std::string_view text);

// The lines of `text` (without their '\n'; a final line without '\n' counts).
std::vector<std::string> Lines(const std::string& text);

// True when `err` is exactly one line starting with "qfloat: " (the CLI's error contract).
bool IsOneErrorLine(const std::string& err);

}  // namespace qfloat::cli_test

#endif  // QFLOAT_TESTS_CLI_RUN_CLI_H_
