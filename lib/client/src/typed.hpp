#pragma once
// The typed value of a 2xx answer, read by chat::proto's parser of T (internal to chat_client).
#include <chat/client/rest_client.hpp>
#include <chat/proto/error.hpp>

#include <string_view>
#include <utility>

namespace chat::client::detail {

template <class T>
result<T> typed(response r, proto::validation_error (*parse)(std::string_view, T&)) {
  result<T> out;
  out.http = std::move(r);
  if (!out.http.ok()) return out;
  T value{};
  if (parse(out.http.body, value)) {
    out.http.error = errc::bad_response;
    return out;
  }
  out.value = std::move(value);
  return out;
}

}  // namespace chat::client::detail
