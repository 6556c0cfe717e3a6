// The golden vectors (tests/data/golden, copied from the shared conformance set; see its README.md
// and PROVENANCE.md) read through the README's policy semantics:
//   rne = rne + ovf-inf, rne_sat = rne + sat-propagate, trunc_sat = rtz + sat-propagate,
//   posits rne: 100% agreement;
//   trunc (ml_dtypes kTruncate, not IEEE at overflow) = rtz + ovf-inf, except EXACTLY the
//   documented overflow set (finite |x| >= max + ulp(max): golden inf/NaN, qfloat +-max);
//   float8_e8m0fnu rne / rne_sat: every disagreement is one of ml_dtypes' documented defect
//   classes (README "Oracle disagreements" 6a-6c), and every vector of those classes disagrees.
// Every vector is also checked against the independent oracle (oracle.h), so three
// implementations agree. Every decode table: value and class of every code.
#include <zlib.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/golden_data.h"
#include "oracle.h"
#include "qfloat/format.h"
#include "qfloat/scalar.h"

namespace qfloat {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = golden::Dir();
using golden::ParseHex;
using golden::ReadRows;

struct EncodeVector {
  uint32_t input_bits;
  uint32_t code;
  float Input() const { return std::bit_cast<float>(input_bits); }
};

std::vector<EncodeVector> ReadEncode(const fs::path& path) {
  std::vector<EncodeVector> out;
  for (const auto& row : ReadRows(path)) {
    REQUIRE(row.size() == 2);
    REQUIRE(row[0].size() == 8);
    out.push_back({ParseHex(row[0]), ParseHex(row[1])});
  }
  return out;
}

QuantizeOptions Options(RoundingMode mode, Overflow overflow) {
  QuantizeOptions o;
  o.rounding.mode = mode;
  o.overflow = overflow;
  return o;
}

struct GoldenFormat {
  std::string dir;
  Format format;
  oracle::Model model;
};

std::vector<GoldenFormat> GoldenFormats() {
  std::vector<GoldenFormat> out;
  for (const fs::directory_entry& e : fs::directory_iterator(kGoldenDir)) {
    if (!e.is_directory()) continue;
    const std::string dir = e.path().filename().string();
    const StatusOr<Format> f = ResolveFormat(dir);  // the directory names are our aliases
    INFO("golden directory " << dir);
    REQUIRE(f.ok());
    out.push_back({dir, *f, oracle::MakeModel(f->spec)});
  }
  std::sort(out.begin(), out.end(),
            [](const GoldenFormat& a, const GoldenFormat& b) { return a.dir < b.dir; });
  return out;
}

// Messages for a failing check; Catch2 v2 attaches UNSCOPED_INFO to the *next* assertion, so they
// are kept here and emitted just before the check they explain.
struct Examples {
  std::vector<std::string> items;
  void Add(const std::string& s) {
    if (items.size() < 8) items.push_back(s);
  }
  void Emit() const {
    for (const std::string& s : items) UNSCOPED_INFO(s);
  }
};

std::string Vec(const GoldenFormat& g, const char* policy, const EncodeVector& v, uint32_t ours) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%s %s input %08x (%a): golden %x, qfloat %x", g.dir.c_str(),
                policy, v.input_bits, static_cast<double>(v.Input()), v.code, ours);
  return buf;
}

TEST_CASE("golden: the copied set is complete: 17 decode tables and 57 encode files", "[golden]") {
  int decode = 0, encode = 0;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(kGoldenDir)) {
    const std::string name = e.path().filename().string();
    if (name == "decode.txt.gz") ++decode;
    if (name.rfind("encode_", 0) == 0) ++encode;
  }
  CHECK(decode == 17);
  CHECK(encode == 57);
  CHECK(fs::exists(kGoldenDir / "README.md"));
  CHECK(fs::exists(kGoldenDir / "PROVENANCE.md"));
}

