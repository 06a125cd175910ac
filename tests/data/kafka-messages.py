#!/usr/bin/env python3
"""Check Kafka messages read back by kcat, independently of xtcp's code.

usage: kcat -C ... -e -q -f '%K:%k%R%s' | kafka-messages.py [--protoc N] [--keys FILE] > frames.pb

Each message value must be exactly one frame, uvarint(len) || Envelope, with
len equal to the rest of the value; the Envelope of the first N messages
(default: all) must decode with `protoc --decode_raw` and hold only field 10
(the rows).  The values are written to stdout concatenated (a stream, for
xtcp-show); --keys writes each message's key ("-" for none) and its row count,
one message a line.  Prints "messages=N" on stderr.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from delimited import uvarint  # noqa: E402


def count_rows(env):
    pos = rows = 0
    while pos < len(env):
        tag, pos = uvarint(env, pos)
        if tag != 0x52:
            raise ValueError(f"Envelope field tag {tag:#x}, want only rows (0x52)")
        n, pos = uvarint(env, pos)
        pos += n
        if pos > len(env):
            raise ValueError("row runs past the Envelope")
        rows += 1
    return rows


def main():
    args = sys.argv[1:]
    protoc_max = None
    keys_out = None
    while args:
        if args[0] == "--protoc":
            protoc_max = int(args[1])
            args = args[2:]
        elif args[0] == "--keys":
            keys_out = open(args[1], "w")
            args = args[2:]
        else:
            sys.exit(f"unknown argument {args[0]}")
    data = sys.stdin.buffer.read()
    pos = count = 0
    out = sys.stdout.buffer
    while pos < len(data):
        colon = data.index(b":", pos)
        klen = int(data[pos:colon])
        pos = colon + 1
        key = None
        if klen >= 0:
            key = data[pos:pos + klen]
            pos += klen
        vlen = int.from_bytes(data[pos:pos + 4], "big")
        pos += 4
        value = data[pos:pos + vlen]
        pos += vlen
        if len(value) != vlen:
            sys.exit(f"message {count}: truncated kcat output")
        flen, start = uvarint(value, 0)
        if flen != vlen - start:
            sys.exit(f"message {count}: frame length {flen}, but {vlen - start} bytes follow")
        env = value[start:]
        rows = count_rows(env)
        if protoc_max is None or count < protoc_max:
            p = subprocess.run(["protoc", "--decode_raw"], input=env, capture_output=True)
            if p.returncode != 0 or (rows and not p.stdout.startswith(b"10 {")):
                sys.exit(f"message {count}: protoc --decode_raw: {p.stderr.decode()}")
        if keys_out:
            keys_out.write(f"{'-' if key is None else key.decode()} {rows}\n")
        out.write(value)
        count += 1
    print(f"messages={count}", file=sys.stderr)


if __name__ == "__main__":
    main()
