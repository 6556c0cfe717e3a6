// Figure rendering: validation, ranges, layout, geometry (with clipping), legend placement, and
// SVG emission. Everything is computed in px on a fixed grid of numbers written with two
// decimals, so the same figure always produces the same bytes.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plot/atomic_file.h"
#include "plot/svg_text.h"
#include "plot/ticks.h"
#include "qfloat/plot.h"

namespace qfloat::plot {

// ---------------------------------------------------------------------------------------------
// Axes: a recorder; all the work happens in Render().

Style ReferenceStyle() {
  Style s;
  s.color = "#444444";
  s.dash = Dash::kDashed;
  s.line_width = 1.25;
  return s;
}

Axes& Axes::SetTitle(std::string title) {
  title_ = std::move(title);
  return *this;
}
Axes& Axes::SetXLabel(std::string label) {
  x_.label = std::move(label);
  return *this;
}
Axes& Axes::SetYLabel(std::string label) {
  y_.label = std::move(label);
  return *this;
}
Axes& Axes::SetXScale(Scale scale) {
  x_.scale = scale;
  return *this;
}
Axes& Axes::SetYScale(Scale scale) {
  y_.scale = scale;
  return *this;
}
Axes& Axes::SetXLimits(double lo, double hi) {
  x_.lo = lo;
  x_.hi = hi;
  return *this;
}
Axes& Axes::SetYLimits(double lo, double hi) {
  y_.lo = lo;
  y_.hi = hi;
  return *this;
}
Axes& Axes::SetXTicks(std::vector<double> values, std::vector<std::string> labels) {
  x_.custom_ticks = true;
  x_.tick_values = std::move(values);
  x_.tick_labels = std::move(labels);
  return *this;
}
Axes& Axes::SetYTicks(std::vector<double> values, std::vector<std::string> labels) {
  y_.custom_ticks = true;
  y_.tick_values = std::move(values);
  y_.tick_labels = std::move(labels);
  return *this;
}
Axes& Axes::SetLegend(LegendPosition position) {
  legend_ = position;
  return *this;
}
Axes& Axes::SetGrid(bool on) {
  grid_ = on;
  return *this;
}

Axes& Axes::Add(Kind kind, std::string label, std::span<const double> x, std::span<const double> y,
                std::span<const double> y2, Style style) {
  Series s;
  s.kind = kind;
  s.label = std::move(label);
  s.x.assign(x.begin(), x.end());
  s.y.assign(y.begin(), y.end());
  s.y2.assign(y2.begin(), y2.end());
  s.style = std::move(style);
  series_.push_back(std::move(s));
  return *this;
}

Axes& Axes::AddLine(std::string label, std::span<const double> x, std::span<const double> y,
                    Style style) {
  return Add(Kind::kLine, std::move(label), x, y, {}, std::move(style));
}
Axes& Axes::AddScatter(std::string label, std::span<const double> x, std::span<const double> y,
                       Style style) {
  if (style.marker == Marker::kNone) style.marker = Marker::kCircle;
  return Add(Kind::kScatter, std::move(label), x, y, {}, std::move(style));
}
Axes& Axes::AddStep(std::string label, std::span<const double> x, std::span<const double> y,
                    StepWhere where, Style style) {
  Add(Kind::kStep, std::move(label), x, y, {}, std::move(style));
  series_.back().where = where;
  return *this;
}
Axes& Axes::AddHistogram(std::string label, std::span<const double> edges,
                         std::span<const double> counts, Style style) {
  return Add(Kind::kHistogram, std::move(label), edges, counts, {}, std::move(style));
}
Axes& Axes::AddHistogram(std::string label, const Binned& binned, Style style) {
  return AddHistogram(std::move(label), binned.edges, binned.counts, std::move(style));
}
Axes& Axes::AddBand(std::string label, std::span<const double> x, std::span<const double> y_lo,
                    std::span<const double> y_hi, Style style) {
  return Add(Kind::kBand, std::move(label), x, y_lo, y_hi, std::move(style));
}
Axes& Axes::AddHLine(double y, std::string label, Style style) {
  const double v[1] = {y};
  return Add(Kind::kHLine, std::move(label), {}, v, {}, std::move(style));
}
Axes& Axes::AddVLine(double x, std::string label, Style style) {
  const double v[1] = {x};
  return Add(Kind::kVLine, std::move(label), v, {}, {}, std::move(style));
}

// ---------------------------------------------------------------------------------------------
// Histogram binning.

Binned Histogram(std::span<const double> values, size_t bins, Scale scale) {
  Binned out;
  std::vector<double> t;
  t.reserve(values.size());
  double vmin = 0, vmax = 0;
  for (double v : values) {
    if (!detail::ValidOnScale(scale, v)) {
      ++out.skipped;
      continue;
    }
    if (t.empty() || v < vmin) vmin = v;
    if (t.empty() || v > vmax) vmax = v;
    t.push_back(detail::ToAxis(scale, v));
  }
  if (t.empty()) return out;
  if (bins == 0) {
    bins = static_cast<size_t>(std::ceil(std::log2(static_cast<double>(t.size())))) + 1;
    bins = std::clamp<size_t>(bins, 1, 100);
  }
  double lo = detail::ToAxis(scale, vmin), hi = detail::ToAxis(scale, vmax);
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  out.edges.resize(bins + 1);
  for (size_t i = 0; i <= bins; ++i) {
    out.edges[i] = detail::FromAxis(
        scale, lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(bins));
  }
  if (vmax > vmin) {  // exact extremes, so that log/exp rounding cannot drop them
    out.edges.front() = vmin;
    out.edges.back() = vmax;
  }
  out.counts.assign(bins, 0.0);
  for (size_t k = 0; k < t.size(); ++k) {
    const double pos = (t[k] - lo) / (hi - lo) * static_cast<double>(bins);
    size_t idx = pos <= 0 ? 0 : std::min(bins - 1, static_cast<size_t>(pos));
    out.counts[idx] += 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering.

namespace detail {
namespace {

constexpr double kTitleFont = 14.5;
constexpr double kLabelFont = 12.5;
constexpr double kTickFont = 11;
constexpr double kLegendFont = 11;
constexpr double kTickLen = 5;
constexpr double kMinorTickLen = 3;
constexpr double kPad = 8;
constexpr double kLegendRow = 16;
constexpr double kLegendSample = 22;
constexpr const char* kTextColor = "#222222";
constexpr const char* kAxisColor = "#333333";
constexpr const char* kGridColor = "#e3e3e3";

struct Pt {
  double x, y;
};
struct Rect {
  double x0, y0, x1, y1;  // x0 <= x1, y0 <= y1 (px, y down)
  bool Contains(Pt p) const { return p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1; }
};

bool ValidColor(const std::string& c) {
  if (c.size() != 4 && c.size() != 7) return false;
  if (c[0] != '#') return false;
  return std::all_of(c.begin() + 1, c.end(), [](char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
  });
}

// Shortest round-trip form, for messages.
std::string MessageNumber(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

const char* ScaleName(Scale s) {
  switch (s) {
    case Scale::kLog10:
      return "log10";
    case Scale::kLog2:
      return "log2";
    case Scale::kLinear:
      break;
  }
  return "linear";
}

// Liang-Barsky: clips segment a-b to r; false when nothing is left.
bool ClipSegment(const Rect& r, Pt& a, Pt& b) {
  double t0 = 0, t1 = 1;
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {a.x - r.x0, r.x1 - a.x, a.y - r.y0, r.y1 - a.y};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0) {
      if (t > t1) return false;
      t0 = std::max(t0, t);
    } else {
      if (t < t0) return false;
      t1 = std::min(t1, t);
    }
  }
  const Pt a0 = a;
  a = {a0.x + t0 * dx, a0.y + t0 * dy};
  b = {a0.x + t1 * dx, a0.y + t1 * dy};
  return true;
}

// Sutherland-Hodgman against an axis-aligned rectangle.
std::vector<Pt> ClipPolygon(const Rect& r, std::vector<Pt> poly) {
  for (int edge = 0; edge < 4 && !poly.empty(); ++edge) {
    const auto inside = [&](Pt p) {
      switch (edge) {
        case 0:
          return p.x >= r.x0;
        case 1:
          return p.x <= r.x1;
        case 2:
          return p.y >= r.y0;
        default:
          return p.y <= r.y1;
      }
    };
    const auto cross = [&](Pt a, Pt b) {
      double t;
      switch (edge) {
        case 0:
          t = (r.x0 - a.x) / (b.x - a.x);
          break;
        case 1:
          t = (r.x1 - a.x) / (b.x - a.x);
          break;
        case 2:
          t = (r.y0 - a.y) / (b.y - a.y);
          break;
        default:
          t = (r.y1 - a.y) / (b.y - a.y);
      }
      return Pt{a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)};
    };
    std::vector<Pt> out;
    for (size_t i = 0; i < poly.size(); ++i) {
      const Pt cur = poly[i], prev = poly[(i + poly.size() - 1) % poly.size()];
      const bool ci = inside(cur), pi = inside(prev);
      if (ci) {
        if (!pi) out.push_back(cross(prev, cur));
        out.push_back(cur);
      } else if (pi) {
        out.push_back(cross(prev, cur));
      }
    }
    poly = std::move(out);
  }
  return poly;
}

bool PointInPolygon(Pt p, const std::vector<Pt>& poly) {
  bool in = false;
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    if ((poly[i].y > p.y) != (poly[j].y > p.y) &&
        p.x < (poly[j].x - poly[i].x) * (p.y - poly[i].y) / (poly[j].y - poly[i].y) + poly[i].x) {
      in = !in;
    }
  }
  return in;
}

// Keeps at most four vertices per px column (first, lowest, highest, last, in order) in runs of
// consecutive points that share a column: the drawn envelope is the same, the file stays small.
std::vector<Pt> Decimate(const std::vector<Pt>& pts) {
  std::vector<Pt> out;
  size_t i = 0;
  while (i < pts.size()) {
    const double col = std::floor(pts[i].x);
    size_t j = i;
    size_t lo = i, hi = i;
    while (j < pts.size() && std::floor(pts[j].x) == col) {
      if (pts[j].y < pts[lo].y) lo = j;
      if (pts[j].y > pts[hi].y) hi = j;
      ++j;
    }
    size_t keep[4] = {i, std::min(lo, hi), std::max(lo, hi), j - 1};
    size_t last = SIZE_MAX;
    for (size_t k : keep) {
      if (k != last) out.push_back(pts[k]);
      last = k;
    }
    i = j;
  }
  return out;
}

std::string DashArray(Dash d, double width) {
  const double s = std::max(width, 1.0) / 1.75;
  std::string out;
  const auto add = [&](std::initializer_list<double> v) {
    for (double x : v) {
      if (!out.empty()) out += ',';
      AppendCoord(out, x * s);
    }
  };
  switch (d) {
    case Dash::kDashed:
      add({6, 4});
      break;
    case Dash::kDotted:
      add({1.5, 3});
      break;
    case Dash::kDashDot:
      add({7, 3, 1.5, 3});
      break;
    case Dash::kSolid:
      break;
  }
  return out;
}

void Attr(std::string& out, const char* name, double v) {
  out += ' ';
  out += name;
  out += "=\"";
  AppendCoord(out, v);
  out += '"';
}
void Attr(std::string& out, const char* name, std::string_view v) {
  out += ' ';
  out += name;
  out += "=\"";
  out += EscapeXml(v);
  out += '"';
}

void AppendPoints(std::string& out, const std::vector<Pt>& pts) {
  out += " points=\"";
  for (size_t i = 0; i < pts.size(); ++i) {
    if (i) out += ' ';
    AppendCoord(out, pts[i].x);
    out += ',';
    AppendCoord(out, pts[i].y);
  }
  out += '"';
}

void AppendMarker(std::string& out, Marker m, Pt p, double r) {
  switch (m) {
    case Marker::kNone:
      return;
    case Marker::kCircle:
      out += "<circle";
      Attr(out, "cx", p.x);
      Attr(out, "cy", p.y);
      Attr(out, "r", r);
      out += "/>";
      return;
    case Marker::kSquare: {
      const double h = r * 0.85;
      out += "<rect";
      Attr(out, "x", p.x - h);
      Attr(out, "y", p.y - h);
      Attr(out, "width", 2 * h);
      Attr(out, "height", 2 * h);
      out += "/>";
      return;
    }
    case Marker::kTriangle:
      out += "<polygon";
      AppendPoints(out, {{p.x, p.y - r * 1.1},
                         {p.x + r * 0.95, p.y + r * 0.65},
                         {p.x - r * 0.95, p.y + r * 0.65}});
      out += "/>";
      return;
    case Marker::kDiamond:
      out += "<polygon";
      AppendPoints(out, {{p.x, p.y - r * 1.15},
                         {p.x + r * 0.85, p.y},
                         {p.x, p.y + r * 1.15},
                         {p.x - r * 0.85, p.y}});
      out += "/>";
      return;
    case Marker::kCross: {
      const double h = r * 0.9;
      out += "<path d=\"M";
      AppendCoord(out, p.x - h);
      out += ',';
      AppendCoord(out, p.y - h);
      out += 'L';
      AppendCoord(out, p.x + h);
      out += ',';
      AppendCoord(out, p.y + h);
      out += 'M';
      AppendCoord(out, p.x - h);
      out += ',';
      AppendCoord(out, p.y + h);
      out += 'L';
      AppendCoord(out, p.x + h);
      out += ',';
      AppendCoord(out, p.y - h);
      out += "\"/>";
      return;
    }
  }
}

const char* KindClass(int kind) {
  static const char* const kNames[] = {"line", "scatter", "step", "histogram",
                                       "band", "hline",   "vline"};
  return kNames[kind];
}

}  // namespace

// Renders one panel into its cell of the canvas.
class PanelRenderer {
 public:
  using Kind = Axes::Kind;
  using Series = Axes::Series;

