#include "static_responder.hpp"

#include "byte_ranges.hpp"
#include "conditional_request.hpp"
#include "directory_listing.hpp"
#include "listing_template.hpp"
#include "mime_types.hpp"
#include "path_resolver.hpp"
#include "small_file_cache.hpp"

#include "mp/http_date.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <ctime>
#include <random>

namespace mpserve {

namespace http = boost::beast::http;

namespace {

constexpr const char* server_name = "mpserve/" MP_VERSION;

// The Date header changes once a second; formatting it for every request showed in profiles.
const std::string& current_http_date() {
  thread_local std::time_t formatted_for = -1;
  thread_local std::string text;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_for) {
    text = mp::format_http_date(now);
    formatted_for = now;
  }
  return text;
}

response_plan start_plan(http::status status, unsigned version) {
  response_plan plan;
  plan.header.result(status);
  plan.header.version(version);
  plan.header.set(http::field::server, server_name);
  plan.header.set(http::field::date, current_http_date());
  return plan;
}

// A body held in memory (error pages, listings); HEAD gets the headers a GET would.
void set_memory_body(response_plan& plan, std::string body, std::string_view type, bool head) {
  plan.header.set(http::field::content_type, type);
  plan.header.content_length(body.size());
  if (!head && !body.empty()) plan.body.push_back({std::move(body), 0, 0});
}

std::string error_page(http::status status) {
  const auto code = static_cast<unsigned>(status);
  const std::string title = fmt::format("{} {}", code, std::string(http::obsolete_reason(status)));
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0}</title></head>\n"
      "<body><h1>{0}</h1><hr><p>{1}</p></body></html>\n",
      html_escape(title), server_name);
}

// Errors from open_beneath: missing is 404; an escape (symlink out, '..' through a link),
// a permission problem, or anything odd is 403.
http::status status_for_open_error(const std::error_code& ec) {
  switch (ec.value()) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return http::status::not_found;
    default:
      return http::status::forbidden;
  }
}

served_file open_file(int root, const std::string& relative, const server_config& config,
                      std::error_code& ec) {
  return config.follow_symlinks ? open_following_symlinks(root, relative, ec)
                                : open_beneath(root, relative, ec);
}

