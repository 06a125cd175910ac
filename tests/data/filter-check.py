#!/usr/bin/env python3
"""An independent check of xtcp-filter.

Generates N records (seeded) as JSON lines, turns them into a stream with
`xtcp-fmt --from json`, reads them back with `xtcp-fmt -f json` (the values a
user sees), generates M random expressions, and for each compares the rows
xtcp-filter keeps with a straightforward evaluation of the same expression in
Python over the JSON values (exact arithmetic with Fraction for units,
the ipaddress module for prefixes, re for regular expressions).

usage: filter-check.py [--records N] [--exprs M] [--seed S] [--keep DIR]
Exit 0 when every expression agrees, 1 otherwise (the differences printed).
"""

import argparse
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from fractions import Fraction

STATES = {"ESTABLISHED": 1, "SYN_SENT": 2, "SYN_RECV": 3, "FIN_WAIT1": 4, "FIN_WAIT2": 5,
          "TIME_WAIT": 6, "CLOSE": 7, "CLOSE_WAIT": 8, "LAST_ACK": 9, "LISTEN": 10,
          "CLOSING": 11, "NEW_SYN_RECV": 12, "UNKNOWN": 0}
CONGS = ["cubic", "bbr", "dctcp", "reno", "vegas", ""]
ENUMS = ["CONGESTION_ALGORITHM_UNSPECIFIED", "CONGESTION_ALGORITHM_CUBIC",
         "CONGESTION_ALGORITHM_DCTCP", "CONGESTION_ALGORITHM_VEGAS",
         "CONGESTION_ALGORITHM_PRAGUE", "CONGESTION_ALGORITHM_BBR1"]

# alias -> (schema name, kind, unit in ns for time fields)
NUMERIC = {
    "rtt": ("tcp_info_rtt", 1000, 32), "rttvar": ("tcp_info_rtt_var", 1000, 32),
    "minrtt": ("tcp_info_min_rtt", 1000, 32), "rto": ("tcp_info_rto", 1000, 32),
    "cwnd": ("tcp_info_snd_cwnd", 0, 32), "ssthresh": ("tcp_info_snd_ssthresh", 0, 32),
    "retrans": ("tcp_info_total_retrans", 0, 32), "lost": ("tcp_info_lost", 0, 32),
    "retrans_inflight": ("tcp_info_retrans", 0, 32),
    "unacked": ("tcp_info_unacked", 0, 32), "sport": ("inet_diag_msg_socket_source_port", 0, 32),
    "dport": ("inet_diag_msg_socket_destination_port", 0, 32),
    "lastsnd": ("tcp_info_last_data_sent", 1000000, 32),
    "bytes_acked": ("tcp_info_bytes_acked", 0, 64),
    "bytes_received": ("tcp_info_bytes_received", 0, 64),
    "delivery_rate": ("tcp_info_delivery_rate", 0, 64),
    "ts": ("timestamp_ns", 1, -64), "family": ("inet_diag_msg_family", 0, 32),
}
STRINGS = {"cong": "congestion_algorithm_string", "netns": "netns", "hostname": "hostname"}
ADDRS = {"src": "inet_diag_msg_socket_source", "dst": "inet_diag_msg_socket_destination"}
SIZE = {"": 1, "k": 1000, "M": 10**6, "G": 10**9, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}
TIME = {"ns": 1, "us": 1000, "ms": 10**6, "s": 10**9}


def gen_addr(rnd, family):
    if family == 2:
        net = rnd.choice(["10.0.0.0", "10.1.0.0", "192.168.1.0", "172.16.5.0", "0.0.0.0",
                          "255.255.255.0"])
        base = int(ipaddress.IPv4Address(net))
        return str(ipaddress.IPv4Address(base + rnd.choice([0, 1, 2, 255, rnd.randrange(256)])))
    if family == 10:
        kind = rnd.randrange(4)
        if kind == 0:
            return "::ffff:10.%d.%d.%d" % (rnd.randrange(3), rnd.randrange(3), rnd.randrange(256))
        if kind == 1:
            return "2001:db8::%x" % rnd.randrange(1, 65536)
        if kind == 2:
            return "fe80::%x:%x" % (rnd.randrange(65536), rnd.randrange(65536))
        return rnd.choice(["::1", "::", "2001:db8:ffff::1"])
    return ""


