#pragma once
// What an HTML page says about itself, for a link preview (SPEC §16): Open Graph meta tags, with
// the page's <title> and <meta name="description"> (then Twitter cards) as fall-backs. Pure, no
// I/O: fed the bytes the fetcher read (at most 1 MiB). A tolerant scanner, not an HTML parser:
// it reads tags up to </head> (or <body>), skips comments and the contents of <script>, <style>,
// <noscript> and <template>, and never fails -- a page it cannot read yields empty fields.
#include "preview/url.hpp"

#include <chat/proto/message.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace chat::chatd::preview {

// The raw fields, each decoded: character references (&amp; &#39; &#x1F600; and the common
// named ones), whitespace runs collapsed to one space and trimmed, invalid UTF-8 replaced by
// U+FFFD, control and bidirectional-override characters removed. Not yet bounded.
struct page_meta {
  std::string title;        // og:title, else twitter:title, else <title>
  std::string description;  // og:description, else twitter:description, else <meta name=description>
  std::string image;        // og:image (og:image:url, og:image:secure_url), else twitter:image
  std::string site_name;    // og:site_name
};

// `charset` is the page's (Content-Type's charset=…, or empty): ISO-8859-1 / Latin-1 /
// Windows-1252 / US-ASCII bytes are converted to UTF-8, anything else is read as UTF-8. A
// <meta charset=…> in the page is honoured when `charset` is empty.
page_meta read_page_meta(std::string_view html, std::string_view charset = {});

// The charset=… parameter of a Content-Type value (quotes removed), or empty.
std::string_view charset_of(std::string_view content_type);

// The position just past the end of the page's <head> (</head> or the opening of <body>), or
// nullopt when `html` does not have it yet: the fetcher stops reading there.
std::optional<std::size_t> head_end(std::string_view html);

// The preview of the message URL `message_url` whose page (after redirects) is `page` and says
// `meta`: fields cut to the limits of proto::check_link_preview (on a character boundary, with
// "…"), the image resolved against the page and kept only when it is an http(s) URL that fits.
// nullopt when the page has neither a title nor a description (nothing to show).
std::optional<proto::link_preview> make_preview(std::string_view message_url, const url& page, const page_meta& meta);

}  // namespace chat::chatd::preview
