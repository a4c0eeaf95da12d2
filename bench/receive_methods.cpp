// receive_methods: measure ways of moving a socket's bytes into a file, on MPTCP
// (IPPROTO_MPTCP) and plain TCP sockets over loopback.
//
// Each trial: a sender thread (CPU 0) accepts on 127.0.0.1 and sends a page-cached
// file with pread + send of 1 MiB (the fastest MPTCP sender, docs/transfer-methods.md).
// The receiver (main thread, CPU 1) connects, like mpfetch, and writes every byte
// to a sink: a new file in --disk-dir (real disk), in --shm-dir (tmpfs), or an
// opened /dev/null. Times: "write" = go signal to the last byte written; "fsync" =
// the same plus fsync(2) of the sink file (disk and shm only).
//
// Case syntax (repeatable --case, or defaults):  METHOD:SIZE[+FLAG...]
//   read:256K      recv(2) into a buffer of SIZE, then write(2) it all to the sink
//   waitall:1M     recv(2) with MSG_WAITALL into SIZE (implies block)
//   splice:1M      socket -> pipe (F_SETPIPE_SZ SIZE, SPLICE_F_MOVE|SPLICE_F_MORE) -> sink
// Flags: block (blocking socket; default is O_NONBLOCK + poll(POLLIN) on EAGAIN,
// as Asio's reactor does), lowat=64K (SO_RCVLOWAT), falloc (posix_fallocate the
// sink to the full size first, inside the timed part). --reuse-sink overwrites one
// sink file in place instead of a new file per trial (isolates page allocation).
//
// Reps are interleaved (shuffled) across (sink, proto, case); a trial during which other
// processes used more than --max-other cores is re-run (--retries).
// Results: docs/receive-methods.md.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bench_util.hpp"

namespace {

using bench::is_mptcp_not_fallback;
using bench::median_of;
using bench::parse_size;
using bench::thread_cpu;

constexpr const char* kProgram = "receive_methods";

using Clock = std::chrono::steady_clock;
constexpr int kPollTimeoutMs = 10000;
constexpr std::size_t kSendChunk = 1 << 20;
constexpr std::size_t kIterBound = std::size_t{1} << 28;

[[noreturn]] void die(const std::string& what) { bench::die(kProgram, what); }

double secs_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

struct Case {
  std::string spec, method;
  std::size_t size = 0, lowat = 0;
  bool block = false, falloc = false;
};

Case parse_case(const std::string& spec) {
  Case c;
  c.spec = spec;
  const auto parts = bench::split_case_spec(spec);
  auto colon = parts[0].find(':');
  if (colon == std::string::npos) throw std::invalid_argument("size needed: " + spec);
  c.method = parts[0].substr(0, colon);
  c.size = parse_size(parts[0].substr(colon + 1));
  if (c.method != "read" && c.method != "waitall" && c.method != "splice")
    throw std::invalid_argument("unknown method: " + c.method);
  if (c.size == 0) throw std::invalid_argument("size needed: " + spec);
  c.block = c.method == "waitall";  // MSG_WAITALL does not wait on a non-blocking socket
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto& f = parts[i];
    if (f == "block") c.block = true;
    else if (f == "falloc") c.falloc = true;
    else if (f.rfind("lowat=", 0) == 0) c.lowat = parse_size(f.substr(6));
    else throw std::invalid_argument("unknown flag: " + f);
  }
  return c;
}

struct Result {
  double write_s = 0, fsync_s = 0, rcv_cpu = 0, rcv_cpu_fsync = 0, snd_cpu = 0, other_cores = 0;
  long calls = 0, polls = 0, reads = 0;
  bool quiet = true;
};

// Sender thread: accept, wait for go, pread + blocking send of 1 MiB chunks, then FIN.
void send_body(int ls, int file, std::size_t size, int cpu, std::latch& go, double& cpu_used) {
  bench::pin_to(kProgram, cpu);
  int s = accept(ls, nullptr, nullptr);
  if (s < 0) die("accept");
  std::vector<char> buf(kSendChunk);
  go.wait();
  double c0 = thread_cpu();
  for (std::size_t off = 0; off < size;) {
    ssize_t r = ::pread(file, buf.data(), std::min(kSendChunk, size - off), static_cast<off_t>(off));
    if (r <= 0) die("pread");
    for (ssize_t done = 0; done < r;) {
      ssize_t w = ::send(s, buf.data() + done, static_cast<std::size_t>(r - done), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) die("send");
      done += w;
    }
    off += static_cast<std::size_t>(r);
  }
  cpu_used = thread_cpu() - c0;
  shutdown(s, SHUT_WR);
  char c;
  recv(s, &c, 1, 0);  // wait for the receiver to close, so the socket outlives the transfer
  close(s);
}

