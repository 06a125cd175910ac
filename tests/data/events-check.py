#!/usr/bin/env python3
"""Check xtcp-dump -E's close records (xtcp-fmt -f json) against closer.py's log.

usage: events-check.py RECORDS.json LOG [NETNS]
Every connection of LOG must appear as two close records (client and server,
by ports), with the client's tcp_info_bytes_acked = sent + 2 (SYN and FIN),
tcp_info_bytes_received = received + 1 (FIN), the server's bytes_received =
sent + 1 and bytes_acked = received + 1; and no close record twice.  A
connection that a poll also found (a poll row of the same ports, before
the close) must show there no more than its final counters, in a state other
than CLOSE.
"""

import collections
import json
import sys


def main():
    recs = [json.loads(l) for l in open(sys.argv[1])]
    ns = sys.argv[3] if len(sys.argv) > 3 else None
    close = collections.Counter()
    by_ports = {}
    polled = collections.defaultdict(list)
    for r in recs:
        if ns and r.get("netns") != ns:
            continue
        key = (r["inet_diag_msg_family"], r["inet_diag_msg_socket_source_port"],
               r["inet_diag_msg_socket_destination_port"])
        if r.get("record_kind") != "RECORD_KIND_CLOSE":
            if key not in by_ports:
                polled[key].append(r)
            continue
        close[key] += 1
        by_ports[key] = r
    dup = [k for k, v in close.items() if v > 1]
    assert not dup, ("close records twice", dup[:5])
    n = overlapped = 0
    for line in open(sys.argv[2]):
        fam, cport, sport, sent, recv = map(int, line.split())
        c = by_ports.get((fam, cport, sport))
        s = by_ports.get((fam, sport, cport))
        assert c and s, ("missing", fam, cport, sport, bool(c), bool(s))
        assert c["inet_diag_msg_state"] == s["inet_diag_msg_state"] == "CLOSE", (c, s)
        want = (sent + 2, recv + 1, recv + 1, sent + 1)
        got = (int(c["tcp_info_bytes_acked"]), int(c["tcp_info_bytes_received"]),
               int(s["tcp_info_bytes_acked"]), int(s["tcp_info_bytes_received"]))
        assert got == want, (cport, got, want)
        for end, key in ((c, (fam, cport, sport)), (s, (fam, sport, cport))):
            for p in polled.get(key, ()):
                assert p["inet_diag_msg_state"] != "CLOSE", p
                for f in ("tcp_info_bytes_acked", "tcp_info_bytes_received"):
                    assert int(p[f]) <= int(end[f]), (key, f, p[f], end[f])
                overlapped += 1
        n += 1
    print(n, "connections, each with its two close records and their counters;",
          overlapped, "poll rows of them before they closed")


if __name__ == "__main__":
    main()
