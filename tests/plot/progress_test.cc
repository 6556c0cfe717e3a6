// ProgressBar with an injected stream, terminal flag and clock.
#include "qfloat/progress.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "qfloat/report.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct FakeClock {
  Clock::time_point now = Clock::time_point(1000s);
  std::function<Clock::time_point()> Fn() {
    return [this] { return now; };
  }
};

// The lines drawn so far: the stream's text split at '\r', blanks removed.
std::vector<std::string> Frames(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t cr = s.find('\r', start);
    std::string part = s.substr(start, cr == std::string::npos ? std::string::npos : cr - start);
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    if (cr == std::string::npos) break;
    start = cr + 1;
  }
  return out;
}

qfloat::ProgressOptions Options(std::ostringstream& out, FakeClock& clock,
                                qfloat::ProgressMode mode, bool terminal) {
  qfloat::ProgressOptions o;
  o.mode = mode;
  o.out = &out;
  o.is_terminal = terminal;
  o.clock = clock.Fn();
  o.width = 80;
  o.label = "analyze";
  o.unit = "steps";
  return o;
}

}  // namespace

TEST_CASE("progress: --progress values", "[plot][progress]") {
  CHECK(*qfloat::ParseProgressMode("auto") == qfloat::ProgressMode::kAuto);
  CHECK(*qfloat::ParseProgressMode("always") == qfloat::ProgressMode::kAlways);
  CHECK(*qfloat::ParseProgressMode("never") == qfloat::ProgressMode::kNever);
  const auto bad = qfloat::ParseProgressMode("sometimes");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == qfloat::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() == "--progress: 'sometimes' is not one of auto, always, never");
  CHECK(qfloat::ToString(qfloat::ProgressMode::kNever) == "never");
}

TEST_CASE("progress: nothing is drawn in never mode, or in auto mode off a terminal",
          "[plot][progress]") {
  for (auto [mode, terminal] : {std::pair{qfloat::ProgressMode::kNever, true},
                                std::pair{qfloat::ProgressMode::kAuto, false}}) {
    std::ostringstream out;
    FakeClock clock;
    {
      qfloat::ProgressBar bar(100, Options(out, clock, mode, terminal));
      CHECK_FALSE(bar.enabled());
      for (int i = 0; i < 100; ++i) {
        clock.now += 1s;
        bar.Advance();
      }
      CHECK(bar.done() == 100);
      bar.Finish();
    }
    CHECK(out.str().empty());
  }
}

TEST_CASE("progress: draws counts, percentage, rate and ETA, throttled", "[plot][progress]") {
  std::ostringstream out;
  FakeClock clock;
  qfloat::ProgressBar bar(100, Options(out, clock, qfloat::ProgressMode::kAuto, true));
  REQUIRE(bar.enabled());
  auto frames = Frames(out.str());
  REQUIRE(frames.size() == 1);  // the initial state, before any work
  // 79 usable columns: "analyze " (8) + "[...]" + "  0/100 steps  0.0%  ETA --:--" (30) leaves
  // 39 cells for the bar.
  CHECK(frames[0] == "analyze [" + std::string(39, '.') + "]  0/100 steps  0.0%  ETA --:--");

  clock.now += 2s;
  bar.Advance(25);
  frames = Frames(out.str());
  REQUIRE(frames.size() == 2);
  // 25 steps in 2 s: 12.5/s, 75 left: 6.0 s.
  // The right part is 39 columns now: 30 cells, a quarter of them (7) full.
  CHECK(frames[1] == "analyze [" + std::string(7, '#') + std::string(23, '.') +
                         "]  25/100 steps  25.0%  12.5/s  ETA 6.0s");

  // Within 100 ms of the last draw: counted, not drawn.
  clock.now += 50ms;
  bar.Advance(5);
  CHECK(Frames(out.str()).size() == 2);
  CHECK(bar.done() == 30);
  clock.now += 60ms;
  bar.Advance(0);
  frames = Frames(out.str());
  REQUIRE(frames.size() == 3);
  CHECK(frames[2].find("30/100 steps  30.0%") != std::string::npos);

  for (const auto& f : frames) CHECK(qfloat::DisplayWidth(f) <= 79);

  // Finish erases the line: '\r', blanks over the whole bar, '\r'.
  const size_t before = out.str().size();
  bar.Finish();
  const std::string tail = out.str().substr(before);
  REQUIRE(tail.size() >= 2);
  CHECK(tail.front() == '\r');
  CHECK(tail.back() == '\r');
  CHECK(tail.find_first_not_of(" \r") == std::string::npos);
  CHECK(tail.size() - 2 >= qfloat::DisplayWidth(frames[2]));
  bar.Finish();
  clock.now += 10s;
  bar.Advance();
  CHECK(out.str().size() == before + tail.size());  // idempotent, silent after Finish
}

