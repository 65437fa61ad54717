// Answers to SENDs as chatload reads them off the wire: RECEIPT ids, ERROR frames carrying a
// receipt-id (closing the session or not), and soft errors with a receiptId.
#include "session_pool.hpp"
#include "traffic.hpp"

#include <chat/stomp/frame.hpp>

#include <gtest/gtest.h>

using namespace chatload;
using chat::stomp::command;
using chat::stomp::frame;

namespace {
frame error_frame(std::vector<chat::stomp::header> headers) {
  frame f;
  f.cmd = command::error;
  f.headers = std::move(headers);
  return f;
}
}  // namespace

TEST(Answers, ReceiptIdsNameTheRunsSends) {
  EXPECT_EQ(send_of_receipt_id("s0", 10), 0u);
  EXPECT_EQ(send_of_receipt_id("s9", 10), 9u);
  EXPECT_FALSE(send_of_receipt_id("s10", 10));   // beyond the ledger
  EXPECT_FALSE(send_of_receipt_id("sub3", 10));  // a set-up SUBSCRIBE
  EXPECT_FALSE(send_of_receipt_id("s", 10));
  EXPECT_FALSE(send_of_receipt_id("s-1", 10));
  EXPECT_FALSE(send_of_receipt_id("disconnect", 10));
}

TEST(Answers, AnErrorWithAReceiptIdRefusesThatSend) {
  const auto r = refusal_of_error(error_frame({{"message", "server overloaded"}, {"receipt-id", "s42"}}), 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->g, 42u);
  EXPECT_EQ(r->outcome, send_outcome::overloaded);
  EXPECT_EQ(r->text, "server overloaded");
  const auto limited = refusal_of_error(
      error_frame({{"message", "rate limit exceeded"}, {"receipt-id", "s7"}, {"session-closes", "false"}}), 100);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->outcome, send_outcome::rate_limited);
  // Without a receipt-id of a SEND, an ERROR answers none.
  EXPECT_FALSE(refusal_of_error(error_frame({{"message", "forbidden"}}), 100));
  EXPECT_FALSE(refusal_of_error(error_frame({{"message", "forbidden"}, {"receipt-id", "sub0"}}), 100));
}

TEST(Answers, WhetherAnErrorKeepsTheSessionOpen) {
  EXPECT_TRUE(error_keeps_session(error_frame({{"message", "rate limit exceeded"}, {"session-closes", "false"}})));
  EXPECT_FALSE(error_keeps_session(error_frame({{"message", "server overloaded"}})));
  EXPECT_FALSE(error_keeps_session(error_frame({{"message", "x"}, {"session-closes", "true"}})));
}

TEST(Answers, SoftErrorsWithAReceiptIdRefuseThatSend) {
  const auto r = refusal_of_soft_error(
      R"({"code":"rate_limited","message":"slow down","destination":"/app/chat.send","receiptId":"s3"})", 10);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->g, 3u);
  EXPECT_EQ(r->outcome, send_outcome::rate_limited);
  EXPECT_EQ(r->text, "soft_error: rate_limited");
  const auto invalid = refusal_of_soft_error(R"({"code":"validation_error","receiptId":"s4"})", 10);
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->outcome, send_outcome::other_error);
  EXPECT_FALSE(refusal_of_soft_error(R"({"code":"rate_limited"})", 10));  // a SEND without receipt
  EXPECT_FALSE(refusal_of_soft_error(R"({"code":"rate_limited","receiptId":5})", 10));
  EXPECT_FALSE(refusal_of_soft_error("not json", 10));
}
