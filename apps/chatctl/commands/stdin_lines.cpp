#include "commands/stdin_lines.hpp"

#include "core/exit_codes.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <unistd.h>

namespace chatctl {

stdin_lines::stdin_lines(boost::asio::io_context& ioc, int fd) : fd_(fd), watch_(ioc) {
  // Watch a duplicate so that closing the descriptor object leaves fd 0 alone. epoll refuses
  // regular files (EPERM): those are read directly.
  const int dup_fd = ::dup(fd);
  if (dup_fd >= 0) {
    boost::system::error_code ec;
    watch_.assign(dup_fd, ec);
    if (ec) {
      ::close(dup_fd);
    } else {
      watchable_ = true;
    }
  }
}

bool stdin_lines::fill(const std::function<void(const bool& ready)>& wait) {
  if (watchable_) {
    // Shared with the handler: it may run after this frame is gone (an exception from
    // wait(), or the descriptor cancelled at destruction).
    auto ready = std::make_shared<bool>(false);
    watch_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                      [ready](const boost::system::error_code&) { *ready = true; });
    wait(*ready);
  }
  char chunk[16 * 1024];
  for (;;) {
    const auto n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;  // spurious readiness
    if (n < 0) fail(exit_code::error, std::string("cannot read standard input: ") + std::strerror(errno));
    if (n == 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<std::string> stdin_lines::next(const std::function<void(const bool& ready)>& wait) {
  for (;;) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (eof_ || !fill(wait)) {
      if (buffer_.empty()) return std::nullopt;
      std::string line = std::move(buffer_);
      buffer_.clear();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
  }
}

}  // namespace chatctl
