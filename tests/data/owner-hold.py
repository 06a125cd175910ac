#!/usr/bin/env python3
"""Hold TCP sockets for the owner tests (tests/cli/xtcp-dump-owners.bats).

  owner-hold.py NAME N [--fork] [--churn]

Sets its name (comm) to NAME, listens on 127.0.0.1 and ::1 (ephemeral ports),
opens N IPv4 connections and one IPv6 connection to them, prints
"READY PID [CHILD]" and sleeps until killed.  --fork: a child holding the
same sockets (each socket is shared by two processes).  --churn: forever
fork short-lived children that inherit every socket and exit a few
milliseconds later (processes exiting while xtcp-dump reads them).
"""
import ctypes
import os
import random
import socket
import sys
import time

name, n = sys.argv[1], int(sys.argv[2])
ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)   # PR_SET_NAME
keep = []
for family, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
    lst = socket.socket(family, socket.SOCK_STREAM)
    lst.bind((host, 0))
    lst.listen(64)
    keep.append(lst)
    for _ in range(n if family == socket.AF_INET else 1):
        c = socket.socket(family, socket.SOCK_STREAM)
        c.connect(lst.getsockname()[:2])
        s, _ = lst.accept()
        keep += [c, s]
child = 0
if '--fork' in sys.argv:
    child = os.fork()
    if child == 0:
        while True:
            time.sleep(60)
print('READY', os.getpid(), child or '', flush=True)
if '--churn' in sys.argv:
    while True:
        pid = os.fork()
        if pid == 0:
            time.sleep(random.random() * 0.005)
            os._exit(0)
        os.waitpid(pid, 0)
while True:
    time.sleep(60)
