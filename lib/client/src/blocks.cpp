#include <chat/client/blocks.hpp>
#include <chat/client/errc.hpp>

#include <string>
#include <utility>

namespace chat::client {

response set_block(rest_client& api, std::int64_t user_id, bool block) {
  return api.request(block ? http_method::put : http_method::delete_, "/api/blocks/" + std::to_string(user_id));
}

result<std::vector<proto::blocked_user>> blocks(rest_client& api) {
  result<std::vector<proto::blocked_user>> out;
  out.http = api.request(http_method::get, "/api/blocks");
  if (!out.http.ok()) return out;
  std::vector<proto::blocked_user> value;
  if (proto::parse_blocked_user_list(out.http.body, value)) {
    out.http.error = errc::bad_response;
    return out;
  }
  out.value = std::move(value);
  return out;
}

}  // namespace chat::client
