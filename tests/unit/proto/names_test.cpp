#include <chat/proto/names.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

using namespace chat::proto;

TEST(Names, KafkaTopicsAndGroups) {
  EXPECT_EQ(topics::messages, "chat.messages");
  EXPECT_EQ(topics::read_receipts, "chat.read-receipts");
  EXPECT_EQ(topics::messages_dlt, "chat.messages.dlt");
  EXPECT_EQ(topics::read_receipts_dlt, "chat.read-receipts.dlt");
  EXPECT_EQ(dlt_topic_for(topics::messages), topics::messages_dlt);
  EXPECT_EQ(dlt_topic_for(topics::read_receipts), topics::read_receipts_dlt);
  EXPECT_EQ(topic_of_dlt(topics::messages_dlt), topics::messages);
  EXPECT_EQ(topic_of_dlt("chat.messages"), std::nullopt);
  EXPECT_EQ(topic_of_dlt(".dlt"), std::nullopt);

  EXPECT_EQ(consumer_groups::persistence, "chat-persistence");
  EXPECT_EQ(consumer_groups::broadcast, "chat-broadcast");
  EXPECT_EQ(consumer_groups::read_receipts, "chat-read-receipts");
  EXPECT_EQ(consumer_groups::dlt_replay, "dlt-replay");
}

TEST(Names, KafkaHeaders) {
  EXPECT_EQ(kafka_headers::message_key, "message-key");
  EXPECT_EQ(kafka_headers::sent_at, "sent-at");
  EXPECT_EQ(kafka_headers::origin_node, "origin-node");
  for (std::string_view name :
       {kafka_headers::dlt_original_topic, kafka_headers::dlt_original_partition, kafka_headers::dlt_original_offset,
        kafka_headers::dlt_original_timestamp, kafka_headers::dlt_consumer_group, kafka_headers::dlt_exception_class,
        kafka_headers::dlt_exception_message, kafka_headers::dlt_attempts, kafka_headers::dlt_failed_at,
        kafka_headers::dlt_replayed_from, kafka_headers::dlt_replay_count, kafka_headers::dlt_replayed_at}) {
    EXPECT_TRUE(name.starts_with(kafka_headers::dlt_prefix)) << name;
  }
  EXPECT_EQ(kafka_headers::dlt_original_topic, "dlt-original-topic");
  EXPECT_EQ(kafka_headers::dlt_failed_at, "dlt-failed-at");
  EXPECT_EQ(kafka_headers::dlt_replayed_from, "dlt-replayed-from");
  EXPECT_TRUE(spring_dlt_headers::original_topic.starts_with(spring_dlt_headers::prefix));
  EXPECT_TRUE(connect_dlt_headers::original_topic.starts_with(connect_dlt_headers::prefix));
}

TEST(Names, RedisKeysAndChannels) {
  EXPECT_EQ(room_channel(42), "chat:room:42");
  EXPECT_EQ(redis_names::presence_channel, "chat:presence");
  EXPECT_EQ(presence_key(7), "user:presence:7");
  EXPECT_EQ(unread_key(42, 7), "unread:42:7");
  EXPECT_EQ(unread_key(INT64_MAX, INT64_MAX), "unread:9223372036854775807:9223372036854775807");
  EXPECT_EQ(parse_room_channel("chat:room:42"), 42);
  EXPECT_EQ(parse_room_channel(room_channel(INT64_MAX)), INT64_MAX);
  EXPECT_EQ(parse_room_channel("chat:room:"), std::nullopt);
  EXPECT_EQ(parse_room_channel("chat:room:042"), std::nullopt);
  EXPECT_EQ(parse_room_channel("chat:presence"), std::nullopt);
  EXPECT_EQ(parse_room_channel("chat:room:4:2"), std::nullopt);
  EXPECT_EQ(user_channel(7), "chat:user:7");
  EXPECT_EQ(parse_user_channel("chat:user:7"), 7);
  EXPECT_EQ(parse_user_channel("chat:user:07"), std::nullopt);
  EXPECT_EQ(parse_user_channel("chat:room:7"), std::nullopt);
}

