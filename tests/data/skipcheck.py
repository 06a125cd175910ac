#!/usr/bin/env python3
"""Check the polls of a skipping xtcp-dump against two --no-skip dumps around them.

  skipcheck.py INODES BEFORE AFTER SKIPPING T0 T1 [STATE,...]

INODES: the namespaces checked, one inode a line.  BEFORE, AFTER: TSV rows
"inode state src dst sport dport" of --no-skip dumps made at T0 and ending at T1
(CLOCK_REALTIME ns).  SKIPPING: TSV rows "poll_sequence timestamp_ns inode state src
dst sport dport" of a long-running skipping dump.  Every poll of it that started
after T0 and was over before T1 (the next poll started) must hold every socket both
--no-skip dumps saw, and none that neither saw but a TIME-WAIT one (it may have
expired between the poll's read of its namespace and theirs).  With STATEs, only rows in those
states count.  Prints how many polls were checked; exit 1 on a difference.
"""
import sys


def rows(path, inodes, states, key_from):
    out = {}
    with open(path) as fp:
        for line in fp:
            f = line.rstrip('\n').split('\t')
            row = tuple(f[key_from:])
            if row[0] in inodes and (not states or row[1] in states):
                out.setdefault(tuple(f[:key_from]), set()).add(row)
    return out


def main():
    inodes = set(open(sys.argv[1]).read().split())
    t0, t1 = int(sys.argv[5]), int(sys.argv[6])
    states = set(sys.argv[7].split(',')) if len(sys.argv) > 7 else set()
    before = rows(sys.argv[2], inodes, states, 0).get((), set())
    after = rows(sys.argv[3], inodes, states, 0).get((), set())
    polls = {}
    starts = {}
    with open(sys.argv[4]) as fp:
        for line in fp:
            f = line.rstrip('\n').split('\t')
            seq, ts = int(f[0]), int(f[1])
            starts[seq] = ts
            row = tuple(f[2:])
            polls.setdefault(seq, set())
            if row[0] in inodes and (not states or row[1] in states):
                polls[seq].add(row)
    must, may = before & after, before | after
    checked = 0
    for seq in sorted(polls):
        if starts[seq] < t0 or seq + 1 not in starts or starts[seq + 1] > t1:
            continue
        got = polls[seq]
        # a TIME-WAIT socket expires 60 s after it was made: a poll may have
        # read its namespace before the BEFORE dump did and seen one that
        # neither dump saw (none is made while they run)
        missing = must - got
        extra = {r for r in got - may if r[1] != 'TIME_WAIT'}
        if missing or extra:
            for r in sorted(missing):
                print(f'poll {seq}: missing {r}')
            for r in sorted(extra):
                print(f'poll {seq}: not in either --no-skip dump {r}')
            sys.exit(1)
        checked += 1
    print(f'{checked} polls checked, {len(must)} sockets in both --no-skip dumps, '
          f'{len(may - must)} in one')
    sys.exit(0 if checked else 1)


main()
