// Every fixture written by numpy / ml_dtypes / safetensors / torch (scripts/make_io_fixtures.py)
// reads back to the values those libraries assign, bit for bit (tests/data/io/expected.json).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io_test_util.h"
#include "qfloat/io.h"

namespace qfloat {
namespace {

using nlohmann::json;

json Expected() {
  const std::vector<uint8_t> text = test::ReadBytes(test::IoDataDir() + "/expected.json");
  return json::parse(text.begin(), text.end());
}

uint64_t HexBits(const std::string& hex, size_t bytes) {
  // Little-endian bytes, as struct.pack('<d').hex() writes them.
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= std::stoull(hex.substr(2 * i, 2), nullptr, 16) << (8 * i);
  return v;
}

template <typename T>
uint64_t Bits(T x) {
  if constexpr (sizeof(T) == 8) {
    uint64_t b;
    std::memcpy(&b, &x, 8);
    return b;
  } else {
    uint32_t b;
    std::memcpy(&b, &x, 4);
    return b;
  }
}

// Compares values with the expected list (bit patterns; any NaN matches NaN) or checksum.
template <typename T>
void CheckValues(const std::vector<T>& got, const json& t, const char* key) {
  const std::string list_key = key;
  const std::string sum_key = list_key + "_fnv1a";
  if (t.contains(list_key)) {
    const auto& want = t[list_key];
    REQUIRE(got.size() == want.size());
    size_t mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      const uint64_t w = HexBits(want[i].get<std::string>(), sizeof(T));
      T wv;
      std::memcpy(&wv, &w, sizeof(T));
      const bool ok = std::isnan(wv) ? std::isnan(got[i]) : Bits(got[i]) == w;
      if (!ok && mismatches++ < 5) {
        FAIL_CHECK(key << "[" << i << "]: got " << got[i] << ", want " << wv);
      }
    }
    CHECK(mismatches == 0);
  } else {
    REQUIRE(t.contains(sum_key));
    std::vector<uint8_t> bytes(got.size() * sizeof(T));
    for (size_t i = 0; i < got.size(); ++i) {
      T v = got[i];
      if (std::isnan(v)) v = std::numeric_limits<T>::quiet_NaN();
      std::memcpy(&bytes[i * sizeof(T)], &v, sizeof(T));
    }
    char hex[20];
    std::snprintf(hex, sizeof(hex), "%016llx",
                  static_cast<unsigned long long>(test::Fnv1a64(bytes.data(), bytes.size())));
    CHECK(std::string(hex) == t[sum_key].get<std::string>());
  }
}

TEST_CASE("every fixture reads back to the writer's values exactly", "[io][fixtures]") {
  const json expected = Expected();
  size_t files = 0, tensors = 0;
  for (const auto& [file, spec] : expected["files"].items()) {
    INFO("file " << file);
    ReadOptions options;
    if (spec.contains("as_format")) options.as_format = spec["as_format"].get<std::string>();
    StatusOr<TensorFile> tf = OpenTensorFile(test::IoDataDir() + "/" + file, options);
    REQUIRE(tf.ok());
    CHECK(ToString(tf->kind()) == spec["kind"].get<std::string>());
    CHECK(tf->size() == spec["tensors"].size());
    std::map<std::string, std::string> metadata;
    for (const auto& [k, v] : spec["metadata"].items()) metadata[k] = v.get<std::string>();
    if (tf->kind() == FileKind::kSafetensors) CHECK(tf->metadata() == metadata);
    ++files;
    for (const json& t : spec["tensors"]) {
      const std::string name = t["name"].get<std::string>();
      INFO("tensor " << name);
      const std::optional<size_t> index = tf->Find(name);
      REQUIRE(index.has_value());
      StatusOr<TensorView> view = tf->Load(*index);
      REQUIRE(view.ok());
      CHECK(ToString(view->dtype) == t["dtype"].get<std::string>());
      CHECK(view->shape == t["shape"].get<std::vector<int64_t>>());
      CHECK(view->fortran_order == t["fortran_order"].get<bool>());
      CHECK(view->numel == t["numel"].get<uint64_t>());
      CHECK(view->file == test::IoDataDir() + "/" + file);
      ++tensors;
      if (t.contains("convert_error")) {
        StatusOr<std::vector<double>> v64 = ToFloat64(*view);
        REQUIRE_FALSE(v64.ok());
        CHECK_THAT(v64.status().message(), Catch::Contains(t["convert_error"].get<std::string>()));
        CHECK_THAT(v64.status().message(), Catch::Contains(file));
        continue;
      }
      StatusOr<std::vector<double>> v64 = ToFloat64(*view);
      REQUIRE(v64.ok());
      CheckValues(*v64, t, "f64");
      StatusOr<std::vector<float>> v32 = ToFloat32(*view);
      REQUIRE(v32.ok());
      CheckValues(*v32, t, "f32");
      if (t.contains("codes")) {
        StatusOr<std::vector<uint32_t>> codes = ReadCodes(*view);
        REQUIRE(codes.ok());
        CHECK(*codes == t["codes"].get<std::vector<uint32_t>>());
      }
      // Any window [first, first + n) equals the same slice of the whole conversion (packed
      // F4/F6 at odd offsets, Fortran order mid-row). Small tensors: every window.
      const size_t n = v32->size();
      const size_t step = n <= 64 ? 1 : n / 17 + 1;
      for (size_t first = 0; first < n; first += step) {
        for (size_t len = 0; first + len <= n; len += step) {
          std::vector<float> part(len);
          REQUIRE(ToFloat32(*view, first, part).ok());
          for (size_t i = 0; i < len; ++i) {
            const float w = (*v32)[first + i];
            REQUIRE((std::isnan(w) ? std::isnan(part[i]) : Bits(part[i]) == Bits(w)));
          }
        }
      }
    }
  }
  CHECK(files == 24);
  CHECK(tensors >= 45);
}

TEST_CASE("NaN-filled tensors read fine and are counted", "[io][fixtures]") {
  StatusOr<TensorFile> tf = OpenTensorFile(test::IoDataDir() + "/nan.npy");
  REQUIRE(tf.ok());
  StatusOr<TensorView> v = tf->Load(0);
  REQUIRE(v.ok());
  StatusOr<std::vector<float>> x = ToFloat32(*v);
  REQUIRE(x.ok());
  const NonFiniteCounts c = CountNonFinite(*x);
  CHECK(c.nan == 16);
  CHECK(c.inf == 0);
  StatusOr<TensorFile> f4 = OpenTensorFile(test::IoDataDir() + "/f4.npy");
  REQUIRE(f4.ok());
  StatusOr<std::vector<double>> y = ToFloat64(*f4->Load(0));
  REQUIRE(y.ok());
  const NonFiniteCounts d = CountNonFinite(*y);
  CHECK(d.nan == 1);
  CHECK(d.inf == 2);
  CHECK(d.total() == 3);
}

TEST_CASE("fixture conventions: V2 is bf16, f1 is e5m2, V1 needs --as", "[io][fixtures]") {
  const std::string dir = test::IoDataDir();
  StatusOr<TensorFile> bf = OpenTensorFile(dir + "/bf16.npy");
  REQUIRE(bf.ok());
  CHECK(bf->info(0).dtype == DType::kBF16);
  CHECK(bf->info(0).format == "bf16");
  CHECK(bf->info(0).npy_descr == "<V2");
  StatusOr<TensorFile> e5 = OpenTensorFile(dir + "/e5m2.npy");
  REQUIRE(e5.ok());
  CHECK(e5->info(0).dtype == DType::kF8E5M2);
  CHECK(e5->info(0).npy_descr == "<f1");
  StatusOr<TensorFile> v1 = OpenTensorFile(dir + "/e4m3fn_v1.npy");
  REQUIRE_FALSE(v1.ok());
  CHECK(v1.status().message() ==
        dir +
            "/e4m3fn_v1.npy: dtype '<V1' holds 8-bit codes of a format the header does not "
            "name (ml_dtypes writes fp8/fp6/fp4 this way): name it with --as FMT");
  ReadOptions too_wide;
  too_wide.as_format = "fp16";
  StatusOr<TensorFile> wide = OpenTensorFile(dir + "/e4m3fn_v1.npy", too_wide);
  REQUIRE_FALSE(wide.ok());
  CHECK_THAT(wide.status().message(), Catch::Contains("--as fp16 has 16-bit codes"));
  // '<V2' with --as fp16 reads the same bytes as fp16 codes.
  ReadOptions as_fp16;
  as_fp16.as_format = "fp16";
  StatusOr<TensorFile> bf_as = OpenTensorFile(dir + "/bf16.npy", as_fp16);
  REQUIRE(bf_as.ok());
  CHECK(bf_as->info(0).dtype == DType::kF16);
  CHECK(bf_as->info(0).format == "fp16");
  // A 4-bit format over one-code-per-byte data: a byte with high bits set is an error.
  ReadOptions as_e2m1;
  as_e2m1.as_format = "e2m1fn";
  StatusOr<TensorFile> wrong = OpenTensorFile(dir + "/e4m3fn_v1.npy", as_e2m1);
  REQUIRE(wrong.ok());
  StatusOr<std::vector<float>> x = ToFloat32(*wrong->Load(0));
  REQUIRE_FALSE(x.ok());
  CHECK_THAT(x.status().message(),
             Catch::Contains("element 16 holds code 0x10, which does not fit e2m1fn's 4 bits"));
}

TEST_CASE("F4 in safetensors: logical count, low nibble first", "[io][fixtures]") {
  StatusOr<TensorFile> tf = OpenTensorFile(test::IoDataDir() + "/torch.safetensors");
  REQUIRE(tf.ok());
  const std::optional<size_t> i = tf->Find("f4");
  REQUIRE(i.has_value());
  StatusOr<TensorView> v = tf->Load(*i);
  REQUIRE(v.ok());
  CHECK(v->shape == std::vector<int64_t>{2, 12});  // torch's (2, 6) float4_e2m1fn_x2
  CHECK(v->bytes.size() == 12);
  StatusOr<std::vector<uint32_t>> codes = ReadCodes(*v);
  REQUIRE(codes.ok());
  CHECK((*codes)[0] == 0x0);  // byte 0x10
  CHECK((*codes)[1] == 0x1);
  CHECK((*codes)[2] == 0x2);  // byte 0x32
  CHECK((*codes)[3] == 0x3);
}

}  // namespace
}  // namespace qfloat

