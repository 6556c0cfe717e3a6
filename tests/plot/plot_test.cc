// qfloat::plot: rendering behaviour that string inspection can check. The XML structure of the
// sample figures is checked by check_svg.py (tests/plot/CMakeLists.txt).
#include "qfloat/plot.h"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace qp = qfloat::plot;
namespace fs = std::filesystem;

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// The <g class="series ..." id="ID"> element of a rendered figure, up to its closing tag.
std::string SeriesGroup(const std::string& svg, const std::string& id) {
  const size_t start = svg.find("id=\"" + id + "\"");
  if (start == std::string::npos) return {};
  const size_t end = svg.find("</g>\n", start);
  return svg.substr(start, end - start);
}

// Every (x, y) of every polyline in `text`.
std::vector<std::pair<double, double>> PolylinePoints(const std::string& text) {
  std::vector<std::pair<double, double>> pts;
  const std::regex attr("points=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), attr); it != std::sregex_iterator();
       ++it) {
    std::istringstream in((*it)[1].str());
    std::string pair;
    while (in >> pair) {
      const size_t comma = pair.find(',');
      pts.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
    }
  }
  return pts;
}

qp::SvgDocument MustRender(const qp::Figure& fig) {
  auto doc = fig.Render();
  INFO(doc.status().message());
  REQUIRE(doc.ok());
  return *doc;
}

const std::vector<double> kX = {1, 2, 3, 4, 5};
const std::vector<double> kY = {0.5, 0.7, 0.6, 0.9, 0.8};

}  // namespace

TEST_CASE("plot: a line figure is an SVG 1.1 document with one polyline per series", "[plot]") {
  qp::Figure fig(600, 400);
  fig.axes()
      .SetTitle("t")
      .SetXLabel("step")
      .SetYLabel("q")
      .AddLine("a", kX, kY)
      .AddLine("b", kX, kY);
  const auto doc = MustRender(fig);
  const std::string& svg = doc.svg;
  CHECK(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"", 0) == 0);
  CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"600\" "
                 "height=\"400\"") != std::string::npos);
  CHECK(svg.size() > 7);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(Count(svg, "<polyline") == 2);
  CHECK(PolylinePoints(SeriesGroup(svg, "p0-s0")).size() == 5);
  CHECK(Count(svg, "class=\"legend-entry\"") == 2);
  CHECK(doc.warnings.empty());
  // Okabe-Ito colours in order.
  CHECK(SeriesGroup(svg, "p0-s0").find(std::string(qp::kPalette[0])) != std::string::npos);
  CHECK(SeriesGroup(svg, "p0-s1").find(std::string(qp::kPalette[1])) != std::string::npos);
}

TEST_CASE("plot: output is deterministic", "[plot]") {
  const auto build = [] {
    qp::Figure fig(2, 1, 640, 600);
    fig.SetTitle("same bytes");
    fig.At(0, 0).SetYScale(qp::Scale::kLog10).AddLine("a", kX, kY).AddHLine(1.0, "q = 1");
    fig.At(1, 0).AddHistogram("h", qp::Histogram(kY, 4));
    return fig;
  };
  const std::string a = MustRender(build()).svg;
  const std::string b = MustRender(build()).svg;
  const qp::Figure fig = build();
  CHECK(a == b);
  CHECK(MustRender(fig).svg == MustRender(fig).svg);
}

TEST_CASE("plot: NaN and inf break a line and are reported", "[plot]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7};
  std::vector<double> y = {1, 2, nan, 4, 5, inf, 7};
  qp::Figure fig;
  fig.axes().AddLine("gappy", x, y);
  const auto doc = MustRender(fig);
  // Runs {1,2}, {4,5}, {7}: two polylines and a dot for the lone point.
  const std::string g = SeriesGroup(doc.svg, "p0-s0");
  CHECK(Count(g, "<polyline") == 2);
  CHECK(PolylinePoints(g).size() == 4);
  CHECK(Count(g, "<circle") == 1);
  REQUIRE(doc.warnings.size() == 1);
  CHECK(doc.warnings[0] == "series \"gappy\": skipped 2 points with NaN or infinite values");
  CHECK(doc.svg.find("nan") == std::string::npos);
  CHECK(doc.svg.find("inf") == std::string::npos);
}

