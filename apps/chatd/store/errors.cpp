#include "store/error.hpp"
#include "store/sql_util.hpp"

#include <pqxx/pqxx>

namespace chat::store {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::unavailable: return "unavailable";
    case errc::conflict: return "conflict";
    case errc::not_found: return "not_found";
    case errc::rejected: return "rejected";
    case errc::internal: return "internal";
  }
  return "internal";
}

bool error::about_the_data() const noexcept {
  return sqlstate.size() == 5 && (sqlstate.compare(0, 2, "22") == 0 || sqlstate.compare(0, 2, "23") == 0);
}

namespace detail {
namespace {

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

error failure_of(std::exception_ptr e) noexcept {
  error out;
  try {
    try {
      std::rethrow_exception(std::move(e));
    } catch (const pqxx::broken_connection& x) {
      out = {errc::unavailable, {}, x.what()};
    } catch (const pqxx::in_doubt_error& x) {
      out = {errc::unavailable, {}, x.what()};
    } catch (const pqxx::unique_violation& x) {
      out = {errc::conflict, x.sqlstate(), x.what()};
    } catch (const pqxx::foreign_key_violation& x) {
      out = {errc::not_found, x.sqlstate(), x.what()};
    } catch (const pqxx::check_violation& x) {
      out = {errc::rejected, x.sqlstate(), x.what()};
    } catch (const pqxx::data_exception& x) {
      out = {errc::rejected, x.sqlstate(), x.what()};
    } catch (const pqxx::sql_error& x) {
      const std::string& state = x.sqlstate();
      // 08 connection exception, 53 insufficient resources, 57 operator intervention
      // (shutdown), 40 transaction rollback (serialization failure, deadlock): retryable.
      const bool transient =
          starts_with(state, "08") || starts_with(state, "53") || starts_with(state, "57") || starts_with(state, "40");
      out = {transient ? errc::unavailable : errc::internal, state, x.what()};
    } catch (const std::exception& x) {
      out = {errc::internal, {}, x.what()};
    } catch (...) {
      out = {errc::internal, {}, "unknown exception"};
    }
  } catch (...) {
    // Copying a message failed (std::bad_alloc): the kind without the details.
    out.message.clear();
  }
  return out;
}

std::string bigint_array(const std::vector<std::int64_t>& ids) {
  std::string out;
  out.reserve(2 + ids.size() * 12);
  out.push_back('{');
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += std::to_string(ids[i]);
  }
  out.push_back('}');
  return out;
}

std::string text_array(const std::vector<std::string_view>& values) {
  std::size_t size = 2;
  for (auto v : values) size += v.size() + 3;
  std::string out;
  out.reserve(size + size / 16);
  out.push_back('{');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

}  // namespace detail
}  // namespace chat::store
