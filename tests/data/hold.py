#!/usr/bin/env python3
"""Hold a known set of TCP sockets until killed: used by the bats tests.

  hold.py V4 V6     listen on 127.0.0.1:7001 and [::1]:7002, open V4 IPv4 and V6 IPv6
                    connections to them, send a little on each, print READY, sleep.
"""
import socket
import sys
import time

v4, v6 = int(sys.argv[1]), int(sys.argv[2])
keep = []
l4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
l4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l4.bind(('127.0.0.1', 7001))
l4.listen(128)
l6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l6.bind(('::1', 7002))
l6.listen(128)
keep += [l4, l6]
for family, addr, lst, n in ((socket.AF_INET, ('127.0.0.1', 7001), l4, v4),
                             (socket.AF_INET6, ('::1', 7002), l6, v6)):
    for _ in range(n):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.connect(addr)
        s, _ = lst.accept()
        c.sendall(b'x' * 100)
        s.recv(100)
        keep += [c, s]
print('READY', flush=True)
while True:
    time.sleep(60)
