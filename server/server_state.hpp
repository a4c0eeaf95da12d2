#pragma once
// What every connection of a running server shares, across its threads: the configuration,
// the served directory, the access log, and what a graceful stop needs to find the sessions.

#include "access_log.hpp"
#include "file_mapping_cache.hpp"
#include "served_file.hpp"
#include "server_config.hpp"

#include <openssl/ssl.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace mpserve {

class http_session;

class server_state {
public:
  server_state(server_config config, unique_fd root, std::unique_ptr<access_log> log)
      : config(std::move(config)), root(std::move(root)), log(std::move(log)) {}

  const server_config config;
  const unique_fd root;
  const std::unique_ptr<access_log> log;
  // Large files sent from memory mappings kept across requests (body_method::mapped).
  file_mapping_cache mappings{config.mapped_file_limit ? server_config::mapped_file_entries : 0,
                              config.mapped_file_limit};
  // Set once before the workers start: the listening socket is MPTCP, so a plain TCP
  // connection is one whose client did not offer MPTCP.
  bool listener_is_mptcp = false;
  // Set once before the workers start when serving HTTPS (owned by main); OpenSSL allows
  // its use from every thread at once.
  SSL_CTX* tls_context = nullptr;
  // Set once before the workers start: the listener is plain TCP, the kernel offers kTLS and
  // --ktls allows it, so each connection offers OpenSSL to let the kernel encrypt.
  bool kernel_tls = false;

  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
  std::size_t connections() const noexcept { return connections_.load(std::memory_order_acquire); }

  // Counted by the listener as it accepts (so --max-connections holds before a session runs),
  // uncounted when the session ends (remove_session).
  void connection_accepted() noexcept { connections_.fetch_add(1, std::memory_order_acq_rel); }
  void connection_closed() noexcept { connections_.fetch_sub(1, std::memory_order_acq_rel); }

  // Copy buffers are leased so that their total stays within config.copy_memory_limit.
  bool lease_copy_buffer() noexcept;
  void return_copy_buffer() noexcept { copy_buffers_.fetch_sub(1, std::memory_order_acq_rel); }

  using registration = std::list<std::weak_ptr<http_session>>::iterator;
  registration add_session(std::weak_ptr<http_session> session);
  void remove_session(registration where);

  // Marks the server as stopping and calls `visit` for every live session (from this thread:
  // the visitor must post to the session's own executor).
  void begin_stop(const std::function<void(const std::shared_ptr<http_session>&)>& visit);

  // MPTCP tokens of live connections and their log labels, so path-manager events can name
  // the connection they belong to.
  void name_connection(std::uint32_t token, std::string label);
  void forget_connection(std::uint32_t token);
  std::string connection_label(std::uint32_t token) const;

private:
  mutable std::mutex labels_mutex_;
  std::map<std::uint32_t, std::string> labels_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> copy_buffers_{0};
  std::atomic<std::size_t> connections_{0};
  std::mutex mutex_;
  std::list<std::weak_ptr<http_session>> sessions_;
};

}  // namespace mpserve
