// qfloat_io_dump FILE...: prints every tensor of each file as one JSON document, values as the
// float64 bit patterns of ToFloat64 (exact) in C order, so that scripts (the record_gradients
// test) can compare what our reader sees with what PyTorch held, bit for bit.
// Exit 0 on success, 1 if any file fails to read (the message goes to stderr).
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "qfloat/io.h"

int main(int argc, char** argv) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  for (int a = 1; a < argc; ++a) {
    qfloat::StatusOr<qfloat::TensorFile> f = qfloat::OpenTensorFile(argv[a]);
    if (!f.ok()) {
      std::cerr << f.status().message() << "\n";
      return 1;
    }
    nlohmann::ordered_json file;
    file["kind"] = std::string(qfloat::ToString(f->kind()));
    file["metadata"] = f->metadata();
    nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
    for (size_t i = 0; i < f->size(); ++i) {
      qfloat::StatusOr<qfloat::TensorView> v = f->Load(i);
      if (!v.ok()) {
        std::cerr << v.status().message() << "\n";
        return 1;
      }
      qfloat::StatusOr<std::vector<double>> x = qfloat::ToFloat64(*v);
      if (!x.ok()) {
        std::cerr << x.status().message() << "\n";
        return 1;
      }
      nlohmann::ordered_json bits = nlohmann::ordered_json::array();
      for (double d : *x) {
        uint64_t b;
        std::memcpy(&b, &d, 8);
        char hex[20];
        std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(b));
        bits.push_back(hex);
      }
      tensors.push_back({{"name", v->name},
                         {"dtype", std::string(qfloat::ToString(v->dtype))},
                         {"shape", v->shape},
                         {"f64_bits", std::move(bits)}});
    }
    file["tensors"] = std::move(tensors);
    doc[argv[a]] = std::move(file);
  }
  std::cout << doc.dump(1) << "\n";
  return 0;
}
