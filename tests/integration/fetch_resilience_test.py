#!/usr/bin/env python3
"""mpfetch against real servers started by this test: mpserve, nginx (also over TLS) and
Python's http.server, plus a small Python server for redirects, loops and chunked bodies.

Runs inside a private network and mount namespace (`unshare -n -m`, re-executed by itself),
so the loopback shaping (tc tbf) and the small tmpfs for the full-disk case vanish with it.

usage: fetch_resilience_test.py MPSERVE MPFETCH     (exit 0 pass, 1 fail, 77 skip)
"""

import hashlib
import http.server
import os
import re
import shutil
import signal
import socket
import socketserver
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

MPSERVE = MPFETCH = None
WORK = None
MiB = 1 << 20
IPPROTO_MPTCP = 262


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, process=None, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


def shape_loopback(rate):
    # tbf drops packets larger than its burst: loopback's 64 KiB MTU must come down first.
    subprocess.run(["ip", "link", "set", "lo", "mtu", "1500"], check=True)
    subprocess.run(["tc", "qdisc", "replace", "dev", "lo", "root", "tbf", "rate", rate,
                    "burst", "64kb", "latency", "100ms"], check=True)


def unshape_loopback():
    subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "link", "set", "lo", "mtu", "65536"], check=True)


class Process:
    """A server started by a test and ended by PID."""

    def __init__(self, args, **kwargs):
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, **kwargs)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


