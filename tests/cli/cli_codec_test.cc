// qfloat encode / decode: round trips over every code, golden spot checks, stochastic-rounding
// reproducibility, backends, and every bad-input path (exit code, one stderr line naming the
// offending input, nothing on stdout).
#include <bit>
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/rounding.h"
#include "qfloat/scalar.h"
#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

std::string Hex(uint64_t v, int digits) {
  char buffer[80];
  std::snprintf(buffer, sizeof buffer, "%0*llx", digits, static_cast<unsigned long long>(v));
  return buffer;
}
std::string F32(float v) { return Hex(std::bit_cast<uint32_t>(v), 8); }
std::string F64(double v) { return Hex(std::bit_cast<uint64_t>(v), 16); }
int CodeDigits(const FormatSpec& s) { return (s.bits + 3) / 4; }

uint64_t ParseHex(const std::string& s) {
  uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  REQUIRE(ec == std::errc());
  REQUIRE(ptr == s.data() + s.size());
  return v;
}

// What encoding a code's own value must give back: the code itself, except NaN codes, which
// become the canonical NaN (sign kept where the format's NaNs are signed; DESIGN.md "Overflow
// and specials").
uint32_t ExpectedRoundTrip(const FormatSpec& s, uint32_t code) {
  const CodeClass c = ClassifyCode(s, code);
  if (c != CodeClass::kNan && c != CodeClass::kNar) return code;
  return s.nan_code | (s.nan_signed && (code & s.sign_bit) ? s.sign_bit : 0u);
}

std::string Encode1(const std::string& format, const std::string& bits,
                    std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"encode", "-f", format};
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = RunCli(args, bits + "\n");
  INFO(format << " " << bits << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.err.empty());
  const std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() == 1);
  return lines[0];
}

TEST_CASE("decode then encode round-trips every code of every built-in format <= 16 bits",
          "[cli]") {
  size_t formats = 0, codes_checked = 0;
  for (const Format& f : BuiltinFormats()) {
    const FormatSpec& s = f.spec;
    if (s.bits > 16 || !f.element.empty()) continue;
    ++formats;
    INFO(f.name);
    const uint32_t count = 1u << s.bits;
    std::string codes;
    for (uint32_t c = 0; c < count; ++c) codes += Hex(c, CodeDigits(s)) + (c % 8 == 7 ? "\n" : " ");

    // hex64: the exact float64 bit pattern of the reference decoder.
    CliResult hex = RunCli({"decode", "-f", f.name}, codes);
    REQUIRE(hex.exit_code == 0);
    REQUIRE(hex.err.empty());
    const std::vector<std::string> values = Lines(hex.out);
    REQUIRE(values.size() == count);
    // decimal: reads back to the same double.
    CliResult dec = RunCli({"decode", "-f", f.name, "--print", "decimal"}, codes);
    REQUIRE(dec.exit_code == 0);
    const std::vector<std::string> decimals = Lines(dec.out);
    REQUIRE(decimals.size() == count);

    std::string as_f64, as_f32;
    std::vector<uint32_t> f32_codes;
    for (uint32_t c = 0; c < count; ++c) {
      const double want = DecodeScalar(s, c);
      REQUIRE(values[c].size() == 16);
      const double got = std::bit_cast<double>(ParseHex(values[c]));
      if (std::isnan(want)) {
        CHECK(std::isnan(got));
        CHECK(decimals[c].find("nan") != std::string::npos);
      } else {
        CHECK(std::bit_cast<uint64_t>(got) == std::bit_cast<uint64_t>(want));
        double parsed = 0;
        const std::string& d = decimals[c];
        const bool is_inf = d == "inf" || d == "-inf";
        if (is_inf) {
          parsed = d[0] == '-' ? -INFINITY : INFINITY;
        } else {
          REQUIRE(std::from_chars(d.data(), d.data() + d.size(), parsed).ec == std::errc());
        }
        CHECK(std::bit_cast<uint64_t>(parsed) == std::bit_cast<uint64_t>(want));
      }
      as_f64 += values[c] + "\n";
      // The float32 path too, for every value float32 holds exactly.
      if (std::isnan(want) || static_cast<double>(static_cast<float>(want)) == want) {
        as_f32 += "0x" + F32(static_cast<float>(got)) + "\n";
        f32_codes.push_back(c);
      }
    }

    CliResult enc = RunCli({"encode", "-f", f.name, "--input-type", "f64"}, as_f64);
    REQUIRE(enc.exit_code == 0);
    const std::vector<std::string> back = Lines(enc.out);
    REQUIRE(back.size() == count);
    for (uint32_t c = 0; c < count; ++c) {
      INFO("code " << Hex(c, CodeDigits(s)));
      CHECK(back[c].size() == static_cast<size_t>(CodeDigits(s)));
      CHECK(ParseHex(back[c]) == ExpectedRoundTrip(s, c));
      ++codes_checked;
    }
    CliResult enc32 = RunCli({"encode", "-f", f.name}, as_f32);
    REQUIRE(enc32.exit_code == 0);
    const std::vector<std::string> back32 = Lines(enc32.out);
    REQUIRE(back32.size() == f32_codes.size());
    for (size_t i = 0; i < f32_codes.size(); ++i) {
      INFO("code " << Hex(f32_codes[i], CodeDigits(s)));
      CHECK(ParseHex(back32[i]) == ExpectedRoundTrip(s, f32_codes[i]));
    }
  }
  CHECK(formats >= 25);  // every built-in format but fp32 and posit32_2
  CHECK(codes_checked > 4 * 65536);
}