TEST(Names, DestinationBuilders) {
  EXPECT_EQ(room_destination(5), "/topic/room.5");
  EXPECT_EQ(room_typing_destination(5), "/topic/room.5.typing");
  EXPECT_EQ(room_destination(INT64_MAX), "/topic/room.9223372036854775807");
}

namespace {
std::optional<destination> room_dest(std::int64_t id) { return destination{destination_kind::room, id}; }
std::optional<destination> typing(std::int64_t id) { return destination{destination_kind::room_typing, id}; }
std::optional<destination> fixed(destination_kind kind) { return destination{kind, 0}; }
}  // namespace

TEST(Names, ParsesEveryDestination) {
  const struct {
    const char* text;
    std::optional<destination> expected;
  } cases[] = {
      {"/topic/room.1", room_dest(1)},
      {"/topic/room.42", room_dest(42)},
      {"/topic/room.9223372036854775807", room_dest(INT64_MAX)},
      {"/topic/room.42.typing", typing(42)},
      {"/topic/presence", fixed(destination_kind::presence)},
      {"/user/queue/errors", fixed(destination_kind::user_errors)},
      {"/app/chat.send", fixed(destination_kind::app_send)},
      {"/app/chat.read", fixed(destination_kind::app_read)},
      {"/app/chat.typing", fixed(destination_kind::app_typing)},
      {"/app/chat.edit", fixed(destination_kind::app_edit)},
      {"/app/chat.delete", fixed(destination_kind::app_delete)},
      {"/app/chat.react", fixed(destination_kind::app_react)},
      {"/user/queue/notifications", fixed(destination_kind::user_notifications)},
      {"/app/chat.edit/", std::nullopt},
      {"/user/queue/notification", std::nullopt},
      // Invalid room ids.
      {"/topic/room.0", std::nullopt},
      {"/topic/room.-1", std::nullopt},
      {"/topic/room.+1", std::nullopt},
      {"/topic/room.01", std::nullopt},
      {"/topic/room.00", std::nullopt},
      {"/topic/room.9223372036854775808", std::nullopt},
      {"/topic/room.99999999999999999999", std::nullopt},
      {"/topic/room.", std::nullopt},
      {"/topic/room", std::nullopt},
      {"/topic/room. 5", std::nullopt},
      {"/topic/room.5 ", std::nullopt},
      {"/topic/room.0x10", std::nullopt},
      {"/topic/room.1e3", std::nullopt},
      {"/topic/room.five", std::nullopt},
      // Typing variants.
      {"/topic/room.5.typingx", std::nullopt},
      {"/topic/room.5.typing.typing", std::nullopt},
      {"/topic/room..typing", std::nullopt},
      {"/topic/room.0.typing", std::nullopt},
      {"/topic/room.5.Typing", std::nullopt},
      {"/topic/room.5.", std::nullopt},
      // Near misses of the fixed names.
      {"/topic/presence/", std::nullopt},
      {"/topic/Presence", std::nullopt},
      {"/user/queue/errors2", std::nullopt},
      {"/queue/errors", std::nullopt},
      {"/app/chat.send ", std::nullopt},
      {"/topic/rooms.5", std::nullopt},
      {"topic/room.5", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_destination(c.text), c.expected) << c.text;
  }
  EXPECT_EQ(parse_destination(std::string_view("/topic/room.5\0", 14)), std::nullopt);
}

TEST(Names, FormatIsTheInverseOfParse) {
  for (const char* text : {"/topic/room.1", "/topic/room.77.typing", "/topic/presence", "/user/queue/errors",
                           "/app/chat.send", "/app/chat.read", "/app/chat.typing", "/app/chat.edit", "/app/chat.delete",
                           "/app/chat.react", "/user/queue/notifications"}) {
    const auto parsed = parse_destination(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(format_destination(*parsed), text);
  }
}
