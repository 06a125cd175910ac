#!/usr/bin/env python3
"""Run the README's transcripts and compare their output.

    readme-examples.py README.md [--sub OLD=NEW ...] [--mask REGEX ...] [--list]

A transcript is a ```console block right after a line `<!-- example: exact -->`.
In it, a line starting with "$ " is a command; lines after it that start with
four spaces continue it; every other line up to the next command is what the
command prints (stdout and stderr together).  Each command runs with bash -o
pipefail from the directory of README.md; --sub replaces text in the commands
and in the expected output (a broker's port that differs on every run);
--mask replaces what a regular expression matches, in the expected and the
actual output alike, with "<masked>" (a byte count that includes the version
string every record carries).

Prints one line per transcript and exits 1 on the first difference.
"""

import argparse
import difflib
import os
import re
import subprocess
import sys

MARK = "<!-- example: exact -->"


def transcripts(text):
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == MARK:
            j = i + 1
            if j >= len(lines) or lines[j].strip() != "```console":
                raise SystemExit("README line %d: %s must be followed by ```console" % (i + 1, MARK))
            j += 1
            block = []
            while j < len(lines) and lines[j].strip() != "```":
                block.append(lines[j])
                j += 1
            out.append((i + 1, block))
            i = j
        i += 1
    return out


def steps(block):
    """[(command, expected output lines)]"""
    result = []
    for line in block:
        if line.startswith("$ "):
            result.append([line[2:], []])
        elif result and line.startswith("    ") and not result[-1][1]:
            result[-1][0] += "\n" + line
        elif result:
            result[-1][1].append(line)
        else:
            raise SystemExit("a transcript must start with a '$ ' command: %r" % line)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("readme")
    ap.add_argument("--sub", action="append", default=[])
    ap.add_argument("--mask", action="append", default=[])
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    subs = [s.split("=", 1) for s in args.sub]
    top = os.path.dirname(os.path.abspath(args.readme))
    found = transcripts(open(args.readme, encoding="utf-8").read())
    if not found:
        print("no transcripts marked %s" % MARK)
        return 1
    for line_no, block in found:
        for cmd, want in steps(block):
            for old, new in subs:
                cmd = cmd.replace(old, new)
                want = [w.replace(old, new) for w in want]
            if args.list:
                print(cmd)
                continue
            p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=top,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=120)
            got = p.stdout.decode("utf-8", "replace").rstrip("\n").split("\n")
            want_s = list(want)
            while want_s and want_s[-1] == "":
                want_s.pop()
            if p.stdout == b"":
                got = []
            for rx in args.mask:
                got = [re.sub(rx, "<masked>", g) for g in got]
                want_s = [re.sub(rx, "<masked>", w) for w in want_s]
            if p.returncode != 0 or got != want_s:
                print("README line %d: %s" % (line_no, cmd.split("\n")[0]))
                print("exit %d" % p.returncode)
                sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(
                    want_s, got, "README", "output", lineterm=""))
                return 1
        print("ok README line %d (%d commands)" % (line_no, len(steps(block))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
