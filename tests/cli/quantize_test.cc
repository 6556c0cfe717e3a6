// qfloat quantize, end to end on files written by numpy, ml_dtypes, safetensors and torch
// (tests/data/io, from scripts/make_io_fixtures.py): the re-read output equals the scalar
// reference element by element; packed output is readable and decodes to the fake-quant values;
// a failure leaves no OUT; bad inputs exit 1 or 2 with one line naming the input.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_files.h"
#include "qfloat/io.h"
#include "qfloat/scalar.h"
#include "qfloat/scaling.h"
#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

TensorFile Open(const std::string& path) {
  StatusOr<TensorFile> f = OpenTensorFile(path);
  INFO(path << ": " << f.status().message());
  REQUIRE(f.ok());
  return std::move(f).value();
}

TensorView Load(const TensorFile& f, const std::string& name) {
  const std::optional<size_t> i = f.Find(name);
  INFO(f.path() << ": tensor " << name);
  REQUIRE(i.has_value());
  StatusOr<TensorView> v = f.Load(*i);
  REQUIRE(v.ok());
  return std::move(v).value();
}

std::vector<double> Values64(const TensorView& v) {
  StatusOr<std::vector<double>> d = ToFloat64(v);
  REQUIRE(d.ok());
  return std::move(d).value();
}

bool SameBits(float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }

// Element offsets of each tensor in file order (the SR index contract of `quantize`).
std::map<std::string, uint64_t> Offsets(const TensorFile& f) {
  std::map<std::string, uint64_t> out;
  uint64_t at = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    out[f.info(i).name] = at;
    at += f.info(i).numel;
  }
  return out;
}

// Checks that every real tensor of OUT equals QuantizeScalar of IN's values (float64 inputs are
// rounded once from float64, then narrowed exactly).
void CheckRoundTrip(const std::string& in_path, const std::string& out_path,
                    const std::string& format, const QuantizeOptions& options) {
  const TensorFile in = Open(in_path);
  const TensorFile out = Open(out_path);
  StatusOr<Format> f = ResolveFormat(format);
  REQUIRE(f.ok());
  const std::map<std::string, uint64_t> offsets = Offsets(in);
  size_t checked = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const TensorInfo& info = in.info(i);
    const TensorView src = Load(in, info.name);
    const TensorView dst = Load(out, info.name);
    CHECK(dst.shape == info.shape);
    if (info.format.empty() && info.dtype != DType::kF64) {
      // Integers and booleans are copied unchanged.
      CHECK(dst.dtype == info.dtype);
      CHECK(std::vector<uint8_t>(dst.bytes.begin(), dst.bytes.end()) ==
            std::vector<uint8_t>(src.bytes.begin(), src.bytes.end()));
      continue;
    }
    REQUIRE(dst.dtype == DType::kF32);
    StatusOr<std::vector<float>> got = ToFloat32(dst);
    REQUIRE(got.ok());
    const std::vector<double> x = Values64(src);
    REQUIRE(got->size() == x.size());
    for (size_t k = 0; k < x.size(); ++k) {
      QuantizeOptions o = options;
      o.index_offset = offsets.at(info.name);
      const double want = QuantizeScalar(f->spec, x[k], o, k);
      INFO(info.name << "[" << k << "] x=" << x[k] << " want " << want << " got " << (*got)[k]);
      if (std::isnan(want)) {
        CHECK(std::isnan((*got)[k]));
        CHECK(std::signbit((*got)[k]) == std::signbit(want));
      } else {
        CHECK(SameBits((*got)[k], static_cast<float>(want)));
      }
      ++checked;
    }
  }
  CHECK(checked > 0);
}

