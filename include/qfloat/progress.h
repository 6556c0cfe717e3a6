// ProgressBar: a one-line progress display on stderr for long commands (analyze, quantize).
//
// Drawn only where a person is watching: by default (`--progress auto`) when stderr is a
// terminal, as other tools do (ECOSYSTEM.md §2); `always` forces it (e.g. into a log), `never`
// silences it. Redraws are throttled (10 per second by default), Advance() is thread-safe and
// cheap between redraws, and Finish() (or the destructor) erases the line so that the command's
// own output starts on a clean line. ASCII only, no colour, no cursor movement beyond '\r'.
//
// **Example**:
//   qfloat::ProgressOptions po;
//   po.mode = *qfloat::ParseProgressMode(progress_flag);
//   po.label = "analyze";
//   po.unit = "steps";
//   qfloat::ProgressBar bar(files.size(), po);
//   for (...) { ...; bar.Advance(); }
//   bar.Finish();
//   // analyze [##########..........]  512/1024 steps  50.0%  31.2/s  ETA 0:16
#ifndef QFLOAT_PROGRESS_H_
#define QFLOAT_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "qfloat/status.h"

namespace qfloat {

enum class ProgressMode { kAuto, kAlways, kNever };

// "auto" | "always" | "never" (the --progress flag); anything else is InvalidArgument naming it.
StatusOr<ProgressMode> ParseProgressMode(std::string_view text);
std::string_view ToString(ProgressMode mode);

struct ProgressOptions {
  ProgressMode mode = ProgressMode::kAuto;
  std::string label;   // printed first, e.g. the command name
  std::string unit;    // after the counts, e.g. "steps", "tensors"; empty: none
  bool bytes = false;  // counts are bytes: print "1.50 MiB/4.00 MiB", rates in MiB/s
  std::chrono::milliseconds min_interval{100};  // at most one redraw per interval

  // Where and how to draw; the defaults are for real use, tests inject their own.
  std::ostream* out = nullptr;      // null: std::cerr
  std::optional<bool> is_terminal;  // unset: isatty(2) when out is null, else false
  int width = 0;                    // columns; 0: the terminal's, else $COLUMNS, else 80
  std::function<std::chrono::steady_clock::time_point()> clock;  // unset: steady_clock::now
};

class ProgressBar {
 public:
  // total == 0: unknown (counts and rate, no bar or ETA).
  explicit ProgressBar(uint64_t total, ProgressOptions options = {});
  ~ProgressBar();  // Finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Adds n units done. Thread-safe; draws only when the interval has passed and no other thread
  // is drawing.
  void Advance(uint64_t n = 1);
  // The total may become known (or change) after the start.
  void SetTotal(uint64_t total);
  // Prints one line of text (a warning, a note) on the bar's stream without garbling the bar:
  // the bar is erased, the line written, and the bar redrawn. Written in every mode.
  void Message(std::string_view line);
  // Erases the bar's line and stops drawing. Idempotent.
  void Finish();

  bool enabled() const { return enabled_; }
  uint64_t done() const { return done_.load(std::memory_order_relaxed); }

  // The line Advance() would draw now, without '\r' (for tests and logs).
  std::string Render() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  TimePoint Now() const;
  std::string RenderAt(TimePoint now) const;
  void DrawLocked(TimePoint now);
  void ClearLocked();

  ProgressOptions options_;
  std::ostream* out_ = nullptr;
  bool enabled_ = false;
  int width_ = 80;
  TimePoint start_;
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> done_{0};
  std::atomic<int64_t> next_draw_ns_{0};  // since start_
  std::mutex mutex_;                      // guards the stream and the fields below
  size_t drawn_len_ = 0;                  // columns of the line on screen (0: none)
  bool finished_ = false;
};

}  // namespace qfloat

#endif  // QFLOAT_PROGRESS_H_
