// ProgressBar (declared in qfloat/progress.h).
#include "qfloat/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <ostream>

#include "qfloat/report.h"

namespace qfloat {
namespace {

int TerminalWidth(bool real_stderr) {
  if (real_stderr) {
    winsize ws{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  }
  if (const char* cols = std::getenv("COLUMNS")) {
    int v = 0;
    const char* end = cols + std::char_traits<char>::length(cols);
    if (std::from_chars(cols, end, v).ec == std::errc() && v > 0) return v;
  }
  return 80;
}

}  // namespace

StatusOr<ProgressMode> ParseProgressMode(std::string_view text) {
  if (text == "auto") return ProgressMode::kAuto;
  if (text == "always") return ProgressMode::kAlways;
  if (text == "never") return ProgressMode::kNever;
  return InvalidArgument("--progress: '" + std::string(text) +
                         "' is not one of auto, always, never");
}

std::string_view ToString(ProgressMode mode) {
  switch (mode) {
    case ProgressMode::kAlways:
      return "always";
    case ProgressMode::kNever:
      return "never";
    case ProgressMode::kAuto:
      break;
  }
  return "auto";
}

ProgressBar::ProgressBar(uint64_t total, ProgressOptions options)
    : options_(std::move(options)), total_(total) {
  const bool real_stderr = options_.out == nullptr;
  out_ = real_stderr ? &std::cerr : options_.out;
  bool terminal = false;
  if (options_.is_terminal.has_value()) {
    terminal = *options_.is_terminal;
  } else if (real_stderr) {
    terminal = isatty(STDERR_FILENO) == 1;
  }
  switch (options_.mode) {
    case ProgressMode::kAlways:
      enabled_ = true;
      break;
    case ProgressMode::kNever:
      enabled_ = false;
      break;
    case ProgressMode::kAuto:
      enabled_ = terminal;
      break;
  }
  width_ = options_.width > 0 ? options_.width : TerminalWidth(real_stderr && terminal);
  width_ = std::clamp(width_, 20, 1000);
  start_ = Now();
  if (enabled_) {
    std::lock_guard<std::mutex> lock(mutex_);
    DrawLocked(start_);
  }
}

ProgressBar::~ProgressBar() { Finish(); }

ProgressBar::TimePoint ProgressBar::Now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

void ProgressBar::Advance(uint64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (!enabled_) return;
  const TimePoint now = Now();
  const int64_t t = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count();
  if (t < next_draw_ns_.load(std::memory_order_relaxed)) return;
  // Another thread drawing right now is as good as this one drawing.
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  if (t < next_draw_ns_.load(std::memory_order_relaxed)) return;
  DrawLocked(now);
}

void ProgressBar::SetTotal(uint64_t total) { total_.store(total, std::memory_order_relaxed); }

void ProgressBar::Message(std::string_view line) {
  std::lock_guard<std::mutex> lock(mutex_);
  ClearLocked();
  *out_ << line << '\n';
  if (enabled_ && !finished_) {
    DrawLocked(Now());
  } else {
    out_->flush();
  }
}

void ProgressBar::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  ClearLocked();
  out_->flush();
}

std::string ProgressBar::Render() const { return RenderAt(Now()); }

std::string ProgressBar::RenderAt(TimePoint now) const {
  const uint64_t done = done_.load(std::memory_order_relaxed);
  const uint64_t total = total_.load(std::memory_order_relaxed);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const auto amount = [&](uint64_t v) {
    return options_.bytes ? FormatBytes(v) : std::to_string(v);
  };
  // Rate over the whole run: steadier than an instantaneous one for uneven steps (file sizes
  // vary), and it needs no history. Shown once there is a measurable interval.
  const bool have_rate = elapsed >= 0.2 && done > 0;
  const double rate = have_rate ? static_cast<double>(done) / elapsed : 0;
  std::string counts = amount(done);
  if (total > 0) {
    counts += '/';
    counts += amount(total);
  }
  if (!options_.unit.empty() && !options_.bytes) {
    counts += ' ';
    counts += options_.unit;
  }

  std::string right = "  " + counts;
  if (total > 0) {
    const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    right += "  " + FormatFixed(frac * 100, 1) + "%";
  }
  if (have_rate) {
    if (options_.bytes) {
      right += "  " + FormatBytes(static_cast<uint64_t>(rate)) + "/s";
    } else {
      right += "  " + FormatSi(rate) + "/s";
    }
  }
  if (total > 0) {
    const double eta = have_rate ? static_cast<double>(total > done ? total - done : 0) / rate : -1;
    right += "  ETA " + FormatDuration(eta);
  } else {
    right += "  " + FormatDuration(elapsed);
  }

  // Fit into width - 1 columns (writing the last column makes some terminals wrap).
  const size_t room = static_cast<size_t>(width_) - 1;
  std::string left = options_.label;
  std::string bar;
  if (total > 0) {
    const size_t fixed = DisplayWidth(left) + (left.empty() ? 0 : 1) + 2 + DisplayWidth(right);
    if (fixed + 10 <= room) {
      const size_t cells = std::min<size_t>(room - fixed, 50);
      const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
      const size_t full = static_cast<size_t>(frac * static_cast<double>(cells));
      bar.reserve(cells + 2);
      bar += '[';
      bar.append(full, '#');
      bar.append(cells - full, '.');
      bar += ']';
    }
  }
  std::string line = left;
  if (!bar.empty()) line += (left.empty() ? "" : " ") + bar;
  line += (line.empty() && right.size() >= 2) ? right.substr(2) : right;
  if (DisplayWidth(line) > room) {
    // Cut on a UTF-8 boundary: keep whole code points.
    size_t cols = 0, i = 0;
    for (; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      if ((c & 0xC0) != 0x80) {
        if (cols == room) break;
        ++cols;
      }
    }
    line.resize(i);
  }
  return line;
}

void ProgressBar::DrawLocked(TimePoint now) {
  if (finished_) return;
  const std::string line = RenderAt(now);
  const size_t len = DisplayWidth(line);
  std::string buf = "\r" + line;
  // Blank out what is left of a longer previous line.
  if (drawn_len_ > len) buf.append(drawn_len_ - len, ' ');
  *out_ << buf;
  out_->flush();
  drawn_len_ = std::max<size_t>(len, 1);
  const int64_t t = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count();
  next_draw_ns_.store(
      t + std::chrono::duration_cast<std::chrono::nanoseconds>(options_.min_interval).count(),
      std::memory_order_relaxed);
}

void ProgressBar::ClearLocked() {
  if (drawn_len_ == 0) return;
  *out_ << '\r' << std::string(drawn_len_, ' ') << '\r';
  drawn_len_ = 0;
}

}  // namespace qfloat