TEST_CASE("plot: non-positive values on log axes are skipped and reported", "[plot]") {
  std::vector<double> x = {1, 2, 3, 4, 5};
  std::vector<double> y = {1e-3, 0, 1e-2, -1, 1e-1};
  qp::Figure fig;
  fig.axes().SetYScale(qp::Scale::kLog10).AddScatter("s", x, y);
  auto doc = MustRender(fig);
  CHECK(Count(SeriesGroup(doc.svg, "p0-s0"), "<circle") == 3);
  REQUIRE(doc.warnings.size() == 1);
  CHECK(doc.warnings[0] ==
        "series \"s\": skipped 2 points with non-positive y on the log10 y axis");

  // A point with two problems is counted once, under the first.
  qp::Figure both;
  both.axes()
      .SetYScale(qp::Scale::kLog10)
      .AddLine("b", std::vector<double>{std::nan(""), 1, 2}, std::vector<double>{-1, 1, 2});
  doc = MustRender(both);
  REQUIRE(doc.warnings.size() == 1);
  CHECK(doc.warnings[0] == "series \"b\": skipped 1 point with NaN or infinite values");

  qp::Figure fig2;
  fig2.axes()
      .SetXScale(qp::Scale::kLog2)
      .AddLine("", std::vector<double>{0, -1}, std::vector<double>{1, 2});
  doc = MustRender(fig2);
  REQUIRE(doc.warnings.size() == 2);
  CHECK(doc.warnings[0] == "series #1: skipped 2 points with non-positive x on the log2 x axis");
  CHECK(doc.warnings[1] == "series #1: nothing left to draw");
}

TEST_CASE("plot: histograms draw one bar per bin; empty bins vanish on a log axis", "[plot]") {
  std::vector<double> edges = {0, 1, 2, 3, 4};
  std::vector<double> counts = {5, 0, 12, 3};
  qp::Figure lin;
  lin.axes().AddHistogram("h", edges, counts);
  auto doc = MustRender(lin);
  CHECK(Count(SeriesGroup(doc.svg, "p0-s0"), "<rect") == 4);
  CHECK(doc.warnings.empty());

  qp::Figure log;
  log.axes().SetYScale(qp::Scale::kLog10).AddHistogram("h", edges, counts);
  doc = MustRender(log);
  CHECK(Count(SeriesGroup(doc.svg, "p0-s0"), "<rect") == 3);
  CHECK(doc.warnings.empty());  // an empty bin is normal, not a data problem

  // A bin with a non-positive edge cannot sit on a log x axis.
  qp::Figure logx;
  logx.axes().SetXScale(qp::Scale::kLog10).AddHistogram("h", edges, counts);
  doc = MustRender(logx);
  CHECK(Count(SeriesGroup(doc.svg, "p0-s0"), "<rect") == 3);
  REQUIRE(doc.warnings.size() == 1);
  CHECK(doc.warnings[0] ==
        "series \"h\": skipped 1 bin with non-positive edges on the log10 x axis");

  qp::Figure bad;
  bad.axes().AddHistogram("h", edges, std::vector<double>{1, 2});
  auto status = bad.Render();
  REQUIRE_FALSE(status.ok());
  CHECK(status.status().code() == qfloat::StatusCode::kInvalidArgument);
  CHECK(status.status().message() == "series \"h\": 2 counts need 3 edges, got 5");
}

TEST_CASE("plot: Histogram() bins every finite value exactly once", "[plot]") {
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) v.push_back(std::sin(i * 0.37) * 3);
  v.push_back(std::nan(""));
  v.push_back(-std::numeric_limits<double>::infinity());
  qp::Binned h = qp::Histogram(v, 20);
  REQUIRE(h.edges.size() == 21);
  REQUIRE(h.counts.size() == 20);
  double total = 0;
  for (double c : h.counts) total += c;
  CHECK(total == 1000);
  CHECK(h.skipped == 2);
  CHECK(h.edges.front() == *std::min_element(v.begin(), v.begin() + 1000));
  CHECK(h.edges.back() == *std::max_element(v.begin(), v.begin() + 1000));

  // Sturges' rule when bins == 0, log scale skips non-positive values.
  std::vector<double> pos = {1e-3, 1e-2, 1e-1, 1, 0, -5};
  h = qp::Histogram(pos, 0, qp::Scale::kLog10);
  CHECK(h.skipped == 2);
  CHECK(h.counts.size() == 3);  // ceil(log2(4)) + 1
  CHECK(h.counts[0] + h.counts[1] + h.counts[2] == 4);
  CHECK(h.edges.front() == 1e-3);
  CHECK(h.edges.back() == 1);

  // One distinct value: a unit-wide bin around it.
  h = qp::Histogram(std::vector<double>{2, 2, 2}, 1);
  REQUIRE(h.edges.size() == 2);
  CHECK(h.edges[0] == 1.5);
  CHECK(h.edges[1] == 2.5);
  CHECK(h.counts[0] == 3);

  CHECK(qp::Histogram(std::vector<double>{}).counts.empty());
}