def gen_record(rnd, i):
    family = rnd.choice([2, 2, 10, 10, 0])
    r = {
        "record_counter": i + 1,
        "timestamp_ns": rnd.choice([1700000000000000000 + i, -rnd.randrange(10**12), 0,
                                    rnd.randrange(2**63)]),
        "hostname": rnd.choice(["web1", "web2", "db.example", ""]),
        "netns": rnd.choice(["default", "ns1", "ns-2", "netns:[4026531840]"]),
        "inet_diag_msg_family": family,
        "inet_diag_msg_state": rnd.choice(list(STATES)[:12]),
        "inet_diag_msg_socket_source": gen_addr(rnd, family),
        "inet_diag_msg_socket_destination": gen_addr(rnd, family),
        "inet_diag_msg_socket_source_port": rnd.choice([22, 443, 8080, rnd.randrange(65536)]),
        "inet_diag_msg_socket_destination_port": rnd.choice([22, 443, 80, rnd.randrange(65536)]),
        "tcp_info_rtt": rnd.choice([0, 100, 1500, 5000, 5001, 4999, rnd.randrange(20000),
                                    2**32 - 1]),
        "tcp_info_rtt_var": rnd.randrange(5000),
        "tcp_info_min_rtt": rnd.randrange(10000),
        "tcp_info_rto": rnd.choice([200000, 201000, 1000000]),
        "tcp_info_snd_cwnd": rnd.choice([1, 10, 20, rnd.randrange(2**32)]),
        "tcp_info_snd_ssthresh": rnd.choice([7, 2147483647, rnd.randrange(100)]),
        "tcp_info_retrans": rnd.choice([0, 0, 0, 1, 2]),
        "tcp_info_total_retrans": rnd.choice([0, 0, 1, 2, 7, rnd.randrange(2**32)]),
        "tcp_info_lost": rnd.choice([0, 0, 1]),
        "tcp_info_unacked": rnd.randrange(10),
        "tcp_info_last_data_sent": rnd.choice([0, 500, 1500, rnd.randrange(100000)]),
        "tcp_info_bytes_acked": rnd.choice([0, 10**9, 1024**3, rnd.randrange(2**40),
                                            2**64 - 1, 2**53 + 1]),
        "tcp_info_bytes_received": rnd.choice([0, 1024**2, rnd.randrange(2**34)]),
        "tcp_info_delivery_rate": rnd.choice([125000, rnd.randrange(10**9)]),
        "congestion_algorithm_string": rnd.choice(CONGS),
        "congestion_algorithm_enum": rnd.choice(ENUMS),
    }
    for k in ("tcp_info_bytes_acked",):
        if r[k] > 2**53:
            r[k] = str(r[k])
    return r


def number_text(rnd, alias):
    """A constant for a numeric field: (text, value in the field's unit as a Fraction)."""
    schema, unit, bits = NUMERIC[alias]
    if alias == "family":
        v = rnd.choice([2, 10, 0])
        return (str(v), Fraction(v)) if rnd.random() < 0.5 else \
            ({2: "AF_INET", 10: "inet6", 0: "0"}[v], Fraction(v))
    if unit:
        base = rnd.choice([1, 5, 100, 1500, 5000, 200])
        if rnd.random() < 0.3:
            return str(base), Fraction(base)
        u = rnd.choice(list(TIME))
        val = rnd.choice([Fraction(base), Fraction(base, 10), Fraction(15, 10), Fraction(5)])
        text = ("%d" % val) if val.denominator == 1 else ("%.1f" % float(val))
        if rnd.random() < 0.2 and bits < 0:
            text, val = "-" + text, -val
        return text + u, val * TIME[u] / unit
    s = rnd.choice(list(SIZE))
    val = rnd.choice([0, 1, 2, 10, 22, 443, 1000, 7, 20, 1, 5])
    if s:
        val = rnd.choice([1, 2, 4, 1000])
    if rnd.random() < 0.1:
        return "0x%x" % (val * SIZE[s]), Fraction(val * SIZE[s])
    return "%d%s" % (val, s), Fraction(val * SIZE[s])


