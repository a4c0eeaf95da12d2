#!/usr/bin/env python3
"""mpserve under faults, on real processes and sockets over loopback, each bounded in time:

- a file truncated while it is sent: the response is cut off (never padded), the server lives on;
- the same, sent from a kept mapping (an MPTCP client's second request of a large file): the
  connection is reset after a true prefix, the log names the shrunk file, the server lives on;
- a file deleted while it is sent: the open descriptor still sends it whole;
- a deleted file's kept mapping is dropped within seconds, with no request needed, so its disk
  space is freed; a file kept mapped and rewritten in place is sent as it is now; with
  --mapped-files 0 nothing is mapped;
- clients that reset mid-transfer (TCP and MPTCP, copied and mapped): no descriptor stays behind;
- running out of descriptors: accept pauses and resumes without spinning; the soft limit is
  raised to the hard one at start, with a warning when that is below --max-connections;
- 500 connections sending their header a byte at a time: others are answered within a second;
- FIFOs and device files in the served directory are refused at once, never opened to block;
- small files kept in memory (--small-file-cache) are served as they are on disk now: written
  in place, renamed over, replaced by a symlink out of the root, deleted; and a cached file is
  not opened for reading again (strace: only O_PATH opens), unless the cache is off; a directory
  replaced by an absolute symlink is refused from the cache as by the normal open.

usage: server_faults_test.py MPSERVE      (exit 0 pass, 1 fail)
"""

import http.client
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_lifecycle_test as lifecycle  # noqa: E402  (Server, get, read_response_head)

MiB = 1 << 20
IPPROTO_MPTCP = 262


def content_length(head):
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return None


def read_until_closed(sock, already, deadline_seconds):
    """Reads until the server closes; returns (body bytes received, seconds taken)."""
    total = len(already)
    started = time.time()
    sock.settimeout(deadline_seconds)
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return total, time.time() - started
        total += len(chunk)


# How long a file must stay unchanged before mpserve's small-file cache keeps it, and a bit.
SETTLE = 2.1