TEST_CASE("plot: text is escaped for XML, invalid UTF-8 replaced", "[plot]") {
  qp::Figure fig;
  fig.SetTitle("fig <&>");
  fig.axes().SetTitle("a<b & \"c\" 'd'").SetXLabel("bad \xFF\xC0 bytes\x01").AddLine("x>y", kX, kY);
  const std::string svg = MustRender(fig).svg;
  CHECK(svg.find("fig &lt;&amp;&gt;") != std::string::npos);
  CHECK(svg.find("a&lt;b &amp; &quot;c&quot; &apos;d&apos;") != std::string::npos);
  CHECK(svg.find("bad \xEF\xBF\xBD\xEF\xBF\xBD bytes\xEF\xBF\xBD") != std::string::npos);
  CHECK(svg.find("x&gt;y") != std::string::npos);
  CHECK(svg.find("\xFF") == std::string::npos);
  CHECK(svg.find("<b ") == std::string::npos);
}

TEST_CASE("plot: fixed limits clip lines to the plot area", "[plot]") {
  std::vector<double> x = {0, 10}, y = {0, 10};
  qp::Figure fig(500, 300);
  fig.axes().SetXLimits(2, 5).SetYLimits(0, 10).SetGrid(false).AddLine("", x, y);
  const std::string svg = MustRender(fig).svg;
  const auto pts = PolylinePoints(SeriesGroup(svg, "p0-s0"));
  REQUIRE(pts.size() == 2);
  // The spines give the plot rectangle.
  const std::regex spine(
      "<line class=\"spine\" x1=\"([0-9.]+)\" y1=\"([0-9.]+)\" x2=\"([0-9.]+)\"");
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, spine));  // x axis: (x0, y1) -> (x1, y1)
  const double x0 = std::stod(m[1]), x1 = std::stod(m[3]);
  CHECK(pts[0].first == Approx(x0).margin(0.01));
  CHECK(pts[1].first == Approx(x1).margin(0.01));
  CHECK(pts[0].second > pts[1].second);  // rising line, y down in SVG
}

TEST_CASE("plot: reference lines are drawn, counted in the range, and in the legend", "[plot]") {
  std::vector<double> q = {0.90, 0.92, 0.95};
  qp::Figure fig;
  fig.axes().AddLine("q", std::vector<double>{1, 2, 3}, q).AddHLine(1.0, "q = 1").AddVLine(2.5);
  const auto doc = MustRender(fig);
  CHECK(PolylinePoints(SeriesGroup(doc.svg, "p0-s1")).size() == 2);
  CHECK(PolylinePoints(SeriesGroup(doc.svg, "p0-s2")).size() == 2);
  CHECK(SeriesGroup(doc.svg, "p0-s1").find("stroke-dasharray") != std::string::npos);
  CHECK(Count(doc.svg, "class=\"legend-entry\"") == 2);  // the vline has no label
  CHECK(doc.svg.find(">1.00</text>") != std::string::npos);

  qp::Figure log;
  log.axes()
      .SetYScale(qp::Scale::kLog10)
      .AddLine("q", std::vector<double>{1, 2, 3}, q)
      .AddHLine(0.0, "zero");
  const auto doc2 = MustRender(log);
  REQUIRE(doc2.warnings.size() == 1);
  CHECK(doc2.warnings[0] ==
        "series \"zero\": reference line at 0 cannot be drawn on the log10 axis");
}

TEST_CASE("plot: log axes label decades", "[plot]") {
  std::vector<double> x = {1, 2, 3}, y = {1e-6, 1e-3, 1e-1};
  qp::Figure fig;
  fig.axes().SetYScale(qp::Scale::kLog10).AddLine("", x, y);
  const std::string svg = MustRender(fig).svg;
  // 10^-6 .. 10^-1 as "10" with a raised exponent (U+2212 minus).
  for (int k = 1; k <= 6; ++k) {
    INFO(k);
    CHECK(svg.find(">10<tspan dy=\"-4.62\" font-size=\"7.92\">\xE2\x88\x92" + std::to_string(k) +
                   "</tspan></text>") != std::string::npos);
  }
  CHECK(Count(svg, "class=\"minor-tick\"") > 0);
}