  PanelRenderer(const Axes& axes, size_t index, bool many, double x, double y, double w, double h)
      : axes_(axes), index_(index), cell_{x, y, x + w, y + h} {
    if (many) prefix_ = "panel " + std::to_string(index + 1) + ": ";
  }

  Status Prepare(std::vector<std::string>& warnings);
  void Emit(std::string& out) const;

 private:
  // Resolved per-series data: colour, what can be drawn, and the px geometry.
  struct Resolved {
    std::string color;
    Dash dash = Dash::kSolid;
    double opacity = 1;
    std::vector<char> ok;  // per point (per bin for histograms)
    std::vector<std::vector<Pt>> lines;
    std::vector<Pt> markers;
    std::vector<Rect> rects;
    std::vector<std::vector<Pt>> polygons;
  };
  struct AxisLayout {
    double lo = 0, hi = 1;  // data limits
    std::vector<Tick> ticks;
  };

  std::string Name(const Series& s, size_t i) const {
    std::string n = s.label.empty() ? "#" + std::to_string(i + 1) : "\"" + s.label + "\"";
    return prefix_ + "series " + n;
  }
  Status Validate();
  void ComputeOk(std::vector<std::string>& warnings);
  Status ResolveRange(const Axes::AxisSpec& spec, bool is_x, AxisLayout& axis) const;
  Status Layout(bool legend_outside);
  void BuildTicksX();
  double X(double v) const {
    const double t = ToAxis(axes_.x_.scale, v);
    return plot_.x0 + (t - tx0_) / (tx1_ - tx0_) * (plot_.x1 - plot_.x0);
  }
  double Y(double v) const {
    const double t = ToAxis(axes_.y_.scale, v);
    return plot_.y1 - (t - ty0_) / (ty1_ - ty0_) * (plot_.y1 - plot_.y0);
  }
  void BuildGeometry();
  double LegendScore(const Rect& box) const;
  void PlaceLegend();
  std::vector<Tick> CustomTicks(const Axes::AxisSpec& spec, const AxisLayout& axis) const;
  void EmitSeries(std::string& out, size_t i) const;
  void EmitLegend(std::string& out) const;
  void EmitAxes(std::string& out) const;

