// Writers: npy and safetensors round trips (float32 and packed codes), byte-identity with numpy's
// np.save for the same array, and the atomic writer leaving nothing behind on failure.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "io_test_util.h"
#include "qfloat/io.h"
#include "qfloat/quantize.h"
#include "qfloat/scalar.h"

namespace qfloat {
namespace {

using test::TempDir;

std::vector<float> Ramp(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i) * 0.37f - 5.0f;
  return v;
}

TEST_CASE("npy round trip, and byte-identical to np.save", "[io][write]") {
  TempDir dir;
  // fortran.npy was written by np.save: reading it and writing it back gives the same bytes.
  for (const char* name : {"f4.npy", "fortran.npy", "rank0.npy", "empty.npy", "bf16.npy", "f2.npy",
                           "i64.npy", "bool.npy", "rank32.npy", "c8.npy"}) {
    INFO(name);
    const std::string src = test::IoDataDir() + "/" + name;
    StatusOr<TensorFile> f = OpenTensorFile(src);
    REQUIRE(f.ok());
    StatusOr<TensorView> v = f->Load(0);
    REQUIRE(v.ok());
    const std::string out = dir.File(name);
    REQUIRE(WriteNpy(out, *v).ok());
    CHECK(test::ReadBytes(out) == test::ReadBytes(src));
  }
  // A float32 tensor of a few shapes.
  const std::vector<float> x = Ramp(24);
  for (const std::vector<int64_t>& shape :
       {std::vector<int64_t>{24}, {2, 3, 4}, {24, 1}, {1, 1, 24}}) {
    const std::string out = dir.File("r.npy");
    REQUIRE(WriteNpy(out, Float32View("r", shape, x)).ok());
    StatusOr<TensorFile> f = OpenTensorFile(out);
    REQUIRE(f.ok());
    CHECK(f->info(0).shape == shape);
    StatusOr<std::vector<float>> y = ToFloat32(*f->Load(0));
    REQUIRE(y.ok());
    CHECK(*y == x);
  }
}

TEST_CASE("npy writes version 2.0 when the header needs it", "[io][write]") {
  // A header over 65535 bytes: only a huge rank gets there with a plain dtype; build the view
  // by hand (numpy caps ndim at 64, but the format does not).
  TempDir dir;
  std::vector<int64_t> shape(25000, 1);
  const float one = 1.5f;
  TensorView v = Float32View("big", shape, std::span<const float>(&one, 1));
  REQUIRE(WriteNpy(dir.File("v2.npy"), v).ok());
  const std::vector<uint8_t> bytes = test::ReadBytes(dir.File("v2.npy"));
  REQUIRE(bytes.size() > 65536);
  CHECK(bytes[6] == 2);
  const uint64_t header_len =
      bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (uint64_t{bytes[11]} << 24);
  CHECK((12 + header_len) % 64 == 0);
  StatusOr<TensorFile> f = OpenTensorFile(dir.File("v2.npy"));
  REQUIRE(f.ok());
  CHECK(f->info(0).shape.size() == 25000);
  StatusOr<std::vector<float>> y = ToFloat32(*f->Load(0));
  REQUIRE(y.ok());
  CHECK(*y == std::vector<float>{1.5f});
}

TEST_CASE("npy of code dtypes: '|V1' one per byte, readable with --as", "[io][write]") {
  TempDir dir;
  StatusOr<TensorFile> st = OpenTensorFile(test::IoDataDir() + "/torch.safetensors");
  REQUIRE(st.ok());
  for (const auto& [name, format] : std::vector<std::pair<std::string, std::string>>{
           {"e4m3", "e4m3fn"}, {"f4", "e2m1fn"}, {"e8m0", "e8m0fnu"}}) {
    INFO(name);
    StatusOr<TensorView> v = st->Load(*st->Find(name));
    REQUIRE(v.ok());
    const std::string out = dir.File(name + ".npy");
    REQUIRE(WriteNpy(out, *v).ok());
    ReadOptions options;
    options.as_format = format;
    StatusOr<TensorFile> back = OpenTensorFile(out, options);
    REQUIRE(back.ok());
    CHECK(back->info(0).npy_descr == "|V1");
    CHECK(back->info(0).shape == v->shape);
    StatusOr<std::vector<uint32_t>> a = ReadCodes(*v);
    StatusOr<std::vector<uint32_t>> b = ReadCodes(*back->Load(0));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(*a == *b);
    StatusOr<std::vector<double>> x = ToFloat64(*v);
    StatusOr<std::vector<double>> y = ToFloat64(*back->Load(0));
    REQUIRE(x.ok());
    REQUIRE(y.ok());
    REQUIRE(x->size() == y->size());
    for (size_t i = 0; i < x->size(); ++i) {
      CHECK((std::isnan((*x)[i]) ? std::isnan((*y)[i]) : (*x)[i] == (*y)[i]));
    }
  }
}

TEST_CASE("safetensors round trip: float32, packed codes, scales, metadata", "[io][write]") {
  TempDir dir;
  const std::vector<float> x = Ramp(37);
  const std::vector<float> scales = {0.25f, 4.0f};
  std::vector<TensorView> tensors = {Float32View("layer.weight", {37}, x),
                                     Float32View("layer.weight.scale", {2}, scales)};
  // Packed codes of every safetensors float format and a few without one.
  struct Packed {
    std::string format;
    DType dtype;
  };
  const std::vector<Packed> formats = {
      {"e4m3fn", DType::kF8E4M3},       {"e5m2", DType::kF8E5M2},
      {"e4m3fnuz", DType::kF8E4M3FNUZ}, {"e5m2fnuz", DType::kF8E5M2FNUZ},
      {"e8m0fnu", DType::kF8E8M0},      {"e2m1fn", DType::kF4},
      {"e2m3fn", DType::kF6E2M3},       {"e3m2fn", DType::kF6E3M2},
      {"bf16", DType::kBF16},           {"fp16", DType::kF16},
      {"posit8_1", DType::kU8},         {"e3m4", DType::kU8},
      {"posit16_1", DType::kU16},       {"posit32_2", DType::kU32}};
  std::vector<std::vector<uint8_t>> storage;
  std::vector<std::vector<float>> quantized;
  for (const Packed& p : formats) {
    StatusOr<Format> f = ResolveFormat(p.format);
    REQUIRE(f.ok());
    CHECK(CodeStorageDType(f->spec) == p.dtype);
    std::vector<uint8_t> packed(PackedBytes(f->spec, x.size()));
    TensorOptions options;
    options.quantize.overflow = Overflow::kSatFinite;
    REQUIRE(Encode(f->spec, x, packed, options).ok());
    std::vector<float> q(x.size());
    REQUIRE(Decode(f->spec, packed, q, options).ok());
    quantized.push_back(q);
    storage.push_back(CodesToStorage(f->spec, packed, x.size()));
  }
  for (size_t i = 0; i < formats.size(); ++i) {
    TensorView t;
    t.name = "codes." + formats[i].format;
    t.dtype = formats[i].dtype;
    t.shape = {37};
    t.bytes = storage[i];
    tensors.push_back(t);
  }
  const std::map<std::string, std::string> metadata = {
      {"qfloat.format", "e4m3fn"}, {"step", "7"}, {"note", "ünïcödé"}};
  const std::string out = dir.File("q.safetensors");
  REQUIRE(WriteSafetensors(out, tensors, metadata).ok());
  CHECK(dir.List() == std::vector<std::string>{"q.safetensors"});
  StatusOr<TensorFile> f = OpenTensorFile(out);
  REQUIRE(f.ok());
  CHECK(f->metadata() == metadata);
  REQUIRE(f->size() == tensors.size());
  // File order is the order given.
  for (size_t i = 0; i < tensors.size(); ++i) CHECK(f->info(i).name == tensors[i].name);
  StatusOr<std::vector<float>> w = ToFloat32(*f->Load(0));
  REQUIRE(w.ok());
  CHECK(*w == x);
  for (size_t i = 0; i < formats.size(); ++i) {
    INFO(formats[i].format);
    StatusOr<TensorView> v = f->Load(*f->Find("codes." + formats[i].format));
    REQUIRE(v.ok());
    CHECK(v->dtype == formats[i].dtype);
    CHECK(std::equal(v->bytes.begin(), v->bytes.end(), storage[i].begin(), storage[i].end()));
    if (formats[i].dtype == DType::kU8 || formats[i].dtype == DType::kU16 ||
        formats[i].dtype == DType::kU32) {
      // Integer storage: the codes read back; the format's name lives in the metadata.
      StatusOr<Format> fmt = ResolveFormat(formats[i].format);
      StatusOr<std::vector<uint32_t>> codes = ReadCodes(*v);
      REQUIRE(codes.ok());
      for (size_t k = 0; k < x.size(); ++k) {
        CHECK(static_cast<float>(DecodeScalar(fmt->spec, (*codes)[k])) == quantized[i][k]);
      }
    } else {
      StatusOr<std::vector<float>> y = ToFloat32(*v);
      REQUIRE(y.ok());
      CHECK(*y == quantized[i]);
    }
  }
  // Byte layout: 8-byte length, header padded to a multiple of 8.
  const std::vector<uint8_t> bytes = test::ReadBytes(out);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{bytes[i]} << (8 * i);
  CHECK(n % 8 == 0);
  CHECK(bytes[8] == '{');
}

TEST_CASE("safetensors writer reproduces what it reads", "[io][write]") {
  TempDir dir;
  for (const char* name : {"torch.safetensors", "numpy.safetensors", "f6.safetensors"}) {
    INFO(name);
    StatusOr<TensorFile> f = OpenTensorFile(test::IoDataDir() + "/" + name);
    REQUIRE(f.ok());
    std::vector<TensorView> views;
    for (size_t i = 0; i < f->size(); ++i) views.push_back(*f->Load(i));
    const std::string out = dir.File(name);
    REQUIRE(WriteSafetensors(out, views, f->metadata()).ok());
    StatusOr<TensorFile> g = OpenTensorFile(out);
    REQUIRE(g.ok());
    REQUIRE(g->size() == f->size());
    CHECK(g->metadata() == f->metadata());
    for (size_t i = 0; i < f->size(); ++i) {
      StatusOr<TensorView> a = f->Load(i);
      StatusOr<TensorView> b = g->Load(*g->Find(a->name));
      CHECK(a->dtype == b->dtype);
      CHECK(a->shape == b->shape);
      CHECK(std::equal(a->bytes.begin(), a->bytes.end(), b->bytes.begin(), b->bytes.end()));
    }
  }
}

TEST_CASE("writers refuse bad tensors and leave nothing behind", "[io][write]") {
  TempDir dir;
  const std::vector<float> x = Ramp(6);
  const std::string out = dir.File("o.safetensors");
  auto err = [&](std::vector<TensorView> t) {
    const Status st = WriteSafetensors(out, t);
    CHECK(dir.List().empty());
    return st.message();
  };
  CHECK(err({Float32View("a", {2, 3}, x), Float32View("a", {6}, x)}) ==
        out + ": tensor \"a\": name used twice");
  CHECK(err({Float32View("__metadata__", {6}, x)}) ==
        out + ": tensor \"__metadata__\": the name is reserved");
  CHECK(err({Float32View("a", {7}, x)}) ==
        out + ": tensor \"a\": shape × F32 needs 28 bytes but 24 were given");
  TensorView fortran = Float32View("f", {2, 3}, x);
  fortran.fortran_order = true;
  CHECK(err({fortran}) == out +
                              ": tensor \"f\": safetensors holds C-order data; this tensor is "
                              "in Fortran order (convert it with ToFloat32 first)");
  TensorView v1 = Float32View("v", {24}, x);
  v1.dtype = DType::kOpaque8;
  CHECK(err({v1}) == out + ": tensor \"v\": dtype V1 has no safetensors equivalent");
  CHECK(err({Float32View("bad\xFF", {6}, x)}).find("is not valid UTF-8") != std::string::npos);
  // A directory that does not exist.
  const Status st = WriteNpy(dir.File("no/such/dir/x.npy"), Float32View("x", {6}, x));
  CHECK(st.code() == StatusCode::kIoError);
  CHECK(st.message() == dir.File("no/such/dir/x.npy") + ": cannot create a temporary file in " +
                            dir.File("no/such/dir/") + ": No such file or directory");
}

TEST_CASE("AtomicFileWriter: all or nothing", "[io][write]") {
  TempDir dir;
  const std::string path = dir.File("out.bin");
  test::WriteBytes(path, test::Bytes("old contents"));
  {
    StatusOr<AtomicFileWriter> w = AtomicFileWriter::Create(path);
    REQUIRE(w.ok());
    REQUIRE(w->Write(std::string_view("new contents, half written")).ok());
    // The temporary sits next to the target until the writer goes away uncommitted.
    CHECK(dir.List().size() == 2);
    CHECK(w->temp_path().rfind(dir.File(".out.bin.tmp-"), 0) == 0);
  }
  CHECK(dir.List() == std::vector<std::string>{"out.bin"});
  CHECK(test::ReadBytes(path) == test::Bytes("old contents"));
  {
    StatusOr<AtomicFileWriter> w = AtomicFileWriter::Create(path);
    REQUIRE(w.ok());
    // More than the internal buffer, to exercise the direct-write path.
    std::vector<uint8_t> big(3 << 20, 0xAB);
    REQUIRE(w->Write(big).ok());
    REQUIRE(w->Write(std::string_view("tail")).ok());
    AtomicFileWriter moved = std::move(w).value();
    REQUIRE(moved.Commit().ok());
    CHECK_FALSE(moved.Commit().ok());  // once only
  }
  CHECK(dir.List() == std::vector<std::string>{"out.bin"});
  CHECK(test::ReadBytes(path).size() == (3u << 20) + 4);
  // The mode a plain open(2) would give (0666 & ~umask), not mkstemp's 0600.
  const mode_t mask = umask(0);
  umask(mask);
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == (0666 & ~mask));
  // Rename onto a path that is a non-empty directory fails: the temporary is removed.
  REQUIRE(mkdir(dir.File("sub").c_str(), 0755) == 0);
  test::WriteBytes(dir.File("sub/x"), test::Bytes("x"));
  StatusOr<AtomicFileWriter> w = AtomicFileWriter::Create(dir.File("sub"));
  REQUIRE(w.ok());
  REQUIRE(w->Write(std::string_view("data")).ok());
  const Status commit = w->Commit();
  CHECK_FALSE(commit.ok());
  CHECK_THAT(commit.message(), Catch::Contains("cannot rename the temporary file into place"));
  std::vector<std::string> names = dir.List();
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"out.bin", "sub"});
}

}  // namespace
}  // namespace qfloat
