#!/usr/bin/env python3
"""Check xtcp-rate's output against rates computed here, from the same records.

    rate-check.py IN.json OUT.json [--forget N] [--changed] [--fields FIELDS.tsv]

IN.json is `xtcp-fmt -f json` of xtcp-rate's input, OUT.json of its output.
This is an independent implementation of the rules of xtcp-rate(1): which
records are the same socket, when a socket starts over, the deltas (32-bit
counters wrap on a socket with a cookie), the rates (floor of delta * 1e9 /
interval), forgetting sockets absent for N polls, close records (xtcp-dump
-E: a socket's last record, which begins no poll and ends its entry), and
--changed.  Every
output record must be its input record (every field) plus exactly the rate
fields computed here; with --changed, exactly the records kept here.

--fields takes `xtcp-fmt --list-fields` output and checks that the
counters here are the schema's (a _delta field for each, a _per_s for the
byte counters), so that this list and the schema cannot drift apart.

Prints one line of totals; exits 1 on the first difference.
"""

import argparse
import json
import sys

WIDE = ["tcp_info_bytes_acked", "tcp_info_bytes_received", "tcp_info_busy_time",
        "tcp_info_rwnd_limited", "tcp_info_sndbuf_limited", "tcp_info_bytes_sent",
        "tcp_info_bytes_retrans"]
NARROW = ["tcp_info_total_retrans", "tcp_info_segs_out", "tcp_info_segs_in",
          "tcp_info_data_segs_in", "tcp_info_data_segs_out", "tcp_info_delivered",
          "tcp_info_delivered_ce", "tcp_info_dsack_dups", "tcp_info_reord_seen",
          "tcp_info_rcv_ooopack", "tcp_info_rehash", "tcp_info_total_rto",
          "tcp_info_total_rto_recoveries", "tcp_info_total_rto_time", "sk_mem_info_drops"]
PER_S = ["tcp_info_bytes_acked", "tcp_info_bytes_received", "tcp_info_bytes_sent",
         "tcp_info_bytes_retrans"]
COUNTERS = WIDE + NARROW
RATE_FIELDS = (["rate_interval_ns"] + [c + "_delta" for c in COUNTERS] +
               [c + "_per_s" for c in PER_S])
U64_MAX = 2 ** 64 - 1


def num(v):
    return int(v) if isinstance(v, str) else v


def fail(msg):
    print("rate-check: " + msg)
    sys.exit(1)


def check_schema(path):
    fields = {}
    for line in open(path):
        name, ftype = line.split("\t")[:2]
        fields[name] = ftype
    deltas = {n[:-6] for n in fields if n.endswith("_delta")}
    rates = {n[:-6] for n in fields if n.endswith("_per_s")}
    if deltas != set(COUNTERS):
        fail("the schema's _delta fields are not this list: %s" % (deltas ^ set(COUNTERS)))
    if rates != set(PER_S):
        fail("the schema's _per_s fields are not this list: %s" % (rates ^ set(PER_S)))
    for c in COUNTERS:
        want = "uint64" if c in WIDE else "uint32"
        if fields[c] != want or fields[c + "_delta"] != want:
            fail("%s: want %s for the counter and its delta" % (c, want))


def expected(records, forget, changed_only):
    table = {}
    polls = 0
    last_poll = None
    out = []
    totals = {"records": 0, "new": 0, "moving": 0, "wrapped": 0, "forgotten": 0, "closed": 0,
              "closed_followed": 0, "kept": 0}
    for rec in records:
        totals["records"] += 1
        close = rec.get("record_kind") == "RECORD_KIND_CLOSE"
        poll = (num(rec["poll_sequence"]), num(rec["timestamp_ns"]))
        if not close and poll != last_poll:
            polls += 1
            last_poll = poll
            for key in [k for k, e in table.items() if polls - e["poll"] > forget]:
                del table[key]
                totals["forgotten"] += 1
        cookie = num(rec["inet_diag_msg_socket_cookie"])
        tup = (rec["inet_diag_msg_family"], rec["inet_diag_msg_socket_source"],
               rec["inet_diag_msg_socket_destination"],
               rec["inet_diag_msg_socket_source_port"],
               rec["inet_diag_msg_socket_destination_port"])
        key = (rec["hostname"], num(rec["netns_inode"]), cookie) + (() if cookie else tup)
        ts = num(rec["timestamp_ns"])
        info = rec["tcp_info_state"] not in ("UNKNOWN", 0)
        cur = {c: num(rec[c]) for c in COUNTERS}
        want = dict.fromkeys(RATE_FIELDS, 0)
        e = table.get(key)
        new = e is None or (cookie and e["tuple"] != tup) or ts <= e["ts"]
        if not new:
            interval = ts - e["ts"]
            want["rate_interval_ns"] = interval
            if info and e["info"]:
                for c in COUNTERS:
                    d = cur[c] - e["counters"][c]
                    if d < 0 and (c in WIDE or not cookie):
                        new = True
                        break
                    if d < 0:
                        d += 2 ** 32
                        totals["wrapped"] += 1
                    want[c + "_delta"] = d
                    if c in PER_S:
                        want[c + "_per_s"] = min(U64_MAX, d * 10 ** 9 // interval)
        if new:
            want = dict.fromkeys(RATE_FIELDS, 0)
            totals["new"] += 1
            changed = True
        else:
            changed = rec["inet_diag_msg_state"] != e["state"] or any(
                want[c + "_delta"] for c in COUNTERS)
            totals["moving"] += any(want[c + "_delta"] for c in COUNTERS)
        if close:
            # the socket's last record: its entry goes at once, and it was no sighting
            table.pop(key, None)
            totals["closed"] += 1
            totals["closed_followed"] += not new
        else:
            table[key] = {"tuple": tup, "ts": ts, "state": rec["inet_diag_msg_state"],
                          "info": info, "counters": cur, "poll": polls}
        if changed or not changed_only:
            out.append((rec, want))
    totals["kept"] = len(out)
    return out, totals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--forget", type=int, default=3)
    ap.add_argument("--changed", action="store_true")
    ap.add_argument("--fields")
    args = ap.parse_args()
    if args.fields:
        check_schema(args.fields)
    records = [json.loads(line) for line in open(args.input)]
    got = [json.loads(line) for line in open(args.output)]
    want, totals = expected(records, args.forget, args.changed)
    if len(got) != len(want):
        fail("%d records out, want %d" % (len(got), len(want)))
    for i, (g, (rec, rates)) in enumerate(zip(got, want), 1):
        for f in RATE_FIELDS:
            if num(g[f]) != rates[f]:
                fail("record %d (cookie %s): %s = %s, want %s" % (
                    i, rec["inet_diag_msg_socket_cookie"], f, g[f], rates[f]))
        rest = {k: v for k, v in g.items() if k not in RATE_FIELDS}
        if rest != {k: v for k, v in rec.items() if k not in RATE_FIELDS}:
            fail("record %d: fields other than the rate fields differ from the input" % i)
    print(" ".join("%s=%d" % kv for kv in totals.items()))


if __name__ == "__main__":
    main()
