// An independent exact oracle for the scalar reference (issue 2 §4).
//
// It shares no code with include/qfloat/detail/bits.h: it reads only the *description* fields of a
// FormatSpec (kind, bits, sign, exponent/mantissa bits or es, bias, subnormals, zero, -0, inf,
// NaN count, NaN fallback), derives every value from the format definition itself (minifloat:
// (2^m + mantissa) * 2^(field - bias - m); posit: regime / es / fraction bit strings), finds the
// two neighbours of an input by searching the sorted magnitude codes, and applies the rounding
// mode and the overflow policy as DESIGN.md "Rounding" and "Overflow and specials" state them.
//
// Exactness: every value of every format the reference accepts is a double (Finalize keeps the
// range inside float64 and m <= 52), so comparing an input with a value is exact in double.
// Midpoints are compared in double only when the midpoint is provably exact (checked with an
// error-free sum); otherwise with exact rationals (Boost.Multiprecision). The posit tie is the
// value of the (n+1)-bit posit 2c+1, also exact in double. Stochastic rounding uses the exact
// rational fraction (x - lo)/(hi - lo) and draws its random words from Random123's own Philox.
#ifndef QFLOAT_TESTS_REFERENCE_ORACLE_H_
#define QFLOAT_TESTS_REFERENCE_ORACLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/rounding.h"

namespace qfloat::oracle {

// What the oracle knows about a format: the description, and what it derives from it.
struct Model {
  bool posit = false;
  int bits = 8;
  bool is_signed = true;
  int exponent_bits = 0;  // posit: es
  int mantissa_bits = 0;
  int32_t bias = 0;
  bool subnormals = true;
  bool has_zero = true;
  bool negative_zero = true;
  bool has_inf = false;
  uint32_t high_nans = 0;
  NanFallback nan_fallback = NanFallback::kFlipSignZero;
  // Derived here, from the description only.
  uint64_t code_mask = 0;  // all code bits
  uint64_t sign_bit = 0;   // 0 when unsigned
  uint64_t max_mag = 0;    // largest finite magnitude code (posit: maxpos)
  uint64_t inf_mag = 0;    // +inf magnitude code (has_inf only)
  bool has_nan = false;
  uint64_t nan_code = 0;        // canonical NaN code for a positive NaN input
  bool nan_keeps_sign = false;  // a negative NaN input gets the sign bit
  std::vector<double> table;    // value of magnitude code c, c = 0 .. max_mag + 1 (<= 16 bits)
};

Model MakeModel(const FormatSpec& spec);

// Exact value of a nonnegative magnitude code. For a minifloat, max_mag + 1 is the next value of
// the unbounded grid (max + ulp(max)), which the overflow rules need.
double Value(const Model& m, uint64_t mag);
// Value of the n-bit posit with es exponent bits and (positive) code mag, from its bit string.
double PositValue(int n, int es, uint64_t mag);

enum class InputClass : uint8_t { kNan, kInf, kZero, kFinite };
enum class Position : uint8_t {
  kExact,    // |x| is the value of code lo
  kBetween,  // value(lo) < |x| < value(hi)
  kBelow,    // below the smallest value (posit: minpos; minifloat without zero: code 0)
  kAbove,    // posit: above maxpos; minifloat: |x| >= max + ulp(max), overflow in any mode
};

// Where an input lies on the format's grid.
struct Located {
  InputClass input = InputClass::kFinite;
  bool negative = false;
  Position position = Position::kExact;
  uint64_t lo = 0, hi = 0;  // magnitude codes; hi may be max_mag + 1 (minifloat overflow)
  double abs = 0, lo_value = 0, hi_value = 0;
  int tie = 0;  // sign of |x| - tie point (arithmetic midpoint; posit: (n+1)-bit posit 2 lo + 1)
};

Located Locate(const Model& m, double x);

// The code a deterministic mode (rne rna rtz rup rdn rto) gives.
uint32_t RoundDeterministic(const Model& m, const Located& at, RoundingMode mode,
                            Overflow overflow);

// Where the random bits of element `index` come from (the contract of DESIGN.md "Rounding").
struct SrDraw {
  uint64_t seed = 0;
  uint32_t stream = 0;
  uint64_t index = 0;  // absolute: index_offset + element index
};

// Random word `word` for element `index`, computed with Random123's r123::Philox4x32 (not with
// qfloat's Philox): word (index mod 4) of Philox4x32-10((lo32(index/4), hi32(index/4), stream,
// word), (lo32(seed), hi32(seed))).
uint32_t RandomWord(uint64_t seed, uint32_t stream, uint64_t index, uint32_t word);

// The code `sr` (sr_bits = 0) or `sr:K` gives: exact `sr` rounds up iff U < f, U = 0.R0 R1 ...
// in base 2^32; `sr:K` rounds up iff floor(f 2^K) + (R0 >> (32 - K)) >= 2^K.
uint32_t RoundStochastic(const Model& m, const Located& at, int sr_bits, Overflow overflow,
                         const SrDraw& draw);
// (|x| - lo)/(hi - lo) for a kBetween input, rounded to double (for statistics only).
double ValueFractionApprox(const Located& at);
// floor(f * 2^k) for a kBetween input, exactly.
uint64_t ValueFractionTopBits(const Located& at, int k);

// ---- Inputs ----
// Positive points on the grid: values, tie points (posits: both the bit-pattern tie and the
// arithmetic midpoint), the overflow / underflow points. Every code for formats of at most 16
// bits; an anchor set (extremes, around 1, powers of two, `random_codes` random codes) above.
std::vector<double> GridPoints(const Model& m, uint64_t seed, size_t random_codes);
// Each point rounded to T, with its +-1 ulp neighbours in T, both signs.
std::vector<double> WithNeighbours(const std::vector<double>& points, bool as_float32);
// +-0, +-inf, NaNs with payloads and signs, T's subnormal and normal extremes.
std::vector<double> SpecialInputs(bool as_float32);
// `count` random inputs of type T (double values), a third each: uniform bit patterns; random
// sign and mantissa with the exponent uniform around the format's range; near-ties (a tie point
// of a random code, moved by k in [-4, 4] ulps of T).
std::vector<double> RandomInputs(const Model& m, bool as_float32, size_t count, uint64_t seed);

// Number of random inputs per input type for the sweeps: QFLOAT_ORACLE_SAMPLES, default 10^6.
size_t OracleSamples();

std::string Hex(double x);
std::string ModeName(RoundingMode mode);
std::string OverflowName(Overflow overflow);

}  // namespace qfloat::oracle

#endif  // QFLOAT_TESTS_REFERENCE_ORACLE_H_
