#include "url_target.hpp"

#include "output_name.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace mpfetch {

std::string_view default_port(std::string_view scheme) { return scheme == "https" ? "443" : "80"; }

std::string url_text(const url_target& url) {
  return url.scheme + "://" + url.host_header + url.target;
}

std::variant<url_target, std::string> parse_url(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return "invalid URL '" + std::string(text) + "': " + parsed.error().message();
  const boost::urls::url_view& url = *parsed;
  url_target out;
  out.scheme = url.scheme();
  for (auto& c : out.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.scheme != "http" && out.scheme != "https")
    return "unsupported scheme '" + out.scheme + "' in " + std::string(text);
  if (!url.has_authority() || url.encoded_host().empty())
    return "no host in URL '" + std::string(text) + "'";
  if (url.has_userinfo()) return std::string("user names and passwords in URLs are not supported");

  switch (url.host_type()) {
    case boost::urls::host_type::ipv6: out.host = url.host_ipv6_address().to_string(); break;
    case boost::urls::host_type::ipv4: out.host = url.host_ipv4_address().to_string(); break;
    case boost::urls::host_type::name: out.host = url.host_name(); break;
    default: return "unsupported host in URL '" + std::string(text) + "'";
  }
  out.port = url.has_port() ? std::string(url.port()) : std::string(default_port(out.scheme));
  if (url.has_port() && (url.port_number() == 0 || url.port().empty()))
    return "invalid port in URL '" + std::string(text) + "'";
  out.host_header = url.encoded_host_and_port();
  out.target = url.encoded_target();
  if (out.target.empty() || out.target.front() != '/') out.target.insert(0, "/");
  out.path = url.path();
  return out;
}

std::string output_name_for(const url_target& url) {
  // Split the encoded target, then decode: "a%2Fb" is one segment (named "a_b" below), while
  // splitting the decoded path would keep only "b".
  std::string name;
  const auto origin = boost::urls::parse_origin_form(url.target);
  if (origin && !origin->segments().empty()) name = origin->segments().back();
  // Decoded segments may hold bytes a file name must not: keep the name inside the directory.
  return safe_file_name(name);
}

std::string unused_name(const std::string& name,
                        const std::function<bool(const std::string&)>& exists) {
  if (!exists(name)) return name;
  for (int n = 1;; ++n) {
    std::string candidate = name + "." + std::to_string(n);
    if (!exists(candidate)) return candidate;
  }
}

}  // namespace mpfetch
