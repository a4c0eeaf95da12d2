#pragma once
// The file a download writes: the body goes to NAME.part, which becomes NAME only when it is
// complete and on disk, so a partial file is never passed off as complete.
// A NAME that exists and is not a regular file (/dev/null, a FIFO, a terminal) is written
// directly: renaming a .part over a device would replace the device with a file.

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

namespace mpfetch {

class output_file {
public:
  output_file() = default;
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;
  ~output_file();

  // Creates (truncates) `final_path`.part for writing, or opens a special file directly;
  // "-" is standard output.
  void open(const std::string& final_path, std::error_code& ec);
  // Opens `final_path`.part to append to what an earlier attempt left; returns its size.
  std::uint64_t open_to_append(const std::string& final_path, std::error_code& ec);
  // Closes without committing: a .part stays as it is.
  void close();
  // Cuts the file to `size` bytes: 0 when the server restarts the body, the resume offset
  // when appending (anything beyond it is not known to be right).
  void truncate_to(std::uint64_t size, std::error_code& ec);

  // The validators of the representation in NAME.part (ETag, Last-Modified), kept as extended
  // attributes of the file so that a later `-c` can ask with If-Range whether it is still the
  // same. Where the file system has no user attributes, nothing is kept (resume works as wget's).
  void store_validators(const std::string& etag, const std::string& last_modified);
  static void load_validators(const std::string& final_path, std::string& etag, std::string& last_modified);
  int fd() const noexcept { return fd_; }

  // Bytes already in `final_path`.part, 0 if there is none.
  static std::uint64_t part_size(const std::string& final_path);
  void write(const char* data, std::size_t size, std::error_code& ec);
  // fsync, then rename NAME.part to NAME.
  void commit(std::error_code& ec);

  // Where the bytes are going now: NAME.part, or NAME itself for a special file.
  const std::string& part_path() const noexcept { return part_path_; }
  bool direct() const noexcept { return direct_; }
  const std::string& final_path() const noexcept { return final_path_; }

private:
  bool open_direct(const std::string& final_path, std::error_code& ec);

  int fd_ = -1;
  std::string final_path_;
  std::string part_path_;
  bool direct_ = false;
};

}  // namespace mpfetch
