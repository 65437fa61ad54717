#include <chat/common/uuid.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using chat::common::is_uuid;
using chat::common::make_uuid_v4;
using chat::common::normalize_uuid;

TEST(Uuid, GeneratesCanonicalVersion4) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = make_uuid_v4();
    ASSERT_EQ(id.size(), 36u);
    ASSERT_TRUE(is_uuid(id)) << id;
    ASSERT_EQ(id, normalize_uuid(id)) << "must be lower case: " << id;
    ASSERT_EQ(id[14], '4') << id;                                          // version nibble
    ASSERT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // variant 10xx
  }
}

TEST(Uuid, GeneratesDistinctValuesAcrossThreads) {
  std::mutex mutex;
  std::set<std::string> seen;
  std::vector<std::thread> threads;
  constexpr int per_thread = 5000;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> local;
      local.reserve(per_thread);
      for (int i = 0; i < per_thread; ++i) local.push_back(make_uuid_v4());
      const std::lock_guard lock(mutex);
      seen.insert(local.begin(), local.end());
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(seen.size(), 4u * per_thread);
}

TEST(Uuid, ForkedChildDoesNotRepeatTheParent) {
  (void)make_uuid_v4();  // fill this thread's pool before forking
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string id = make_uuid_v4();
    const ssize_t written = write(fds[1], id.data(), id.size());
    _exit(written == 36 ? 0 : 1);
  }
  close(fds[1]);
  const std::string parent_id = make_uuid_v4();
  char buffer[36];
  ASSERT_EQ(read(fds[0], buffer, sizeof buffer), 36);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(std::string(buffer, 36), parent_id);
}

TEST(Uuid, AcceptsCanonicalFormInAnyCase) {
  EXPECT_TRUE(is_uuid("3b241101-e2bb-4255-8caf-4136c566a962"));
  EXPECT_TRUE(is_uuid("3B241101-E2BB-4255-8CAF-4136C566A962"));
  EXPECT_TRUE(is_uuid("3b241101-E2bb-4255-8CAF-4136c566a962"));
  EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));  // nil UUID: any version
}

TEST(Uuid, RejectsOtherForms) {
  for (const char* bad : {
           "",
           "3b241101e2bb42558caf4136c566a962",        // no hyphens
           "{3b241101-e2bb-4255-8caf-4136c566a962}",  // braces
           "urn:uuid:3b241101-e2bb-4255-8caf-4136c566a962",
           "3b241101-e2bb-4255-8caf-4136c566a96",    // 35 chars
           "3b241101-e2bb-4255-8caf-4136c566a9622",  // 37 chars
           "3b241101-e2bb-4255-8caf_4136c566a962",   // wrong separator
           "3b2411010e2bb-4255-8caf-4136c566a96",    // hyphen misplaced
           "3b241101-e2bb-4255-8caf-4136c566a96g",   // not hex
           " 3b241101-e2bb-4255-8caf-4136c566a96",
       }) {
    EXPECT_FALSE(is_uuid(bad)) << bad;
  }
  EXPECT_FALSE(is_uuid(std::string_view("3b241101-e2bb-4255-8caf-4136c566a96\0", 36)));
}

TEST(Uuid, NormalizeLowersOnlyLetters) {
  EXPECT_EQ(normalize_uuid("3B241101-E2BB-4255-8CAF-4136C566A962"), "3b241101-e2bb-4255-8caf-4136c566a962");
  EXPECT_EQ(normalize_uuid("3b241101-e2bb-4255-8caf-4136c566a962"), "3b241101-e2bb-4255-8caf-4136c566a962");
}

TEST(Uuid, DerivesTheSameVersion8UuidFromTheSameName) {
  const std::string a = chat::common::make_uuid_v8("message.preview/42");
  EXPECT_TRUE(is_uuid(a)) << a;
  EXPECT_EQ(a, normalize_uuid(a));
  EXPECT_EQ(a[14], '8') << a;
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos) << a;
  EXPECT_EQ(a, chat::common::make_uuid_v8("message.preview/42"));
  EXPECT_NE(a, chat::common::make_uuid_v8("message.preview/43"));
  EXPECT_NE(a, chat::common::make_uuid_v8(""));
}
