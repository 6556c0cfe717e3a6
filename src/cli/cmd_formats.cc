// qfloat formats [--json]          every known format, one line each
// qfloat formats show F [--json]   one format: descriptor, range, every code (n <= 16)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/output.h"
#include "qfloat/format.h"
#include "qfloat/scalar.h"
#include "qfloat/scaling.h"

namespace qfloat::cli {
namespace {

// Code listings stop at 16 bits (65536 lines); wider formats show their range only.
constexpr unsigned kMaxListedBits = 16;

std::string KindName(const Format& f) {
  if (!f.element.empty()) return "block";
  return f.spec.kind == FormatKind::kPosit ? "posit" : "minifloat";
}

std::string Descriptor(const Format& f) {
  if (!f.element.empty()) return f.element + " elements, " + f.scaling;
  return DescribeSpec(f.spec);
}

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += separator;
    out += s;
  }
  return out;
}

bool HasSubnormals(const FormatSpec& s) {
  return s.kind == FormatKind::kMinifloat && s.has_zero && s.subnormals && s.mantissa_bits > 0;
}

// A minifloat without exponent bits is all subnormal (int8_mx: k * 2^-6); a posit's smallest
// "normal" is minpos.
bool HasNormals(const FormatSpec& s) {
  return s.kind == FormatKind::kPosit || s.exponent_bits > 0 || !s.has_zero;
}

std::string YesNo(bool b) { return b ? "yes" : "no"; }

// The descriptor's fields, as a format file would spell them.
Json SpecJson(const Format& f) {
  const FormatSpec& s = f.spec;
  Json j;
  j["kind"] = s.kind == FormatKind::kPosit ? "posit" : "minifloat";
  j["bits"] = s.bits;
  if (s.kind == FormatKind::kPosit) {
    j["es"] = s.exponent_bits;
    return j;
  }
  j["signed"] = s.is_signed;
  j["exponent_bits"] = s.exponent_bits;
  j["mantissa_bits"] = s.mantissa_bits;
  j["bias"] = s.bias;
  j["subnormals"] = s.subnormals;
  j["zero"] = s.has_zero;
  j["negative_zero"] = s.is_signed && s.negative_zero;
  j["inf"] = s.has_inf;
  j["high_nans"] = s.high_nans;
  if (!f.specials.empty()) j["specials"] = f.specials;
  return j;
}

Json SummaryJson(const Format& f) {
  const FormatSpec& s = f.spec;
  Json j;
  j["name"] = f.name;
  j["kind"] = KindName(f);
  j["bits"] = s.bits;
  j["descriptor"] = Descriptor(f);
  j["max"] = MaxFinite(s);
  j["min_normal"] = HasNormals(s) ? Json(MinPositiveNormal(s)) : Json(nullptr);
  j["min_subnormal"] = HasSubnormals(s) ? Json(MinPositive(s)) : Json(nullptr);
  j["aliases"] = f.aliases;
  j["description"] = f.description;
  if (!f.element.empty()) {
    j["element"] = f.element;
    j["scaling"] = f.scaling;
  }
  j["spec"] = SpecJson(f);
  return j;
}

int ListFormats(bool json) {
  const std::vector<Format>& formats = BuiltinFormats();
  if (json) {
    Json list = Json::array();
    for (const Format& f : formats) list.push_back(SummaryJson(f));
    WriteJson(Json{{"formats", std::move(list)}});
  } else {
    using A = Table::Align;
    Table table(
        {"name", "kind", "bits", "descriptor", "max", "min normal", "min subnormal", "aliases"},
        {A::kLeft, A::kLeft, A::kRight, A::kLeft, A::kRight, A::kRight, A::kRight});
    for (const Format& f : formats) {
      const FormatSpec& s = f.spec;
      table.AddRow({f.name, KindName(f), std::to_string(s.bits), Descriptor(f),
                    ShortestDecimal(MaxFinite(s)),
                    HasNormals(s) ? ShortestDecimal(MinPositiveNormal(s)) : "-",
                    HasSubnormals(s) ? ShortestDecimal(MinPositive(s)) : "-",
                    Join(f.aliases, ", ")});
    }
    std::fputs(table.Render().c_str(), stdout);
  }
  const Status st = FlushStdout();
  return st.ok() ? kExitOk : FailStatus(st);
}

std::string NanFallbackName(NanFallback n) {
  switch (n) {
    case NanFallback::kFlipSignZero:
      return "ml_dtypes (+NaN -> code 100...0, -NaN -> +0)";
    case NanFallback::kZero:
      return "zero (NaN -> +0)";
    case NanFallback::kMax:
      return "max (NaN -> +max)";
  }
  return "?";
}