  const Axes& axes_;
  size_t index_;
  Rect cell_;
  std::string prefix_;
  std::vector<Resolved> res_;
  AxisLayout xa_, ya_;
  double tx0_ = 0, tx1_ = 1, ty0_ = 0, ty1_ = 1;  // limits in axis coordinates
  Rect plot_{};
  double title_font_ = kTitleFont, xlabel_font_ = kLabelFont, ylabel_font_ = kLabelFont;
  // Legend
  std::vector<size_t> legend_items_;
  double legend_w_ = 0, legend_h_ = 0;
  bool legend_outside_ = false;
  double best_inside_score_ = 0;
  Rect legend_box_{};
};

Status PanelRenderer::Validate() {
  const auto& ss = axes_.series_;
  for (size_t i = 0; i < ss.size(); ++i) {
    const Series& s = ss[i];
    const std::string name = Name(s, i);
    switch (s.kind) {
      case Kind::kLine:
      case Kind::kScatter:
      case Kind::kStep:
        if (s.x.size() != s.y.size()) {
          return InvalidArgument(name + ": x has " + std::to_string(s.x.size()) +
                                 " values but y has " + std::to_string(s.y.size()));
        }
        break;
      case Kind::kHistogram:
        if (!(s.x.empty() && s.y.empty()) && s.x.size() != s.y.size() + 1) {
          return InvalidArgument(name + ": " + std::to_string(s.y.size()) + " counts need " +
                                 std::to_string(s.y.size() + 1) + " edges, got " +
                                 std::to_string(s.x.size()));
        }
        break;
      case Kind::kBand:
        if (s.x.size() != s.y.size() || s.x.size() != s.y2.size()) {
          return InvalidArgument(name + ": x, y_lo and y_hi have " + std::to_string(s.x.size()) +
                                 ", " + std::to_string(s.y.size()) + " and " +
                                 std::to_string(s.y2.size()) + " values");
        }
        break;
      case Kind::kHLine:
      case Kind::kVLine:
        break;
    }
    if (!s.style.color.empty() && !ValidColor(s.style.color)) {
      return InvalidArgument(name + ": colour '" + s.style.color + "' is not #rgb or #rrggbb");
    }
    if (!std::isfinite(s.style.line_width) || s.style.line_width < 0 || s.style.line_width > 50) {
      return InvalidArgument(name + ": line width must be in [0, 50]");
    }
    if (!std::isfinite(s.style.marker_size) || s.style.marker_size < 0 ||
        s.style.marker_size > 50) {
      return InvalidArgument(name + ": marker size must be in [0, 50]");
    }
    if (!(s.style.opacity <= 1)) {
      return InvalidArgument(name + ": opacity must be at most 1");
    }
  }
  if (axes_.x_.custom_ticks && !axes_.x_.tick_labels.empty() &&
      axes_.x_.tick_labels.size() != axes_.x_.tick_values.size()) {
    return InvalidArgument(prefix_ + "x ticks: " + std::to_string(axes_.x_.tick_values.size()) +
                           " values but " + std::to_string(axes_.x_.tick_labels.size()) +
                           " labels");
  }
  if (axes_.y_.custom_ticks && !axes_.y_.tick_labels.empty() &&
      axes_.y_.tick_labels.size() != axes_.y_.tick_values.size()) {
    return InvalidArgument(prefix_ + "y ticks: " + std::to_string(axes_.y_.tick_values.size()) +
                           " values but " + std::to_string(axes_.y_.tick_labels.size()) +
                           " labels");
  }
  return Status::Ok();
}

void PanelRenderer::ComputeOk(std::vector<std::string>& warnings) {
  const auto& ss = axes_.series_;
  const Scale xs = axes_.x_.scale, ys = axes_.y_.scale;
  const auto warn = [&](const std::string& name, size_t n, const std::string& what) {
    if (n == 0) return;
    warnings.push_back(name + ": skipped " + std::to_string(n) + (n == 1 ? " point" : " points") +
                       " with " + what);
  };
  const auto log_note = [](Scale s, const char* axis) {
    return std::string("non-positive ") + axis + " on the " + ScaleName(s) + " " + axis + " axis";
  };
  size_t palette = 0;
  res_.assign(ss.size(), {});
  for (size_t i = 0; i < ss.size(); ++i) {
    const Series& s = ss[i];
    Resolved& r = res_[i];
    const std::string name = Name(s, i);
    // Colour and dash: palette in order; after a full cycle, the same colours dashed.
    const bool reference = s.kind == Kind::kHLine || s.kind == Kind::kVLine;
    r.dash = s.style.dash;
    if (!s.style.color.empty()) {
      r.color = s.style.color;
    } else if (reference) {
      r.color = "#444444";
    } else {
      r.color = std::string(kPalette[palette % kPalette.size()]);
      const size_t cycle = palette / kPalette.size();
      if (cycle > 0 && r.dash == Dash::kSolid) {
        static const Dash kCycle[] = {Dash::kDashed, Dash::kDotted, Dash::kDashDot};
        r.dash = kCycle[(cycle - 1) % 3];
      }
      ++palette;
    }
    size_t nonfinite = 0, xlog = 0, ylog = 0;
    const auto check = [&](double v, Scale sc, size_t& logcount) {
      if (!std::isfinite(v)) {
        ++nonfinite;
        return false;
      }
      if (sc != Scale::kLinear && v <= 0) {
        ++logcount;
        return false;
      }
      return true;
    };
    size_t drawable = 0, total = 0;
    switch (s.kind) {
      case Kind::kLine:
      case Kind::kScatter:
      case Kind::kStep:
      case Kind::kBand:
        total = s.x.size();
        r.ok.resize(total);
        for (size_t k = 0; k < total; ++k) {
          // Each skipped point is counted once, under its first problem.
          enum { kOk, kNonFinite, kNonPositive };
          const auto classify = [](double v, Scale sc) {
            if (!std::isfinite(v)) return kNonFinite;
            return sc != Scale::kLinear && v <= 0 ? kNonPositive : kOk;
          };
          const int cx = classify(s.x[k], xs), cy = classify(s.y[k], ys);
          const int cy2 = s.kind == Kind::kBand ? classify(s.y2[k], ys) : kOk;
          if (cx == kNonFinite || cy == kNonFinite || cy2 == kNonFinite) {
            ++nonfinite;
          } else if (cx == kNonPositive) {
            ++xlog;
          } else if (cy == kNonPositive || cy2 == kNonPositive) {
            ++ylog;
          }
          const bool ok = cx == kOk && cy == kOk && cy2 == kOk;
          r.ok[k] = ok;
          drawable += ok;
        }
        break;
      case Kind::kHistogram:
        total = s.y.size();
        r.ok.resize(total);
        for (size_t k = 0; k < total; ++k) {
          const double a = s.x[k], b = s.x[k + 1], c = s.y[k];
          bool ok = true;
          if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(c)) {
            ++nonfinite;
            ok = false;
          } else if (xs != Scale::kLinear && (a <= 0 || b <= 0)) {
            ++xlog;
            ok = false;
          } else if (ys != Scale::kLinear && c <= 0) {
            // An empty bin on a log axis is simply not drawn; only negative counts are odd.
            if (c < 0) ++ylog;
            ok = false;
          }
          r.ok[k] = ok;
          drawable += ok;
        }
        if (total > 0 && drawable == 0 && ys != Scale::kLinear && nonfinite == 0 && xlog == 0 &&
            ylog == 0) {
          warnings.push_back(name + ": every bin is empty, nothing drawn on the log y axis");
        }
        break;
      case Kind::kHLine:
        total = 1;
        r.ok = {check(s.y[0], ys, ylog)};
        drawable = r.ok[0];
        break;
      case Kind::kVLine:
        total = 1;
        r.ok = {check(s.x[0], xs, xlog)};
        drawable = r.ok[0];
        break;
    }
    if (s.kind == Kind::kHistogram) {
      const auto bins = [](size_t n) { return std::to_string(n) + (n == 1 ? " bin" : " bins"); };
      if (nonfinite)
        warnings.push_back(name + ": skipped " + bins(nonfinite) + " with NaN or infinite values");
      if (xlog)
        warnings.push_back(name + ": skipped " + bins(xlog) + " with non-positive edges on the " +
                           ScaleName(xs) + " x axis");
      if (ylog)
        warnings.push_back(name + ": skipped " + bins(ylog) + " with negative counts on the " +
                           ScaleName(ys) + " y axis");
    } else if (s.kind == Kind::kHLine || s.kind == Kind::kVLine) {
      if (!r.ok[0]) {
        const double v = s.kind == Kind::kHLine ? s.y[0] : s.x[0];
        const Scale sc = s.kind == Kind::kHLine ? ys : xs;
        warnings.push_back(name + ": reference line at " + MessageNumber(v) +
                           " cannot be drawn on the " + ScaleName(sc) + " axis");
      }
    } else {
      warn(name, nonfinite, "NaN or infinite values");
      warn(name, xlog, log_note(xs, "x"));
      warn(name, ylog, log_note(ys, "y"));
      if (total > 0 && drawable == 0) warnings.push_back(name + ": nothing left to draw");
    }
  }
}

