// Format files: every built-in parses and has its named limits; aliases resolve; malformed or
// impossible descriptions are refused with the file, the line and the field; a user's format
// file loads through ResolveFormat(path) and encodes as the oracle says.
#include "qfloat/format.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "oracle.h"
#include "qfloat/scalar.h"
#include "test_util.h"

namespace qfloat {
namespace {

namespace fs = std::filesystem;
using testing::Get;
using testing::Opts;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A scratch directory for format files, removed at the end of the test case.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("qfloat_format_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

 private:
  fs::path path_;
};

bool SameSpec(const FormatSpec& a, const FormatSpec& b) {
  return a.kind == b.kind && a.bits == b.bits && a.is_signed == b.is_signed &&
         a.exponent_bits == b.exponent_bits && a.mantissa_bits == b.mantissa_bits &&
         a.bias == b.bias && a.subnormals == b.subnormals && a.has_zero == b.has_zero &&
         a.negative_zero == b.negative_zero && a.has_inf == b.has_inf &&
         a.high_nans == b.high_nans && a.nan_fallback == b.nan_fallback &&
         a.magnitude_mask == b.magnitude_mask && a.sign_bit == b.sign_bit &&
         a.max_code == b.max_code && a.inf_code == b.inf_code && a.nan_code == b.nan_code &&
         a.has_nan == b.has_nan && a.nan_signed == b.nan_signed && a.emin == b.emin &&
         a.emax == b.emax;
}

TEST_CASE("formats: every file in formats/ parses and is the built-in of that name", "[formats]") {
  const fs::path dir = fs::path(QFLOAT_SOURCE_DIR) / "formats";
  int files = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".toml") continue;
    ++files;
    INFO(e.path().string());
    const StatusOr<Format> f = LoadFormatFile(e.path().string());
    REQUIRE(f.ok());
    if (!f->element.empty()) continue;  // block presets take their element's descriptor
    CHECK(f->name == e.path().stem().string());
    const StatusOr<Format> builtin = ResolveFormat(f->name);
    REQUIRE(builtin.ok());
    CHECK(SameSpec(f->spec, builtin->spec));
    CHECK(f->aliases == builtin->aliases);
    CHECK_FALSE(builtin->description.empty());
  }
  CHECK(files >= 27);
  CHECK(BuiltinFormats().size() == static_cast<size_t>(files));
}

TEST_CASE("formats: no name or alias belongs to two formats ignoring case", "[formats]") {
  const std::vector<Format>& all = BuiltinFormats();
  for (size_t i = 0; i < all.size(); ++i) {
    std::vector<std::string> mine = all[i].aliases;
    mine.push_back(all[i].name);
    for (size_t j = i + 1; j < all.size(); ++j) {
      std::vector<std::string> theirs = all[j].aliases;
      theirs.push_back(all[j].name);
      for (const std::string& a : mine) {
        for (const std::string& b : theirs) {
          INFO(a << " of " << all[i].name << " vs " << b << " of " << all[j].name);
          CHECK(Lower(a) != Lower(b));
        }
      }
    }
    // And every spelling resolves to its own format.
    for (const std::string& a : mine) {
      const StatusOr<Format> f = ResolveFormat(a);
      REQUIRE(f.ok());
      CHECK(f->name == all[i].name);
    }
  }
}

TEST_CASE("formats: the derived fields agree with the oracle's own derivation", "[formats]") {
  for (const Format& f : BuiltinFormats()) {
    if (!f.element.empty()) continue;
    INFO(f.name);
    const FormatSpec& s = f.spec;
    const oracle::Model m = oracle::MakeModel(s);
    CHECK(s.sign_bit == m.sign_bit);
    CHECK(s.max_code == m.max_mag);
    CHECK(s.has_nan == m.has_nan);
    if (s.has_nan) CHECK(s.nan_code == m.nan_code);
    if (s.has_inf) CHECK(s.inf_code == m.inf_mag);
    CHECK(MaxFinite(s) == oracle::Value(m, m.max_mag));
  }
}

