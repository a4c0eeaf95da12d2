// send_methods: measure ways of sending a page-cached file body over loopback,
// on MPTCP (IPPROTO_MPTCP) and plain TCP sockets.
//
// Each trial: a receiver thread accepts on 127.0.0.1 and drains into a 1 MiB
// buffer; the main thread sends a small HTTP-like header and then the file with
// one method. Wall time runs from the header send to the receiver's last byte.
//
// Case syntax (repeatable --case, or defaults):  METHOD[:PARAM][+FLAG...]
//   sendfile:all|16M|1M     sendfile(2), count per call = remaining or chunk
//   splice:1M               file -> pipe -> socket, pipe sized with F_SETPIPE_SZ
//   pread:256K              pread(2) into a buffer, then send(2)
//   mmap:1M                 mmap the file once, send(2) it in chunks
// Flags: cork (TCP_CORK on before header, off after body), more (header sent
// with MSG_MORE), nodelay (TCP_NODELAY), block (blocking socket, no poll),
// smore (SPLICE_F_MORE on pipe->socket splices), sndbuf=4M (SO_SNDBUFFORCE),
// huge (pread's buffer in transparent huge pages: 2 MiB-aligned, MADV_HUGEPAGE, so
// the two copies through it take one TLB entry instead of one per 4 KiB page),
// populate (mmap: MADV_POPULATE_READ each chunk before its send, so the page faults are
// taken before the send, not inside it with the socket locked), keep (mmap: map and
// populate the whole file once per process, outside the timing, and send every trial from
// that mapping: a server that keeps hot files mapped pays no page faults and no munmap).
//
// Reps are interleaved across cases; a trial during which other processes used
// more than --max-other cores is re-run (--retries). --pin split|same|none
// places sender/receiver on CPU 0/1, both on CPU 0, or leaves it to the scheduler.
// Results: docs/transfer-methods.md.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <cstdlib>
#include <latch>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"

namespace {

using bench::median_of;
using bench::thread_cpu;

constexpr const char* kProgram = "send_methods";

using Clock = std::chrono::steady_clock;
constexpr auto kTrialDeadline = std::chrono::seconds(120);  // one transfer may not take longer
constexpr int kPollTimeoutMs = 10000;
constexpr std::size_t kRecvBuf = 1 << 20;

[[noreturn]] void die(const std::string& what) { bench::die(kProgram, what); }

// "all" = 0: send whatever remains in one call.
std::size_t parse_size(const std::string& s) { return s == "all" ? 0 : bench::parse_size(s); }

struct Case {
  std::string spec, method;
  std::size_t param = 0;  // chunk / buffer / pipe size; 0 = whole remaining
  bool cork = false, more = false, nodelay = false, block = false, smore = false, huge = false, populate = false, keep = false;
  std::size_t sndbuf = 0;
};

Case parse_case(const std::string& spec) {
  Case c;
  c.spec = spec;
  const auto parts = bench::split_case_spec(spec);
  auto colon = parts[0].find(':');
  c.method = parts[0].substr(0, colon);
  c.param = colon == std::string::npos ? (1 << 20) : parse_size(parts[0].substr(colon + 1));
  if (c.method != "sendfile" && c.method != "splice" && c.method != "pread" && c.method != "mmap")
    throw std::invalid_argument("unknown method: " + c.method);
  if (c.method != "sendfile" && c.param == 0) throw std::invalid_argument("size needed: " + spec);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto& f = parts[i];
    if (f == "cork") c.cork = true;
    else if (f == "more") c.more = true;
    else if (f == "nodelay") c.nodelay = true;
    else if (f == "block") c.block = true;
    else if (f == "smore") c.smore = true;
    else if (f == "huge") c.huge = true;
    else if (f == "populate") c.populate = true;
    else if (f == "keep") c.keep = true;
    else if (f.rfind("sndbuf=", 0) == 0) c.sndbuf = parse_size(f.substr(7));
    else throw std::invalid_argument("unknown flag: " + f);
  }
  // madvise takes page-aligned ranges: every chunk must start on a page
  if (c.populate && (c.method != "mmap" || c.param % static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) != 0))
    throw std::invalid_argument("populate needs mmap with a chunk of whole pages: " + spec);
  if (c.keep && (c.method != "mmap" || c.populate)) throw std::invalid_argument("keep needs mmap without populate: " + spec);
  return c;
}