TEST_CASE("plot: legend placement and suppression", "[plot]") {
  qp::Figure none;
  none.axes().SetLegend(qp::LegendPosition::kNone).AddLine("a", kX, kY);
  CHECK(Count(MustRender(none).svg, "legend-entry") == 0);

  qp::Figure unlabeled;
  unlabeled.axes().AddLine("", kX, kY);
  CHECK(Count(MustRender(unlabeled).svg, "class=\"legend\"") == 0);

  // Data filling the upper half: the automatic legend goes low, clear of every point.
  std::vector<double> x, y;
  for (int i = 0; i <= 50; ++i) {
    x.push_back(i);
    y.push_back(i % 2 ? 10 : 9);
  }
  x.push_back(0), y.push_back(0);  // one low point at the left sets the range
  qp::Figure fig(600, 400);
  fig.axes().AddScatter("points", x, y);
  const std::string svg = MustRender(fig).svg;
  const std::regex box(
      "<g class=\"legend\"><rect x=\"([0-9.]+)\" y=\"([0-9.]+)\" "
      "width=\"([0-9.]+)\" height=\"([0-9.]+)\"");
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, box));
  const double bx = std::stod(m[1]), by = std::stod(m[2]);
  const double bw = std::stod(m[3]), bh = std::stod(m[4]);
  const std::regex circle("<circle cx=\"([0-9.]+)\" cy=\"([0-9.]+)\"");
  size_t covered = 0, circles = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), circle); it != std::sregex_iterator();
       ++it) {
    const double cx = std::stod((*it)[1]), cy = std::stod((*it)[2]);
    if (cx >= bx && cx <= bx + bw && cy >= by && cy <= by + bh) ++covered;
    ++circles;
  }
  CHECK(circles == 53);  // 52 data points + the legend's sample marker
  CHECK(covered == 1);   // only the legend's own sample
}

TEST_CASE("plot: small multiples give each panel its own axes", "[plot]") {
  qp::Figure fig(2, 3, 900, 500);
  for (size_t r = 0; r < 2; ++r) {
    for (size_t c = 0; c < 3; ++c) fig.At(r, c).AddLine("s", kX, kY);
  }
  const auto doc = MustRender(fig);
  CHECK(Count(doc.svg, "<g class=\"axes\"") == 6);
  CHECK(doc.svg.find("id=\"p5-s0\"") != std::string::npos);
  CHECK(Count(doc.svg, "<polyline") == 6);
}

TEST_CASE("plot: invalid figures fail with a message naming the problem", "[plot]") {
  using qfloat::StatusCode;
  const auto message = [](const qp::Figure& f) {
    auto doc = f.Render();
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.status().code() == StatusCode::kInvalidArgument);
    return doc.status().message();
  };
  {
    qp::Figure f;
    f.axes().AddLine("short", std::vector<double>{1, 2, 3}, std::vector<double>{1, 2});
    CHECK(message(f) == "series \"short\": x has 3 values but y has 2");
  }
  {
    qp::Figure f;
    qp::Style s;
    s.color = "red\" onload=\"x";
    f.axes().AddLine("c", kX, kY, s);
    CHECK(message(f).find("is not #rgb or #rrggbb") != std::string::npos);
  }
  {
    qp::Figure f;
    f.axes().SetYScale(qp::Scale::kLog10).SetYLimits(0, 1).AddLine("", kX, kY);
    CHECK(message(f) == "y limit 0 is not valid on a log10 axis");
  }
  {
    qp::Figure f;
    f.axes().SetXLimits(3, 3).AddLine("", kX, kY);
    CHECK(message(f) == "x limits must be increasing");
  }
  {
    qp::Figure f(2, 2, 800, 600);
    f.At(2, 0).AddLine("lost", kX, kY);
    CHECK(message(f) == "figure: panel (2, 0) is outside the 2x2 grid");
  }
  {
    qp::Figure f(60, 60);
    f.axes().SetTitle("title").SetXLabel("x").AddLine("", kX, kY);
    CHECK(message(f).find("too small") != std::string::npos);
  }
  {
    qp::Figure f(2, 2, 800, 600);
    f.At(1, 1).AddBand("b", kX, kY, std::vector<double>{1});
    CHECK(message(f) == "panel 4: series \"b\": x, y_lo and y_hi have 5, 5 and 1 values");
  }
}

