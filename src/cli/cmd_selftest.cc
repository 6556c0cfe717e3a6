// qfloat selftest [--exhaustive | --sample N] [-f F[,F...]] [-r R[,R...]] [--overflow P[,P...]]
//                 [--backend B] [--boundaries] [--seed S] [--stream T] [--threads N]
//                 [--codes-only]
// Runs float32 inputs through a backend (default simd) and the scalar reference and compares
// the bits of every code and fake-quant value (qfloat/selftest.h). One line per (format, mode,
// policy): inputs checked and mismatches, then the first mismatches, then a total. Exit 0 when
// nothing differs, 1 otherwise (or when the backend is unavailable), 2 on bad options.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "cli/output.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"
#include "qfloat/selftest.h"

namespace qfloat::cli {
namespace {

struct SelftestArgs {
  bool exhaustive = false;
  std::optional<int> sample;  // --sample N, when given
  std::string formats;        // empty: every built-in element format
  std::string roundings = "rne";
  std::string overflows = "ovf-inf";
  std::string backend = "simd";
  std::string seed = "0";
  std::string stream = "0";
  int threads = 0;
  bool boundaries = false;
  bool codes_only = false;
};

constexpr int kDefaultSampleLog2 = 20;
constexpr const char* kAllRoundings[] = {"rne", "rna", "rtz",  "rup",  "rdn",
                                         "rto", "sr",  "sr:1", "sr:8", "sr:16"};
constexpr const char* kAllOverflows[] = {"ovf-inf", "sat-finite", "sat-propagate"};

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const size_t end = comma == std::string_view::npos ? text.size() : comma;
    if (end > start) items.emplace_back(text.substr(start, end - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

int RunSelftestCommand(const SelftestArgs& args) {
  if (args.exhaustive && args.sample) {
    return Fail(kExitUsage, "--exhaustive and --sample are exclusive");
  }
  if (args.sample && (*args.sample < 0 || *args.sample > 32)) {
    return Fail(kExitUsage,
                "--sample: " + std::to_string(*args.sample) + " is out of range (0..32)");
  }
  if (args.threads < 0) return Fail(kExitUsage, "--threads: must be >= 0");
  const int sample_log2 = args.exhaustive ? 32 : args.sample.value_or(kDefaultSampleLog2);

  std::vector<Format> formats;
  if (args.formats.empty()) {
    for (const Format& f : BuiltinFormats()) {
      if (f.element.empty()) formats.push_back(f);
    }
  } else {
    for (const std::string& name : SplitList(args.formats)) {
      StatusOr<Format> format = ResolveFormatOption(name);
      if (!format.ok()) return Fail(kExitUsage, format.status().message());
      if (Status st = RequireElementFormat(*format, "selftest"); !st.ok()) return FailStatus(st);
      formats.push_back(*format);
    }
  }
  std::vector<Rounding> roundings;
  for (const std::string& item : SplitList(args.roundings)) {
    if (item == "all") {
      for (const char* r : kAllRoundings) roundings.push_back(*ParseRounding(r));
      continue;
    }
    StatusOr<Rounding> r = ParseRounding(item);
    if (!r.ok()) return Fail(kExitUsage, "-r: " + r.status().message());
    roundings.push_back(*r);
  }
  std::vector<Overflow> overflows;
  for (const std::string& item : SplitList(args.overflows)) {
    if (item == "all") {
      for (const char* p : kAllOverflows) overflows.push_back(*ParseOverflow(p));
      continue;
    }
    StatusOr<Overflow> p = ParseOverflow(item);
    if (!p.ok()) return Fail(kExitUsage, "--overflow: " + p.status().message());
    overflows.push_back(*p);
  }
  if (roundings.empty()) return Fail(kExitUsage, "-r: no rounding mode given");
  if (overflows.empty()) return Fail(kExitUsage, "--overflow: no policy given");
  StatusOr<Backend> backend = ParseBackend(args.backend);
  if (!backend.ok()) return Fail(kExitUsage, "--backend: " + backend.status().message());
  StatusOr<uint64_t> seed = ParseUnsignedOption("--seed", args.seed, UINT64_MAX);
  if (!seed.ok()) return FailStatus(seed.status());
  StatusOr<uint64_t> stream = ParseUnsignedOption("--stream", args.stream, UINT32_MAX);
  if (!stream.ok()) return FailStatus(stream.status());

  Table table({"format", "rounding", "overflow", "backend", "inputs", "mismatches", "seconds"},
              {Table::Align::kLeft, Table::Align::kLeft, Table::Align::kLeft, Table::Align::kLeft,
               Table::Align::kRight, Table::Align::kRight, Table::Align::kRight});
  std::vector<std::string> details;
  uint64_t checked = 0, mismatches = 0;
  for (const Format& format : formats) {
    for (const Rounding& rounding : roundings) {
      for (const Overflow overflow : overflows) {
        SelftestOptions o;
        o.spec = format.spec;
        o.quantize.rounding = rounding;
        o.quantize.overflow = overflow;
        o.quantize.seed = *seed;
        o.quantize.stream = static_cast<uint32_t>(*stream);
        o.backend = *backend;
        o.threads = args.threads;
        o.sample_log2 = sample_log2;
        o.sample_seed = *seed;
        o.boundaries = args.boundaries;
        o.check_quantize = !args.codes_only;
        StatusOr<SelftestReport> report = RunSelftest(o);
        if (!report.ok()) {
          const Status& st = report.status();
          return Fail(st.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitData,
                      "--backend " + args.backend + ": " + st.message());
        }
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.1f", report->seconds);
        const std::string backend_name =
            args.backend + (report->target.empty() ? "" : " (" + report->target + ")");
        table.AddRow({format.name, ToString(rounding), ToString(overflow), backend_name,
                      std::to_string(report->checked), std::to_string(report->mismatches),
                      seconds});
        for (const SelftestMismatch& m : report->first) {
          details.push_back(format.name + " " + ToString(rounding) + " " + ToString(overflow) +
                            ": input " + HexCode(m.input, 32) + " index " +
                            std::to_string(m.index) + (m.quantize ? " value " : " code ") +
                            "expected " + HexCode(m.expected, m.quantize ? 32 : format.spec.bits) +
                            " got " + HexCode(m.actual, m.quantize ? 32 : format.spec.bits));
        }
        checked += report->checked;
        mismatches += report->mismatches;
      }
    }
  }
  std::string out = table.Render();
  if (!details.empty()) {
    out += "\nfirst mismatches:\n";
    for (const std::string& line : details) out += "  " + line + "\n";
  }
  out += "\ntotal: " + std::to_string(checked) + " inputs checked, " + std::to_string(mismatches) +
         " mismatches\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  const Status flushed = FlushStdout();
  if (!flushed.ok()) return FailStatus(flushed);
  return mismatches == 0 ? kExitOk : kExitData;
}

RunFn SetupSelftest(CLI::App& command) {
  auto args = std::make_shared<SelftestArgs>();
  command.add_flag("--exhaustive", args->exhaustive, "every float32 bit pattern (2^32 inputs)");
  command
      .add_option("--sample", args->sample,
                  "2^N float32 patterns spread over the whole range (default N = 20)")
      ->type_name("N");
  command.add_option("-f,--format", args->formats,
                     "format(s), comma-separated: names, aliases or .toml paths (default: every "
                     "built-in format)");
  command.add_option("-r,--rounding", args->roundings,
                     "mode(s), comma-separated: rne (default), rna, rtz, rup, rdn, rto, sr, sr:K, "
                     "or all");
  command.add_option("--overflow", args->overflows,
                     "policy(ies), comma-separated: ovf-inf (default), sat-finite, sat-propagate, "
                     "or all");
  command.add_option("--backend", args->backend, "simd (default), scalar, cuda, auto");
  command.add_flag("--boundaries", args->boundaries,
                   "also every code's value, midpoints and their float32 neighbours");
  command.add_option("--seed", args->seed, "stochastic rounding seed, 64-bit (default 0)")
      ->type_name("UINT");
  command.add_option("--stream", args->stream, "stochastic rounding stream, 32-bit (default 0)")
      ->type_name("UINT");
  command.add_option("--threads", args->threads, "threads (default 0 = all)");
  command.add_flag("--codes-only", args->codes_only, "compare codes only, not fake-quant values");
  command.footer(
      "Every input goes through the backend's encode and quantize and through the scalar "
      "reference; any differing bit is a mismatch. Exit 0 when there are none, 1 otherwise.");
  return [args] { return RunSelftestCommand(*args); };
}

}  // namespace

QFLOAT_CLI_COMMAND(selftest, 90, "check a backend bit for bit against the scalar reference",
                   SetupSelftest);

}  // namespace qfloat::cli
