#!/usr/bin/env python3
"""Check that an xtcp-fmt -f text table keeps its columns, from the header alone.

    xtcp-fmt -f text FILE | text-columns.py [--right TITLE,...]

Reads the table on standard input, its header line first.  The header gives
each column's place: where its title starts and where it ends.  On every
line after it, a left-aligned column's value starts where its title starts
(the character there is not a space; the one before it is, unless it is the
first column), and a right-aligned column's value (--right: the titles of
the columns aligned right) ends where its title ends (the character before
is not a space; the one there is a space, or the line ends there).  Offsets
are counted in code points, one screen column each, as xtcp-fmt counts them;
values are expected not to start or end with a space.

Prints "N lines, M columns aligned", or the first line and column out of
place (with a ruler), and exits 1.
"""
import argparse
import re
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--right", default="", help="comma-separated titles aligned right")
    args = ap.parse_args()
    right = set(t for t in args.right.split(",") if t)

    lines = sys.stdin.buffer.read().decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        sys.exit("text-columns: no header line")
    header = lines[0]
    cols = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", header)]
    missing = right - set(t for t, _, _ in cols)
    if missing:
        sys.exit("text-columns: no column %s in the header" % ", ".join(sorted(missing)))

    def space(line, i):
        return i >= len(line) or line[i] == " "

    for n, line in enumerate(lines[1:], 2):
        for title, start, end in cols:
            if title in right:
                ok = not space(line, end - 1) and space(line, end)
                where = end - 1
            else:
                ok = not space(line, start) and (start == 0 or space(line, start - 1))
                where = start
            if not ok:
                print("line %d: column %s (at %d) out of place:" % (n, title, where))
                print(header)
                print(line)
                print(" " * where + "^")
                sys.exit(1)
    print("%d lines, %d columns aligned" % (len(lines) - 1, len(cols)))


if __name__ == "__main__":
    main()
