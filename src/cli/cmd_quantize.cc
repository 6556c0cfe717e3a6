// qfloat quantize IN OUT -f F [-r R] [--overflow P] [--scaling S] [--seed N] [--stream T]
//                 [--tensors GLOB]... [--packed] [--backend B] [--threads N] [--as FMT]
//                 [--json] [--quiet]
// Quantizes every real-valued tensor of a .npy/.npz/.safetensors file (or those --tensors
// selects) and writes OUT (.npy or .safetensors, by its extension): float32 fake-quant values
// (float64 for formats float32 cannot hold), or with --packed the codes in the matching
// safetensors dtype plus "<name>.scale" (and NVFP4's "<name>.tensor_scale") tensors. Integer,
// boolean and complex tensors are copied unchanged. FP6 codes, and FP4 codes whose last
// dimension is odd, are stored as U8, one code per byte, because the safetensors reference
// (0.8, with torch) cannot load them otherwise and then refuses the whole file (the metadata
// key "qfloat.codes_one_per_byte" lists those tensors). OUT is written to a temporary and renamed,
// after every tensor has been computed: a failure leaves no OUT (DESIGN.md, CLI contract).
//
// Stochastic rounding: element i of tensor t uses index offset(t) + i, where offset(t) is the
// number of elements of the tensors before t in IN (selected or not), with --seed and --stream,
// so a result does not depend on --tensors, --threads or --backend.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/tensor_cli.h"
#include "qfloat/analysis.h"
#include "qfloat/io.h"
#include "qfloat/report.h"
#include "qfloat/scaling.h"

