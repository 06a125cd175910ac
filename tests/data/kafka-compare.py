#!/usr/bin/env python3
"""Compare rows sent with rows read back from Kafka, per partition.

usage: kafka-compare.py SENT.json PART.json...

Each file holds JSON lines (xtcp-show's output, one row a line).  Passes when
the rows read back, over all partitions, are the rows sent (none missing,
none doubled) and each partition holds its rows in the order they were sent.
The rows sent must be distinct, so order is checkable.
"""
import collections
import sys


def main():
    sent = open(sys.argv[1]).read().splitlines()
    if len(set(sent)) != len(sent):
        sys.exit("the rows sent are not distinct")
    index = {row: i for i, row in enumerate(sent)}
    got = collections.Counter()
    for path in sys.argv[2:]:
        last = -1
        for n, row in enumerate(open(path).read().splitlines()):
            if row not in index:
                sys.exit(f"{path}: row {n} was never sent")
            if index[row] <= last:
                sys.exit(f"{path}: row {n} (sent as {index[row]}) is out of order or doubled")
            last = index[row]
            got[row] += 1
    doubled = [r for r, c in got.items() if c > 1]
    missing = len(sent) - len(got)
    if doubled or missing:
        sys.exit(f"{missing} rows missing, {len(doubled)} doubled")
    print(f"rows={len(sent)} partitions={len(sys.argv) - 2} ok")


if __name__ == "__main__":
    main()
