#!/usr/bin/env python3
"""Open, use and close N short TCP connections, IPv4 and IPv6 in turn.

Used by tests/cli/xtcp-dump-events.bats: run it inside a fresh namespace
(with lo up) while xtcp-dump -E listens.  Connection i: the client sends
100 + i bytes, the server answers 50 + i, the client closes first, the
server closes when it sees the end (so the client ends in TIME_WAIT, the
server in CLOSE).  The listeners are closed last.

usage: closer.py N LOG
LOG gets one line per connection: family client_port server_port sent received
"""

import socket
import sys


def recv_exactly(s, n):
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            raise SystemExit("connection ended early")
        got += chunk
    return got


def main():
    n, log = int(sys.argv[1]), sys.argv[2]
    listeners = {}
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.bind((addr, 0))
        s.listen(16)
        listeners[family] = (s, addr)
    with open(log, "w") as out:
        for i in range(n):
            family = socket.AF_INET if i % 2 == 0 else socket.AF_INET6
            lst, addr = listeners[family]
            c = socket.socket(family, socket.SOCK_STREAM)
            c.connect((addr, lst.getsockname()[1]))
            s, _ = lst.accept()
            c.sendall(b"c" * (100 + i))
            recv_exactly(s, 100 + i)
            s.sendall(b"s" * (50 + i))
            recv_exactly(c, 50 + i)
            out.write("%d %d %d %d %d\n" % (10 if family == socket.AF_INET6 else 2,
                                            c.getsockname()[1], lst.getsockname()[1],
                                            100 + i, 50 + i))
            c.close()
            if s.recv(1) != b"":
                raise SystemExit("no end of stream")
            s.close()
    for s, _ in listeners.values():
        s.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
