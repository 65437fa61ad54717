// Pure parts of the pipeline: record decoding and poison classification, in-batch
// de-duplication, receipt merging, offsets to commit, the failure policy, SQL arrays.
#include "pipeline/failure_policy.hpp"
#include "pipeline/offset_tracker.hpp"
#include "pipeline/records.hpp"
#include "store/sql_util.hpp"

#include <chat/proto/ids.hpp>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <string>

namespace chat::chatd::pipeline {
namespace {

std::string message_json(std::string_view key, std::int64_t room, std::string_view content = "hi",
                         std::string_view extra = "") {
  return std::string(R"({"messageKey":")") + std::string(key) + R"(","roomId":)" + std::to_string(room) +
         R"(,"senderId":7,"senderNickname":"ann","content":")" + std::string(content) +
         R"(","type":"TEXT","createdAt":"2026-11-21T12:00:00.123Z")" + std::string(extra) + "}";
}

constexpr std::string_view key_a = "6f1c2a3e-1b2c-4d5e-8f90-0a1b2c3d4e5f";
constexpr std::string_view key_b = "7f1c2a3e-1b2c-4d5e-8f90-0a1b2c3d4e5f";

TEST(decode_message, takes_the_id_from_the_position_not_from_the_value) {
  message_record m;
  const auto failure = decode_message(4, 3, 1234, message_json(key_a, 42, "hi", R"(,"id":99)"), 4000, m);
  ASSERT_FALSE(failure) << failure->message;
  EXPECT_EQ(m.index, 4U);
  EXPECT_EQ(m.message.id, proto::make_message_id(3, 1234));
  EXPECT_EQ(m.message.id, (std::int64_t{3} << 40) | 1234);
  EXPECT_EQ(m.message.room_id, 42);
  EXPECT_EQ(m.message.created_at_ms % 1000, 123);
  EXPECT_EQ(m.partition, 3);
  EXPECT_EQ(m.offset, 1234);
}

TEST(decode_message, classifies_what_cannot_be_processed_as_poison) {
  message_record m;
  struct bad {
    std::string value;
    std::string error_class;
  };
  const bad cases[] = {
      {"{not json", "invalid_json"},
      {"[1,2]", "not_an_object"},
      {R"({"messageKey":"6f1c2a3e-1b2c-4d5e-8f90-0a1b2c3d4e5f","roomId":1})", "missing_field"},
      {message_json("not-a-uuid", 1), "bad_format"},
      {message_json(key_a, 0), "out_of_range"},
      {message_json(key_a, 1, std::string(11, 'x')), "bad_length"},
      {message_json(key_a, 1, "a\\u0000b"), "bad_characters"},
  };
  for (const auto& c : cases) {
    const auto failure = decode_message(2, 0, 5, c.value, 10, m);
    ASSERT_TRUE(failure) << c.value;
    EXPECT_EQ(failure->kind, failure_kind::poison) << c.value;
    EXPECT_EQ(failure->error_class, c.error_class) << c.value;
    EXPECT_EQ(failure->index, 2U);
    EXPECT_FALSE(failure->message.empty());
  }
  const auto too_far = decode_message(0, 0, proto::max_message_id_offset + 1, message_json(key_a, 1), 4000, m);
  ASSERT_TRUE(too_far);
  EXPECT_EQ(too_far->error_class, "id_out_of_range");
}

TEST(append_json_with_id, keeps_an_id_of_zero) {
  message_record m;
  ASSERT_FALSE(decode_message(0, 0, 0, message_json(key_a, 42), 4000, m));
  EXPECT_EQ(m.message.id, 0);
  std::string out = "prefix";
  append_json_with_id(m.message, out);
  EXPECT_EQ(out.substr(0, 22), R"(prefix{"id":0,"message)");
  proto::chat_message back;
  ASSERT_FALSE(proto::parse_chat_message(out.substr(6), back));
  EXPECT_EQ(back, m.message);

  ASSERT_FALSE(decode_message(0, 1, 5, message_json(key_a, 42), 4000, m));
  std::string json;
  append_json_with_id(m.message, json);
  EXPECT_EQ(json, proto::to_json(m.message));
  EXPECT_EQ(json.rfind(R"({"id":1099511627781,)", 0), 0U);
}

TEST(keep_first_of_each_key, keeps_the_first_record_of_a_repeated_key) {
  std::vector<message_record> records(4);
  const std::string_view keys[] = {key_a, key_b, key_a, key_a};
  for (std::size_t i = 0; i < records.size(); ++i) {
    records[i].index = i;
    records[i].message.message_key = std::string(keys[i]);
  }
  EXPECT_EQ(keep_first_of_each_key(records), 2U);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].index, 0U);
  EXPECT_EQ(records[1].index, 1U);
}