struct Result {
  double mbps = 0, snd_cpu = 0, rcv_cpu = 0;
  double other_cores = 0;  // user CPU of other processes during the trial, in cores
  bool quiet = true;
  long snd_calls = 0, snd_eagain = 0, rcv_calls = 0;
  int sndbuf_actual = 0;
};

void set_int(int fd, int level, int opt, int v, const char* what) {
  if (setsockopt(fd, level, opt, &v, sizeof v) != 0) die(what);
}

// AnonHugePages of this process (kB), to confirm the "huge" buffer got one.
long anon_huge_kib() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string key;
  long kib = 0;
  while (in >> key) {
    if (key == "AnonHugePages:" && in >> kib) return kib;
  }
  return 0;
}

// The whole file, mapped and populated on first use; never unmapped (the process ends).
const char* kept_mapping(int file, std::size_t size) {
  static void* m = nullptr;
  if (m) return static_cast<const char*>(m);
  m = mmap(nullptr, size, PROT_READ, MAP_SHARED | MAP_POPULATE, file, 0);
  if (m == MAP_FAILED) die("mmap (keep)");
  return static_cast<const char*>(m);
}

// Sender state for one trial: counts every syscall made while transferring.
struct Sender {
  int sock, file;
  bool block;
  Clock::time_point deadline;
  long calls = 0, eagain = 0;

  // n < 0 with EAGAIN: wait until writable and return true (caller retries).
  bool again(ssize_t n, const char* what) {
    if (n >= 0) return false;
    if (errno == EINTR) return true;
    if (errno != EAGAIN) die(what);
    ++eagain;
    if (block) die("EAGAIN on a blocking socket");
    if (Clock::now() > deadline) { errno = ETIMEDOUT; die("trial deadline"); }
    pollfd p{sock, POLLOUT, 0};
    ++calls;
    if (poll(&p, 1, kPollTimeoutMs) <= 0) { errno = ETIMEDOUT; die("poll"); }
    return true;
  }