TEST_CASE("formats: built-ins have their named limits", "[formats]") {
  struct Limits {
    const char* name;
    double max, min_normal, min_positive;
  };
  const Limits limits[] = {
      {"e4m3fn", 448, std::ldexp(1.0, -6), std::ldexp(1.0, -9)},
      {"e5m2", 57344, std::ldexp(1.0, -14), std::ldexp(1.0, -16)},
      {"e4m3fnuz", 240, std::ldexp(1.0, -7), std::ldexp(1.0, -10)},
      {"e5m2fnuz", 57344, std::ldexp(1.0, -15), std::ldexp(1.0, -17)},
      {"e4m3b11fnuz", 30, std::ldexp(1.0, -10), std::ldexp(1.0, -13)},
      {"e3m4", 15.5, 0.25, std::ldexp(1.0, -6)},
      {"e4m3", 240, std::ldexp(1.0, -6), std::ldexp(1.0, -9)},
      {"e2m3fn", 7.5, 1.0, 0.125},
      {"e3m2fn", 28, 0.25, 0.0625},
      {"e2m1fn", 6, 1.0, 0.5},
      {"e8m0fnu", std::ldexp(1.0, 127), std::ldexp(1.0, -127), std::ldexp(1.0, -127)},
      {"fp16", 65504, std::ldexp(1.0, -14), std::ldexp(1.0, -24)},
      {"bf16", (2 - std::ldexp(1.0, -7)) * std::ldexp(1.0, 127), std::ldexp(1.0, -126),
       std::ldexp(1.0, -133)},
      {"fp32", FLT_MAX, FLT_MIN, FLT_TRUE_MIN},
      {"posit8_0", 64, 1.0 / 64, 1.0 / 64},
      {"posit8_1", std::ldexp(1.0, 12), std::ldexp(1.0, -12), std::ldexp(1.0, -12)},
      {"posit8_2", std::ldexp(1.0, 24), std::ldexp(1.0, -24), std::ldexp(1.0, -24)},
      {"posit16_1", std::ldexp(1.0, 28), std::ldexp(1.0, -28), std::ldexp(1.0, -28)},
      {"posit16_2", std::ldexp(1.0, 56), std::ldexp(1.0, -56), std::ldexp(1.0, -56)},
      {"posit32_2", std::ldexp(1.0, 120), std::ldexp(1.0, -120), std::ldexp(1.0, -120)},
      {"binary8p3", 49152, std::ldexp(1.0, -15), std::ldexp(1.0, -17)},
      {"binary8p4", 224, std::ldexp(1.0, -7), std::ldexp(1.0, -10)},
  };
  for (const Limits& l : limits) {
    INFO(l.name);
    const FormatSpec& s = Get(l.name).spec;
    CHECK(MaxFinite(s) == l.max);
    CHECK(MinPositiveNormal(s) == l.min_normal);
    CHECK(MinPositive(s) == l.min_positive);
  }
  // Encodings that do not exist (PITFALLS: CPFloat/QPyTorch "E4M3" max 480) are no built-in.
  for (const Format& f : BuiltinFormats()) CHECK(MaxFinite(f.spec) != 480.0);
}

TEST_CASE("formats: aliases users type resolve to the same descriptor", "[formats]") {
  struct Alias {
    const char* alias;
    const char* name;
  };
  const Alias aliases[] = {{"float8_e4m3fn", "e4m3fn"},  {"F8_E4M3", "e4m3fn"},
                           {"fp8_e4m3", "e4m3fn"},       {"FLOAT8_E4M3FN", "e4m3fn"},
                           {"float8_e5m2", "e5m2"},      {"fp8_e5m2", "e5m2"},
                           {"F8_E5M2", "e5m2"},          {"float8_e4m3fnuz", "e4m3fnuz"},
                           {"e2m1", "e2m1fn"},           {"mxfp4_e2m1", "e2m1fn"},
                           {"float4_e2m1fn", "e2m1fn"},  {"fp4", "e2m1fn"},
                           {"float6_e2m3fn", "e2m3fn"},  {"float6_e3m2fn", "e3m2fn"},
                           {"e8m0", "e8m0fnu"},          {"float8_e8m0fnu", "e8m0fnu"},
                           {"bfloat16", "bf16"},         {"BF16", "bf16"},
                           {"float16", "fp16"},          {"half", "fp16"},
                           {"float32", "fp32"},          {"posit8", "posit8_2"},
                           {"posit8_es2", "posit8_2"},   {"posit16", "posit16_2"},
                           {"posit32", "posit32_2"},     {"posit8_es0", "posit8_0"},
                           {"posit16_es1", "posit16_1"}, {"binary8p3se", "binary8p3"}};
  for (const Alias& a : aliases) {
    INFO(a.alias);
    const StatusOr<Format> f = ResolveFormat(a.alias);
    REQUIRE(f.ok());
    CHECK(f->name == a.name);
    CHECK(SameSpec(f->spec, Get(a.name).spec));
  }
  const StatusOr<Format> unknown = ResolveFormat("e9m9");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == StatusCode::kNotFound);
  CHECK(unknown.status().message().find("e9m9") != std::string::npos);
}

