#!/usr/bin/env python3
"""Check xtcp-stat -f json against Python on the same records.

    stat-check.py FIELDS.tsv RECORDS.json STAT.json --by LIST --fields LIST
                  --quantiles LIST [--max-series N]

FIELDS.tsv is `xtcp-stat --list-fields`; RECORDS.json the records as
`xtcp-fmt -f json` writes them; STAT.json what `xtcp-stat -f json` wrote
for the same records with the same lists.  The words of the lists are
resolved here on their own (alias, name, or the name without its tcp_info_,
inet_diag_msg_ or inet_diag_msg_socket_ prefix), polls are cut where
poll_sequence or record_kind (or, for poll rows whose poll_sequence is 0,
timestamp_ns) changes: the close records after a poll are a summary of
their own, of record_kind RECORD_KIND_CLOSE.  Every count,
sum, min, max and quantile is recomputed: quantiles with
statistics.quantiles(method='inclusive') on Fractions, so they are exact,
and compared both exactly and as the float Python gives for the integers.
With --max-series N, a poll of more than N groups must show N - 1 groups
with at least as many records as any it folded, and one more, "other",
whose figures are those of all the records of the folded groups.

Prints one line and exits 0 when everything matches, else names the first
difference and exits 1.
"""

import argparse
import json
import statistics
import sys
from decimal import Decimal
from fractions import Fraction

POLL = "RECORD_KIND_POLL"
PREFIXES = ("tcp_info_", "inet_diag_msg_", "inet_diag_msg_socket_")


def schema(path):
    fields = {}
    for line in open(path, encoding="utf-8"):
        name, kind, unit, aliases, _ = line.rstrip("\n").split("\t", 4)
        fields[name] = (kind, [] if aliases == "-" else aliases.split(","))
    return fields


def resolve(fields, word):
    for name, (_, aliases) in fields.items():
        if word in aliases:
            return name
    if word in fields:
        return word
    for p in PREFIXES:
        if p + word in fields:
            return p + word
    raise SystemExit("cannot resolve %r" % word)


def words(text):
    return [w for w in text.split(",")] if text else []


def as_int(v):
    return int(v)       # 64-bit values above 2^53 come as strings of digits


def exact(v):
    """A number of xtcp-stat's JSON (Decimal, int or a string of digits) as a Fraction."""
    return Fraction(Decimal(v)) if isinstance(v, (str, Decimal)) else Fraction(v)


def quantile(vals, q, cuts):
    """(exact, float) type 7 quantile of sorted ints; q = (a, den); cuts: den -> cut points."""
    a, den = q
    if len(vals) == 1 or a == 0:
        return Fraction(vals[0]), float(vals[0])
    if a == den:
        return Fraction(vals[-1]), float(vals[-1])
    if den not in cuts:
        cuts[den] = (statistics.quantiles([Fraction(v) for v in vals], n=den, method="inclusive"),
                     statistics.quantiles(vals, n=den, method="inclusive"))
    return cuts[den][0][a - 1], cuts[den][1][a - 1]


def parse_q(text):
    whole, _, frac = text.partition(".")
    den = 10 ** len(frac)
    a = int(whole or "0") * den + int(frac or "0")
    while den > 1 and a % 10 == 0:
        a //= 10
        den //= 10
    return a, den


def column(q):
    a, den = q
    pct = Fraction(a * 100, den)
    s = str(Decimal(pct.numerator) / Decimal(pct.denominator))
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "p" + s


def polls(records):
    out, key = [], None
    for r in records:
        seq = as_int(r.get("poll_sequence", 0))
        kind = r.get("record_kind", POLL)
        k = (seq, kind, as_int(r.get("timestamp_ns", 0)) if not seq and kind == POLL else 0)
        if k != key:
            out.append([])
            key = k
        out[-1].append(r)
    return out


def figures(rows, vfields, quants):
    res = {"count": len(rows)}
    for word, name in vfields:
        vals = sorted(as_int(r[name]) for r in rows)
        f = {"sum": (Fraction(sum(vals)), float(sum(vals))), "min": (Fraction(vals[0]), float(vals[0])),
             "max": (Fraction(vals[-1]), float(vals[-1]))}
        cuts = {}
        for q in quants:
            f[column(q)] = quantile(vals, q, cuts)
        res[word] = f
    return res


