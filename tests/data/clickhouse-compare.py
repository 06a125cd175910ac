#!/usr/bin/env python3
"""Every column of every row of a ClickHouse table against `xtcp-fmt -f json`.

    clickhouse-compare.py --lib LIBCHDB --db DIR --schemas DIR --fields FIELDS
        [--replace OLD NEW]... [--wait SECONDS] TABLE ORACLE [STEP...]

Runs the STEPs (as chdb.py does: SQL, or @FILE with the --replace
substitutions), then, with --wait, polls the table until it holds as many
rows as ORACLE (JSON lines from xtcp-fmt -f json: one row per line) or
SECONDS pass (the Kafka engine consumes in the background).  Then it reads
the whole table and compares: the table's columns are exactly the fields
(FIELDS: what `xtcp-fmt --list-fields` prints: name and kind), and the rows,
as a multiset, are the oracle's, value for value:

    integers       exact (JSON writes those above 2^53 as strings of digits;
                   ClickHouse's JSON is asked to quote every 64-bit integer)
    addresses      the JSON text (IPv4, IPv6, "0x" hex, "") as 16 bytes, read
                   with Python's ipaddress, against the column's raw bytes
    TCP states     the kernel's names, by this file's own table, or numbers
    enums          the value's name, as ClickHouse's Enum8 gives it
    strings        byte for byte

Prints "N rows, M columns: N*M values equal", or the first difference and
exits 1.
"""

import argparse
import ipaddress
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chdb  # noqa: E402

# include/net/tcp_states.h
TCP_STATES = {"UNKNOWN": 0, "ESTABLISHED": 1, "SYN_SENT": 2, "SYN_RECV": 3, "FIN_WAIT1": 4,
              "FIN_WAIT2": 5, "TIME_WAIT": 6, "CLOSE": 7, "CLOSE_WAIT": 8, "LAST_ACK": 9,
              "LISTEN": 10, "CLOSING": 11, "NEW_SYN_RECV": 12, "BOUND_INACTIVE": 13}
INTEGERS = ("uint32", "uint64", "int64", "family")


def oracle_value(kind, v):
    if kind in INTEGERS:
        return int(v)
    if kind == "state":
        return TCP_STATES[v] if isinstance(v, str) else int(v)
    if kind in ("address", "bytes"):
        if v == "":
            return ""
        if v.startswith("0x"):
            return v[2:].lower()
        a = ipaddress.ip_address(v)
        return (a.packed + bytes(12 if a.version == 4 else 0)).hex()
    return v


def engine_value(kind, v):
    if kind in INTEGERS or kind == "state":
        return int(v)
    if kind in ("address", "bytes"):
        return v.lower()
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    chdb.add_arguments(ap)
    ap.add_argument("--fields", required=True, help="xtcp-fmt --list-fields output")
    ap.add_argument("--wait", type=float, default=0, metavar="SECONDS")
    ap.add_argument("table")
    ap.add_argument("oracle")
    ap.add_argument("steps", nargs="*", metavar="STEP")
    args = ap.parse_args()
    with open(args.fields, encoding="utf-8") as fp:
        kinds = dict(line.split("\t")[:2] for line in fp if line.strip())
    with open(args.oracle, encoding="utf-8") as fp:
        oracle = [json.loads(line) for line in fp if line.strip()]
    steps = ["@" + os.path.abspath(s[1:]) if s.startswith("@") else s for s in args.steps]

    engine = chdb.Engine(args.lib, args.db, args.schemas)
    try:
        for i, step in enumerate(steps, 1):
            try:
                engine.query(chdb.read_step(step, args.replace))
            except chdb.EngineError as e:
                sys.exit("compare: step %d: %s" % (i, e))
        count = "SELECT count() FROM %s" % args.table
        deadline = time.monotonic() + args.wait
        n = int(engine.query(count))
        while n < len(oracle) and time.monotonic() < deadline:
            time.sleep(0.25)
            n = int(engine.query(count))
        if n != len(oracle):
            sys.exit("compare: %s holds %d rows%s, want %d" % (
                args.table, n, " after %gs" % args.wait if args.wait else "", len(oracle)))
        cols = [line.split("\t")[:2] for line in
                engine.query("DESCRIBE TABLE %s" % args.table).decode().splitlines()]
        names = [c for c, _ in cols]
        if sorted(names) != sorted(kinds):
            sys.exit("compare: columns not in the schema: %s; fields without a column: %s" % (
                sorted(set(names) - set(kinds)), sorted(set(kinds) - set(names))))
        select = ", ".join("hex(%s) AS %s" % (c, c) if kinds[c] in ("address", "bytes") else c
                           for c in names)
        text = engine.query("SELECT %s FROM %s FORMAT JSONEachRow SETTINGS "
                            "output_format_json_quote_64bit_integers = 1" % (select, args.table))
    finally:
        engine.close()

    got = [tuple(engine_value(kinds[c], row[c]) for c in names)
           for row in map(json.loads, text.decode().splitlines())]
    want = []
    for line_no, row in enumerate(oracle, 1):
        if sorted(row) != sorted(names):
            sys.exit("compare: oracle line %d: keys are not the columns" % line_no)
        want.append(tuple(oracle_value(kinds[c], row[c]) for c in names))
    got.sort(key=repr)
    want.sort(key=repr)
    for g, w in zip(got, want):
        if g != w:
            diffs = [(c, a, b) for c, a, b in zip(names, g, w) if a != b]
            sys.exit("compare: a row differs (%d columns), first %s: ClickHouse %r, xtcp-fmt %r"
                     % ((len(diffs),) + diffs[0]))
    print("%d rows, %d columns: %d values equal" % (len(got), len(names), len(got) * len(names)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
