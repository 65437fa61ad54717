#include <chat/client/errc.hpp>
#include <chat/client/scheduled.hpp>

#include <string>
#include <utility>

namespace chat::client {
namespace {

std::string scheduled_path(std::int64_t room_id) { return "/api/rooms/" + std::to_string(room_id) + "/scheduled"; }

}  // namespace

result<proto::scheduled_message> schedule_message(rest_client& api, std::int64_t room_id,
                                                  const proto::schedule_request& request) {
  result<proto::scheduled_message> out;
  out.http = api.request(http_method::post, scheduled_path(room_id), proto::to_json(request));
  if (!out.http.ok()) return out;
  proto::scheduled_message value;
  if (proto::parse_scheduled_message(out.http.body, value)) {
    out.http.error = errc::bad_response;
    return out;
  }
  out.value = std::move(value);
  return out;
}

result<std::vector<proto::scheduled_message>> scheduled_messages(rest_client& api, std::int64_t room_id) {
  result<std::vector<proto::scheduled_message>> out;
  out.http = api.request(http_method::get, scheduled_path(room_id));
  if (!out.http.ok()) return out;
  std::vector<proto::scheduled_message> value;
  if (proto::parse_scheduled_message_list(out.http.body, value)) {
    out.http.error = errc::bad_response;
    return out;
  }
  out.value = std::move(value);
  return out;
}

response cancel_scheduled(rest_client& api, std::int64_t room_id, std::int64_t schedule_id) {
  return api.request(http_method::delete_, scheduled_path(room_id) + "/" + std::to_string(schedule_id));
}

}  // namespace chat::client
