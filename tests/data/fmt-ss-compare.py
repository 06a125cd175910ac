#!/usr/bin/env python3
"""Compare xtcp-fmt's JSON lines with what ss printed for the same sockets.

  fmt-ss-compare.py [--live] JSON SS_OUTPUT

JSON is `xtcp-fmt -f json` output, SS_OUTPUT the text of `ss -tinem -a -n`
(parsed with tests/compare/ss_parse.py).  Sockets are matched on family,
addresses, ports and state; for each pair every value ss prints is computed
from the JSON fields the way ss prints it (ms with %g, bps, skmem, ...) and
compared as text.  --live leaves out the values that move between two looks
at a live socket (timers, rates, the last-send/receive ages, rtt).

Prints "N sockets, M values equal" and exits 1 on any difference, a socket
of ss that the JSON does not have, or too few comparisons.
"""
import ipaddress
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compare"))
import ss_parse  # noqa: E402

STATES = {"UNKNOWN": 0, "ESTABLISHED": 1, "SYN_SENT": 2, "SYN_RECV": 3, "FIN_WAIT1": 4,
          "FIN_WAIT2": 5, "TIME_WAIT": 6, "CLOSE": 7, "CLOSE_WAIT": 8, "LAST_ACK": 9,
          "LISTEN": 10, "CLOSING": 11, "NEW_SYN_RECV": 12, "BOUND_INACTIVE": 13}

MOVING = {"rto", "rtt", "ato", "lastsnd", "lastrcv", "lastack", "pacing_rate",
          "delivery_rate", "busy", "minrtt", "rcv_rtt", "skmem", "timer"}


def num(v):
    """A JSON integer as written by xtcp-fmt: a number, or digits in a string above 2^53."""
    if isinstance(v, str):
        assert int(v) > 2 ** 53 or int(v) < -2 ** 53, ("a small value written as a string", v)
        return int(v)
    assert isinstance(v, int), v
    return v


def ms(v):
    return "%g" % (num(v) / 1000)


