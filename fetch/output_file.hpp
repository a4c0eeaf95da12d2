#pragma once
// The file a download writes: the body goes to NAME.part, which becomes NAME only when it is
// complete and on disk, so a partial file is never passed off as complete.

#include <cstddef>
#include <string>
#include <system_error>

namespace mpfetch {

class output_file {
public:
  output_file() = default;
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;
  ~output_file();

  // Creates (truncates) `final_path`.part for writing.
  void open(const std::string& final_path, std::error_code& ec);
  void write(const char* data, std::size_t size, std::error_code& ec);
  // fsync, then rename NAME.part to NAME.
  void commit(std::error_code& ec);

  const std::string& part_path() const noexcept { return part_path_; }
  const std::string& final_path() const noexcept { return final_path_; }

private:
  int fd_ = -1;
  std::string final_path_;
  std::string part_path_;
};

}  // namespace mpfetch
