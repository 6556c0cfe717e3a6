// Axis scales and tick generation.
#ifndef QFLOAT_SRC_PLOT_TICKS_H_
#define QFLOAT_SRC_PLOT_TICKS_H_

#include <cstddef>
#include <vector>

#include "plot/svg_text.h"
#include "qfloat/plot.h"

namespace qfloat::plot::detail {

// Data value to axis coordinate (identity, log10 or log2) and back.
double ToAxis(Scale scale, double v);
double FromAxis(Scale scale, double t);
// Finite, and positive on a log scale.
bool ValidOnScale(Scale scale, double v);

struct Tick {
  double value = 0;   // data value
  bool major = true;  // majors carry a label and a grid line; minors are short marks only
  RichText label;
};

// The 1-2-5 step >= raw (raw > 0): 1, 2, 5, 10, 20, ... times a power of ten.
double NiceStep(double raw);

// Ticks at multiples of a 1-2-5 step inside [lo, hi], at most max_labels of them (>= 2 where
// the range allows). Labels use the fewest decimals that tell the ticks apart; very large or
// very small magnitudes switch to m×10^e.
std::vector<Tick> LinearTicks(double lo, double hi, size_t max_labels);

// Log10 ticks: labelled decades (every k-th when there are more than max_labels), minor ticks at
// 2..9 × 10^k when decades are far enough apart (minor_room), and, when the range holds fewer
// than two decades, labelled 1-2-5 (then 1..9) multiples, then linear ticks, so that every log
// axis shows at least two labels. Log2 likewise with powers of two.
std::vector<Tick> LogTicks(Scale scale, double lo, double hi, size_t max_labels, bool minor_room);

std::vector<Tick> MakeTicks(Scale scale, double lo, double hi, size_t max_labels, bool minor_room);

// A label for an explicitly given tick value (SetXTicks without labels).
RichText FormatValue(double v);

}  // namespace qfloat::plot::detail

#endif  // QFLOAT_SRC_PLOT_TICKS_H_
