// qfloat::plot: SVG figures for the qfloat commands, with no plotting dependency.
//
// A Figure holds one or more Axes (a grid of panels: small multiples); an Axes holds series
// (line, scatter, step, histogram bars, shaded band) and reference lines, a title, axis labels,
// and per-axis scales (linear, log10, log2). Rendering picks ranges (with padding), "nice"
// 1-2-5 ticks on linear axes and decades (with minor ticks) on log axes, places the legend where
// it covers the least data, and returns SVG 1.1 text plus a list of warnings: points that cannot
// be drawn (NaN, inf, or non-positive on a log axis) are skipped and counted there, never written
// as invalid SVG. Hand-written SVG rather than gnuplot or matplot++ (ECOSYSTEM.md §3): the output
// is deterministic text (same input, same bytes) that tests parse and golden-diff.
//
// **Example**:
//   qfloat::plot::Figure fig;
//   fig.axes().SetTitle("Shrinkage per step").SetXLabel("step").SetYLabel("1 - q")
//       .SetYScale(qfloat::plot::Scale::kLog10)
//       .AddLine("e4m3fn", steps, one_minus_q)
//       .AddHLine(1e-2, "bound");
//   if (qfloat::Status s = fig.WriteSvg("q.svg", &warnings); !s.ok()) { ... }
#ifndef QFLOAT_PLOT_H_
#define QFLOAT_PLOT_H_

#include <array>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/status.h"

namespace qfloat::plot {

namespace detail {
class PanelRenderer;
}  // namespace detail

// How data values map to an axis. Log scales draw only positive values.
enum class Scale { kLinear, kLog10, kLog2 };

enum class Dash { kSolid, kDashed, kDotted, kDashDot };
enum class Marker { kNone, kCircle, kSquare, kTriangle, kDiamond, kCross };

// Where a step series changes value: at the next x (kPost: y[i] holds on [x[i], x[i+1])), at the
// current x (kPre: y[i] holds on (x[i-1], x[i]]), or halfway between.
enum class StepWhere { kPost, kPre, kMid };

// kAuto tries nine positions inside the plot (corners first) and takes the first that covers the
// least data; when every one covers some, it moves the legend to the right of the plot if the
// panel is wide enough.
enum class LegendPosition {
  kAuto,
  kUpperRight,
  kUpperLeft,
  kLowerLeft,
  kLowerRight,
  kOutsideRight,
  kNone
};

// Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
// deficiency. Ordered for contrast between neighbours; yellow, weak on white, comes last. Series
// beyond the eighth reuse the colours with a different dash pattern.
inline constexpr std::array<std::string_view, 8> kPalette = {
    "#0072B2",  // blue
    "#D55E00",  // vermillion
    "#009E73",  // bluish green
    "#E69F00",  // orange
    "#CC79A7",  // reddish purple
    "#56B4E9",  // sky blue
    "#000000",  // black
    "#F0E442",  // yellow
};

// The appearance of one series. Defaults suit each kind (a scatter gets circles, bars get a fill).
struct Style {
  std::string color;         // "#rrggbb" or "#rgb"; empty: the next palette colour
  Dash dash = Dash::kSolid;  // lines, steps, reference lines
  double line_width = 1.75;  // px
  Marker marker = Marker::kNone;
  double marker_size = 3.5;  // px, radius of the marker's circumscribed circle
  double opacity = -1.0;     // fill opacity of bars and bands in [0, 1]; < 0: automatic
};

// The default style of reference lines: dark grey, dashed, thinner than data.
Style ReferenceStyle();

// A histogram of values, as edges (bins + 1 of them) and counts. See Histogram().
struct Binned {
  std::vector<double> edges;
  std::vector<double> counts;
  size_t skipped = 0;  // values not counted: NaN, inf, or non-positive when binned on a log scale
};

// Bins the finite values (positive ones for a log scale) into `bins` equal-width bins on `scale`
// between the smallest and the largest value (a single value gets a unit-width bin around it).
// bins == 0 picks ceil(log2(n)) + 1 (Sturges), at most 100. Bins are half-open [lo, hi), the last
// one closed, so every counted value lands in exactly one bin.
Binned Histogram(std::span<const double> values, size_t bins = 0, Scale scale = Scale::kLinear);

// One panel: axes, series, legend.
class Axes {
 public:
  Axes& SetTitle(std::string title);
  Axes& SetXLabel(std::string label);
  Axes& SetYLabel(std::string label);
  Axes& SetXScale(Scale scale);
  Axes& SetYScale(Scale scale);
  // Fixed limits; NaN on either side leaves that side automatic. Data outside is clipped.
  Axes& SetXLimits(double lo, double hi);
  Axes& SetYLimits(double lo, double hi);
  // Explicit ticks (e.g. categories); labels empty: formatted from the values.
  Axes& SetXTicks(std::vector<double> values, std::vector<std::string> labels = {});
  Axes& SetYTicks(std::vector<double> values, std::vector<std::string> labels = {});
  Axes& SetLegend(LegendPosition position);
  Axes& SetGrid(bool on);

