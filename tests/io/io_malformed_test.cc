// Malformed input of every kind gives a clear error naming the file and the problem: never a
// crash or an out-of-bounds read (the fuzzers in fuzz/ explore beyond these cases).
#include <zip.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "io_test_util.h"
#include "qfloat/io.h"

namespace qfloat {
namespace {

using test::Bytes;
using test::TempDir;

// A .npy file: header dict padded to a 64-byte boundary as numpy does, then `data`.
std::vector<uint8_t> Npy(const std::string& dict, const std::vector<uint8_t>& data, int major = 1) {
  const size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  const size_t pad = 64 - (preamble + header.size() + 1) % 64;
  header.append(pad, ' ');
  header.push_back('\n');
  std::vector<uint8_t> out = Bytes("\x93NUMPY");
  out.push_back(static_cast<uint8_t>(major));
  out.push_back(0);
  for (size_t i = 0; i < preamble - 8; ++i)
    out.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<uint8_t> Floats(size_t n) { return std::vector<uint8_t>(4 * n, 0); }

// A .safetensors file from a header text and a data buffer.
std::vector<uint8_t> St(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out;
  out.reserve(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i)));
  for (char c : header) out.push_back(static_cast<uint8_t>(c));
  for (uint8_t b : data) out.push_back(b);
  return out;
}

// Writes `bytes` as dir/name and opens it; returns the error message ("" if it opened).
std::string OpenError(const TempDir& dir, const std::string& name,
                      const std::vector<uint8_t>& bytes, const ReadOptions& options = {}) {
  const std::string path = dir.File(name);
  test::WriteBytes(path, bytes);
  StatusOr<TensorFile> f = OpenTensorFile(path, options);
  if (f.ok()) return "";
  CHECK(f.status().code() != StatusCode::kOk);
  return f.status().message();
}

// A zip built with libzip: (name, content, deflate?) members.
struct Member {
  std::string name;
  std::vector<uint8_t> content;
  bool deflate = false;
};
std::vector<uint8_t> Zip(const TempDir& dir, const std::vector<Member>& members) {
  const std::string path = dir.File("build.zip");
  std::remove(path.c_str());
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  REQUIRE(z != nullptr);
  for (const Member& m : members) {
    zip_source_t* s = zip_source_buffer(z, m.content.data(), m.content.size(), 0);
    REQUIRE(s != nullptr);
    const zip_int64_t i = zip_file_add(z, m.name.c_str(), s, ZIP_FL_ENC_UTF_8);
    REQUIRE(i >= 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(i),
                             m.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  REQUIRE(zip_close(z) == 0);
  return test::ReadBytes(path);
}

const std::string kF4x3 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";

TEST_CASE("npy: malformed headers and sizes", "[io][malformed]") {
  TempDir dir;
  const std::string p = dir.File("x.npy");
  CHECK(OpenError(dir, "x.npy", {}) == p + ": truncated: 0 bytes, shorter than a .npy preamble");
  CHECK(OpenError(dir, "x.npy", Bytes("\x93NUMPY\x01")) ==
        p + ": truncated: 7 bytes, shorter than a .npy preamble");
  CHECK(OpenError(dir, "x.npy", Bytes("NUMPY\x01\x00\x10\x00{}")) ==
        p + ": not a .npy file (no \\x93NUMPY magic)");
  std::vector<uint8_t> v4 = Npy(kF4x3, Floats(3));
  v4[6] = 4;
  CHECK(OpenError(dir, "x.npy", v4) == p + ": unsupported .npy version 4.0 (known: 1.0, 2.0, 3.0)");
  // Header length past the end of the file.
  std::vector<uint8_t> cut = Npy(kF4x3, {});
  cut.resize(40);
  CHECK(OpenError(dir, "x.npy", cut) ==
        p + ": header length 118 runs past the end of the file (40 bytes)");
  std::vector<uint8_t> huge = Npy(kF4x3, Floats(3), 2);
  huge[8] = huge[9] = huge[10] = huge[11] = 0xFF;
  CHECK(OpenError(dir, "x.npy", huge) ==
        p + ": header length 4294967295 runs past the end of the file (140 bytes)");
  // The dict literal.
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)", Floats(3))) ==
        p + ": malformed header: expected ',' or '}' after the value of 'shape' but the header "
            "ended");
  CHECK(OpenError(dir, "x.npy", Npy("'descr': '<f4'}", Floats(3))) ==
        p + ": malformed header: expected '{' at the start of the header at offset 0, found "
            "''descr': '<f4'}'");
  CHECK(OpenError(dir, "x.npy", Npy("{'descr': '<f4', 'fortran_order': False}", Floats(3))) ==
        p + ": header has no 'shape' key");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                      "'shape': (3,)}",
                      Floats(3))) == p + ": malformed header: duplicate key 'descr'");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}", Floats(3))) ==
        p + ": malformed header: expected a value for 'fortran_order' at offset 34, found '0, "
            "'shape': (3,)}'");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<f4', 'fortran_order': False, 'shape': 3}", Floats(3))) ==
        p + ": malformed header: expected a value for 'shape' at offset 50, found '3}'");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}", {})) ==
        p + ": malformed header: negative dimension in shape");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                      {})) ==
        p + ": malformed header: dimension too large (over 2^63 - 1) in shape");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, "
                      "4611686018427387904)}",
                      {})) ==
        p + ": shape (4611686018427387904, 4611686018427387904) × '<f4' overflows 64-bit sizes");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,)}",
                      {})) == p + ": shape (2305843009213693952,) × '<f8' overflows 64-bit sizes");
  CHECK(
      OpenError(dir, "x.npy",
                Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1)} junk", Floats(3))) ==
      p + ": malformed header: unexpected text after the header dict at offset 58: 'junk'");
  // dtypes.
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}", Floats(3))) ==
        p + ": unsupported dtype '<U3'");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<V4', 'fortran_order': False, 'shape': (1,)}", Floats(1))) ==
        p + ": unsupported dtype '<V4': only 'V1' (8-bit codes) and 'V2' (bf16) are known");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (3,)}", Floats(3))) ==
        p + ": big-endian dtype '>f4' is not supported: save it little-endian "
            "(arr.astype(arr.dtype.newbyteorder('<')))");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}",
                      Floats(3))) == p + ": structured dtypes (a list 'descr') are not supported");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<O', 'fortran_order': False, 'shape': (1,)}", Floats(2))) ==
        p + ": unsupported dtype '<O'");
  // Shape × dtype against the data.
  CHECK(OpenError(dir, "x.npy", Npy(kF4x3, Floats(2))) ==
        p + ": shape (3,) × '<f4' needs 12 bytes of data but the file has 8 (truncated)");
  CHECK(OpenError(dir, "x.npy", Npy(kF4x3, Floats(4))) ==
        p + ": shape (3,) × '<f4' needs 12 bytes of data but the file has 16 (trailing bytes)");
  // Tolerated: any key order, double quotes, no trailing comma, extra spaces, Python 2 longs,
  // 16-byte alignment.
  CHECK(OpenError(dir, "x.npy",
                  Npy("{ \"shape\" : ( 3L , ) , 'fortran_order':False,'descr':'<f4' }",
                      Floats(3))) == "");
  CHECK(OpenError(dir, "x.npy",
                  Npy("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", Floats(1))) == "");
  std::vector<uint8_t> align16 = Bytes(std::string("\x93NUMPY\x01\x00", 8));
  const std::string h16 = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }   \n";
  align16.push_back(static_cast<uint8_t>(h16.size()));
  align16.push_back(0);
  align16.insert(align16.end(), h16.begin(), h16.end());
  align16.insert(align16.end(), 4, 0);
  CHECK(OpenError(dir, "x.npy", align16) == "");
}

