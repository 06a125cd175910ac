#!/usr/bin/env python3
"""Print the number of rows (Envelope field 10) of each frame of a stream, one line per frame.

  frame-rows.py STREAM

Frame boundaries of two runs compare without their timestamps (xtcp-dump-jobs.bats).
"""
import sys


def uvarint(buf, pos):
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def main():
    data = open(sys.argv[1], "rb").read()
    pos = 0
    while pos < len(data):
        n, pos = uvarint(data, pos)
        end = pos + n
        rows = 0
        while pos < end:
            key, pos = uvarint(data, pos)
            kind = key & 7
            if kind == 0:
                _, pos = uvarint(data, pos)
            elif kind == 2:
                ln, pos = uvarint(data, pos)
                pos += ln
            elif kind == 1:
                pos += 8
            elif kind == 5:
                pos += 4
            else:
                sys.exit("unknown wire type %d" % kind)
            rows += key >> 3 == 10
        print(rows)


main()