  // Series. x and y must have the same length (else Render() fails naming the series). A point
  // with a NaN/inf coordinate, or a non-positive one on a log axis, is skipped (a line breaks
  // there) and counted in the warnings. An empty label keeps the series out of the legend.
  Axes& AddLine(std::string label, std::span<const double> x, std::span<const double> y,
                Style style = {});
  Axes& AddScatter(std::string label, std::span<const double> x, std::span<const double> y,
                   Style style = {});
  Axes& AddStep(std::string label, std::span<const double> x, std::span<const double> y,
                StepWhere where = StepWhere::kPost, Style style = {});
  // Bars over [edges[i], edges[i+1]) of height counts[i] (edges.size() == counts.size() + 1).
  // On a log y axis, bars start at the bottom of the axis and zero counts are not drawn.
  Axes& AddHistogram(std::string label, std::span<const double> edges,
                     std::span<const double> counts, Style style = {});
  Axes& AddHistogram(std::string label, const Binned& binned, Style style = {});
  // A shaded region between y_lo and y_hi (a confidence band, a predicted range).
  Axes& AddBand(std::string label, std::span<const double> x, std::span<const double> y_lo,
                std::span<const double> y_hi, Style style = {});
  // Reference lines across the whole panel (a predicted bound, q = 1). They count towards the
  // automatic range, so they are always visible. Labelled ones appear in the legend.
  Axes& AddHLine(double y, std::string label = {}, Style style = ReferenceStyle());
  Axes& AddVLine(double x, std::string label = {}, Style style = ReferenceStyle());

  size_t series_count() const { return series_.size(); }

 private:
  friend class Figure;
  friend class detail::PanelRenderer;

  enum class Kind { kLine, kScatter, kStep, kHistogram, kBand, kHLine, kVLine };
  struct Series {
    Kind kind = Kind::kLine;
    std::string label;
    std::vector<double> x, y, y2;  // histogram: x = edges; band: y = lo, y2 = hi
    StepWhere where = StepWhere::kPost;
    Style style;
  };
  struct AxisSpec {
    Scale scale = Scale::kLinear;
    double lo = std::numeric_limits<double>::quiet_NaN();  // NaN: automatic
    double hi = std::numeric_limits<double>::quiet_NaN();
    bool custom_ticks = false;
    std::vector<double> tick_values;
    std::vector<std::string> tick_labels;
    std::string label;
  };
  Axes& Add(Kind kind, std::string label, std::span<const double> x, std::span<const double> y,
            std::span<const double> y2, Style style);

  std::string title_;
  AxisSpec x_, y_;
  LegendPosition legend_ = LegendPosition::kAuto;
  bool grid_ = true;
  std::vector<Series> series_;
};

// The rendered figure: SVG text and what could not be drawn.
struct SvgDocument {
  std::string svg;
  std::vector<std::string> warnings;
};

// A figure of rows x cols panels sharing one SVG canvas (width x height px).
class Figure {
 public:
  explicit Figure(double width = 720, double height = 450);
  Figure(size_t rows, size_t cols, double width, double height);

  Axes& axes() { return panels_[0]; }  // the first (or only) panel
  // Panel (row, col). Out of range: Render() fails, and the returned scratch panel is ignored.
  Axes& At(size_t row, size_t col);
  Figure& SetTitle(std::string title);

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }

  // InvalidArgument when a series is malformed (length mismatch, bad colour), a limit is invalid
  // on its scale, or the canvas is too small; the message names the panel and series.
  StatusOr<SvgDocument> Render() const;
  // Renders and writes `path` atomically (temporary in the same directory, then rename): on any
  // failure no file is left at `path` and a previous file there is untouched. Warnings (may be
  // null) receive SvgDocument::warnings.
  Status WriteSvg(const std::string& path, std::vector<std::string>* warnings = nullptr) const;

 private:
  size_t rows_ = 1, cols_ = 1;
  double width_ = 720, height_ = 450;
  std::string title_;
  std::vector<Axes> panels_;
  Axes scratch_;
  std::vector<std::string> errors_;
};

}  // namespace qfloat::plot

#endif  // QFLOAT_PLOT_H_
