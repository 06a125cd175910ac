#!/usr/bin/env python3
"""The samples of a Prometheus text exposition, one a line, normalised.

    prom-samples.py FILE|URL [PREFIX]

Reads the exposition (a file, or an http:// URL such as a node_exporter's
/metrics), parses each sample line on its own (labels with their escapes
\\\\ \\" \\n; comments and HELP/TYPE lines skipped) and prints
`name{label="value",...} value`, labels sorted and those with an empty value
dropped (Prometheus's own reading of an empty label), the value as Python's
repr of the float (so 1767225620 and 1.76722562e+09 are one line), the
quantile label likewise.  Only names starting with PREFIX when given.
Lines come sorted.  Exits 1 on a line it cannot parse.
"""

import re
import sys
import urllib.request

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def parse(line):
    m = NAME.match(line)
    if not m:
        raise ValueError("no metric name")
    name, i, labels = m.group(), m.end(), {}
    if line[i:i + 1] == "{":
        i += 1
        while line[i] != "}":
            m = LABEL.match(line, i)
            if not m or line[m.end():m.end() + 2] != '="':
                raise ValueError("bad label at %d" % i)
            key, i, value = m.group(), m.end() + 2, []
            while line[i] != '"':
                if line[i] == "\\":
                    i += 1
                    value.append({"\\": "\\", '"': '"', "n": "\n"}[line[i]])
                else:
                    value.append(line[i])
                i += 1
            labels[key] = "".join(value)
            i += 1
            if line[i] == ",":
                i += 1
        i += 1
    rest = line[i:].split()
    if len(rest) != 1:
        raise ValueError("want one value (and no timestamp)")
    return name, labels, float(rest[0])


def main():
    src = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else ""
    if src.startswith("http://"):
        text = urllib.request.urlopen(src, timeout=10).read().decode("utf-8")
    else:
        text = open(src, encoding="utf-8").read()
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line or line.startswith("#"):
            continue
        try:
            name, labels, value = parse(line)
        except (ValueError, IndexError, KeyError) as e:
            print("%s line %d: %s: %r" % (src, n, e, line), file=sys.stderr)
            return 1
        if not name.startswith(prefix):
            continue
        if "quantile" in labels:
            labels["quantile"] = repr(float(labels["quantile"]))
        shown = ",".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))
                         for k, v in sorted(labels.items()) if v != "")
        out.append("%s{%s} %r" % (name, shown, value))
    print("\n".join(sorted(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