def start_mpserve(root, port=None, *extra):
    port = port or free_port()
    log = open(os.path.join(WORK, "mpserve-%d.log" % port), "ab")
    server = Process([MPSERVE, "--port", str(port), "--bind", "127.0.0.1", "-d", root,
                      "--progress-interval", "0", "--grace-period", "0", *extra],
                     stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    wait_listening(port, server.process)
    return server, port


class TestHandler(http.server.BaseHTTPRequestHandler):
    """Redirects, a redirect loop, a chunked body, and a body that changes: what the other
    servers here do not do on request."""
    protocol_version = "HTTP/1.1"
    chunked_body = os.urandom(3 * MiB + 123)

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/to-chunked":
            self.redirect(302, "/chunked")
        elif self.path == "/relative":
            self.redirect(301, "sub/../chunked?x=1")
        elif self.path in ("/loop-a", "/loop-b"):
            self.redirect(307, "/loop-b" if self.path == "/loop-a" else "/loop-a")
        elif self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            body = self.chunked_body
            for start in range(0, len(body), 100000):
                piece = body[start:start + 100000]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/busy":
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def redirect(self, status, location):
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def fetch(*args, cwd=None, timeout=120):
    return subprocess.run([MPFETCH, "--progress", "dot", *args], cwd=cwd or WORK, capture_output=True,
                          text=True, timeout=timeout)


class FetchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = os.path.join(WORK, "root")
        os.makedirs(cls.root, exist_ok=True)
        for name, size in (("big.bin", 256 * MiB), ("mid.bin", 48 * MiB), ("small.txt", 0)):
            path = os.path.join(cls.root, name)
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(os.urandom(size) if size else b"small\n")
        cls.hashes = {name: sha256_of(os.path.join(cls.root, name)) for name in os.listdir(cls.root)}

    def setUp(self):
        self.out = tempfile.mkdtemp(dir=WORK, prefix="out-")
        self.cleanups = []

    def tearDown(self):
        unshape_loopback()
        for cleanup in reversed(self.cleanups):
            cleanup()
        shutil.rmtree(self.out, ignore_errors=True)

    def output(self, name):
        return os.path.join(self.out, name)


class DownloadsTest(FetchTest):
    def test_byte_exact_from_mpserve_nginx_and_python(self):
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        result = fetch("http://127.0.0.1:%d/big.bin" % port, "-O", self.output("from-mpserve"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sha256_of(self.output("from-mpserve")), self.hashes["big.bin"])
        self.assertIn("over MPTCP", result.stderr)

        python_port = free_port()
        python = Process([sys.executable, "-m", "http.server", str(python_port), "--bind", "127.0.0.1",
                          "-d", self.root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.cleanups.append(python.stop)
        wait_listening(python_port, python.process)
        result = fetch("http://127.0.0.1:%d/big.bin" % python_port, "-O", self.output("from-python"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sha256_of(self.output("from-python")), self.hashes["big.bin"])
        self.assertIn("TCP (the server does not speak MPTCP)", result.stderr)

        nginx = NginxServer(self.root)
        self.cleanups.append(nginx.stop)
        result = fetch("http://127.0.0.1:%d/big.bin" % nginx.port, "-O", self.output("from-nginx"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sha256_of(self.output("from-nginx")), self.hashes["big.bin"])

    def test_names_from_urls_stay_in_the_directory_and_never_clobber(self):
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        target = os.path.join(self.out, "dir")
        for path in ("/..%2F..%2Fsmall.txt", "/%2e%2e", "/small.txt", "/small.txt"):
            fetch("http://127.0.0.1:%d%s" % (port, path), "-P", target)
        names = sorted(os.listdir(target))
        self.assertIn("small.txt", names)
        self.assertIn("small.txt.1", names)  # wget's no-clobber rule
        for name in names:
            self.assertNotIn("/", name)
        self.assertEqual(sorted(os.listdir(self.out)), ["dir"])  # nothing escaped

    def test_a_device_as_output_is_written_not_replaced(self):
        # A private null device, so that a failure cannot break the machine's /dev/null.
        device = self.output("null")
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        result = fetch("http://127.0.0.1:%d/mid.bin" % port, "-O", device)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(stat.S_ISCHR(os.stat(device).st_mode), "the device was replaced by a file")
        self.assertFalse(os.path.exists(device + ".part"))

    def test_server_response_prints_the_headers_unless_quiet(self):
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        url = "http://127.0.0.1:%d/small.txt" % port
        result = fetch(url, "-S", "-O", self.output("headers"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("\nHTTP/1.1 200 OK\n", result.stderr)  # (text mode turns CRLF into LF)
        self.assertIn("\nContent-Length: 6\n", result.stderr)
        # As in wget, -q silences -S too: nothing at all on a success.
        result = fetch(url, "-q", "-S", "-O", self.output("quiet"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")

    def test_replug_stalled_paths_needs_mptcp_and_cap_net_admin(self):
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        url = "http://127.0.0.1:%d/mid.bin" % port
        result = fetch("--replug-stalled-paths", "--mptcp", "off", url, "-O", self.output("off"))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("cannot go with --mptcp off", result.stderr)
        # Without CAP_NET_ADMIN (dropped from the bounding set when we are root): refused up front.
        if os.geteuid() != 0:
            command = [MPFETCH]
        elif shutil.which("setpriv"):
            command = ["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", MPFETCH]
        else:
            command = None  # root without setpriv: no way to run mpfetch without the capability
        if command:
            result = subprocess.run(command + ["--replug-stalled-paths", url, "-O", self.output("nocap")],
                                    capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("needs CAP_NET_ADMIN", result.stderr)
            self.assertFalse(os.path.exists(self.output("nocap")))
        if os.geteuid() != 0:
            return
        # With it, a download over one healthy path goes as usual (one subflow: nothing for the
        # detector to compare, so the host's endpoints are never touched here).
        result = fetch("--replug-stalled-paths", url, "-O", self.output("replug"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sha256_of(self.output("replug")), self.hashes["mid.bin"])
        self.assertIn("over MPTCP", result.stderr)
        self.assertNotIn("[paths]", result.stderr)

    def test_404_is_exit_8_and_leaves_no_file(self):
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        result = fetch("http://127.0.0.1:%d/missing.iso" % port, "-P", self.out)
        self.assertEqual(result.returncode, 8, result.stderr)
        self.assertIn("404", result.stderr.strip().splitlines()[-1])
        self.assertEqual(os.listdir(self.out), [])

    def test_connection_refused_until_the_tries_run_out_is_exit_4(self):
        port = free_port()
        started = time.time()
        result = fetch("http://127.0.0.1:%d/x" % port, "-t", "3", "--waitretry", "1", "-P", self.out)
        self.assertEqual(result.returncode, 4, result.stderr)
        self.assertIn("gave up after 3 tries", result.stderr)
        self.assertEqual(result.stderr.count("retrying in"), 2)
        self.assertLess(time.time() - started, 10)
        self.assertEqual(os.listdir(self.out), [])

    def test_sha256_mismatch_keeps_the_part_name_and_a_match_saves(self):
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        url = "http://127.0.0.1:%d/mid.bin" % port
        result = fetch(url, "-O", self.output("mid.bin"), "--sha256", "0" * 64)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("SHA-256 mismatch", result.stderr)
        self.assertFalse(os.path.exists(self.output("mid.bin")))
        self.assertTrue(os.path.exists(self.output("mid.bin.part")))
        result = fetch(url, "-O", self.output("mid.bin"), "--sha256", self.hashes["mid.bin"].upper())
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sha256_of(self.output("mid.bin")), self.hashes["mid.bin"])
        self.assertIn("SHA-256 verified", result.stderr)

    def test_a_full_disk_is_exit_3_and_keeps_the_part(self):
        disk = os.path.join(self.out, "small-disk")
        os.mkdir(disk)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", disk], check=True)
        self.cleanups.append(lambda: subprocess.run(["umount", disk]))
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        result = fetch("http://127.0.0.1:%d/mid.bin" % port, "-P", disk)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("No space left on device", result.stderr)
        part = os.path.join(disk, "mid.bin.part")
        self.assertTrue(os.path.exists(part))
        self.assertGreater(os.path.getsize(part), 4 * MiB)
        self.assertFalse(os.path.exists(os.path.join(disk, "mid.bin")))


class TerminalTest(FetchTest):
    def test_a_terminal_gets_a_bar_with_a_row_per_subflow_redrawn_in_place(self):
        import pty
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        shape_loopback("400mbit")  # 48 MiB: about a second, several frames at 0.2 s
        controller, terminal = pty.openpty()
        process = subprocess.Popen([MPFETCH, "--progress-interval", "0.2", "--log-level", "warn",
                                    "http://127.0.0.1:%d/mid.bin" % port, "-O", self.output("mid.bin")],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal)
        os.close(terminal)
        screen = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            screen += chunk
        os.close(controller)
        self.assertEqual(process.wait(timeout=60), 0)
        text = screen.decode("utf-8", "replace")
        self.assertIn("\x1b[K", text)                  # lines rewritten in place
        self.assertRegex(text, r"\x1b\[\d+A")           # the cursor goes back up to redraw
        self.assertRegex(text, r"100%\[=+\]")
        self.assertRegex(text, r"└ 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:%d +\d+%%" % port)
        self.assertEqual(sha256_of(self.output("mid.bin")), self.hashes["mid.bin"])


class RedirectsAndChunkedTest(FetchTest):
    def setUp(self):
        super().setUp()
        self.server = ThreadingServer(("127.0.0.1", 0), TestHandler)
        self.port = self.server.server_address[1]
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.cleanups.append(self.server.server_close)
        self.cleanups.append(self.server.shutdown)

    def test_redirect_to_a_chunked_body(self):
        result = fetch("http://127.0.0.1:%d/to-chunked" % self.port, "-O", self.output("c"))
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(self.output("c"), "rb") as f:
            self.assertEqual(f.read(), TestHandler.chunked_body)
        result = fetch("http://127.0.0.1:%d/relative" % self.port, "-O", self.output("r"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("redirected to http://127.0.0.1:%d/chunked?x=1" % self.port, result.stderr)

    def test_a_redirect_loop_is_detected(self):
        result = fetch("http://127.0.0.1:%d/loop-a" % self.port, "-P", self.out)
        self.assertNotEqual(result.returncode, 0)
        self.assertRegex(result.stderr.strip().splitlines()[-1], r"loop|redirect")
        self.assertEqual(os.listdir(self.out), [])

    def test_503_with_retry_after_is_retried_then_reported(self):
        result = fetch("http://127.0.0.1:%d/busy" % self.port, "-t", "2", "-P", self.out)
        self.assertEqual(result.returncode, 8, result.stderr)
        self.assertEqual(result.stderr.count("retrying in"), 1)


class ResumeTest(FetchTest):
    def test_the_server_dies_mid_transfer_and_comes_back(self):
        port = free_port()
        server, _ = start_mpserve(self.root, port)
        shape_loopback("200mbit")  # 48 MiB take about 2 s
        download = subprocess.Popen([MPFETCH, "--progress", "dot", "--waitretry", "1", "-t", "30", "--read-timeout", "5",
                                     "http://127.0.0.1:%d/mid.bin" % port, "-O", self.output("mid.bin")],
                                    stderr=subprocess.PIPE, text=True)
        self.cleanups.append(lambda: download.kill() if download.poll() is None else None)
        time.sleep(0.8)
        server.stop()  # the whole connection goes away
        time.sleep(1.5)
        server, _ = start_mpserve(self.root, port)
        self.cleanups.append(server.stop)
        _, errors = download.communicate(timeout=60)
        self.assertEqual(download.returncode, 0, errors)
        self.assertIn("retrying in", errors)
        self.assertRegex(errors, r"HTTP 206")
        self.assertRegex(errors, r"saved .*mid\.bin after \d+ retr(y|ies)")
        self.assertEqual(sha256_of(self.output("mid.bin")), self.hashes["mid.bin"])

    def test_continue_resumes_a_part_left_by_a_killed_run(self):
        server, port = start_mpserve(self.root)
        self.cleanups.append(server.stop)
        shape_loopback("200mbit")
        url = "http://127.0.0.1:%d/mid.bin" % port
        first = subprocess.Popen([MPFETCH, "-q", url, "-O", self.output("mid.bin")])
        time.sleep(0.8)
        first.kill()
        first.wait()
        part = self.output("mid.bin.part")
        self.assertTrue(os.path.exists(part))
        kept = os.path.getsize(part)
        self.assertGreater(kept, 0)
        unshape_loopback()
        result = fetch("-c", url, "-O", self.output("mid.bin"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("HTTP 206", result.stderr)
        self.assertIn("resuming", result.stderr)
        self.assertEqual(sha256_of(self.output("mid.bin")), self.hashes["mid.bin"])

    def test_a_server_that_ignores_range_restarts_cleanly(self):
        # python's http.server answers 200 to a Range request: the file restarts from zero.
        python_port = free_port()
        python = Process([sys.executable, "-m", "http.server", str(python_port), "--bind", "127.0.0.1",
                          "-d", self.root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.cleanups.append(python.stop)
        wait_listening(python_port, python.process)
        with open(self.output("mid.bin.part"), "wb") as f:
            f.write(b"not the right bytes" * 1000)
        result = fetch("-c", "http://127.0.0.1:%d/mid.bin" % python_port, "-O", self.output("mid.bin"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sha256_of(self.output("mid.bin")), self.hashes["mid.bin"])

    def test_a_resource_that_changed_restarts_with_a_warning(self):
        root = tempfile.mkdtemp(dir=WORK, prefix="changing-")
        path = os.path.join(root, "file.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(8 * MiB))
        server, port = start_mpserve(root)
        self.cleanups.append(server.stop)
        url = "http://127.0.0.1:%d/file.bin" % port
        shape_loopback("50mbit")
        first = subprocess.Popen([MPFETCH, "-q", url, "-O", self.output("file.bin")])
        time.sleep(0.5)
        first.kill()
        first.wait()
        unshape_loopback()
        self.assertGreater(os.path.getsize(self.output("file.bin.part")), 0)
        time.sleep(1.1)  # a new mtime, so a new ETag and Last-Modified
        with open(path, "wb") as f:
            f.write(os.urandom(8 * MiB))
        result = fetch("-c", url, "-O", self.output("file.bin"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stderr, r"(?i)changed")
        self.assertEqual(sha256_of(self.output("file.bin")), sha256_of(path))


def make_self_signed(directory):
    """A self-signed certificate for localhost and 127.0.0.1, made in `directory`: (cert, key)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class NginxServer:
    def __init__(self, root, tls=False, certificate=None):
        """With tls, serves `certificate` (a (cert, key) pair of PEM files) or a self-signed one."""
        self.port = free_port()
        self.prefix = tempfile.mkdtemp(dir=WORK, prefix="nginx-")
        os.chmod(WORK, 0o755)
        for directory, _, names in os.walk(root):
            os.chmod(directory, 0o755)
            for name in names:
                os.chmod(os.path.join(directory, name), 0o644)
        ssl = ""
        if tls and certificate:
            self.cert, key = certificate
        elif tls:
            self.cert, key = make_self_signed(self.prefix)
        if tls:
            ssl = "ssl_certificate %s; ssl_certificate_key %s;" % (self.cert, key)
        config = os.path.join(self.prefix, "nginx.conf")
        with open(config, "w") as f:
            f.write("""worker_processes 1; daemon off; pid {p}/nginx.pid; error_log {p}/error.log;
events {{ worker_connections 64; }}
http {{ access_log off; sendfile on; client_body_temp_path {p}/b; proxy_temp_path {p}/x;
  fastcgi_temp_path {p}/f; uwsgi_temp_path {p}/u; scgi_temp_path {p}/s;
  server {{ listen 127.0.0.1:{port}{s}; root {root}; {ssl} }} }}
""".format(p=self.prefix, port=self.port, s=" ssl" if tls else "", root=root, ssl=ssl))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = Process([nginx, "-c", config, "-p", self.prefix, "-e", os.path.join(self.prefix, "error.log")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.process.process)

    def stop(self):
        self.process.stop()


class TlsTest(FetchTest):
    def test_https_verification(self):
        if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
            self.skipTest("nginx is not installed")
        nginx = NginxServer(self.root, tls=True)
        self.cleanups.append(nginx.stop)
        url = "https://127.0.0.1:%d/small.txt" % nginx.port
        result = fetch(url, "-O", self.output("untrusted"))
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertIn("certificate", result.stderr.strip().splitlines()[-1])
        self.assertFalse(os.path.exists(self.output("untrusted")))
        result = fetch(url, "-O", self.output("trusted"), "--ca-certificate", nginx.cert)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(self.output("trusted"), "rb") as f:
            self.assertEqual(f.read(), b"small\n")
        result = fetch("https://localhost:%d/small.txt" % nginx.port, "-O", self.output("by-name"),
                       "--ca-certificate", nginx.cert)
        self.assertEqual(result.returncode, 0, result.stderr)
        result = fetch(url, "-O", self.output("unchecked"), "--no-check-certificate")
        self.assertEqual(result.returncode, 0, result.stderr)

    def start_tls_server(self, handler):
        """A Python HTTPS server with `handler` on an MPTCP listener, which takes plain TCP
        clients too: mpfetch --mptcp off reads TLS records through its session's buffer, an
        MPTCP connection has OpenSSL read them straight from the socket. Returns the port and
        the certificate (made here)."""
        cert, key = make_self_signed(self.out)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = ThreadingServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        server.socket.close()
        try:
            server.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
        except OSError as e:
            self.skipTest("no MPTCP sockets here: %s" % e)
        server.server_bind()
        server.server_activate()
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.cleanups.append(server.server_close)
        self.cleanups.append(server.shutdown)
        return server.server_address[1], cert

    def test_a_tls_stream_cut_mid_body_is_exit_4_and_keeps_the_part(self):
        # Half of the promised body, then TCP closes without close_notify: both ways of
        # receiving must see the cut and keep the half as a .part, never as a finished file.
        half = 2 * MiB
        body = os.urandom(2 * half)

        class CutHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:half])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # an SSLSocket's shutdown sends no alert
                self.close_connection = True

        port, cert = self.start_tls_server(CutHandler)
        for mode, over in (("off", "over TCP"), ("auto", "over MPTCP")):
            target = self.output("cut-" + mode)
            result = fetch("-t", "1", "--read-timeout", "10", "--mptcp", mode, "--ca-certificate", cert,
                           "https://127.0.0.1:%d/cut.bin" % port, "-O", target)
            self.assertEqual(result.returncode, 4, mode + ": " + result.stderr)
            self.assertIn(over, result.stderr)
            self.assertIn("broke after 2.00 MiB of the body: the TLS stream ended without close_notify", result.stderr)
            self.assertFalse(os.path.exists(target), mode)
            with open(target + ".part", "rb") as f:
                self.assertEqual(f.read(), body[:half], mode)

    def test_a_kept_alive_connection_closed_without_close_notify_is_reopened(self):
        # The server answers in full, keeps the connection "alive" and then drops it without an
        # alert, as servers do with idle connections. The next request on it fails: mpfetch must
        # open a new connection without spending a try (-t 1) on it.
        bodies = {"/a.bin": os.urandom(300 * 1024), "/b.bin": os.urandom(200 * 1024)}

        class DroppingHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                body = bodies[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # no alert, no "Connection: close"
                self.close_connection = True

        port, cert = self.start_tls_server(DroppingHandler)
        for mode, over in (("off", "over TCP"), ("auto", "over MPTCP")):
            directory = self.output("dropped-" + mode)
            result = fetch("-t", "1", "--read-timeout", "10", "--mptcp", mode, "--ca-certificate", cert,
                           "-P", directory, "https://127.0.0.1:%d/a.bin" % port, "https://127.0.0.1:%d/b.bin" % port)
            self.assertEqual(result.returncode, 0, mode + ": " + result.stderr)
            self.assertEqual(result.stderr.count("connected to 127.0.0.1:%d %s" % (port, over)), 2, result.stderr)
            for name, body in bodies.items():
                with open(os.path.join(directory, name.lstrip("/")), "rb") as f:
                    self.assertEqual(f.read(), body, mode + name)


def main():
    global MPSERVE, MPFETCH, WORK
    if len(sys.argv) < 3:
        sys.exit("usage: fetch_resilience_test.py MPSERVE MPFETCH")
    MPSERVE, MPFETCH = os.path.abspath(sys.argv.pop(1)), os.path.abspath(sys.argv.pop(1))
    if os.environ.get("MP_IN_PRIVATE_NETNS") != "1":
        if subprocess.run(["unshare", "-n", "-m", "true"], stderr=subprocess.DEVNULL).returncode != 0:
            print("SKIP: cannot create network and mount namespaces (unshare -n -m)")
            sys.exit(77)
        env = dict(os.environ, MP_IN_PRIVATE_NETNS="1")
        os.execvpe("unshare", ["unshare", "-n", "-m", sys.executable, os.path.abspath(__file__),
                               MPSERVE, MPFETCH, *sys.argv[1:]], env)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    WORK = tempfile.mkdtemp(prefix="mpfetch-resilience-")
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
