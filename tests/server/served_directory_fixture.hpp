#pragma once
// A fresh temporary directory opened as mpserve opens the one it serves, removed afterwards.

#include "served_file.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

class ServedDirectoryTest : public ::testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/mpserve-test-root-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_path_ = pattern;
    std::error_code ec;
    root_ = mpserve::open_root(root_path_, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  void TearDown() override { std::filesystem::remove_all(root_path_); }

  // Creates the file (and its directories), or rewrites it in place: the same inode.
  void write(const std::string& name, const std::string& content) {
    std::filesystem::create_directories((root_path_ / name).parent_path());
    std::ofstream(root_path_ / name, std::ios::binary) << content;
  }

  std::filesystem::path root_path_;
  mpserve::unique_fd root_;
};