TEST_CASE("golden: rne rne_sat trunc_sat and posit files agree 100%", "[golden]") {
  // README "Policy semantics": the files' policies as qfloat options.
  const std::map<std::string, QuantizeOptions> policies = {
      {"rne", Options(RoundingMode::kNearestEven, Overflow::kInf)},
      {"rne_sat", Options(RoundingMode::kNearestEven, Overflow::kSatPropagate)},
      {"trunc_sat", Options(RoundingMode::kTowardZero, Overflow::kSatPropagate)}};
  uint64_t total = 0, files = 0;
  for (const GoldenFormat& g : GoldenFormats()) {
    const bool e8m0 = !g.format.spec.is_signed;  // its rne files are checked below
    for (const auto& [policy, options] : policies) {
      const fs::path path = kGoldenDir / g.dir / ("encode_" + policy + ".txt.gz");
      if (!fs::exists(path)) continue;
      if (e8m0 && policy != "trunc_sat") continue;
      const std::vector<EncodeVector> vectors = ReadEncode(path);
      uint64_t mismatches = 0, oracle_mismatches = 0;
      Examples examples;
      for (const EncodeVector& v : vectors) {
        const uint32_t ours = EncodeScalar(g.format.spec, v.Input(), options);
        const uint32_t model = oracle::RoundDeterministic(
            g.model, oracle::Locate(g.model, v.Input()), options.rounding.mode, options.overflow);
        if (ours != v.code) {
          ++mismatches;
          examples.Add(Vec(g, policy.c_str(), v, ours));
        }
        if (model != v.code) {
          ++oracle_mismatches;
          examples.Add("oracle: " + Vec(g, policy.c_str(), v, model));
        }
      }
      std::printf("golden %-20s %-10s vectors %6zu mismatches %llu (oracle %llu)\n", g.dir.c_str(),
                  policy.c_str(), vectors.size(), static_cast<unsigned long long>(mismatches),
                  static_cast<unsigned long long>(oracle_mismatches));
      CHECK(vectors.size() == 12000);
      examples.Emit();
      CHECK(mismatches == 0);
      CHECK(oracle_mismatches == 0);
      total += vectors.size();
      ++files;
    }
  }
  std::printf("golden exact-agreement files %llu, vectors %llu\n",
              static_cast<unsigned long long>(files), static_cast<unsigned long long>(total));
  CHECK(files == 12 * 3 + 1 + 5);  // 12 signed float formats x 3, e8m0 trunc_sat, 5 posits
}

TEST_CASE("golden: ml_dtypes trunc differs exactly on the documented overflow set", "[golden]") {
  const QuantizeOptions options = Options(RoundingMode::kTowardZero, Overflow::kInf);
  uint64_t total = 0, differing = 0, files = 0;
  for (const GoldenFormat& g : GoldenFormats()) {
    const fs::path path = kGoldenDir / g.dir / "encode_trunc.txt.gz";
    if (!fs::exists(path)) continue;
    const FormatSpec& spec = g.format.spec;
    // max + ulp(max): the first value of the unbounded grid beyond max (oracle's own value).
    const double beyond = oracle::Value(g.model, g.model.max_mag + 1);
    const bool overflows = spec.has_inf || spec.has_nan;  // MX finite formats saturate anyway
    uint64_t diff = 0, in_set = 0, bad = 0, oracle_bad = 0;
    Examples examples;
    for (const EncodeVector& v : ReadEncode(path)) {
      const double x = v.Input();
      const bool negative = std::signbit(x);
      const uint32_t ours = EncodeScalar(spec, v.Input(), options);
      const bool documented =
          overflows && std::isfinite(x) && std::fabs(x) >= beyond && (spec.is_signed || !negative);
      in_set += documented;
      if (ours == v.code) {
        if (documented) {
          ++bad;
          examples.Add("in the overflow set but agrees: " + Vec(g, "trunc", v, ours));
        }
        continue;
      }
      ++diff;
      const CodeClass golden_class = ClassifyCode(spec, v.code);
      const uint32_t max = spec.max_code | (negative ? spec.sign_bit : 0u);
      const bool expected = documented &&
                            (golden_class == CodeClass::kInf || golden_class == CodeClass::kNan) &&
                            ours == max;
      if (!expected) {
        ++bad;
        examples.Add("undocumented difference: " + Vec(g, "trunc", v, ours));
      }
      // qfloat's answer is IEEE roundTowardZero: the oracle agrees with it.
      if (oracle::RoundDeterministic(g.model, oracle::Locate(g.model, x), options.rounding.mode,
                                     options.overflow) != ours) {
        ++oracle_bad;
        examples.Add("oracle disagrees with qfloat: " + Vec(g, "trunc", v, ours));
      }
    }
    std::printf("golden %-20s trunc      vectors 12000 differing %llu (documented set %llu)\n",
                g.dir.c_str(), static_cast<unsigned long long>(diff),
                static_cast<unsigned long long>(in_set));
    examples.Emit();
    CHECK(bad == 0);
    CHECK(oracle_bad == 0);
    CHECK(diff == in_set);
    differing += diff;
    total += 12000;
    ++files;
  }
  std::printf("golden trunc files %llu, vectors %llu, differing (all documented) %llu\n",
              static_cast<unsigned long long>(files), static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(differing));
  CHECK(files == 13);
  CHECK(differing > 0);  // e.g. e5m2 65536 -> inf in ml_dtypes, 57344 here
}

