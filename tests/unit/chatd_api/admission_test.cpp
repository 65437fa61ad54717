// Admission of REST publishes (api/admission.hpp): a slot of the node's admission gate or
// 503 + Retry-After at once; a slot is freed exactly once, by release() or by its last copy.
#include "api/admission.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <utility>

using chat::chatd::admission_gate;
using chat::chatd::admission_limits;
using chat::chatd::api::admission_slot;
using chat::chatd::api::admit_or_503;
namespace http = chat::http;

namespace {

struct capture {
  std::optional<http::response> answer;
  http::responder responder() {
    return [this](http::response&& r) { answer = std::move(r); };
  }
};

admission_limits bound(std::size_t records, std::size_t bytes = 0) {
  admission_limits l;
  l.max_records = records;
  l.max_bytes = bytes;
  return l;
}

TEST(RestAdmission, AdmitsWithinTheBoundAnd503sBeyondIt) {
  admission_gate gate(bound(2));
  capture c;
  auto a = admit_or_503(gate, 100, c.responder());
  auto b = admit_or_503(gate, 100, c.responder());
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(c.answer);  // admitted: nothing answered
  EXPECT_EQ(gate.stats().records, 2u);
  EXPECT_EQ(gate.stats().bytes, 200u);

  auto refused = admit_or_503(gate, 100, c.responder());
  EXPECT_FALSE(refused);
  ASSERT_TRUE(c.answer);
  EXPECT_EQ(c.answer->result(), http::bhttp::status::service_unavailable);
  EXPECT_EQ(c.answer->at(http::bhttp::field::retry_after), "1");
  EXPECT_NE(c.answer->body().find("\"unavailable\""), std::string::npos);
  EXPECT_NE(c.answer->body().find("overloaded"), std::string::npos);
  EXPECT_EQ(gate.stats().records, 2u);  // the refusal took nothing
  EXPECT_EQ(gate.stats().refused, 1u);  // and is counted (chat_admission_refused_total)

  a->release();  // the log answered one
  c.answer.reset();
  EXPECT_TRUE(admit_or_503(gate, 100, c.responder()));  // room again (released at once: temporary)
  EXPECT_FALSE(c.answer);
}

TEST(RestAdmission, ByteBoundRefusesToo) {
  admission_gate gate(bound(0, 1000));
  capture c;
  auto a = admit_or_503(gate, 800, c.responder());
  ASSERT_TRUE(a);
  EXPECT_FALSE(admit_or_503(gate, 300, c.responder()));
  ASSERT_TRUE(c.answer);
  EXPECT_EQ(c.answer->result(), http::bhttp::status::service_unavailable);
}

TEST(RestAdmission, ASlotIsReleasedExactlyOnceByItsCopies) {
  admission_gate gate(bound(10));
  capture c;
  {
    auto slot = admit_or_503(gate, 50, c.responder());
    ASSERT_TRUE(slot);
    admission_slot copy = *slot;  // a copy in a publish callback
    EXPECT_EQ(gate.stats().records, 1u);
    copy.release();
    EXPECT_FALSE(copy.held());
    EXPECT_FALSE(slot->held());
    EXPECT_EQ(gate.stats().records, 0u);
    slot->release();  // idempotent: nothing freed twice
    // A second publish in flight must not be freed by the first one's copies.
    auto other = admit_or_503(gate, 50, c.responder());
    ASSERT_TRUE(other);
    EXPECT_EQ(gate.stats().records, 1u);
    other->release();
  }
  EXPECT_EQ(gate.stats().records, 0u);
  EXPECT_EQ(gate.stats().bytes, 0u);
}

TEST(RestAdmission, TheLastCopyFreesASlotNeverReleased) {
  admission_gate gate(bound(1));
  capture c;
  {
    auto slot = admit_or_503(gate, 10, c.responder());
    ASSERT_TRUE(slot);
    auto copy = *slot;
    slot.reset();
    EXPECT_TRUE(copy.held());
    EXPECT_EQ(gate.stats().records, 1u);
  }  // the callback was dropped without running: the slot still frees
  EXPECT_EQ(gate.stats().records, 0u);
  EXPECT_TRUE(admit_or_503(gate, 10, c.responder()));
  EXPECT_FALSE(c.answer);
}

TEST(RestAdmission, WaitersOfTheGatewayComeFirst) {
  // A REST publish does not overtake STOMP sessions waiting for a slot (FIFO).
  admission_gate gate(bound(1));
  capture c;
  auto held = admit_or_503(gate, 10, c.responder());
  ASSERT_TRUE(held);
  bool granted = false;
  gate.wait(10, [&] { granted = true; });
  held->release();  // the slot goes to the waiter
  EXPECT_TRUE(granted);
  EXPECT_FALSE(admit_or_503(gate, 10, c.responder()));
  ASSERT_TRUE(c.answer);
  gate.release(10);
}

}  // namespace
