// A WASI 0.2 HTTP middleware that passes each request, with the host's
// response outparam, to the next handler of its chain (its import of
// wasi:http/incoming-handler): the next handler answers the client itself.
#include "bindings.h"

namespace exports::wasi::http::incoming_handler {

void handle(::wasi::http::types::IncomingRequest request, ::wasi::http::types::ResponseOutparam response_out) {
  ::wasi::http::incoming_handler::handle(std::move(request), std::move(response_out));
}

}  // namespace exports::wasi::http::incoming_handler
