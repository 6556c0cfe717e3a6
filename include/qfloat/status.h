// Status and StatusOr: the one error style of the library. Bad input (a malformed file, an
// impossible format description, an unknown name) is reported as a Status whose message names the
// input; no exception crosses the library boundary. The CLI maps codes to exit codes.
#ifndef QFLOAT_STATUS_H_
#define QFLOAT_STATUS_H_

#include <string>
#include <utility>
#include <variant>

namespace qfloat {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // a caller's option or description is impossible (usage error)
  kNotFound,         // unknown name, missing file
  kDataError,        // malformed or inconsistent input data
  kIoError,          // the OS refused a read or write
  kUnavailable,      // the backend is not compiled in or has no device
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
inline Status NotFound(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
inline Status DataError(std::string message) {
  return Status(StatusCode::kDataError, std::move(message));
}
inline Status IoError(std::string message) {
  return Status(StatusCode::kIoError, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : state_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(state_);
  }
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace qfloat

#endif  // QFLOAT_STATUS_H_
