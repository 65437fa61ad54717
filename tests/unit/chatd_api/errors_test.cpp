// What a failed store call answers (docs/rest.md error bodies): each store error kind maps to one
// status and body, and libpqxx's exceptions map to the kinds the REST API used to derive from
// them directly.
#include "api/errors.hpp"
#include "store/sql_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <stdexcept>

using namespace chat::chatd::api;
using chat::store::errc;
using nlohmann::json;

namespace {

chat::http::response answer_to(errc code) {
  return database_failure("GET /test", chat::store::error{code, "XX000", "detail for the log"});
}

json body_of(const chat::http::response& res) { return json::parse(res.body()); }

TEST(DatabaseFailure, EachKindHasItsStatusAndBody) {
  const auto unavailable = answer_to(errc::unavailable);
  EXPECT_EQ(unavailable.result(), chat::http::status::service_unavailable);
  EXPECT_EQ(unavailable[chat::http::bhttp::field::retry_after], "1");
  EXPECT_EQ(body_of(unavailable), json::parse(R"({"error":{"code":"unavailable","message":"database unavailable"}})"));

  const auto conflict = answer_to(errc::conflict);
  EXPECT_EQ(conflict.result(), chat::http::status::conflict);
  EXPECT_EQ(body_of(conflict),
            json::parse(R"({"error":{"code":"conflict","message":"conflicts with existing data"}})"));

  const auto missing = answer_to(errc::not_found);
  EXPECT_EQ(missing.result(), chat::http::status::not_found);
  EXPECT_EQ(body_of(missing),
            json::parse(R"({"error":{"code":"not_found","message":"a referenced user or room does not exist"}})"));

  const auto rejected = answer_to(errc::rejected);
  EXPECT_EQ(rejected.result(), chat::http::status::bad_request);
  EXPECT_EQ(body_of(rejected),
            json::parse(R"({"error":{"code":"validation_error","message":"a value was rejected by the database"}})"));

  const auto internal = answer_to(errc::internal);
  EXPECT_EQ(internal.result(), chat::http::status::internal_server_error);
  EXPECT_EQ(body_of(internal), json::parse(R"({"error":{"code":"internal","message":"internal error"}})"));
}

TEST(DatabaseFailure, NoBodyQuotesTheDatabase) {
  for (const auto code : {errc::unavailable, errc::conflict, errc::not_found, errc::rejected, errc::internal}) {
    EXPECT_EQ(answer_to(code).body().find("detail for the log"), std::string::npos) << chat::store::to_string(code);
  }
}

errc kind_of(std::exception_ptr e) { return chat::store::detail::failure_of(std::move(e)).code; }

TEST(StoreErrors, LibpqxxExceptionsMapToKinds) {
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::broken_connection("gone"))), errc::unavailable);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::in_doubt_error("commit?"))), errc::unavailable);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::unique_violation("dup", "INSERT", "23505"))), errc::conflict);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::foreign_key_violation("fk", "INSERT", "23503"))), errc::not_found);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::check_violation("check", "INSERT", "23514"))), errc::rejected);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::data_exception("enc", "INSERT", "22021"))), errc::rejected);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::sql_error("serialization", "UPDATE", "40001"))), errc::unavailable);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::sql_error("shutdown", "", "57P01"))), errc::unavailable);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::sql_error("too many", "", "53300"))), errc::unavailable);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::sql_error("conn", "", "08006"))), errc::unavailable);
  EXPECT_EQ(kind_of(std::make_exception_ptr(pqxx::sql_error("syntax", "SELEC", "42601"))), errc::internal);
  EXPECT_EQ(kind_of(std::make_exception_ptr(std::runtime_error("?"))), errc::internal);
  EXPECT_EQ(kind_of(std::make_exception_ptr(42)), errc::internal);
}

TEST(StoreErrors, TheSqlstateAndMessageAreKeptForTheLog) {
  const auto e =
      chat::store::detail::failure_of(std::make_exception_ptr(pqxx::unique_violation("dup key", "Q", "23505")));
  EXPECT_EQ(e.sqlstate, "23505");
  EXPECT_EQ(e.message, "dup key");
  EXPECT_TRUE(e.about_the_data());
}

TEST(StoreErrors, GuardedTurnsAThrowIntoAResult) {
  const auto ok = chat::store::detail::guarded([] { return 5; });
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 5);
  const auto failed = chat::store::detail::guarded([]() -> int { throw pqxx::broken_connection("gone"); });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, errc::unavailable);
  const chat::store::result<void> done = chat::store::detail::guarded([] {});
  EXPECT_TRUE(done);
}

TEST(StoreErrors, GuardedPassesOnAnErrorTheWorkReportsItself) {
  const chat::store::result<int> refused = chat::store::detail::guarded([]() -> chat::store::result<int> {
    return chat::unexpected(chat::store::error{errc::internal, {}, "impossible state"});
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "impossible state");
}

}  // namespace
