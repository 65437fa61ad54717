#include <chat/kafka/errc.hpp>

#include <gtest/gtest.h>

namespace chat::kafka {
namespace {

TEST(kafka_errc, made_codes_belong_to_their_condition_only) {
  const errc all[] = {errc::queue_full, errc::unknown_topic, errc::message_too_large,
                      errc::timed_out,  errc::fatal,         errc::other};
  for (const errc e : all) {
    const std::error_code ec = make_error_code(e);
    EXPECT_EQ(ec.category(), error_category());
    EXPECT_TRUE(ec);
    EXPECT_EQ(classify(ec), e);
    for (const errc other : all) EXPECT_EQ(ec == other, e == other) << ec.message();
  }
}

TEST(kafka_errc, message_names_the_kafka_error) {
  EXPECT_NE(make_error_code(errc::queue_full).message().find("_QUEUE_FULL"), std::string::npos);
  EXPECT_NE(make_error_code(errc::timed_out).message().find("_MSG_TIMED_OUT"), std::string::npos);
  EXPECT_NE(make_error_code(errc::message_too_large).message().find("MSG_SIZE_TOO_LARGE"), std::string::npos);
  // A broker error (UNKNOWN_TOPIC_OR_PART = 3) is of the unknown_topic class.
  const std::error_code broker_code(3, error_category());
  EXPECT_NE(broker_code.message().find("UNKNOWN_TOPIC_OR_PART"), std::string::npos);
  EXPECT_EQ(broker_code, errc::unknown_topic);
  EXPECT_EQ(std::string(error_category().name()), "kafka");
}

TEST(kafka_errc, codes_of_other_categories_are_not_kafka_conditions) {
  const std::error_code generic = std::make_error_code(std::errc::timed_out);
  EXPECT_NE(generic, errc::timed_out);
  EXPECT_EQ(classify(generic), errc::other);
  // Same number, other category: still not equal.
  const std::error_code same_value(make_error_code(errc::queue_full).value(), std::generic_category());
  EXPECT_NE(same_value, errc::queue_full);
}

TEST(kafka_errc, success_is_no_condition) {
  const std::error_code ok(0, error_category());
  EXPECT_FALSE(ok);
  EXPECT_NE(ok, errc::other);
  EXPECT_FALSE(ok.default_error_condition());
}

}  // namespace
}  // namespace chat::kafka