TEST_CASE("formats: malformed and impossible files are refused naming the file line and field",
          "[formats]") {
  TempDir dir;
  struct Bad {
    const char* file;
    const char* text;
    const char* field;  // "" for TOML syntax errors
    int line;           // 0: the field is missing, so there is no line to name
  };
  const Bad cases[] = {
      {"bits_mismatch.toml",
       "name = \"x\"\nkind = \"minifloat\"\nbits = 8\nexponent_bits = 4\nmantissa_bits = 4\n",
       "bits", 3},
      {"unknown_specials.toml",
       "name = \"x\"\nbits = 8\nexponent_bits = 4\nmantissa_bits = 3\nspecials = \"weird\"\n",
       "specials", 5},
      {"ieee_no_mantissa.toml",
       "name = \"x\"\nbits = 8\nexponent_bits = 7\nmantissa_bits = 0\nbias = 63\n"
       "specials = \"ieee\"\n",
       "specials", 6},
      {"bias_too_big.toml",
       "name = \"x\"\nbits = 8\nexponent_bits = 4\nmantissa_bits = 3\nbias = 1500\n"
       "specials = \"fn\"\n",
       "bias", 5},
      {"bias_too_small.toml",
       "name = \"x\"\nbits = 8\nexponent_bits = 4\nmantissa_bits = 3\n"
       "specials = \"fn\"\nbias = -1100\n",
       "bias", 6},
      {"bias_out_of_range.toml",
       "name = \"x\"\nbits = 8\nexponent_bits = 4\nmantissa_bits = 3\nbias = 5000\n", "bias", 5},
      {"posit_es9.toml", "name = \"p\"\nkind = \"posit\"\nbits = 8\nes = 9\n", "es", 4},
      {"posit_bits40.toml", "name = \"p\"\nkind = \"posit\"\nbits = 40\nes = 2\n", "bits", 3},
      {"missing_name.toml",
       "kind = \"minifloat\"\nbits = 8\nexponent_bits = 4\nmantissa_bits = 3\n", "name", 0},
      {"missing_bits.toml", "name = \"x\"\nexponent_bits = 4\nmantissa_bits = 3\n", "bits", 0},
      {"bits_string.toml", "name = \"x\"\nbits = \"8\"\nexponent_bits = 4\nmantissa_bits = 3\n",
       "bits", 2},
      {"name_int.toml", "name = 5\nbits = 8\n", "name", 1},
      {"subnormals_int.toml",
       "name = \"x\"\nbits = 8\nexponent_bits = 4\nmantissa_bits = 3\nsubnormals = 1\n",
       "subnormals", 5},
      {"aliases_string.toml", "name = \"x\"\naliases = \"y\"\nbits = 8\n", "aliases", 2},
      {"unknown_kind.toml", "name = \"x\"\nkind = \"fixed\"\nbits = 8\n", "kind", 2},
      {"bad_nan.toml",
       "name = \"x\"\nbits = 4\nexponent_bits = 2\nmantissa_bits = 1\nspecials = \"finite\"\n"
       "nan = \"bogus\"\n",
       "nan", 6},
      {"too_many_nans.toml",
       "name = \"x\"\nbits = 4\nexponent_bits = 2\nmantissa_bits = 1\nspecials = \"fn\"\n"
       "high_nans = 9\n",
       "high_nans", 6},
      {"signed_no_zero.toml",
       "name = \"x\"\nbits = 8\nexponent_bits = 7\nmantissa_bits = 0\nspecials = \"fn\"\n"
       "subnormals = false\nzero = false\n",
       "zero", 7},
      {"syntax.toml", "name = \"x\"\nkind = \"minifloat\"\nbits = = 8\n", "", 3},
  };
  for (const Bad& b : cases) {
    const std::string path = dir.Write(b.file, b.text);
    INFO(b.file);
    for (int via = 0; via < 2; ++via) {
      const StatusOr<Format> f = via == 0 ? ResolveFormat(path) : LoadFormatFile(path);
      REQUIRE_FALSE(f.ok());
      const std::string& msg = f.status().message();
      INFO(msg);
      CHECK(f.status().code() == StatusCode::kInvalidArgument);
      CHECK(msg.find(path) != std::string::npos);  // the file
      if (b.line > 0) {
        CHECK(msg.find(path + ":" + std::to_string(b.line) + ":") != std::string::npos);
      }
      if (*b.field != '\0') {
        CHECK(msg.find(std::string("field '") + b.field + "'") != std::string::npos);
      } else {
        CHECK(msg.find("invalid TOML") != std::string::npos);
      }
    }
  }
  const std::string missing = (fs::temp_directory_path() / "qfloat_no_such_format.toml").string();
  const StatusOr<Format> none = ResolveFormat(missing);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == StatusCode::kNotFound);
  CHECK(none.status().message().find(missing) != std::string::npos);
}