// Receiver state for one trial: counts every syscall made while receiving.
struct Receiver {
  int sock, sink;
  bool block;
  long calls = 0, polls = 0, reads = 0;

  // n < 0 with EAGAIN: wait until readable and return true (caller retries).
  bool again(ssize_t n, const char* what) {
    if (n >= 0) return false;
    if (errno == EINTR) return true;
    if (errno != EAGAIN) die(what);
    if (block) die("EAGAIN on a blocking socket");
    pollfd p{sock, POLLIN, 0};
    ++calls;
    ++polls;
    if (poll(&p, 1, kPollTimeoutMs) <= 0) { errno = ETIMEDOUT; die("poll"); }
    return true;
  }

  void write_all(const char* p, std::size_t n) {
    for (std::size_t iter = 0; n > 0 && iter < kIterBound; ++iter) {
      ++calls;
      ssize_t w = ::write(sink, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) die("write");
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }

  std::size_t by_recv(std::size_t size, std::size_t bufsize, int flags) {
    std::vector<char> buf(bufsize);
    std::size_t got = 0;
    for (std::size_t iter = 0; got < size && iter < kIterBound; ++iter) {
      ++calls;
      ssize_t n = ::recv(sock, buf.data(), std::min(bufsize, size - got), flags);
      if (again(n, "recv")) continue;
      if (n == 0) break;
      ++reads;
      write_all(buf.data(), static_cast<std::size_t>(n));
      got += static_cast<std::size_t>(n);
    }
    return got;
  }

  std::size_t by_splice(std::size_t size, std::size_t pipe_size) {
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) die("pipe2");
    ++calls;
    int cap = fcntl(pfd[1], F_SETPIPE_SZ, static_cast<int>(pipe_size));
    if (cap < 0) die("F_SETPIPE_SZ");
    unsigned in_fl = SPLICE_F_MOVE | SPLICE_F_MORE | (block ? 0 : SPLICE_F_NONBLOCK);
    std::size_t got = 0;
    for (std::size_t iter = 0; got < size && iter < kIterBound; ++iter) {
      ++calls;
      ssize_t n = ::splice(sock, nullptr, pfd[1], nullptr, std::min<std::size_t>(static_cast<std::size_t>(cap), size - got), in_fl);
      if (again(n, "splice socket->pipe")) continue;
      if (n == 0) break;
      ++reads;
      for (ssize_t left = n; left > 0;) {
        ++calls;
        ssize_t w = ::splice(pfd[0], nullptr, sink, nullptr, static_cast<std::size_t>(left), SPLICE_F_MOVE | SPLICE_F_MORE);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("splice pipe->sink");
        left -= w;
      }
      got += static_cast<std::size_t>(n);
    }
    close(pfd[0]);
    close(pfd[1]);
    return got;
  }
};

struct Sink {
  std::string name, dir;  // dir empty: /dev/null
};

// Overwriting the previous trial's file in place (--reuse-sink) skips allocating new
// page-cache pages; on this VM fresh pages are costly (virtio-balloon free page reporting).
bool g_reuse_sink = false;

int open_sink(const Sink& k, std::string& path) {
  if (k.dir.empty()) {
    path.clear();
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0) die("open /dev/null");
    return fd;
  }
  path = k.dir + "/receive_methods." + std::to_string(getpid()) + ".out";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | (g_reuse_sink ? 0 : O_TRUNC) | O_CLOEXEC, 0600);
  if (fd < 0) die("open " + path);
  return fd;
}

