#pragma once
// The file a download writes: the body goes to NAME.part, which becomes NAME only when it is
// complete and on disk, so a partial file is never passed off as complete.
// A NAME that exists and is not a regular file (/dev/null, a FIFO, a terminal) is written
// directly: renaming a .part over a device would replace the device with a file.

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

  // Creates (truncates) `final_path`.part for writing, or opens a special file directly.
  void open(const std::string& final_path, std::error_code& ec);
  void write(const char* data, std::size_t size, std::error_code& ec);
  // fsync, then rename NAME.part to NAME.
  void commit(std::error_code& ec);

  // Where the bytes are going now: NAME.part, or NAME itself for a special file.
  const std::string& part_path() const noexcept { return part_path_; }
  bool direct() const noexcept { return direct_; }
  const std::string& final_path() const noexcept { return final_path_; }

private:
  int fd_ = -1;
  std::string final_path_;
  std::string part_path_;
  bool direct_ = false;
};

}  // namespace mpfetch
