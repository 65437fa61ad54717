#include "api/hasher_process.hpp"

#include <chat/log/log.hpp>

#include <sodium.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace chat::chatd::api {
namespace {

// Wire format (native byte order: both ends are the same binary on the same machine).
// Request: op, opslimit (u64), memlimit (u64), length of the first text (u32), the first
// text, the second text (the rest). Answer: status, then the hash for wire_op_hash.
constexpr char wire_op_hash = 'h';    // first text: the password
constexpr char wire_op_verify = 'v';  // first text: the stored hash; second: the password
constexpr char wire_ok = 'o';
constexpr char wire_no = 'n';      // verify: no match
constexpr char wire_failed = 'f';  // hash: libsodium failed
constexpr std::size_t wire_header_bytes = 1 + 8 + 8 + 4;
constexpr std::size_t wire_max_message = 16 * 1024;  // passwords are <= 512 bytes, hashes ~100

template <class T>
void wire_put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <class T>
T wire_get(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

std::string wire_request(char op, auth::password_cost cost, std::string_view first, std::string_view second) {
  std::string out;
  out.reserve(wire_header_bytes + first.size() + second.size());
  out.push_back(op);
  wire_put<std::uint64_t>(out, cost.opslimit);
  wire_put<std::uint64_t>(out, cost.memlimit);
  wire_put<std::uint32_t>(out, static_cast<std::uint32_t>(first.size()));
  out.append(first);
  out.append(second);
  return out;
}

// The child yields the CPU to everything of normal priority (its whole process: no lock of
// chatd's is ever held at this priority).
void lower_process_priority() {
  sched_param param{};
  if (sched_setscheduler(0, SCHED_IDLE, &param) == 0) return;
  (void)setpriority(PRIO_PROCESS, 0, 19);
}

bool wire_send(int fd, const std::string& message) {
  for (;;) {
    const auto n = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(message.size())) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// One message; false at end of stream or on an error.
bool wire_receive(int fd, std::string& into) {
  into.resize(wire_max_message);
  for (;;) {
    const auto n = ::recv(fd, into.data(), into.size(), 0);
    if (n > 0) {
      into.resize(static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

}  // namespace

int run_hasher_child(int fd) {
  // Also gone with chatd when its socket end somehow stays open (a descriptor leaked into
  // another child). Not a check of getppid(): chatd may itself be pid 1 in a container.
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  lower_process_priority();
  if (sodium_init() < 0) return 1;
  std::string in;
  std::string out;
  while (wire_receive(fd, in)) {
    out.clear();
    if (in.size() < wire_header_bytes) return 2;  // not chatd on the other end
    const char op = in[0];
    const auth::password_cost cost{wire_get<std::uint64_t>(in.data() + 1), wire_get<std::uint64_t>(in.data() + 9)};
    const auto first_size = wire_get<std::uint32_t>(in.data() + 17);
    if (first_size > in.size() - wire_header_bytes) return 2;
    const std::string_view first(in.data() + wire_header_bytes, first_size);
    const std::string_view second(in.data() + wire_header_bytes + first_size,
                                  in.size() - wire_header_bytes - first_size);
    if (op == wire_op_hash) {
      auto hash = auth::hash_password(first, cost);
      out.push_back(hash ? wire_ok : wire_failed);
      if (hash) out.append(*hash);
    } else if (op == wire_op_verify) {
      out.push_back(auth::verify_password(first, second) ? wire_ok : wire_no);
    } else {
      return 2;
    }
    if (!wire_send(fd, out)) return 0;
  }
  return 0;
}

hasher_process::hasher_process(std::string executable) : executable_(std::move(executable)) {}

hasher_process::~hasher_process() { stop(); }

bool hasher_process::start() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    log::warn("cannot start a password hasher", {{"error", std::string(std::strerror(errno))}});
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // fds[1] becomes the child's descriptor 3 (dup2 clears close-on-exec); nothing else of
  // chatd's (listening sockets, connections) stays open in the child.
  posix_spawn_file_actions_adddup2(&actions, fds[1], hasher_child_fd);
  posix_spawn_file_actions_addclosefrom_np(&actions, hasher_child_fd + 1);
  const std::string flag(hasher_child_flag);
  char* argv[] = {const_cast<char*>("chatd"), const_cast<char*>(flag.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, executable_.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    log::warn("cannot start a password hasher",
              {{"executable", executable_}, {"error", std::string(std::strerror(rc))}});
    return false;
  }
  fd_ = fds[0];
  pid_ = pid;
  return true;
}

void hasher_process::stop() {
  if (fd_ >= 0) ::close(fd_);  // the child's end of stream: it exits after its current hash
  fd_ = -1;
  if (pid_ <= 0) return;
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  for (;;) {
    const pid_t done = ::waitpid(pid_, nullptr, WNOHANG);
    if (done == pid_ || (done < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  pid_ = -1;
}

bool hasher_process::call(const std::string& message, std::string& answer) {
  if (message.size() > wire_max_message) return false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0 && !start()) return false;
    if (wire_send(fd_, message) && wire_receive(fd_, answer) && !answer.empty()) return true;
    log::warn("password hasher died; starting another", {{"pid", static_cast<std::int64_t>(pid_)}});
    stop();
  }
  return false;
}

std::optional<std::optional<std::string>> hasher_process::hash(std::string_view password, auth::password_cost cost) {
  std::string answer;
  if (!call(wire_request(wire_op_hash, cost, password, {}), answer)) return std::nullopt;
  if (answer[0] != wire_ok) return std::optional<std::string>{};
  return std::optional<std::string>{answer.substr(1)};
}

std::optional<bool> hasher_process::verify(std::string_view stored_hash, std::string_view password) {
  std::string answer;
  if (!call(wire_request(wire_op_verify, {}, stored_hash, password), answer)) return std::nullopt;
  return answer[0] == wire_ok;
}

}  // namespace chat::chatd::api
