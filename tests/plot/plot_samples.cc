// Writes the sample figures that check_svg.py parses (structure, counts, log tick labels) and
// renders with rsvg-convert. Each figure NAME.svg comes with NAME.expect.json: what the checker
// must find in it. Usage: qfloat_plot_samples OUT_DIR
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qfloat/plot.h"

namespace {

namespace qp = qfloat::plot;
using nlohmann::json;

int failures = 0;

void Write(const std::string& dir, const std::string& name, const qp::Figure& fig, json expect) {
  std::vector<std::string> warnings;
  const qfloat::Status s = fig.WriteSvg(dir + "/" + name + ".svg", &warnings);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), s.message().c_str());
    ++failures;
    return;
  }
  expect["warnings"] = warnings;
  std::ofstream(dir + "/" + name + ".expect.json") << expect.dump(2) << "\n";
}

// A deterministic stand-in for q_k over training: approaches 1 with a format-dependent gap and a
// little noise (a fixed LCG, so the samples never change).
std::vector<double> FakeShrinkage(size_t n, double gap, uint32_t seed) {
  std::vector<double> q(n);
  uint32_t state = seed;
  for (size_t k = 0; k < n; ++k) {
    state = state * 1664525u + 1013904223u;
    const double noise = (static_cast<double>(state >> 8) / 16777216.0 - 0.5) * 0.3;
    q[k] = 1 - gap * (1 + noise) * (1 + 2 * std::exp(-static_cast<double>(k) / 40));
  }
  return q;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }

  // 1. 1 - q_k over steps for three formats on a log y axis, with a predicted bound.
  {
    const size_t n = 200;
    std::vector<double> steps(n);
    for (size_t k = 0; k < n; ++k) steps[k] = static_cast<double>(k + 1);
    qp::Figure fig(760, 460);
    qp::Axes& ax = fig.axes();
    ax.SetTitle("Shrinkage per step (1 \xE2\x88\x92 q\xCC\x82_k)")
        .SetXLabel("training step")
        .SetYLabel("1 \xE2\x88\x92 q\xCC\x82_k")
        .SetYScale(qp::Scale::kLog10);
    json points;
    const char* names[] = {"e4m3fn", "e5m2", "bf16"};
    const double gaps[] = {3e-3, 2e-2, 1e-5};
    for (int f = 0; f < 3; ++f) {
      std::vector<double> q = FakeShrinkage(n, gaps[f], 7 + f);
      std::vector<double> y(n);
      for (size_t k = 0; k < n; ++k) y[k] = 1 - q[k];
      ax.AddLine(names[f], steps, y);
      points["p0-s" + std::to_string(f)] = {{"polyline", n}};
    }
    ax.AddHLine(5e-2, "predicted bound (e5m2)");
    points["p0-s3"] = {{"polyline", 2}};
    Write(dir, "shrinkage_log", fig,
          {{"series", 4},
           {"legend_entries", 4},
           {"points", points},
           {"log_ticks", {{"axes-0", {{"y", 10}}}}}});
  }

  // 2. Histograms of q_k for two formats (overlaid), linear axes, with q = 1.
  {
    std::vector<double> a = FakeShrinkage(500, 3e-3, 1);
    std::vector<double> b = FakeShrinkage(500, 5e-3, 2);
    qp::Binned ha = qp::Histogram(a, 30), hb = qp::Histogram(b, 30);
    qp::Figure fig(720, 420);
    fig.axes()
        .SetTitle("Distribution of q\xCC\x82_k over 500 steps")
        .SetXLabel("q\xCC\x82_k")
        .SetYLabel("steps")
        .AddHistogram("e4m3fn / rne", ha)
        .AddHistogram("e4m3fn / sr", hb)
        .AddVLine(1.0, "q = 1");
    Write(dir, "histogram", fig,
          {{"series", 3},
           {"legend_entries", 3},
           {"points",
            {{"p0-s0", {{"rect", 30}}}, {"p0-s1", {{"rect", 30}}}, {"p0-s2", {{"polyline", 2}}}}}});
  }

  // 3. Scatter on log-log axes with values that cannot be drawn: NaN, inf, zero, negative.
  {
    std::vector<double> x, y;
    for (int k = 0; k < 40; ++k) {
      x.push_back(std::pow(10.0, -6 + k * 0.2));
      y.push_back(std::pow(10.0, -3 + k * 0.1) * (1 + 0.3 * std::sin(k)));
    }
    x.push_back(NAN), y.push_back(1);
    x.push_back(1), y.push_back(INFINITY);
    x.push_back(0), y.push_back(1);
    x.push_back(1e-3), y.push_back(-2);
    qp::Figure fig(640, 440);
    fig.axes()
        .SetTitle("Elementwise |q(x)| / |x| against |x|")
        .SetXLabel("|x|")
        .SetYLabel("ratio")
        .SetXScale(qp::Scale::kLog10)
        .SetYScale(qp::Scale::kLog10)
        .AddScatter("e2m1fn", x, y)
        .AddHLine(1.0);
    Write(dir, "scatter_log", fig,
          {{"series", 2},
           {"legend_entries", 1},
           {"points", {{"p0-s0", {{"marker", 40}}}}},
           {"warning_count", 3},
           {"log_ticks", {{"axes-0", {{"x", 10}, {"y", 10}}}}}});
  }

  // 4. Small multiples: flushed and saturated fractions (steps), a band, log2 axis.
  {
    const size_t n = 60;
    std::vector<double> steps(n), flushed(n), saturated(n), lo(n), hi(n), mid(n), pow2(n);
    for (size_t k = 0; k < n; ++k) {
      steps[k] = static_cast<double>(k);
      flushed[k] = 0.02 + 0.01 * std::sin(static_cast<double>(k) / 5);
      saturated[k] = k % 7 == 0 ? 1e-3 : 0;
      mid[k] = 0.99 - 0.02 * std::exp(-static_cast<double>(k) / 15);
      lo[k] = mid[k] - 0.004;
      hi[k] = mid[k] + 0.004;
      pow2[k] = std::exp2(static_cast<double>(k) / 4);
    }
    qp::Figure fig(2, 2, 1000, 700);
    fig.SetTitle("analyze: e4m3fn, rne, per-tensor scaling");
    fig.At(0, 0).SetTitle("flushed fraction").SetXLabel("step").AddStep("flushed", steps, flushed);
    fig.At(0, 1)
        .SetTitle("saturated fraction")
        .SetXLabel("step")
        .AddStep("saturated", steps, saturated, qp::StepWhere::kMid);
    fig.At(1, 0)
        .SetTitle("q\xCC\x82_k with 95% band")
        .SetXLabel("step")
        .AddBand("95% band", steps, lo, hi)
        .AddLine("q\xCC\x82_k", steps, mid)
        .AddHLine(1.0, "q = 1");
    qp::Style markers;
    markers.marker = qp::Marker::kSquare;
    fig.At(1, 1)
        .SetTitle("block size sweep")
        .SetXLabel("block size")
        .SetXScale(qp::Scale::kLog2)
        .AddLine("amax", pow2, mid, markers);
    Write(dir, "small_multiples", fig,
          {{"series", 6},
           {"legend_entries", 6},
           {"panels", 4},
           {"points",
            {{"p0-s0", {{"polyline", 2 * n - 1}}},
             {"p1-s0", {{"polyline", 3 * n - 2}}},
             {"p3-s0", {{"polyline", n}, {"marker", n}}}}},
           {"log_ticks", {{"axes-3", {{"x", 2}}}}}});
  }

  // 5. Text that needs escaping, and bytes that are not UTF-8.
  {
    std::vector<double> x = {1, 2, 3}, y = {3, 1, 2};
    qp::Figure fig(500, 320);
    fig.axes()
        .SetTitle("<script>&\"quotes\" 'apostrophes' \xFF\xFE bad bytes")
        .SetXLabel("x < y & y > z")
        .AddLine("a|b & <c>", x, y);
    Write(dir, "escaping", fig,
          {{"series", 1}, {"legend_entries", 1}, {"points", {{"p0-s0", {{"polyline", 3}}}}}});
  }

  // 6. A long series: decimated to at most four vertices per px column.
  {
    const size_t n = 200000;
    std::vector<double> x(n), y(n);
    for (size_t k = 0; k < n; ++k) {
      x[k] = static_cast<double>(k);
      y[k] = std::sin(static_cast<double>(k) / 3000) + 0.1 * std::sin(static_cast<double>(k));
    }
    qp::Figure fig(720, 400);
    fig.axes().SetTitle("200,000 points").AddLine("signal", x, y);
    Write(dir, "decimated", fig,
          {{"series", 1},
           {"legend_entries", 1},
           {"points", {{"p0-s0", {{"polyline_max", 4 * 720}}}}}});
  }
  return failures == 0 ? 0 : 1;
}
