#pragma once
// What every command shares: the global options, the profile configuration, the REST client,
// the output, diagnostics on stderr. Built once in main(); commands receive it by reference.
#include "core/config_file.hpp"
#include "core/output.hpp"

#include <chat/client/rest_client.hpp>
#include <chat/client/stomp_client.hpp>
#include <chat/client/url.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chatctl {

inline constexpr std::string_view default_server = "http://127.0.0.1:8080";
inline constexpr std::string_view default_profile = "default";

struct global_options {
  std::string server;   // --server / CHAT_SERVER
  std::string token;    // --token / CHAT_TOKEN
  std::string profile;  // --profile / CHAT_PROFILE
  std::string stomp;    // --stomp-url / CHAT_STOMP_URL: ws://… or tcp://…; default ws://<server>/ws
  std::string output;   // -o; "" = table
  std::string timeout = "10s";
  bool quiet = false;
  bool password_flag_given = false;  // --password was used: refused (it would show in ps)
};

class context {
 public:
  context();

  global_options opts;
  // Set by the chosen subcommand's parse callback; run by main() after parsing.
  std::function<void(context&)> action;

  std::string profile_name() const;
  config_file& config();
  // The selected profile (empty when it does not exist yet).
  profile current_profile();
  void save_profile(const profile& p);

  // --server, else CHAT_SERVER, else the profile's server, else default_server.
  const chat::client::url& server();
  std::string server_text();
  // --token, else CHAT_TOKEN, else the profile's token; "" when none. A profile token that has
  // expired (or expires within a few seconds) is renewed first with the profile's refresh token,
  // and both are saved (docs/chatctl.md "Tokens").
  std::string token();
  // Renews the profile's tokens with its refresh token and saves them; the new access token, or
  // nullopt when there is no refresh token or the server refused it (expired, revoked, reused).
  std::optional<std::string> refresh_profile_tokens();
  // A REST client for server(); with require_token the token is set (exit 3 when there is none).
  chat::client::rest_client& api(bool require_token = true);

  std::chrono::milliseconds timeout();
  std::chrono::steady_clock::time_point deadline() { return std::chrono::steady_clock::now() + timeout(); }

  // STOMP settings for server() and token().
  chat::client::stomp_options stomp_options();

  output& out();
  // Diagnostics on stderr: note() unless --quiet, warn() always.
  void note(std::string_view text);
  void warn(std::string_view text);

 private:
  std::optional<config_file> config_;
  std::optional<chat::client::url> server_;
  std::unique_ptr<chat::client::rest_client> api_;
  std::unique_ptr<output> out_;
  bool warned_permissions_ = false;
  bool refreshed_ = false;  // refresh_profile_tokens() ran: at most once per command
};

}  // namespace chatctl
