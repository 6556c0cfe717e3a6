#include "cli/command.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace qfloat::cli {
namespace {

// Function-local so that registrars in other files may run first (static initialization order
// across translation units is unspecified).
std::vector<CommandInfo>& Registry() {
  static std::vector<CommandInfo> commands;
  return commands;
}

}  // namespace

bool RegisterCommand(const CommandInfo& info) {
  Registry().push_back(info);
  return true;
}

std::vector<CommandInfo> Commands() {
  std::vector<CommandInfo> commands = Registry();
  std::sort(commands.begin(), commands.end(), [](const CommandInfo& a, const CommandInfo& b) {
    return a.order != b.order ? a.order < b.order : std::strcmp(a.name, b.name) < 0;
  });
  return commands;
}

int Fail(int exit_code, std::string_view message) {
  std::string line = "qfloat: ";
  for (size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (c == '\r') continue;
    if (c == '\n') {
      // One line per error, so scripts can grep it; keep the parts apart.
      if (i + 1 < message.size()) line += "; ";
      continue;
    }
    line += c;
  }
  line += '\n';
  std::fflush(stdout);
  std::fputs(line.c_str(), stderr);
  return exit_code;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return kExitUsage;
    case StatusCode::kDataError:
    case StatusCode::kIoError:
    case StatusCode::kUnavailable:
      return kExitData;
  }
  return kExitData;
}

int FailStatus(const Status& status, std::string_view context) {
  if (context.empty()) return Fail(ExitCodeFor(status), status.message());
  std::string message(context);
  message += ": ";
  message += status.message();
  return Fail(ExitCodeFor(status), message);
}

StatusOr<uint64_t> ParseUnsignedOption(std::string_view option, std::string_view text,
                                       uint64_t max) {
  std::string_view digits = text;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    digits.remove_prefix(2);
    base = 16;
  }
  uint64_t value = 0;
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value, base);
  if (digits.empty() || ec != std::errc() || ptr != end || value > max) {
    return InvalidArgument(std::string(option) + ": '" + std::string(text) +
                           "' is not an integer in 0.." + std::to_string(max));
  }
  return value;
}

StatusOr<Format> ResolveFormatOption(std::string_view name_or_path) {
  if (name_or_path.empty()) {
    return InvalidArgument("-f: empty format name (see `qfloat formats`)");
  }
  return ResolveFormat(name_or_path);
}

Status RequireElementFormat(const Format& format, std::string_view command) {
  if (format.element.empty()) return Status::Ok();
  return InvalidArgument("format '" + format.name + "' is a block format (element '" +
                         format.element + "', scaling '" + format.scaling + "'); `qfloat " +
                         std::string(command) + "` works on element codes: use -f " +
                         format.element);
}

}  // namespace qfloat::cli
