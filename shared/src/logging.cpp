#include "mp/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

namespace mp {

namespace {
std::shared_ptr<spdlog::logger> json_logger;
}

void init_logging(const log_options& options) {
  auto console = spdlog::stderr_color_mt("console");
  console->set_pattern("%H:%M:%S.%e %^%-5l%$ %v");
  console->set_level(options.level);
  spdlog::set_default_logger(console);
  if (!options.json_path.empty()) {
    try {
      auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.json_path);
      json_logger = std::make_shared<spdlog::logger>("json", sink);
    } catch (const spdlog::spdlog_ex& e) {
      throw std::runtime_error("cannot open JSON log " + options.json_path + ": " + e.what());
    }
    json_logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%f%z","level":"%l",%v})");
    json_logger->set_level(options.level);
    json_logger->flush_on(spdlog::level::trace);
  }
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void log_event(spdlog::level::level_enum level, std::string_view event, std::string_view text,
               std::initializer_list<log_field> fields) {
  spdlog::log(level, "{}", text);
  if (!json_logger || !json_logger->should_log(level)) return;
  std::string body = "\"event\":\"" + json_escape(event) + "\"";
  for (const auto& field : fields) {
    body += ",\"" + json_escape(field.key) + "\":";
    std::visit(
        [&body](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string>)
            body += "\"" + json_escape(value) + "\"";
          else if constexpr (std::is_same_v<T, bool>)
            body += value ? "true" : "false";
          else
            body += fmt::format("{}", value);
        },
        field.value);
  }
  json_logger->log(level, "{}", body);
}

}  // namespace mp