def gen_clause(rnd, records):
    kind = rnd.randrange(9)
    if kind <= 2:
        alias = rnd.choice(list(NUMERIC))
        op = rnd.choice(["==", "!=", "<", "<=", ">", ">="])
        text, val = number_text(rnd, alias)
        return ("num", alias, op, val), "%s %s %s" % (alias, op, text)
    if kind == 3:
        names = rnd.sample(list(STATES)[:12], rnd.randrange(1, 4))
        if len(names) == 1 and rnd.random() < 0.5:
            op = rnd.choice(["==", "!="])
            return ("state", names, op == "!="), "state %s %s" % (op, names[0])
        neg = rnd.random() < 0.3
        return ("state", names, neg), "state %sin (%s)" % ("not " if neg else "", ", ".join(names))
    if kind in (4, 5):
        alias = rnd.choice(list(ADDRS))
        # a prefix around an address that exists, so that matches happen
        rec = rnd.choice(records)
        text = rec[ADDRS[alias]] or "10.0.0.1"
        ip = ipaddress.ip_address(text)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped and rnd.random() < 0.7:
            ip = ip.ipv4_mapped
        maxlen = 32 if ip.version == 4 else 128
        plen = rnd.choice([0, maxlen, maxlen, rnd.randrange(maxlen + 1), 8, 24, 64 % (maxlen + 1)])
        net = ipaddress.ip_network("%s/%d" % (ip, plen), strict=False)
        if rnd.random() < 0.3:
            nets = [net, ipaddress.ip_network(rnd.choice(["10.0.0.0/8", "2001:db8::/32",
                                                          "::1/128", "192.168.1.0/24"]))]
            neg = rnd.random() < 0.5
            return (("addr", alias, nets, neg),
                    "%s %sin (%s)" % (alias, "not " if neg else "", ", ".join(map(str, nets))))
        op = rnd.choice(["in", "==", "!="]) if plen == maxlen else "in"
        return ("addr", alias, [net], op == "!="), "%s %s %s" % (alias, op, net)
    if kind == 6:
        alias = rnd.choice(list(STRINGS))
        rx = rnd.choice(["^b", "c", "^(cub|dct)", "b$", "^$", "[0-9]", "^ns", "example",
                         "^web[12]$", "-"])
        neg = rnd.random() < 0.3
        return ("regex", alias, rx, neg), '%s %s "%s"' % (alias, "!~" if neg else "~", rx)
    if kind == 7:
        alias = rnd.choice(list(STRINGS))
        op = rnd.choice(["==", "!=", "<", ">=", "=="])
        val = rnd.choice(CONGS + ["web1", "default", "ns1", "d"])
        return ("str", alias, op, val), '%s %s "%s"' % (alias, op, val)
    alias = rnd.choice(["retrans", "retrans_inflight", "lost", "cong", "src", "hostname"])
    return ("bare", alias), alias


def gen_expr(rnd, records, depth=0):
    if depth >= 2 or rnd.random() < 0.45:
        ast, text = gen_clause(rnd, records)
    else:
        n = rnd.randrange(2, 4)
        parts = [gen_expr(rnd, records, depth + 1) for _ in range(n)]
        op = rnd.choice(["&&", "||", "and", "&&", "or"])
        ast = ("and" if op in ("&&", "and") else "or", [p[0] for p in parts])
        text = (" %s " % op).join("(%s)" % p[1] for p in parts)
    if rnd.random() < 0.15:
        ast, text = ("not", ast), "!(%s)" % text
    return ast, text


def value(rec, alias):
    schema = NUMERIC[alias][0]
    v = rec.get(schema, 0)
    return int(v)


