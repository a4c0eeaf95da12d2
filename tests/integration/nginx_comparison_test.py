#!/usr/bin/env python3
"""mpserve next to nginx: the same requests to both, over the same directory, on loopback.

nginx (Debian's package) is started by this test with a configuration it writes (static files,
autoindex on, sendfile on). For every request the status and the headers that carry meaning
are compared. Where the two answer differently, the difference must be one listed in
KNOWN_DIFFERENCES, with the reason ours is right; an unlisted difference fails the test, and so
does a listed one that no longer happens (so the list stays true).

usage: nginx_comparison_test.py MPSERVE     (exit 0 pass, 1 fail, 77 skip: no nginx)
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

COMPARED = ("status", "content-type", "content-length", "content-range", "accept-ranges", "allow")

# case -> (fields where we differ, why ours is right)
KNOWN_DIFFERENCES = {
    "directory without slash": (
        {"location"},
        "nginx redirects to an absolute URL built from its own idea of host and port; we send the "
        "path-absolute '/dir/', which RFC 9110 §10.2.2 allows and which stays right behind "
        "proxies and port mappings (python's http.server does the same)."),
    "listing": (
        {"content-type", "content-length"},
        "our listing declares 'charset=utf-8' because file names are UTF-8 (nginx leaves the "
        "browser to guess); the pages differ in layout, hence the length."),
    "iso image": (
        {"content-type"},
        "nginx's mime.types has no .iso entry (octet-stream); the issue asks for "
        "application/x-iso9660-image, the type the freedesktop database registers."),
    "invalid range": (
        {"status", "content-type", "content-length", "content-range", "accept-ranges"},
        "nginx answers 416 to a syntactically invalid Range; RFC 9110 §14.2 says a recipient "
        "ignores an invalid range, so we send the whole file with 200."),
    "if-modified-since later": (
        {"status", "content-type", "content-length", "content-range", "accept-ranges"},
        "nginx's default (if_modified_since exact) only answers 304 to the exact Last-Modified "
        "date; RFC 9110 §13.1.3 says 304 whenever the file was not modified since the date given."),
    "post": (
        {"allow"},
        "RFC 9110 §15.5.6: a 405 MUST carry Allow; nginx sends none."),
    "dot-dot above root": (
        {"status"},
        "nginx says 400 for a path that climbs above the root; we say 403: the request is "
        "well-formed, the resource is forbidden. Both refuse; nothing is served."),
    "encoded slash": (
        {"status", "content-length", "accept-ranges"},
        "nginx decodes %2F into a separator and serves dir/index.html; we refuse encoded "
        "separators (403), as the issue requires: they are a classic way around path rules."),
    "symlink out of root": (
        {"status", "content-type", "content-length", "content-range", "accept-ranges"},
        "nginx follows symlinks that leave the root by default (disable_symlinks off) and "
        "serves /etc/hostname; we refuse them (403) unless --follow-symlinks is given."),
    "oversized header": (
        {"status"},
        "nginx answers 400 ('Request Header Or Cookie Too Large'); RFC 6585 §5 defines 431 "
        "for exactly this, which tells the client what to fix."),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exchange(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    answer = {"status": head[0].split()[1] if len(head[0].split()) > 1 else "?"}
    for line in head[1:]:
        name, _, value = line.partition(":")
        answer[name.strip().lower()] = value.strip()
    return answer


def request(target, *headers, method=b"GET", version=b"HTTP/1.1", host=True):
    lines = [method + b" " + target + b" " + version]
    if host:
        lines.append(b"Host: 127.0.0.1")
    lines += list(headers) + [b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def main():
    mpserve = os.path.abspath(sys.argv[1])
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx:
        print("SKIP: nginx is not installed (./run.sh deps installs nginx-light)")
        return 77

    work = tempfile.mkdtemp(prefix="mp-nginx-compare-")
    os.chmod(work, 0o755)
    root = os.path.join(work, "root")
    processes = []
    try:
        files = {"hello.txt": b"hello, world\n", "image.iso": b"ISO" * 50, "dir/index.html": b"<p>index</p>\n",
                 "listed/a.txt": b"a", "listed/b.txt": b"bb"}
        for name, data in files.items():
            path = os.path.join(root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        os.symlink("/etc/hostname", os.path.join(root, "outside"))
        for directory, _, names in os.walk(work):
            os.chmod(directory, 0o755)
            for name in names:
                os.chmod(os.path.join(directory, name), 0o644)
        # Same mtime for both servers' validators.
        hello = os.path.join(root, "hello.txt")
        os.utime(hello, (1700000000, 1700000000))

        nginx_port = free_port()
        config = os.path.join(work, "nginx.conf")
        with open(config, "w") as f:
            f.write("""