Status PanelRenderer::ResolveRange(const Axes::AxisSpec& spec, bool is_x, AxisLayout& axis) const {
  const Scale sc = spec.scale;
  const char* name = is_x ? "x" : "y";
  for (double lim : {spec.lo, spec.hi}) {
    if (std::isnan(lim)) continue;
    if (!std::isfinite(lim) || (sc != Scale::kLinear && lim <= 0)) {
      return InvalidArgument(prefix_ + name + " limit " + MessageNumber(lim) +
                             " is not valid on a " + ScaleName(sc) + " axis");
    }
  }
  if (!std::isnan(spec.lo) && !std::isnan(spec.hi) && !(spec.lo < spec.hi)) {
    return InvalidArgument(prefix_ + name + " limits must be increasing");
  }
  // Extents in axis coordinates, and "sticky" values that padding must not cross (a bar's
  // baseline, a histogram's outer edges), as matplotlib does.
  double tmin = INFINITY, tmax = -INFINITY;
  std::vector<double> sticky;
  const auto add = [&](double v) {
    const double t = ToAxis(sc, v);
    tmin = std::min(tmin, t);
    tmax = std::max(tmax, t);
  };
  const auto& ss = axes_.series_;
  for (size_t i = 0; i < ss.size(); ++i) {
    const Series& s = ss[i];
    const std::vector<char>& ok = res_[i].ok;
    switch (s.kind) {
      case Kind::kLine:
      case Kind::kScatter:
      case Kind::kStep:
      case Kind::kBand:
        for (size_t k = 0; k < ok.size(); ++k) {
          if (!ok[k]) continue;
          if (is_x) {
            add(s.x[k]);
          } else {
            add(s.y[k]);
            if (s.kind == Kind::kBand) add(s.y2[k]);
          }
        }
        break;
      case Kind::kHistogram: {
        bool any = false;
        for (size_t k = 0; k < ok.size(); ++k) {
          if (!ok[k]) continue;
          any = true;
          if (is_x) {
            add(s.x[k]);
            add(s.x[k + 1]);
          } else {
            add(s.y[k]);
          }
        }
        if (any) {
          if (is_x) {
            for (size_t k = 0; k < ok.size(); ++k) {
              if (ok[k]) {
                sticky.push_back(ToAxis(sc, std::min(s.x[k], s.x[k + 1])));
                break;
              }
            }
            for (size_t k = ok.size(); k-- > 0;) {
              if (ok[k]) {
                sticky.push_back(ToAxis(sc, std::max(s.x[k], s.x[k + 1])));
                break;
              }
            }
          } else if (sc == Scale::kLinear) {
            add(0.0);
            sticky.push_back(0.0);
          }
        }
        break;
      }
      case Kind::kHLine:
        if (!is_x && ok[0]) add(s.y[0]);
        break;
      case Kind::kVLine:
        if (is_x && ok[0]) add(s.x[0]);
        break;
    }
  }
  double lo, hi;
  if (!(tmin <= tmax)) {  // nothing to draw: [0, 1], or [1, base] on a log axis
    lo = 0;
    hi = 1;
  } else if (tmin == tmax) {
    const double d = sc == Scale::kLinear ? (tmin == 0 ? 1.0 : std::fabs(tmin) * 0.1) : 0.5;
    lo = tmin - d;
    hi = tmax + d;
  } else {
    const double pad = 0.05 * (tmax - tmin);
    lo = tmin - pad;
    hi = tmax + pad;
    for (double s : sticky) {
      if (s <= tmin && s > lo) lo = s;
      if (s >= tmax && s < hi) hi = s;
    }
  }
  // Fixed sides.
  if (!std::isnan(spec.lo)) lo = ToAxis(sc, spec.lo);
  if (!std::isnan(spec.hi)) hi = ToAxis(sc, spec.hi);
  if (!(lo < hi)) {  // one side fixed beyond the data
    if (std::isnan(spec.lo)) {
      lo = hi - (sc == Scale::kLinear ? std::max(1.0, std::fabs(hi)) : 1.0);
    } else {
      hi = lo + (sc == Scale::kLinear ? std::max(1.0, std::fabs(lo)) : 1.0);
    }
  }
  axis.lo = FromAxis(sc, lo);
  axis.hi = FromAxis(sc, hi);
  if (!std::isfinite(axis.lo) || !std::isfinite(axis.hi) || !(axis.lo < axis.hi) ||
      (sc != Scale::kLinear && !(axis.lo > 0))) {
    return InvalidArgument(prefix_ + name + " range cannot be represented");
  }
  return Status::Ok();
}

std::vector<Tick> PanelRenderer::CustomTicks(const Axes::AxisSpec& spec,
                                             const AxisLayout& axis) const {
  std::vector<Tick> ticks;
  for (size_t i = 0; i < spec.tick_values.size(); ++i) {
    const double v = spec.tick_values[i];
    if (!ValidOnScale(spec.scale, v)) continue;
    if (v < axis.lo - 1e-9 * (axis.hi - axis.lo) || v > axis.hi + 1e-9 * (axis.hi - axis.lo)) {
      continue;
    }
    Tick t;
    t.value = v;
    t.label = spec.tick_labels.empty() ? FormatValue(v) : RichText{spec.tick_labels[i], ""};
    ticks.push_back(t);
  }
  return ticks;
}

