// Room events of SPEC §13: the event kinds, attachments, replies, forwards, history state, and
// the client commands that make them (edit, delete, react, send with a file or a reply).
#include <chat/proto/commands.hpp>
#include <chat/proto/message.hpp>

#include "test_support.hpp"

using namespace chat::proto;
using chat::proto::test::fails_with;
using chat::proto::test::reparse;

namespace {

constexpr std::int64_t created = 1'795'262'400'123;  // 2026-11-21T12:00:00.123Z
constexpr const char* key = "3b241101-e2bb-4255-8caf-4136c566a962";
constexpr const char* file_url = "/api/files/0f8fad5b-d9cb-469f-a165-70867728950e";

chat_message event(event_kind kind) {
  chat_message m;
  m.id = 99;
  m.event = kind;
  m.message_key = key;
  m.room_id = 42;
  m.sender_id = 7;
  m.sender_nickname = "alice";
  m.target_id = 5;
  m.created_at_ms = created;
  return m;
}

file_attachment picture() { return {file_url, "cat.png", 1234, "image/png", 640, 480}; }

chat_message roundtrip(const chat_message& m) {
  chat_message out;
  const auto error = parse_chat_message(to_json(m), out);
  EXPECT_FALSE(error) << error.field << ": " << error.message;
  return out;
}

validation_error parse(const std::string& json) {
  chat_message out;
  return parse_chat_message(json, out);
}

}  // namespace

TEST(EventKind, NamesRoundTripAndUnknownNamesAreRefused) {
  for (auto kind : {event_kind::message, event_kind::edited, event_kind::deleted, event_kind::reaction_added,
                    event_kind::reaction_removed, event_kind::pinned, event_kind::unpinned, event_kind::preview,
                    event_kind::room_updated, event_kind::member_joined, event_kind::member_left,
                    event_kind::member_removed, event_kind::member_role, event_kind::room_deleted}) {
    EXPECT_EQ(parse_event_kind(to_string(kind)), kind);
  }
  EXPECT_EQ(to_string(event_kind::preview), "message.preview");
  EXPECT_EQ(to_string(event_kind::edited), "message.edited");
  EXPECT_EQ(to_string(event_kind::reaction_removed), "reaction.removed");
  EXPECT_EQ(to_string(event_kind::member_role), "member.role");
  EXPECT_EQ(parse_event_kind("Message.Edited"), std::nullopt);
  EXPECT_EQ(parse_event_kind("room.created"), std::nullopt);
}

TEST(RoomEvent, APlainMessageHasNoEventMember) {
  chat_message m = event(event_kind::message);
  m.target_id = 0;
  m.content = "hi";
  EXPECT_EQ(to_json(m).find("\"event\""), std::string::npos);
  EXPECT_EQ(roundtrip(m), m);
}

TEST(RoomEvent, AnEditSerializesItsShapeAndRoundTrips) {
  chat_message m = event(event_kind::edited);
  m.content = "fixed";
  EXPECT_EQ(to_json(m), R"({"id":99,"event":"message.edited","messageKey":"3b241101-e2bb-4255-8caf-4136c566a962",)"
                        R"("roomId":42,"senderId":7,"senderNickname":"alice","targetId":5,"content":"fixed",)"
                        R"("createdAt":"2026-11-21T12:00:00.123Z"})");
  EXPECT_EQ(roundtrip(m), m);
}

TEST(RoomEvent, EveryKindRoundTrips) {
  for (auto kind : {event_kind::deleted, event_kind::pinned, event_kind::unpinned}) {
    const chat_message m = event(kind);
    EXPECT_EQ(roundtrip(m), m) << to_string(kind);
    EXPECT_FALSE(reparse(to_json(m)).contains("content"));
  }
  for (auto kind : {event_kind::reaction_added, event_kind::reaction_removed}) {
    chat_message m = event(kind);
    m.emoji = "\xF0\x9F\x91\x8D";  // 👍
    EXPECT_EQ(roundtrip(m), m) << to_string(kind);
    EXPECT_EQ(reparse(to_json(m))["emoji"], m.emoji);
  }
}

