#include <chat/client/errc.hpp>
#include "typed.hpp"
#include <chat/client/lifecycle.hpp>
#include <chat/client/people.hpp>
#include <chat/proto/rest.hpp>

#include <string>
#include <utility>

namespace chat::client {

using detail::typed;

namespace {

std::string request_path(std::int64_t request_id) { return "/api/friends/requests/" + std::to_string(request_id); }

}  // namespace

result<proto::user> update_profile(rest_client& api, const proto::profile_update& update) {
  return typed(api.request(http_method::patch, "/api/users/me", proto::to_json(update)), proto::parse_user);
}

result<proto::profile> user_profile(rest_client& api, std::int64_t user_id) {
  return typed(api.request(http_method::get, "/api/users/" + std::to_string(user_id)), proto::parse_profile);
}

result<std::vector<proto::profile>> search_users(rest_client& api, std::string_view q, int limit) {
  return typed(api.request(http_method::get,
                           "/api/users/search?q=" + percent_encode_segment(q) + "&limit=" + std::to_string(limit)),
               proto::parse_profile_list);
}

result<proto::friend_request> send_friend_request(rest_client& api, std::int64_t user_id) {
  return typed(
      api.request(http_method::post, "/api/friends/requests", proto::to_json(proto::friend_request_create{user_id})),
      proto::parse_friend_request);
}

result<std::vector<proto::friend_request>> friend_requests(rest_client& api, bool incoming) {
  return typed(api.request(http_method::get,
                           std::string("/api/friends/requests?direction=") + (incoming ? "incoming" : "outgoing")),
               proto::parse_friend_request_list);
}

result<proto::friend_request> answer_friend_request(rest_client& api, std::int64_t request_id, bool accept) {
  return typed(api.request(http_method::post, request_path(request_id) + (accept ? "/accept" : "/reject")),
               proto::parse_friend_request);
}

response cancel_friend_request(rest_client& api, std::int64_t request_id) {
  return api.request(http_method::delete_, request_path(request_id));
}

result<std::vector<proto::profile>> friends(rest_client& api) {
  return typed(api.request(http_method::get, "/api/friends"), proto::parse_profile_list);
}

response remove_friend(rest_client& api, std::int64_t user_id) {
  return api.request(http_method::delete_, "/api/friends/" + std::to_string(user_id));
}

}  // namespace chat::client
