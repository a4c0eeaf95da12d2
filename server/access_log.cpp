#include "access_log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <stdexcept>

namespace mpserve {

namespace {

std::string escape_quoted(std::string_view text) {
  if (text.empty()) return "-";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)
      out += fmt::format("\\x{:02X}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

}  // namespace

std::string format_combined(const access_record& record) {
  std::tm utc{};
  ::gmtime_r(&record.time, &utc);
  char when[40];
  std::strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &utc);
  return fmt::format("{} - - [{}] \"{}\" {} {} \"{}\" \"{}\"",
                     record.client.empty() ? "-" : escape_quoted(record.client), when,
                     escape_quoted(record.request_line), record.status, record.body_bytes,
                     escape_quoted(record.referer), escape_quoted(record.user_agent));
}

access_log::access_log(const std::string& destination) {
  if (destination.empty()) return;
  if (destination == "off") {
    off_ = true;
    return;
  }
  try {
    if (destination == "-")
      logger_ = std::make_shared<spdlog::logger>(
          "access", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    else
      logger_ = std::make_shared<spdlog::logger>(
          "access", std::make_shared<spdlog::sinks::basic_file_sink_mt>(destination));
  } catch (const spdlog::spdlog_ex& e) {
    throw std::runtime_error("cannot open access log " + destination + ": " + e.what());
  }
  logger_->set_pattern("%v");
  logger_->flush_on(spdlog::level::info);
}

void access_log::write(const access_record& record) {
  // Formatting costs more than the rest of a small request: skip it when nothing would print.
  if (off_ || (!logger_ && !spdlog::should_log(spdlog::level::info))) return;
  const std::string line = format_combined(record);
  if (logger_)
    logger_->info("{}", line);
  else
    spdlog::info("{}", line);
}

}  // namespace mpserve