Result run_trial(const Case& c, int proto, const Sink& k, int file, std::size_t size, int tx_cpu) {
  sockaddr_in a{};
  int ls = bench::listen_on_loopback(kProgram, proto, a);
  std::latch go(1);
  double snd_cpu = 0;
  std::thread st([&] { send_body(ls, file, size, tx_cpu, go, snd_cpu); });

  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto);
  if (s < 0) die("socket");
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  if (proto == IPPROTO_MPTCP && !is_mptcp_not_fallback(s)) { errno = EPROTO; die("MPTCP fell back to TCP"); }
  timeval tv{30, 0};  // bounds a blocking receive if the sender dies
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (!c.block) fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
  std::string path;
  int sink = open_sink(k, path);

  Receiver rx{s, sink, c.block};
  double f0 = bench::foreign_user_seconds();
  auto t0 = Clock::now();
  double c0 = thread_cpu();
  go.count_down();
  if (c.lowat) {
    int v = static_cast<int>(c.lowat);
    ++rx.calls;
    if (setsockopt(s, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) != 0) die("SO_RCVLOWAT");
  }
  if (c.falloc && !path.empty()) {
    ++rx.calls;
    if (int e = posix_fallocate(sink, 0, static_cast<off_t>(size)); e != 0) { errno = e; die("posix_fallocate"); }
  }
  std::size_t got = c.method == "splice" ? rx.by_splice(size, c.size)
                                         : rx.by_recv(size, c.size, c.method == "waitall" ? MSG_WAITALL : 0);
  auto t1 = Clock::now();
  double c1 = thread_cpu();
  if (!path.empty() && fsync(sink) != 0) die("fsync");
  auto t2 = Clock::now();
  double c2 = thread_cpu();
  if (got != size) { errno = EIO; die("short transfer for " + c.spec); }
  if (!path.empty()) {
    struct stat sst{};
    fstat(sink, &sst);
    if (static_cast<std::size_t>(sst.st_size) != size) { errno = EIO; die("sink size mismatch for " + c.spec); }
  }
  Result r;
  r.other_cores = std::max(0.0, bench::foreign_user_seconds() - f0) / secs_between(t0, t2);
  close(s);
  st.join();
  close(ls);
  close(sink);
  if (!path.empty() && !g_reuse_sink) {
    unlink(path.c_str());
    int dfd = open(k.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { syncfs(dfd); close(dfd); }  // let the freed blocks settle before the next trial
  }
  r.write_s = secs_between(t0, t1);
  r.fsync_s = secs_between(t0, t2);
  r.rcv_cpu = c1 - c0;
  r.rcv_cpu_fsync = c2 - c0;
  r.snd_cpu = snd_cpu;
  r.calls = rx.calls;
  r.polls = rx.polls;
  r.reads = rx.reads;
  return r;
}

// Sends 64 KiB over a fresh connection and splices it from the receiving socket into a
// pipe: prints exactly what the kernel says, and whether the bytes match.
void probe_splice(const char* pname, int proto, int file) {
  constexpr std::size_t n = 64 << 10;
  sockaddr_in a{};
  int ls = bench::listen_on_loopback(kProgram, proto, a);
  std::latch go(1);
  double unused = 0;
  std::thread st([&] { send_body(ls, file, n, -1, go, unused); });
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto);
  if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("probe connect");
  go.count_down();
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) die("pipe2");
  fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);
  std::vector<char> want(n), got(n);
  if (pread(file, want.data(), n, 0) != static_cast<ssize_t>(n)) die("probe pread");
  std::size_t total = 0;
  std::string log;
  for (int i = 0; i < 64 && total < n; ++i) {
    ssize_t r = ::splice(s, nullptr, pfd[1], nullptr, n - total, SPLICE_F_MOVE | SPLICE_F_MORE);
    log += " " + (r < 0 ? std::string("-1/") + strerrorname_np(errno) : std::to_string(r));
    if (r <= 0) break;
    if (read(pfd[0], got.data() + total, static_cast<std::size_t>(r)) != r) die("probe read pipe");
    total += static_cast<std::size_t>(r);
  }
  std::printf("splice probe %-5s (%s): splice(socket->pipe) returned%s; %zu/%zu bytes, %s\n", pname,
              proto == IPPROTO_MPTCP ? (is_mptcp_not_fallback(s) ? "MPTCP, no fallback" : "MPTCP FELL BACK") : "TCP",
              log.c_str(), total, n, total == n && want == got ? "content matches" : "CONTENT DIFFERS");
  close(pfd[0]);
  close(pfd[1]);
  close(s);
  st.join();
  close(ls);
}