namespace qfloat::cli {
namespace {

struct QuantizeArgs {
  QuantizerArgs q;
  std::string in;
  std::string out;
  std::vector<std::string> tensors;
  bool packed = false;
  bool json = false;
  bool quiet = false;
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// One output tensor (and its scales): the bytes stay alive here until the file is written.
struct OutTensor {
  TensorView view;
  std::vector<uint8_t> bytes;
};

struct TensorReport {
  std::string name;
  DType dtype_in;
  std::vector<int64_t> shape;
  uint64_t elements = 0;
  bool quantized = false;
  DType dtype_out;
  NonFiniteCounts nonfinite_in;
  NonFiniteCounts nonfinite_out;  // fake-quant only
  std::vector<int64_t> scale_shape;
};

OutTensor MakeOut(std::string name, DType dtype, std::vector<int64_t> shape,
                  std::vector<uint8_t> bytes) {
  OutTensor t;
  t.bytes = std::move(bytes);
  t.view.name = std::move(name);
  t.view.dtype = dtype;
  t.view.shape = std::move(shape);
  return t;
}

template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

int RunQuantize(const QuantizeArgs& args) {
  StatusOr<Quantizer> quantizer = ResolveQuantizerArgs(args.q);
  if (!quantizer.ok()) return Fail(kExitUsage, quantizer.status().message());
  const Quantizer& q = *quantizer;
  const bool scaled = q.scaling.kind != ScalingKind::kNone;
  const bool to_npy = EndsWith(args.out, ".npy");
  if (!to_npy && !EndsWith(args.out, ".safetensors")) {
    return Fail(kExitUsage, "OUT '" + args.out +
                                "': the output type comes from the extension: .npy or "
                                ".safetensors");
  }
  if (to_npy && args.packed && scaled) {
    return Fail(kExitUsage, "OUT '" + args.out + "': --packed with scaling '" +
                                ToString(q.scaling) +
                                "' writes codes and scales: use a .safetensors OUT");
  }
  if (args.out == "-" && args.json) {
    return Fail(kExitUsage, "--json: stdout already carries OUT '-'");
  }
  const TensorFilter filter(args.tensors);

  StatusOr<TensorFile> file = OpenInput(args.in, args.q.as_format);
  if (!file.ok()) return Fail(kExitData, file.status().message());

  std::vector<size_t> selected;
  std::vector<uint64_t> offsets(file->size(), 0);
  uint64_t offset = 0;
  for (size_t i = 0; i < file->size(); ++i) {
    offsets[i] = offset;
    offset += file->info(i).numel;
    if (filter.Matches(file->info(i).name)) selected.push_back(i);
  }
  if (file->size() == 0) return Fail(kExitData, args.in + ": holds no tensors");
  if (selected.empty()) {
    std::string names;
    for (size_t i = 0; i < file->size() && i < 8; ++i) {
      names += (i ? ", " : "") + file->info(i).name;
    }
    if (file->size() > 8) names += ", ...";
    return Fail(kExitUsage, "--tensors " + filter.Describe() + ": matches none of " + args.in +
                                "'s " + std::to_string(file->size()) + " tensors (" + names + ")");
  }
  if (to_npy && selected.size() != 1) {
    return Fail(kExitUsage, "OUT '" + args.out + "': a .npy file holds one tensor but " +
                                std::to_string(selected.size()) + " are selected from " + args.in +
                                " (use --tensors, or a .safetensors OUT)");
  }

  // Compute everything before writing anything.
  std::vector<OutTensor> outs;
  std::vector<TensorReport> reports;
  std::vector<std::string> unpacked_names;  // sub-byte codes stored one per byte
  const bool wide_out = !FitsInFloat(q.spec) && !scaled;
  for (const size_t i : selected) {
    const TensorInfo& info = file->info(i);
    const std::string where = args.in + ": tensor '" + info.name + "'";
    StatusOr<TensorView> view = file->Load(i);
    if (!view.ok()) return Fail(kExitData, view.status().message());
    TensorReport rep;
    rep.name = info.name;
    rep.dtype_in = info.dtype;
    rep.shape = info.shape;
    rep.elements = info.numel;
    if (!IsRealFloat(info)) {
      if (to_npy) {
        return Fail(kExitData, where + ": dtype " + std::string(ToString(info.dtype)) +
                                   " holds no real values to quantize");
      }
      StatusOr<std::vector<uint8_t>> bytes = COrderBytes(*view);
      if (!bytes.ok()) return FailStatus(bytes.status());
      rep.dtype_out = info.dtype;
      outs.push_back(MakeOut(info.name, info.dtype, info.shape, std::move(bytes).value()));
      reports.push_back(rep);
      continue;
    }
    StatusOr<TensorValues> values = LoadValues(*view);
    if (!values.ok()) return Fail(kExitData, values.status().message());
    rep.nonfinite_in = values->wide ? CountNonFinite(values->f64) : CountNonFinite(values->f32);
    rep.quantized = true;
    TensorOptions options = q.options;
    options.quantize.index_offset = offsets[i];
    ScalingState state;  // delayed scaling: a single file is its first step
    ScalingState* state_ptr = q.scaling.kind == ScalingKind::kDelayed ? &state : nullptr;
    Status st;
    if (!args.packed) {
      if (!values->wide && !wide_out) {
        std::vector<float> out(values->f32.size());
        st = QuantizeScaled(q.spec, q.scaling, info.shape, values->f32, out, options, state_ptr);
        if (!st.ok()) return FailStatus(st, where);
        rep.nonfinite_out = CountNonFinite(out);
        rep.dtype_out = DType::kF32;
        outs.push_back(MakeOut(info.name, DType::kF32, info.shape, Bytes(out)));
      } else {
        // float64 inputs are rounded once from float64 (never through float32); a format that
        // float32 cannot hold (posit32, ...) is written as float64.
        std::vector<double> in = values->wide
                                     ? values->f64
                                     : std::vector<double>(values->f32.begin(), values->f32.end());
        std::vector<double> out(in.size());
        st = QuantizeScaled(q.spec, q.scaling, info.shape, std::span<const double>(in),
                            std::span<double>(out), options, state_ptr);
        if (!st.ok()) return FailStatus(st, where);
        rep.nonfinite_out = CountNonFinite(out);
        if (wide_out) {
          rep.dtype_out = DType::kF64;
          outs.push_back(MakeOut(info.name, DType::kF64, info.shape, Bytes(out)));
        } else {
          // Every value of the format is a float32: the narrowing is exact.
          std::vector<float> f(out.begin(), out.end());
          rep.dtype_out = DType::kF32;
          outs.push_back(MakeOut(info.name, DType::kF32, info.shape, Bytes(f)));
        }
      }
      reports.push_back(rep);
      continue;
    }
    ScaledTensor packed;
    st =
        values->wide
            ? EncodeScaled(q.spec, q.scaling, info.shape, values->f64, &packed, options, state_ptr)
            : EncodeScaled(q.spec, q.scaling, info.shape, values->f32, &packed, options, state_ptr);
    if (!st.ok()) return FailStatus(st, where);
    DType code_dtype = CodeStorageDType(q.spec);
    if (q.scaling.twos_complement && code_dtype == DType::kU8) code_dtype = DType::kI8;
    std::vector<uint8_t> code_bytes;
    // Sub-byte codes as the safetensors reference (0.8) reads them: F4 only when the last
    // dimension is even (torch loads F4 as float4_e2m1fn_x2, halving it; an odd count fails the
    // whole file), F6 never (not understood, and its bit order is undocumented). Otherwise one
    // code per byte (U8), listed in the metadata.
    const bool f6 = code_dtype == DType::kF6E2M3 || code_dtype == DType::kF6E3M2;
    const bool odd_f4 =
        code_dtype == DType::kF4 && (info.shape.empty() || info.shape.back() % 2 != 0);
    if (f6 || odd_f4) {
      code_dtype = DType::kU8;
      code_bytes.resize(info.numel);
      for (uint64_t k = 0; k < info.numel; ++k) {
        code_bytes[k] = static_cast<uint8_t>(ReadPackedCode(q.spec, packed.codes, k));
      }
      unpacked_names.push_back(info.name);
    } else {
      code_bytes = CodesToStorage(q.spec, packed.codes, info.numel);
    }
    rep.dtype_out = code_dtype;
    outs.push_back(MakeOut(info.name, code_dtype, info.shape, std::move(code_bytes)));
    if (scaled) {
      size_t entries = 1;
      for (int64_t d : packed.scale_shape) entries *= static_cast<size_t>(d);
      rep.scale_shape = packed.scale_shape;
      outs.push_back(MakeOut(info.name + ".scale", CodeStorageDType(packed.scale_spec),
                             packed.scale_shape,
                             CodesToStorage(packed.scale_spec, packed.scales, entries)));
      if (q.scaling.kind == ScalingKind::kNvfp4) {
        std::vector<float> ts = {packed.tensor_scale};
        outs.push_back(MakeOut(info.name + ".tensor_scale", DType::kF32, {}, Bytes(ts)));
      }
    }
    reports.push_back(rep);
  }

  std::vector<TensorView> views;
  for (OutTensor& t : outs) {
    t.view.bytes = t.bytes;
    views.push_back(t.view);
  }
  // Names must stay unique once scale tensors are added.
  std::map<std::string, int> names;
  for (const TensorView& v : views) {
    if (++names[v.name] > 1) {
      return Fail(kExitData, args.in + ": tensor '" + v.name +
                                 "' would be written twice (a tensor of IN already has the name "
                                 "of a scale tensor)");
    }
  }
  Status written;
  if (to_npy) {
    written = WriteNpy(args.out, views[0]);
  } else {
    std::map<std::string, std::string> metadata = file->metadata();
    metadata["qfloat.version"] = QFLOAT_VERSION;
    metadata["qfloat.format"] = q.format.name;
    metadata["qfloat.element"] = q.element;
    metadata["qfloat.rounding"] = ToString(q.options.quantize.rounding);
    metadata["qfloat.overflow"] = ToString(q.options.quantize.overflow);
    metadata["qfloat.scaling"] = ToString(q.scaling);
    metadata["qfloat.seed"] = std::to_string(q.options.quantize.seed);
    metadata["qfloat.stream"] = std::to_string(q.options.quantize.stream);
    metadata["qfloat.packed"] = args.packed ? "true" : "false";
    if (args.packed && scaled) {
      metadata["qfloat.scale_format"] = q.scaling.kind == ScalingKind::kBlock
                                            ? q.scaling.scale_format
                                        : q.scaling.kind == ScalingKind::kNvfp4 ? "e4m3fn"
                                                                                : "fp32";
    }
    if (!unpacked_names.empty()) {
      std::string list;
      for (const std::string& n : unpacked_names) list += (list.empty() ? "" : ",") + n;
      metadata["qfloat.codes_one_per_byte"] = list;
    }
    written = WriteSafetensors(args.out, views, metadata);
  }
  if (!written.ok()) return Fail(kExitData, written.message());
  if (args.out == "-" || args.quiet) return kExitOk;

  if (args.json) {
    Json j;
    j["input"] = args.in;
    j["output"] = args.out;
    j["format"] = q.format.name;
    j["element"] = q.element;
    j["rounding"] = ToString(q.options.quantize.rounding);
    j["overflow"] = ToString(q.options.quantize.overflow);
    j["scaling"] = ToString(q.scaling);
    j["seed"] = q.options.quantize.seed;
    j["packed"] = args.packed;
    j["tensors"] = Json::array();
    for (const TensorReport& r : reports) {
      Json t;
      t["name"] = r.name;
      t["dtype"] = std::string(ToString(r.dtype_in));
      t["shape"] = r.shape;
      t["elements"] = r.elements;
      t["quantized"] = r.quantized;
      t["output_dtype"] = std::string(ToString(r.dtype_out));
      t["nonfinite_in"] = r.nonfinite_in.total();
      if (!args.packed) t["nonfinite_out"] = r.nonfinite_out.total();
      if (!r.scale_shape.empty()) t["scale_shape"] = r.scale_shape;
      j["tensors"].push_back(std::move(t));
    }
    WriteJson(j);
  } else {
    qfloat::Table table({"tensor", "dtype", "shape", "elements", "written as", "non-finite in",
                         args.packed ? "scales" : "non-finite out"});
    table.SetAlign(0, Align::kLeft).SetAlign(1, Align::kLeft).SetAlign(2, Align::kLeft);
    table.SetAlign(4, Align::kLeft);
    for (const TensorReport& r : reports) {
      const std::string out_col = !r.quantized ? "-"
                                  : args.packed
                                      ? (r.scale_shape.empty() ? "-" : ShapeString(r.scale_shape))
                                      : FormatCount(r.nonfinite_out.total());
      table.AddRow({r.name, std::string(ToString(r.dtype_in)), ShapeString(r.shape),
                    FormatCount(r.elements),
                    std::string(ToString(r.dtype_out)) + (r.quantized ? "" : " (copied)"),
                    r.quantized ? FormatCount(r.nonfinite_in.total()) : "-", out_col});
    }
    std::string text = table.ToText();
    text += "wrote " + args.out + ": " + std::to_string(reports.size()) + " tensor" +
            (reports.size() == 1 ? "" : "s") + ", " + q.format.name + " " +
            ToString(q.options.quantize.rounding) + " " + ToString(q.options.quantize.overflow) +
            ", scaling " + ToString(q.scaling) + (args.packed ? ", packed codes" : ", fake-quant") +
            "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  const Status flushed = FlushStdout();
  return flushed.ok() ? kExitOk : FailStatus(flushed);
}

RunFn SetupQuantize(CLI::App& command) {
  auto args = std::make_shared<QuantizeArgs>();
  command.add_option("IN", args->in, "input tensors: .npy, .npz or .safetensors ('-': stdin)")
      ->required();
  command.add_option("OUT", args->out, "output: .npy or .safetensors (written atomically)")
      ->required();
  AddQuantizerOptions(command, args->q);
  command.add_option("--tensors", args->tensors,
                     "only tensors whose name matches this glob (repeatable)");
  command.add_flag("--packed", args->packed,
                   "write codes (safetensors dtype of the format) plus scale tensors, not "
                   "fake-quant float32");
  command.add_flag("--json", args->json, "print the summary as JSON");
  command.add_flag("-q,--quiet", args->quiet, "print nothing on success");
  command.footer(
      "Integer, bool and complex tensors are copied unchanged. Scale tensors are named "
      "'<name>.scale' (and '<name>.tensor_scale' for NVFP4); the settings are recorded in the "
      "safetensors __metadata__ (qfloat.*).");
  return [args] { return RunQuantize(*args); };
}

}  // namespace

QFLOAT_CLI_COMMAND(quantize, 40, "quantize the tensors of a .npy/.npz/.safetensors file",
                   SetupQuantize);

}  // namespace qfloat::cli
