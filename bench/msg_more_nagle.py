#!/usr/bin/env python3
"""Keep-alive latency of a small response (246-byte header + 1 KiB body) on 127.0.0.1, by how
the server writes it: header with MSG_MORE then body (what mpserve does), two plain sends, one
sendmsg with both, or MSG_MORE with TCP_NODELAY. 30 request/response rounds on one connection;
the first round is fast anyway (quickack at connection start), the later ones show whether the
body waits for the client's delayed ACK (~40 ms).
    bench/msg_more_nagle.py            # MPTCP and TCP, all four ways
"""
import socket
import sys
import threading
import time

IPPROTO_MPTCP = 262
ROUNDS = 30
HEADER, BODY = b"H" * 246, b"B" * 1024


def measure(proto: int, mode: str) -> list[float]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(10)
        if mode == "more+nodelay":
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(ROUNDS):
            if not conn.recv(100):
                break
            if mode in ("more", "more+nodelay"):
                conn.send(HEADER, socket.MSG_MORE)
                conn.send(BODY)
            elif mode == "two sends":
                conn.send(HEADER)
                conn.send(BODY)
            else:
                conn.sendmsg([HEADER, BODY])
        conn.close()

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    client.settimeout(10)
    client.connect(listener.getsockname())
    times = []
    for _ in range(ROUNDS):
        start = time.monotonic()
        client.send(b"GET")
        got = 0
        while got < len(HEADER) + len(BODY):
            chunk = client.recv(4096)
            if not chunk:
                raise RuntimeError("server closed early")
            got += len(chunk)
        times.append(time.monotonic() - start)
    client.close()
    server.join(10)
    listener.close()
    return times


def main() -> int:
    print("| proto | server writes | median ms (rounds 2..30) | max ms |")
    print("|---|---|---:|---:|")
    for name, proto in (("mptcp", IPPROTO_MPTCP), ("tcp", socket.IPPROTO_TCP)):
        for mode in ("more", "two sends", "sendmsg", "more+nodelay"):
            t = sorted(measure(proto, mode)[1:])
            print(f"| {name} | {mode} | {t[len(t) // 2] * 1e3:.2f} | {t[-1] * 1e3:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
