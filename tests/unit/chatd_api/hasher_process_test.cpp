// Argon2 in a child process (api/hasher_process.hpp), driven against the chatd binary of
// this build (CHATD_BINARY): the child hashes and verifies, one that dies is replaced, none
// outlives its owner, and a pool without a usable child hashes in its own worker.
#include "api/hasher_process.hpp"
#include "api/password_pool.hpp"

#include <chat/auth/password.hpp>
#include <chat_test/eventually.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <optional>
#include <string>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

using chat::auth::password_cost;
using chat::chatd::api::hasher_process;
using chat::chatd::api::password_pool;
using chat::test::eventually;

namespace {

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0; }

TEST(HasherProcess, HashesAndVerifiesInAChildOfItsOwn) {
  hasher_process hasher(CHATD_BINARY);
  EXPECT_EQ(hasher.pid(), -1) << "nothing starts before the first request";
  const auto hash = hasher.hash("correct horse", password_cost::minimum());
  ASSERT_TRUE(hash.has_value()) << "the child did not answer";
  ASSERT_TRUE(hash->has_value());
  EXPECT_GT(hasher.pid(), 0);
  EXPECT_NE(hasher.pid(), ::getpid());
  EXPECT_TRUE(chat::auth::verify_password(**hash, "correct horse")) << "a hash libsodium accepts";
  EXPECT_EQ(hasher.verify(**hash, "correct horse"), std::optional<bool>(true));
  EXPECT_EQ(hasher.verify(**hash, "wrong horse"), std::optional<bool>(false));
  EXPECT_EQ(hasher.verify("not a hash", "correct horse"), std::optional<bool>(false));
  // An empty password and one with a NUL byte travel intact.
  const auto odd = hasher.hash(std::string("a\0b", 3), password_cost::minimum());
  ASSERT_TRUE(odd && *odd);
  EXPECT_EQ(hasher.verify(**odd, std::string("a\0b", 3)), std::optional<bool>(true));
  EXPECT_EQ(hasher.verify(**odd, "a"), std::optional<bool>(false));
}

TEST(HasherProcess, AChildThatDiedIsReplacedAndNoneOutlivesItsOwner) {
  pid_t last = -1;
  {
    hasher_process hasher(CHATD_BINARY);
    const auto first = hasher.hash("pw", password_cost::minimum());
    ASSERT_TRUE(first && *first);
    const pid_t killed = hasher.pid();
    ASSERT_EQ(::kill(killed, SIGKILL), 0);
    EXPECT_EQ(hasher.verify(**first, "pw"), std::optional<bool>(true)) << "answered by a new child";
    EXPECT_NE(hasher.pid(), killed);
    EXPECT_FALSE(process_exists(killed)) << "the dead child was reaped";
    last = hasher.pid();
    ASSERT_TRUE(process_exists(last));
  }
  EXPECT_FALSE(process_exists(last)) << "the child ended and was reaped with its owner";
}

TEST(HasherProcess, NoExecutableMeansNoAnswer) {
  hasher_process hasher("/nonexistent/chatd");
  EXPECT_FALSE(hasher.hash("pw", password_cost::minimum()).has_value());
  EXPECT_FALSE(hasher.verify("x", "pw").has_value());
}

TEST(HasherProcess, PoolWorkersHashThroughTheirChildOrThemselves) {
  for (const char* executable : {CHATD_BINARY, "/nonexistent/chatd"}) {
    password_pool pool(1, 4, executable);
    pool.start();
    std::atomic<int> verified{0};
    ASSERT_TRUE(pool.submit([&] {
      const auto hash = password_pool::hash_password("pw", password_cost::minimum());
      if (hash && password_pool::verify_password(*hash, "pw") && !password_pool::verify_password(*hash, "no")) {
        ++verified;
      }
    }));
    pool.stop();
    EXPECT_EQ(verified.load(), 1) << executable;
  }
}

}  // namespace
