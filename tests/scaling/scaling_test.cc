// Scaling recipes: the PITFALLS.md worked cases, exhaustive code x scale sweeps, delayed and
// per-channel scaling, and an independent per-block reference against every backend.
#include "qfloat/scaling.h"

#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "qfloat/detail/bits.h"

namespace qfloat {
namespace {

FormatSpec Spec(const char* name) {
  StatusOr<Format> f = ResolveFormat(name);
  REQUIRE(f.ok());
  return f->spec;
}

Scaling Recipe(const std::string& text) {
  StatusOr<Scaling> s = ParseScaling(text);
  INFO(text);
  REQUIRE(s.ok());
  return *s;
}

uint32_t Bits(float v) { return std::bit_cast<uint32_t>(v); }
uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// Fake-quant of a 1-D block (shape {n}) with `recipe`; returns the output.
std::vector<float> FakeQuant(const FormatSpec& el, const std::string& recipe, std::vector<float> x,
                             Backend backend = Backend::kScalar) {
  std::vector<float> out(x.size());
  const std::vector<int64_t> shape = {static_cast<int64_t>(x.size())};
  TensorOptions o;
  o.backend = backend;
  const Status st = QuantizeScaled(el, Recipe(recipe), shape, x, out, o);
  INFO(st.message());
  REQUIRE(st.ok());
  return out;
}

ScaledTensor Packed(const FormatSpec& el, const std::string& recipe, const std::vector<float>& x,
                    std::vector<int64_t> shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(x.size())};
  ScaledTensor t;
  TensorOptions o;
  o.backend = Backend::kScalar;
  const Status st = EncodeScaled(el, Recipe(recipe), shape, x, &t, o);
  INFO(st.message());
  REQUIRE(st.ok());
  return t;
}

uint32_t Code(const ScaledTensor& t, size_t i) { return ReadPackedCode(t.element, t.codes, i); }
uint32_t ScaleCode(const ScaledTensor& t, size_t i) {
  return ReadPackedCode(t.scale_spec, t.scales, i);
}

TEST_CASE("ParseScaling round-trips and rejects bad recipes", "[scaling]") {
  for (const char* text :
       {"none", "tensor", "tensor:pow2:margin=2", "delayed:16:max", "delayed:4:recent:margin=1",
        "channel:0", "channel:-1:pow2", "block:32:e8m0fnu:floor", "block:32:0:e8m0fnu:rceil",
        "block:16x16:e8m0fnu:even", "block:16:e4m3fn:ceil:inf=max:tiny=torchao",
        "block:32:e8m0fnu:floor:twos", "block:32:fp32:floor:nosat", "nvfp4:te", "nvfp4:torchao",
        "nvfp4:te:16x16"}) {
    StatusOr<Scaling> s = ParseScaling(text);
    INFO(text);
    REQUIRE(s.ok());
    CHECK(ToString(*s) == text);
    CHECK(!Describe(*s).empty());
  }
  CHECK(ToString(Recipe("block:32:e8m0fnu")) == "block:32:e8m0fnu:floor");
  CHECK(ToString(Recipe("nvfp4")) == "nvfp4:te");
  for (const char* bad :
       {"tensr", "delayed", "delayed:0", "channel", "channel:x", "block:32", "block:0:e8m0fnu",
        "block:32:nosuchformat:floor", "block:32:e8m0fnu:up", "block:4x4:0:e8m0fnu",
        "tensor:margin=x", "nvfp4:amd", "none:1", "block:32:mxfp4:floor"}) {
    StatusOr<Scaling> s = ParseScaling(bad);
    INFO(bad);
    CHECK(!s.ok());
    if (!s.ok()) CHECK(s.status().message().find(bad) != std::string::npos);
  }
}

TEST_CASE("Presets resolve to an element and a recipe, with overrides", "[scaling]") {
  struct Case {
    const char* name;
    const char* element_desc;
    const char* recipe;
    int emax;
  };
  for (const Case& c : {Case{"mxfp8_e4m3", "e4m3fn", "block:32:e8m0fnu:floor", 8},
                        Case{"mxfp8_e5m2", "e5m2", "block:32:e8m0fnu:floor", 15},
                        Case{"mxfp6_e3m2", "e3m2fn", "block:32:e8m0fnu:floor", 4},
                        Case{"mxfp6_e2m3", "e2m3fn", "block:32:e8m0fnu:floor", 2},
                        Case{"mxfp4", "e2m1fn", "block:32:e8m0fnu:floor", 2},
                        Case{"mxint8", "int8_mx", "block:32:e8m0fnu:floor:twos", 0},
                        Case{"nvfp4", "e2m1fn", "nvfp4:te", 2},
                        Case{"nvfp4_torchao", "e2m1fn", "nvfp4:torchao", 2}}) {
    INFO(c.name);
    StatusOr<ScaledFormat> f = ResolveScaledFormat(c.name);
    REQUIRE(f.ok());
    CHECK(f->format.element == c.element_desc);
    CHECK(ToString(f->scaling) == c.recipe);
    // emax_elem comes from the descriptor (OCP MX v1.0 §6.3: 8/15/4/2/2/0).
    CHECK(std::ilogb(MaxFinite(f->format.spec)) == c.emax);
  }
  StatusOr<ScaledFormat> r = ResolveScaledFormat("mxfp4", "rceil");
  REQUIRE(r.ok());
  CHECK(ToString(r->scaling) == "block:32:e8m0fnu:rceil");
  StatusOr<ScaledFormat> t = ResolveScaledFormat("e4m3fn", "tensor:pow2");
  REQUIRE(t.ok());
  CHECK(t->scaling.kind == ScalingKind::kTensor);
  CHECK(ResolveScaledFormat("e4m3fn").ok());
  CHECK(ResolveScaledFormat("e4m3fn")->scaling.kind == ScalingKind::kNone);
  CHECK(!ResolveScaledFormat("e4m3fn", "rceil").ok());  // a bare rule needs a block preset
  CHECK(!ResolveScaledFormat("e4m3fn", "block:32:e8m0fnu:floor:twos").ok());
  CHECK(!ResolveScaledFormat("nosuch").ok());
}

TEST_CASE("MX worked cases of PITFALLS.md", "[scaling][pitfalls]") {
  const FormatSpec e2m1 = Spec("e2m1fn"), e4m3 = Spec("e4m3fn"), e5m2 = Spec("e5m2");
  SECTION("e2m1 amax 7: floor X = 1 clamps 7 to 6; rceil X = 2, 3.5 ties to 4, dequantised 8") {
    ScaledTensor f = Packed(e2m1, "block:32:e8m0fnu:floor", {7.0f, 1.0f});
    CHECK(ScaleCode(f, 0) == 127);
    CHECK(Code(f, 0) == 0x7);  // 6
    CHECK(FakeQuant(e2m1, "block:32:e8m0fnu:floor", {7.0f, 1.0f})[0] == 6.0f);
    ScaledTensor r = Packed(e2m1, "block:32:e8m0fnu:rceil", {7.0f, 1.0f});
    CHECK(ScaleCode(r, 0) == 128);
    CHECK(Code(r, 0) == 0x6);  // 4
    CHECK(FakeQuant(e2m1, "block:32:e8m0fnu:rceil", {7.0f, 1.0f})[0] == 8.0f);
  }
  SECTION("e4m3 amax 500: floor clamps to 448; rceil X = 2 and 250 -> 256") {
    CHECK(FakeQuant(e4m3, "block:32:e8m0fnu:floor", {500.0f})[0] == 448.0f);
    ScaledTensor r = Packed(e4m3, "block:32:e8m0fnu:rceil", {500.0f});
    CHECK(ScaleCode(r, 0) == 128);
    CHECK(detail::DecodeToDouble(e4m3, Code(r, 0)) == 256.0);
    CHECK(FakeQuant(e4m3, "block:32:e8m0fnu:rceil", {500.0f})[0] == 512.0f);
  }
  SECTION("e5m2 amax 127.9999 (ao#436) clamps at max") {
    ScaledTensor f = Packed(e5m2, "block:32:e8m0fnu:floor", {127.9999f, -3.0f});
    CHECK(ScaleCode(f, 0) == 127 + 6 - 15);
    CHECK(Code(f, 0) == e5m2.max_code);
    CHECK(FakeQuant(e5m2, "block:32:e8m0fnu:floor", {127.9999f})[0] == 112.0f);
  }
  SECTION("all-zero block -> 0x00, inf/NaN amax -> 0xFF (rceil: inf -> 0xFE)") {
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (const char* rule : {"floor", "ceil", "even", "rceil"}) {
      INFO(rule);
      const std::string r = std::string("block:4:e8m0fnu:") + rule;
      ScaledTensor t = Packed(e4m3, r, {0, 0, 0, 0, 1, inf, 2, 3, 1, nan, 2, 3, -0.0f, 0, 0, 0});
      CHECK(ScaleCode(t, 0) == 0x00);
      CHECK(ScaleCode(t, 1) == (std::string(rule) == "rceil" ? 0xFE : 0xFF));
      CHECK(ScaleCode(t, 2) == 0xFF);
      CHECK(ScaleCode(t, 3) == 0x00);
      CHECK(Code(t, 12) == 0x80);  // -0 keeps its sign
      const std::vector<float> q =
          FakeQuant(e4m3, r, {0, 0, 0, 0, 1, inf, 2, 3, 1, nan, 2, 3, -0.0f, 0, 0, 0});
      CHECK(q[0] == 0.0f);
      CHECK(std::isnan(q[8]));
      CHECK(std::isnan(q[11]));
      CHECK(std::signbit(q[12]));
    }
    ScaledTensor m = Packed(e4m3, "block:4:e8m0fnu:floor:inf=max", {1, inf, 2, 3});
    CHECK(ScaleCode(m, 0) == 0xFE);
    CHECK(Code(m, 1) == e4m3.max_code);
    ScaledTensor n = Packed(e4m3, "block:4:e8m0fnu:rceil:inf=nan", {1, inf, 2, 3});
    CHECK(ScaleCode(n, 0) == 0xFF);
  }
  SECTION("floor(log2(a/b)) != floor(log2 a) - floor(log2 b) (vllm#43557)") {
    // amax 1.5 * 2^3 = 12 with e2m1 (max 6): floor gives 2^(3-2) = 2, not 2^floor(log2 2) = 2^1.
    ScaledTensor f = Packed(e2m1, "block:32:e8m0fnu:floor", {12.0f});
    CHECK(ScaleCode(f, 0) == 128);
    ScaledTensor c = Packed(e2m1, "block:32:e8m0fnu:ceil", {12.0f});
    CHECK(ScaleCode(c, 0) == 129);
    // EVEN rounds 1.75 * 2^k up a binade for e2m1 (1 fraction bit), not 1.7.
    CHECK(ScaleCode(Packed(e2m1, "block:32:e8m0fnu:even", {7.0f}), 0) == 128);
    CHECK(ScaleCode(Packed(e2m1, "block:32:e8m0fnu:even", {6.8f}), 0) == 127);
  }
  SECTION("scale clamps at the E8M0 range") {
    CHECK(ScaleCode(Packed(e4m3, "block:2:e8m0fnu:floor", {1e-45f, 0}), 0) == 0);
    CHECK(ScaleCode(Packed(Spec("int8_mx"), "block:2:e8m0fnu:ceil", {3e38f, 0}), 0) == 0xFE);
  }
  SECTION("tiny=torchao uses torchao's divisor but keeps the stored scale") {
    const std::vector<float> x = {std::ldexp(1.0f, -125), std::ldexp(-1.0f, -127)};
    ScaledTensor exact = Packed(e4m3, "block:2:e8m0fnu:floor", x);
    ScaledTensor ao = Packed(e4m3, "block:2:e8m0fnu:floor:tiny=torchao", x);
    CHECK(ScaleCode(exact, 0) == 0);
    CHECK(ScaleCode(ao, 0) == 0);
    CHECK(detail::DecodeToDouble(e4m3, Code(exact, 0)) == 4.0);  // 2^-125 / 2^-127
    CHECK(detail::DecodeToDouble(e4m3, Code(ao, 0)) == 2.0);     // 2^-125 / 2^-126
  }
}

TEST_CASE("MXINT8: two's complement codes, symmetric clamp, 0x80 decodes to -2", "[scaling]") {
  StatusOr<ScaledFormat> f = ResolveScaledFormat("mxint8");
  REQUIRE(f.ok());
  const FormatSpec& el = f->format.spec;
  std::vector<float> x = {1.0f, -1.0f, -1.0f / 64, 1.984375f, -1.984375f, 0.5f, -2.0f, 0.0f};
  ScaledTensor t;
  const std::vector<int64_t> shape = {8};
  REQUIRE(EncodeScaled(el, f->scaling, shape, x, &t, TensorOptions{}).ok());
  // amax 2 -> X = 2^1, so the elements are x / 2.
  CHECK(ScaleCode(t, 0) == 128);
  CHECK(t.codes[0] == 0x20);  // 0.5 = 32 / 64
  CHECK(t.codes[1] == 0xE0);  // -32 in two's complement
  CHECK(t.codes[2] == 0x00);  // -1/128 ties to even: -0, stored as 0
  CHECK(t.codes[6] == 0xC0);  // -1 = -64 / 64
  t.codes[7] = 0x80;          // the two's-complement-only code
  std::vector<float> out(8);
  REQUIRE(DecodeScaled(t, out, TensorOptions{}).ok());
  CHECK(out[0] == 1.0f);
  CHECK(out[1] == -1.0f);
  CHECK(out[7] == -4.0f);  // -2 * X
  // Clamp to ±127/64 (microxcaling int8): 1.99 * X rounds to 2 and clamps.
  std::vector<float> q(2);
  const std::vector<int64_t> two = {2};
  REQUIRE(
      QuantizeScaled(el, f->scaling, two, std::vector<float>{1.999f, -1.999f}, q, TensorOptions{})
          .ok());
  CHECK(q[0] == 1.984375f);
  CHECK(q[1] == -1.984375f);
}

// Every finite code of an MX element times every finite E8M0 scale re-encodes to the same code and
// scale; every scale byte (incl. 0xFF) decodes to v(code) * 2^(s-127) or NaN.
TEST_CASE("Exhaustive: all codes x all E8M0 scales", "[scaling][exhaustive]") {
  for (const char* name : {"e4m3fn", "e5m2", "e3m2fn", "e2m3fn", "e2m1fn", "int8_mx"}) {
    INFO(name);
    const FormatSpec el = Spec(name);
    const double vmax = MaxFinite(el);
    std::vector<uint32_t> codes;
    for (uint32_t c = 0; c <= (el.bits == 8 ? 255u : (1u << el.bits) - 1); ++c) {
      if (std::isfinite(detail::DecodeToDouble(el, c))) codes.push_back(c);
    }
    std::vector<double> x;
    std::vector<int> ks;
    for (int k = -127; k <= 127; ++k) {
      for (uint32_t c : codes) {
        x.push_back(std::ldexp(detail::DecodeToDouble(el, c), k));
        x.push_back(std::ldexp(vmax, k));  // pins amax: floor gives exactly 2^k
        ks.push_back(k);
      }
    }
    const std::vector<int64_t> shape = {static_cast<int64_t>(x.size() / 2), 2};
    const Scaling s = Recipe("block:2:e8m0fnu:floor");
    ScaledTensor t;
    TensorOptions o;
    REQUIRE(EncodeScaled(el, s, shape, x, &t, o).ok());
    std::vector<double> q(x.size());
    REQUIRE(QuantizeScaled(el, s, shape, x, q, o).ok());
    size_t code_mismatch = 0, scale_mismatch = 0, value_mismatch = 0;
    for (size_t b = 0; b < x.size() / 2; ++b) {
      const uint32_t c = codes[b % codes.size()];
      if (Code(t, 2 * b) != c) ++code_mismatch;
      if (ScaleCode(t, b) != static_cast<uint32_t>(ks[b] + 127)) ++scale_mismatch;
      if (Bits(q[2 * b]) != Bits(x[2 * b])) ++value_mismatch;
    }
    CHECK(code_mismatch == 0);
    CHECK(scale_mismatch == 0);
    CHECK(value_mismatch == 0);
    // Decoding: one block per (scale byte, code), scales set directly.
    ScaledTensor d;
    d.element = el;
    d.scaling = s;
    d.scale_spec = Spec("e8m0fnu");
    const int64_t nb = 256 * static_cast<int64_t>(codes.size());
    d.shape = {nb, 2};
    d.codes.assign(PackedBytes(el, static_cast<size_t>(2 * nb)), 0);
    d.scales.assign(static_cast<size_t>(nb), 0);
    for (int64_t b = 0; b < nb; ++b) {
      WritePackedCode(el, d.codes, static_cast<size_t>(2 * b), codes[b % codes.size()]);
      d.scales[static_cast<size_t>(b)] = static_cast<uint8_t>(b / codes.size());
    }
    std::vector<float> out(static_cast<size_t>(2 * nb));
    REQUIRE(DecodeScaled(d, out, o).ok());
    size_t decode_mismatch = 0;
    for (int64_t b = 0; b < nb; ++b) {
      const int sbyte = static_cast<int>(b / codes.size());
      const float got = out[static_cast<size_t>(2 * b)];
      if (sbyte == 255) {
        decode_mismatch += std::isnan(got) ? 0 : 1;
        continue;
      }
      const float want = static_cast<float>(
          std::ldexp(detail::DecodeToDouble(el, codes[b % codes.size()]), sbyte - 127));
      decode_mismatch += Bits(got) == Bits(want) ? 0 : 1;
    }
    CHECK(decode_mismatch == 0);
  }
}

TEST_CASE("Delayed scaling: the state carries across steps; a jump saturates", "[scaling]") {
  const FormatSpec e4m3 = Spec("e4m3fn");
  const Scaling s = Recipe("delayed:2:max");
  ScalingState state;
  TensorOptions o;
  const std::vector<int64_t> shape = {2};
  std::vector<float> out(2);
  // Step 0 uses scale 1 (no history yet).
  REQUIRE(QuantizeScaled(e4m3, s, shape, std::vector<float>{1.0f, -0.5f}, out, o, &state).ok());
  CHECK(out[0] == 1.0f);
  CHECK(state.scale == 448.0f);  // 448 / amax 1
  CHECK(state.steps == 1);
  // Step 1: amax 1 again; x * 448 is representable.
  REQUIRE(QuantizeScaled(e4m3, s, shape, std::vector<float>{1.0f, 0.25f}, out, o, &state).ok());
  CHECK(out[0] == 1.0f);
  // Step 2: amax jumps to 100 but the scale still comes from the history: 100 * 448 saturates.
  REQUIRE(QuantizeScaled(e4m3, s, shape, std::vector<float>{100.0f, 0.5f}, out, o, &state).ok());
  CHECK(out[0] == 1.0f);  // 448 / 448
  CHECK(state.scale == 448.0f / 100.0f);
  // Step 3: amax back to 1, but max over the 2-step history is still 100.
  REQUIRE(QuantizeScaled(e4m3, s, shape, std::vector<float>{1.0f, 0.5f}, out, o, &state).ok());
  CHECK(state.scale == 448.0f / 100.0f);
  // Step 4: the jump has left the history.
  REQUIRE(QuantizeScaled(e4m3, s, shape, std::vector<float>{1.0f, 0.5f}, out, o, &state).ok());
  CHECK(state.scale == 448.0f);
  CHECK(state.amax_history.size() == 2);
  // `recent` follows the last amax only; a zero amax keeps the previous scale (TE).
  ScalingState r;
  const Scaling recent = Recipe("delayed:8:recent");
  REQUIRE(QuantizeScaled(e4m3, recent, shape, std::vector<float>{100.0f, 0}, out, o, &r).ok());
  REQUIRE(QuantizeScaled(e4m3, recent, shape, std::vector<float>{2.0f, 0}, out, o, &r).ok());
  CHECK(r.scale == 224.0f);
  REQUIRE(QuantizeScaled(e4m3, recent, shape, std::vector<float>{0.0f, 0}, out, o, &r).ok());
  CHECK(r.scale == 224.0f);
  // Without a state, delayed scaling is refused.
  CHECK(!QuantizeScaled(e4m3, s, shape, std::vector<float>{1.0f, 0}, out, o).ok());
}

TEST_CASE("Per-tensor and per-channel scaling follow TransformerEngine", "[scaling]") {
  const FormatSpec e4m3 = Spec("e4m3fn");
  TensorOptions o;
  // Per tensor: scale = 448 / 3 (float32), scale_inv = 1 / scale.
  const std::vector<float> x = {3.0f, -1.0f, 0.3f, 0.0f};
  const std::vector<int64_t> shape = {4};
  ScaledTensor t;
  REQUIRE(EncodeScaled(e4m3, Recipe("tensor"), shape, x, &t, o).ok());
  const float scale = 448.0f / 3.0f;
  CHECK(std::bit_cast<float>(ScaleCode(t, 0)) == 1.0f / scale);
  std::vector<float> q(4);
  REQUIRE(QuantizeScaled(e4m3, Recipe("tensor"), shape, x, q, o).ok());
  for (size_t i = 0; i < 4; ++i) {
    const float y = x[i] * scale;
    const float v = static_cast<float>(
        detail::DecodeToDouble(e4m3, detail::EncodeDouble(e4m3, y, QuantizeOptions{}, 0)));
    CHECK(Bits(q[i]) == Bits(v * (1.0f / scale)));
  }
  // pow2 rounds the scale down to a power of two: 448/3 -> 128.
  REQUIRE(EncodeScaled(e4m3, Recipe("tensor:pow2"), shape, x, &t, o).ok());
  CHECK(std::bit_cast<float>(ScaleCode(t, 0)) == 1.0f / 128.0f);
  REQUIRE(EncodeScaled(e4m3, Recipe("tensor:margin=1"), shape, x, &t, o).ok());
  CHECK(std::bit_cast<float>(ScaleCode(t, 0)) == 1.0f / (224.0f / 3.0f));
  // Zero amax: scale 1.
  REQUIRE(EncodeScaled(e4m3, Recipe("tensor"), shape, std::vector<float>(4, 0.0f), &t, o).ok());
  CHECK(std::bit_cast<float>(ScaleCode(t, 0)) == 1.0f);
  // Per channel along axis 0 of [2, 3]: one scale per row; along axis 1: one per column.
  const std::vector<float> m = {1.0f, -2.0f, 0.5f, 10.0f, 3.0f, -40.0f};
  const std::vector<int64_t> s23 = {2, 3};
  REQUIRE(EncodeScaled(e4m3, Recipe("channel:0"), s23, m, &t, o).ok());
  REQUIRE(t.scale_shape == std::vector<int64_t>{2});
  CHECK(std::bit_cast<float>(ScaleCode(t, 0)) == 1.0f / (448.0f / 2.0f));
  CHECK(std::bit_cast<float>(ScaleCode(t, 1)) == 1.0f / (448.0f / 40.0f));
  REQUIRE(EncodeScaled(e4m3, Recipe("channel:1"), s23, m, &t, o).ok());
  REQUIRE(t.scale_shape == std::vector<int64_t>{3});
  CHECK(std::bit_cast<float>(ScaleCode(t, 1)) == 1.0f / (448.0f / 3.0f));
  CHECK(std::bit_cast<float>(ScaleCode(t, 2)) == 1.0f / (448.0f / 40.0f));
}

TEST_CASE("Scale shapes and errors name the input", "[scaling]") {
  const std::vector<int64_t> s = {4, 6, 40};
  CHECK(*ScaleShape(Recipe("block:32:e8m0fnu:floor"), s) == std::vector<int64_t>{4, 6, 2});
  CHECK(*ScaleShape(Recipe("block:4:1:e8m0fnu:floor"), s) == std::vector<int64_t>{4, 2, 40});
  CHECK(*ScaleShape(Recipe("block:4x16:e8m0fnu:floor"), s) == std::vector<int64_t>{4, 2, 3});
  CHECK(*ScaleShape(Recipe("channel:1"), s) == std::vector<int64_t>{6});
  CHECK(*ScaleShape(Recipe("tensor"), s) == std::vector<int64_t>{1});
  CHECK(!ScaleShape(Recipe("block:32:3:e8m0fnu:floor"), s).ok());
  std::vector<float> in(10), out(10);
  const std::vector<int64_t> wrong = {3, 3};
  const Status st = QuantizeScaled(Spec("e4m3fn"), Recipe("block:32:e8m0fnu:floor"), wrong, in, out,
                                   TensorOptions{});
  CHECK(!st.ok());
  CHECK(st.message().find("9") != std::string::npos);
}

// ---- an independent per-block reference, and every backend against it ----

struct RefResult {
  std::vector<uint32_t> codes;
  std::vector<uint32_t> scales;
  std::vector<double> values;
};

// Power-of-two block recipes element by element: block of each element from its coordinates.
RefResult ReferencePow2(const FormatSpec& el, const Scaling& s, const std::vector<int64_t>& shape,
                        const std::vector<float>& x, const QuantizeOptions& qo) {
  const int rank = static_cast<int>(shape.size());
  std::vector<int64_t> stride(shape.size(), 1);
  for (int d = rank - 2; d >= 0; --d) stride[d] = stride[d + 1] * shape[d + 1];
  std::vector<int64_t> sshape = *ScaleShape(s, shape);
  std::vector<int64_t> sstride(sshape.size(), 1);
  for (int d = rank - 2; d >= 0; --d) sstride[d] = sstride[d + 1] * sshape[d + 1];
  auto block_of = [&](int64_t flat) {
    int64_t idx = 0;
    for (int d = 0; d < rank; ++d) {
      int64_t c = (flat / stride[d]) % shape[d];
      const int axis = s.axis < 0 ? s.axis + rank : s.axis;
      if (s.block_rows > 0) {
        if (d == rank - 1) c /= s.block_size;
        if (d == rank - 2) c /= s.block_rows;
      } else if (d == axis) {
        c /= s.block_size;
      }
      idx += c * sstride[d];
    }
    return idx;
  };
  int64_t nscales = 1;
  for (int64_t d : sshape) nscales *= d;
  std::vector<double> amax(static_cast<size_t>(nscales), 0.0);
  for (size_t j = 0; j < x.size(); ++j) {
    double& a = amax[static_cast<size_t>(block_of(static_cast<int64_t>(j)))];
    const double v = std::fabs(static_cast<double>(x[j]));
    a = (std::isnan(v) || std::isnan(a)) ? std::numeric_limits<double>::quiet_NaN()
                                         : std::max(a, v);
  }
  RefResult r;
  std::vector<detail::Pow2Scale> ps(amax.size());
  for (size_t b = 0; b < amax.size(); ++b) {
    ps[b] = detail::ComputePow2Scale(el, s, amax[b], true);
    r.scales.push_back(ps[b].is_nan ? s.scale_spec.nan_code
                                    : detail::EncodeDouble(s.scale_spec, std::ldexp(1.0, ps[b].k),
                                                           QuantizeOptions{}, 0));
  }
  QuantizeOptions o = qo;
  o.overflow = Overflow::kSatFinite;
  for (size_t j = 0; j < x.size(); ++j) {
    const detail::Pow2Scale& p = ps[static_cast<size_t>(block_of(static_cast<int64_t>(j)))];
    const double y = p.is_nan ? std::numeric_limits<double>::quiet_NaN()
                              : std::ldexp(static_cast<double>(x[j]), -p.k);
    const uint32_t c = detail::EncodeDouble(el, y, o, j);
    r.codes.push_back(c);
    r.values.push_back(p.is_nan ? std::numeric_limits<double>::quiet_NaN()
                                : std::ldexp(detail::DecodeToDouble(el, c), p.k));
  }
  return r;
}

std::vector<float> RandomTensor(std::mt19937_64& rng, size_t n, bool specials) {
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> exp(-30, 30);
  std::vector<float> x(n);
  const int block_exp = exp(rng);
  for (size_t j = 0; j < n; ++j) x[j] = std::ldexp(normal(rng), block_exp + exp(rng) / 6);
  if (specials && n > 40) {
    for (size_t j = 0; j < 32 && j < n; ++j) x[j] = 0.0f;  // an all-zero block (last axis)
    x[n / 2] = std::numeric_limits<float>::quiet_NaN();
    x[n / 3] = -std::numeric_limits<float>::infinity();
    x[n - 1] = std::ldexp(1.0f, -140);
    x[n - 2] = -0.0f;
  }
  return x;
}

std::vector<Backend> BackendsToTest() {
  std::vector<Backend> b = {Backend::kScalar, Backend::kAuto};
  TensorOptions o;
  o.backend = Backend::kSimd;
  std::vector<float> in(1, 1.0f), out(1);
  if (Quantize(Spec("e4m3fn"), in, out, o).ok()) b.push_back(Backend::kSimd);
  o.backend = Backend::kCuda;
  if (Quantize(Spec("e4m3fn"), in, out, o).ok()) b.push_back(Backend::kCuda);
  return b;
}

TEST_CASE("Block recipes: reference vs every backend, many shapes, bit for bit", "[scaling]") {
  std::mt19937_64 rng(12345);
  const std::vector<Backend> backends = BackendsToTest();
  WARN("backends compared: " << backends.size() << " (scalar, auto"
                             << (backends.size() > 2 ? ", simd" : "") << ")");
  struct Shape {
    std::vector<int64_t> dims;
    const char* recipe;
  };
  const std::vector<Shape> cases = {
      {{1}, "block:32:e8m0fnu:floor"},         {{7}, "block:32:e8m0fnu:rceil"},
      {{31}, "block:32:e8m0fnu:even"},         {{33}, "block:32:e8m0fnu:ceil"},
      {{3, 17}, "block:32:e8m0fnu:floor"},     {{5, 64}, "block:32:e8m0fnu:rceil"},
      {{2, 3, 40}, "block:32:e8m0fnu:even"},   {{64, 96}, "block:32:0:e8m0fnu:floor"},
      {{40, 50}, "block:16x16:e8m0fnu:floor"}, {{3, 33, 70}, "block:32x32:e8m0fnu:rceil"},
      {{9, 20, 3}, "block:8:1:e8m0fnu:ceil"},  {{300, 129}, "block:32:e8m0fnu:floor"},
      {{70000}, "block:32:e4m3fn:floor"},      {{4, 1000}, "block:16:fp32:rceil"},
      {{0}, "block:32:e8m0fnu:floor"},         {{}, "block:32:e8m0fnu:floor"},
  };
  size_t compared = 0, mismatches = 0;
  for (const char* el_name : {"e4m3fn", "e5m2", "e3m2fn", "e2m3fn", "e2m1fn", "int8_mx"}) {
    const FormatSpec el = Spec(el_name);
    for (const Shape& c : cases) {
      INFO(el_name << " " << c.recipe << " rank " << c.dims.size());
      const Scaling s = Recipe(c.recipe);
      int64_t n = 1;
      for (int64_t d : c.dims) n *= d;
      const std::vector<float> x = RandomTensor(rng, static_cast<size_t>(n), true);
      for (RoundingMode mode :
           {RoundingMode::kNearestEven, RoundingMode::kStochastic, RoundingMode::kUp}) {
        TensorOptions o;
        o.quantize.rounding.mode = mode;
        o.quantize.seed = 99;
        const RefResult ref = ReferencePow2(el, s, c.dims, x, o.quantize);
        for (Backend b : backends) {
          for (int threads : {1, 3}) {
            o.backend = b;
            o.threads = threads;
            std::vector<float> q(x.size());
            REQUIRE(QuantizeScaled(el, s, c.dims, x, q, o).ok());
            ScaledTensor t;
            REQUIRE(EncodeScaled(el, s, c.dims, x, &t, o).ok());
            std::vector<float> d(x.size());
            REQUIRE(DecodeScaled(t, d, o).ok());
            for (size_t j = 0; j < x.size(); ++j) {
              ++compared;
              const float want = static_cast<float>(ref.values[j]);
              const bool ok = Bits(q[j]) == Bits(want) && Bits(d[j]) == Bits(want) &&
                              ReadPackedCode(el, t.codes, j) == ref.codes[j];
              if (!ok && ++mismatches < 5) {
                UNSCOPED_INFO("element " << j << " x=" << x[j] << " want " << want << " got "
                                         << q[j] << " / " << d[j]);
              }
            }
            for (size_t b2 = 0; b2 < ref.scales.size(); ++b2) {
              ++compared;
              if (ScaleCode(t, b2) != ref.scales[b2]) ++mismatches;
            }
          }
        }
      }
    }
  }
  WARN("reference vs backends: " << compared - mismatches << "/" << compared
                                 << " values, codes and scales identical");
  CHECK(compared > 1000000);
  CHECK(mismatches == 0);
}

// Blocks of 2^e-scaled normals, then blocks the SIMD block kernels must leave to the general path
// placed mid-chunk: an all-zero block (which they take), and blocks with a subnormal, NaN or
// infinite amax, or an amax so large that x * 2^-k can be subnormal for a tiny element.
std::vector<float> BlockKernelTensor(std::mt19937_64& rng, size_t n, size_t block) {
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> exp(-40, 12);
  std::vector<float> x(n);
  for (size_t b = 0; b * block < n; ++b) {
    const int e = exp(rng);
    for (size_t j = b * block; j < std::min(n, (b + 1) * block); ++j) {
      x[j] = std::ldexp(normal(rng), e);
    }
  }
  auto fill = [&](size_t at, float v) {
    const size_t b0 = at / block * block;
    for (size_t j = b0; j < std::min(n, b0 + block); ++j) x[j] = v * (j % 3 == 0 ? -1.0f : 0.5f);
  };
  fill(n / 7, 0.0f);
  fill(n / 5, std::ldexp(1.0f, -140));
  x[n / 3 + 5] = std::numeric_limits<float>::quiet_NaN();
  x[n / 2 + 9] = std::numeric_limits<float>::infinity();
  fill(2 * n / 3, std::ldexp(1.0f, 100));
  x[2 * n / 3 / block * block + 1] = std::ldexp(1.0f, -120);
  fill(3 * n / 4, 0.0f);
  return x;
}

TEST_CASE("Block kernels: whole-block MX tensors with specials mid-chunk, streamed output",
          "[scaling]") {
  // Rows and 64K-element chunks of whole blocks (a multiple of 8 elements) go through the SIMD
  // backend's block kernels (scales by amax lookup); these shapes are chosen to, and the specials
  // send single pieces down the general path. Checked against the element-by-element reference.
  std::mt19937_64 rng(2026);
  const std::vector<Backend> backends = BackendsToTest();
  struct Case {
    std::vector<int64_t> dims;
    const char* recipe;
  };
  const std::vector<Case> cases = {
      {{40, 4096}, "block:32:e8m0fnu:floor"},  {{20, 8192}, "block:32:e8m0fnu:rceil"},
      {{40, 4096}, "block:32:e8m0fnu:even"},   {{2, 81920}, "block:32:e8m0fnu:ceil"},
      {{160, 1024}, "block:16:e8m0fnu:floor"}, {{10, 16384}, "block:64:e8m0fnu:rceil"},
  };
  size_t compared = 0, mismatches = 0;
  for (const char* el_name : {"e4m3fn", "e5m2", "e3m2fn", "e2m3fn", "e2m1fn"}) {
    const FormatSpec el = Spec(el_name);
    for (const Case& c : cases) {
      const Scaling s = Recipe(c.recipe);
      const size_t n = static_cast<size_t>(c.dims[0] * c.dims[1]);
      const std::vector<float> x = BlockKernelTensor(rng, n, static_cast<size_t>(s.block_size));
      for (RoundingMode mode :
           {RoundingMode::kNearestEven, RoundingMode::kStochastic, RoundingMode::kDown}) {
        INFO(el_name << " " << c.recipe << " mode " << static_cast<int>(mode));
        TensorOptions o;
        o.quantize.rounding.mode = mode;
        o.quantize.seed = 7;
        o.quantize.index_offset = 1000;
        const RefResult ref = ReferencePow2(el, s, c.dims, x, o.quantize);
        for (Backend b : backends) {
          o.backend = b;
          o.threads = b == Backend::kScalar ? 1 : 2;
          std::vector<float> q(n);
          REQUIRE(QuantizeScaled(el, s, c.dims, x, q, o).ok());
          ScaledTensor t;
          REQUIRE(EncodeScaled(el, s, c.dims, x, &t, o).ok());
          for (size_t j = 0; j < n; ++j) {
            ++compared;
            const float want = static_cast<float>(ref.values[j]);
            const bool ok = Bits(q[j]) == Bits(want) && Code(t, j) == ref.codes[j];
            if (!ok && ++mismatches < 5) {
              UNSCOPED_INFO("element " << j << " x=" << x[j] << " want " << want << " got "
                                       << q[j]);
            }
          }
          for (size_t b2 = 0; b2 < ref.scales.size(); ++b2) {
            ++compared;
            if (ScaleCode(t, b2) != ref.scales[b2]) ++mismatches;
          }
        }
      }
    }
  }
  WARN("block kernels vs the reference: " << compared - mismatches << "/" << compared);
  CHECK(compared > 10000000);
  CHECK(mismatches == 0);

  // tiny=torchao (divisor clamped at 2^-126; the reference above does not model it): the SIMD
  // backend against the scalar one.
  for (const char* recipe :
       {"block:32:e8m0fnu:ceil:tiny=torchao", "block:32:e8m0fnu:rceil:tiny=torchao"}) {
    INFO(recipe);
    const std::vector<int64_t> dims = {2, 81920};
    const Scaling s = Recipe(recipe);
    const FormatSpec el = Spec("e5m2");
    const std::vector<float> x = BlockKernelTensor(rng, 2 * 81920, 32);
    std::vector<float> want(x.size()), got(x.size());
    ScaledTensor want_t, got_t;
    TensorOptions o;
    o.backend = Backend::kScalar;
    REQUIRE(QuantizeScaled(el, s, dims, x, want, o).ok());
    REQUIRE(EncodeScaled(el, s, dims, x, &want_t, o).ok());
    o.backend = Backend::kAuto;
    REQUIRE(QuantizeScaled(el, s, dims, x, got, o).ok());
    REQUIRE(EncodeScaled(el, s, dims, x, &got_t, o).ok());
    size_t bad = 0;
    for (size_t j = 0; j < x.size(); ++j) bad += Bits(want[j]) != Bits(got[j]);
    CHECK(bad == 0);
    CHECK(want_t.codes == got_t.codes);
    CHECK(want_t.scales == got_t.scales);
  }

  // An output of 16 MB and more is streamed past the caches; at any alignment of the output the
  // bits are the same.
  const std::vector<int64_t> dims = {1024, 4160};
  const size_t n = 1024 * 4160;
  const Scaling s = Recipe("block:32:e8m0fnu:floor");
  const FormatSpec el = Spec("e4m3fn");
  const std::vector<float> x = BlockKernelTensor(rng, n, 32);
  for (RoundingMode mode : {RoundingMode::kNearestEven, RoundingMode::kStochastic}) {
    TensorOptions o;
    o.quantize.rounding.mode = mode;
    const RefResult ref = ReferencePow2(el, s, dims, x, o.quantize);
    std::vector<float> buffer(n + 16);
    // The SIMD block kernels (auto) and the scalar backend's route (StreamCopyF32) both stream.
    for (Backend b : {Backend::kAuto, Backend::kScalar}) {
      o.backend = b;
      for (size_t shift : {0, 1, 5}) {
        INFO("mode " << static_cast<int>(mode) << ", backend " << ToString(b)
                     << ", output shifted by " << shift << " floats");
        std::span<float> q(buffer.data() + shift, n);
        REQUIRE(QuantizeScaled(el, s, dims, x, q, o).ok());
        size_t bad = 0;
        for (size_t j = 0; j < n; ++j) bad += Bits(q[j]) != Bits(static_cast<float>(ref.values[j]));
        CHECK(bad == 0);
      }
    }
  }
}

TEST_CASE("float64 inputs and every recipe agree across backends and threads", "[scaling]") {
  std::mt19937_64 rng(777);
  const std::vector<Backend> backends = BackendsToTest();
  const std::vector<int64_t> shape = {37, 45};
  // With specials (NaN, inf, zero blocks) and without: a NaN anywhere makes NVFP4's tensor scale
  // NaN, so its blocks are only exercised by the tensor without.
  for (bool specials : {true, false}) {
    const std::vector<float> xf = RandomTensor(rng, 37 * 45, specials);
    const std::vector<double> xd(xf.begin(), xf.end());
    for (const char* recipe :
         {"tensor", "tensor:pow2:margin=3", "channel:0", "channel:1", "block:32:e8m0fnu:floor",
          "block:16x16:e8m0fnu:rceil:tiny=torchao", "nvfp4:te", "nvfp4:torchao", "nvfp4:te:16x16",
          "nvfp4:te:nosat", "nvfp4:torchao:nosat"}) {
      // e5m2 with rounding up and no saturation: NVFP4's clamp of x * enc to the element's max is
      // what keeps a product just above max from rounding up to inf.
      for (const char* el_name : {"e4m3fn", "e2m1fn", "e5m2"}) {
        for (RoundingMode mode : {RoundingMode::kNearestEven, RoundingMode::kUp}) {
          INFO(recipe << " " << el_name << " mode " << static_cast<int>(mode) << " specials "
                      << specials);
          const FormatSpec el = Spec(el_name);
          const Scaling s = Recipe(recipe);
          std::vector<float> first;
          std::vector<double> first_d;
          for (Backend b : backends) {
            for (int threads : {1, 2}) {
              TensorOptions o;
              o.backend = b;
              o.threads = threads;
              o.quantize.rounding.mode = mode;
              std::vector<float> q(xf.size()), d(xf.size());
              REQUIRE(QuantizeScaled(el, s, shape, xf, q, o).ok());
              ScaledTensor t;
              REQUIRE(EncodeScaled(el, s, shape, xf, &t, o).ok());
              REQUIRE(DecodeScaled(t, d, o).ok());
              std::vector<double> qd(xd.size());
              REQUIRE(QuantizeScaled(el, s, shape, xd, qd, o).ok());
              if (first.empty()) {
                first = q;
                first_d = qd;
              }
              size_t bad = 0;
              for (size_t j = 0; j < q.size(); ++j) {
                bad += Bits(q[j]) != Bits(first[j]) || Bits(d[j]) != Bits(q[j]) ||
                       Bits(qd[j]) != Bits(first_d[j]);
              }
              CHECK(bad == 0);
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace qfloat