TEST_CASE("files that are no tensor file, or no file", "[io][malformed]") {
  TempDir dir;
  CHECK(OpenError(dir, "x.bin", Bytes("hello, world")) ==
        dir.File("x.bin") +
            ": not a tensor file: no .npy magic (\\x93NUMPY), no zip magic (.npz) and no "
            "safetensors header (u64 length, then '{')");
  StatusOr<TensorFile> missing = OpenTensorFile(dir.File("missing.npy"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() ==
        dir.File("missing.npy") + ": cannot open: No such file or directory");
  StatusOr<TensorFile> d = OpenTensorFile(dir.path());
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message() == dir.path() + ": is a directory, not a tensor file");
}

TEST_CASE("safetensors: malformed headers, offsets and sizes", "[io][malformed]") {
  TempDir dir;
  const std::string p = dir.File("x.safetensors");
  auto err = [&](const std::vector<uint8_t>& bytes) {
    return OpenError(dir, "x.safetensors", bytes);
  };
  const std::string a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  CHECK(err(Bytes(std::string("\x05\x00\x00", 3))) ==
        p + ": truncated: 3 bytes, shorter than the 8-byte safetensors header length");
  std::vector<uint8_t> big = St("{}", {});
  big[4] = 0x01;  // 2^32 + 2
  CHECK(err(big) == p + ": header length 4294967298 exceeds the safetensors limit of 100 MB");
  std::vector<uint8_t> past = St("{" + a + "}", Floats(2));
  past[0] = 200;
  CHECK(err(past) == p + ": header length 200 runs past the end of the file (70 bytes)");
  CHECK(err(St("[" + a + "]", Floats(2))) ==
        p + ": header does not start with '{' (not a safetensors file?)");
  CHECK(err(St("{\"a\xFF\":1}", {})) == p + ": header is not valid UTF-8 (byte 0xFF at offset 11)");
  CHECK(err(St("{\"\xC0\x80\":1}", {})) ==
        p + ": header is not valid UTF-8 (byte 0xC0 at offset 10)");  // overlong NUL
  CHECK(err(St("{\"\xED\xA0\x80\":1}", {})) ==
        p + ": header is not valid UTF-8 (byte 0xED at offset 10)");  // surrogate
  CHECK_THAT(
      err(St("{" + a, Floats(2))),
      Catch::StartsWith(p + ": header is not valid JSON: [json.exception.parse_error.101] "
                            "parse error at line 1, column 54: syntax error while parsing object - "
                            "unexpected end of input; expected '}'"));
  CHECK(err(St("{" + a + "," + a + "}", Floats(2))) == p + ": header has the key \"a\" twice");
  CHECK(err(St(R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
               Floats(2))) == p + ": header has the key \"dtype\" twice");
  CHECK(err(St(R"({"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}})", Floats(2))) ==
        p + ": tensor \"a\": unknown dtype \"F7\"");
  CHECK(err(St(R"({"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", Floats(2))) ==
        p + ": tensor \"a\": unknown dtype \"f32\"");
  CHECK(err(St(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", Floats(2))) ==
        p + ": tensor \"a\": no \"dtype\" string");
  CHECK(err(St(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", Floats(2))) ==
        p + ": tensor \"a\": no \"shape\" array");
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", Floats(2))) ==
        p + ": tensor \"a\": no \"data_offsets\" pair");
  CHECK(err(St(R"({"a":3})", {})) == p + ": tensor \"a\": entry is not a JSON object");
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", Floats(2))) ==
        p + ": tensor \"a\": shape holds -2, not a dimension (an integer in [0, 2^63))");
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", Floats(2))) ==
        p + ": tensor \"a\": shape holds 2.5, not a dimension (an integer in [0, 2^63))");
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})",
               Floats(2))) ==
        p + ": tensor \"a\": shape [4611686018427387904, 4] × F32 overflows 64-bit sizes");
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", Floats(2))) ==
        p + ": tensor \"a\": data_offsets [8,0] are not two non-negative integers in order");
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,-8]}})", Floats(2))) ==
        p + ": tensor \"a\": data_offsets [0,-8] are not two non-negative integers in order");
  // shape × dtype != data_offsets span.
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", Floats(5))) ==
        p + ": tensor \"a\": shape [2, 3] × F32 needs 24 bytes but data_offsets [0, 20] hold 20");
  // Out of range, overlapping, holes, trailing bytes.
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", Floats(1))) ==
        p + ": tensor \"a\": data_offsets [0, 8] run past the end of the data buffer (4 bytes)");
  CHECK(
      err(St(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,18446744073709551615]}})",
          Floats(2))) ==
      p + ": tensor \"a\": data_offsets [18446744073709551608, 18446744073709551615] run past "
          "the end of the data buffer (8 bytes)");
  CHECK(
      err(St(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
          Floats(3))) == p + ": tensor \"b\" data_offsets [4, 12] overlap tensor \"a\"");
  CHECK(
      err(St(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
          Floats(2))) == p + ": tensor \"b\" data_offsets [0, 8] overlap tensor \"a\"");
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", Floats(3))) ==
        p + ": bytes [0, 4) of the data buffer belong to no tensor (a hole before \"a\")");
  CHECK(err(St(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", Floats(2))) ==
        p + ": 4 bytes at the end of the data buffer belong to no tensor");
  // __metadata__.
  CHECK(err(St(R"({"__metadata__":{"step":3}})", {})) ==
        p + ": __metadata__ value of \"step\" is not a string");
  CHECK(err(St(R"({"__metadata__":[1]})", {})) == p + ": __metadata__ is not a JSON object");
  // Allowed: rank 0, zero-size (several at one offset), F4 with an odd count (bytes rounded
  // up), space padding after the JSON, an empty file header.
  CHECK(
      err(St(
          R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"z":{"dtype":"F32","shape":[0,7],"data_offsets":[4,4]},"y":{"dtype":"BF16","shape":[0],"data_offsets":[4,4]}}   )",
          Floats(1))) == "");
  CHECK(err(St(R"({"f":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", {0x21, 0x03})) == "");
  CHECK(err(St(R"({"f":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}})", {0x21})) ==
        p + ": tensor \"f\": shape [3] × F4 needs 2 bytes but data_offsets [0, 1] hold 1");
  CHECK(err(St(R"({"f":{"dtype":"F6_E3M2","shape":[5],"data_offsets":[0,4]}})", {1, 2, 3, 4})) ==
        "");
  CHECK(err(St("{}", {})) == "");
}

