#include "dev_broker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace chat::kafka::test {

namespace {

using clock = std::chrono::steady_clock;
constexpr auto poll_step = std::chrono::milliseconds(20);

std::uint16_t port_of(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("bad address " + host_port);
  return static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1)));
}

// True once the child has exited (and is reaped).
bool reaped(pid_t pid, std::chrono::milliseconds within) {
  const auto deadline = clock::now() + within;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) return true;
    if (clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_step);
  }
}

}  // namespace

dev_broker::dev_broker(const std::vector<std::string>& topics, std::chrono::milliseconds ready_timeout) {
  std::string templ = (std::filesystem::temp_directory_path() / "kafka-dev-test.XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
  const auto info = dir_ / "info.json";
  const auto log = dir_ / "broker.log";

  // Everything the child needs is built before fork(): after it, only async-signal-safe
  // calls until exec.
  std::vector<std::string> args{CHAT_KAFKA_DEV_BINARY, "--info-file", info.string(), "--log-level", "warn"};
  for (const auto& t : topics) {
    args.emplace_back("--topic");
    args.push_back(t);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // Die with the test process, even if it crashes before TearDown.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(126);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }

  // The broker writes the file atomically (rename), so once it exists it is complete.
  const auto deadline = clock::now() + ready_timeout;
  while (!std::filesystem::exists(info)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      const std::string text = read_log();
      std::filesystem::remove_all(dir_);
      throw std::runtime_error("chat-kafka-dev exited before it was ready: " + text);
    }
    if (clock::now() >= deadline) {
      const std::string text = read_log();
      stop();
      throw std::runtime_error("chat-kafka-dev not ready in time: " + text);
    }
    std::this_thread::sleep_for(poll_step);
  }
  std::ifstream in(info);
  const auto json = nlohmann::json::parse(in);
  bootstrap_ = json.at("bootstrap").get<std::string>();
  control_port_ = port_of(json.at("control").get<std::string>());
}

dev_broker::~dev_broker() { stop(); }

void dev_broker::stop() noexcept {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!reaped(pid_, std::chrono::seconds(5))) {
      ::kill(pid_, SIGKILL);
      reaped(pid_, std::chrono::seconds(5));
    }
    pid_ = -1;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string dev_broker::read_log() const {
  std::ifstream in(dir_ / "broker.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string dev_broker::control(std::string_view line) const {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(control_port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    std::string out(line);
    out += '\n';
    if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size())) {
      char c = 0;
      while (::recv(fd, &c, 1, 0) == 1 && c != '\n') reply += c;
    }
  }
  ::close(fd);
  if (reply.empty()) throw std::runtime_error("no reply from control port to: " + std::string(line));
  return reply;
}

}  // namespace chat::kafka::test
