#include "core/context.hpp"

#include "core/duration.hpp"
#include "core/exit_codes.hpp"

#include <chat/auth/base64url.hpp>

#include <nlohmann/json.hpp>

#include <iostream>

#include <unistd.h>

namespace chatctl {

namespace client = chat::client;

context::context() = default;

std::string context::profile_name() const { return opts.profile.empty() ? std::string(default_profile) : opts.profile; }

config_file& context::config() {
  if (!config_) {
    const auto path = default_config_path();
    if (!path) fail(exit_code::error, "cannot locate the configuration: neither XDG_CONFIG_HOME nor HOME is set");
    try {
      config_ = config_file::load(*path);
    } catch (const config_error& e) {
      fail(exit_code::error, e.what());
    }
    if (const auto loose = config_->loose_permissions(); loose != 0 && !warned_permissions_) {
      warned_permissions_ = true;
      warn(config_->path().string() + " is readable by other users; it will be rewritten with mode 0600");
    }
  }
  return *config_;
}

profile context::current_profile() { return config().get(profile_name()).value_or(profile{}); }

void context::save_profile(const profile& p) {
  auto& c = config();
  c.put(profile_name(), p);
  try {
    c.save();
  } catch (const config_error& e) {
    fail(exit_code::error, e.what());
  }
}

const client::url& context::server() {
  if (!server_) {
    std::string text = opts.server;
    std::string origin = "--server";
    if (text.empty()) {
      text = current_profile().server;
      origin = "profile " + profile_name();
    }
    if (text.empty()) {
      text = default_server;
      origin = "default";
    }
    std::string why;
    auto parsed = client::parse_url(text, &why);
    if (!parsed || parsed->kind != client::scheme::http) {
      fail(exit_code::usage, "bad server URL '" + text + "' (" + origin +
                                 "): " + (parsed ? std::string("expected http://host:port") : why));
    }
    server_ = std::move(parsed);
  }
  return *server_;
}

std::string context::server_text() { return client::to_string(server()); }

namespace {

// The "exp" of a JWT, read without checking its signature (only to tell whether renewing it
// first saves a round trip; the server decides); nullopt when it has none or is not a JWT.
std::optional<std::int64_t> expiry_of(std::string_view token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first == std::string_view::npos ? token.size() : first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) return std::nullopt;
  const auto payload = chat::auth::base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  const auto doc = nlohmann::json::parse(*payload, nullptr, false);
  if (!doc.is_object() || !doc.contains("exp") || !doc["exp"].is_number_integer()) return std::nullopt;
  return doc["exp"].get<std::int64_t>();
}

// A token this close to its expiry is renewed before use rather than after a 401.
constexpr std::int64_t renew_margin_s = 5;

}  // namespace

std::string context::token() {
  if (!opts.token.empty()) return opts.token;
  const auto p = current_profile();
  if (!p.token.empty() && !p.refresh_token.empty()) {
    const auto exp = expiry_of(p.token);
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (exp && *exp - renew_margin_s <= now) {
      if (auto fresh = refresh_profile_tokens()) return *fresh;
    }
  }
  return p.token;
}

std::optional<std::string> context::refresh_profile_tokens() {
  if (refreshed_ || !opts.token.empty()) return std::nullopt;
  refreshed_ = true;
  auto p = current_profile();
  if (p.refresh_token.empty()) return std::nullopt;
  client::rest_client refresher(server(), client::rest_options{.timeout = timeout(), .user_agent = "chatctl"});
  auto r = refresher.refresh(p.refresh_token);
  if (!r) {
    if (r.http.status == 401) {
      warn("the saved session cannot be renewed (" + r.http.api.message + "): run chatctl auth login");
    }
    return std::nullopt;
  }
  p.token = r.value->token;
  p.refresh_token = r.value->refresh_token;
  save_profile(p);
  note("Session renewed (profile " + profile_name() + ")");
  return p.token;
}

client::rest_client& context::api(bool require_token) {
  if (!api_) {
    api_ = std::make_unique<client::rest_client>(server(),
                                                 client::rest_options{.timeout = timeout(), .user_agent = "chatctl"});
  }
  if (require_token) {
    const auto t = token();
    if (t.empty()) {
      fail(exit_code::unauthorized,
           "not logged in (profile " + profile_name() + "): run chatctl auth login, or pass --token / CHAT_TOKEN");
    }
    api_->set_token(t);
    if (opts.token.empty()) {
      // A 401 (expired between the check above and the request, or revoked): renew once, retry.
      api_->set_refresher([this](client::rest_client&) { return refresh_profile_tokens(); });
    }
  } else {
    api_->set_refresher({});
    api_->set_token({});
  }
  return *api_;
}

std::chrono::milliseconds context::timeout() {
  const auto parsed = parse_duration(opts.timeout);
  if (!parsed)
    fail(exit_code::usage, "--timeout: expected a duration such as 10s or 500ms, got '" + opts.timeout + "'");
  return *parsed;
}

client::stomp_options context::stomp_options() {
  client::stomp_options o;
  if (opts.stomp.empty()) {
    o.server = client::websocket_url_for(server());
  } else {
    std::string why;
    auto parsed = client::parse_url(opts.stomp, &why);
    if (!parsed || parsed->kind == client::scheme::http) {
      fail(exit_code::usage, "bad --stomp-url '" + opts.stomp +
                                 "': " + (parsed ? std::string("expected ws://host:port/ws or tcp://host:port") : why));
    }
    o.server = std::move(*parsed);
  }
  o.token = token();
  if (o.token.empty()) {
    fail(exit_code::unauthorized,
         "not logged in (profile " + profile_name() + "): run chatctl auth login, or pass --token / CHAT_TOKEN");
  }
  o.connect_timeout = timeout();
  o.disconnect_timeout = timeout();
  // We can beat every second if the server asks for it; we want its beats every 10 s.
  o.heart_beat = {1000, 10000};
  return o;
}

output& context::out() {
  if (!out_) {
    format f = format::table;
    if (!opts.output.empty()) {
      const auto parsed = parse_format(opts.output);
      if (!parsed) fail(exit_code::usage, "-o: expected table, json or jsonl");
      f = *parsed;
    }
    out_ = std::make_unique<output>(f, is_terminal(STDOUT_FILENO), color_wanted(STDOUT_FILENO), std::cout);
  }
  return *out_;
}

void context::note(std::string_view text) {
  if (opts.quiet) return;
  std::cerr << text << '\n';
}

void context::warn(std::string_view text) {
  const bool color = color_wanted(STDERR_FILENO);
  std::cerr << (color ? "\x1b[33mwarning:\x1b[0m " : "warning: ") << text << '\n';
}

}  // namespace chatctl
