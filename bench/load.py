#!/usr/bin/env python3
"""Hold N established TCP connections (2N sockets) on loopback until killed.

  load.py N [V6_PERCENT]

Connections are spread over worker processes of at most 4000 connections each
(8000 descriptors, under the 20000 hard limit), half IPv4 and V6_PERCENT IPv6,
with cubic and reno alternating.  Prints READY N when all are up.
Run it inside a private namespace: ip netns exec NS bench/load.py 10000
"""
import os
import signal
import socket
import sys
import time

PER_WORKER = 4000


def worker(index, count, v6_percent):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * count + 100), hard))
    keep = []
    listeners = {}
    for fam, addr in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, 20000 + index * 2 + (fam == socket.AF_INET6)))
        s.listen(4096)
        listeners[fam] = (s, addr, s.getsockname()[1])
    for i in range(count):
        fam = socket.AF_INET6 if (i * 100 // max(count, 1)) < v6_percent else socket.AF_INET
        lst, addr, port = listeners[fam]
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b'cubic' if i % 2 else b'reno')
        c.connect((addr, port))
        a, _ = lst.accept()
        if i % 4 == 0:
            c.sendall(b'x' * 64)
            a.recv(64)
        keep += [c, a]
    os.write(1, b'ok\n')
    while True:
        time.sleep(3600)


def main():
    n = int(sys.argv[1])
    v6 = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    r, w = os.pipe()
    pids = []
    index = 0
    left = n
    while left > 0:
        count = min(PER_WORKER, left)
        pid = os.fork()
        if pid == 0:
            os.dup2(w, 1)
            worker(index, count, v6)
            os._exit(0)
        pids.append(pid)
        left -= count
        index += 1
    os.close(w)
    done = 0
    with os.fdopen(r) as f:
        while done < len(pids):
            if not f.readline():
                sys.exit('a worker failed')
            done += 1

    def stop(*_):
        for p in pids:
            os.kill(p, signal.SIGTERM)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print('READY', n, flush=True)
    while True:
        time.sleep(3600)


if __name__ == '__main__':
    main()