TEST_CASE("encode golden spot checks", "[cli]") {
  CHECK(Encode1("e4m3fn", "0x43e80000") == "7e");  // 464 -> 448 (ml_dtypes)
  CHECK(Encode1("e4m3fn", "0x43e88000") == "7f");  // 465 -> NaN under ovf-inf
  CHECK(Encode1("e4m3fn", "0x43e88000", {"--overflow", "sat-finite"}) == "7e");
  CHECK(Encode1("e5m2", F32(61440.0f)) == "7c");  // the tie above max rounds to inf
  CHECK(Encode1("e5m2", F32(61440.0f), {"--overflow", "sat-propagate"}) == "7b");
  CHECK(Encode1("e2m1", F32(0.25f)) == "0");  // tie 0 / 0.5 -> even code 0
  CHECK(Encode1("e2m1", F32(0.75f)) == "2");  // tie 0.5 / 1 -> even code 2
  CHECK(Encode1("e2m1fn", F32(-6.0f)) == "f");
  CHECK(Encode1("fp16", F32(1.0f)) == "3c00");
  CHECK(Encode1("bf16", F32(-2.0f)) == "c000");
  CHECK(Encode1("posit8_2", F32(1.0f)) == "40");
  CHECK(Encode1("e8m0fnu", F32(1.0f)) == "7f");
  CHECK(Encode1("float8_e4m3fn", "43E80000") == "7e");     // alias, upper-case digits, no prefix
  CHECK(Encode1("e4m3fn", "0X0000000043e80000") == "7e");  // leading zeros are fine
  CHECK(Encode1("e4m3fn", F32(1.1f), {"-r", "rtz"}) == "38");
  CHECK(Encode1("e4m3fn", F32(1.1f), {"-r", "rup"}) == "39");
  CHECK(Encode1("e4m3fn", F32(-1.1f), {"-r", "rup"}) == "b8");
  // A float64 is rounded once: 1 + 2^-4 + 2^-30 is above the midpoint of 1 and 1.125, but
  // through float32 it would become the tie 1 + 2^-4 and round to even (1.0, code 38).
  CHECK(Encode1("e4m3fn", F64(1.0 + 0x1p-4 + 0x1p-30), {"--input-type", "f64"}) == "39");
  CHECK(Encode1("e4m3fn", "0x407d000000000000", {"--input-type", "f64"}) == "7e");
}

TEST_CASE("encode reads any whitespace and keeps the input order", "[cli]") {
  const CliResult r =
      RunCli({"encode", "-f", "e4m3fn"}, "  3f800000\t0x40000000\r\n\n 0xbf800000 \n3f000000");
  REQUIRE(r.exit_code == 0);
  CHECK(Lines(r.out) == std::vector<std::string>{"38", "40", "b8", "30"});
  const CliResult empty = RunCli({"encode", "-f", "e4m3fn"}, "");
  CHECK(empty.exit_code == 0);
  CHECK(empty.out.empty());
}

TEST_CASE("decode spot checks", "[cli]") {
  CliResult r = RunCli({"decode", "-f", "e4m3fn", "--print", "decimal"}, "7e 0x01 ff 80\n");
  REQUIRE(r.exit_code == 0);
  CHECK(Lines(r.out) == std::vector<std::string>{"448", "0.001953125", "-nan", "-0"});
  r = RunCli({"decode", "-f", "e4m3fn"}, "7e");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "407c000000000000\n");
  r = RunCli({"decode", "-f", "e5m2", "--print", "decimal"}, "7c fc");
  CHECK(Lines(r.out) == std::vector<std::string>{"inf", "-inf"});
  r = RunCli({"decode", "-f", "posit8_2", "--print", "decimal"}, "40 7f 01 80");
  CHECK(Lines(r.out) == std::vector<std::string>{"1", "16777216", "5.960464477539063e-08", "nan"});
}

// Many copies of a value strictly between two codes, so stochastic rounding must pick both.
std::string Repeated(const std::string& bits, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += bits + (i % 16 == 15 ? "\n" : " ");
  return s;
}