TEST_CASE("npz: bad archives and members", "[io][malformed]") {
  TempDir dir;
  const std::string p = dir.File("x.npz");
  const std::vector<uint8_t> good = Npy(kF4x3, Floats(3));
  CHECK(OpenError(dir, "x.npz", Bytes("PK\x03\x04 this is not a zip")) ==
        p + ": bad zip archive (.npz): Not a zip archive");
  std::vector<uint8_t> z = Zip(dir, {{"a.npy", good, true}, {"b.npy", good, false}});
  CHECK(OpenError(dir, "x.npz", z) == "");
  std::vector<uint8_t> half(z.begin(), z.begin() + static_cast<ptrdiff_t>(z.size() / 2));
  CHECK(OpenError(dir, "x.npz", half) == p + ": bad zip archive (.npz): Not a zip archive");
  CHECK(OpenError(dir, "x.npz", Zip(dir, {{"a.npy", good}, {"README.txt", Bytes("hi")}})) ==
        p + ": member 'README.txt' is not a .npy file (an .npz holds only NAME.npy members)");
  CHECK(OpenError(dir, "x.npz", Zip(dir, {{"a.npy", Bytes("PK not npy data at all")}})) ==
        p + ": member 'a.npy': not a .npy file (no \\x93NUMPY magic)");
  std::vector<uint8_t> short_data = Npy(kF4x3, Floats(2));
  CHECK(OpenError(dir, "x.npz", Zip(dir, {{"a.npy", short_data, true}})) ==
        p + ": member 'a.npy': shape (3,) × '<f4' needs 12 bytes of data but the member has 8");
  std::vector<uint8_t> long_header = Npy(kF4x3, Floats(3));
  long_header[8] = 0xF0;
  CHECK(OpenError(dir, "x.npz", Zip(dir, {{"a.npy", long_header}})) ==
        p + ": member 'a.npy': header length 240 runs past the end of the member (140 bytes)");
  CHECK(OpenError(dir, "x.npz", Zip(dir, {{"a.npy", Npy("{'descr': '<f4'}", Floats(3))}})) ==
        p + ": member 'a.npy': header has no 'fortran_order' key");
  // Corrupted data of a stored member: opening is fine (the header is intact), Load() checks
  // the CRC.
  std::vector<uint8_t> stored = Zip(dir, {{"a.npy", good}});
  const std::vector<uint8_t> magic = Bytes("\x93NUMPY");
  auto at = std::search(stored.begin(), stored.end(), magic.begin(), magic.end());
  REQUIRE(at != stored.end());
  *(at + 130) ^= 0x40;  // a data byte
  test::WriteBytes(p, stored);
  StatusOr<TensorFile> f = OpenTensorFile(p);
  REQUIRE(f.ok());
  StatusOr<TensorView> v = f->Load(0);
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().message() == p + ": member 'a.npy': CRC error");
  // The inflate limit.
  ReadOptions limited;
  limited.max_member_bytes = 8;
  test::WriteBytes(p, z);
  StatusOr<TensorFile> lim = OpenTensorFile(p, limited);
  REQUIRE(lim.ok());
  StatusOr<TensorView> big = lim->Load(0);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message() == p + ": member 'a.npy' holds 12 bytes, over the limit of 8");
  // An empty archive is a valid npz with no tensors (np.savez with no arrays).
  CHECK(OpenError(dir, "x.npz", Bytes(std::string("PK\x05\x06", 4) + std::string(18, '\0'))) == "");
}

