#!/usr/bin/env python3
"""Hold a mix of TCP sockets in many network namespaces until killed (xtcp-dump-skip.bats).

  skipmix.py NAME:KIND...   for each namespace NAME (under /run/netns, lo up), make the
                            sockets of KIND in it, print READY, sleep; the sockets stay in
                            their namespaces, held by this one process.

KINDs:
  empty     nothing
  unix      a pair of unix sockets and nothing else: sockets in "used" that are not TCP
  listen    an IPv4 and an IPv6 listener
  tw        a connection closed by its client first: only its TIME_WAIT socket is left
  est       an IPv4 connection (listener, client, server side)
  v6        an IPv6 listener and connection, nothing of IPv4
  synrecv   a handshake the server never completes (TCP_DEFER_ACCEPT, a client that
            sends nothing): a SYN_RECV request socket beside its listener and client
  mapped    a dual-stack IPv6 listener with an IPv4 client (the server side is an
            AF_INET6 socket with v4-mapped addresses), and a socket bound but idle
"""
import ctypes
import os
import socket
import sys
import time

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def pair(family, addr, keep):
    """A listener at addr and a connection to it, all kept."""
    lst = socket.socket(family, socket.SOCK_STREAM)
    lst.bind(addr)
    lst.listen(16)
    c = socket.socket(family, socket.SOCK_STREAM)
    c.connect(addr)
    s, _ = lst.accept()
    c.sendall(b'x' * 10)
    s.recv(10)
    keep += [lst, c, s]


def wait_until(check, timeout=60):
    """Until the kernel shows what check() looks for (never a guessed sleep)."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise SystemExit('timed out waiting for the kernel')
        time.sleep(0.01)


def tcp_states():
    """The TCP states of this namespace's sockets, from /proc/net/tcp and tcp6."""
    states = []
    for f in ('/proc/thread-self/net/tcp', '/proc/thread-self/net/tcp6'):
        with open(f) as fp:
            states += [line.split()[3] for line in fp.readlines()[1:]]
    return states


def make(kind, keep):
    if kind == 'empty':
        return
    if kind == 'unix':
        keep += socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        return
    if kind == 'listen':
        for family, addr in ((socket.AF_INET, ('127.0.0.1', 7101)),
                             (socket.AF_INET6, ('::1', 7102))):
            lst = socket.socket(family, socket.SOCK_STREAM)
            lst.bind(addr)
            lst.listen(16)
            keep.append(lst)
    elif kind == 'tw':
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.bind(('127.0.0.1', 7103))
        lst.listen(1)
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(('127.0.0.1', 7103))
        s, _ = lst.accept()
        lst.close()
        c.close()                       # the client closes first: its side goes TIME_WAIT
        s.recv(1)                       # the FIN
        s.close()
        # everything but the TIME_WAIT socket (06) gone: no FIN_WAIT2, LAST_ACK left
        wait_until(lambda: tcp_states() == ['06'])
    elif kind == 'est':
        pair(socket.AF_INET, ('127.0.0.1', 7104), keep)
    elif kind == 'v6':
        pair(socket.AF_INET6, ('::1', 7105), keep)
    elif kind == 'synrecv':
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 3600)
        lst.bind(('127.0.0.1', 7106))
        lst.listen(16)
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(('127.0.0.1', 7106))  # the server drops its bare ACK: SYN_RECV (03)
        keep += [lst, c]
        wait_until(lambda: '03' in tcp_states())
    elif kind == 'mapped':
        lst = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        lst.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        lst.bind(('::', 7107))
        lst.listen(16)
        keep.append(lst)
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(('127.0.0.1', 7107))
        s, _ = lst.accept()
        b = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        b.bind(('127.0.0.1', 7108))
        keep += [c, s, b]
    else:
        raise SystemExit(f'unknown kind {kind!r}')


def main():
    keep = []
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    for arg in sys.argv[1:]:
        name, kind = arg.split(':')
        fd = os.open(f'/run/netns/{name}', os.O_RDONLY)
        setns(fd)
        os.close(fd)
        try:
            make(kind, keep)
        finally:
            setns(home)
    print('READY', flush=True)
    while True:
        time.sleep(60)


main()