void PanelRenderer::BuildTicksX() {
  const double pw = plot_.x1 - plot_.x0;
  if (axes_.x_.custom_ticks) {
    xa_.ticks = CustomTicks(axes_.x_, xa_);
    return;
  }
  const double decade_px = axes_.x_.scale == Scale::kLinear ? 0 : pw / (tx1_ - tx0_);
  // Log labels (10^k) are short: start denser there and let the collision check thin them.
  const double per_label = axes_.x_.scale == Scale::kLinear ? 70 : 40;
  size_t max_labels = std::max<size_t>(2, static_cast<size_t>(pw / per_label));
  for (;;) {
    xa_.ticks = MakeTicks(axes_.x_.scale, xa_.lo, xa_.hi, max_labels, decade_px >= 40);
    // Labels must not collide: centre distance >= half widths + a gap.
    double prev_x = 0, prev_w = 0;
    bool first = true, collide = false;
    size_t majors = 0;
    for (const Tick& t : xa_.ticks) {
      if (!t.major) continue;
      ++majors;
      const double x = X(t.value), w = RichTextWidth(t.label, kTickFont);
      if (!first && x - prev_x < (w + prev_w) / 2 + 8) collide = true;
      prev_x = x, prev_w = w, first = false;
    }
    if (!collide || max_labels <= 2 || majors <= 2) break;
    max_labels = std::min(max_labels - 1, majors - 1);
  }
}

Status PanelRenderer::Layout(bool legend_outside) {
  legend_outside_ = legend_outside;
  const double cw = cell_.x1 - cell_.x0, ch = cell_.y1 - cell_.y0;
  // Shrink long titles and labels to fit the cell rather than run off the canvas.
  const auto fit = [&](const std::string& text, double font, bool bold, double room) {
    if (text.empty()) return font;
    const double w = TextWidth(text, font, bold);
    return w > room ? std::max(7.0, font * room / w) : font;
  };
  title_font_ = fit(axes_.title_, kTitleFont, true, cw - 2 * kPad);
  xlabel_font_ = fit(axes_.x_.label, kLabelFont, false, cw - 2 * kPad);
  ylabel_font_ = fit(axes_.y_.label, kLabelFont, false, ch - 2 * kPad);

  const double top = kPad + (axes_.title_.empty() ? 4 : title_font_ * 1.25 + 6);
  const double bottom = kPad + kTickLen + 3 + kTickFont * 1.05 +
                        (axes_.x_.label.empty() ? 0 : 8 + xlabel_font_ * 1.05);
  plot_.y0 = cell_.y0 + top;
  plot_.y1 = cell_.y1 - bottom;
  const double ph = plot_.y1 - plot_.y0;
  if (ph < 30) {
    return InvalidArgument(prefix_ + "the panel is too small (" + Coord(cw) + "x" + Coord(ch) +
                           " px) for its titles and labels");
  }
  ty0_ = ToAxis(axes_.y_.scale, ya_.lo);
  ty1_ = ToAxis(axes_.y_.scale, ya_.hi);
  tx0_ = ToAxis(axes_.x_.scale, xa_.lo);
  tx1_ = ToAxis(axes_.x_.scale, xa_.hi);
  if (axes_.y_.custom_ticks) {
    ya_.ticks = CustomTicks(axes_.y_, ya_);
  } else {
    const double decade_px = axes_.y_.scale == Scale::kLinear ? 0 : ph / (ty1_ - ty0_);
    const size_t max_labels = std::max<size_t>(2, static_cast<size_t>(ph / 42));
    ya_.ticks = MakeTicks(axes_.y_.scale, ya_.lo, ya_.hi, max_labels, decade_px >= 30);
  }
  double ylabel_w = 0;
  for (const Tick& t : ya_.ticks) {
    if (t.major) ylabel_w = std::max(ylabel_w, RichTextWidth(t.label, kTickFont));
  }
  const double left =
      kPad + (axes_.y_.label.empty() ? 0 : ylabel_font_ * 1.1 + 8) + ylabel_w + kTickLen + 4;
  double right = 14;
  if (legend_outside) right = legend_w_ + 2 * kPad + 6;
  plot_.x0 = cell_.x0 + left;
  plot_.x1 = cell_.x1 - right;
  if (plot_.x1 - plot_.x0 < 30) {
    return InvalidArgument(prefix_ + "the panel is too small (" + Coord(cw) + "x" + Coord(ch) +
                           " px) for its tick labels and legend");
  }
  BuildTicksX();
  // The last x label is centred on its tick and may run past the plot's right edge.
  for (auto it = xa_.ticks.rbegin(); it != xa_.ticks.rend(); ++it) {
    if (!it->major) continue;
    const double overhang = X(it->value) + RichTextWidth(it->label, kTickFont) / 2 + 4 -
                            (legend_outside ? plot_.x1 + kPad : cell_.x1);
    if (overhang > 0 && plot_.x1 - overhang - plot_.x0 >= 30) {
      plot_.x1 -= overhang;
      BuildTicksX();
    }
    break;
  }
  return Status::Ok();
}

void PanelRenderer::BuildGeometry() {
  const auto& ss = axes_.series_;
  const Rect& r = plot_;
  const double pw = r.x1 - r.x0;
  for (size_t i = 0; i < ss.size(); ++i) {
    const Series& s = ss[i];
    Resolved& g = res_[i];
    g.lines.clear();
    g.markers.clear();
    g.rects.clear();
    g.polygons.clear();
    // Runs of consecutive drawable points, in px.
    std::vector<std::vector<Pt>> runs;
    std::vector<std::vector<size_t>> run_idx;
    if (s.kind == Kind::kLine || s.kind == Kind::kScatter || s.kind == Kind::kStep ||
        s.kind == Kind::kBand) {
      bool open = false;
      for (size_t k = 0; k < g.ok.size(); ++k) {
        if (!g.ok[k]) {
          open = false;
          continue;
        }
        if (!open) {
          runs.emplace_back();
          run_idx.emplace_back();
          open = true;
        }
        runs.back().push_back({X(s.x[k]), Y(s.y[k])});
        run_idx.back().push_back(k);
      }
    }
    const auto add_clipped = [&](const std::vector<Pt>& pts) {
      std::vector<Pt> cur;
      const auto flush = [&] {
        if (cur.size() >= 2) {
          g.lines.push_back(cur.size() > 2 * static_cast<size_t>(pw) ? Decimate(cur) : cur);
        } else if (cur.size() == 1 && pts.size() == 1) {
          g.lines.push_back(cur);  // a lone point: drawn as a dot
        }
        cur.clear();
      };
      if (pts.size() == 1) {
        if (r.Contains(pts[0])) cur.push_back(pts[0]);
        flush();
        return;
      }
      for (size_t k = 0; k + 1 < pts.size(); ++k) {
        Pt a = pts[k], b = pts[k + 1];
        if (!ClipSegment(r, a, b)) {
          flush();
          continue;
        }
        if (cur.empty() || cur.back().x != a.x || cur.back().y != a.y) {
          flush();
          cur.push_back(a);
        }
        cur.push_back(b);
      }
      flush();
    };
    switch (s.kind) {
      case Kind::kLine:
      case Kind::kScatter:
        for (const auto& run : runs) {
          if (s.kind == Kind::kLine) add_clipped(run);
          if (s.style.marker != Marker::kNone) {
            for (const Pt& p : run) {
              if (r.Contains(p)) g.markers.push_back(p);
            }
          }
        }
        break;
      case Kind::kStep:
        for (const auto& run : runs) {
          std::vector<Pt> st;
          for (size_t k = 0; k < run.size(); ++k) {
            if (k == 0) {
              st.push_back(run[0]);
              continue;
            }
            const Pt a = run[k - 1], b = run[k];
            switch (s.where) {
              case StepWhere::kPost:
                st.push_back({b.x, a.y});
                break;
              case StepWhere::kPre:
                st.push_back({a.x, b.y});
                break;
              case StepWhere::kMid: {
                const double m = (a.x + b.x) / 2;
                st.push_back({m, a.y});
                st.push_back({m, b.y});
                break;
              }
            }
            st.push_back(b);
          }
          add_clipped(st);
          if (s.style.marker != Marker::kNone) {
            for (const Pt& p : run) {
              if (r.Contains(p)) g.markers.push_back(p);
            }
          }
        }
        break;
      case Kind::kBand:
        for (size_t ri = 0; ri < runs.size(); ++ri) {
          std::vector<Pt> poly;
          for (size_t k : run_idx[ri]) poly.push_back({X(s.x[k]), Y(s.y2[k])});
          for (size_t j = run_idx[ri].size(); j-- > 0;) {
            const size_t k = run_idx[ri][j];
            poly.push_back({X(s.x[k]), Y(s.y[k])});
          }
          poly = ClipPolygon(r, std::move(poly));
          if (poly.size() >= 3) g.polygons.push_back(std::move(poly));
        }
        break;
      case Kind::kHistogram: {
        const double base = axes_.y_.scale == Scale::kLinear ? Y(0.0) : r.y1;
        for (size_t k = 0; k < g.ok.size(); ++k) {
          if (!g.ok[k]) continue;
          double x0 = X(s.x[k]), x1 = X(s.x[k + 1]);
          double y0 = Y(s.y[k]), y1 = base;
          if (x0 > x1) std::swap(x0, x1);
          if (y0 > y1) std::swap(y0, y1);
          x0 = std::max(x0, r.x0);
          x1 = std::min(x1, r.x1);
          y0 = std::max(y0, r.y0);
          y1 = std::min(y1, r.y1);
          if (x0 > x1 || y0 > y1) continue;
          g.rects.push_back({x0, y0, x1, y1});
        }
        break;
      }
      case Kind::kHLine:
        if (g.ok[0]) {
          const double y = Y(s.y[0]);
          if (y >= r.y0 - 1e-9 && y <= r.y1 + 1e-9) g.lines.push_back({{r.x0, y}, {r.x1, y}});
        }
        break;
      case Kind::kVLine:
        if (g.ok[0]) {
          const double x = X(s.x[0]);
          if (x >= r.x0 - 1e-9 && x <= r.x1 + 1e-9) g.lines.push_back({{x, r.y0}, {x, r.y1}});
        }
        break;
    }
  }
}