  void send_all(const char* p, std::size_t n, int flags) {
    for (std::size_t iter = 0; n > 0 && iter < (1u << 26); ++iter) {
      ++calls;
      ssize_t w = ::send(sock, p, n, flags | MSG_NOSIGNAL);
      if (again(w, "send")) continue;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    if (n) die("send_all iteration bound");
  }

  void by_sendfile(std::size_t size, std::size_t chunk) {
    off_t off = 0;
    for (std::size_t iter = 0; static_cast<std::size_t>(off) < size && iter < (1u << 26); ++iter) {
      std::size_t left = size - static_cast<std::size_t>(off);
      ++calls;
      ssize_t w = ::sendfile(sock, file, &off, chunk ? std::min(chunk, left) : left);
      if (again(w, "sendfile")) continue;
      if (w == 0) die("sendfile returned 0");
    }
    if (static_cast<std::size_t>(off) < size) die("sendfile iteration bound");
  }

  void by_splice(std::size_t size, std::size_t pipe_size, bool smore) {
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) die("pipe2");
    ++calls;
    int got = fcntl(pfd[1], F_SETPIPE_SZ, static_cast<int>(pipe_size));
    if (got < 0) die("F_SETPIPE_SZ");
    loff_t off = 0;
    std::size_t in_pipe = 0, sent = 0;
    for (std::size_t iter = 0; sent < size && iter < (1u << 26); ++iter) {
      if (in_pipe == 0) {
        ++calls;
        std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(got), size - static_cast<std::size_t>(off));
        ssize_t r = ::splice(file, &off, pfd[1], nullptr, want, SPLICE_F_MOVE);
        if (r <= 0) die("splice file->pipe");
        in_pipe = static_cast<std::size_t>(r);
      }
      unsigned fl = SPLICE_F_MOVE | (block ? 0 : SPLICE_F_NONBLOCK);
      if (smore && sent + in_pipe < size) fl |= SPLICE_F_MORE;
      ++calls;
      ssize_t w = ::splice(pfd[0], nullptr, sock, nullptr, in_pipe, fl);
      if (again(w, "splice pipe->socket")) continue;
      in_pipe -= static_cast<std::size_t>(w);
      sent += static_cast<std::size_t>(w);
    }
    close(pfd[0]);
    close(pfd[1]);
    if (sent < size) die("splice iteration bound");
  }

  void by_pread(std::size_t size, std::size_t bufsize, bool huge) {
    constexpr std::size_t kHugePage = 2 << 20;
    std::vector<char> plain;
    char* buf = nullptr;
    void* mapped = MAP_FAILED;
    std::size_t mapped_size = 0;
    if (huge) {
      // over-allocate by one huge page so a 2 MiB-aligned start exists inside the mapping
      std::size_t rounded = (bufsize + kHugePage - 1) / kHugePage * kHugePage;
      mapped_size = rounded + kHugePage;
      mapped = mmap(nullptr, mapped_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mapped == MAP_FAILED) die("mmap buffer");
      auto start = (reinterpret_cast<std::uintptr_t>(mapped) + kHugePage - 1) & ~(kHugePage - 1);
      buf = reinterpret_cast<char*>(start);
      if (madvise(buf, rounded, MADV_HUGEPAGE) != 0) die("madvise(MADV_HUGEPAGE)");
      std::fill_n(buf, bufsize, 0);  // fault it in, as the plain vector's zeroing does
      if (anon_huge_kib() == 0) std::fprintf(stderr, "%s: warning: no transparent huge page for the buffer\n", kProgram);
    } else {
      plain.resize(bufsize);
      buf = plain.data();
    }
    for (std::size_t off = 0; off < size;) {
      ++calls;
      ssize_t r = ::pread(file, buf, std::min(bufsize, size - off), static_cast<off_t>(off));
      if (r <= 0) die("pread");
      send_all(buf, static_cast<std::size_t>(r), 0);
      off += static_cast<std::size_t>(r);
    }
    if (mapped != MAP_FAILED) munmap(mapped, mapped_size);
  }

  void by_mmap(std::size_t size, std::size_t chunk, bool populate, bool keep) {
    const char* p = keep ? kept_mapping(file, size) : nullptr;  // mapped before the trial
    if (!keep) {
      ++calls;
      void* m = mmap(nullptr, size, PROT_READ, MAP_SHARED, file, 0);
      if (m == MAP_FAILED) die("mmap");
      ++calls;
      madvise(m, size, MADV_SEQUENTIAL);
      p = static_cast<const char*>(m);
    }
    for (std::size_t off = 0; off < size; off += chunk) {
      const std::size_t n = std::min(chunk, size - off);
      if (populate) {
        ++calls;
        if (madvise(const_cast<char*>(p + off), n, MADV_POPULATE_READ) != 0) die("madvise(MADV_POPULATE_READ)");
      }
      send_all(p + off, n, 0);
    }
    if (keep) return;
    ++calls;
    munmap(const_cast<char*>(p), size);
  }
};

struct Receiver {
  std::size_t expected;
  Clock::time_point last_byte{};
  double cpu = 0;
  long calls = 0;
  std::size_t got = 0;

