#include "control_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "log.hpp"

namespace kafka_dev {
namespace {

struct client {
  int fd;
  std::string peer;
  std::string buffer;
};

std::runtime_error sys_error(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

// Blocking send of the whole reply; control replies are short and clients are local.
bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

control_server::control_server(uint16_t port, handler on_line) : on_line_(std::move(on_line)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    throw sys_error("control socket");
  }
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const auto err = sys_error("control bind 127.0.0.1:" + std::to_string(port));
    ::close(listen_fd_);
    throw err;
  }
  if (::listen(listen_fd_, 16) != 0) {
    const auto err = sys_error("control listen");
    ::close(listen_fd_);
    throw err;
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    const auto err = sys_error("control pipe");
    ::close(listen_fd_);
    throw err;
  }
}

control_server::~control_server() {
  stop();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void control_server::start() {
  thread_ = std::thread([this] { run(); });
}

void control_server::stop() {
  if (!thread_.joinable()) {
    return;
  }
  const char byte = 'x';
  while (::write(wake_pipe_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  thread_.join();
}

void control_server::run() {
  std::vector<client> clients;
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_pipe_[0], POLLIN, 0});
    fds.push_back({listen_fd_, static_cast<short>(clients.size() < max_clients ? POLLIN : 0), 0});
    for (const auto& c : clients) {
      fds.push_back({c.fd, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      log(log_level::error, std::string("control poll: ") + std::strerror(errno));
      break;
    }
    if (fds[0].revents != 0) {
      break;
    }
    // Clients first: accepting appends to `clients`, which would shift the indexes.
    std::vector<std::size_t> closed;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      if (fds[i + 2].revents == 0) {
        continue;
      }
      auto& c = clients[i];
      char buf[1024];
      const auto n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        closed.push_back(i);
        continue;
      }
      c.buffer.append(buf, static_cast<std::size_t>(n));
      bool keep = true;
      std::size_t nl;
      while (keep && (nl = c.buffer.find('\n')) != std::string::npos) {
        std::string line = c.buffer.substr(0, nl);
        c.buffer.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') {
          line.pop_back();
        }
        if (line == "quit") {
          send_all(c.fd, "ok bye\n");
          keep = false;
          break;
        }
        log(log_level::debug, "control " + c.peer + ": " + line);
        const auto reply = on_line_(line) + "\n";
        keep = send_all(c.fd, reply);
      }
      if (keep && c.buffer.size() > max_line_bytes) {
        send_all(c.fd, "error line too long\n");
        keep = false;
      }
      if (!keep) {
        closed.push_back(i);
      }
    }
    for (auto it = closed.rbegin(); it != closed.rend(); ++it) {
      ::close(clients[*it].fd);
      clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    if ((fds[1].revents & POLLIN) != 0) {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
      if (fd >= 0) {
        char host[INET_ADDRSTRLEN] = "?";
        ::inet_ntop(AF_INET, &peer.sin_addr, host, sizeof host);
        clients.push_back({fd, std::string(host) + ":" + std::to_string(ntohs(peer.sin_port)), {}});
      }
    }
  }
  for (const auto& c : clients) {
    ::close(c.fd);
  }
}

}  // namespace kafka_dev
