#include "core/config_file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

namespace chatctl {
namespace {

namespace fs = std::filesystem;

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/chatctl-config-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ / "chatctl" / "config.json";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }

  void write(const std::string& text) {
    fs::create_directories(path_.parent_path());
    std::ofstream(path_) << text;
  }

  fs::path dir_;
  fs::path path_;
};

TEST_F(ConfigFile, MissingFileIsEmpty) {
  const auto c = config_file::load(path_);
  EXPECT_FALSE(c.get("default").has_value());
  EXPECT_TRUE(c.names().empty());
  EXPECT_FALSE(fs::exists(path_)) << "loading must not create the file";
}

TEST_F(ConfigFile, RoundTrip) {
  auto c = config_file::load(path_);
  c.put("default", profile{"http://h:8080", "tok", "crt_refresh", 7, "ann@example.com", "ann"});
  c.put("prod", profile{"http://prod:80", "", "", 0, "", ""});
  c.save();
  const auto again = config_file::load(path_);
  const auto p = again.get("default");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->server, "http://h:8080");
  EXPECT_EQ(p->token, "tok");
  EXPECT_EQ(p->refresh_token, "crt_refresh");
  EXPECT_EQ(p->user_id, 7);
  EXPECT_EQ(p->email, "ann@example.com");
  EXPECT_EQ(p->nickname, "ann");
  EXPECT_EQ(again.get("prod")->token, "");
  EXPECT_EQ(again.names(), (std::vector<std::string>{"default", "prod"}));
}

TEST_F(ConfigFile, WrittenWithMode0600WhateverTheUmask) {
  const auto old = ::umask(0);
  auto c = config_file::load(path_);
  c.put("default", profile{"http://h:1", "secret-token", "", 1, "", ""});
  c.save();
  ::umask(old);
  EXPECT_EQ(mode_of(path_), 0600u);
  EXPECT_EQ(mode_of(path_.parent_path()), 0700u);
  EXPECT_EQ(c.loose_permissions(), 0u);
}

TEST_F(ConfigFile, RewritingTightensALooseFile) {
  write(R"({"profiles":{}})");
  ::chmod(path_.c_str(), 0644);
  auto c = config_file::load(path_);
  EXPECT_EQ(c.loose_permissions(), 0044u);
  c.put("default", profile{"http://h:1", "t", "", 1, "", ""});
  c.save();
  EXPECT_EQ(mode_of(path_), 0600u);
  EXPECT_EQ(c.loose_permissions(), 0u);
}

TEST_F(ConfigFile, NoTemporaryFilesAreLeftBehind) {
  auto c = config_file::load(path_);
  for (int i = 0; i < 3; ++i) {
    c.put("default", profile{"http://h:1", "t" + std::to_string(i), "", 1, "", ""});
    c.save();
  }
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(path_.parent_path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(ConfigFile, UnknownMembersSurviveARewrite) {
  write(R"({"future":{"x":1},"profiles":{"default":{"server":"http://h:1","color":"auto"}}})");
  auto c = config_file::load(path_);
  c.put("default", profile{"http://h:2", "t", "", 3, "", ""});
  c.save();
  std::ifstream in(path_);
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["future"]["x"], 1);
  EXPECT_EQ(j["profiles"]["default"]["color"], "auto");
  EXPECT_EQ(j["profiles"]["default"]["server"], "http://h:2");
}

TEST_F(ConfigFile, ClearingATokenRemovesIt) {
  auto c = config_file::load(path_);
  c.put("default", profile{"http://h:1", "t", "", 3, "a@b.cd", "a"});
  c.put("default", profile{"http://h:1", "", "", 3, "a@b.cd", "a"});
  c.save();
  std::ifstream in(path_);
  const auto j = nlohmann::json::parse(in);
  EXPECT_FALSE(j["profiles"]["default"].contains("token"));
  EXPECT_TRUE(c.erase("default"));
  EXPECT_FALSE(c.erase("default"));
}

TEST_F(ConfigFile, MalformedFileIsAnError) {
  write("{not json");
  EXPECT_THROW(config_file::load(path_), config_error);
  write("[1,2]");
  EXPECT_THROW(config_file::load(path_), config_error);
  write(R"({"profiles":[]})");
  EXPECT_THROW(config_file::load(path_), config_error);
}

TEST_F(ConfigFile, EmptyFileIsEmpty) {
  write("\n");
  EXPECT_TRUE(config_file::load(path_).names().empty());
}

TEST_F(ConfigFile, WrongTypesAreIgnored) {
  write(R"({"profiles":{"default":{"server":5,"token":"t","userId":"7"}}})");
  const auto p = config_file::load(path_).get("default");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->server, "");
  EXPECT_EQ(p->token, "t");
  EXPECT_EQ(p->user_id, 0);
}

TEST_F(ConfigFile, UnwritableLocationIsAnError) {
  // A regular file where the directory should be: refused even for root.
  std::ofstream(path_.parent_path()) << "x";
  auto c = config_file::load(path_);
  c.put("default", profile{"http://h:1", "t", "", 1, "", ""});
  EXPECT_THROW(c.save(), config_error);
}

TEST_F(ConfigFile, ADirectoryInTheWayIsAnError) {
  fs::create_directories(path_);
  EXPECT_THROW(config_file::load(path_), config_error);
}

TEST(ConfigPath, XdgConfigHomeWins) {
  EXPECT_EQ(config_path_from("/x/cfg", "/home/ann"), fs::path("/x/cfg/chatctl/config.json"));
}

TEST(ConfigPath, HomeDotConfigOtherwise) {
  EXPECT_EQ(config_path_from(nullptr, "/home/ann"), fs::path("/home/ann/.config/chatctl/config.json"));
  EXPECT_EQ(config_path_from("", "/home/ann"), fs::path("/home/ann/.config/chatctl/config.json"));
  // A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored.
  EXPECT_EQ(config_path_from("rel/cfg", "/home/ann"), fs::path("/home/ann/.config/chatctl/config.json"));
}

TEST(ConfigPath, NothingUsable) {
  EXPECT_FALSE(config_path_from(nullptr, nullptr).has_value());
  EXPECT_FALSE(config_path_from("", "").has_value());
}

}  // namespace
}  // namespace chatctl
