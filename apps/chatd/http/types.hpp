#pragma once
#include <boost/beast/http.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace chat::http {

namespace bhttp = boost::beast::http;
using verb = bhttp::verb;
using status = bhttp::status;
using request = bhttp::request<bhttp::string_body>;
using response = bhttp::response<bhttp::string_body>;

// Sends the response for the request it was made for. Callable from any thread, once.
using responder = std::function<void(response&&)>;

// A JSON response; `body` must already be JSON.
response json_response(status st, std::string body);
// {"error":{"code":…,"message":…}} with the given status.
response error_response(status st, std::string_view code, std::string_view message);

}  // namespace chat::http
