#!/usr/bin/env python3
"""Loopback connections that send at known, steady rates: for xtcp-rate's tests.

    paced.py PORT RATE[,RATE...] LOG

Listens on 127.0.0.1:PORT and opens one connection per RATE (bytes per
second; 0 for a connection that never sends).  Each sender writes 4 KiB
chunks on a fixed schedule (chunk k at start + k * 4096 / RATE, so a late
wake-up is caught up and the rate over any long span is exact); the server
side reads everything.  The sender does not wait to fill segments
(TCP_NODELAY) and the receiver acknowledges at once (TCP_QUICKACK, set
again after every read), so bytes_acked follows the writes within a round
trip instead of a delayed ACK's 40 ms.  Every write is logged to LOG as
"<client port> <CLOCK_REALTIME ns after the write> <bytes written so far>",
so a test can tell how much a socket had sent at any moment.  Prints
"READY <client port>..." on stdout once every connection is up, then runs
until killed.
"""

import socket
import sys
import threading
import time

CHUNK = 4096


TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)


def drain(conn):
    while True:
        conn.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 1)
        if not conn.recv(1 << 16):
            return


def send(conn, rate, port, log, lock):
    data = b"x" * CHUNK
    start = time.monotonic()
    sent = 0
    k = 0
    while True:
        k += 1
        delay = start + k * CHUNK / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        conn.sendall(data)
        sent += CHUNK
        with lock:
            log.write("%d %d %d\n" % (port, time.time_ns(), sent))
            log.flush()


def main():
    port = int(sys.argv[1])
    rates = [int(r) for r in sys.argv[2].split(",")]
    log = open(sys.argv[3], "w")
    lock = threading.Lock()
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port))
    lst.listen(16)
    keep = [lst]
    ports = []
    for rate in rates:
        c = socket.create_connection(("127.0.0.1", port))
        s, _ = lst.accept()
        keep += [c, s]
        ports.append(c.getsockname()[1])
        if rate:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=drain, args=(s,), daemon=True).start()
            threading.Thread(target=send, args=(c, rate, ports[-1], log, lock),
                             daemon=True).start()
    print("READY", *ports, flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main()
