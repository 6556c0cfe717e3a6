// The bundled data sets (data/README.md): parsing the embedded copies of scikit-learn's files,
// standardizing the columns in fp64 and appending an intercept (THEORY.md §4 "All problems").
#include <zlib.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/simulate.h"
#include "simulate/embedded.h"

namespace qfloat::sim {
namespace {

StatusOr<std::string_view> EmbeddedBytes(std::string_view file) {
  for (size_t i = 0; i < detail::kEmbeddedDataCount; ++i) {
    const detail::EmbeddedFile& f = detail::kEmbeddedData[i];
    if (file == f.name) {
      return std::string_view(reinterpret_cast<const char*>(f.bytes), f.size);
    }
  }
  return NotFound("data file '" + std::string(file) + "' is not embedded in this build");
}

// gunzip of a whole .gz member (zlib's gzip wrapper: windowBits 16 + MAX_WBITS).
StatusOr<std::string> Gunzip(std::string_view gz, std::string_view name) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return DataError(std::string(name) + ": zlib");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[1 << 15];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return DataError(std::string(name) + ": corrupt gzip data");
  return out;
}

StatusOr<std::string> FileText(std::string_view file) {
  StatusOr<std::string_view> bytes = EmbeddedBytes(file);
  if (!bytes.ok()) return bytes.status();
  if (file.size() > 3 && file.substr(file.size() - 3) == ".gz") return Gunzip(*bytes, file);
  return std::string(*bytes);
}

// Numbers separated by `sep` (or any run of blanks when sep is ' '), one row per line. Every row
// must have the same count; messages name file and line.
StatusOr<std::vector<std::vector<double>>> ParseRows(std::string_view text, char sep,
                                                     std::string_view file, int skip_lines) {
  std::vector<std::vector<double>> rows;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line_no <= skip_lines) continue;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    std::vector<double> row;
    size_t i = 0;
    while (i < line.size()) {
      if (sep == ' ') {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i == line.size()) break;
      }
      size_t j = i;
      while (j < line.size() && line[j] != sep && !(sep == ' ' && line[j] == '\t')) ++j;
      std::string_view tok = line.substr(i, j - i);
      double v = 0.0;
      auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
      if (ec != std::errc() || p != tok.data() + tok.size() || !std::isfinite(v)) {
        return DataError(std::string(file) + " line " + std::to_string(line_no) + ": '" +
                         std::string(tok) + "' is not a finite number");
      }
      row.push_back(v);
      i = j + (j < line.size() ? 1 : 0);
    }
    if (!rows.empty() && row.size() != rows.front().size()) {
      return DataError(std::string(file) + " line " + std::to_string(line_no) + ": " +
                       std::to_string(row.size()) + " fields, expected " +
                       std::to_string(rows.front().size()));
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return DataError(std::string(file) + ": no data rows");
  return rows;
}

}  // namespace

std::vector<std::string> BuiltinDatasets() { return {"diabetes", "breast_cancer", "digits"}; }

StatusOr<RawTable> LoadRawDataset(std::string_view name) {
  RawTable t;
  if (name == "diabetes") {
    StatusOr<std::string> xs = FileText("diabetes_data_raw.csv.gz");
    if (!xs.ok()) return xs.status();
    StatusOr<std::string> ys = FileText("diabetes_target.csv.gz");
    if (!ys.ok()) return ys.status();
    auto x = ParseRows(*xs, ' ', "diabetes_data_raw.csv.gz", 0);
    if (!x.ok()) return x.status();
    auto y = ParseRows(*ys, ' ', "diabetes_target.csv.gz", 0);
    if (!y.ok()) return y.status();
    if (x->size() != y->size() || y->front().size() != 1) {
      return DataError("diabetes: feature and target files disagree in rows");
    }
    t.rows = static_cast<int64_t>(x->size());
    t.cols = static_cast<int64_t>(x->front().size());
    for (size_t r = 0; r < x->size(); ++r) {
      t.x.insert(t.x.end(), (*x)[r].begin(), (*x)[r].end());
      t.y.push_back((*y)[r][0]);
    }
    return t;
  }
  std::string file;
  int skip = 0;
  if (name == "breast_cancer") {
    file = "breast_cancer.csv";
    skip = 1;  // "569,30,malignant,benign"
  } else if (name == "digits") {
    file = "digits.csv.gz";
  } else {
    return NotFound("unknown data set '" + std::string(name) +
                    "' (bundled: diabetes, breast_cancer, digits)");
  }
  StatusOr<std::string> text = FileText(file);
  if (!text.ok()) return text.status();
  auto rows = ParseRows(*text, ',', file, skip);
  if (!rows.ok()) return rows.status();
  if (rows->front().size() < 2) return DataError(file + ": fewer than two columns");
  t.rows = static_cast<int64_t>(rows->size());
  t.cols = static_cast<int64_t>(rows->front().size()) - 1;  // the last column is the label
  for (const std::vector<double>& r : *rows) {
    t.x.insert(t.x.end(), r.begin(), r.end() - 1);
    t.y.push_back(r.back());
  }
  return t;
}

std::vector<double> StandardizeWithIntercept(std::span<const double> x, int64_t rows,
                                             int64_t cols) {
  const int64_t d = cols + 1;
  std::vector<double> out(static_cast<size_t>(rows * d), 0.0);
  for (int64_t j = 0; j < cols; ++j) {
    // Two passes (mean, then the centred sum of squares): accurate in fp64 for these sizes.
    double mean = 0.0;
    for (int64_t i = 0; i < rows; ++i) mean += x[i * cols + j];
    mean /= static_cast<double>(rows);
    double ss = 0.0;
    for (int64_t i = 0; i < rows; ++i) {
      const double c = x[i * cols + j] - mean;
      ss += c * c;
    }
    const double sd = std::sqrt(ss / static_cast<double>(rows));
    for (int64_t i = 0; i < rows; ++i) {
      // A constant column carries no information; 0 keeps it out of every product.
      out[i * d + j] = sd > 0.0 ? (x[i * cols + j] - mean) / sd : 0.0;
    }
  }
  for (int64_t i = 0; i < rows; ++i) out[i * d + cols] = 1.0;
  return out;
}

StatusOr<Dataset> LoadDataset(std::string_view name, int64_t max_samples) {
  if (max_samples < 0) return InvalidArgument("max_samples must be >= 0");
  StatusOr<RawTable> raw = LoadRawDataset(name);
  if (!raw.ok()) return raw.status();
  Dataset d;
  d.name = std::string(name);
  d.samples = max_samples > 0 && max_samples < raw->rows ? max_samples : raw->rows;
  d.features = raw->cols + 1;
  d.x = StandardizeWithIntercept(std::span<const double>(raw->x).first(d.samples * raw->cols),
                                 d.samples, raw->cols);
  d.y.assign(raw->y.begin(), raw->y.begin() + d.samples);
  if (name == "diabetes") {
    d.classes = 0;
  } else if (name == "breast_cancer") {
    d.classes = 2;
    for (double& v : d.y) v = v > 0.5 ? 1.0 : -1.0;  // 1 = benign -> +1, 0 = malignant -> -1
  } else {
    d.classes = 10;
  }
  return d;
}

}  // namespace qfloat::sim