double PanelRenderer::LegendScore(const Rect& box) const {
  const Rect grown{box.x0 - 3, box.y0 - 3, box.x1 + 3, box.y1 + 3};
  double score = 0;
  for (const Resolved& g : res_) {
    for (const auto& line : g.lines) {
      if (line.size() == 1 && grown.Contains(line[0])) score += 1;
      for (size_t k = 0; k + 1 < line.size(); ++k) {
        Pt a = line[k], b = line[k + 1];
        if (ClipSegment(grown, a, b)) score += 1;
      }
    }
    for (const Pt& p : g.markers) score += grown.Contains(p);
    for (const Rect& rc : g.rects) {
      const double w = std::min(rc.x1, grown.x1) - std::max(rc.x0, grown.x0);
      const double h = std::min(rc.y1, grown.y1) - std::max(rc.y0, grown.y0);
      if (w > 0 && h > 0) score += 1 + w * h / 64;
    }
    for (const auto& poly : g.polygons) {
      for (int a = 0; a <= 4; ++a) {
        for (int b = 0; b <= 2; ++b) {
          const Pt p{box.x0 + (box.x1 - box.x0) * a / 4, box.y0 + (box.y1 - box.y0) * b / 2};
          score += 0.5 * PointInPolygon(p, poly);
        }
      }
    }
  }
  return score;
}

void PanelRenderer::PlaceLegend() {
  const double inset = 6;
  const Rect& r = plot_;
  // (column, row) of a box position: 0 left/top, 1 centre, 2 right/bottom.
  const auto at = [&](int col, int row) -> Rect {
    const double free_w = r.x1 - r.x0 - 2 * inset - legend_w_;
    const double free_h = r.y1 - r.y0 - 2 * inset - legend_h_;
    const double x0 = r.x0 + inset + free_w * col / 2;
    const double y0 = r.y0 + inset + free_h * row / 2;
    return {x0, y0, x0 + legend_w_, y0 + legend_h_};
  };
  const auto corner = [&](LegendPosition p) -> Rect {
    const bool right = p == LegendPosition::kUpperRight || p == LegendPosition::kLowerRight;
    const bool upper = p == LegendPosition::kUpperRight || p == LegendPosition::kUpperLeft;
    return at(right ? 2 : 0, upper ? 0 : 2);
  };
  const auto outside = [&]() -> Rect {
    const double x0 = r.x1 + kPad + 4;
    return {x0, r.y0, x0 + legend_w_, r.y0 + legend_h_};
  };
  if (legend_outside_) {
    legend_box_ = outside();
    return;
  }
  if (axes_.legend_ != LegendPosition::kAuto) {
    legend_box_ = corner(axes_.legend_);
    return;
  }
  // Corners first, then the middles of the edges, then the centre (matplotlib's "best" order);
  // the first box with the lowest score wins.
  static constexpr int kCandidates[9][2] = {{2, 0}, {0, 0}, {2, 2}, {0, 2}, {2, 1},
                                            {0, 1}, {1, 0}, {1, 2}, {1, 1}};
  double best = INFINITY;
  for (const auto& c : kCandidates) {
    const Rect box = at(c[0], c[1]);
    const double score = LegendScore(box);
    if (score < best) {
      best = score;
      legend_box_ = box;
    }
  }
  best_inside_score_ = best;
}

Status PanelRenderer::Prepare(std::vector<std::string>& warnings) {
  if (Status s = Validate(); !s.ok()) return s;
  ComputeOk(warnings);
  if (Status s = ResolveRange(axes_.x_, true, xa_); !s.ok()) return s;
  if (Status s = ResolveRange(axes_.y_, false, ya_); !s.ok()) return s;
  // Legend size.
  legend_items_.clear();
  double text_w = 0;
  for (size_t i = 0; i < axes_.series_.size(); ++i) {
    if (axes_.series_[i].label.empty()) continue;
    legend_items_.push_back(i);
    text_w = std::max(text_w, TextWidth(axes_.series_[i].label, kLegendFont));
  }
  const bool legend = !legend_items_.empty() && axes_.legend_ != LegendPosition::kNone;
  if (legend) {
    legend_w_ = 8 + kLegendSample + 6 + text_w + 8;
    legend_h_ = 5 + kLegendRow * static_cast<double>(legend_items_.size()) + 3;
  }
  const bool outside = legend && axes_.legend_ == LegendPosition::kOutsideRight;
  if (Status s = Layout(outside); !s.ok()) return s;
  BuildGeometry();
  if (!legend) return Status::Ok();
  PlaceLegend();
  // kAuto: every corner covers data, or the legend does not fit inside: move it out if the
  // panel can spare the width.
  const double cw = cell_.x1 - cell_.x0;
  const bool too_big =
      legend_h_ > plot_.y1 - plot_.y0 - 12 || legend_w_ > (plot_.x1 - plot_.x0) * 0.6;
  if (axes_.legend_ == LegendPosition::kAuto && (best_inside_score_ > 0 || too_big) &&
      legend_w_ + 2 * kPad + 6 <= cw * 0.34) {
    if (Status s = Layout(true); !s.ok()) return s;
    BuildGeometry();
    PlaceLegend();
  }
  return Status::Ok();
}