  void run(int lsock, std::latch& accepted, int on_cpu) {
    bench::pin_to(kProgram, on_cpu);
    int s = accept(lsock, nullptr, nullptr);
    if (s < 0) die("accept");
    timeval tv{30, 0};  // bounds the drain loop if the sender dies
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::vector<char> buf(kRecvBuf);
    accepted.count_down();
    double c0 = thread_cpu();
    for (std::size_t iter = 0; iter < (1u << 28); ++iter) {
      ++calls;
      ssize_t n = recv(s, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die("recv");
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
      if (got == expected) last_byte = Clock::now();
    }
    cpu = thread_cpu() - c0;
    close(s);
  }
};

Result run_trial(const Case& c, int proto, int file, std::size_t size, int rx_cpu) {
  static const std::string header =
      "HTTP/1.1 200 OK\r\nServer: send_methods\r\nContent-Type: application/octet-stream\r\n"
      "Content-Length: " + std::to_string(size) + "\r\nAccept-Ranges: bytes\r\n\r\n";
  sockaddr_in a{};
  int ls = bench::listen_on_loopback(kProgram, proto, a);

  Receiver rx{header.size() + size};
  std::latch accepted(1);
  std::thread rt([&] { rx.run(ls, accepted, rx_cpu); });

  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto);
  if (s < 0) die("socket");
  if (c.sndbuf) {
    int v = static_cast<int>(c.sndbuf);
    if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0) set_int(s, SOL_SOCKET, SO_SNDBUF, v, "SO_SNDBUF");
  }
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  accepted.wait();
  if (proto == IPPROTO_MPTCP && !bench::is_mptcp_not_fallback(s)) { errno = EPROTO; die("MPTCP fell back to TCP"); }
  if (!c.block) fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);

  if (c.keep) kept_mapping(file, size);  // the first use maps and populates: not part of a trial
  Sender tx{s, file, c.block, Clock::now() + kTrialDeadline};
  double f0 = bench::foreign_user_seconds();
  auto t0 = Clock::now();
  double c0 = thread_cpu();
  if (c.nodelay) { ++tx.calls; set_int(s, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY"); }
  if (c.cork) { ++tx.calls; set_int(s, IPPROTO_TCP, TCP_CORK, 1, "TCP_CORK"); }
  tx.send_all(header.data(), header.size(), c.more ? MSG_MORE : 0);
  if (c.method == "sendfile") tx.by_sendfile(size, c.param);
  else if (c.method == "splice") tx.by_splice(size, c.param, c.smore);
  else if (c.method == "pread") tx.by_pread(size, c.param, c.huge);
  else tx.by_mmap(size, c.param, c.populate, c.keep);
  if (c.cork) { ++tx.calls; set_int(s, IPPROTO_TCP, TCP_CORK, 0, "TCP_CORK off"); }
  double snd_cpu = thread_cpu() - c0;

  Result r;
  socklen_t ol = sizeof r.sndbuf_actual;
  getsockopt(s, SOL_SOCKET, SO_SNDBUF, &r.sndbuf_actual, &ol);
  shutdown(s, SHUT_WR);
  rt.join();
  close(s);
  close(ls);
  if (rx.got != rx.expected) { errno = EIO; die("short transfer for " + c.spec); }
  double secs = std::chrono::duration<double>(rx.last_byte - t0).count();
  r.other_cores = std::max(0.0, bench::foreign_user_seconds() - f0) / secs;
  r.mbps = static_cast<double>(size) / secs / 1e6;
  r.snd_cpu = snd_cpu;
  r.rcv_cpu = rx.cpu;
  r.snd_calls = tx.calls;
  r.snd_eagain = tx.eagain;
  r.rcv_calls = rx.calls;
  return r;
}

const std::vector<std::string> kDefaultCases = {
    "sendfile:all", "sendfile:16M", "sendfile:1M",
    "sendfile:all+cork", "sendfile:16M+cork", "sendfile:16M+more", "sendfile:16M+nodelay",
    "sendfile:16M+cork+nodelay", "sendfile:1M+cork", "sendfile:all+block", "sendfile:16M+block", "sendfile:16M+sndbuf=4M",
    "splice:1M", "splice:1M+smore", "splice:1M+cork", "splice:1M+block",
    "pread:64K", "pread:256K", "pread:1M", "pread:4M",
    "pread:256K+cork", "pread:1M+cork", "pread:1M+more", "pread:256K+block", "pread:1M+block",
    "pread:256K+sndbuf=4M", "pread:1M+sndbuf=4M",
    "mmap:1M", "mmap:4M", "mmap:1M+block",
};

void usage() {
  std::puts("usage: send_methods --file PATH [--reps N] [--proto mptcp|tcp|both] [--case SPEC]... [--csv PATH]\n"
            "                    [--retries 3] [--max-other 0.15] [--pin split|same|none]\n"
            "  default cases:");
  for (const auto& c : kDefaultCases) std::printf("    %s\n", c.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string path, csv_path, protos = "both";
  int reps = 5, retries = 3;
  std::string pin = "split";
  double max_other = 0.15;
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string { if (i + 1 >= argc) { usage(); std::exit(1); } return argv[++i]; };
    if (a == "--file") path = val();
    else if (a == "--reps") reps = std::atoi(val().c_str());
    else if (a == "--proto") protos = val();
    else if (a == "--case") specs.push_back(val());
    else if (a == "--csv") csv_path = val();
    else if (a == "--pin") pin = val();
    else if (a == "--retries") retries = std::clamp(std::atoi(val().c_str()), 0, 10);
    else if (a == "--max-other") max_other = std::atof(val().c_str());
    else { usage(); return a == "--help" ? 0 : 1; }
  }
  if (path.empty() || reps < 1 || reps > 100 || (pin != "split" && pin != "same" && pin != "none")) {
    usage();
    return 1;
  }
  // split: sender on CPU 0, receiver on CPU 1 (as if the client were another host);
  // same: both on CPU 0; none: scheduler's choice.
  int tx_cpu = pin == "none" ? -1 : 0, rx_cpu = pin == "split" ? 1 : tx_cpu;
  bench::pin_to(kProgram, tx_cpu);
  if (specs.empty()) specs = kDefaultCases;
  std::vector<Case> cases;
  if (!bench::parse_cases(kProgram, specs, parse_case, cases)) return 1;
  const auto ps = bench::protocols(protos);

  std::size_t size = 0;
  int file = bench::open_body(kProgram, path, size);

  FILE* csv = csv_path.empty() ? nullptr : std::fopen(csv_path.c_str(), "w");
  if (csv) std::fprintf(csv, "rep,proto,case,mbps,snd_cpu,rcv_cpu,snd_calls,snd_eagain,rcv_calls,sndbuf,other_cores,quiet\n");

  // Interleave: every rep runs every (proto, case) once, in a rotated order. A trial
  // during which other processes took more than --max-other cores is re-run (bounded).
  std::map<std::pair<std::string, std::string>, std::vector<Result>> results;
  std::size_t combos = ps.size() * cases.size();
  for (int rep = 0; rep < reps; ++rep) {
    for (std::size_t k = 0; k < combos; ++k) {
      std::size_t idx = (k + static_cast<std::size_t>(rep) * 7) % combos;
      const auto& [pname, proto] = ps[idx / cases.size()];
      const Case& c = cases[idx % cases.size()];
      for (int attempt = 0; attempt <= retries; ++attempt) {
        Result r = run_trial(c, proto, file, size, rx_cpu);
        r.quiet = r.other_cores <= max_other;
        results[{pname, c.spec}].push_back(r);
        std::fprintf(stderr, "rep %d %-5s %-28s %8.1f MB/s snd %.2fs rcv %.2fs calls %ld eagain %ld other %.2f cores%s\n",
                     rep + 1, pname.c_str(), c.spec.c_str(), r.mbps, r.snd_cpu, r.rcv_cpu, r.snd_calls, r.snd_eagain,
                     r.other_cores, r.quiet ? "" : " (busy)");
        if (csv) {
          std::fprintf(csv, "%d,%s,%s,%.1f,%.3f,%.3f,%ld,%ld,%ld,%d,%.3f,%d\n", rep + 1, pname.c_str(), c.spec.c_str(),
                       r.mbps, r.snd_cpu, r.rcv_cpu, r.snd_calls, r.snd_eagain, r.rcv_calls, r.sndbuf_actual,
                       r.other_cores, r.quiet ? 1 : 0);
          std::fflush(csv);
        }
        if (r.quiet) break;
      }
    }
  }
  if (csv) std::fclose(csv);
  close(file);

  std::printf("Pinning: %s. ", pin.c_str());
  std::printf("File %zu bytes, %d reps, MB = 10^6 bytes, CPU in seconds per transfer (= per GiB for 1 GiB).\n"
              "Statistics over quiet trials (other processes < %.2f cores) when there are >= 3, else over all.\n\n",
              size, reps, max_other);
  std::printf("| proto | case | MB/s median | MB/s min | MB/s max | sender CPU s | receiver CPU s | sender syscalls | EAGAIN | receiver recv() | quiet/all |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& [pname, proto] : ps) {
    for (const auto& c : cases) {
      const auto& all = results[{pname, c.spec}];
      const auto [v, quiet] = bench::quiet_or_all(all);
      auto mm = std::minmax_element(v.begin(), v.end(), [](auto& x, auto& y) { return x.mbps < y.mbps; });
      std::printf("| %s | `%s` | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f | %.0f | %zu/%zu |\n", pname.c_str(),
                  c.spec.c_str(), median_of(v, [](auto& x) { return x.mbps; }), mm.first->mbps, mm.second->mbps,
                  median_of(v, [](auto& x) { return x.snd_cpu; }), median_of(v, [](auto& x) { return x.rcv_cpu; }),
                  median_of(v, [](auto& x) { return x.snd_calls; }), median_of(v, [](auto& x) { return x.snd_eagain; }),
                  median_of(v, [](auto& x) { return x.rcv_calls; }), quiet, all.size());
    }
  }
  return 0;
}
