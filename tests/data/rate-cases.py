#!/usr/bin/env python3
"""JSON lines of six polls that hold every case xtcp-rate(1) has a rule for.

    rate-cases.py | xtcp-fmt --from json > cases.pb

Polls 10 s apart (poll_sequence 1..6), each socket a record per poll it is in:
  A  cookie 1: bytes grow 1 MB a poll, segs_out wraps past 2^32 at poll 4
  B  no cookie (the tuple is the key): segs_out goes down at poll 3 (new)
  C  cookie 3: bytes_acked goes down at poll 2 (new)
  D  cookie 4: another source port at poll 2 (a reused cookie: new)
  E  cookie 5: polls 1 and 5 only (absent 3 polls: forgotten, new again)
  F  cookie 6: polls 1 and 4 only (absent 2: followed, a 30 s interval)
  G  cookie 7: ESTABLISHED, then TIME_WAIT without tcp_info
  H  cookie 1 again on another host: another socket
  I  cookie 9: idle, nothing changes
  J  cookie 1 in another namespace, polls 1 and 2 only (the namespace goes)
  K  cookie 11: counters above 2^63 (JSON strings)
and poll 6 read twice (the same timestamp: every socket new).
"""

import json

T0 = 1767225600 * 10 ** 9
DEFAULT_NS = 4026531840
OTHER_NS = 4026532301


def rec(poll, cookie, sport, host="web-1", ns=DEFAULT_NS, state="ESTABLISHED", info=True,
        **counters):
    r = {"hostname": host, "netns_inode": ns, "poll_sequence": poll,
         "timestamp_ns": str(T0 + poll * 10 * 10 ** 9),
         "inet_diag_msg_family": 2, "inet_diag_msg_state": state,
         "inet_diag_msg_socket_source": "10.0.0.1", "inet_diag_msg_socket_source_port": sport,
         "inet_diag_msg_socket_destination": "10.0.0.2",
         "inet_diag_msg_socket_destination_port": 443,
         "inet_diag_msg_socket_cookie": cookie}
    if info:
        r["tcp_info_state"] = state
        r.update({"tcp_info_" + k: (str(v) if v > 2 ** 53 else v) for k, v in counters.items()})
    return r


def polls():
    out = []
    for p in range(1, 7):
        poll = []
        poll.append(rec(p, 1, 1001, bytes_acked=p * 10 ** 6, bytes_sent=p * 10 ** 6 + 7,
                        segs_out=(2 ** 32 - 3000 + p * 1000) % 2 ** 32, segs_in=p * 700,
                        total_retrans=p // 2, delivered=p * 690))
        if p <= 3:
            poll.append(rec(p, 0, 1002, segs_out=[100, 200, 50][p - 1], bytes_acked=p))
        if p <= 2:
            poll.append(rec(p, 3, 1003, bytes_acked=[5000, 4000][p - 1]))
            poll.append(rec(p, 4, 1004 + p, bytes_acked=p * 10))
            poll.append(rec(p, 1, 1001, ns=OTHER_NS, bytes_acked=p * 3))
        if p in (1, 5):
            poll.append(rec(p, 5, 1005, bytes_acked=p * 100))
        if p in (1, 4):
            poll.append(rec(p, 6, 1006, bytes_acked=p * 100, bytes_received=p * 33))
        if p == 1:
            poll.append(rec(p, 7, 1007, bytes_acked=500, segs_out=9))
        elif p <= 3:
            poll.append(rec(p, 7, 1007, state="TIME_WAIT", info=False))
        poll.append(rec(p, 1, 1001, host="web-2", bytes_acked=p * 77))
        poll.append(rec(p, 9, 1009, bytes_acked=1234, segs_out=5, segs_in=6))
        poll.append(rec(p, 11, 1011, bytes_acked=2 ** 63 + p * 2 ** 40,
                        bytes_received=2 ** 64 - 1000 + p * 100))
        out += poll
        if p == 6:
            out += poll
    return out


for r in polls():
    print(json.dumps(r))
