#include "core/password.hpp"

#include "core/exit_codes.hpp"

#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace chatctl {

namespace {

// The terminal state to put back if a signal arrives while echo is off.
int g_tty_fd = -1;
struct termios g_saved {};

extern "C" void restore_and_reraise(int sig) {
  if (g_tty_fd >= 0) {
    ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved);
    static const char nl = '\n';
    (void)!::write(g_tty_fd, &nl, 1);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

class tty {
 public:
  tty() : fd_(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) {}
  ~tty() {
    if (fd_ >= 0) ::close(fd_);
  }
  tty(const tty&) = delete;
  tty& operator=(const tty&) = delete;

  bool open() const noexcept { return fd_ >= 0; }

  void write(const std::string& text) const {
    std::size_t done = 0;
    while (done < text.size()) {
      const auto n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      done += static_cast<std::size_t>(n);
    }
  }

  // One line with echo off; the line ending is not part of the result. Echo goes off before
  // the prompt appears, so nothing typed in answer to the prompt is ever shown or discarded.
  std::string read_hidden(const std::string& prompt) const {
    struct termios saved {};
    const bool is_term = ::tcgetattr(fd_, &saved) == 0;
    struct sigaction old_int {
    }, old_term{}, old_hup{}, act{};
    if (is_term) {
      g_tty_fd = fd_;
      g_saved = saved;
      act.sa_handler = restore_and_reraise;
      sigemptyset(&act.sa_mask);
      ::sigaction(SIGINT, &act, &old_int);
      ::sigaction(SIGTERM, &act, &old_term);
      ::sigaction(SIGHUP, &act, &old_hup);
      struct termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      ::tcsetattr(fd_, TCSAFLUSH, &quiet);  // drops only what was typed before the prompt
    }
    write(prompt);
    std::string line;
    char c = 0;
    for (;;) {
      const auto n = ::read(fd_, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || c == '\n') break;
      line.push_back(c);
    }
    if (is_term) {
      ::tcsetattr(fd_, TCSADRAIN, &saved);
      ::sigaction(SIGINT, &old_int, nullptr);
      ::sigaction(SIGTERM, &old_term, nullptr);
      ::sigaction(SIGHUP, &old_hup, nullptr);
      g_tty_fd = -1;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

 private:
  int fd_;
};

}  // namespace

std::string read_password_line(std::istream& in) {
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) fail(exit_code::usage, "--password-stdin: standard input has no password");
  return line;
}

std::string prompt_password(const std::string& prompt, bool confirm) {
  tty t;
  if (!t.open()) {
    fail(exit_code::usage, "no terminal to ask for the password; pipe it in with --password-stdin");
  }
  std::string password = t.read_hidden(prompt);
  if (password.empty()) fail(exit_code::usage, "empty password");
  if (confirm) {
    const std::string again = t.read_hidden("Repeat password: ");
    if (again != password) fail(exit_code::usage, "the passwords do not match");
  }
  return password;
}

}  // namespace chatctl