void PanelRenderer::EmitSeries(std::string& out, size_t i) const {
  const Series& s = axes_.series_[i];
  const Resolved& g = res_[i];
  const bool reference = s.kind == Kind::kHLine || s.kind == Kind::kVLine;
  const int kind = static_cast<int>(s.kind);
  out += "<g class=\"series ";
  out += KindClass(kind);
  out += "\" id=\"p" + std::to_string(index_) + "-s" + std::to_string(i) + "\"";
  const double lw = s.style.line_width;
  if (s.kind == Kind::kHistogram) {
    size_t bars = 0;
    for (const Series& o : axes_.series_) bars += o.kind == Kind::kHistogram;
    const double op = s.style.opacity >= 0 ? s.style.opacity : (bars == 1 ? 0.85 : 0.45);
    Attr(out, "fill", g.color);
    Attr(out, "fill-opacity", op);
    if (bars == 1) {
      Attr(out, "stroke", std::string_view("#ffffff"));
      Attr(out, "stroke-width", 0.6);
    } else {
      Attr(out, "stroke", g.color);
      Attr(out, "stroke-width", 0.9);
    }
    out += ">";
  } else if (s.kind == Kind::kBand) {
    Attr(out, "fill", g.color);
    Attr(out, "fill-opacity", s.style.opacity >= 0 ? s.style.opacity : 0.2);
    Attr(out, "stroke", std::string_view("none"));
    out += ">";
  } else {
    out += " fill=\"none\"";
    Attr(out, "stroke", g.color);
    Attr(out, "stroke-width", lw);
    out += " stroke-linejoin=\"round\"";
    const std::string dash = DashArray(g.dash, lw);
    if (!dash.empty()) Attr(out, "stroke-dasharray", dash);
    if (reference) out += " shape-rendering=\"crispEdges\"";
    out += ">";
  }
  if (!s.label.empty()) {
    out += "<title>";
    out += EscapeXml(s.label);
    out += "</title>";
  }
  for (const auto& line : g.lines) {
    if (line.size() == 1) {  // an isolated point of a line: a dot the width of the line
      out += "<circle";
      Attr(out, "cx", line[0].x);
      Attr(out, "cy", line[0].y);
      Attr(out, "r", std::max(lw, 1.0));
      Attr(out, "fill", g.color);
      out += " stroke=\"none\"/>";
      continue;
    }
    out += "<polyline";
    AppendPoints(out, line);
    out += "/>";
  }
  for (const Rect& rc : g.rects) {
    out += "<rect";
    Attr(out, "x", rc.x0);
    Attr(out, "y", rc.y0);
    Attr(out, "width", rc.x1 - rc.x0);
    Attr(out, "height", rc.y1 - rc.y0);
    out += "/>";
  }
  for (const auto& poly : g.polygons) {
    out += "<polygon";
    AppendPoints(out, poly);
    out += "/>";
  }
  if (!g.markers.empty()) {
    out += "<g class=\"markers\"";
    if (s.style.marker == Marker::kCross) {
      out += " fill=\"none\"";
      Attr(out, "stroke", g.color);
      Attr(out, "stroke-width", std::max(1.2, lw * 0.8));
      out += " stroke-dasharray=\"none\"";
    } else {
      Attr(out, "fill", g.color);
      out += " stroke=\"#ffffff\" stroke-width=\"0.5\" stroke-dasharray=\"none\"";
    }
    out += ">";
    for (const Pt& p : g.markers) AppendMarker(out, s.style.marker, p, s.style.marker_size);
    out += "</g>";
  }
  out += "</g>\n";
}

void PanelRenderer::EmitAxes(std::string& out) const {
  const Rect& r = plot_;
  const auto text = [&](double x, double y, const char* anchor, double font, const char* cls,
                        const RichText& label, const char* extra = "") {
    out += "<text";
    out += " class=\"";
    out += cls;
    out += "\"";
    Attr(out, "x", x);
    Attr(out, "y", y);
    out += " text-anchor=\"";
    out += anchor;
    out += "\"";
    Attr(out, "font-size", font);
    out += " stroke=\"none\"";
    out += extra;
    out += ">";
    AppendRichText(out, label, font);
    out += "</text>";
  };
  // X axis: spine, ticks, labels.
  out += "<g class=\"xaxis\">";
  out += "<line class=\"spine\"";
  Attr(out, "x1", r.x0);
  Attr(out, "y1", r.y1);
  Attr(out, "x2", r.x1);
  Attr(out, "y2", r.y1);
  out += "/>";
  for (const Tick& t : xa_.ticks) {
    const double x = X(t.value);
    out += "<line class=\"";
    out += t.major ? "tick" : "minor-tick";
    out += "\"";
    Attr(out, "x1", x);
    Attr(out, "y1", r.y1);
    Attr(out, "x2", x);
    Attr(out, "y2", r.y1 + (t.major ? kTickLen : kMinorTickLen));
    out += "/>";
  }
  for (const Tick& t : xa_.ticks) {
    if (!t.major) continue;
    text(X(t.value), r.y1 + kTickLen + 3 + kTickFont * 0.8, "middle", kTickFont, "tick-label",
         t.label);
  }
  if (!axes_.x_.label.empty()) {
    text((r.x0 + r.x1) / 2, cell_.y1 - kPad - xlabel_font_ * 0.25, "middle", xlabel_font_,
         "axis-label", {axes_.x_.label, ""});
  }
  out += "</g>\n";
  // Y axis.
  out += "<g class=\"yaxis\">";
  out += "<line class=\"spine\"";
  Attr(out, "x1", r.x0);
  Attr(out, "y1", r.y0);
  Attr(out, "x2", r.x0);
  Attr(out, "y2", r.y1);
  out += "/>";
  for (const Tick& t : ya_.ticks) {
    const double y = Y(t.value);
    out += "<line class=\"";
    out += t.major ? "tick" : "minor-tick";
    out += "\"";
    Attr(out, "x1", r.x0 - (t.major ? kTickLen : kMinorTickLen));
    Attr(out, "y1", y);
    Attr(out, "x2", r.x0);
    Attr(out, "y2", y);
    out += "/>";
  }
  for (const Tick& t : ya_.ticks) {
    if (!t.major) continue;
    text(r.x0 - kTickLen - 3, Y(t.value) + kTickFont * 0.35, "end", kTickFont, "tick-label",
         t.label);
  }
  if (!axes_.y_.label.empty()) {
    const double x = cell_.x0 + kPad + ylabel_font_ * 0.8;
    const double y = (r.y0 + r.y1) / 2;
    const std::string rot = " transform=\"rotate(-90 " + Coord(x) + " " + Coord(y) + ")\"";
    text(x, y, "middle", ylabel_font_, "axis-label", {axes_.y_.label, ""}, rot.c_str());
  }
  out += "</g>\n";
  if (!axes_.title_.empty()) {
    text((r.x0 + r.x1) / 2, cell_.y0 + kPad + title_font_ * 0.85, "middle", title_font_, "title",
         {axes_.title_, ""}, " font-weight=\"bold\"");
    out += "\n";
  }
}

