#pragma once
// Argon2 in a child process of its own (docs/operations.md "Unauthenticated work").
//
// Why a process, not just a low-priority thread: libsodium maps and unmaps Argon2's memory
// (64 MiB at the interactive cost) for every hash. In chatd's own address space every
// munmap takes the address-space lock for writing and shoots down the TLBs of every chatd
// thread; a hashing thread at SCHED_IDLE that is preempted while it holds that lock stalls
// each I/O thread that page-faults until the CPU is idle again (priority inversion).
// Measured on a 2-core node, 1,000 msg/s beside a 64-client login flood: delivery p50
// 13 ms -> 94 ms with the hashing thread inside chatd; 13 ms with the same hashing at
// SCHED_IDLE in another process. So each password worker drives one child, a second chatd
// process started as `chatd --internal-password-hasher` (the same binary: no install step)
// at SCHED_IDLE, over a SOCK_SEQPACKET socketpair: one request, one answer, in order.
//
// The child exits when its socket closes (the worker stopped, or chatd died: the kernel
// closes the socket; PR_SET_PDEATHSIG too) and ignores SIGINT/SIGTERM, so a graceful stop
// of chatd finishes the hashes in flight. A child that dies is started again for the next
// request; when it cannot be (no executable), the caller hashes in its own thread.
#include <chat/auth/password.hpp>

#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace chat::chatd::api {

// argv[1] of a hasher child; its socket is file descriptor hasher_child_fd.
inline constexpr std::string_view hasher_child_flag = "--internal-password-hasher";
inline constexpr int hasher_child_fd = 3;

// The child's main(): answers requests on `fd` until it closes. Returns the exit status.
int run_hasher_child(int fd);

// One child, driven by one thread at a time (a password worker). Not thread-safe.
class hasher_process {
 public:
  // `executable`: the chatd binary ("/proc/self/exe"). Nothing starts before the first call.
  explicit hasher_process(std::string executable);
  ~hasher_process();  // closes the socket and reaps the child
  hasher_process(const hasher_process&) = delete;
  hasher_process& operator=(const hasher_process&) = delete;

  // As auth::hash_password / auth::verify_password, computed by the child. The outer
  // nullopt: the child could not answer, even after one restart (the caller decides).
  std::optional<std::optional<std::string>> hash(std::string_view password, auth::password_cost cost);
  std::optional<bool> verify(std::string_view stored_hash, std::string_view password);

  // The child's pid, or -1 when none runs (tests).
  pid_t pid() const noexcept { return pid_; }

 private:
  // Sends `request`, reads the answer into `answer`; one restart of a child that died.
  bool call(const std::string& request, std::string& answer);
  bool start();
  void stop();

  const std::string executable_;
  int fd_ = -1;
  pid_t pid_ = -1;
};

}  // namespace chat::chatd::api
