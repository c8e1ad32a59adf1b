// The HTTP/1.1 exchanges of the Distribution API: one connection per
// request (Boost.Beast), TLS with the system trust store (OpenSSL's default
// paths, so SSL_CERT_FILE and SSL_CERT_DIR are honoured) and the host name
// verified, every step under a deadline, the response body bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "support/result.h"

namespace stratus::oci {

struct Url {
  bool tls = true;
  std::string host;  // no brackets
  uint16_t port = 443;
  std::string target = "/";  // path and query

  std::string authority() const;  // host[:port], the port when not the scheme's
  std::string text() const;
};

// `https://host[:port]/path?query` or `http://...`.
Result<Url> parse_url(std::string_view text);

struct HttpRequest {
  std::string method = "GET";
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  uint64_t max_body = 1 << 20;  // a longer response body is an error
  std::chrono::seconds timeout{60};
};

struct HttpResponse {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower case
  std::string body;

  // The first value of `name` (lower case), or empty.
  std::string header(std::string_view name) const;
};

// Errors: the connection, TLS (certificate not trusted or not for the
// host), the deadline, a malformed response, or a body past max_body.
Result<HttpResponse> http_exchange(const HttpRequest& request);

}  // namespace stratus::oci