def compare(where, want, got):
    if got.get("count") != want["count"]:
        return "%s: count %r, want %r" % (where, got.get("count"), want["count"])
    for word, stats in want.items():
        if word == "count":
            continue
        g = got.get(word)
        if not isinstance(g, dict) or set(g) != set(stats):
            return "%s: %s: keys %r, want %r" % (where, word, g and sorted(g), sorted(stats))
        for stat, (ex, fl) in stats.items():
            if exact(g[stat]) != ex:
                return "%s: %s.%s = %s, want %s (exactly)" % (where, word, stat, g[stat], ex)
            if float(exact(g[stat])) != fl:
                return "%s: %s.%s = %s, want %r (Python's float)" % (where, word, stat, g[stat], fl)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fields")
    ap.add_argument("records")
    ap.add_argument("stat")
    ap.add_argument("--by", default="")
    ap.add_argument("--fields", dest="values", default="")
    ap.add_argument("--quantiles", default="")
    ap.add_argument("--max-series", type=int, default=0)
    args = ap.parse_args()
    fields = schema(args.fields)
    keys = [(w, resolve(fields, w)) for w in words(args.by)]
    vfields = [(w, resolve(fields, w)) for w in words(args.values)]
    quants = [parse_q(q) for q in words(args.quantiles)]

    records = [json.loads(l) for l in open(args.records, encoding="utf-8")]
    lines = [json.loads(l, parse_float=Decimal) for l in open(args.stat, encoding="utf-8")]
    got_polls = []
    for line in lines:
        k = (as_int(line["poll_sequence"]), as_int(line["timestamp_ns"]), line["record_kind"])
        if not got_polls or got_polls[-1][0] != k:
            got_polls.append((k, []))
        got_polls[-1][1].append(line)

    want_polls = polls(records)
    if len(want_polls) != len(got_polls):
        print("%d polls, want %d" % (len(got_polls), len(want_polls)))
        return 1
    n_groups = 0
    for i, (rows, (pk, got)) in enumerate(zip(want_polls, got_polls), 1):
        first = rows[0]
        if pk != (as_int(first.get("poll_sequence", 0)), as_int(first.get("timestamp_ns", 0)),
                  first.get("record_kind", POLL)):
            print("poll %d: poll_sequence/timestamp_ns/record_kind %r, want the first record's" % (i, pk))
            return 1
        groups = {}
        for r in rows:
            groups.setdefault(tuple(r[name] for _, name in keys), []).append(r)
        shown = [g for g in got if g["group"] is not None]
        other = [g for g in got if g["group"] is None]
        folded = set(groups)
        for g in shown:
            key = tuple(g["group"][w] for w, _ in keys)
            if list(g["group"]) != [w for w, _ in keys] or key not in groups:
                print("poll %d: group %r is not one of the records' groups" % (i, g["group"]))
                return 1
            folded.discard(key)
            bad = compare("poll %d group %r" % (i, g["group"]), figures(groups[key], vfields, quants), g)
            if bad:
                print(bad)
                return 1
        n_groups += len(shown)
        if args.max_series and len(groups) > args.max_series:
            if len(shown) != args.max_series - 1 or len(other) != 1:
                print("poll %d: %d groups shown and %d other, want %d and 1 (of %d groups)" %
                      (i, len(shown), len(other), args.max_series - 1, len(groups)))
                return 1
            if shown and min(g["count"] for g in shown) < max(len(groups[k]) for k in folded):
                print("poll %d: a folded group has more records than a shown one" % i)
                return 1
            if other[0].get("other_groups") != len(folded):
                print("poll %d: other_groups %r, want %d" % (i, other[0].get("other_groups"), len(folded)))
                return 1
            rest = [r for k in folded for r in groups[k]]
            bad = compare("poll %d other" % i, figures(rest, vfields, quants), other[0])
            if bad:
                print(bad)
                return 1
        elif other or folded:
            print("poll %d: %d groups not shown, %d other" % (i, len(folded), len(other)))
            return 1
    closes = sum(1 for rows in want_polls if rows[0].get("record_kind", POLL) != POLL)
    print("ok: %d polls%s, %d records, %d groups, %d fields, %d quantiles match Python" %
          (len(want_polls) - closes, " and %d of close records" % closes if closes else "",
           len(records), n_groups, len(vfields), len(quants)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