TEST_CASE("stochastic rounding is reproducible from seed, stream and position", "[cli]") {
  const int n = 4000;
  const float x = 0.3f;  // e2m1fn: between 0 and 0.5, rounds up with probability 0.6
  const std::string input = Repeated(F32(x), n);
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"encode", "-f", "e2m1fn"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliResult r = RunCli(args, input);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const std::string a = run({"-r", "sr", "--seed", "1"});
  CHECK(a == run({"-r", "sr", "--seed", "1"}));
  CHECK(a == run({"-r", "sr", "--seed", "0x1", "--backend", "scalar"}));
  CHECK(a != run({"-r", "sr", "--seed", "2"}));
  CHECK(a != run({"-r", "sr", "--seed", "1", "--stream", "1"}));

  // Element i of stdin is element i of the contract (DESIGN.md "Rounding").
  const StatusOr<Format> e2m1 = ResolveFormat("e2m1fn");
  REQUIRE(e2m1.ok());
  const FormatSpec& spec = e2m1->spec;
  QuantizeOptions options;
  options.rounding = Rounding{RoundingMode::kStochastic, 0};
  options.seed = 1;
  const std::vector<std::string> lines = Lines(a);
  REQUIRE(lines.size() == static_cast<size_t>(n));
  int ups = 0, mismatches = 0;
  for (int i = 0; i < n; ++i) {
    const uint32_t want = EncodeScalar(spec, x, options, static_cast<uint64_t>(i));
    mismatches += ParseHex(lines[i]) != want;
    ups += lines[i] == "1";
  }
  CHECK(mismatches == 0);
  CHECK(ups > n / 2);  // P(up) = 0.6: 2400 expected, sd 31
  CHECK(ups < n * 7 / 10);

  // sr:K uses the same contract.
  const std::string k = run({"-r", "sr:4", "--seed", "9"});
  options.rounding = Rounding{RoundingMode::kStochastic, 4};
  options.seed = 9;
  const std::vector<std::string> k_lines = Lines(k);
  REQUIRE(k_lines.size() == static_cast<size_t>(n));
  mismatches = 0;
  for (int i = 0; i < n; ++i) {
    mismatches += ParseHex(k_lines[i]) != EncodeScalar(spec, x, options, static_cast<uint64_t>(i));
  }
  CHECK(mismatches == 0);
}

TEST_CASE("every backend gives the scalar reference's codes or a clear error", "[cli]") {
  std::string input;
  for (float v : {0.3f, -1.7f, 448.0f, 465.0f, 1e-3f, -0.0f, INFINITY, NAN, 3.14159f, 1e6f}) {
    input += F32(v) + "\n";
  }
  const std::vector<std::string> base = {"encode", "-f", "e4m3fn", "-r", "sr", "--seed", "5"};
  auto args = base;
  args.insert(args.end(), {"--backend", "scalar"});
  const CliResult scalar = RunCli(args, input);
  REQUIRE(scalar.exit_code == 0);
  for (const char* backend : {"auto", "simd", "cuda"}) {
    INFO(backend);
    args = base;
    args.insert(args.end(), {"--backend", backend});
    const CliResult r = RunCli(args, input);
    if (r.exit_code == 0) {
      CHECK(r.out == scalar.out);
    } else {
      // Not compiled in / no device: a data-side condition of this build, exit 1, named.
      CHECK(r.exit_code == 1);
      CHECK(IsOneErrorLine(r.err));
      CHECK(r.err.find(std::string("--backend ") + backend) != std::string::npos);
      CHECK(r.out.empty());
    }
  }
}

struct BadCase {
  std::vector<std::string> args;
  std::string input;
  int exit_code;
  std::vector<std::string> mentions;  // the offending input, and where it is
};

