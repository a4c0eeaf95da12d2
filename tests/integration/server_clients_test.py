#!/usr/bin/env python3
"""mpserve checked by clients nobody here wrote: curl, wget and Python's http.client.

Starts mpserve on 127.0.0.1 (a free port it picks) over a directory this test fills, then
asserts what real clients see: byte-exact bodies, ranges, conditionals, errors, HEAD,
keep-alive, pipelining, HTTP/1.0, directories and a 5 GiB sparse file.

usage: server_clients_test.py MPSERVE      (exit 0 pass, 1 fail)
"""

import email.parser
import hashlib
import http.client
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
SERVER = None  # (process, port, directory, log path)
GiB = 1 << 30


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    with open(path, "rb") as f:
        return sha256(f.read())


def start_server(directory, *extra):
    with tempfile.NamedTemporaryFile(prefix="mpserve-log-", suffix=".txt", delete=False) as log:
        pass
    with open(log.name, "wb") as errors:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [MPSERVE, "--port", "0", "--bind", "127.0.0.1", "--directory", directory,
             "--progress-interval", "0", *extra],
            stdout=subprocess.PIPE, stderr=errors, text=True)
    line = process.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N (...) ..."
    match = re.search(r" port (\d+) ", line)
    if not match:
        process.kill()
        process.wait()
        with open(log.name) as errors:
            raise RuntimeError("mpserve did not start: %r %s" % (line, errors.read()))
    return process, int(match.group(1)), log.name


