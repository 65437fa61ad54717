#pragma once
// What the store's ports report instead of throwing. A database failure is an ordinary
// outcome on the request and consumer paths (the server restarts, a value is refused), so
// every port returns store::result<T> and the caller decides: the REST API maps errc to a
// status, the consumers retry or park a record.
#include <chat/common/expected.hpp>

#include <string>
#include <string_view>

namespace chat::store {

enum class errc {
  unavailable,  // connection lost, server shutting down, commit outcome unknown, deadlock or
                // serialization failure, out of resources: retrying later can succeed
  conflict,     // a unique constraint refused the write
  not_found,    // a foreign key named a row that does not exist
  rejected,     // a value the database refused (CHECK, bad encoding, out of range)
  internal,     // anything else: an unexpected database state or a bug
};

std::string_view to_string(errc code) noexcept;

struct error {
  errc code = errc::internal;
  std::string sqlstate;  // the server's SQLSTATE; empty when the failure was not an SQL error
  std::string message;   // for logs only: may quote SQL or values, never shown to a client

  // SQLSTATE class 22 (data exception) or 23 (integrity violation): the statement was
  // refused because of the values it carried, so retrying the same values cannot help.
  bool about_the_data() const noexcept;
};

template <class T>
using result = chat::expected<T, error>;

}  // namespace chat::store