TEST_CASE("bad input gives one stderr line naming it, the right exit code, no output", "[cli]") {
  const std::string bad_bits = WriteScratchFile("bad_bits.toml",
                                                "name = \"bad\"\nkind = \"minifloat\"\n"
                                                "bits = 8\nexponent_bits = 4\nmantissa_bits = 4\n");
  const std::string bad_toml = WriteScratchFile("bad_syntax.toml", "name = \"x\nbits = 8\n");
  const std::string block = WriteScratchFile(
      "block.toml",
      "name = \"mxfp4_test\"\nelement = \"e2m1fn\"\n[block]\nsize = 32\nscale = \"e8m0fnu\"\n");
  const std::string missing = ScratchDir() + "/missing.toml";
  const std::vector<BadCase> cases = {
      // usage errors: options
      {{"encode", "-f", "nosuch"}, "3f800000", 2, {"nosuch"}},
      {{"decode", "-f", "nosuch"}, "00", 2, {"nosuch"}},
      {{"encode", "-f", "e4m3fn", "-r", "foo"}, "3f800000", 2, {"foo"}},
      {{"encode", "-f", "e4m3fn", "-r", "sr:0"}, "3f800000", 2, {"sr:0"}},
      {{"encode", "-f", "e4m3fn", "--overflow", "bar"}, "3f800000", 2, {"bar"}},
      {{"encode", "-f", "e4m3fn", "--backend", "warp"}, "3f800000", 2, {"warp"}},
      {{"encode", "-f", "e4m3fn", "--input-type", "f16"}, "3f800000", 2, {"f16"}},
      {{"encode", "-f", "e4m3fn", "--seed", "-1"}, "3f800000", 2, {"--seed", "-1"}},
      {{"encode", "-f", "e4m3fn", "--seed", "18446744073709551616"},
       "0",
       2,
       {"18446744073709551616"}},
      {{"encode", "-f", "e4m3fn", "--stream", "4294967296"}, "0", 2, {"4294967296"}},
      {{"decode", "-f", "e4m3fn", "--print", "octal"}, "00", 2, {"octal"}},
      {{"encode", "-f", bad_bits}, "3f800000", 2, {bad_bits + ":3", "bits"}},
      {{"encode", "-f", bad_toml}, "3f800000", 2, {bad_toml}},
      {{"encode", "-f", missing}, "3f800000", 2, {missing}},
      {{"encode", "-f", block}, "3f800000", 2, {"mxfp4_test", "e2m1fn"}},
      {{"formats", "show", "nosuch"}, "", 2, {"nosuch"}},
      {{"formats", "show", bad_bits}, "", 2, {bad_bits, "bits"}},
      // data errors: stdin
      {{"encode", "-f", "e4m3fn"}, "3f800000 0xzz", 1, {"'0xzz'", "line 1", "item 2"}},
      {{"encode", "-f", "e4m3fn"}, "3f800000\n\n  1.5", 1, {"'1.5'", "line 3", "item 2"}},
      {{"encode", "-f", "e4m3fn"}, "0x", 1, {"'0x'"}},
      {{"encode", "-f", "e4m3fn"}, "-3f800000", 1, {"'-3f800000'"}},
      {{"encode", "-f", "e4m3fn"}, "123456789", 1, {"'123456789'", "32 bits"}},
      {{"encode", "-f", "e4m3fn", "--input-type", "f64"},
       "1ffffffffffffffff",
       1,
       {"'1ffffffffffffffff'", "64 bits"}},
      {{"encode", "-f", "e4m3fn"}, std::string("3f800000 \x01\xff\x80"), 1, {"\\x01\\xff\\x80"}},
      {{"decode", "-f", "e4m3fn"}, "7e\n1ff", 1, {"'1ff'", "line 2", "8 bits"}},
      {{"decode", "-f", "e2m1fn"}, "0 f 10", 1, {"'10'", "item 3", "4 bits"}},
      {{"decode", "-f", "e4m3fn"}, "7g", 1, {"'7g'"}},
  };
  for (const BadCase& c : cases) {
    std::string joined;
    for (const std::string& a : c.args) joined += a + " ";
    const CliResult r = RunCli(c.args, c.input);
    INFO(joined << "<<< " << c.input << "\nstderr: " << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(IsOneErrorLine(r.err));
    CHECK(r.out.empty());
    for (const std::string& m : c.mentions) {
      INFO("mentions " << m);
      CHECK(r.err.find(m) != std::string::npos);
    }
  }
}

TEST_CASE("a user format file works through -f path", "[cli]") {
  // 5-bit e3m1 with an OCP-style NaN (specials = "fn"): not a built-in.
  const std::string path = WriteScratchFile(
      "e3m1.toml",
      "name = \"e3m1_user\"\nbits = 5\nexponent_bits = 3\nmantissa_bits = 1\nspecials = \"fn\"\n");
  const StatusOr<Format> f = ResolveFormat(path);
  REQUIRE(f.ok());
  CHECK(Encode1(path, F32(1.0f)) == "06");
  CHECK(Encode1(path, F32(16.0f)) == "0e");
  CHECK(Encode1(path, F32(-0.125f)) == "11");
  std::string codes, values;
  for (uint32_t c = 0; c < 32; ++c) codes += Hex(c, 2) + "\n";
  const CliResult dec = RunCli({"decode", "-f", path}, codes);
  REQUIRE(dec.exit_code == 0);
  const CliResult enc = RunCli({"encode", "-f", path, "--input-type", "f64"}, dec.out);
  REQUIRE(enc.exit_code == 0);
  const std::vector<std::string> back = Lines(enc.out);
  REQUIRE(back.size() == 32);
  for (uint32_t c = 0; c < 32; ++c) CHECK(ParseHex(back[c]) == ExpectedRoundTrip(f->spec, c));
}

}  // namespace
}  // namespace qfloat::cli_test