// A block preset's recipe, as (field, value) rows for `formats show` (text and JSON).
std::vector<std::pair<std::string, std::string>> BlockRows(const Format& f) {
  std::vector<std::pair<std::string, std::string>> rows;
  StatusOr<Scaling> parsed = ParseScaling(f.scaling);
  if (!parsed.ok()) {
    rows.push_back({"recipe", f.scaling + " (invalid: " + parsed.status().message() + ")"});
    return rows;
  }
  const Scaling& s = *parsed;
  rows.push_back({"recipe", ToString(s)});
  rows.push_back({"about", Describe(s)});
  if (s.kind != ScalingKind::kBlock && s.kind != ScalingKind::kNvfp4) return rows;
  const int block = s.block_size * std::max(1, s.block_rows);
  rows.push_back(
      {"block", s.block_rows > 0
                    ? std::to_string(s.block_rows) + "x" + std::to_string(s.block_size) + " tiles"
                    : std::to_string(block) + " elements along axis " +
                          std::to_string(s.kind == ScalingKind::kNvfp4 ? -1 : s.axis)});
  rows.push_back({"scale format", s.scale_format + " (" + DescribeSpec(s.scale_spec) + ")"});
  if (s.kind == ScalingKind::kBlock) {
    const char* rules[] = {"floor: 2^(floor(log2 amax) - emax_elem), OCP MX v1.0 6.3",
                           "ceil: 2^(ceil(log2 amax) - emax_elem)",
                           "even: 2^(floor(log2 round(amax)) - emax_elem), torchao EVEN",
                           "rceil: 2^ceil(log2(amax / elem_max)), cuBLAS/TE/torchao RCEIL"};
    rows.push_back({"scale rule", rules[static_cast<int>(s.rule)]});
    rows.push_back({"emax_elem", std::to_string(std::ilogb(MaxFinite(f.spec)))});
  } else {
    rows.push_back({"tensor scale", "fp32, per tensor"});
  }
  rows.push_back({"element codes", s.twos_complement ? "two's complement" : "as the element"});
  const double bits = f.spec.bits + static_cast<double>(s.scale_spec.bits) / block;
  rows.push_back({"bits per element", ShortestDecimal(bits)});
  auto power = [](double v) {  // "2^-127" for powers of two
    int e = 0;
    return std::frexp(v, &e) == 0.5 ? "2^" + std::to_string(e - 1) : ShortestDecimal(v);
  };
  rows.push_back({"largest value",
                  ShortestDecimal(MaxFinite(f.spec)) + " x " + power(MaxFinite(s.scale_spec))});
  rows.push_back({"smallest value",
                  ShortestDecimal(MinPositive(f.spec)) + " x " + power(MinPositive(s.scale_spec))});
  return rows;
}

