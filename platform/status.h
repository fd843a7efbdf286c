// Errors as values. A Status is either OK or a code with a message that says where the error
// started and what was being done. Result<T> holds a value or a non-OK Status.
// Both are cheap to move; neither throws.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ferry::platform {

enum class Code {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong (a config value, a bad request)
  kNotFound,         // a file, row or key that should exist does not
  kIoError,          // a read, write, sync or rename failed
  kNoSpace,          // the filesystem or the quota is full
  kCorruption,       // stored data is not what it should be
  kUnavailable,      // a peer or resource is not reachable now; retrying may help
  kInternal,         // a bug or an unexpected library answer
};

const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "io_error: open /var/lib/ferry/queue.db: Permission denied"
  std::string ToString() const;
  // Prefixes the message with what the caller was doing: "opening queue: <message>".
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Returns from the enclosing function when `expr` is not OK.
#define FERRY_RETURN_IF_ERROR(expr)         \
  do {                                      \
    ::ferry::platform::Status _st = (expr); \
    if (!_st.ok()) return _st;              \
  } while (0)

}  // namespace ferry::platform
