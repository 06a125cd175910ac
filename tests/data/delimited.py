#!/usr/bin/env python3
"""Length-delimited protobuf, read by the tests' own code (not xtcp's).

A stream is frames `uvarint(len) || Envelope`, an Envelope a sequence of
length-delimited fields (the rows, field 10; ClickHouse writes field 1);
ClickHouse's Protobuf format is rows `uvarint(len) || XtcpFlatRecord`.

    delimited.py rows STREAM           the rows of every Envelope, in order, as
                                       ClickHouse's Protobuf format (stdout)
    delimited.py fields STREAM         the Envelope field numbers used, sorted
    delimited.py retag STREAM FIELD    the stream with every row moved to
                                       Envelope field FIELD (stdout)
    delimited.py unknown STREAM        the stream with a varint field 5 before
                                       the rows of every Envelope (stdout)
    delimited.py count FILE            "ROWS BYTES" of a Protobuf-format file
    delimited.py row FILE N            "OFFSET LENGTH" of its row N (from 1)
    delimited.py body FILE N           the bytes of its row N (stdout)

An input that ends inside a frame or a row, or an Envelope field that is not
length-delimited, is an error (exit 1).
"""

import sys


def uvarint(buf, pos):
    shift = value = 0
    while True:
        if pos >= len(buf):
            raise ValueError("input ends inside a varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint over 10 bytes")


def put_uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def messages(buf):
    """(offset, payload) of each uvarint(len) || payload."""
    pos = 0
    while pos < len(buf):
        start = pos
        n, pos = uvarint(buf, pos)
        if pos + n > len(buf):
            raise ValueError("input ends inside the message at byte %d" % start)
        yield start, buf[pos:pos + n]
        pos += n


def envelope_fields(env):
    """(field number, payload) of each field of an Envelope."""
    pos = 0
    while pos < len(env):
        tag, pos = uvarint(env, pos)
        if tag & 7 != 2:
            raise ValueError("Envelope field %d is not length-delimited" % (tag >> 3))
        n, pos = uvarint(env, pos)
        yield tag >> 3, env[pos:pos + n]
        pos += n


def frame(body):
    return put_uvarint(len(body)) + body


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    data = open(path, "rb").read()
    out = sys.stdout.buffer
    if cmd == "rows":
        for _, env in messages(data):
            for _, row in envelope_fields(env):
                out.write(frame(row))
    elif cmd == "fields":
        print(" ".join(str(n) for n in sorted({n for _, env in messages(data)
                                                for n, _ in envelope_fields(env)})))
    elif cmd == "retag":
        tag = put_uvarint(int(sys.argv[3]) << 3 | 2)
        for _, env in messages(data):
            out.write(frame(b"".join(tag + frame(row) for _, row in envelope_fields(env))))
    elif cmd == "unknown":
        for _, env in messages(data):
            out.write(frame(bytes([5 << 3 | 0, 42]) + env))
    elif cmd == "count":
        rows = list(messages(data))
        print(len(rows), sum(len(r) for _, r in rows))
    elif cmd in ("row", "body"):
        n = int(sys.argv[3])
        for i, (offset, row) in enumerate(messages(data), 1):
            if i == n:
                if cmd == "row":
                    print(offset, len(row))
                else:
                    out.write(row)
                return 0
        raise ValueError("no row %d" % n)
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ValueError as e:
        sys.exit("delimited.py: %s: %s" % (sys.argv[2], e))