def expected(r):
    """The tokens ss prints for this record (tcp_show_info / sock_details_print)."""
    t = {}
    if num(r["tcp_info_snd_mss"]) or num(r["tcp_info_snd_cwnd"]):
        t["wscale"] = "%d,%d" % (num(r["tcp_info_send_scale"]), num(r["tcp_info_rcv_scale"]))
        t["rto"] = ms(r["tcp_info_rto"])
        t["rtt"] = "%s/%s" % (ms(r["tcp_info_rtt"]), ms(r["tcp_info_rtt_var"]))
        t["ato"] = ms(r["tcp_info_ato"])
        t["mss"] = str(num(r["tcp_info_snd_mss"]))
        t["pmtu"] = str(num(r["tcp_info_pmtu"]))
        t["rcvmss"] = str(num(r["tcp_info_rcv_mss"]))
        t["advmss"] = str(num(r["tcp_info_adv_mss"]))
        t["cwnd"] = str(num(r["tcp_info_snd_cwnd"]))
        if num(r["tcp_info_snd_ssthresh"]) < 0xFFFF:
            t["ssthresh"] = str(num(r["tcp_info_snd_ssthresh"]))
        for tok, field in (("bytes_sent", "tcp_info_bytes_sent"),
                           ("bytes_retrans", "tcp_info_bytes_retrans"),
                           ("bytes_acked", "tcp_info_bytes_acked"),
                           ("bytes_received", "tcp_info_bytes_received"),
                           ("segs_out", "tcp_info_segs_out"),
                           ("segs_in", "tcp_info_segs_in"),
                           ("data_segs_out", "tcp_info_data_segs_out"),
                           ("data_segs_in", "tcp_info_data_segs_in"),
                           ("lastsnd", "tcp_info_last_data_sent"),
                           ("lastrcv", "tcp_info_last_data_recv"),
                           ("lastack", "tcp_info_last_ack_recv"),
                           ("delivered", "tcp_info_delivered"),
                           ("rcv_space", "tcp_info_rcv_space"),
                           ("rcv_ssthresh", "tcp_info_rcv_ssthresh"),
                           ("snd_wnd", "tcp_info_snd_wnd"),
                           ("rcv_wnd", "tcp_info_rcv_wnd"),
                           ("unacked", "tcp_info_unacked"),
                           ("lost", "tcp_info_lost"),
                           ("sacked", "tcp_info_sacked"),
                           ("dsack_dups", "tcp_info_dsack_dups"),
                           ("reord_seen", "tcp_info_reord_seen"),
                           ("rcv_ooopack", "tcp_info_rcv_ooopack"),
                           ("notsent", "tcp_info_not_sent_bytes")):
            if num(r[field]):
                t[tok] = str(num(r[field]))
        if num(r["tcp_info_min_rtt"]):
            t["minrtt"] = ms(r["tcp_info_min_rtt"])
        if num(r["tcp_info_busy_time"]):
            t["busy"] = "%dms" % (num(r["tcp_info_busy_time"]) // 1000)
        if num(r["tcp_info_rcv_rtt"]):
            t["rcv_rtt"] = ms(r["tcp_info_rcv_rtt"])
        for tok, field in (("pacing_rate", "tcp_info_pacing_rate"),
                           ("delivery_rate", "tcp_info_delivery_rate")):
            v = num(r[field])
            if v and v != 2 ** 64 - 1:
                t[tok] = "%dbps" % (v * 8)
    if num(r["sk_mem_info_rcv_buf"]) or num(r["sk_mem_info_snd_buf"]):
        t["skmem"] = "(r%d,rb%d,t%d,tb%d,f%d,w%d,o%d,bl%d,d%d)" % tuple(
            num(r["sk_mem_info_" + k]) for k in ("rmem_alloc", "rcv_buf", "wmem_alloc",
                                                  "snd_buf", "fwd_alloc", "wmem_queued",
                                                  "optmem", "backlog", "drops"))
    if num(r["inet_diag_msg_uid"]):
        t["uid"] = str(num(r["inet_diag_msg_uid"]))
    t["ino"] = str(num(r["inet_diag_msg_inode"]))
    return t


def key(r):
    """(family, local, port, peer, port, state); addresses as bytes, so that the
    text forms of one address (::ffff:7f00:1, ::ffff:127.0.0.1) match."""
    fam = {2: 4, 10: 6}[num(r["inet_diag_msg_family"])]
    return (fam, ipaddress.ip_address(r["inet_diag_msg_socket_source"]).packed,
            num(r["inet_diag_msg_socket_source_port"]),
            ipaddress.ip_address(r["inet_diag_msg_socket_destination"]).packed,
            num(r["inet_diag_msg_socket_destination_port"]), STATES[r["inet_diag_msg_state"]])


def ss_key(s):
    lo, pe = s["local"], s["peer"]
    return (lo["family"], lo["packed"], lo["port"], pe["packed"], pe["port"], s["state"])


def main():
    args = sys.argv[1:]
    live = "--live" in args
    args = [a for a in args if a != "--live"]
    rows = [json.loads(line) for line in open(args[0], encoding="utf-8")]
    socks = ss_parse.parse_file(args[1])
    by_key = {}
    for r in rows:
        by_key.setdefault(key(r), []).append(r)
    compared = 0
    bad = []
    for s in socks:
        cands = by_key.get(ss_key(s))
        if not cands:
            bad.append("ss socket not in the JSON: %s" % s["text"].splitlines()[0][:100])
            continue
        best = None
        for r in cands:
            exp = expected(r)
            diffs = []
            for tok, val in s["tokens"].items():
                if tok in exp and not (live and tok in MOVING):
                    if exp[tok] != val:
                        diffs.append((tok, val, exp[tok]))
            if exp.get("ino") == s["tokens"].get("ino", exp.get("ino")) and (
                    best is None or len(diffs) < len(best[1])):
                best = (r, diffs, exp)
        if best is None:
            bad.append("no inode match for %s" % s["text"].splitlines()[0][:100])
            continue
        r, diffs, exp = best
        if s["recv_q"] != num(r["inet_diag_msg_rqueue"]) or \
                s["send_q"] != num(r["inet_diag_msg_wqueue"]):
            diffs.append(("queues", (s["recv_q"], s["send_q"]),
                          (r["inet_diag_msg_rqueue"], r["inet_diag_msg_wqueue"])))
        if s["cong"] is not None and s["cong"] != r["congestion_algorithm_string"]:
            diffs.append(("cong", s["cong"], r["congestion_algorithm_string"]))
        compared += 3 + len([t for t in s["tokens"] if t in exp and not (live and t in MOVING)])
        for d in diffs:
            bad.append("%s: %s: ss %s, xtcp-fmt %s" % (s["text"].splitlines()[0][:60], *d))
    print("%d sockets, %d values equal" % (len(socks), compared - len(bad)))
    for b in bad[:20]:
        print("DIFF", b)
    if bad or compared < 5 * len(socks) or not socks:
        sys.exit(1)


if __name__ == "__main__":
    main()
