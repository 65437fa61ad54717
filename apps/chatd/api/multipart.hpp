#pragma once
// multipart/form-data bodies of POST /api/files (RFC 7578): the one file part of a form. Pure,
// unit-tested (tests/unit/chatd_api/multipart_test.cpp); the part's bytes are a view into the
// body, never copied.
#include <optional>
#include <string>
#include <string_view>

namespace chat::chatd::api {

// The boundary parameter of a "multipart/form-data; boundary=…" Content-Type (quoted or not;
// 1–70 characters), or nullopt when the type is another one or has no usable boundary.
std::optional<std::string> form_data_boundary(std::string_view content_type);

struct form_file {
  std::string_view data;     // the part's bytes, inside the body
  std::string file_name;     // the Content-Disposition filename (filename* wins); may be empty
  std::string content_type;  // the part's Content-Type; empty when it has none
};

// The file part of `body`: the one part whose Content-Disposition has a filename, else the
// part named "file". Other (text) fields are ignored. On failure returns nullopt and sets
// `error` to a message for the client: no closing delimiter, a part without headers, no file
// part, more than one file part.
std::optional<form_file> parse_form_file(std::string_view body, std::string_view boundary, std::string& error);

}  // namespace chat::chatd::api