TEST(RoomEvent, EventsNeedTheirMembers) {
  auto edit = reparse(to_json(event(event_kind::edited)));
  edit["content"] = "x";
  auto without = [](nlohmann::json j, const char* name) {
    j.erase(name);
    return j.dump();
  };
  EXPECT_FALSE(parse(edit.dump()));
  EXPECT_TRUE(fails_with(parse(without(edit, "targetId")), errc::missing_field, "targetId"));
  EXPECT_TRUE(fails_with(parse(without(edit, "content")), errc::missing_field, "content"));
  edit["content"] = "  ";
  EXPECT_TRUE(fails_with(parse(edit.dump()), errc::bad_length, "content"));
  edit["targetId"] = -1;
  EXPECT_TRUE(fails_with(parse(edit.dump()), errc::out_of_range, "targetId"));

  auto react = reparse(to_json(event(event_kind::reaction_added)));
  EXPECT_TRUE(fails_with(parse(react.dump()), errc::bad_length, "emoji"));  // ""
  react["emoji"] = "a b";
  EXPECT_TRUE(fails_with(parse(react.dump()), errc::bad_characters, "emoji"));

  auto unknown = reparse(to_json(event(event_kind::deleted)));
  unknown["event"] = "message.exploded";
  EXPECT_TRUE(fails_with(parse(unknown.dump()), errc::bad_format, "event"));
  unknown["event"] = 3;
  EXPECT_TRUE(fails_with(parse(unknown.dump()), errc::wrong_type, "event"));
}

TEST(Emoji, OneToEightScalarValuesWithoutWhitespace) {
  EXPECT_FALSE(check_emoji("\xF0\x9F\x91\x8D"));                                 // 👍
  EXPECT_FALSE(check_emoji("+1"));                                               // plain text is allowed
  EXPECT_FALSE(check_emoji("\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB"));     // 👩‍💻 (ZWJ sequence, 3)
  EXPECT_FALSE(check_emoji("12345678"));                                         // 8
  EXPECT_TRUE(fails_with(check_emoji("123456789"), errc::bad_length, "emoji"));  // 9
  EXPECT_TRUE(fails_with(check_emoji(""), errc::bad_length, "emoji"));
  EXPECT_TRUE(fails_with(check_emoji(" "), errc::bad_characters, "emoji"));
  EXPECT_TRUE(fails_with(check_emoji("a\tb"), errc::bad_characters, "emoji"));
  EXPECT_TRUE(fails_with(check_emoji("\xC2\xA0"), errc::bad_characters, "emoji"));      // NBSP
  EXPECT_TRUE(fails_with(check_emoji("\xE3\x80\x80"), errc::bad_characters, "emoji"));  // ideographic space
  EXPECT_TRUE(fails_with(check_emoji("\xE2\x80\xAE"), errc::bad_characters, "emoji"));  // RLO
  EXPECT_TRUE(fails_with(check_emoji(std::string("a\0", 2)), errc::bad_characters, "emoji"));
  EXPECT_TRUE(fails_with(check_emoji("\xFF"), errc::bad_characters, "emoji"));
  EXPECT_TRUE(fails_with(check_emoji("", "path"), errc::bad_length, "path"));
}