// The oracle sweep of oracle_test.cc, smaller, for a user format.
uint64_t OracleDisagreements(const Format& f, bool with_rto, uint64_t* comparisons) {
  const oracle::Model model = oracle::MakeModel(f.spec);
  uint64_t bad = 0;
  for (bool as_float32 : {true, false}) {
    std::vector<double> inputs = oracle::SpecialInputs(as_float32);
    const std::vector<double> grid =
        oracle::WithNeighbours(oracle::GridPoints(model, 17, 4096), as_float32);
    inputs.insert(inputs.end(), grid.begin(), grid.end());
    const std::vector<double> random = oracle::RandomInputs(model, as_float32, 100000, 18);
    inputs.insert(inputs.end(), random.begin(), random.end());
    for (double x : inputs) {
      const oracle::Located at = oracle::Locate(model, x);
      for (RoundingMode mode : testing::kDeterministicModes) {
        if (mode == RoundingMode::kToOdd && !with_rto) continue;
        for (Overflow p : testing::kPolicies) {
          const uint32_t got = as_float32
                                   ? EncodeScalar(f.spec, static_cast<float>(x), Opts(mode, p))
                                   : EncodeScalar(f.spec, x, Opts(mode, p));
          const uint32_t want = oracle::RoundDeterministic(model, at, mode, p);
          if (got != want && bad++ < 5) {
            UNSCOPED_INFO(f.name << " x=" << oracle::Hex(x) << " " << oracle::ModeName(mode) << " "
                                 << oracle::OverflowName(p) << ": oracle " << want << ", reference "
                                 << got);
          }
          ++*comparisons;
        }
      }
    }
  }
  return bad;
}

