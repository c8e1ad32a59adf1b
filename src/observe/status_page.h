// The status page at / of --metrics-addr: plain HTML and JavaScript in the
// binary, no external assets. It polls /status.json (what the host makes
// of its workloads, see the `stratus up` and `stratus serve` wiring) each
// second and draws it.
#pragma once

#include <string_view>

namespace stratus::observe {

// The page's HTML (its script reads /status.json).
std::string_view status_page_html();

}  // namespace stratus::observe
