#include "mp/resolve.hpp"

namespace mp {

std::vector<mptcp::endpoint> to_mptcp_endpoints(
    const boost::asio::ip::tcp::resolver::results_type& results) {
  std::vector<mptcp::endpoint> endpoints;
  endpoints.reserve(results.size());
  for (const auto& entry : results)
    endpoints.emplace_back(entry.endpoint().address(), entry.endpoint().port());
  return endpoints;
}

std::vector<mptcp::endpoint> resolve(boost::asio::ip::tcp::resolver& resolver,
                                     std::string_view host, std::string_view service,
                                     boost::system::error_code& ec) {
  auto results = resolver.resolve(host, service, ec);
  if (ec) return {};
  return to_mptcp_endpoints(results);
}

}  // namespace mp