const std::vector<std::string> kDefaultCases = {
    "read:64K", "read:256K", "read:1M", "read:4M", "read:256K+block", "read:1M+block",
    "read:1M+lowat=256K", "waitall:1M", "waitall:4M", "splice:1M", "splice:1M+block",
};

void usage() {
  std::puts("usage: receive_methods --file PATH [--reps N] [--proto mptcp|tcp|both] [--sink null,shm,disk]\n"
            "                       [--case SPEC]... [--csv PATH] [--disk-dir /tmp] [--shm-dir /dev/shm]\n"
            "                       [--retries 3] [--max-other 0.15] [--pin split|same|none] [--reuse-sink]\n"
            "  default cases:");
  for (const auto& c : kDefaultCases) std::printf("    %s\n", c.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string path, csv_path, protos = "both", sinks_arg = "null,shm,disk", pin = "split";
  std::string disk_dir = "/tmp", shm_dir = "/dev/shm";
  int reps = 5, retries = 3;
  double max_other = 0.15;
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string { if (i + 1 >= argc) { usage(); std::exit(1); } return argv[++i]; };
    if (a == "--file") path = val();
    else if (a == "--reps") reps = std::atoi(val().c_str());
    else if (a == "--proto") protos = val();
    else if (a == "--sink") sinks_arg = val();
    else if (a == "--case") specs.push_back(val());
    else if (a == "--csv") csv_path = val();
    else if (a == "--disk-dir") disk_dir = val();
    else if (a == "--shm-dir") shm_dir = val();
    else if (a == "--pin") pin = val();
    else if (a == "--retries") retries = std::clamp(std::atoi(val().c_str()), 0, 10);
    else if (a == "--max-other") max_other = std::atof(val().c_str());
    else if (a == "--reuse-sink") g_reuse_sink = true;
    else { usage(); return a == "--help" ? 0 : 1; }
  }
  if (path.empty() || reps < 1 || reps > 100 || (pin != "split" && pin != "same" && pin != "none")) {
    usage();
    return 1;
  }
  // split: receiver (this thread) on CPU 1, sender on CPU 0; same: both on CPU 0.
  int tx_cpu = pin == "none" ? -1 : 0, rx_cpu = pin == "split" ? 1 : tx_cpu;
  bench::pin_to(kProgram, rx_cpu);
  if (specs.empty()) specs = kDefaultCases;
  std::vector<Case> cases;
  if (!bench::parse_cases(kProgram, specs, parse_case, cases)) return 1;
  const auto ps = bench::protocols(protos);
  std::vector<Sink> sinks;
  for (const char* name : {"null", "shm", "disk"})
    if (("," + sinks_arg + ",").find(std::string(",") + name + ",") != std::string::npos)
      sinks.push_back({name, std::string(name) == "null" ? "" : std::string(name) == "shm" ? shm_dir : disk_dir});
  if (sinks.empty() || ps.empty()) { usage(); return 1; }

  std::size_t size = 0;
  int file = bench::open_body(kProgram, path, size);
  const double gib = static_cast<double>(size) / static_cast<double>(1u << 30);

  for (const auto& [pname, proto] : ps) probe_splice(pname.c_str(), proto, file);
  std::printf("\n");
  std::fflush(stdout);

  FILE* csv = csv_path.empty() ? nullptr : std::fopen(csv_path.c_str(), "w");
  if (csv) std::fprintf(csv, "rep,sink,proto,case,write_s,fsync_s,rcv_cpu,rcv_cpu_fsync,snd_cpu,calls,polls,reads,other_cores,quiet\n");

  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, std::vector<Result>> results;
  std::size_t combos = sinks.size() * ps.size() * cases.size();
  // Every rep runs every combination once, in a fresh shuffled order, so no case always
  // follows the same predecessor (freed pages and writeback carry over between trials).
  std::vector<std::size_t> order(combos);
  std::mt19937 rng(12345);
  for (int rep = 0; rep < reps; ++rep) {
    for (std::size_t k = 0; k < combos; ++k) order[k] = k;
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t idx : order) {
      const Sink& sk = sinks[idx / (ps.size() * cases.size())];
      const auto& [pname, proto] = ps[idx / cases.size() % ps.size()];
      const Case& c = cases[idx % cases.size()];
      for (int attempt = 0; attempt <= retries; ++attempt) {
        Result r = run_trial(c, proto, sk, file, size, tx_cpu);
        r.quiet = r.other_cores <= max_other;
        results[{sk.name, pname, c.spec}].push_back(r);
        std::fprintf(stderr, "rep %d %-4s %-5s %-22s %7.0f MB/s (+fsync %7.0f) rcv %.2fs snd %.2fs calls %ld polls %ld other %.2f%s\n",
                     rep + 1, sk.name.c_str(), pname.c_str(), c.spec.c_str(), static_cast<double>(size) / r.write_s / 1e6,
                     static_cast<double>(size) / r.fsync_s / 1e6, r.rcv_cpu, r.snd_cpu, r.calls, r.polls, r.other_cores,
                     r.quiet ? "" : " (busy)");
        if (csv) {
          std::fprintf(csv, "%d,%s,%s,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%ld,%ld,%ld,%.3f,%d\n", rep + 1, sk.name.c_str(),
                       pname.c_str(), c.spec.c_str(), r.write_s, r.fsync_s, r.rcv_cpu, r.rcv_cpu_fsync, r.snd_cpu,
                       r.calls, r.polls, r.reads, r.other_cores, r.quiet ? 1 : 0);
          std::fflush(csv);
        }
        if (r.quiet) break;
      }
    }
  }
  if (csv) std::fclose(csv);
  close(file);
  for (const auto& sk : sinks)
    if (!sk.dir.empty()) unlink((sk.dir + "/receive_methods." + std::to_string(getpid()) + ".out").c_str());

  std::printf("Pinning: %s (sender CPU %d, receiver CPU %d). File %zu bytes, %d reps, MB = 10^6 bytes.\n"
              "CPU and syscalls are per GiB. Statistics over quiet trials (other processes < %.2f cores) when\n"
              "there are >= 3, else over all. \"+fsync\" columns include fsync(2) of the sink (disk, shm).\n\n",
              pin.c_str(), tx_cpu, rx_cpu, size, reps, max_other);
  std::printf("| sink | proto | case | MB/s median | MB/s min | MB/s max | MB/s +fsync median | recv CPU s/GiB | "
              "recv CPU +fsync | syscalls/GiB | polls/GiB | KiB per read | sender CPU s/GiB | quiet/all |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& sk : sinks) {
    for (const auto& [pname, proto] : ps) {
      for (const auto& c : cases) {
        const auto& all = results[{sk.name, pname, c.spec}];
        // Named copies, not a structured binding: clang 14 cannot capture bindings in lambdas.
        const auto chosen = bench::quiet_or_all(all);
        const auto& v = chosen.used;
        const auto quiet = chosen.quiet;
        auto mb = [&](double s) { return static_cast<double>(size) / s / 1e6; };
        auto mm = std::minmax_element(v.begin(), v.end(), [](auto& x, auto& y) { return x.write_s > y.write_s; });
        std::printf("| %s | %s | `%s` | %.0f | %.0f | %.0f | %s | %.2f | %s | %.0f | %.0f | %.0f | %.2f | %zu/%zu |\n",
                    sk.name.c_str(), pname.c_str(), c.spec.c_str(), mb(median_of(v, [](auto& x) { return x.write_s; })),
                    mb(mm.first->write_s), mb(mm.second->write_s),
                    sk.dir.empty() ? "–" : std::to_string(static_cast<long>(mb(median_of(v, [](auto& x) { return x.fsync_s; })))).c_str(),
                    median_of(v, [](auto& x) { return x.rcv_cpu; }) / gib,
                    sk.dir.empty() ? "–" : [&] { char b[16]; std::snprintf(b, sizeof b, "%.2f", median_of(v, [](auto& x) { return x.rcv_cpu_fsync; }) / gib); return std::string(b); }().c_str(),
                    median_of(v, [](auto& x) { return x.calls; }) / gib, median_of(v, [](auto& x) { return x.polls; }) / gib,
                    static_cast<double>(size) / 1024.0 / median_of(v, [](auto& x) { return x.reads; }),
                    median_of(v, [](auto& x) { return x.snd_cpu; }) / gib, quiet, all.size());
      }
    }
  }
  return 0;
}