TEST(Attachment, UrlsAreHttpsOrOurFiles) {
  file_attachment a = picture();
  EXPECT_FALSE(check_attachment(a));
  a.url = "/api/files/0F8FAD5B-D9CB-469F-A165-70867728950E";
  EXPECT_FALSE(check_attachment(a));
  EXPECT_EQ(a.url, file_url);  // normalized
  EXPECT_EQ(attachment_file_id(file_url), "0f8fad5b-d9cb-469f-a165-70867728950e");
  EXPECT_EQ(attachment_file_id("https://example.com/a.png"), std::nullopt);
  a.url = "https://cdn.example.com/a.png";
  EXPECT_FALSE(check_attachment(a));
  for (const char* bad : {"http://example.com/a.png", "javascript:alert(1)", "https://", "/api/files/../etc",
                          "https://a b", "ftp://x", "/api/files/1"}) {
    a.url = bad;
    EXPECT_TRUE(check_attachment(a)) << bad;
  }
  a = picture();
  a.mime_type = "Image/PNG";
  EXPECT_FALSE(check_attachment(a));
  EXPECT_EQ(a.mime_type, "image/png");
  for (const char* bad : {"", "image", "/png", "image/", "image/png; charset=x", "text/html\n"}) {
    a.mime_type = bad;
    EXPECT_TRUE(fails_with(check_attachment(a), errc::bad_format, "attachment.mimeType")) << bad;
  }
  a = picture();
  a.name = " ";
  EXPECT_TRUE(fails_with(check_attachment(a), errc::bad_length, "attachment.name"));
  a.name = "evil\xE2\x80\xAEgnp.exe";
  EXPECT_TRUE(fails_with(check_attachment(a), errc::bad_characters, "attachment.name"));
}

TEST(RoomEvent, AnImageWithReplyAndForwardRoundTrips) {
  chat_message m = event(event_kind::message);
  m.target_id = 0;
  m.type = message_type::image;
  m.content = "";  // no caption
  m.attachment = picture();
  m.reply_to_id = 3;
  m.thread_root_id = 1;
  m.forwarded_from = forward_origin{9, 12, "bob"};
  const auto j = reparse(to_json(m));
  EXPECT_EQ(j["type"], "IMAGE");
  EXPECT_EQ(j["attachment"]["mimeType"], "image/png");
  EXPECT_EQ(j["attachment"]["width"], 640);
  EXPECT_EQ(j["forwardedFrom"]["senderNickname"], "bob");
  EXPECT_EQ(j["threadRootId"], 1);
  EXPECT_EQ(roundtrip(m), m);
}

TEST(RoomEvent, AttachmentsBelongToImagesAndFiles) {
  chat_message m = event(event_kind::message);
  m.target_id = 0;
  m.type = message_type::file;
  m.attachment = picture();
  auto j = reparse(to_json(m));
  j.erase("attachment");
  EXPECT_TRUE(fails_with(parse(j.dump()), errc::missing_field, "attachment"));
  m.type = message_type::text;
  j = reparse(to_json(m));
  EXPECT_TRUE(fails_with(parse(j.dump()), errc::not_allowed, "attachment"));
  j.erase("attachment");
  j["threadRootId"] = 4;
  EXPECT_TRUE(fails_with(parse(j.dump()), errc::missing_field, "replyToId"));
}

TEST(RoomEvent, HistoryStateRoundTrips) {
  chat_message m = event(event_kind::message);
  m.target_id = 0;
  m.content = "hello";
  m.state = message_state{};
  auto j = reparse(to_json(m));
  EXPECT_TRUE(j["editedAt"].is_null());
  EXPECT_EQ(j["deleted"], false);
  EXPECT_EQ(j["reactions"], nlohmann::json::array());
  EXPECT_EQ(roundtrip(m), m);

  m.state->edited_at_ms = created + 1000;
  m.state->pinned = true;
  m.state->reply_count = 4;
  m.state->last_reply_at_ms = created + 2000;
  m.state->reactions = {{"\xF0\x9F\x91\x8D", 3, true}, {"+1", 1, false}};
  EXPECT_EQ(roundtrip(m), m);

  // A deleted IMAGE lost its attachment and is still a valid history item.
  m.type = message_type::image;
  m.content.clear();
  m.state = message_state{};
  m.state->deleted = true;
  EXPECT_EQ(roundtrip(m), m);
}

