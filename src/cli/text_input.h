// Reading the CLI's text inputs: hex bit patterns and codes, whitespace-separated, on stdin.
#ifndef QFLOAT_SRC_CLI_TEXT_INPUT_H_
#define QFLOAT_SRC_CLI_TEXT_INPUT_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/status.h"

namespace qfloat::cli {

// Everything left on `in` (stdin for the commands). IoError if the OS refuses the read.
StatusOr<std::string> ReadAll(std::FILE* in, std::string_view name = "stdin");

// Parses every whitespace-separated token of `text` as an unsigned hex number with an optional
// 0x/0X prefix. Item k (1-based) of the input is element k-1 of the call, which is what
// stochastic rounding indexes. Values wider than `max_bits` are refused; `what` names the values
// in that message ("float32 bit patterns", "e4m3fn codes"). Every DataError names the source, the
// line, the item number and the offending token.
StatusOr<std::vector<uint64_t>> ParseHexValues(std::string_view text, unsigned max_bits,
                                               std::string_view what,
                                               std::string_view source = "stdin");

}  // namespace qfloat::cli

#endif  // QFLOAT_SRC_CLI_TEXT_INPUT_H_