def compare(a, op, b):
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def in_net(rec, alias, net):
    text = rec[ADDRS[alias]]
    fam = rec["inet_diag_msg_family"]
    if not text:
        return False
    if net.version == 4:
        if fam == 2:
            return ipaddress.IPv4Address(text) in net
        if fam == 10:
            m = ipaddress.IPv6Address(text).ipv4_mapped
            return m is not None and m in net
        return False
    return fam == 10 and ipaddress.IPv6Address(text) in net


def evaluate(ast, rec):
    kind = ast[0]
    if kind == "and":
        return all(evaluate(a, rec) for a in ast[1])
    if kind == "or":
        return any(evaluate(a, rec) for a in ast[1])
    if kind == "not":
        return not evaluate(ast[1], rec)
    if kind == "num":
        _, alias, op, val = ast
        return compare(Fraction(value(rec, alias)), op, val)
    if kind == "state":
        _, names, neg = ast
        return (rec["inet_diag_msg_state"] in names) != neg
    if kind == "addr":
        _, alias, nets, neg = ast
        return any(in_net(rec, alias, n) for n in nets) != neg
    if kind == "regex":
        _, alias, rx, neg = ast
        return (re.search(rx, rec[STRINGS[alias]]) is not None) != neg
    if kind == "str":
        _, alias, op, val = ast
        return compare(rec[STRINGS[alias]].encode(), op, val.encode())
    _, alias = ast
    if alias in STRINGS:
        return rec[STRINGS[alias]] != ""
    if alias in ADDRS:
        return rec[ADDRS[alias]] != ""
    return value(rec, alias) != 0


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--exprs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--keep", help="leave the generated files in this directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each expression")
    args = ap.parse_args()
    rnd = random.Random(args.seed)

    tmp = args.keep or tempfile.mkdtemp(prefix="filter-check.")
    os.makedirs(tmp, exist_ok=True)
    lines = "".join(json.dumps(gen_record(rnd, i)) + "\n" for i in range(args.records))
    stream = os.path.join(tmp, "records.pb")
    with open(stream, "wb") as f:
        f.write(run(["xtcp-fmt", "--from", "json"], input=lines.encode()))
    records = [json.loads(l) for l in run(["xtcp-fmt", "-f", "json", stream]).splitlines()]
    assert len(records) == args.records, len(records)

    failures = 0
    total_kept = 0
    telling = 0     # expressions that keep some rows and drop others
    for n in range(args.exprs):
        ast, text = gen_expr(rnd, records)
        want = [r["record_counter"] for r in records if evaluate(ast, r)]
        out = subprocess.run(["xtcp-filter", text, stream], capture_output=True)
        if out.returncode != 0:
            print("expr %d: %s: exit %d: %s" % (n, text, out.returncode, out.stderr.decode()))
            failures += 1
            continue
        got = [json.loads(l)["record_counter"]
               for l in run(["xtcp-fmt", "-f", "json"], input=out.stdout).splitlines()]
        count = int(run(["xtcp-filter", "-c", text, stream]))
        inverted = int(run(["xtcp-filter", "-v", "-c", text, stream]))
        if got != want or count != len(want) or inverted != args.records - len(want):
            failures += 1
            print("expr %d: %s" % (n, text))
            print("  python keeps %d, xtcp-filter %d (-c %d, -v -c %d)" %
                  (len(want), len(got), count, inverted))
            print("  only python: %s" % sorted(set(want) - set(got))[:10])
            print("  only xtcp-filter: %s" % sorted(set(got) - set(want))[:10])
        total_kept += len(want)
        telling += 0 < len(want) < args.records
        if args.verbose:
            print("%4d kept: %s" % (len(want), text))
    print("%d records, %d expressions (%d keep some rows and drop others), %d rows kept in all, "
          "%d differences" % (args.records, args.exprs, telling, total_kept, failures))
    if telling < args.exprs // 2:
        print("too few expressions tell rows apart: the check would prove little")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