void PanelRenderer::EmitLegend(std::string& out) const {
  if (legend_items_.empty() || axes_.legend_ == LegendPosition::kNone) return;
  const Rect& b = legend_box_;
  out += "<g class=\"legend\">";
  out += "<rect";
  Attr(out, "x", b.x0);
  Attr(out, "y", b.y0);
  Attr(out, "width", b.x1 - b.x0);
  Attr(out, "height", b.y1 - b.y0);
  out +=
      " rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#c8c8c8\" stroke-width=\"0.8\"/>";
  for (size_t n = 0; n < legend_items_.size(); ++n) {
    const size_t i = legend_items_[n];
    const Series& s = axes_.series_[i];
    const Resolved& g = res_[i];
    const double cy = b.y0 + 5 + kLegendRow * (static_cast<double>(n) + 0.5);
    const double sx = b.x0 + 8;
    out += "<g class=\"legend-entry\">";
    switch (s.kind) {
      case Kind::kHistogram:
      case Kind::kBand: {
        size_t bars = 0;
        for (const Series& o : axes_.series_) bars += o.kind == Kind::kHistogram;
        const double op = s.style.opacity >= 0    ? s.style.opacity
                          : s.kind == Kind::kBand ? 0.2
                          : bars == 1             ? 0.85
                                                  : 0.45;
        out += "<rect";
        Attr(out, "x", sx + 3);
        Attr(out, "y", cy - 5);
        Attr(out, "width", kLegendSample - 6);
        Attr(out, "height", 10);
        Attr(out, "fill", g.color);
        Attr(out, "fill-opacity", op);
        if (s.kind == Kind::kHistogram && bars > 1) {
          Attr(out, "stroke", g.color);
          out += " stroke-width=\"0.9\"";
        }
        out += "/>";
        break;
      }
      default: {
        if (s.kind != Kind::kScatter) {
          out += "<line";
          Attr(out, "x1", sx);
          Attr(out, "y1", cy);
          Attr(out, "x2", sx + kLegendSample);
          Attr(out, "y2", cy);
          Attr(out, "stroke", g.color);
          Attr(out, "stroke-width", s.style.line_width);
          const std::string dash = DashArray(g.dash, s.style.line_width);
          if (!dash.empty()) Attr(out, "stroke-dasharray", dash);
          out += "/>";
        }
        if (s.style.marker != Marker::kNone && s.kind != Kind::kHLine && s.kind != Kind::kVLine) {
          out += "<g";
          if (s.style.marker == Marker::kCross) {
            out += " fill=\"none\"";
            Attr(out, "stroke", g.color);
            out += " stroke-width=\"1.2\"";
          } else {
            Attr(out, "fill", g.color);
          }
          out += ">";
          AppendMarker(out, s.style.marker, {sx + kLegendSample / 2, cy},
                       std::min(s.style.marker_size, 5.0));
          out += "</g>";
        }
      }
    }
    out += "<text";
    Attr(out, "x", sx + kLegendSample + 6);
    Attr(out, "y", cy + kLegendFont * 0.35);
    Attr(out, "font-size", kLegendFont);
    out += ">";
    out += EscapeXml(s.label);
    out += "</text></g>";
  }
  out += "</g>\n";
}

void PanelRenderer::Emit(std::string& out) const {
  const Rect& r = plot_;
  out += "<g class=\"axes\" id=\"axes-" + std::to_string(index_) + "\">\n";
  if (axes_.grid_) {
    out += "<g class=\"grid\" stroke=\"";
    out += kGridColor;
    out += "\" stroke-width=\"1\" shape-rendering=\"crispEdges\">";
    for (const Tick& t : xa_.ticks) {
      if (!t.major) continue;
      const double x = X(t.value);
      out += "<line";
      Attr(out, "x1", x);
      Attr(out, "y1", r.y0);
      Attr(out, "x2", x);
      Attr(out, "y2", r.y1);
      out += "/>";
    }
    for (const Tick& t : ya_.ticks) {
      if (!t.major) continue;
      const double y = Y(t.value);
      out += "<line";
      Attr(out, "x1", r.x0);
      Attr(out, "y1", y);
      Attr(out, "x2", r.x1);
      Attr(out, "y2", y);
      out += "/>";
    }
    out += "</g>\n";
  }
  // Layers: fills below reference lines below lines and markers; insertion order within each.
  const auto& ss = axes_.series_;
  for (size_t i = 0; i < ss.size(); ++i) {
    if (ss[i].kind == Kind::kBand || ss[i].kind == Kind::kHistogram) EmitSeries(out, i);
  }
  for (size_t i = 0; i < ss.size(); ++i) {
    if (ss[i].kind == Kind::kHLine || ss[i].kind == Kind::kVLine) EmitSeries(out, i);
  }
  for (size_t i = 0; i < ss.size(); ++i) {
    if (ss[i].kind == Kind::kLine || ss[i].kind == Kind::kStep || ss[i].kind == Kind::kScatter) {
      EmitSeries(out, i);
    }
  }
  out += "<g stroke=\"";
  out += kAxisColor;
  out += "\" stroke-width=\"1\" shape-rendering=\"crispEdges\" fill=\"";
  out += kTextColor;
  out += "\">\n";
  EmitAxes(out);
  out += "</g>\n";
  EmitLegend(out);
  out += "</g>\n";
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Figure.

Figure::Figure(double width, double height) : width_(width), height_(height), panels_(1) {}

Figure::Figure(size_t rows, size_t cols, double width, double height)
    : rows_(rows), cols_(cols), width_(width), height_(height) {
  if (rows == 0 || cols == 0 || rows > 64 || cols > 64) {
    errors_.push_back("a figure needs 1 to 64 rows and columns, got " + std::to_string(rows) + "x" +
                      std::to_string(cols));
    rows_ = cols_ = 1;
  }
  panels_.resize(rows_ * cols_);
}

Axes& Figure::At(size_t row, size_t col) {
  if (row >= rows_ || col >= cols_) {
    errors_.push_back("panel (" + std::to_string(row) + ", " + std::to_string(col) +
                      ") is outside the " + std::to_string(rows_) + "x" + std::to_string(cols_) +
                      " grid");
    return scratch_;
  }
  return panels_[row * cols_ + col];
}

Figure& Figure::SetTitle(std::string title) {
  title_ = std::move(title);
  return *this;
}

StatusOr<SvgDocument> Figure::Render() const {
  if (!errors_.empty()) return InvalidArgument("figure: " + errors_.front());
  if (!std::isfinite(width_) || !std::isfinite(height_) || width_ < 50 || height_ < 50 ||
      width_ > 100000 || height_ > 100000) {
    return InvalidArgument("figure: size " + detail::Coord(width_) + "x" + detail::Coord(height_) +
                           " px is outside 50..100000");
  }
  SvgDocument doc;
  std::string& out = doc.svg;
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\"";
  detail::Attr(out, "width", width_);
  detail::Attr(out, "height", height_);
  out += " viewBox=\"0 0 " + detail::Coord(width_) + " " + detail::Coord(height_) + "\"";
  out += " font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  if (!title_.empty()) out += "<title>" + detail::EscapeXml(title_) + "</title>\n";
  out += "<rect class=\"background\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  double top = 0;
  if (!title_.empty()) {
    const double room = width_ - 16;
    double font = 16;
    const double w = detail::TextWidth(title_, font, true);
    if (w > room) font = std::max(7.0, font * room / w);
    top = font * 1.25 + 10;
    out += "<text class=\"figure-title\"";
    detail::Attr(out, "x", width_ / 2);
    detail::Attr(out, "y", 8 + font);
    out += " text-anchor=\"middle\"";
    detail::Attr(out, "font-size", font);
    out += " font-weight=\"bold\" fill=\"#222222\">" + detail::EscapeXml(title_) + "</text>\n";
  }
  const double cw = width_ / static_cast<double>(cols_);
  const double ch = (height_ - top) / static_cast<double>(rows_);
  const bool many = panels_.size() > 1;
  for (size_t i = 0; i < panels_.size(); ++i) {
    const double x = cw * static_cast<double>(i % cols_);
    const double y = top + ch * static_cast<double>(i / cols_);
    detail::PanelRenderer r(panels_[i], i, many, x, y, cw, ch);
    if (Status s = r.Prepare(doc.warnings); !s.ok()) return s;
    r.Emit(out);
  }
  out += "</svg>\n";
  return doc;
}

Status Figure::WriteSvg(const std::string& path, std::vector<std::string>* warnings) const {
  StatusOr<SvgDocument> doc = Render();
  if (!doc.ok())
    return Status(doc.status().code(), "cannot write '" + path + "': " + doc.status().message());
  if (warnings) *warnings = doc->warnings;
  return detail::WriteFileAtomically(path, doc->svg);
}

}  // namespace qfloat::plot