TEST_CASE("quantize: safetensors from numpy re-reads as the scalar reference", "[cli][quantize]") {
  const std::string dir = ScratchSubdir("quantize_rt");
  const std::string out = dir + "/out.safetensors";
  const CliResult r =
      RunCli({"quantize", IoFixture("numpy.safetensors"), out, "-f", "e4m3fn", "-q"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  CheckRoundTrip(IoFixture("numpy.safetensors"), out, "e4m3fn", QuantizeOptions{});
  // The settings are recorded in the metadata.
  const TensorFile f = Open(out);
  CHECK(f.metadata().at("qfloat.format") == "e4m3fn");
  CHECK(f.metadata().at("qfloat.rounding") == "rne");
  CHECK(f.metadata().at("qfloat.packed") == "false");
}

TEST_CASE("quantize: torch bf16/fp8 tensors and stochastic rounding follow the index contract",
          "[cli][quantize]") {
  const std::string dir = ScratchSubdir("quantize_sr");
  const std::string out = dir + "/sr.safetensors";
  const CliResult r =
      RunCli({"quantize", IoFixture("torch.safetensors"), out, "-f", "e5m2", "-r", "sr:8", "--seed",
              "77", "--overflow", "sat-finite", "--tensors", "bf16", "--tensors", "e4m3*"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  QuantizeOptions o;
  o.rounding = Rounding{RoundingMode::kStochastic, 8};
  o.overflow = Overflow::kSatFinite;
  o.seed = 77;
  // Only the selected tensors are written; each keeps its index offset in the input file.
  const TensorFile f = Open(out);
  CHECK(f.size() == 3);  // bf16, e4m3, e4m3fnuz
  const TensorFile in = Open(IoFixture("torch.safetensors"));
  const std::map<std::string, uint64_t> offsets = Offsets(in);
  StatusOr<Format> e5m2 = ResolveFormat("e5m2");
  REQUIRE(e5m2.ok());
  for (const char* name : {"bf16", "e4m3", "e4m3fnuz"}) {
    const std::vector<double> x = Values64(Load(in, name));
    StatusOr<std::vector<float>> got = ToFloat32(Load(f, name));
    REQUIRE(got.ok());
    for (size_t k = 0; k < x.size(); ++k) {
      QuantizeOptions ok = o;
      ok.index_offset = offsets.at(name);
      const double want = QuantizeScalar(e5m2->spec, x[k], ok, k);
      INFO(name << "[" << k << "]");
      if (std::isnan(want)) {
        CHECK(std::isnan((*got)[k]));
      } else {
        CHECK(SameBits((*got)[k], static_cast<float>(want)));
      }
    }
  }
}

TEST_CASE("quantize: .npy in and out, float64 input rounded once", "[cli][quantize]") {
  const std::string dir = ScratchSubdir("quantize_npy");
  for (const char* fixture : {"f4.npy", "f8.npy", "fortran.npy", "bf16.npy"}) {
    const std::string out = dir + "/" + fixture;
    const CliResult r = RunCli({"quantize", IoFixture(fixture), out, "-f", "e2m1fn", "-r", "rna"});
    INFO(fixture << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("wrote " + out) != std::string::npos);
    QuantizeOptions o;
    o.rounding = Rounding{RoundingMode::kNearestAway, 0};
    const TensorFile in = Open(IoFixture(fixture));
    const TensorFile got = Open(out);
    const std::vector<double> x = Values64(Load(in, in.info(0).name));
    StatusOr<std::vector<float>> y = ToFloat32(Load(got, got.info(0).name));
    REQUIRE(y.ok());
    REQUIRE(y->size() == x.size());
    StatusOr<Format> f = ResolveFormat("e2m1fn");
    for (size_t k = 0; k < x.size(); ++k) {
      const double want = QuantizeScalar(f->spec, x[k], o, k);
      if (std::isnan(want)) continue;
      CHECK(SameBits((*y)[k], static_cast<float>(want)));
    }
  }
}

TEST_CASE("quantize: fp32-unrepresentable formats are written as float64", "[cli][quantize]") {
  const std::string dir = ScratchSubdir("quantize_wide");
  const std::string out = dir + "/p32.safetensors";
  const CliResult r = RunCli({"quantize", IoFixture("f8.npy"), out, "-f", "posit32_2", "-q"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const TensorFile f = Open(out);
  const TensorView v = Load(f, "f8");
  CHECK(v.dtype == DType::kF64);
  const std::vector<double> x = Values64(Load(Open(IoFixture("f8.npy")), "f8"));
  const std::vector<double> y = Values64(v);
  StatusOr<Format> p = ResolveFormat("posit32_2");
  for (size_t k = 0; k < x.size(); ++k) {
    CHECK(std::bit_cast<uint64_t>(y[k]) ==
          std::bit_cast<uint64_t>(QuantizeScalar(p->spec, x[k], QuantizeOptions{})));
  }
}

TEST_CASE("quantize --packed: codes in the format's dtype plus scales, decoding to fake-quant",
          "[cli][quantize]") {
  const std::string dir = ScratchSubdir("quantize_packed");
  for (const char* format : {"mxfp4", "nvfp4", "mxfp8_e4m3"}) {
    INFO(format);
    const std::string packed = dir + "/" + format + "_packed.safetensors";
    const std::string fake = dir + "/" + format + "_fake.safetensors";
    CliResult r = RunCli(
        {"quantize", IoFixture("compressed.npz"), packed, "-f", format, "--packed", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const nlohmann::json summary = nlohmann::json::parse(r.out);
    CHECK(summary["packed"] == true);
    CHECK(summary["tensors"].size() == 5);
    r = RunCli({"quantize", IoFixture("compressed.npz"), fake, "-f", format, "-q"});
    REQUIRE(r.exit_code == 0);

    StatusOr<ScaledFormat> sf = ResolveScaledFormat(format);
    REQUIRE(sf.ok());
    const TensorFile p = Open(packed);
    const TensorFile q = Open(fake);
    CHECK(p.metadata().at("qfloat.packed") == "true");
    for (const char* name : {"big", "a", "['params']['dense']['kernel']"}) {
      INFO(name);
      const TensorView codes = Load(p, name);
      const DType want_dtype = CodeStorageDType(sf->format.spec);
      // F4 with an odd last dimension is stored one code per byte (torch cannot load it).
      CHECK(codes.dtype ==
            (want_dtype == DType::kF4 && codes.shape.back() % 2 != 0 ? DType::kU8 : want_dtype));
      const TensorView scales = Load(p, std::string(name) + ".scale");
      StatusOr<std::vector<int64_t>> scale_shape = ScaleShape(sf->scaling, codes.shape);
      REQUIRE(scale_shape.ok());
      CHECK(scales.shape == *scale_shape);
      // Rebuild the packed tensor from what the file holds and decode it.
      ScaledTensor t;
      t.shape = codes.shape;
      t.element = sf->format.spec;
      t.scaling = sf->scaling;
      StatusOr<std::vector<uint32_t>> c = ReadCodes(codes);
      REQUIRE(c.ok());
      t.codes.assign(PackedBytes(t.element, c->size()), 0);
      for (size_t k = 0; k < c->size(); ++k) WritePackedCode(t.element, t.codes, k, (*c)[k]);
      StatusOr<Format> scale_format = ElementFormat(scales);
      REQUIRE(scale_format.ok());
      t.scale_spec = scale_format->spec;
      t.scale_shape = scales.shape;
      StatusOr<std::vector<uint32_t>> sc = ReadCodes(scales);
      REQUIRE(sc.ok());
      t.scales.assign(PackedBytes(t.scale_spec, sc->size()), 0);
      for (size_t k = 0; k < sc->size(); ++k) WritePackedCode(t.scale_spec, t.scales, k, (*sc)[k]);
      if (sf->scaling.kind == ScalingKind::kNvfp4) {
        StatusOr<std::vector<float>> ts = ToFloat32(Load(p, std::string(name) + ".tensor_scale"));
        REQUIRE(ts.ok());
        REQUIRE(ts->size() == 1);
        t.tensor_scale = (*ts)[0];
      }
      std::vector<float> decoded(c->size());
      REQUIRE(DecodeScaled(t, decoded, TensorOptions{}).ok());
      StatusOr<std::vector<float>> want = ToFloat32(Load(q, name));
      REQUIRE(want.ok());
      size_t same = 0;
      for (size_t k = 0; k < decoded.size(); ++k) {
        same +=
            SameBits(decoded[k], (*want)[k]) || (std::isnan(decoded[k]) && std::isnan((*want)[k]));
      }
      CHECK(same == decoded.size());
    }
  }
}

TEST_CASE("quantize --packed: sub-byte codes always end on a byte boundary", "[cli][quantize]") {
  // grads/step_1 has a one-element bias: 4 bits of F4 would not fill a byte, which the
  // safetensors reference refuses (and with it the whole file), so that tensor is U8; FP6 codes
  // are always U8 (safetensors 0.8 does not know F6).
  const std::string dir = ScratchSubdir("quantize_subbyte");
  for (const char* format : {"mxfp4", "mxfp6_e2m3"}) {
    INFO(format);
    const std::string out = dir + "/" + format + ".safetensors";
    const CliResult r = RunCli(
        {"quantize", CliFixture("grads/step_1.safetensors"), out, "-f", format, "--packed", "-q"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const TensorFile f = Open(out);
    for (size_t i = 0; i < f.size(); ++i) {
      const TensorInfo& t = f.info(i);
      INFO(t.name);
      CHECK((t.numel * GetDTypeInfo(t.dtype).bits) % 8 == 0);
      // What safetensors 0.8 + torch load: F4 with an even last dimension, no F6.
      if (t.dtype == DType::kF4) CHECK((!t.shape.empty() && t.shape.back() % 2 == 0));
      CHECK(t.dtype != DType::kF6E2M3);
      CHECK(t.dtype != DType::kF6E3M2);
    }
    CHECK(Load(f, "2.bias").dtype == DType::kU8);
    CHECK(f.metadata().at("qfloat.codes_one_per_byte").find("2.bias") != std::string::npos);
    // qfloat verify reads either layout back.
    CHECK(RunCli({"verify", CliFixture("grads/step_1.safetensors"), out, "-f", format}).exit_code ==
          0);
  }
}

TEST_CASE("quantize --packed without scaling: codes equal EncodeScalar", "[cli][quantize]") {
  const std::string dir = ScratchSubdir("quantize_codes");
  for (const char* format : {"e4m3fn", "posit8_1", "e3m2fn"}) {
    INFO(format);
    const std::string out = dir + "/" + format + ".safetensors";
    const CliResult r =
        RunCli({"quantize", IoFixture("f4.npy"), out, "-f", format, "--packed", "-q"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    StatusOr<Format> f = ResolveFormat(format);
    const TensorView codes = Load(Open(out), "f4");
    const DType storage = CodeStorageDType(f->spec);
    const bool f6 = storage == DType::kF6E2M3 || storage == DType::kF6E3M2;
    CHECK(codes.dtype == (f6 ? DType::kU8 : storage));  // FP6: one code per byte
    StatusOr<std::vector<uint32_t>> c = ReadCodes(codes);
    REQUIRE(c.ok());
    const std::vector<double> x = Values64(Load(Open(IoFixture("f4.npy")), "f4"));
    for (size_t k = 0; k < x.size(); ++k) {
      CHECK((*c)[k] == EncodeScalar(f->spec, static_cast<float>(x[k]), QuantizeOptions{}));
    }
  }
}

TEST_CASE("quantize: a failure leaves no OUT and no temporary", "[cli][quantize]") {
  const std::string dir = ScratchSubdir("quantize_atomic");
  const std::string out = dir + "/out.safetensors";
  { std::ofstream(out) << "previous contents"; }
  // An npz whose 'bf' member is corrupted near the end of its deflated data: the headers parse
  // (open succeeds), the failure comes while tensors are being processed.
  std::string bytes = ReadFileText(IoFixture("compressed.npz"));
  const size_t first = bytes.find(std::string("PK\x03\x04", 4));
  size_t member = std::string::npos;
  for (size_t pos = first; pos != std::string::npos;
       pos = bytes.find(std::string("PK\x03\x04", 4), pos + 4)) {
    const uint16_t name_len =
        static_cast<uint8_t>(bytes[pos + 26]) | static_cast<uint8_t>(bytes[pos + 27]) << 8;
    if (bytes.compare(pos + 30, name_len, "bf.npy") == 0) member = pos;
  }
  REQUIRE(member != std::string::npos);
  auto u16 = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at]) |
                                 static_cast<uint8_t>(bytes[at + 1]) << 8);
  };
  auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  const uint16_t n = static_cast<uint16_t>(u16(member + 26));
  const uint16_t e = static_cast<uint16_t>(u16(member + 28));
  const size_t data = member + 30 + n + e;
  uint64_t size = u32(member + 18);
  // numpy writes zip64 local headers: the sizes are 0xFFFFFFFF there, the real ones in the
  // zip64 extra field (id 1: uncompressed size, then compressed size, 8 bytes each).
  for (size_t x = member + 30 + n; x + 4 <= member + 30 + n + e;) {
    const uint32_t id = u16(x), len = u16(x + 2);
    if (id == 1 && size == 0xFFFFFFFFu && len >= 16) size = u32(x + 12);
    x += 4 + len;
  }
  REQUIRE(size > 16);
  REQUIRE(size < 0xFFFFFFFFu);
  for (size_t k = size - 8; k < size; ++k)
    bytes[data + k] = static_cast<char>(bytes[data + k] ^ 0xA5);
  const std::string bad = WriteScratchFile("corrupt.npz", bytes);
  StatusOr<TensorFile> opened = OpenTensorFile(bad);
  REQUIRE(opened.ok());  // the failure is mid-way, not at open

  CliResult r = RunCli({"quantize", bad, out, "-f", "e4m3fn"});
  CHECK(r.exit_code == 1);
  CHECK(IsOneErrorLine(r.err));
  CHECK(r.err.find("corrupt.npz") != std::string::npos);
  CHECK(ReadFileText(out) == "previous contents");
  CHECK(HiddenFiles(dir).empty());

  // A recipe that fails on a later tensor (rank-1 'd' has no axis 1).
  r = RunCli(
      {"quantize", IoFixture("numpy.safetensors"), out, "-f", "e4m3fn", "--scaling", "channel:1"});
  CHECK(r.exit_code != 0);
  CHECK(IsOneErrorLine(r.err));
  CHECK(ReadFileText(out) == "previous contents");
  CHECK(HiddenFiles(dir).empty());

  // No OUT at all when there was none.
  const std::string fresh = dir + "/fresh.safetensors";
  r = RunCli({"quantize", bad, fresh, "-f", "e4m3fn"});
  CHECK(r.exit_code == 1);
  CHECK(!std::filesystem::exists(fresh));
  CHECK(HiddenFiles(dir).empty());
}

TEST_CASE("quantize: bad inputs exit 1 or 2 with one line naming the input", "[cli][quantize]") {
  const std::string dir = ScratchSubdir("quantize_bad");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"quantize", dir + "/missing.npy", dir + "/o.npy", "-f", "e4m3fn"}, 1, "missing.npy"},
      {{"quantize", IoFixture("f4.npy"), dir + "/o.bin", "-f", "e4m3fn"}, 2, "o.bin"},
      {{"quantize", IoFixture("f4.npy"), dir + "/o.npy", "-f", "nosuchformat"}, 2, "nosuchformat"},
      {{"quantize", IoFixture("f4.npy"), dir + "/o.npy", "-f", "e4m3fn", "-r", "nearest"},
       2,
       "nearest"},
      {{"quantize", IoFixture("f4.npy"), dir + "/o.npy", "-f", "e4m3fn", "--scaling", "block:0"},
       2,
       "--scaling"},
      {{"quantize", IoFixture("numpy.safetensors"), dir + "/o.npy", "-f", "e4m3fn"}, 2, ".npy"},
      {{"quantize", IoFixture("numpy.safetensors"), dir + "/o.safetensors", "-f", "e4m3fn",
        "--tensors", "zzz*"},
       2,
       "zzz*"},
      {{"quantize", IoFixture("f4.npy"), dir + "/o.npy", "-f", "mxfp4", "--packed"},
       2,
       ".safetensors"},
      {{"quantize", IoFixture("e4m3fn_v1.npy"), dir + "/o.npy", "-f", "e5m2"}, 1, "--as"},
      {{"quantize", IoFixture("i32.npy"), dir + "/o.npy", "-f", "e5m2"}, 1, "I32"},
      {{"quantize", IoFixture("f4.npy"), dir + "/nodir/o.npy", "-f", "e5m2"}, 1, "nodir"},
      {{"quantize", IoFixture("f4.npy"), dir + "/o.npy", "-f", "e5m2", "--seed", "-1"},
       2,
       "--seed"},
  };
  for (const Case& c : cases) {
    const CliResult r = RunCli(c.args);
    INFO(c.args[1] << " " << c.args[2] << ": " << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(IsOneErrorLine(r.err));
    CHECK(r.err.find(c.mentions) != std::string::npos);
    CHECK(r.out.empty());
  }
  CHECK(!std::filesystem::exists(dir + "/o.npy"));
  CHECK(HiddenFiles(dir).empty());
  // --as names the format of opaque ml_dtypes codes.
  const CliResult ok = RunCli({"quantize", IoFixture("e4m3fn_v1.npy"), dir + "/v1.npy", "-f",
                               "e5m2", "--as", "e4m3fn", "-q"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
}

}  // namespace
}  // namespace qfloat::cli_test