def traced_by(pid, tracer, deadline):
    """Waits until every thread of `pid` is traced by `tracer` (a Popen); False after
    `deadline` seconds or when the tracer has ended."""
    end = time.time() + deadline
    while time.time() < end:
        tasks = os.listdir("/proc/%d/task" % pid)
        tracers = set()
        for task in tasks:
            with open("/proc/%d/task/%s/status" % (pid, task)) as f:
                tracers |= {line.split()[1] for line in f if line.startswith("TracerPid:")}
        if tracers == {str(tracer.pid)}:
            return True
        if tracer.poll() is not None:
            return False  # strace already gave up
        time.sleep(0.05)
    return False


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class FaultsTest(lifecycle.LifecycleTest):
    def body_start(self, sock, path):
        """Sends GET, returns (Content-Length, body bytes that came with the head)."""
        lifecycle.get(sock, path)
        data = lifecycle.read_response_head(sock)
        head, _, rest = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head)
        return content_length(head), rest

    def make_file(self, name, size):
        path = os.path.join(self.root, name)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        return path

    def client_socket(self, server, protocol, receive_buffer=None, timeout=20):
        """A client connected to `server` (protocol 0: TCP, or IPPROTO_MPTCP), closed at the end."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, protocol)
        self.addCleanup(sock.close)
        sock.settimeout(timeout)
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.connect(("127.0.0.1", server.port))
        return sock

    def test_a_file_truncated_while_sent_is_cut_off_not_padded(self):
        path = self.make_file("shrinking.bin", 64 * MiB)
        server = self.start()
        for family_protocol in (0, IPPROTO_MPTCP):  # sendfile for TCP clients, copy for MPTCP
            with open(path, "r+b") as f:  # back to full size for the second round
                f.truncate(64 * MiB)
            sock = self.client_socket(server, family_protocol, receive_buffer=64 * 1024)
            length, first = self.body_start(sock, b"/shrinking.bin")
            self.assertEqual(length, 64 * MiB)
            os.truncate(path, 1 * MiB)
            got, seconds = read_until_closed(sock, first, 20)
            print("  truncated (%s client): %d of %d bytes, closed after %.2f s"
                  % ("MPTCP" if family_protocol else "TCP", got, length, seconds), file=sys.stderr)
            self.assertLess(got, length, "the response must end short, not be padded")
            self.assertLess(seconds, 20)
            sock.close()
        # The server is still there and serves others.
        with server.connect(cleanup=self.addCleanup) as sock:
            lifecycle.get(sock, b"/small.txt")
            self.assertTrue(lifecycle.read_response_head(sock).startswith(b"HTTP/1.1 200 "))
        self.assertIn("transfer aborted", server.errors())

    def fetch_over_mptcp(self, server, path):
        """One whole GET over a new MPTCP connection; returns the body."""
        sock = self.client_socket(server, IPPROTO_MPTCP)
        length, body = self.body_start(sock, path)
        while len(body) < length:
            chunk = sock.recv(1 << 20)
            self.assertTrue(chunk, "closed after %d of %d bytes" % (len(body), length))
            body += chunk
        sock.close()
        return body

    def test_a_file_truncated_while_sent_from_a_mapping_is_reset_after_true_bytes(self):
        path = self.make_file("mapped.bin", 64 * MiB)
        with open(path, "rb") as f:
            content = f.read()
        server = self.start("--log-level", "debug")
        # The first request only marks the file as seen; the second is sent from a mapping.
        self.assertEqual(self.fetch_over_mptcp(server, b"/mapped.bin"), content)
        sock = self.client_socket(server, IPPROTO_MPTCP, receive_buffer=64 * 1024)
        length, received = self.body_start(sock, b"/mapped.bin")
        self.assertEqual(length, 64 * MiB)
        os.truncate(path, 1 * MiB + 123)  # inside a page: the mapping reads zeros up to its end
        reset = False
        started = time.time()
        try:
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                received += chunk
        except ConnectionResetError:
            reset = True
        seconds = time.time() - started
        print("  truncated under a mapping: %d of %d bytes, %s after %.2f s"
              % (len(received), length, "reset" if reset else "closed", seconds), file=sys.stderr)
        self.assertLess(len(received), length, "the response must end short, not be padded")
        # What the server had sent before the cut may run past the new end (its socket buffer
        # grows to MiBs), and those bytes are true; a byte sent after the cut from past the new
        # end would be a zero from the page's tail, and differ from the file's random bytes here.
        self.assertEqual(received, content[:len(received)], "bytes that are not the file's")
        self.assertTrue(reset, "a reset tells the client at once that the body is cut")
        self.assertLess(seconds, 10)
        errors = server.errors()
        self.assertRegex(errors, r"sending 64\.0+ MiB by mmap over MPTCP")
        self.assertIn("the file shrank while it was sent", errors)
        with server.connect(cleanup=self.addCleanup) as sock:  # and it serves others
            lifecycle.get(sock, b"/small.txt")
            self.assertTrue(lifecycle.read_response_head(sock).startswith(b"HTTP/1.1 200 "))

    def mapped(self, server, path):
        with open("/proc/%d/maps" % server.process.pid) as f:
            return any(line.rstrip("\n").endswith(path) or (path + " (deleted)") in line for line in f)

    def test_a_deleted_file_is_unmapped_and_a_rewritten_one_sent_as_it_is_now(self):
        path = self.make_file("popular.iso", 8 * MiB)
        server = self.start("--log-level", "debug")
        for _ in range(2):
            self.fetch_over_mptcp(server, b"/popular.iso")
        self.assertRegex(server.errors(), r"sending 8\.0+ MiB by mmap over MPTCP")
        self.assertTrue(self.mapped(server, path), "the second request should leave it mapped")
        # Rewritten in place (same inode, same size): the kept mapping shows the new bytes.
        new_content = os.urandom(8 * MiB)
        with open(path, "r+b") as f:
            f.write(new_content)
        self.assertEqual(self.fetch_over_mptcp(server, b"/popular.iso"), new_content)
        self.assertEqual(len(re.findall(r"sending 8\.0+ MiB by mmap over MPTCP", server.errors())), 2,
                         "the rewritten file should come from the kept mapping")
        # Deleted: the mapping would hold the disk space; it goes without any request.
        os.unlink(path)
        deadline = time.time() + 12  # checked every 5 s
        while self.mapped(server, path) and time.time() < deadline:
            time.sleep(0.2)
        self.assertFalse(self.mapped(server, path), "the deleted file is still mapped")

    def test_mapped_files_0_copies_every_time(self):
        self.make_file("popular.iso", 8 * MiB)
        server = self.start("--log-level", "debug", "--mapped-files", "0")
        for _ in range(3):
            self.fetch_over_mptcp(server, b"/popular.iso")
        errors = server.errors()
        self.assertEqual(len(re.findall(r"sending 8\.0+ MiB by copy over MPTCP", errors)), 3, errors)
        self.assertNotIn("by mmap", errors)
        self.assertFalse(self.mapped(server, os.path.join(self.root, "popular.iso")))

    def test_a_file_deleted_while_sent_is_sent_whole(self):
        path = self.make_file("leaving.bin", 32 * MiB)
        server = self.start()
        sock = server.connect(timeout=20, cleanup=self.addCleanup)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        length, first = self.body_start(sock, b"/leaving.bin")
        os.unlink(path)
        received = len(first)
        while received < length:
            chunk = sock.recv(1 << 20)
            self.assertTrue(chunk, "closed after %d of %d bytes" % (received, length))
            received += len(chunk)
        self.assertEqual(received, length)
        lifecycle.get(sock, b"/leaving.bin")  # and now it is gone
        self.assertTrue(lifecycle.read_response_head(sock).startswith(b"HTTP/1.1 404 "))

    def reset_mid_body(self, server, protocol):
        sock = self.client_socket(server, protocol, timeout=5)
        lifecycle.get(sock, b"/big.bin")
        sock.recv(100000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # a reset, with most of the body still unsent

    def test_resets_mid_transfer_leave_no_descriptors(self):
        server = self.start()
        with server.connect(cleanup=self.addCleanup) as sock:  # warm up
            lifecycle.get(sock, b"/small.txt", b"Connection: close\r\n")
            while sock.recv(4096):
                pass
        # Two MPTCP requests map big.bin; the mapping keeps one descriptor by design.
        for _ in range(2):
            self.reset_mid_body(server, IPPROTO_MPTCP)
        time.sleep(0.5)
        self.assertTrue(self.mapped(server, os.path.join(self.root, "big.bin")))
        baseline = server.descriptors()
        for i in range(60):
            self.reset_mid_body(server, IPPROTO_MPTCP if i % 2 else 0)
        deadline = time.time() + 10
        while time.time() < deadline and server.descriptors() > baseline:
            time.sleep(0.2)
        print("  60 resets mid-body: descriptors %d before, %d after" % (baseline, server.descriptors()),
              file=sys.stderr)
        self.assertEqual(server.descriptors(), baseline)
        with server.connect(cleanup=self.addCleanup) as sock:
            lifecycle.get(sock, b"/small.txt")
            self.assertTrue(lifecycle.read_response_head(sock).startswith(b"HTTP/1.1 200 "))

    def test_out_of_descriptors_accept_pauses_without_spinning_and_resumes(self):
        server = self.start("--threads", "1", "--header-timeout", "60")
        # Lower the running server's descriptor limit (prlimit), leaving room for ~20 clients.
        limit = server.descriptors() + 20
        subprocess.run(["prlimit", "--pid", str(server.process.pid), "--nofile=%d:%d" % (limit, limit)],
                       check=True)
        idle = []
        for _ in range(40):  # the kernel's backlog takes them all; mpserve can take ~20
            sock = server.connect(timeout=5)
            self.addCleanup(sock.close)
            idle.append(sock)
        time.sleep(0.5)
        before = cpu_seconds(server.process.pid)
        time.sleep(2)
        used = cpu_seconds(server.process.pid) - before
        print("  out of descriptors: %.3f s of CPU in 2 s" % used, file=sys.stderr)
        self.assertLess(used, 0.3, "accept must pause on EMFILE, not spin")
        self.assertIn("Too many open files", server.errors())
        waiting = idle[-1]  # still in the backlog
        for sock in idle[:30]:
            sock.close()
        lifecycle.get(waiting, b"/small.txt")
        waiting.settimeout(5)
        self.assertTrue(lifecycle.read_response_head(waiting).startswith(b"HTTP/1.1 200 "))

    def test_the_descriptor_limit_is_raised_to_the_hard_limit(self):
        for soft, hard, warned in ((512, 8192, False), (256, 1000, True)):
            process = subprocess.Popen(["prlimit", "--nofile=%d:%d" % (soft, hard), lifecycle.MPSERVE, "--port", "0",
                                        "--bind", "127.0.0.1", "-d", self.root],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                self.assertIn(b"Serving HTTP", process.stdout.readline())
                with open("/proc/%d/limits" % process.pid) as f:
                    line = next(l for l in f if l.startswith("Max open files"))
                self.assertEqual(line.split()[3:5], [str(hard), str(hard)])
            finally:
                process.terminate()
                _, errors = process.communicate(timeout=15)
            self.assertEqual(b"descriptor limit 1000 is below --max-connections" in errors, warned, errors)

    def test_slow_header_connections_do_not_delay_others(self):
        server = self.start("--header-timeout", "30")
        slow = []
        for _ in range(500):
            sock = server.connect(timeout=5)
            self.addCleanup(sock.close)
            slow.append(sock)
        request = b"GET /small.txt HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100 + b"\r\n\r\n"
        worst = 0.0
        started = time.time()
        sent = 0
        while time.time() - started < 6:  # bounded: 6 s of drip-feeding
            for sock in slow:
                sock.send(request[sent:sent + 1])
            sent += 1
            t0 = time.time()
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as fast:
                lifecycle.get(fast, b"/small.txt", b"Connection: close\r\n")
                self.assertTrue(lifecycle.read_response_head(fast).startswith(b"HTTP/1.1 200 "))
            worst = max(worst, time.time() - t0)
            time.sleep(0.5)
        print("  500 drip-fed headers: the slowest of %d normal requests took %.3f s" % (sent, worst), file=sys.stderr)
        self.assertLess(worst, 1.0, "a normal request waited %.2f s" % worst)
        self.assertIsNone(server.process.poll())

    def test_fifos_and_devices_are_refused_at_once(self):
        os.mkfifo(os.path.join(self.root, "pipe"))
        os.symlink("/dev/zero", os.path.join(self.root, "zero"))
        server = self.start("--follow-symlinks")
        for path in (b"/pipe", b"/zero"):
            with server.connect(timeout=5, cleanup=self.addCleanup) as sock:
                t0 = time.time()
                lifecycle.get(sock, path)
                head = lifecycle.read_response_head(sock)
                self.assertTrue(head.startswith(b"HTTP/1.1 403 "), head)
                self.assertLess(time.time() - t0, 2)

    def test_small_files_changed_on_disk_are_served_as_they_are_now(self):
        page = os.path.join(self.root, "page.html")
        outside = tempfile.mkdtemp(prefix="mpserve-outside-")
        self.addCleanup(shutil.rmtree, outside, ignore_errors=True)
        os.mkdir(os.path.join(self.root, "dir"))
        with open(os.path.join(self.root, "dir", "inner.html"), "wb") as f:
            f.write(b"<p>inner</p>")
        with open(page, "wb") as f:
            f.write(b"<p>one</p>")
        time.sleep(SETTLE)  # the cache keeps only files unchanged for 2 s
        server = self.start()
        client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        self.addCleanup(client.close)

        def fetch(path="/page.html"):
            client.request("GET", path)
            response = client.getresponse()
            return response.status, response.read(), response.getheader("ETag")

        first = fetch()
        self.assertEqual(first[:2], (200, b"<p>one</p>"))
        self.assertEqual(fetch(), first)  # a hit, if the cache kept it (the next test shows it does)
        with open(page, "r+b") as f:  # same size, same inode
            f.write(b"<p>two</p>")
        second = fetch()
        self.assertEqual(second[:2], (200, b"<p>two</p>"))
        self.assertNotEqual(second[2], first[2])
        time.sleep(SETTLE)
        self.assertEqual(fetch(), second)  # kept again now that it has settled
        self.assertEqual(fetch(), second)
        with open(page + ".new", "wb") as f:
            f.write(b"<p>new</p>")
        os.rename(page + ".new", page)
        self.assertEqual(fetch()[:2], (200, b"<p>new</p>"))
        time.sleep(SETTLE)
        self.assertEqual(fetch()[:2], (200, b"<p>new</p>"))
        with open(os.path.join(outside, "secret.html"), "wb") as f:
            f.write(b"<p>new</p>")
        os.unlink(page)
        os.symlink(os.path.join(outside, "secret.html"), page)
        self.assertEqual(fetch()[0], 403)
        os.unlink(page)
        self.assertEqual(fetch()[0], 404)

        # The same file, through a link the normal open refuses: a directory moved away and an
        # absolute symlink in its place (moving a directory leaves its files' ctime alone).
        self.assertEqual(fetch("/dir/inner.html")[:2], (200, b"<p>inner</p>"))
        self.assertEqual(fetch("/dir/inner.html")[:2], (200, b"<p>inner</p>"))
        os.rename(os.path.join(self.root, "dir"), os.path.join(outside, "dir"))
        os.symlink(os.path.join(outside, "dir"), os.path.join(self.root, "dir"))
        self.assertEqual(fetch("/dir/inner.html")[0], 403)

    def count_openat2(self, server, path, requests):
        """(openat2 calls, of them with O_PATH) that mpserve makes while answering `requests`
        GETs of `path` on one keep-alive connection (strace attached to the running server,
        ended by PID)."""
        client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        self.addCleanup(client.close)
        client.request("GET", path)  # fills the cache
        self.assertEqual(client.getresponse().read(), b"small\n")
        log = tempfile.mktemp(prefix="mpserve-strace-")
        self.addCleanup(lambda: os.path.exists(log) and os.unlink(log))
        tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=openat2", "-o", log,
                                   "-p", str(server.process.pid)], stderr=subprocess.DEVNULL)
        try:
            if not traced_by(server.process.pid, tracer, deadline=10):
                self.skipTest("strace could not attach to mpserve (ptrace restricted?)")
            for _ in range(requests):
                client.request("GET", path)
                response = client.getresponse()
                self.assertEqual((response.status, response.read()), (200, b"small\n"))
        finally:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=10)
        with open(log) as f:
            calls = [line for line in f if "openat2(" in line]
        return len(calls), sum(1 for line in calls if "O_PATH" in line)

    def test_a_cached_small_file_is_not_opened_for_reading_again(self):
        if shutil.which("strace") is None:
            self.skipTest("strace is not installed (./run.sh deps installs it)")
        os.mkdir(os.path.join(self.root, "sub"))
        shutil.copy(os.path.join(self.root, "small.txt"), os.path.join(self.root, "sub", "small.txt"))
        time.sleep(SETTLE)  # both copies settle
        server = self.start()
        # Directly in the root a hit is one fstatat; deeper, the path is resolved again with
        # O_PATH. Nothing is opened for reading.
        self.assertEqual(self.count_openat2(server, "/small.txt", 50), (0, 0))
        self.assertEqual(self.count_openat2(server, "/sub/small.txt", 50), (50, 50))
        uncached = self.start("--small-file-cache", "0")
        self.assertEqual(self.count_openat2(uncached, "/small.txt", 50), (50, 0))

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: server_faults_test.py MPSERVE")
    lifecycle.MPSERVE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