// README "Oracle disagreements" 6: ml_dtypes' e8m0fnu rounding defects.
enum class E8m0Defect { kNone, kTieLowerEven, kSubnormalInput, kTopTie };

E8m0Defect ClassifyE8m0(const EncodeVector& v) {
  const float x = v.Input();
  if (!(x > 0) || !std::isfinite(x)) return E8m0Defect::kNone;
  // (b) binary32 subnormal inputs in (2^-127, 1.5 2^-127]: 00400001 .. 00600000.
  if (v.input_bits >= 0x00400001u && v.input_bits <= 0x00600000u) {
    return E8m0Defect::kSubnormalInput;
  }
  int e = 0;
  const double f = std::frexp(static_cast<double>(x), &e);  // x = f 2^e, f in [0.5, 1)
  if (f != 0.75) return E8m0Defect::kNone;                  // not a tie 1.5 2^(e-1)
  const int lower_code = (e - 1) + 127;
  if (lower_code == 0xFE) return E8m0Defect::kTopTie;  // (c) 1.5 2^127
  // (a) ties always round up: a defect where the lower code is even.
  if (lower_code >= 0 && lower_code < 0xFE && lower_code % 2 == 0) {
    return E8m0Defect::kTieLowerEven;
  }
  return E8m0Defect::kNone;
}

TEST_CASE("golden: e8m0fnu rne and rne_sat disagree exactly on the documented defect classes",
          "[golden]") {
  const StatusOr<Format> f = ResolveFormat("float8_e8m0fnu");
  REQUIRE(f.ok());
  const FormatSpec& spec = f->spec;
  const oracle::Model model = oracle::MakeModel(spec);
  for (const char* policy : {"rne", "rne_sat"}) {
    const bool sat = std::string(policy) == "rne_sat";
    const QuantizeOptions options =
        Options(RoundingMode::kNearestEven, sat ? Overflow::kSatPropagate : Overflow::kInf);
    uint64_t counts[4] = {0, 0, 0, 0}, agree = 0, bad = 0, oracle_bad = 0, vectors = 0;
    Examples examples;
    GoldenFormat g{"float8_e8m0fnu", *f, model};
    for (const EncodeVector& v : ReadEncode(kGoldenDir / "float8_e8m0fnu" /
                                            ("encode_" + std::string(policy) + ".txt.gz"))) {
      ++vectors;
      const uint32_t ours = EncodeScalar(spec, v.Input(), options);
      if (oracle::RoundDeterministic(model, oracle::Locate(model, v.Input()), options.rounding.mode,
                                     options.overflow) != ours) {
        ++oracle_bad;
        examples.Add("oracle disagrees with qfloat: " + Vec(g, policy, v, ours));
      }
      const E8m0Defect cls = ClassifyE8m0(v);
      // What ml_dtypes gives on each class, and what correct rounding gives.
      bool explained = false;
      switch (cls) {
        case E8m0Defect::kTieLowerEven: {  // round half up instead of to the even code
          int e = 0;
          std::frexp(static_cast<double>(v.Input()), &e);
          const uint32_t lower = static_cast<uint32_t>(e - 1 + 127);
          explained = ours == lower && v.code == lower + 1;
          break;
        }
        case E8m0Defect::kSubnormalInput:  // 0x00 treated as zero: 0x01 instead of 0x00
          explained = ours == 0x00 && v.code == 0x01;
          break;
        case E8m0Defect::kTopTie:  // rounds up into overflow: 0xff, or 0xfe when saturating
          explained = ours == 0xFE && v.code == 0xFF;
          if (sat) explained = ours == 0xFE && v.code == 0xFE;  // saturation hides it
          break;
        case E8m0Defect::kNone:
          break;
      }
      if (ours == v.code) {
        ++agree;
        // A vector of a defect class must show the defect (only 6c under saturation does not).
        if (cls != E8m0Defect::kNone && !(cls == E8m0Defect::kTopTie && sat)) {
          ++bad;
          examples.Add("defect class vector agrees: " + Vec(g, policy, v, ours));
        }
        continue;
      }
      ++counts[static_cast<int>(cls)];
      if (!explained) {
        ++bad;
        examples.Add("unexplained disagreement: " + Vec(g, policy, v, ours));
      }
    }
    std::printf(
        "golden float8_e8m0fnu %-7s vectors %llu agree %llu; disagree: (a) ties, lower code even "
        "%llu, (b) subnormal inputs %llu, (c) 1.5*2^127 %llu, other %llu\n",
        policy, static_cast<unsigned long long>(vectors), static_cast<unsigned long long>(agree),
        static_cast<unsigned long long>(counts[1]), static_cast<unsigned long long>(counts[2]),
        static_cast<unsigned long long>(counts[3]), static_cast<unsigned long long>(counts[0]));
    CHECK(vectors == 12000);
    examples.Emit();
    CHECK(bad == 0);
    CHECK(oracle_bad == 0);
    CHECK(counts[0] == 0);
    CHECK(counts[1] > 0);  // the vectors do contain the defects (README: 127 normal-range ties)
    CHECK(counts[2] > 0);
    CHECK(counts[3] == (sat ? 0u : 1u));
  }
}

