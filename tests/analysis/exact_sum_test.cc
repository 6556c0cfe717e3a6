// ExactSum (THEORY.md §2.7): exact sums of doubles and of products of doubles over their whole
// range, order-independent merges, canonical serialization, and one correct rounding at the end.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "analysis/bigint.h"
#include "exact_oracle.h"
#include "qfloat/analysis.h"

namespace qfloat {
namespace {

using test::ExactRational;
using test::IsCorrectlyRounded;
using test::OracleSum;
using test::Rational;

double RandomDouble(std::mt19937_64& rng, int emin, int emax) {
  std::uniform_int_distribution<int> e(emin, emax);
  std::uniform_real_distribution<double> m(1.0, 2.0);
  const double x = std::ldexp(m(rng), e(rng));
  return (rng() & 1) ? -x : x;
}

TEST_CASE("ExactSum adds doubles and products exactly over the whole range") {
  std::mt19937_64 rng(1);
  for (const auto& [emin, emax] : std::vector<std::pair<int, int>>{
           {-149, 127}, {-1074, 1023}, {-1074, -1000}, {-10, 10}, {500, 1023}}) {
    ExactSum s;
    ExactSum p;
    OracleSum os;
    OracleSum op;
    for (int i = 0; i < 20000; ++i) {
      const double a = RandomDouble(rng, emin, emax);
      const double b = RandomDouble(rng, emin, emax);
      s.Add(a);
      os.Add(a);
      p.AddProduct(a, b);
      op.AddProduct(a, b);
    }
    CHECK(IsCorrectlyRounded(s.ToDouble(), os.Value()));
    CHECK(IsCorrectlyRounded(p.ToDouble(), op.Value()));
    // The dyadic value is the oracle's rational exactly.
    const analysis_internal::Dyadic d = analysis_internal::ToDyadic(p);
    Rational v(test::BigInt(0));
    {
      test::BigInt m = 0;
      for (size_t i = d.mag.digits().size(); i > 0; --i) m = (m << 32) + d.mag.digits()[i - 1];
      v = d.exp >= 0 ? Rational(m << d.exp) : Rational(m, test::BigInt(1) << -d.exp);
      if (d.negative) v = -v;
    }
    CHECK(v == op.Value());
  }
}

TEST_CASE("ExactSum cancels to exactly zero and rounds subnormal and overflowing totals") {
  ExactSum s;
  std::mt19937_64 rng(2);
  std::vector<double> xs;
  for (int i = 0; i < 5000; ++i) xs.push_back(RandomDouble(rng, -1074, 1023));
  for (const double x : xs) s.Add(x);
  std::shuffle(xs.begin(), xs.end(), rng);
  for (const double x : xs) s.Add(-x);
  CHECK(s.IsZero());
  CHECK(s.Sign() == 0);
  CHECK(s.ToDouble() == 0.0);
  CHECK(s.Serialize() == ExactSum().Serialize());

  // 1e308 + 1e308 overflows double but not the accumulator; the total rounds to inf, and the
  // accumulator keeps going back into range exactly.
  ExactSum big;
  big.Add(1e308);
  big.Add(1e308);
  CHECK(big.ToDouble() == HUGE_VAL);
  big.Add(-1e308);
  CHECK(big.ToDouble() == 1e308);

  // Tiny products (2^-2148) sum to a subnormal total, rounded once.
  ExactSum tiny;
  OracleSum otiny;
  const double m = std::numeric_limits<double>::denorm_min();
  for (int i = 0; i < 3; ++i) {
    tiny.AddProduct(m, 0x1p600);  // 2^-474
    otiny.AddProduct(m, 0x1p600);
    tiny.AddProduct(m, 0x1.8p-60);
    otiny.AddProduct(m, 0x1.8p-60);
  }
  CHECK(IsCorrectlyRounded(tiny.ToDouble(), otiny.Value()));
  ExactSum sub;
  sub.Add(m);
  sub.AddProduct(m, 0.5);  // 1.5 denorm_min: a tie, to even (2 denorm_min)
  CHECK(sub.ToDouble() == 2 * m);
  sub.AddProduct(m, -0.25);  // 1.25 denorm_min -> denorm_min
  CHECK(sub.ToDouble() == m);
}

TEST_CASE("ExactSum merges shards bitwise-identically in any order") {
  std::mt19937_64 rng(3);
  constexpr int kShards = 9;
  std::vector<ExactSum> shards(kShards);
  ExactSum whole;
  for (int i = 0; i < 30000; ++i) {
    const double a = RandomDouble(rng, -149, 127);
    const double b = RandomDouble(rng, -149, 127);
    shards[rng() % kShards].AddProduct(a, b);
    whole.AddProduct(a, b);
  }
  const std::vector<uint8_t> expected = whole.Serialize();
  std::vector<int> order(kShards);
  for (int i = 0; i < kShards; ++i) order[i] = i;
  for (int trial = 0; trial < 20; ++trial) {
    std::shuffle(order.begin(), order.end(), rng);
    ExactSum merged;
    for (const int i : order) merged.Merge(shards[i]);
    CHECK(merged.Serialize() == expected);
    CHECK(merged == whole);
  }
  // Tree merges too.
  std::vector<ExactSum> level = shards;
  while (level.size() > 1) {
    std::vector<ExactSum> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      ExactSum m = level[i + 1];
      m.Merge(level[i]);
      next.push_back(m);
    }
    if (level.size() % 2) next.push_back(level.back());
    level = next;
  }
  CHECK(level[0].Serialize() == expected);
}

TEST_CASE("ExactSum survives many lazy-carry rounds and round-trips through bytes") {
  ExactSum s;
  OracleSum o;
  std::mt19937_64 rng(4);
  // Same-sign maximal digits stress the lazy carry: every limb add is close to 2^32.
  for (int i = 0; i < 200000; ++i) {
    const double x = std::ldexp(1.0 - 0x1p-53, static_cast<int>(rng() % 64) - 32);
    s.Add(x);
    o.Add(x);
  }
  CHECK(IsCorrectlyRounded(s.ToDouble(), o.Value()));
  const std::vector<uint8_t> bytes = s.Serialize();
  StatusOr<ExactSum> back = ExactSum::Deserialize(bytes);
  REQUIRE(back.ok());
  CHECK(back->Serialize() == bytes);
  CHECK(back->ToDouble() == s.ToDouble());

  // Corrupted blobs are rejected with DataError, never crash.
  std::vector<uint8_t> bad = bytes;
  bad.pop_back();
  CHECK(ExactSum::Deserialize(bad).status().code() == StatusCode::kDataError);
  bad = bytes;
  bad[4] = 0xFF;  // limb count
  CHECK(ExactSum::Deserialize(bad).status().code() == StatusCode::kDataError);
  bad = bytes;
  bad[8 + 7] = 0x7F;  // a lower limb far outside [0, 2^32)
  CHECK(ExactSum::Deserialize(bad).status().code() == StatusCode::kDataError);
  CHECK(ExactSum::Deserialize(std::vector<uint8_t>{1, 2}).status().code() ==
        StatusCode::kDataError);
}

TEST_CASE("ExactSum marks non-finite terms instead of adding garbage") {
  ExactSum s;
  s.Add(1.0);
  CHECK(s.valid());
  s.AddProduct(HUGE_VAL, 2.0);
  CHECK_FALSE(s.valid());
  CHECK(std::isnan(s.ToDouble()));
  ExactSum t;
  t.Add(std::numeric_limits<double>::quiet_NaN());
  CHECK_FALSE(t.valid());
  ExactSum u;
  u.Add(3.0);
  u.Merge(t);  // invalidity propagates through merges and serialization
  CHECK_FALSE(u.valid());
  StatusOr<ExactSum> back = ExactSum::Deserialize(u.Serialize());
  REQUIRE(back.ok());
  CHECK_FALSE(back->valid());
  CHECK(std::isnan(back->ToDouble()));
}

TEST_CASE("CompensatedSum is accurate where naive summation fails") {
  // 1 + 1e-16 repeated: naive summation loses every small term.
  CompensatedSum c;
  c.Add(1.0);
  for (int i = 0; i < 1000000; ++i) c.Add(1e-16);
  CHECK(std::fabs(c.Value() - (1.0 + 1e-10)) <= 1e-16);
  CompensatedSum a;
  CompensatedSum b;
  a.Add(1e100);
  b.Add(1.0);
  b.Add(-1e100);
  a.Merge(b);
  CHECK(a.Value() == 1.0);
}

}  // namespace
}  // namespace qfloat