namespace qfloat {
namespace {

TEST_CASE("'-' reads stdin, and use_mmap=false reads into memory", "[io][fixtures]") {
  const std::string path = test::IoDataDir() + "/torch.safetensors";
  StatusOr<TensorFile> mapped = OpenTensorFile(path);
  REQUIRE(mapped.ok());
  ReadOptions no_mmap;
  no_mmap.use_mmap = false;
  StatusOr<TensorFile> read = OpenTensorFile(path, no_mmap);
  REQUIRE(read.ok());
  // stdin: point fd 0 at the file for the call.
  const int saved = dup(0);
  const int fd = open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(dup2(fd, 0) == 0);
  close(fd);
  StatusOr<TensorFile> piped = OpenTensorFile("-", no_mmap);
  REQUIRE(dup2(saved, 0) == 0);
  close(saved);
  REQUIRE(piped.ok());
  CHECK(piped->path() == "-");
  for (const TensorFile* f : {&*read, &*piped}) {
    REQUIRE(f->size() == mapped->size());
    CHECK(f->metadata() == mapped->metadata());
    for (size_t i = 0; i < f->size(); ++i) {
      StatusOr<TensorView> a = mapped->Load(i);
      StatusOr<TensorView> b = f->Load(i);
      REQUIRE(a.ok());
      REQUIRE(b.ok());
      CHECK(a->name == b->name);
      CHECK(std::equal(a->bytes.begin(), a->bytes.end(), b->bytes.begin(), b->bytes.end()));
    }
  }
  // A view outlives its file: it holds the mapping.
  StatusOr<TensorView> kept = mapped->Load(0);
  REQUIRE(kept.ok());
  { TensorFile gone = std::move(mapped).value(); }
  CHECK(ToFloat32(*kept).ok());
}

}  // namespace
}  // namespace qfloat