TEST_CASE("conversion errors", "[io][malformed]") {
  const std::string dir = test::IoDataDir();
  StatusOr<TensorFile> f8 = OpenTensorFile(dir + "/f8.npy");
  REQUIRE(f8.ok());
  StatusOr<TensorView> v = f8->Load(0);
  REQUIRE(v.ok());
  ConvertOptions exact;
  exact.exact = true;
  StatusOr<std::vector<float>> x = ToFloat32(*v, exact);
  REQUIRE_FALSE(x.ok());
  CHECK(x.status().message() == dir +
                                    "/f8.npy: tensor \"f8\": element 0 = 0.10000000000000001 "
                                    "is not exactly representable as float32");
  CHECK(ToFloat32(*v).ok());  // rounding is the default
  std::vector<float> out(4);
  const Status range = ToFloat32(*v, 3, out);
  CHECK(range.message() ==
        dir + "/f8.npy: tensor \"f8\": elements [3, 7) are out of range (numel 6)");
  StatusOr<TensorView> none = f8->Load(1);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message() == dir + "/f8.npy: no tensor #1 (the file has 1)");
  StatusOr<TensorFile> c8 = OpenTensorFile(dir + "/c8.npy");
  REQUIRE(c8.ok());
  StatusOr<std::vector<float>> c = ToFloat32(*c8->Load(0));
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() ==
        dir + "/c8.npy: tensor \"c8\": complex dtype C64 has no real value to convert to");
  StatusOr<TensorFile> i64 = OpenTensorFile(dir + "/i64.npy");
  REQUIRE(i64.ok());
  StatusOr<std::vector<double>> d = ToFloat64(*i64->Load(0));
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message() == dir +
                                    "/i64.npy: tensor \"i64\": element 3 = 9007199254740993 "
                                    "is not exactly representable as float64");
  // A view whose bytes disagree with its shape is refused, not read past its end.
  TensorView bad = *v;
  bad.bytes = bad.bytes.first(8);
  StatusOr<std::vector<float>> b = ToFloat32(bad);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message() ==
        dir + "/f8.npy: tensor \"f8\": holds 8 bytes; its shape and dtype need 48");
}

}  // namespace
}  // namespace qfloat