TEST_CASE("plot: more than eight series reuse colours with dashes", "[plot]") {
  qp::Figure fig;
  for (int i = 0; i < 10; ++i) {
    std::string label = std::to_string(i);
    label.insert(label.begin(), 's');  // not "s" + ...: GCC 12 -Wrestrict false positive
    fig.axes().AddLine(label, kX, kY);
  }
  const std::string svg = MustRender(fig).svg;
  CHECK(SeriesGroup(svg, "p0-s7").find("stroke-dasharray") == std::string::npos);
  CHECK(SeriesGroup(svg, "p0-s8").find("stroke-dasharray") != std::string::npos);
  CHECK(SeriesGroup(svg, "p0-s8").find(std::string(qp::kPalette[0])) != std::string::npos);
}

TEST_CASE("plot: long lines are decimated per pixel column", "[plot]") {
  std::vector<double> x(100000), y(100000);
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<double>(i);
    y[i] = std::sin(static_cast<double>(i) * 0.01);
  }
  qp::Figure fig(600, 300);
  fig.axes().AddLine("", x, y);
  const std::string svg = MustRender(fig).svg;
  const auto pts = PolylinePoints(SeriesGroup(svg, "p0-s0"));
  CHECK(pts.size() <= 4 * 600);
  CHECK(pts.size() >= 500);
  double ymin = 1e9, ymax = -1e9;
  for (const auto& p : pts) ymin = std::min(ymin, p.second), ymax = std::max(ymax, p.second);
  // The envelope survives: the extremes of sin are still there (within a pixel).
  qp::Figure small(600, 300);
  small.axes().AddLine("", std::vector<double>{0, 1, 2, 3}, std::vector<double>{-1, 1, -1, 1});
  const auto ref = PolylinePoints(SeriesGroup(MustRender(small).svg, "p0-s0"));
  CHECK(ymin == Approx(std::min(ref[0].second, ref[1].second)).margin(1.0));
  CHECK(ymax == Approx(std::max(ref[0].second, ref[1].second)).margin(1.0));
}

TEST_CASE("plot: custom ticks with category labels", "[plot]") {
  std::vector<double> pos = {0, 1, 2};
  std::vector<double> q = {0.97, 0.95, 0.999};
  qp::Figure fig;
  fig.axes()
      .SetXTicks(pos, {"e4m3fn", "e5m2", "bf16"})
      .SetXLimits(-0.5, 2.5)
      .AddScatter("q_min", pos, q);
  const std::string svg = MustRender(fig).svg;
  CHECK(svg.find(">e4m3fn</text>") != std::string::npos);
  CHECK(svg.find(">bf16</text>") != std::string::npos);

  qp::Figure bad;
  bad.axes().SetXTicks(pos, {"only one"}).AddLine("", pos, q);
  CHECK_FALSE(bad.Render().ok());
}

TEST_CASE("plot: WriteSvg writes atomically", "[plot]") {
  const fs::path dir =
      fs::temp_directory_path() / ("qfloat_plot_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "fig.svg").string();

  qp::Figure fig;
  fig.axes().AddLine("a", kX, kY);
  std::vector<std::string> warnings = {"stale"};
  REQUIRE(fig.WriteSvg(path, &warnings).ok());
  CHECK(warnings.empty());
  std::ifstream in(path, std::ios::binary);
  const std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(written == MustRender(fig).svg);

  // A figure that fails to render leaves the previous file untouched.
  qp::Figure broken;
  broken.axes().AddLine("bad", std::vector<double>{1}, std::vector<double>{});
  const qfloat::Status s = broken.WriteSvg(path);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find(path) != std::string::npos);
  std::ifstream again(path, std::ios::binary);
  CHECK(std::string((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>()) ==
        written);

  // An unwritable destination: an error naming it, no temporary left behind.
  const std::string missing = (dir / "no" / "such" / "dir" / "fig.svg").string();
  const qfloat::Status io = fig.WriteSvg(missing);
  CHECK(io.code() == qfloat::StatusCode::kIoError);
  CHECK(io.message().find(missing) != std::string::npos);
  const qfloat::Status onto_dir = fig.WriteSvg(dir.string());
  CHECK(onto_dir.code() == qfloat::StatusCode::kIoError);

  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    INFO(entry.path());
    CHECK(entry.path().filename() == "fig.svg");
    ++files;
  }
  CHECK(files == 1);
  fs::remove_all(dir);
}
