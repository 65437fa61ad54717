#pragma once
// Lines of standard input for `send`, read without starving the STOMP session: while no line
// is available, the caller's wait function runs the session's io_context (heart-beats,
// receipts) until stdin is readable. Pipes and terminals are watched through the io_context;
// regular files are read directly (they never block).
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>
#include <optional>
#include <string>

namespace chatctl {

class stdin_lines {
 public:
  explicit stdin_lines(boost::asio::io_context& ioc, int fd = 0);

  // The next line without its line ending (LF or CRLF), or nullopt at the end of input.
  // `wait(ready)` must return once `ready` is true (running the io_context meanwhile).
  std::optional<std::string> next(const std::function<void(const bool& ready)>& wait);

 private:
  bool fill(const std::function<void(const bool& ready)>& wait);

  int fd_;
  boost::asio::posix::stream_descriptor watch_;
  bool watchable_ = false;
  bool eof_ = false;
  std::string buffer_;
};

}  // namespace chatctl
