#pragma once
// The one way unit tests wait for something other threads make true: poll with a deadline,
// never a fixed sleep as synchronisation.
#include <chrono>
#include <thread>

namespace chat::test {

// Polls `done` every `poll` until it returns true (-> true) or `timeout` passes (-> false).
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                std::chrono::milliseconds poll = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace chat::test