TEST_CASE("progress: narrow terminals, unknown totals and bytes", "[plot][progress]") {
  {
    std::ostringstream out;
    FakeClock clock;
    auto o = Options(out, clock, qfloat::ProgressMode::kAlways, false);
    o.width = 30;
    qfloat::ProgressBar bar(1000000, o);
    clock.now += 3s;
    bar.Advance(123456);
    for (const auto& f : Frames(out.str())) {
      INFO(f);
      CHECK(qfloat::DisplayWidth(f) <= 29);
    }
  }
  {
    std::ostringstream out;
    FakeClock clock;
    qfloat::ProgressBar bar(0, Options(out, clock, qfloat::ProgressMode::kAlways, false));
    clock.now += 4s;
    bar.Advance(7);
    const auto frames = Frames(out.str());
    REQUIRE(frames.size() == 2);
    CHECK(frames[1] == "analyze  7 steps  1.75/s  4.0s");
    bar.SetTotal(14);
    clock.now += 1s;
    bar.Advance(0);
    CHECK(Frames(out.str()).back().find("7/14 steps  50.0%") != std::string::npos);
  }
  {
    std::ostringstream out;
    FakeClock clock;
    auto o = Options(out, clock, qfloat::ProgressMode::kAlways, false);
    o.bytes = true;
    o.label = "";
    qfloat::ProgressBar bar(4u << 20, o);
    clock.now += 2s;
    bar.Advance(1u << 20);
    const std::string last = Frames(out.str()).back();
    CHECK(last.find("1.00 MiB/4.00 MiB  25.0%  512 KiB/s  ETA 6.0s") != std::string::npos);
    CHECK(last.front() == '[');
  }
}

TEST_CASE("progress: Message keeps the bar intact", "[plot][progress]") {
  std::ostringstream out;
  FakeClock clock;
  qfloat::ProgressBar bar(10, Options(out, clock, qfloat::ProgressMode::kAlways, false));
  const size_t before = out.str().size();
  bar.Message("warning: tensor 'w' is all zeros");
  const std::string tail = out.str().substr(before);
  const size_t nl = tail.find('\n');
  REQUIRE(nl != std::string::npos);
  // Erase, the message on its own line, then the bar again.
  CHECK(tail.substr(0, nl).find("\rwarning: tensor 'w' is all zeros") != std::string::npos);
  CHECK(tail.substr(nl + 1).rfind("\ranalyze [", 0) == 0);

  std::ostringstream quiet;
  qfloat::ProgressBar off(10, Options(quiet, clock, qfloat::ProgressMode::kNever, false));
  off.Message("note");
  CHECK(quiet.str() == "note\n");  // messages are printed in every mode
}

TEST_CASE("progress: Advance from many threads", "[plot][progress]") {
  std::ostringstream out;
  qfloat::ProgressOptions o;
  o.mode = qfloat::ProgressMode::kAlways;
  o.out = &out;
  o.width = 60;
  o.min_interval = std::chrono::milliseconds(0);  // draw as often as possible: stress the lock
  constexpr int kThreads = 4, kEach = 20000;
  qfloat::ProgressBar bar(kThreads * kEach, o);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) bar.Advance();
    });
  }
  for (auto& th : threads) th.join();
  bar.Finish();
  CHECK(bar.done() == kThreads * kEach);
  // Every frame is whole: drawn under the lock, never interleaved.
  for (const auto& f : Frames(out.str())) {
    INFO(f);
    CHECK(f.rfind("[", 0) == 0);
    CHECK(qfloat::DisplayWidth(f) <= 59);
  }
}