// "/dir?x" -> "/dir/?x", built from the normalised path rather than the raw target: "//host"
// would otherwise come back as "//host/", which browsers follow to another site.
std::string redirect_location(const std::string& relative, std::string_view target) {
  std::string location;
  std::size_t start = 0;
  while (start <= relative.size()) {
    const auto slash = relative.find('/', start);
    const auto end = slash == std::string::npos ? relative.size() : slash;
    location += "/" + percent_encode_path_segment(std::string_view(relative).substr(start, end - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  location += "/";
  const auto query = target.find('?');
  if (query != std::string_view::npos) location += target.substr(query);
  return location;
}

std::string random_boundary() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}{:04x}", generator(), static_cast<unsigned>(generator() & 0xffff));
}

std::string decoded_path(std::string_view target) {
  const auto query = target.find('?');
  std::string out;
  if (!percent_decode(target.substr(0, query), out)) return std::string(target.substr(0, query));
  return out;
}

response_plan plan_listing(const request_view& request, served_file directory, const server_config& config) {
  std::vector<listing_entry> entries;
  // A fresh descriptor for reading: fdopendir takes ownership of it.
  const int dir_fd = ::openat(directory.fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = dir_fd >= 0 ? ::fdopendir(dir_fd) : nullptr;
  if (!dir) {
    if (dir_fd >= 0) ::close(dir_fd);
    return plan_error(http::status::forbidden, request.version, request.head);
  }
  bool truncated = false;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    // A directory of millions of files must not stall the thread or exhaust memory.
    if (entries.size() >= config.listing_limit) {
      truncated = true;
      break;
    }
    struct stat info {};
    // Symlinks are followed only where they may be served: otherwise a link out of the root
    // would show the size and date of what it points to.
    const int follow = config.follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW;
    if (::fstatat(dir_fd, entry->d_name, &info, follow) != 0 &&
        ::fstatat(dir_fd, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    entries.push_back({std::string(name), S_ISDIR(info.st_mode),
                       S_ISREG(info.st_mode) ? static_cast<std::uint64_t>(info.st_size) : 0,
                       info.st_mtime});
  }
  ::closedir(dir);
  if (truncated)
    spdlog::warn("listing of {} stopped at {} entries (listing limit)", decoded_path(request.target),
                 config.listing_limit);
  auto plan = start_plan(http::status::ok, request.version);
  set_memory_body(plan,
                  render_directory_listing(default_listing_template(), decoded_path(request.target),
                                           std::move(entries)),
                  "text/html; charset=utf-8", request.head);
  plan.detail = "listing";
  return plan;
}

// Turns the plan's file ranges into bytes copied from `content`, the file's whole content:
// the body then needs no descriptor.
void take_ranges_from_memory(response_plan& plan, const std::string& content) {
  for (auto& piece : plan.body) {
    if (piece.length == 0) continue;
    piece.bytes.append(content, static_cast<std::size_t>(piece.offset), static_cast<std::size_t>(piece.length));
    piece.length = 0;
  }
  plan.file_bytes = 0;  // nothing is left to send from the file
}

// Reads the whole of a small regular file; false on a short read (it is changing).
bool read_whole(const served_file& file, std::string& content) {
  content.resize(static_cast<std::size_t>(file.info.st_size));
  if (content.empty()) return true;
  const ssize_t got = ::pread(file.fd.get(), content.data(), content.size(), 0);
  return got == static_cast<ssize_t>(content.size());
}

// Where the body's file ranges come from: `content`, the whole file in memory (a small file,
// from the cache or just read), or else the descriptor in `file`.
response_plan plan_file(const request_view& request, served_file file, const std::string& name,
                        const std::string* content = nullptr) {
  const auto size = static_cast<std::uint64_t>(file.info.st_size);
  const representation_validators validators{
      make_strong_etag(static_cast<std::uint64_t>(file.info.st_ino), size, file.info.st_mtim.tv_sec,
                       file.info.st_mtim.tv_nsec),
      file.info.st_mtime};

  auto optional_header = [](std::string_view value) -> std::optional<std::string_view> {
    if (value.empty()) return std::nullopt;
    return value;
  };
  const request_conditions conditions{optional_header(request.if_match),
                                      optional_header(request.if_none_match),
                                      optional_header(request.if_modified_since),
                                      optional_header(request.if_unmodified_since),
                                      optional_header(request.if_range)};
  const auto precondition = evaluate_preconditions(true, conditions, validators);
  const std::string_view type = mime_type_for(name);

  auto plan = start_plan(http::status::ok, request.version);
  plan.header.set(http::field::etag, validators.etag);
  plan.header.set(http::field::last_modified, mp::format_http_date(validators.last_modified));
  if (precondition == precondition::not_modified) {
    plan.header.result(http::status::not_modified);
    plan.detail = "not modified";
    return plan;  // no Content-Length, no body (RFC 9110 §15.4.5)
  }
  if (precondition == precondition::failed) {
    auto failed = plan_error(http::status::precondition_failed, request.version, request.head);
    return failed;
  }
  range_decision ranges;
  if (!request.range.empty() &&
      (request.if_range.empty() || if_range_permits_ranges(request.if_range, validators)))
    ranges = evaluate_range(request.range, size);

  if (ranges.outcome == range_outcome::unsatisfiable) {
    auto refused = plan_error(http::status::range_not_satisfiable, request.version, request.head);
    refused.header.set(http::field::content_range, unsatisfied_content_range(size));
    refused.detail = "range not satisfiable";
    return refused;
  }

  plan.file = std::move(file);
  if (ranges.outcome == range_outcome::partial && ranges.ranges.size() == 1) {
    const auto& r = ranges.ranges.front();
    plan.header.result(http::status::partial_content);
    plan.header.set(http::field::content_type, type);
    plan.header.set(http::field::content_range, content_range(r, size));
    plan.header.content_length(r.length);
    if (!request.head) {
      plan.body.push_back({{}, r.first, r.length});
      plan.file_bytes = r.length;
    }
    plan.detail = fmt::format("range {}-{}", r.first, r.first + r.length - 1);
  } else if (ranges.outcome == range_outcome::partial) {
    auto multipart = plan_multipart(ranges.ranges, size, type, random_boundary());
    plan.header.result(http::status::partial_content);
    plan.header.set(http::field::content_type, "multipart/byteranges; boundary=" + multipart.boundary);
    plan.header.content_length(multipart.content_length);
    if (!request.head) {
      for (auto& part : multipart.parts) {
        plan.body.push_back({std::move(part.head), part.range.first, part.range.length});
        plan.file_bytes += part.range.length;
      }
      plan.body.push_back({std::move(multipart.tail), 0, 0});
    }
    plan.detail = fmt::format("{} ranges", ranges.ranges.size());
  } else {
    plan.header.set(http::field::content_type, type);
    plan.header.set(http::field::accept_ranges, "bytes");  // on full answers, as nginx does
    plan.header.content_length(size);
    if (!request.head && size > 0) {
      plan.body.push_back({{}, 0, size});
      plan.file_bytes = size;
    }
  }
  if (content) take_ranges_from_memory(plan, *content);
  return plan;
}

std::string index_path(const std::string& directory) {
  return directory.empty() ? "index.html" : directory + "/index.html";
}

std::string base_name(const std::string& relative) {
  const auto slash = relative.rfind('/');
  return slash == std::string::npos ? relative : relative.substr(slash + 1);
}

// `directory_index`: the file answers a request for its directory (noted in the log line).
void note_directory_index(response_plan& plan, bool directory_index) {
  if (directory_index) plan.detail = plan.detail.empty() ? "index.html" : plan.detail + ", index.html";
}

response_plan plan_small_file(const request_view& request, served_file file, const std::string& content,
                              const std::string& relative, bool directory_index) {
  auto plan = plan_file(request, std::move(file), base_name(relative), &content);
  note_directory_index(plan, directory_index);
  return plan;
}

// A regular file opened at `relative`: a small one is read whole (and offered to the cache,
// also for HEAD and 304, which warms it), so its body leaves from memory and the descriptor
// closes at once.
response_plan plan_regular_file(const request_view& request, served_file file, const std::string& relative,
                                bool directory_index, small_file_cache* cache) {
  std::string content;
  if (cache && static_cast<std::uint64_t>(file.info.st_size) <= cache->max_file_size() &&
      read_whole(file, content)) {
    auto plan = plan_small_file(request, served_file{{}, file.info}, content, relative, directory_index);
    cache->store(relative, file.info, std::move(content));
    return plan;
  }
  auto plan = plan_file(request, std::move(file), base_name(relative));
  note_directory_index(plan, directory_index);
  return plan;
}

}  // namespace

response_plan plan_error(http::status status, unsigned version, bool head) {
  auto plan = start_plan(status, version);
  if (status == http::status::method_not_allowed) plan.header.set(http::field::allow, "GET, HEAD");
  set_memory_body(plan, error_page(status), "text/html", head);  // ASCII, as nginx's pages
  return plan;
}

response_plan plan_text(http::status status, unsigned version, bool head, std::string text) {
  auto plan = start_plan(status, version);
  set_memory_body(plan, std::move(text), "text/plain; charset=utf-8", head);
  return plan;
}

response_plan plan_static_response(const request_view& request, int root, const server_config& config,
                                   small_file_cache* cache) {
  const auto resolved = resolve_target(request.target);
  if (const auto* error = std::get_if<target_error>(&resolved))
    return plan_error(*error == target_error::bad_request ? http::status::bad_request
                                                          : http::status::forbidden,
                      request.version, request.head);
  const auto& target = std::get<resolved_target>(resolved);
  const bool wants_directory = target.trailing_slash || target.relative.empty();
  const std::string name = wants_directory ? index_path(target.relative) : target.relative;
  if (cache) {
    if (const cached_file* hit = cache->find(root, name, config.follow_symlinks))
      return plan_small_file(request, served_file{{}, hit->info}, hit->content, name, wants_directory);
  }
  // The index first, as nginx's index module does: a directory that may be searched but not
  // read (mode 0711) still serves its index.html, and the cache above answers alike.
  if (wants_directory) {
    std::error_code index_error;
    served_file index_file = open_file(root, name, config, index_error);
    if (!index_error && S_ISREG(index_file.info.st_mode))
      return plan_regular_file(request, std::move(index_file), name, true, cache);
  }

  std::error_code ec;
  served_file file = open_file(root, target.relative, config, ec);
  if (ec) return plan_error(status_for_open_error(ec), request.version, request.head);

  if (S_ISDIR(file.info.st_mode)) {
    if (!wants_directory) {
      auto plan = plan_error(http::status::moved_permanently, request.version, request.head);
      plan.header.set(http::field::location, redirect_location(target.relative, request.target));
      return plan;
    }
    return plan_listing(request, std::move(file), config);
  }
  if (!S_ISREG(file.info.st_mode))  // FIFOs, devices, sockets: never
    return plan_error(http::status::forbidden, request.version, request.head);
  if (target.trailing_slash)  // "/file.txt/" names a directory that is not there
    return plan_error(http::status::not_found, request.version, request.head);
  return plan_regular_file(request, std::move(file), target.relative, false, cache);
}

}  // namespace mpserve