int ShowFormat(const std::string& name, bool json) {
  StatusOr<Format> resolved = ResolveFormatOption(name);
  if (!resolved.ok()) return Fail(kExitUsage, resolved.status().message());
  const Format& f = *resolved;
  const FormatSpec& s = f.spec;
  const bool posit = s.kind == FormatKind::kPosit;
  const bool listed = s.bits <= kMaxListedBits;
  const uint64_t count = uint64_t{1} << s.bits;
  const std::string nan_code = s.has_nan ? HexCode(s.nan_code, s.bits) : "-";

  if (json) {
    Json j;
    j["name"] = f.name;
    j["aliases"] = f.aliases;
    j["description"] = f.description;
    j["source"] = f.source;
    j["kind"] = KindName(f);
    j["descriptor"] = Descriptor(f);
    if (!f.element.empty()) {
      j["element"] = f.element;
      j["scaling"] = f.scaling;
      Json block;
      for (const auto& [field, value] : BlockRows(f)) block[field] = value;
      j["block"] = std::move(block);
    }
    j["spec"] = SpecJson(f);
    Json range;
    range["max"] = MaxFinite(s);
    range["min_normal"] = HasNormals(s) ? Json(MinPositiveNormal(s)) : Json(nullptr);
    range["min_positive"] = MinPositive(s);
    range["min_subnormal"] = HasSubnormals(s) ? Json(MinPositive(s)) : Json(nullptr);
    range["max_code"] = HexCode(s.max_code, s.bits);
    range["has_inf"] = s.has_inf;
    range["has_nan"] = s.has_nan;
    range["has_negative_zero"] = s.is_signed && s.negative_zero && !posit;
    range["canonical_nan"] = s.has_nan ? Json(nan_code) : Json(nullptr);
    if (!s.has_nan && !posit) range["nan_fallback"] = NanFallbackName(s.nan_fallback);
    j["range"] = std::move(range);
    if (listed) {
      Json codes = Json::array();
      for (uint64_t c = 0; c < count; ++c) {
        const uint32_t code = static_cast<uint32_t>(c);
        const double v = DecodeScalar(s, code);
        codes.push_back(Json{{"code", HexCode(code, s.bits)},
                             {"value", JsonValue(v)},
                             {"bits64", Hex64(v)},
                             {"class", std::string(ToString(ClassifyCode(s, code)))}});
      }
      j["codes"] = std::move(codes);
    }
    WriteJson(j);
  } else {
    Table about;
    about.AddRow({"name", f.name});
    if (!f.aliases.empty()) about.AddRow({"aliases", Join(f.aliases, ", ")});
    if (!f.description.empty()) about.AddRow({"description", f.description});
    about.AddRow({"source", f.source});
    if (!f.element.empty()) {
      about.AddRow({"element", f.element});
      about.AddRow({"scaling", f.scaling});
    }
    about.AddRow({"descriptor", DescribeSpec(s)});
    about.AddRow({"kind", posit ? "posit" : "minifloat"});
    about.AddRow({"bits", std::to_string(s.bits)});
    if (posit) {
      about.AddRow({"es", std::to_string(s.exponent_bits)});
    } else {
      about.AddRow({"signed", YesNo(s.is_signed)});
      about.AddRow({"exponent bits", std::to_string(s.exponent_bits)});
      about.AddRow({"mantissa bits", std::to_string(s.mantissa_bits)});
      about.AddRow({"bias", std::to_string(s.bias)});
      about.AddRow({"subnormals", YesNo(HasSubnormals(s))});
      if (!f.specials.empty()) about.AddRow({"specials", f.specials});
    }
    std::string text = about.Render();

    Table range;
    range.AddRow({"max", ShortestDecimal(MaxFinite(s))});
    range.AddRow({"min normal", HasNormals(s) ? ShortestDecimal(MinPositiveNormal(s)) : "-"});
    range.AddRow({"min positive", ShortestDecimal(MinPositive(s))});
    range.AddRow({"max code", HexCode(s.max_code, s.bits)});
    range.AddRow({"inf", s.has_inf ? "yes (" + HexCode(s.inf_code, s.bits) + ")" : "no"});
    range.AddRow({"NaN", YesNo(s.has_nan)});
    range.AddRow({"-0", YesNo(s.is_signed && s.negative_zero && !posit)});
    range.AddRow({"canonical NaN", nan_code});
    if (!s.has_nan && !posit) range.AddRow({"NaN input", NanFallbackName(s.nan_fallback)});
    text += "\nrange\n" + range.Render();
    if (!f.element.empty()) {
      Table block;
      for (const auto& [field, value] : BlockRows(f)) block.AddRow({field, value});
      text += "\nblock format\n" + block.Render();
    }
    std::fputs(text.c_str(), stdout);

    if (listed) {
      using A = Table::Align;
      Table codes({"code", "value", "class"}, {A::kLeft, A::kRight, A::kLeft});
      for (uint64_t c = 0; c < count; ++c) {
        const uint32_t code = static_cast<uint32_t>(c);
        codes.AddRow({HexCode(code, s.bits), ShortestDecimal(DecodeScalar(s, code)),
                      std::string(ToString(ClassifyCode(s, code)))});
      }
      const std::string listing = "\ncodes (" + std::to_string(count) + ")\n" + codes.Render();
      std::fwrite(listing.data(), 1, listing.size(), stdout);
    } else {
      std::printf("\ncodes: not listed (%u bits > %u)\n", unsigned{s.bits}, kMaxListedBits);
    }
  }
  const Status st = FlushStdout();
  return st.ok() ? kExitOk : FailStatus(st);
}

RunFn SetupFormats(CLI::App& command) {
  struct Args {
    bool json = false;
    bool show_json = false;
    std::string format;
  };
  auto args = std::make_shared<Args>();
  command.add_flag("--json", args->json, "print JSON instead of a table");
  CLI::App* show = command.add_subcommand(
      "show", "one format: descriptor, range, and every code's value and class (n <= 16)");
  show->add_option("F", args->format, "format name, alias, or path to a .toml file")->required();
  show->add_flag("--json", args->show_json, "print JSON");
  return [args, show] {
    if (show->parsed()) return ShowFormat(args->format, args->show_json || args->json);
    return ListFormats(args->json);
  };
}

}  // namespace

QFLOAT_CLI_COMMAND(formats, 10, "list every known format (or `formats show F` for one)",
                   SetupFormats);

}  // namespace qfloat::cli
