#!/usr/bin/env python3
"""Hold a varied set of TCP sockets open in the current network namespace.

Used by tests/cli/xtcp-dump-ss.bats: run it inside a fresh namespace (with
lo up), wait for the line "READY", compare `ss` with `xtcp-dump`, kill it.

What it makes (ports 4000-4299, so run it in a namespace of its own):
  * per congestion control that can be set (cubic and reno always; bbr,
    dctcp, vegas when the kernel has them), an IPv4 listener on
    127.0.0.1:4000+i and a v6only IPv6 listener on [::1]:4100+i, each with
    that congestion control (accepted sockets inherit it);
  * a dual-stack listener on [::]:4200 (ss prints "*:4200") reached over
    IPv4 (v4-mapped peers, "[::ffff:127.0.0.1]") and over IPv6;
  * an IPv4 wildcard listener on 0.0.0.0:4201, reached from 127.0.0.2;
  * a listener bound to device lo (SO_BINDTODEVICE, ss prints "%lo");
  * 36 client connections over IPv4 and IPv6 spread over those listeners,
    each client with a congestion control of its own (setsockopt
    TCP_CONGESTION before connect); a quarter never send, a quarter send
    a little, a quarter exchange data both ways, a quarter send data the
    server never reads (Recv-Q stays non-zero);
  * a connection left in a listener's accept queue (never accepted);
  * half-closed connections (client FIN-WAIT-2, server CLOSE-WAIT);
  * closed connections (client TIME-WAIT).

usage: conns.py [N_CONNECTIONS]      (default 36)
Prints "READY <n-sockets> cc=<list>" on stdout when every socket is set up
and the data has been exchanged, then sleeps until killed.
"""

import errno
import signal
import socket
import sys
import time

TCP_CONGESTION = getattr(socket, "TCP_CONGESTION", 13)
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)

keep = []          # every socket we hold, so none is garbage-collected


def usable_ccs():
    out = []
    for cc in ("cubic", "reno", "bbr", "dctcp", "vegas"):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, cc.encode())
            out.append(cc)
        except OSError:
            pass
        finally:
            s.close()
    return out


def listener(family, addr, port, cc=None, v6only=None, device=None, backlog=128):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    if cc:
        s.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, cc.encode())
    if device:
        s.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.encode())
    s.bind((addr, port))
    s.listen(backlog)
    keep.append(s)
    return s


def connect(family, addr, port, cc=None, src=None):
    c = socket.socket(family, socket.SOCK_STREAM)
    if cc:
        c.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, cc.encode())
    if src:
        c.bind((src, 0))
    c.connect((addr, port))
    return c


def recv_exact(s, n):
    got = 0
    while got < n:
        b = s.recv(n - got)
        if not b:
            raise EOFError("peer closed early")
        got += len(b)


def pair(lsock, family, addr, port, cc=None, src=None, hold=True):
    c = connect(family, addr, port, cc, src)
    a, _ = lsock.accept()
    if hold:
        keep.extend([c, a])
    return c, a


def main():
    n_conns = int(sys.argv[1]) if len(sys.argv) > 1 else 36
    ccs = usable_ccs()
    if "cubic" not in ccs or "reno" not in ccs:
        print("conns.py: cannot set cubic and reno (have %s)" % ccs, file=sys.stderr)
        return 1

    l4 = [listener(socket.AF_INET, "127.0.0.1", 4000 + i, cc) for i, cc in enumerate(ccs)]
    l6 = [listener(socket.AF_INET6, "::1", 4100 + i, cc, v6only=True) for i, cc in enumerate(ccs)]
    dual = listener(socket.AF_INET6, "::", 4200, v6only=False)
    wild4 = listener(socket.AF_INET, "0.0.0.0", 4201)
    bound = listener(socket.AF_INET, "127.0.0.1", 4202, device="lo")
    queue = listener(socket.AF_INET, "127.0.0.1", 4203, backlog=8)

    for i in range(n_conns):
        v6 = i % 2 == 1
        srv_cc = i % len(ccs)
        cli_cc = ccs[(i + 1) % len(ccs)]
        if v6:
            c, a = pair(l6[srv_cc], socket.AF_INET6, "::1", 4100 + srv_cc, cli_cc)
        else:
            c, a = pair(l4[srv_cc], socket.AF_INET, "127.0.0.1", 4000 + srv_cc, cli_cc)
        mode = (i // 2) % 4
        if mode == 1:                       # a little data, read
            c.sendall(b"a" * 1000)
            recv_exact(a, 1000)
        elif mode == 2:                     # both ways
            c.sendall(b"b" * 20000)
            recv_exact(a, 20000)
            a.sendall(b"c" * 3000)
            recv_exact(c, 3000)
        elif mode == 3:                     # never read: Recv-Q stays 3000
            c.sendall(b"d" * 3000)
        # mode 0: never send anything

    # dual-stack listener: v4-mapped peers and a plain IPv6 one
    for cc in ("cubic", "reno"):
        c, a = pair(dual, socket.AF_INET, "127.0.0.1", 4200, cc)
        c.sendall(b"e" * 500)
        recv_exact(a, 500)
    pair(dual, socket.AF_INET6, "::1", 4200, "reno")
    # IPv4 wildcard listener, reached from another loopback address
    pair(wild4, socket.AF_INET, "127.0.0.1", 4201, "cubic", src="127.0.0.2")
    # bound to a device: the accepted socket inherits idiag_if
    c, a = pair(bound, socket.AF_INET, "127.0.0.1", 4202, "reno")
    c.sendall(b"f" * 100)
    recv_exact(a, 100)
    # left in the accept queue
    keep.append(connect(socket.AF_INET, "127.0.0.1", 4203, "cubic"))
    # half-closed: client FIN-WAIT-2, server CLOSE-WAIT
    for fam, addr, ls, port in ((socket.AF_INET, "127.0.0.1", l4[0], 4000),
                                (socket.AF_INET6, "::1", l6[1], 4101)):
        c, a = pair(ls, fam, addr, port)
        c.shutdown(socket.SHUT_WR)
        if a.recv(10) != b"":
            raise RuntimeError("expected EOF")
    # closed: client first, so the client side sits in TIME-WAIT
    for fam, addr, ls, port in ((socket.AF_INET, "127.0.0.1", l4[1], 4001),
                                (socket.AF_INET6, "::1", l6[0], 4100)):
        c, a = pair(ls, fam, addr, port, hold=False)
        c.close()
        if a.recv(10) != b"":
            raise RuntimeError("expected EOF")
        a.close()

    # let delayed ACKs and the FIN exchanges finish before saying READY
    time.sleep(0.3)
    print("READY %d cc=%s" % (len(keep), ",".join(ccs)), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except OSError as e:
        print("conns.py: %s" % e, file=sys.stderr)
        sys.exit(1 if e.errno != errno.EADDRINUSE else 3)
