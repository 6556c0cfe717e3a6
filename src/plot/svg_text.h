// Text helpers for the SVG writer: XML escaping, fixed number formatting, text-width estimates.
#ifndef QFLOAT_SRC_PLOT_SVG_TEXT_H_
#define QFLOAT_SRC_PLOT_SVG_TEXT_H_

#include <string>
#include <string_view>

namespace qfloat::plot::detail {

// Escapes text for XML character data and attribute values (both quote styles). Invalid UTF-8
// and the C0 controls that XML 1.0 forbids (§2.2 Char) become U+FFFD, so any input yields a
// well-formed document.
std::string EscapeXml(std::string_view text);

// Appends a coordinate with two decimals, trailing zeros dropped, "-0" written as "0". Uses
// std::to_chars: independent of the C locale, so output bytes are the same everywhere.
void AppendCoord(std::string& out, double v);
std::string Coord(double v);

// Estimated advance width in px of `text` set in DejaVu Sans (the font rsvg finds on Debian;
// Helvetica/Arial are narrower, so the estimate errs on the side of room). Layout only needs it
// to keep labels from colliding.
double TextWidth(std::string_view text, double font_size, bool bold = false);

// A tick or legend label that may end in a superscript (10^-3 is text "10", superscript "−3").
struct RichText {
  std::string text;
  std::string superscript;
};
double RichTextWidth(const RichText& label, double font_size);
// Appends <text> content: escaped text plus a raised, smaller <tspan> for the superscript.
void AppendRichText(std::string& out, const RichText& label, double font_size);

// "−" (U+2212) in place of a leading '-': the typographic minus that labels use.
std::string UnicodeMinus(std::string s);

}  // namespace qfloat::plot::detail

#endif  // QFLOAT_SRC_PLOT_SVG_TEXT_H_