def stop_server(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def raw_exchange(port, data, read_until_close=True, timeout=5.0):
    """Sends raw bytes, returns everything the server sends until it closes (or timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if not read_until_close:
                    break
        except socket.timeout:
            pass
        return b"".join(chunks)


def split_responses(data):
    """Splits a byte stream of Content-Length-delimited responses into (status, headers, body)."""
    responses = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            raise AssertionError("incomplete response: %r" % data[:200])
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        responses.append((status, headers, rest[:length]))
        data = rest[length:]
    return responses


def setUpModule():
    global SERVER
    root = tempfile.mkdtemp(prefix="mpserve-clients-")
    files = {
        "random.bin": os.urandom(3 * 1024 * 1024 + 17),
        "hello.txt": b"hello, world\n",
        "image.iso": b"ISO9660" * 100,
        "archive.tar.xz": b"\xfd7zXZ\x00" * 10,
        "noext": b"plain bytes",
        "dir/index.html": b"<h1>the index</h1>\n",
        "listed/a & b <c>.txt": b"a",
        "listed/zeta.txt": b"z",
        "listed/Sub Dir/inner.txt": b"inner",
    }
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    os.symlink("/etc/passwd", os.path.join(root, "escape-link"))
    os.symlink("hello.txt", os.path.join(root, "inside-link"))
    # 5 GiB, sparse: a marker past 4 GiB checks 64-bit offsets end to end.
    with open(os.path.join(root, "big.sparse"), "wb") as f:
        f.truncate(5 * GiB)
        f.seek(4 * GiB + 12345)
        f.write(b"MARKER-PAST-4GiB")
    process, port, log = start_server(root)
    SERVER = (process, port, root, log, files)


def tearDownModule():
    if SERVER:
        process, _, root, log, _ = SERVER
        stop_server(process)
        process.stdout.close()
        shutil.rmtree(root, ignore_errors=True)
        os.unlink(log)


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.process, self.port, self.root, self.log, self.files = SERVER
        self.url = "http://127.0.0.1:%d" % self.port

    def request(self, method, path, headers=None, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response, data


class BodiesTest(ServerTest):
    def test_curl_wget_and_http_client_get_the_exact_bytes(self):
        expected = self.files["random.bin"]
        out = os.path.join(tempfile.gettempdir(), "mpserve-clients-out-%d" % os.getpid())
        try:
            subprocess.run(["curl", "-sS", "--fail", "-o", out, self.url + "/random.bin"], check=True)
            self.assertEqual(file_sha256(out), sha256(expected), "curl")
            os.unlink(out)
            subprocess.run(["wget", "-q", "-O", out, self.url + "/random.bin"], check=True)
            self.assertEqual(file_sha256(out), sha256(expected), "wget")
        finally:
            if os.path.exists(out):
                os.unlink(out)
        response, data = self.request("GET", "/random.bin")
        self.assertEqual(response.status, 200)
        self.assertEqual(sha256(data), sha256(expected), "http.client")
        self.assertEqual(response.getheader("Content-Length"), str(len(expected)))
        self.assertEqual(response.getheader("Accept-Ranges"), "bytes")

    def test_wget_continue_resumes_with_a_range(self):
        expected = self.files["random.bin"]
        out = os.path.join(tempfile.gettempdir(), "mpserve-wget-c-%d" % os.getpid())
        try:
            with open(out, "wb") as f:
                f.write(expected[:1000000])
            subprocess.run(["wget", "-q", "-c", "-O", out, self.url + "/random.bin"], check=True)
            self.assertEqual(file_sha256(out), sha256(expected))
        finally:
            os.unlink(out)

    def test_content_types(self):
        for path, expected in [("/hello.txt", "text/plain"), ("/image.iso", "application/x-iso9660-image"),
                               ("/archive.tar.xz", "application/x-xz"),
                               ("/noext", "application/octet-stream")]:
            response, _ = self.request("GET", path)
            self.assertEqual(response.status, 200, path)
            self.assertEqual(response.getheader("Content-Type"), expected, path)

    def test_head_has_the_headers_of_get_and_no_body(self):
        get, get_body = self.request("GET", "/hello.txt")
        head, head_body = self.request("HEAD", "/hello.txt")
        self.assertEqual(head.status, 200)
        self.assertEqual(head_body, b"")
        for name in ("Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges"):
            self.assertEqual(head.getheader(name), get.getheader(name), name)
        self.assertEqual(get_body, self.files["hello.txt"])
        # A HEAD of a 404 also has no body but says how long it would be.
        missing, body = self.request("HEAD", "/missing")
        self.assertEqual(missing.status, 404)
        self.assertEqual(body, b"")
        self.assertGreater(int(missing.getheader("Content-Length")), 0)

    def test_date_and_server_headers_are_always_there(self):
        for path in ("/hello.txt", "/missing", "/dir"):
            response, _ = self.request("GET", path)
            self.assertIsNotNone(response.getheader("Date"), path)
            self.assertTrue(response.getheader("Server").startswith("mpserve/"), path)
            self.assertRegex(response.getheader("Date"), r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$")


class RangesTest(ServerTest):
    def test_single_suffix_and_open_ended_ranges(self):
        data = self.files["random.bin"]
        size = len(data)
        for header, first, last in [("bytes=0-99", 0, 99), ("bytes=100-", 100, size - 1),
                                    ("bytes=-500", size - 500, size - 1),
                                    ("bytes=10-" + str(size + 1000), 10, size - 1)]:
            response, body = self.request("GET", "/random.bin", {"Range": header})
            self.assertEqual(response.status, 206, header)
            self.assertEqual(response.getheader("Content-Range"), "bytes %d-%d/%d" % (first, last, size), header)
            self.assertEqual(body, data[first:last + 1], header)
        # curl's own range option
        out = subprocess.run(["curl", "-sS", "-r", "5-9", self.url + "/hello.txt"], capture_output=True, check=True)
        self.assertEqual(out.stdout, b", wor")

    def test_unsatisfiable_range_is_416_with_the_size(self):
        size = len(self.files["hello.txt"])
        response, _ = self.request("GET", "/hello.txt", {"Range": "bytes=%d-" % size})
        self.assertEqual(response.status, 416)
        self.assertEqual(response.getheader("Content-Range"), "bytes */%d" % size)

    def test_invalid_ranges_are_ignored(self):
        for header in ("bytes=5-2", "bytes=abc", "items=0-1", "bytes=--1"):
            response, body = self.request("GET", "/hello.txt", {"Range": header})
            self.assertEqual(response.status, 200, header)
            self.assertEqual(body, self.files["hello.txt"], header)

    def test_several_ranges_are_multipart_byteranges(self):
        data = self.files["random.bin"]
        response, body = self.request("GET", "/random.bin", {"Range": "bytes=0-9,1000-1999,-5"})
        self.assertEqual(response.status, 206)
        content_type = response.getheader("Content-Type")
        self.assertTrue(content_type.startswith("multipart/byteranges; boundary="))
        self.assertEqual(int(response.getheader("Content-Length")), len(body))
        message = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        parts = message.get_payload()
        self.assertEqual(len(parts), 3)
        expected = [(0, 9), (1000, 1999), (len(data) - 5, len(data) - 1)]
        for part, (first, last) in zip(parts, expected):
            self.assertEqual(part["Content-Range"], "bytes %d-%d/%d" % (first, last, len(data)))
            self.assertEqual(part["Content-Type"], "application/octet-stream")
            self.assertEqual(part.get_payload(decode=True), data[first:last + 1])

    def test_if_range_with_a_stale_validator_gets_the_whole_file(self):
        response, _ = self.request("GET", "/hello.txt")
        etag = response.getheader("ETag")
        response, body = self.request("GET", "/hello.txt", {"Range": "bytes=0-1", "If-Range": etag})
        self.assertEqual((response.status, body), (206, b"he"))
        response, body = self.request("GET", "/hello.txt", {"Range": "bytes=0-1", "If-Range": '"stale"'})
        self.assertEqual((response.status, body), (200, self.files["hello.txt"]))

    def test_five_gib_sparse_file_and_a_range_past_four_gib(self):
        head, _ = self.request("HEAD", "/big.sparse")
        self.assertEqual(head.getheader("Content-Length"), str(5 * GiB))
        first = 4 * GiB + 12345
        response, body = self.request("GET", "/big.sparse", {"Range": "bytes=%d-%d" % (first, first + 15)})
        self.assertEqual(response.status, 206)
        self.assertEqual(body, b"MARKER-PAST-4GiB")
        self.assertEqual(response.getheader("Content-Range"), "bytes %d-%d/%d" % (first, first + 15, 5 * GiB))
        # The whole 5 GiB, counted by curl: every byte arrives, none too many.
        out = subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}",
                              self.url + "/big.sparse"], capture_output=True, text=True, check=True, timeout=240)
        self.assertEqual(int(out.stdout), 5 * GiB)


class ConditionalsTest(ServerTest):
    def test_if_none_match_and_if_modified_since_give_304(self):
        response, _ = self.request("GET", "/hello.txt")
        etag, modified = response.getheader("ETag"), response.getheader("Last-Modified")
        self.assertRegex(etag, r'^"[^"]+"$')  # strong
        for headers in ({"If-None-Match": etag}, {"If-None-Match": '"other", ' + etag},
                        {"If-None-Match": "*"}, {"If-Modified-Since": modified}):
            response, body = self.request("GET", "/hello.txt", headers)
            self.assertEqual(response.status, 304, headers)
            self.assertEqual(body, b"")
            self.assertEqual(response.getheader("ETag"), etag)
        response, _ = self.request("GET", "/hello.txt", {"If-None-Match": '"other"'})
        self.assertEqual(response.status, 200)
        response, _ = self.request("GET", "/hello.txt", {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
        self.assertEqual(response.status, 200)

    def test_if_match_failure_is_412(self):
        response, _ = self.request("GET", "/hello.txt", {"If-Match": '"nope"'})
        self.assertEqual(response.status, 412)


class ErrorsTest(ServerTest):
    def test_missing_and_forbidden(self):
        cases = [("/missing.txt", 404), ("/escape-link", 403), ("/%2e%2e/%2e%2e/etc/passwd", 403),
                 ("/dir%2Findex.html", 403), ("/hello.txt%00", 403), ("/inside-link", 200)]
        for path, status in cases:
            response, _ = self.request("GET", path)
            self.assertEqual(response.status, status, path)

    def test_other_methods_are_405_with_allow(self):
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            response, _ = self.request(method, "/hello.txt", body=b"x" if method in ("POST", "PUT") else None)
            self.assertEqual(response.status, 405, method)
            self.assertEqual(response.getheader("Allow"), "GET, HEAD")

    def test_missing_host_on_http11_is_400_and_http10_needs_none(self):
        responses = split_responses(raw_exchange(self.port, b"GET /hello.txt HTTP/1.1\r\n\r\n"))
        self.assertEqual(responses[0][0], 400)
        data = raw_exchange(self.port, b"GET /hello.txt HTTP/1.0\r\n\r\n")
        self.assertTrue(data.startswith(b"HTTP/1.0 200 "), data[:40])
        self.assertTrue(data.endswith(self.files["hello.txt"]))

    def test_malformed_request_is_400(self):
        responses = split_responses(raw_exchange(self.port, b"THIS IS NOT HTTP\r\n\r\n"))
        self.assertEqual(responses[0][0], 400)

    def test_overlong_target_is_414_and_oversized_header_is_431(self):
        long_target = b"/" + b"a" * 20000
        responses = split_responses(raw_exchange(self.port, b"GET " + long_target + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
        self.assertEqual(responses[0][0], 414)
        medium_target = b"/" + b"a" * 9000  # fits the header limit, not the target limit
        responses = split_responses(raw_exchange(self.port, b"GET " + medium_target + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
        self.assertEqual(responses[0][0], 414)
        for size in (20000, 40000):  # the second is still arriving when the limit is hit
            huge_header = b"X-Big: " + b"b" * size + b"\r\n"
            responses = split_responses(raw_exchange(self.port, b"GET / HTTP/1.1\r\nHost: x\r\n" + huge_header + b"\r\n"))
            self.assertEqual(responses[0][0], 431, size)

    def test_request_body_over_the_limit_is_413(self):
        data = raw_exchange(self.port, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\nabc")
        self.assertEqual(split_responses(data)[0][0], 413)

    def test_ambiguous_framing_is_refused_and_closed(self):
        # Each of these could be read differently by a proxy in front: request smuggling.
        for request in (b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nGET /noext HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
                        b"GET /hello.txt HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n"):
            responses = split_responses(raw_exchange(self.port, request))
            self.assertEqual([r[0] for r in responses], [400], request)

    def test_host_rules_and_versions(self):
        two_hosts = raw_exchange(self.port, b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        self.assertEqual(split_responses(two_hosts)[0][0], 400)
        http2 = raw_exchange(self.port, b"GET /hello.txt HTTP/2.0\r\nHost: x\r\n\r\n")
        self.assertTrue(http2.startswith(b"HTTP/1.1 505 ") or b" 400 " in http2[:20], http2[:40])
        absolute = split_responses(raw_exchange(
            self.port, b"GET http://example.org/hello.txt HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n"))
        self.assertEqual((absolute[0][0], absolute[0][2]), (200, self.files["hello.txt"]))

    def test_a_double_slash_never_redirects_to_another_host(self):
        response, _ = self.request("GET", "//dir")
        self.assertEqual(response.status, 301)
        self.assertEqual(response.getheader("Location"), "/dir/")

    def test_listing_does_not_reveal_what_an_outside_symlink_points_to(self):
        response, body = self.request("GET", "/")
        page = body.decode("utf-8")
        row = page[page.index("escape-link"):][:400]
        passwd_size = str(os.path.getsize("/etc/passwd"))
        self.assertNotIn('data-bytes="%s"' % passwd_size, row)

    def test_get_with_a_small_body_is_answered(self):
        responses = split_responses(raw_exchange(
            self.port, b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"))
        self.assertEqual(responses[0][0], 200)
        self.assertEqual(responses[0][2], self.files["hello.txt"])


class ConnectionsTest(ServerTest):
    def test_keep_alive_serves_several_requests_on_one_connection(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.connect()
        local = connection.sock.getsockname()
        for path in ("/hello.txt", "/missing", "/random.bin", "/hello.txt"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            self.assertFalse(response.will_close, path)
            self.assertEqual(connection.sock.getsockname(), local, "a new connection was opened")
        connection.close()

    def test_pipelined_requests_are_answered_in_order(self):
        requests = b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p for p in (b"/hello.txt", b"/missing", b"/noext"))
        requests += b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        responses = split_responses(raw_exchange(self.port, requests))
        self.assertEqual([r[0] for r in responses], [200, 404, 200, 200])
        self.assertEqual(responses[0][2], self.files["hello.txt"])
        self.assertEqual(responses[2][2], self.files["noext"])
        self.assertEqual(responses[3][1].get("connection"), "close")

    def test_http10_closes_unless_keep_alive_is_asked(self):
        data = raw_exchange(self.port, b"GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                                       b"GET /noext HTTP/1.0\r\n\r\n")
        responses = split_responses(data)
        self.assertEqual([r[0] for r in responses], [200, 200])
        self.assertEqual(responses[0][1].get("connection", "").lower(), "keep-alive")


class DirectoriesTest(ServerTest):
    def test_directory_without_slash_redirects_and_index_html_is_served(self):
        response, _ = self.request("GET", "/dir?x=1")
        self.assertEqual(response.status, 301)
        self.assertEqual(response.getheader("Location"), "/dir/?x=1")
        response, body = self.request("GET", "/dir/")
        self.assertEqual((response.status, body), (200, self.files["dir/index.html"]))
        self.assertEqual(response.getheader("Content-Type"), "text/html")

    def test_listing_escapes_names_links_entries_and_sorts_directories_first(self):
        response, body = self.request("GET", "/listed/")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Type"), "text/html; charset=utf-8")
        page = body.decode("utf-8")
        self.assertIn("a &amp; b &lt;c&gt;.txt", page)
        self.assertNotIn("<c>", page)
        self.assertIn('href="a%20%26%20b%20%3Cc%3E.txt"', page)
        self.assertIn('href="Sub%20Dir/"', page)
        self.assertIn('href="../"', page)
        self.assertLess(page.index("Sub Dir/"), page.index("a &amp; b"))
        self.assertLess(page.index("a &amp; b"), page.index("zeta.txt"))
        # Every link works.
        for href in re.findall(r'href="([^"]+)"', page):
            if href.startswith(("../", "http", "#")):
                continue
            linked, _ = self.request("GET", "/listed/" + href)
            self.assertEqual(linked.status, 200, href)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: server_clients_test.py MPSERVE")
    MPSERVE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
