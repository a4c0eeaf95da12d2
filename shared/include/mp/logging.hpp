#pragma once
// One place that sets up logging for both programs: people read the console (stderr), machines
// read an optional JSON-lines file where each event carries fields instead of prose.

#include <spdlog/spdlog.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace mp {

struct log_options {
  spdlog::level::level_enum level = spdlog::level::info;
  std::string json_path;  // empty: no JSON log
};

// Throws std::runtime_error with one clear line when the JSON file cannot be opened.
void init_logging(const log_options& options);

struct log_field {
  std::string_view key;
  std::variant<std::int64_t, std::uint64_t, double, bool, std::string> value;
};

// Logs `text` to the console and {"event": event, fields...} to the JSON log.
void log_event(spdlog::level::level_enum level, std::string_view event, std::string_view text,
               std::initializer_list<log_field> fields = {});

// Escapes a string for inclusion inside JSON quotes.
std::string json_escape(std::string_view text);

}  // namespace mp
