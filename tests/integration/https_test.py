#!/usr/bin/env python3
"""HTTPS on both sides with a certificate authority made by this test (the openssl command):
mpserve with --tls-cert/--tls-key against mpfetch, curl, openssl s_client and raw sockets,
and mpfetch against nginx with TLS. All traffic stays on 127.0.0.1.

usage: https_test.py MPSERVE MPFETCH     (exit 0 pass, 1 fail, 77 skip)
"""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fetch_resilience_test as common  # noqa: E402  (servers, ports, hashing)

MiB = 1 << 20
PKI = {}


def openssl(*args, cwd=None):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=cwd)


def make_pki(directory):
    """A CA; a server certificate it signs for localhost and 127.0.0.1; one for another
    name; one that expired in 2020; and a key that belongs to none of them."""
    def path(name):
        return os.path.join(directory, name)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=mp test CA", "-keyout", path("ca.key"),
            "-out", path("ca.pem"), "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    with open(path("index.txt"), "w"):
        pass
    with open(path("serial"), "w") as f:
        f.write("01\n")
    with open(path("ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = test\n[test]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}\n"
                "serial = {d}/serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n"
                "[any]\ncommonName = supplied\n".format(d=directory))

    def issue(name, common_name, alt_names, dates):
        openssl("req", "-new", *ec, "-subj", "/CN=" + common_name, "-keyout", path(name + ".key"),
                "-out", path(name + ".csr"))
        with open(path(name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % alt_names)
        openssl("ca", "-batch", "-notext", "-config", path("ca.cnf"), "-cert", path("ca.pem"),
                "-keyfile", path("ca.key"), "-in", path(name + ".csr"), "-out", path(name + ".pem"),
                "-extfile", path(name + ".ext"), *dates)
        PKI[name] = (path(name + ".pem"), path(name + ".key"))

    issue("server", "localhost", "DNS:localhost,IP:127.0.0.1", ["-days", "2"])
    issue("other", "other.test", "DNS:other.test", ["-days", "2"])
    issue("expired", "localhost", "DNS:localhost,IP:127.0.0.1",
          ["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"])
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("stray.key"))
    PKI["ca"] = path("ca.pem")
    PKI["stray_key"] = path("stray.key")


def fetch(*args, timeout=120):
    return subprocess.run([common.MPFETCH, *args], capture_output=True, text=True, timeout=timeout)


def curl(*args, timeout=120):
    return subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=timeout)


def start_https_server(root, name="server", *extra):
    cert, key = PKI[name]
    return common.start_mpserve(root, None, "--tls-cert", cert, "--tls-key", key, *extra)


def server_log(port):
    with open(os.path.join(common.WORK, "mpserve-%d.log" % port), errors="replace") as f:
        return f.read()


class HttpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(dir=common.WORK, prefix="www-")
        cls.big = os.path.join(cls.root, "big.bin")
        with open(cls.big, "wb") as f:
            for _ in range(256):
                f.write(os.urandom(MiB))
        with open(os.path.join(cls.root, "small.txt"), "w") as f:
            f.write("small\n")
        cls.big_sha = common.sha256_of(cls.big)
        cls.server, cls.port = start_https_server(cls.root)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.out = tempfile.mkdtemp(dir=common.WORK, prefix="out-")
        self.cleanups = []

    def tearDown(self):
        for cleanup in reversed(self.cleanups):
            cleanup()
        shutil.rmtree(self.out, ignore_errors=True)

    def url(self, path, host="localhost", port=None):
        return "https://%s:%d/%s" % (host, port or self.port, path)

    def test_mpfetch_downloads_256_mib_byte_exact_over_mptcp_and_tcp(self):
        target = os.path.join(self.out, "big.bin")
        result = fetch("--ca-certificate", PKI["ca"], self.url("big.bin"), "-O", target)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(common.sha256_of(target), self.big_sha)
        self.assertIn("over MPTCP", result.stderr)
        self.assertRegex(server_log(self.port), r"GET /big.bin done: 256.0 MiB .*MPTCP.*encrypted in user space")
        # Over TCP mpfetch reads records through the session's buffer, not straight into
        # OpenSSL's (the MPTCP path above): both must deliver every byte.
        os.remove(target)
        result = fetch("--mptcp", "off", "--ca-certificate", PKI["ca"], self.url("big.bin"), "-O", target)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("over TCP", result.stderr)
        self.assertEqual(common.sha256_of(target), self.big_sha)

    def test_ranges_and_resume(self):
        with open(self.big, "rb") as f:
            data = f.read(8 * MiB)
        result = curl("--cacert", PKI["ca"], "-r", "100-199", self.url("big.bin"), "-o", os.path.join(self.out, "r"),
                      "-w", "%{http_code}")
        self.assertEqual(result.stdout, "206", result.stderr)
        with open(os.path.join(self.out, "r"), "rb") as f:
            self.assertEqual(f.read(), data[100:200])
        result = curl("--cacert", PKI["ca"], "-r", "0-9,5000000-5000009", self.url("big.bin"), "-D", "-",
                      "-o", os.path.join(self.out, "multi"))
        self.assertIn("multipart/byteranges", result.stdout)
        with open(os.path.join(self.out, "multi"), "rb") as f:
            body = f.read()
        self.assertIn(data[0:10], body)
        self.assertIn(data[5000000:5000010], body)
        # Resume: the first 5 MiB are already there; mpfetch -c asks for the rest.
        target = os.path.join(self.out, "resumed.bin")
        with open(target, "wb") as f:
            f.write(data[:5 * MiB])
        result = fetch("-c", "--ca-certificate", PKI["ca"], self.url("big.bin"), "-O", target)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(common.sha256_of(target), self.big_sha)
        self.assertIn('"GET /big.bin HTTP/1.1" 206 %d' % (256 * MiB - 5 * MiB), server_log(self.port))

    def test_curl_with_cacert_gets_http11_and_the_same_bytes(self):
        target = os.path.join(self.out, "curl.bin")
        result = curl("--cacert", PKI["ca"], self.url("big.bin", host="127.0.0.1"), "-o", target,
                      "-w", "%{http_code} %{http_version}")
        self.assertEqual(result.stdout, "200 1.1", result.stderr)  # offered h2, chose http/1.1
        self.assertEqual(common.sha256_of(target), self.big_sha)
        result = curl(self.url("small.txt"))  # no --cacert: the system store does not know our CA
        self.assertEqual(result.returncode, 60, result.stderr)

    def test_the_system_store_is_a_hashed_directory(self):
        # SSL_CERT_DIR stands in for /etc/ssl/certs: the CA found there by its hash link.
        store = os.path.join(self.out, "certs")
        os.mkdir(store)
        shutil.copy(PKI["ca"], os.path.join(store, "test-ca.pem"))
        subprocess.run(["openssl", "rehash", store], check=True, capture_output=True)
        env = dict(os.environ, SSL_CERT_DIR=store)
        result = subprocess.run([common.MPFETCH, self.url("small.txt"), "-O", os.path.join(self.out, "s")],
                                capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_verification_failures_exit_5_with_the_reason(self):
        result = fetch(self.url("small.txt"), "-O", os.path.join(self.out, "a"))
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertIn("unknown issuer", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.out, "a")))

        other, port = start_https_server(self.root, "other")
        self.cleanups.append(other.stop)
        result = fetch("--ca-certificate", PKI["ca"], self.url("small.txt", port=port), "-O",
                       os.path.join(self.out, "b"))
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertIn("wrong host: it is not for localhost", result.stderr)
        result = fetch("--ca-certificate", PKI["ca"], self.url("small.txt", host="127.0.0.1", port=port), "-O",
                       os.path.join(self.out, "c"))
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertIn("IP address mismatch", result.stderr)

        result = fetch("--no-check-certificate", self.url("small.txt", port=port), "-O", os.path.join(self.out, "d"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("not checking localhost's certificate (--no-check-certificate)", result.stderr)

    def test_bad_certificate_files_stop_mpserve_at_start(self):
        cert, key = PKI["server"]
        cases = [
            (["--tls-cert", cert], "--tls-cert needs --tls-key"),
            (["--tls-cert", cert + ".missing", "--tls-key", key], "cannot read --tls-cert"),
            (["--tls-cert", cert, "--tls-key", PKI["stray_key"]], "is not the key of the certificate"),
            (["--tls-cert", PKI["expired"][0], "--tls-key", PKI["expired"][1]], "expired on Jan  2 00:00:00 2020"),
            (["--tls-cert", key, "--tls-key", key], "holds no usable PEM certificate"),
        ]
        for args, message in cases:
            result = subprocess.run([common.MPSERVE, "--port", "0", "--bind", "127.0.0.1", "-d", self.root, *args],
                                    capture_output=True, text=True, timeout=10)
            self.assertNotEqual(result.returncode, 0, args)
            self.assertIn(message, result.stderr, args)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)

    def test_a_client_that_never_says_hello_times_out_alone(self):
        server, port = start_https_server(self.root, "server", "--header-timeout", "2")
        self.cleanups.append(server.stop)
        silent = socket.create_connection(("127.0.0.1", port))
        half = socket.create_connection(("127.0.0.1", port))
        half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello cut short
        started = time.monotonic()
        for _ in range(5):  # others are served meanwhile, at once
            t0 = time.monotonic()
            result = curl("--cacert", PKI["ca"], self.url("small.txt", port=port))
            self.assertEqual(result.stdout, "small\n", result.stderr)
            self.assertLess(time.monotonic() - t0, 1.0)
        for sock in (silent, half):
            sock.settimeout(10)
            self.assertEqual(sock.recv(100), b"")  # closed by the server
            sock.close()
        waited = time.monotonic() - started
        self.assertGreaterEqual(waited, 1.5)
        self.assertLess(waited, 6)

    def test_plain_http_to_the_https_port_gets_a_clear_400(self):
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.sendall(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
            sock.settimeout(10)
            received = b""
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        self.assertTrue(received.startswith(b"HTTP/1.1 400 "), received)
        self.assertIn(b"plain HTTP request was sent to an HTTPS port", received)
        self.assertIn(b"Connection: close", received)

    def test_alpn_protocols_and_resumption_with_openssl_s_client(self):
        def s_client(*args, stdin=b""):
            return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port,
                                   "-CAfile", PKI["ca"], "-servername", "localhost", "-ign_eof", *args],
                                  input=stdin, capture_output=True, timeout=20)
        request = b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        result = s_client("-alpn", "h2,http/1.1", stdin=request)
        self.assertIn(b"ALPN protocol: http/1.1", result.stdout)
        self.assertIn(b"Verify return code: 0 (ok)", result.stdout)
        self.assertIn(b"small\n", result.stdout)
        result = s_client("-alpn", "h2", stdin=request)
        self.assertNotIn(b"small\n", result.stdout)  # no protocol in common: no answer
        result = s_client("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", stdin=request)
        self.assertNotIn(b"small\n", result.stdout)
        for version in ("-tls1_2", "-tls1_3"):
            session = os.path.join(self.out, "session" + version)
            result = s_client(version, "-sess_out", session, stdin=request)
            self.assertIn(b"small\n", result.stdout, version)
            result = s_client(version, "-sess_in", session, stdin=request)
            self.assertIn(b"Reused, TLSv1.", result.stdout, version)
            self.assertIn(b"small\n", result.stdout, version)

    def test_mpfetch_against_nginx_with_tls(self):
        if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
            self.skipTest("nginx is not installed")
        for name, expected_exit, words in (("server", 0, None), ("expired", 5, "expired (certificate has expired)")):
            nginx = common.NginxServer(self.root, tls=True, certificate=PKI[name])
            self.cleanups.append(nginx.stop)
            target = os.path.join(self.out, "nginx-" + name)
            result = fetch("--ca-certificate", PKI["ca"], "https://localhost:%d/big.bin" % nginx.port, "-O", target)
            self.assertEqual(result.returncode, expected_exit, result.stderr)
            if words:
                self.assertIn(words, result.stderr)
                self.assertFalse(os.path.exists(target))
            else:
                self.assertEqual(common.sha256_of(target), self.big_sha)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: https_test.py MPSERVE MPFETCH")
    common.MPSERVE, common.MPFETCH = os.path.abspath(sys.argv.pop(1)), os.path.abspath(sys.argv.pop(1))
    if not shutil.which("openssl") or not shutil.which("curl"):
        print("SKIP: the openssl and curl commands are needed")
        sys.exit(77)
    common.WORK = tempfile.mkdtemp(prefix="mp-https-")
    try:
        pki = os.path.join(common.WORK, "pki")
        os.mkdir(pki)
        make_pki(pki)
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(common.WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
