// chatctl's small pure pieces: durations, exit-code mapping, output formatting.
#include "core/duration.hpp"
#include "core/exit_codes.hpp"
#include "core/output.hpp"

#include <chat/client/errc.hpp>

#include <gtest/gtest.h>

#include <sstream>

namespace chatctl {
namespace {

using namespace std::chrono_literals;
namespace client = chat::client;

TEST(Duration, Units) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("10s"), 10s);
  EXPECT_EQ(parse_duration("10"), 10s);
  EXPECT_EQ(parse_duration("1.5"), 1500ms);
  EXPECT_EQ(parse_duration("2m"), 120s);
  EXPECT_EQ(parse_duration("1h"), 3600s);
}

TEST(Duration, Refusals) {
  for (const char* bad : {"", "s", "0", "0s", "-1s", "1x", "1 s", ".5", "5.", "25h", "1e3", "10sec", "0.0001"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(ExitCodes, HttpStatuses) {
  EXPECT_EQ(exit_code_for_status(200), exit_code::ok);
  EXPECT_EQ(exit_code_for_status(204), exit_code::ok);
  EXPECT_EQ(exit_code_for_status(400), exit_code::error);
  EXPECT_EQ(exit_code_for_status(401), exit_code::unauthorized);
  EXPECT_EQ(exit_code_for_status(403), exit_code::forbidden);
  EXPECT_EQ(exit_code_for_status(404), exit_code::not_found);
  EXPECT_EQ(exit_code_for_status(409), exit_code::conflict);
  EXPECT_EQ(exit_code_for_status(413), exit_code::error);
  EXPECT_EQ(exit_code_for_status(429), exit_code::error);
  EXPECT_EQ(exit_code_for_status(500), exit_code::error);
  EXPECT_EQ(exit_code_for_status(503), exit_code::unavailable);
}

TEST(ExitCodes, TransportFailures) {
  client::response r;
  r.error = client::errc::unreachable;
  EXPECT_EQ(exit_code_for(r), exit_code::unavailable);
  r.error = client::errc::timeout;
  EXPECT_EQ(exit_code_for(r), exit_code::unavailable);
  r.error = client::errc::connection_lost;
  EXPECT_EQ(exit_code_for(r), exit_code::unavailable);
  r.error = client::errc::bad_response;
  EXPECT_EQ(exit_code_for(r), exit_code::error);
  r.error = std::make_error_code(std::errc::connection_refused);
  EXPECT_EQ(exit_code_for(r), exit_code::unavailable);
}

TEST(ExitCodes, FailResponseCarriesCodeAndMessage) {
  client::response r;
  r.status = 404;
  r.api = {"not_found", "no such room"};
  try {
    fail_response(r, "room 5", "http://h:1");
    FAIL() << "no exception";
  } catch (const command_error& e) {
    EXPECT_EQ(e.code(), exit_code::not_found);
    EXPECT_NE(std::string(e.what()).find("no such room"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("404"), std::string::npos);
  }
}

TEST(ExitCodes, StompErrorFrames) {
  auto frame = [](const char* message) {
    chat::stomp::frame f;
    f.cmd = chat::stomp::command::error;
    f.headers.push_back({"message", message});
    return std::optional<chat::stomp::frame>(f);
  };
  const std::error_code closed = client::errc::server_error;
  EXPECT_EQ(exit_code_for_stomp(frame("unauthorized"), closed), exit_code::unauthorized);
  EXPECT_EQ(exit_code_for_stomp(frame("forbidden"), closed), exit_code::forbidden);
  EXPECT_EQ(exit_code_for_stomp(frame("server shutting down"), closed), exit_code::unavailable);
  EXPECT_EQ(exit_code_for_stomp(frame("service unavailable"), closed), exit_code::unavailable);
  EXPECT_EQ(exit_code_for_stomp(frame("invalid message"), closed), exit_code::error);
  EXPECT_EQ(exit_code_for_stomp(std::nullopt, client::errc::unreachable), exit_code::unavailable);
  EXPECT_EQ(exit_code_for_stomp(std::nullopt, client::errc::heartbeat_timeout), exit_code::unavailable);
  EXPECT_EQ(exit_code_for_stomp(std::nullopt, client::errc::connection_lost), exit_code::unavailable);
  EXPECT_EQ(exit_code_for_stomp(std::nullopt, client::errc::protocol_error), exit_code::error);
}

TEST(Output, SanitizeMakesControlCharactersVisible) {
  EXPECT_EQ(sanitize("a\tb\nc\r\x1b[31m\x7f"), "a\\tb\\nc\\r\\x1b[31m\\x7f");
  EXPECT_EQ(sanitize("h\xc3\xa9llo"), "h\xc3\xa9llo");
}

TEST(Output, WidthAndTruncation) {
  EXPECT_EQ(display_width("h\xc3\xa9llo"), 5u);
  EXPECT_EQ(truncate_display("abcdef", 10), "abcdef");
  EXPECT_EQ(truncate_display("abcdefghij", 6), "abc...");
  // Never cuts inside a multi-byte sequence.
  EXPECT_EQ(truncate_display("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4), "\xc3\xa9...");
}

TEST(Output, PipedTableIsTabSeparatedWithoutHeader) {
  std::ostringstream os;
  output out(format::table, false, false, os);
  out.table({"ID", "NAME"}, {{"1", "ops"}, {"22", "with\ttab"}});
  EXPECT_EQ(os.str(), "1\tops\n22\twith\\ttab\n");
}

TEST(Output, TerminalTableIsAligned) {
  std::ostringstream os;
  output out(format::table, true, false, os);
  out.table({"ID", "NAME"}, {{"1", "ops"}, {"22", "x"}});
  EXPECT_EQ(os.str(), "ID  NAME\n1   ops\n22  x\n");
}

TEST(Output, ColourOnlyWhenAsked) {
  std::ostringstream plain_os;
  std::ostringstream colour_os;
  output plain(format::table, true, false, plain_os);
  output colour(format::table, true, true, colour_os);
  plain.table({"ID"}, {{"1"}});
  colour.table({"ID"}, {{"1"}});
  EXPECT_EQ(plain_os.str().find('\x1b'), std::string::npos);
  EXPECT_NE(colour_os.str().find("\x1b[1m"), std::string::npos);
}

TEST(Output, StreamedJsonListIsOneValidArray) {
  for (int n : {0, 1, 3}) {
    std::ostringstream os;
    output out(format::json, false, false, os);
    out.begin_list();
    for (int i = 0; i < n; ++i) out.list_item({{"id", i}, {"nested", {{"a", 1}}}});
    out.end_list();
    const auto parsed = nlohmann::json::parse(os.str());
    ASSERT_TRUE(parsed.is_array()) << os.str();
    EXPECT_EQ(parsed.size(), static_cast<std::size_t>(n));
    if (n > 0) {
      EXPECT_EQ(parsed[n - 1]["id"], n - 1);
    }
  }
}

TEST(Output, JsonlIsOneCompactValuePerLine) {
  std::ostringstream os;
  output out(format::jsonl, false, false, os);
  out.list({{{"id", 1}, {"name", "a\nb"}}, {{"id", 2}, {"name", nullptr}}});
  EXPECT_EQ(os.str(), "{\"id\":1,\"name\":\"a\\nb\"}\n{\"id\":2,\"name\":null}\n");
}

TEST(Output, FieldOrderIsKept) {
  std::ostringstream os;
  output out(format::jsonl, false, false, os);
  out.document({{"id", 1}, {"type", "GROUP"}, {"name", "x"}});
  EXPECT_EQ(os.str(), "{\"id\":1,\"type\":\"GROUP\",\"name\":\"x\"}\n");
}

TEST(Output, InvalidUtf8InJsonIsReplacedNotThrown) {
  std::ostringstream os;
  output out(format::jsonl, false, false, os);
  out.document({{"content", std::string("bad \xff byte")}});
  EXPECT_TRUE(nlohmann::json::accept(os.str())) << os.str();
}

TEST(Output, FailedStreamIsAnError) {
  std::ostringstream os;
  os.setstate(std::ios::badbit);
  output out(format::table, false, false, os);
  try {
    out.line("x");
    FAIL() << "no exception";
  } catch (const command_error& e) {
    EXPECT_EQ(e.code(), exit_code::error);
  }
}

TEST(Formats, Parse) {
  EXPECT_EQ(parse_format("table"), format::table);
  EXPECT_EQ(parse_format("json"), format::json);
  EXPECT_EQ(parse_format("jsonl"), format::jsonl);
  EXPECT_FALSE(parse_format("yaml").has_value());
  EXPECT_FALSE(parse_format("JSON").has_value());
}

}  // namespace
}  // namespace chatctl