TEST(merge_receipts, keeps_the_largest_last_read_per_member) {
  std::vector<receipt_record> receipts;
  auto add = [&](std::size_t index, std::string_view json) {
    receipt_record r;
    ASSERT_FALSE(decode_receipt(index, json, r));
    receipts.push_back(r);
  };
  add(0, R"({"roomId":1,"userId":2,"lastReadMessageId":50,"at":"2026-11-21T12:00:00.000Z"})");
  add(1, R"({"roomId":1,"userId":2,"lastReadMessageId":10,"at":"2026-11-21T12:00:01.000Z"})");
  add(2, R"({"roomId":1,"userId":3,"lastReadMessageId":7,"at":"2026-11-21T12:00:01.000Z"})");
  const auto merged = merge_receipts(receipts);
  ASSERT_EQ(merged.size(), 2U);
  EXPECT_EQ(merged[0].user_id, 2);
  EXPECT_EQ(merged[0].last_read_message_id, 50);
  EXPECT_EQ(merged[0].indexes, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(merged[1].last_read_message_id, 7);

  receipt_record r;
  const auto failure = decode_receipt(9, R"({"roomId":1,"userId":-2,"lastReadMessageId":1,"at":"x"})", r);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, failure_kind::poison);
  EXPECT_EQ(failure->index, 9U);
}

TEST(offset_tracker, commits_last_processed_plus_one_per_partition) {
  offset_tracker t;
  EXPECT_TRUE(t.empty());
  t.processed("chat.messages", 1, 10);
  t.processed("chat.messages", 1, 11);
  t.processed("chat.messages", 0, 3);
  t.processed("chat.messages", 1, 4);  // a redelivered older record does not move it back
  const auto pending = t.pending();
  ASSERT_EQ(pending.size(), 2U);
  EXPECT_EQ(pending[0], (kafka::topic_partition{"chat.messages", 0, 4}));
  EXPECT_EQ(pending[1], (kafka::topic_partition{"chat.messages", 1, 12}));

  // Progress made after a commit was sent stays pending.
  t.processed("chat.messages", 1, 12);
  t.committed(pending);
  ASSERT_EQ(t.pending().size(), 1U);
  EXPECT_EQ(t.pending()[0].offset, 13);

  EXPECT_EQ(t.pending_of({{"chat.messages", 0, -1001}}).size(), 0U);
  EXPECT_EQ(t.pending_of({{"chat.messages", 1, -1001}})[0].offset, 13);
  t.forget({{"chat.messages", 1, -1001}});
  EXPECT_TRUE(t.empty());
}

TEST(failure_policy, block_retries_forever_and_poison_always_goes_to_the_sink) {
  failure_policy p;  // block, 3 retries, no durable sink
  EXPECT_EQ(p.decide(failure_kind::retryable, 1), failure_action::retry);
  EXPECT_EQ(p.decide(failure_kind::retryable, 1000), failure_action::retry);
  EXPECT_EQ(p.decide(failure_kind::poison, 1), failure_action::dead_letter);
}

TEST(failure_policy, dead_letter_gives_up_after_the_retries_only_into_a_durable_sink) {
  failure_policy p{infra_policy::dead_letter, 3, true};
  EXPECT_EQ(p.decide(failure_kind::retryable, 1), failure_action::retry);
  EXPECT_EQ(p.decide(failure_kind::retryable, 3), failure_action::retry);
  EXPECT_EQ(p.decide(failure_kind::retryable, 4), failure_action::dead_letter);  // first try + 3 retries
  p.durable_sink = false;
  EXPECT_EQ(p.decide(failure_kind::retryable, 100), failure_action::retry);
  EXPECT_EQ(parse_infra_policy("dead-letter"), infra_policy::dead_letter);
  EXPECT_EQ(parse_infra_policy("block"), infra_policy::block);
  EXPECT_FALSE(parse_infra_policy("drop"));
}

// The array literals and the error classification live in the store's PostgreSQL adapter
// now (store/sql_util.hpp); the consumers depend on both through store::message_writer.
TEST(pg_arrays, quote_every_text_element) {
  using store::detail::bigint_array;
  using store::detail::text_array;
  EXPECT_EQ(bigint_array({}), "{}");
  EXPECT_EQ(bigint_array({1, -2, 9223372036854775807}), "{1,-2,9223372036854775807}");
  EXPECT_EQ(text_array({"a", "", "NULL", "x,y", "{}", "q\"uo\\te", "ünï"}),
            R"({"a","","NULL","x,y","{}","q\"uo\\te","ünï"})");
}

bool about_the_data(const std::exception_ptr& e) { return store::detail::failure_of(e).about_the_data(); }

TEST(pg_errors, data_errors_are_told_apart_from_infrastructure) {
  EXPECT_TRUE(about_the_data(std::make_exception_ptr(pqxx::sql_error("bad", "INSERT", "23503"))));
  EXPECT_TRUE(about_the_data(std::make_exception_ptr(pqxx::sql_error("bad", "INSERT", "22021"))));
  EXPECT_FALSE(about_the_data(std::make_exception_ptr(pqxx::sql_error("deadlock", "UPDATE", "40P01"))));
  EXPECT_FALSE(about_the_data(std::make_exception_ptr(pqxx::sql_error("shutdown", "", "57P01"))));
  EXPECT_FALSE(about_the_data(std::make_exception_ptr(pqxx::broken_connection("gone"))));
  EXPECT_FALSE(about_the_data(std::make_exception_ptr(std::runtime_error("?"))));
}

}  // namespace
}  // namespace chat::chatd::pipeline
