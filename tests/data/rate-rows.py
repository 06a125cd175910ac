#!/usr/bin/env python3
"""xtcp-rate's rows, byte by byte, by the tests' own protobuf reader.

    rate-rows.py check IN.pb OUT.pb     every output frame is its input frame
                                        (same rows, in order), every row its
                                        input row as it came (rate fields it
                                        held left out) followed by varint
                                        fields 3100-3199 only, in ascending
                                        order; prints "frames=N rows=M
                                        suffixed=K"
    rate-rows.py unknown OUT.pb         two polls of one socket whose rows
                                        end in fields no schema has (5000
                                        varint, 5001 bytes)
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from delimited import messages, put_uvarint, uvarint  # noqa: E402

RATE_FIRST, RATE_LAST = 3100, 3199


def fields(row):
    """(number, wire type, start, end, payload) of each field of a message."""
    pos = 0
    while pos < len(row):
        start = pos
        key, pos = uvarint(row, pos)
        wt = key & 7
        payload = None
        if wt == 0:
            _, pos = uvarint(row, pos)
        elif wt == 2:
            n, pos = uvarint(row, pos)
            payload = row[pos:pos + n]
            pos += n
        elif wt == 1:
            pos += 8
        elif wt == 5:
            pos += 4
        else:
            raise ValueError("wire type %d" % wt)
        yield key >> 3, wt, start, pos, payload


def rows(path):
    return [[payload for num, _, _, _, payload in fields(env) if num == 10]
            for _, env in messages(open(path, "rb").read())]


def check(a, b):
    fa, fb = rows(a), rows(b)
    assert len(fa) == len(fb), ("frames", len(fa), len(fb))
    n = suffixed = 0
    for ra, rb in zip(fa, fb):
        assert len(ra) == len(rb), ("rows in a frame", len(ra), len(rb))
        for x, y in zip(ra, rb):
            own = [x[s:e] for num, _, s, e, _ in fields(x) if not RATE_FIRST <= num <= RATE_LAST]
            onum = [num for num, _, _, _, _ in fields(x) if not RATE_FIRST <= num <= RATE_LAST]
            fy = list(fields(y))
            # the rate fields, together, before the first own field numbered above them
            at = next((i for i, num in enumerate(onum) if num >= RATE_FIRST), len(onum))
            rate = [(num, wt) for num, wt, _, _, _ in fy[at:] if RATE_FIRST <= num <= RATE_LAST]
            k = len(rate)
            assert [y[s:e] for _, _, s, e, _ in fy[:at]] == own[:at], \
                "row %d: its own fields below the rate fields changed" % n
            assert all(RATE_FIRST <= num <= RATE_LAST for num, _, _, _, _ in fy[at:at + k]), \
                "row %d: the rate fields are not together at field %d" % (n, at)
            assert [y[s:e] for _, _, s, e, _ in fy[at + k:]] == own[at:], \
                "row %d: its own fields above the rate fields changed" % n
            nums = rate
            assert all(wt == 0 for _, wt in nums), nums
            assert [num for num, _ in nums] == sorted({num for num, _ in nums}), nums
            suffixed += bool(nums)
            n += 1
    print("frames=%d rows=%d suffixed=%d" % (len(fa), n, suffixed))


def field(num, value):
    if isinstance(value, bytes):
        return put_uvarint(num << 3 | 2) + put_uvarint(len(value)) + value
    return put_uvarint(num << 3) + put_uvarint(value)


def unknown(path):
    out = b""
    for poll in (1, 2):
        row = (field(10, 1767225600 * 10 ** 9 + poll * 10 ** 10) + field(1002, 1) +
               field(1010, 77) + field(1201, 1) + field(1241, poll * 4096) +
               field(3001, poll) + field(5000, 7) + field(5001, b"newer"))
        env = field(10, row)
        out += put_uvarint(len(env)) + env
    open(path, "wb").write(out)


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        unknown(sys.argv[2])
