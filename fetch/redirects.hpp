#pragma once
// Following redirects, as pure decisions: where a Location points (RFC 9110 §10.2.2, resolved
// per RFC 3986 §5.2), and when a chain of redirects has gone on too long or come back to itself.

#include "url_target.hpp"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

namespace mpfetch {

inline constexpr int default_max_redirects = 20;  // wget's --max-redirect default

// 301, 302, 303, 307 and 308: the statuses whose Location is followed. Every one is followed
// with GET, the only method mpfetch sends, so 303's "change to GET" needs no handling.
bool is_redirect_status(int status);

// The URL a Location field points to, relative references resolved against `base` (RFC 3986
// §5.2, see reference_resolution.hpp). The
// fragment is dropped (it is never sent). Spaces, control bytes and non-ASCII bytes, which some
// servers put in Location unencoded, are percent-encoded first, as browsers and curl do.
// Errors are one line for the user: an empty or unparseable Location, or a scheme other than
// http and https. A switch from https to http is returned like any other; see is_downgrade.
std::variant<url_target, std::string> resolve_redirect(const url_target& base,
                                                       std::string_view location);

// An https -> http redirect: allowed, as wget allows it, but worth a warning.
bool is_downgrade(const url_target& from, const url_target& to);

// Counts the redirects of one download and remembers the URLs seen, so that a chain that
// comes back to an earlier URL stops at once instead of running to the limit.
class redirect_tracker {
public:
  explicit redirect_tracker(int max_redirects);
  // With the URL the chain starts from, so that a redirect back to it is a loop too.
  redirect_tracker(int max_redirects, const url_target& origin);

  // Records a redirect to `next`; an error line when it is one too many ("20 redirections
  // exceeded", wget's wording) or a URL already visited in this chain ("redirect loop: ...").
  std::optional<std::string> follow(const url_target& next);

  int redirects_followed() const noexcept { return followed_; }

private:
  int max_redirects_;
  int followed_ = 0;
  std::set<std::string> seen_;  // canonical forms, see same_resource_key
};

}  // namespace mpfetch