TEST_CASE("golden: every code of every decode table has the golden value and class", "[golden]") {
  uint64_t tables = 0, codes = 0;
  for (const GoldenFormat& g : GoldenFormats()) {
    const fs::path path = kGoldenDir / g.dir / "decode.txt.gz";
    if (!fs::exists(path)) {
      CHECK(g.format.spec.bits == 32);  // posit32_es2 has no table
      continue;
    }
    const FormatSpec& spec = g.format.spec;
    uint32_t expected_code = 0;
    uint64_t mismatches = 0;
    Examples examples;
    for (const auto& row : ReadRows(path)) {
      REQUIRE(row.size() == 3);
      const uint32_t code = ParseHex(row[0]);
      const uint32_t value_bits = ParseHex(row[1]);
      const std::string& cls = row[2];
      if (code != expected_code++) ++mismatches;  // every code, ascending
      const double ours = DecodeScalar(spec, code);
      const std::string our_class(ToString(ClassifyCode(spec, code)));
      bool ok = our_class == cls;
      if (cls == "nan" || cls == "nar") {
        ok = ok && std::isnan(ours);
      } else {
        const float as_float = static_cast<float>(ours);
        ok = ok && static_cast<double>(as_float) == ours &&
             std::bit_cast<uint32_t>(as_float) == value_bits;
        // The oracle's own value from the descriptor agrees too.
        const uint64_t code_mask = (uint64_t{1} << spec.bits) - 1;
        uint64_t mag = code & ~uint64_t{spec.sign_bit};
        if (spec.kind == FormatKind::kPosit && (code & spec.sign_bit) != 0) {
          mag = (~uint64_t{code} + 1) & code_mask;  // two's complement
        }
        const double model = oracle::Value(g.model, mag);
        if (cls != "inf") ok = ok && model == std::fabs(ours);
      }
      if (!ok) {
        ++mismatches;
        examples.Add(g.dir + " code " + row[0] + ": golden " + row[1] + " " + cls + ", qfloat " +
                     oracle::Hex(ours) + " " + our_class);
      }
      ++codes;
    }
    CHECK(expected_code == (uint32_t{1} << spec.bits));
    examples.Emit();
    CHECK(mismatches == 0);
    ++tables;
  }
  std::printf("golden decode tables %llu, codes %llu\n", static_cast<unsigned long long>(tables),
              static_cast<unsigned long long>(codes));
  CHECK(tables == 17);
}

}  // namespace
}  // namespace qfloat