worker_processes 1;
daemon off;
pid {w}/nginx.pid;
error_log {w}/error.log;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path {w}/body;
  proxy_temp_path {w}/proxy;
  fastcgi_temp_path {w}/fastcgi;
  uwsgi_temp_path {w}/uwsgi;
  scgi_temp_path {w}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    autoindex on;
  }}
}}
""".format(w=work, port=nginx_port, root=root))
        nginx_process = subprocess.Popen([nginx, "-c", config, "-p", work, "-e", os.path.join(work, "error.log")],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(nginx_process)
        mpserve_process = subprocess.Popen([mpserve, "--port", "0", "--bind", "127.0.0.1", "-d", root,
                                            "--progress-interval", "0"],
                                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        processes.append(mpserve_process)
        mpserve_port = int(re.search(rb" port (\d+) ", mpserve_process.stdout.readline()).group(1))
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", nginx_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)

        last_modified = exchange(mpserve_port, request(b"/hello.txt"))["last-modified"]
        cases = [
            ("file", request(b"/hello.txt")),
            ("head", request(b"/hello.txt", method=b"HEAD")),
            ("missing", request(b"/missing.txt")),
            ("directory without slash", request(b"/dir")),
            ("directory index", request(b"/dir/")),
            ("listing", request(b"/listed/")),
            ("iso image", request(b"/image.iso")),
            ("single range", request(b"/hello.txt", b"Range: bytes=0-4")),
            ("suffix range", request(b"/hello.txt", b"Range: bytes=-5")),
            ("open range", request(b"/hello.txt", b"Range: bytes=7-")),
            ("unsatisfiable range", request(b"/hello.txt", b"Range: bytes=100-")),
            ("invalid range", request(b"/hello.txt", b"Range: bytes=5-2")),
            ("two ranges", request(b"/hello.txt", b"Range: bytes=0-1,3-4")),
            ("if-modified-since same", request(b"/hello.txt", b"If-Modified-Since: " + last_modified.encode())),
            ("if-modified-since later", request(b"/hello.txt", b"If-Modified-Since: Wed, 01 Jan 2031 00:00:00 GMT")),
            ("if-modified-since earlier", request(b"/hello.txt", b"If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT")),
            ("post", request(b"/hello.txt", method=b"POST")),
            ("no host on 1.1", request(b"/hello.txt", host=False)),
            ("http/1.0", request(b"/hello.txt", version=b"HTTP/1.0", host=False)),
            ("dot-dot above root", request(b"/../hello.txt")),
            ("encoded slash", request(b"/dir%2Findex.html")),
            ("symlink out of root", request(b"/outside")),
            ("trailing slash on a file", request(b"/hello.txt/")),
            ("long target", request(b"/" + b"a" * 20000)),
            ("oversized header", request(b"/hello.txt", b"X-Big: " + b"b" * 40000)),
        ]
        failures, seen_differences = [], {}
        print("%-28s %-30s %-30s" % ("case", "mpserve", "nginx"))
        for name, raw in cases:
            ours, theirs = exchange(mpserve_port, raw), exchange(nginx_port, raw)
            fields = set(COMPARED) | ({"location"} if name == "directory without slash" else set())
            if not ours["status"].startswith("2") and not theirs["status"].startswith("2"):
                fields.discard("content-length")  # both send their own error page text
            for answer in (ours, theirs):  # boundaries are random by design
                if answer.get("content-type", "").startswith("multipart/byteranges"):
                    answer["content-type"] = "multipart/byteranges"
            differing = {f for f in fields if ours.get(f) != theirs.get(f)}
            print("%-28s %-30s %-30s" % (name, ours["status"] + " " + ours.get("content-type", ""),
                                         theirs["status"] + " " + theirs.get("content-type", "")))
            known = KNOWN_DIFFERENCES.get(name, (set(), ""))[0]
            if differing - known:
                failures.append("%s: unexplained difference in %s: mpserve %s, nginx %s" % (
                    name, sorted(differing - known), {f: ours.get(f) for f in differing - known},
                    {f: theirs.get(f) for f in differing - known}))
            if differing:
                seen_differences[name] = differing
        for name, (fields, _) in KNOWN_DIFFERENCES.items():
            if name not in seen_differences:
                failures.append("%s: listed as a difference, but both now answer alike" % name)
        print("\nDifferences, and why mpserve's answer is the right one:")
        for name, (fields, reason) in KNOWN_DIFFERENCES.items():
            print("- %s (%s): %s" % (name, ", ".join(sorted(fields)), reason))
        if failures:
            print("\nFAIL:\n" + "\n".join(failures))
            return 1
        print("\nok: every difference from nginx is a listed, explained one")
        return 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout:
                process.stdout.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: nginx_comparison_test.py MPSERVE")
    sys.exit(main())