TEST(SendRequest, TakesTypeReplyAndAttachment) {
  send_request r;
  EXPECT_FALSE(parse_send_request(
      R"({"roomId":1,"type":"IMAGE","attachment":{"url":")" + std::string(file_url) + R"("},"replyToId":8})", r));
  EXPECT_EQ(r.type, message_type::image);
  EXPECT_EQ(r.reply_to_id, 8);
  ASSERT_TRUE(r.attachment);
  EXPECT_EQ(r.attachment->url, file_url);
  EXPECT_EQ(r.content, "");
  send_request back;
  EXPECT_FALSE(parse_send_request(to_json(r), back));
  EXPECT_EQ(back, r);

  EXPECT_TRUE(fails_with(parse_send_request(R"({"roomId":1,"type":"FILE","content":"x"})", r), errc::missing_field,
                         "attachment"));
  EXPECT_TRUE(fails_with(parse_send_request(R"({"roomId":1,"content":"x","attachment":{"url":"https://a/b"}})", r),
                         errc::not_allowed, "attachment"));
  EXPECT_TRUE(
      fails_with(parse_send_request(R"({"roomId":1,"type":"FILE","attachment":{"url":"https://a.example/b"}})", r),
                 errc::missing_field, "attachment"));
  EXPECT_FALSE(parse_send_request(
      R"({"roomId":1,"type":"FILE","attachment":{"url":"https://a.example/b","name":"b.pdf","size":3,"mimeType":"application/pdf"}})",
      r));
  EXPECT_TRUE(
      fails_with(parse_send_request(R"({"roomId":1,"type":"SYSTEM","content":"x"})", r), errc::not_allowed, "type"));
  EXPECT_TRUE(fails_with(parse_send_request(R"({"roomId":1,"content":"x","replyToId":0})", r), errc::out_of_range,
                         "replyToId"));
}

TEST(Commands, EditDeleteReactRoundTripAndValidate) {
  edit_request e{4, 9, "new text", std::string(key)};
  edit_request e2;
  EXPECT_FALSE(parse_edit_request(to_json(e), e2));
  EXPECT_EQ(e2, e);
  EXPECT_TRUE(
      fails_with(parse_edit_request(R"({"roomId":4,"targetId":9,"content":" "})", e2), errc::bad_length, "content"));
  EXPECT_TRUE(fails_with(parse_edit_request(R"({"roomId":4,"content":"x"})", e2), errc::missing_field, "targetId"));

  delete_request d{4, 9, std::nullopt, true};
  delete_request d2;
  EXPECT_FALSE(parse_delete_request(to_json(d), d2));
  EXPECT_EQ(d2, d);
  EXPECT_TRUE(
      fails_with(parse_delete_request(R"({"roomId":4,"targetId":9,"forMe":"yes"})", d2), errc::wrong_type, "forMe"));

  react_request r{4, 9, "\xF0\x9F\x8E\x89", true, std::nullopt};
  react_request r2;
  EXPECT_FALSE(parse_react_request(to_json(r), r2));
  EXPECT_EQ(r2, r);
  EXPECT_TRUE(fails_with(parse_react_request(R"({"roomId":4,"targetId":9,"emoji":"too long emoji"})", r2),
                         errc::bad_characters, "emoji"));
  EXPECT_TRUE(fails_with(parse_react_request(R"({"roomId":4,"targetId":9,"emoji":"abcdefghi"})", r2), errc::bad_length,
                         "emoji"));
}

namespace {

link_preview example_preview() {
  return {"https://example.com/a?b=1", "A \"title\"", "Some description", "https://example.com/i.png", "Example"};
}

}  // namespace

TEST(LinkPreview, APreviewEventSerializesItsShapeAndRoundTrips) {
  chat_message m = event(event_kind::preview);
  m.preview = example_preview();
  EXPECT_EQ(to_json(m),
            R"({"id":99,"event":"message.preview","messageKey":"3b241101-e2bb-4255-8caf-4136c566a962",)"
            R"("roomId":42,"senderId":7,"senderNickname":"alice","targetId":5,)"
            R"("preview":{"url":"https://example.com/a?b=1","title":"A \"title\"","description":"Some description",)"
            R"("imageUrl":"https://example.com/i.png","siteName":"Example"},"createdAt":"2026-11-21T12:00:00.123Z"})");
  EXPECT_EQ(roundtrip(m), m);

  // Empty members are null on the wire and empty again when read back.
  m.preview = link_preview{"http://example.com/", "", "", "", ""};
  const auto j = reparse(to_json(m));
  EXPECT_TRUE(j["preview"]["title"].is_null());
  EXPECT_TRUE(j["preview"]["imageUrl"].is_null());
  EXPECT_EQ(roundtrip(m), m);
}

TEST(LinkPreview, APreviewEventNeedsAValidPreview) {
  chat_message m = event(event_kind::preview);
  m.preview = example_preview();
  auto j = reparse(to_json(m));
  j.erase("preview");
  EXPECT_TRUE(fails_with(parse(j.dump()), errc::missing_field, "preview"));
  j["preview"] = "https://example.com/";
  EXPECT_TRUE(fails_with(parse(j.dump()), errc::wrong_type, "preview"));
  j["preview"] = {{"title", "x"}};
  EXPECT_TRUE(fails_with(parse(j.dump()), errc::missing_field, "preview.url"));
  for (const char* bad : {"javascript:alert(1)", "ftp://example.com/", "https://a b/", "http://", "/relative"}) {
    j["preview"] = {{"url", bad}};
    EXPECT_TRUE(fails_with(parse(j.dump()), errc::bad_format, "preview.url")) << bad;
  }
  j["preview"] = {{"url", "https://example.com/"}, {"imageUrl", "data:image/png;base64,AAAA"}};
  EXPECT_TRUE(fails_with(parse(j.dump()), errc::bad_format, "preview.imageUrl"));
  j["preview"] = {{"url", "https://example.com/"}, {"title", std::string(301, 'x')}};
  EXPECT_TRUE(fails_with(parse(j.dump()), errc::bad_length, "preview.title"));
  j["preview"] = {{"url", "https://example.com/"}, {"siteName", "evil\u202Etxt"}};
  EXPECT_TRUE(fails_with(parse(j.dump()), errc::bad_characters, "preview.siteName"));
  j["preview"] = {{"url", "HTTPS://EXAMPLE.COM/"}, {"title", std::string(300, 'x')}, {"description", nullptr}};
  EXPECT_FALSE(parse(j.dump()));
}

TEST(LinkPreview, HistoryItemsShowThePreviewOrNull) {
  chat_message m = event(event_kind::message);
  m.target_id = 0;
  m.content = "see https://example.com/a?b=1";
  m.state = message_state{};
  EXPECT_TRUE(reparse(to_json(m))["preview"].is_null());
  EXPECT_EQ(roundtrip(m), m);
  m.state->preview = example_preview();
  EXPECT_EQ(reparse(to_json(m))["preview"]["siteName"], "Example");
  EXPECT_EQ(roundtrip(m), m);
  // A live message (no state) has no preview member at all.
  m.state.reset();
  EXPECT_FALSE(reparse(to_json(m)).contains("preview"));
}

TEST(LinkPreview, ClientsCannotSendAPreviewOrAnotherEventThroughASend) {
  send_request r;
  EXPECT_TRUE(fails_with(parse_send_request(R"({"roomId":1,"content":"x","event":"message.preview","targetId":3,)"
                                            R"("preview":{"url":"https://example.com/"}})",
                                            r),
                         errc::not_allowed, "event"));
  EXPECT_TRUE(
      fails_with(parse_send_request(R"({"roomId":1,"content":"x","preview":{"url":"https://example.com/"}})", r),
                 errc::not_allowed, "preview"));
  EXPECT_TRUE(fails_with(parse_send_request(R"({"roomId":1,"content":"x","event":"message.edited"})", r),
                         errc::not_allowed, "event"));
  EXPECT_FALSE(parse_send_request(R"({"roomId":1,"content":"x","event":"message"})", r));
  EXPECT_TRUE(fails_with(parse_room_send_body(R"({"content":"x","preview":{"url":"https://example.com/"}})", 1, r),
                         errc::not_allowed, "preview"));
}