TEST_CASE("formats: a user format file loads through ResolveFormat and encodes correctly",
          "[formats]") {
  TempDir dir;
  // e3m3 with OCP-style specials: bias 3, NaN S.111.111, max 0x3E = 1.75 * 2^4 = 28.
  const std::string e3m3 = dir.Write("e3m3.toml",
                                     "# a 7-bit format\n"
                                     "name = \"e3m3\"\n"
                                     "aliases = [\"my_fp7\"]\n"
                                     "description = \"E3M3, bias 3, fn\"\n"
                                     "kind = \"minifloat\"\n"
                                     "bits = 7\n"
                                     "exponent_bits = 3\n"
                                     "mantissa_bits = 3\n"
                                     "bias = 3\n"
                                     "specials = \"fn\"\n");
  const StatusOr<Format> f = ResolveFormat(e3m3);
  REQUIRE(f.ok());
  CHECK(f->name == "e3m3");
  CHECK(f->source == e3m3);
  CHECK(MaxFinite(f->spec) == 28.0);
  CHECK(MinPositive(f->spec) == std::ldexp(1.0, -5));
  const QuantizeOptions rne = Opts(RoundingMode::kNearestEven);
  CHECK(EncodeScalar(f->spec, 28.0, rne) == 0x3E);
  CHECK(EncodeScalar(f->spec, 29.0, rne) == 0x3E);  // tie with 30 (0x3F, NaN): 0x3E is even
  CHECK(EncodeScalar(f->spec, 29.5, rne) == 0x3F);  // overflow: NaN
  CHECK(EncodeScalar(f->spec, -29.5, rne) == 0x7F);
  CHECK(EncodeScalar(f->spec, 29.5, Opts(RoundingMode::kNearestEven, Overflow::kSatFinite)) ==
        0x3E);
  CHECK(EncodeScalar(f->spec, 1.0625, rne) == 0x18);  // 1 + half ulp: tie to even 1.0 (0x18)
  CHECK(DecodeScalar(f->spec, 0x19) == 1.125);

  // IEEE P3109 style, 6 bits, precision 3 (signed, extended): bias 2^(6-3-1) = 4, NaN 0x20,
  // +-inf 0x1F/0x3F, no -0; max 0x1E = 1.5 * 2^3 = 12.
  const std::string p3109 = dir.Write("binary6p3.toml",
                                      "name = \"binary6p3\"\nkind = \"minifloat\"\nbits = 6\n"
                                      "exponent_bits = 3\nmantissa_bits = 2\nbias = 4\n"
                                      "specials = \"extended\"\n");
  const StatusOr<Format> g = ResolveFormat(p3109);
  REQUIRE(g.ok());
  CHECK(MaxFinite(g->spec) == 12.0);
  CHECK(EncodeScalar(g->spec, testing::Inf(), rne) == 0x1F);
  CHECK(EncodeScalar(g->spec, -testing::Inf(), rne) == 0x3F);
  CHECK(EncodeScalar(g->spec, testing::NaN(), rne) == 0x20);
  CHECK(EncodeScalar(g->spec, -0.0, rne) == 0x00);
  CHECK(EncodeScalar(g->spec, 13.0, rne) == 0x1E);  // tie with 14: 0x1E even
  CHECK(EncodeScalar(g->spec, 13.5, rne) == 0x1F);  // overflow: inf

  // An unsigned format with a zero, and one without subnormals.
  const std::string unsigned_fmt = dir.Write("ue4m4.toml",
                                             "name = \"ue4m4\"\nbits = 8\nsigned = false\n"
                                             "exponent_bits = 4\nmantissa_bits = 4\nbias = 7\n"
                                             "specials = \"fn\"\n");
  const StatusOr<Format> u = ResolveFormat(unsigned_fmt);
  REQUIRE(u.ok());
  CHECK(EncodeScalar(u->spec, -1.0, rne) == 0xFF);  // NaN under ovf-inf
  CHECK(EncodeScalar(u->spec, -1.0, Opts(RoundingMode::kNearestEven, Overflow::kSatFinite)) == 0);
  const std::string ftz = dir.Write("e4m3_ftz.toml",
                                    "name = \"e4m3_ftz\"\nbits = 8\nexponent_bits = 4\n"
                                    "mantissa_bits = 3\nbias = 7\nspecials = \"fn\"\n"
                                    "subnormals = false\n");
  const StatusOr<Format> z = ResolveFormat(ftz);
  REQUIRE(z.ok());
  CHECK(DecodeScalar(z->spec, 0x07) == 0.0);
  CHECK(EncodeScalar(z->spec, std::ldexp(0.75, -6), rne) == 0x08);  // nearer 2^-6 than 0

  // Each against the oracle: every grid point and tie with neighbours, plus random inputs.
  uint64_t comparisons = 0;
  CHECK(OracleDisagreements(*f, true, &comparisons) == 0);
  CHECK(OracleDisagreements(*g, true, &comparisons) == 0);
  CHECK(OracleDisagreements(*u, true, &comparisons) == 0);
  // Without subnormals the gap (0, 2^emin) has two even codes, 0 and 2^m: round-to-odd has no
  // odd neighbour there, so rto is left out for this format.
  CHECK(OracleDisagreements(*z, false, &comparisons) == 0);
  CHECK(comparisons > 1000000);

  // A file that describes e4m3fn under another name has e4m3fn's descriptor exactly.
  const std::string copy = dir.Write("mine.toml",
                                     "name = \"mine\"\nbits = 8\nexponent_bits = 4\n"
                                     "mantissa_bits = 3\nbias = 7\nspecials = \"fn\"\n");
  const StatusOr<Format> c = ResolveFormat(copy);
  REQUIRE(c.ok());
  CHECK(SameSpec(c->spec, Get("e4m3fn").spec));
}

}  // namespace
}  // namespace qfloat
