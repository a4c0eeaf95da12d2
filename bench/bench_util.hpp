// bench_util: what send_methods and receive_methods share — error exit, size and case-spec
// parsing, CPU pinning and accounting, the loopback listener, the MPTCP check, statistics.
// Functions that can fail take the program name, which starts their error line.
#pragma once

#include <fcntl.h>
#include <linux/mptcp.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

namespace bench {

[[noreturn]] inline void die(const char* prog, const std::string& what) {
  std::fprintf(stderr, "%s: %s: %s\n", prog, what.c_str(), std::strerror(errno));
  std::exit(2);
}

// "64K", "1M", "2G" or plain bytes; anything else throws.
inline std::size_t parse_size(const std::string& s) {
  char* end = nullptr;
  std::size_t v = std::strtoull(s.c_str(), &end, 10);
  switch (*end) {
    case 'K': case 'k': v <<= 10; break;
    case 'M': case 'm': v <<= 20; break;
    case 'G': case 'g': v <<= 30; break;
    case '\0': break;
    default: throw std::invalid_argument("bad size: " + s);
  }
  return v;
}

// "METHOD[:PARAM]+FLAG+FLAG" -> {"METHOD[:PARAM]", "FLAG", "FLAG"}.
inline std::vector<std::string> split_case_spec(const std::string& spec) {
  std::vector<std::string> parts;
  for (std::size_t pos = 0, next; pos <= spec.size(); pos = next + 1) {
    next = spec.find('+', pos);
    if (next == std::string::npos) next = spec.size();
    parts.push_back(spec.substr(pos, next - pos));
  }
  return parts;
}

// Parses every spec with parse(spec); on a bad one prints "PROG: reason" and returns false.
template <class Case, class Parse>
bool parse_cases(const char* prog, const std::vector<std::string>& specs, Parse parse, std::vector<Case>& cases) {
  try {
    for (const auto& s : specs) cases.push_back(parse(s));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", prog, e.what());
    return false;
  }
  return true;
}

// --proto mptcp|tcp|both -> (name, protocol) pairs, MPTCP first.
inline std::vector<std::pair<std::string, int>> protocols(const std::string& protos) {
  std::vector<std::pair<std::string, int>> ps;
  if (protos == "both" || protos == "mptcp") ps.emplace_back("mptcp", IPPROTO_MPTCP);
  if (protos == "both" || protos == "tcp") ps.emplace_back("tcp", IPPROTO_TCP);
  return ps;
}

// Pins the calling thread to one CPU; cpu < 0 leaves it to the scheduler.
inline void pin_to(const char* prog, int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) die(prog, "sched_setaffinity");
}

inline double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// User+nice CPU seconds of the whole machine (/proc/stat) minus this process's
// user time: what other processes (a compiler, say) took from our two cores.
inline double foreign_user_seconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0;
  f >> cpu >> user >> nice;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double self = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) * 1e-6;
  return static_cast<double>(user + nice) / static_cast<double>(sysconf(_SC_CLK_TCK)) - self;
}

// A listening socket on 127.0.0.1 at a kernel-chosen port; a receives its address.
inline int listen_on_loopback(const char* prog, int proto, sockaddr_in& a) {
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto);
  if (ls < 0) die(prog, "socket(listen)");
  a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(ls, 4) != 0) die(prog, "bind/listen");
  getsockname(ls, reinterpret_cast<sockaddr*>(&a), &alen);
  return ls;
}

inline bool is_mptcp_not_fallback(int s) {
  mptcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(s, SOL_MPTCP, MPTCP_INFO, &info, &len) != 0) return false;
  return !(info.mptcpi_flags & MPTCP_INFO_FLAG_FALLBACK);
}

// Opens the file to send read-only; size receives its length.
inline int open_body(const char* prog, const std::string& path, std::size_t& size) {
  int file = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file < 0) die(prog, "open " + path);
  struct stat st{};
  fstat(file, &st);
  size = static_cast<std::size_t>(st.st_size);
  return file;
}

template <class T, class F>
double median_of(const std::vector<T>& v, F f) {
  std::vector<double> x;
  for (const auto& e : v) x.push_back(static_cast<double>(f(e)));
  std::sort(x.begin(), x.end());
  std::size_t n = x.size();
  return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

// The trials statistics are taken over: the quiet ones when there are >= 3, else all.
template <class Result>
struct Sample {
  std::vector<Result> used;
  std::size_t quiet = 0;
};

template <class Result>
Sample<Result> quiet_or_all(const std::vector<Result>& all) {
  Sample<Result> s;
  std::copy_if(all.begin(), all.end(), std::back_inserter(s.used), [](auto& x) { return x.quiet; });
  s.quiet = s.used.size();
  if (s.quiet < 3) s.used = all;
  return s;
}

}  // namespace bench
