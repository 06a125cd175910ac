#!/usr/bin/env python3
"""Rewrite llvm-profdata's text profile in a stable order.

llvm-profdata writes functions in hash-table order, which changes from run to
run; sorted by name (then hash) two trainings of the same code differ only in
their counts.  The header lines (starting with ':' or '#') stay first.
"""
import sys


def main():
    text = open(sys.argv[1]).read()
    lines = text.split('\n')
    header = []
    while lines and (lines[0].startswith(':') or lines[0].startswith('#')):
        header.append(lines.pop(0))
    # Records are separated by blank lines; each starts with the function name.
    records = [r for r in '\n'.join(lines).split('\n\n') if r.strip()]

    def key(record):
        parts = record.split('\n')
        return (parts[0], parts[1] if len(parts) > 1 else '')
    out = ''.join(h + '\n' for h in header) + '\n\n'.join(sorted(records, key=key)) + '\n'
    sys.stdout.write(out)


if __name__ == '__main__':
    main()
