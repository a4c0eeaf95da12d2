#!/usr/bin/env python3
"""mpserve's command line, limits and lifecycle, on real processes and sockets over loopback.

- bad options, a missing or unreadable directory, a port in use: one line and a non-zero exit;
- the python-compatible start line; --version; the access log in combined format;
- slow clients: header timeout, send timeout, max connections;
- SIGTERM: stop accepting, close idle connections, let transfers finish; grace period; a
  second signal; exit 0;
- no descriptor leaks after abuse.

usage: server_lifecycle_test.py MPSERVE      (exit 0 pass, 1 fail)
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

MPSERVE = None


class Server:
    """One mpserve process started by a test, ended by PID."""

    def __init__(self, directory, *extra, bind="127.0.0.1"):
        self.errors_path = tempfile.mktemp(prefix="mpserve-lifecycle-err-")
        args = [MPSERVE, "--port", "0", "--directory", directory, "--progress-interval", "0", *extra]
        if bind:
            args += ["--bind", bind]
        with open(self.errors_path, "wb") as errors:
            self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors)
        self.first_line = self.process.stdout.readline().decode()
        self.second_line = self.process.stdout.readline().decode()
        match = re.search(r" port (\d+) ", self.first_line)
        if not match:
            self.stop()
            raise RuntimeError("mpserve did not start: %r %s" % (self.first_line, self.errors()))
        self.port = int(match.group(1))

    def errors(self):
        with open(self.errors_path, errors="replace") as f:
            return f.read()

    def connect(self, timeout=5.0, cleanup=None):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if cleanup:
            cleanup(sock.close)  # closed even when the test fails
        return sock

    def descriptors(self):
        return len(os.listdir("/proc/%d/fd" % self.process.pid))

    def signal(self, number=signal.SIGTERM):
        self.process.send_signal(number)

    def wait(self, timeout):
        return self.process.wait(timeout=timeout)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        if os.path.exists(self.errors_path):
            os.unlink(self.errors_path)


def run(*args, timeout=10):
    return subprocess.run([MPSERVE, *args], capture_output=True, text=True, timeout=timeout)


def get(sock, path, extra=b""):
    sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")


def read_response_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="mpserve-lifecycle-")
        with open(os.path.join(self.root, "small.txt"), "wb") as f:
            f.write(b"small\n")
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(os.urandom(48 << 20))
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            server.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, *extra, **kwargs):
        server = Server(self.root, *extra, **kwargs)
        self.servers.append(server)
        return server


class CommandLineTest(LifecycleTest):
    def assert_one_line_failure(self, result, code, text):
        self.assertEqual(result.returncode, code, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("mpserve: "), lines[0])
        self.assertIn(text, lines[0])

    def test_bad_options_are_one_line_and_exit_2(self):
        self.assert_one_line_failure(run("--port", "70000"), 2, "70000")
        self.assert_one_line_failure(run("--no-such-option"), 2, "no-such-option")
        self.assert_one_line_failure(run("--mptcp", "maybe"), 2, "maybe")
        self.assert_one_line_failure(run("--threads", "0"), 2, "threads")
        self.assert_one_line_failure(run("--mapped-files", "-1"), 2, "mapped-files")
        self.assert_one_line_failure(run("--body-method", "zerocopy"), 2, "zerocopy")

    def test_missing_and_unreadable_directories(self):
        self.assert_one_line_failure(run("--port", "0", "-d", "/nonexistent/dir"), 1, "No such file")
        locked = os.path.join(self.root, "locked")
        os.mkdir(locked, 0o700)
        if shutil.which("setpriv") is None:
            self.skipTest("setpriv missing: cannot run as an unprivileged user")
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                 MPSERVE, "--port", "0", "--bind", "127.0.0.1", "-d", locked],
                                capture_output=True, text=True, timeout=10)
        self.assert_one_line_failure(result, 1, "Permission denied")

    def test_port_in_use(self):
        server = self.start()
        result = run("--bind", "127.0.0.1", "-d", self.root, str(server.port))
        self.assert_one_line_failure(result, 1, "Address already in use")

    def test_start_lines_are_pythons_plus_the_socket_kind(self):
        server = self.start(bind=None)
        self.assertEqual(server.first_line,
                         "Serving HTTP on :: port %d (http://[::]:%d/) ...\n" % (server.port, server.port))
        self.assertRegex(server.second_line, r"^Listening socket (is MPTCP|fell back to TCP: .+)\n$")
        server = self.start()
        self.assertEqual(server.first_line, "Serving HTTP on 127.0.0.1 port %d (http://127.0.0.1:%d/) ...\n"
                         % (server.port, server.port))

    def test_version_and_help(self):
        result = run("--version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^mpserve \d+\.\d+\.\d+")
        result = run("--help")
        self.assertEqual(result.returncode, 0)
        for option in ("--bind", "--directory", "--mptcp", "--threads", "--progress-interval",
                       "--access-log", "--log-json", "--log-level", "--version"):
            self.assertIn(option, result.stdout)


class AccessLogTest(LifecycleTest):
    def test_combined_format_to_a_file_and_to_stdout(self):
        log_path = os.path.join(self.root, "..", os.path.basename(self.root) + "-access.log")
        server = self.start("--access-log", log_path)
        try:
            with server.connect(cleanup=self.addCleanup) as sock:
                get(sock, b"/small.txt", b"User-Agent: test \"agent\"\r\nReferer: http://r/\r\nConnection: close\r\n")
                while sock.recv(65536):
                    pass
            deadline = time.time() + 5
            while time.time() < deadline and not os.path.getsize(log_path):
                time.sleep(0.05)
            with open(log_path) as f:
                line = f.read().strip()
            self.assertRegex(line, r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                                   r'"GET /small\.txt HTTP/1\.1" 200 6 "http://r/" "test \\x22agent\\x22"$')
        finally:
            os.unlink(log_path)


class SlowClientsTest(LifecycleTest):
    def test_a_silent_connection_is_closed_after_the_header_timeout(self):
        server = self.start("--header-timeout", "1")
        with server.connect(timeout=10, cleanup=self.addCleanup) as sock:
            started = time.time()
            self.assertEqual(sock.recv(100), b"")  # closed without an answer, as nginx does
            self.assertLess(time.time() - started, 5)

    def test_an_idle_keep_alive_connection_is_closed_after_the_keepalive_timeout(self):
        server = self.start("--keepalive-timeout", "1")
        sock = server.connect(timeout=10, cleanup=self.addCleanup)
        get(sock, b"/small.txt")
        self.assertTrue(read_response_head(sock).startswith(b"HTTP/1.1 200 "))
        time.sleep(0.5)  # idle, but within the timeout: the next request is still answered
        get(sock, b"/small.txt")
        self.assertTrue(read_response_head(sock).startswith(b"HTTP/1.1 200 "))
        started = time.time()
        data = b""
        while True:  # the rest of the body, then the server's close
            chunk = sock.recv(100)
            if not chunk:
                break
            data += chunk
        self.assertGreater(time.time() - started, 0.7)
        self.assertLess(time.time() - started, 5)

    def test_a_client_that_stops_reading_is_dropped_after_the_send_timeout(self):
        server = self.start("--send-timeout", "1")
        sock = server.connect(timeout=10, cleanup=self.addCleanup)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        get(sock, b"/big.bin")
        deadline = time.time() + 10
        while time.time() < deadline and "client stopped reading" not in server.errors():
            time.sleep(0.1)
        self.assertIn("client stopped reading", server.errors())
        sock.close()

    def test_max_connections_holds_back_the_next_until_one_closes(self):
        server = self.start("--max-connections", "2")
        first, second = server.connect(cleanup=self.addCleanup), server.connect(cleanup=self.addCleanup)
        time.sleep(0.3)  # both accepted
        third = server.connect(cleanup=self.addCleanup)
        get(third, b"/small.txt")
        third.settimeout(0.8)
        with self.assertRaises(socket.timeout):
            third.recv(100)
        first.close()
        third.settimeout(5)
        self.assertTrue(read_response_head(third).startswith(b"HTTP/1.1 200 "))
        second.close()
        third.close()

    def test_no_descriptor_leaks_after_abuse(self):
        server = self.start("--header-timeout", "1")
        with server.connect(cleanup=self.addCleanup) as sock:  # warm up: logging, first accept
            get(sock, b"/small.txt", b"Connection: close\r\n")
            while sock.recv(4096):
                pass
        time.sleep(0.2)
        baseline = server.descriptors()
        for i in range(200):
            with server.connect(cleanup=self.addCleanup) as sock:
                kind = i % 5
                if kind == 0:
                    sock.sendall(b"GARBAGE\r\n\r\n")
                elif kind == 1:
                    get(sock, b"/missing")
                elif kind == 2:
                    get(sock, b"/big.bin")  # closed mid-body
                    sock.recv(1000)
                elif kind == 3:
                    sock.sendall(b"GET /small.txt HTTP/1.1\r\nHost")  # half a header
                # kind 4: connect and leave
        deadline = time.time() + 10
        while time.time() < deadline and server.descriptors() > baseline:
            time.sleep(0.2)
        self.assertEqual(server.descriptors(), baseline)
        self.assertIsNone(server.process.poll())


class GracefulStopTest(LifecycleTest):
    def test_sigterm_lets_a_running_transfer_finish_and_closes_idle_connections(self):
        server = self.start("--grace-period", "30")
        idle = server.connect(cleanup=self.addCleanup)
        get(idle, b"/small.txt")
        read_response_head(idle)
        busy = server.connect(timeout=20, cleanup=self.addCleanup)
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        get(busy, b"/big.bin")
        received = len(busy.recv(65536))
        server.signal(signal.SIGTERM)
        time.sleep(0.5)
        # Idle keep-alive connection: closed. New connections: refused.
        idle.settimeout(5)
        self.assertEqual(idle.recv(100), b"")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
        # The transfer still completes, slowly read.
        while True:
            chunk = busy.recv(1 << 20)
            if not chunk:
                break
            received += len(chunk)
        self.assertGreaterEqual(received, 48 << 20)
        self.assertEqual(server.wait(timeout=10), 0)

    def test_the_grace_period_ends_a_stalled_transfer_and_exits_0(self):
        server = self.start("--grace-period", "1")
        stalled = server.connect(cleanup=self.addCleanup)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        get(stalled, b"/big.bin")
        time.sleep(0.3)
        started = time.time()
        server.signal(signal.SIGTERM)
        self.assertEqual(server.wait(timeout=10), 0)
        self.assertLess(time.time() - started, 5)
        self.assertIn("grace period over", server.errors())
        stalled.close()

    def test_a_second_signal_stops_at_once(self):
        server = self.start("--grace-period", "60")
        stalled = server.connect(cleanup=self.addCleanup)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        get(stalled, b"/big.bin")
        time.sleep(0.3)
        server.signal(signal.SIGTERM)
        time.sleep(0.3)
        started = time.time()
        server.signal(signal.SIGINT)
        self.assertEqual(server.wait(timeout=10), 0)
        self.assertLess(time.time() - started, 5)
        stalled.close()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: server_lifecycle_test.py MPSERVE")
    MPSERVE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
