#!/usr/bin/env python3
"""Adversarial records through xtcp-fmt, checked with Python's json and csv.

  fmt-adversarial.py DIR

Writes DIR/adv.pb, a stream (encoded here, by hand, from the field numbers of
proto/xtcp_flat_record.proto) whose records hold hostile strings in netns,
hostname, label, tag and location (quotes, commas, CR/LF, backslashes,
control bytes, invalid and valid UTF-8, a 100 kB name), 64-bit values around
2^53, negative timestamps, unnamed states and enums, addresses of every
family, and an unknown field.  Runs xtcp-fmt -f json/csv/tsv/text on it and
checks every output against the values put in:

  json: every line parses with json.loads (strict: no raw control
        characters), keys are exactly the schema's fields, strings equal
        bytes.decode('utf-8', 'replace'), integers follow the 2^53 rule;
  csv:  csv.reader gives the header and the same values;
  tsv:  splitting on TAB and undoing \\\\ \\t \\n \\r gives the same values;
  text: one line per record, valid UTF-8, no control characters.

Leaves DIR/adv.json for the jansson checker.  Prints a summary line.
"""
import csv
import io
import ipaddress
import json
import os
import re
import subprocess
import sys

# field numbers from proto/xtcp_flat_record.proto
F = {
    "timestamp_ns": (10, "int64"), "hostname": (20, "string"), "location": (21, "string"),
    "netns": (30, "string"), "netns_inode": (31, "uint64"), "label": (50, "string"),
    "tag": (51, "string"), "record_counter": (60, "uint64"),
    "inet_diag_msg_family": (1001, "uint32"), "inet_diag_msg_state": (1002, "uint32"),
    "inet_diag_msg_socket_source_port": (1005, "uint32"),
    "inet_diag_msg_socket_source": (1007, "bytes"),
    "inet_diag_msg_socket_destination": (1008, "bytes"),
    "tcp_info_state": (1201, "uint32"), "tcp_info_rtt": (1230, "uint32"),
    "tcp_info_bytes_acked": (1241, "uint64"), "tcp_info_max_pacing_rate": (1240, "uint64"),
    "congestion_algorithm_string": (1300, "string"),
    "congestion_algorithm_enum": (1301, "enum"),
}
STATES = ["UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
          "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
          "BOUND_INACTIVE"]
CONG = ["CONGESTION_ALGORITHM_UNSPECIFIED", "CONGESTION_ALGORITHM_CUBIC",
        "CONGESTION_ALGORITHM_DCTCP", "CONGESTION_ALGORITHM_VEGAS",
        "CONGESTION_ALGORITHM_PRAGUE", "CONGESTION_ALGORITHM_BBR1",
        "CONGESTION_ALGORITHM_BBR2", "CONGESTION_ALGORITHM_BBR3"]

HOSTILE = [
    b"plain", b"", b"a,b", b'q"uote', b'"', b'""', b"new\nline", b"cr\rlf\r\n", b"back\\slash",
    b"tab\there", b"\x01\x02\x1b[31mred\x7f", b"\xff\xfe", b"caf\xc3\xa9", b"\xe2\x82",
    b"\xe2\x82x", b"\xed\xa0\x80", b"\xf0\x9f\x98\x80", b"\xf0\x9f\x98", b"\xc0\x80",
    b"\xf4\x90\x80\x80", b'"\n,\\\t\r', b"\\u0041", b"</script>", b" lead and trail ",
    b"=cmd|' /C calc'!A0", b"x" * 100000,
]
U64 = [0, 1, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 1, 2 ** 63, 2 ** 64 - 1]
I64 = [0, -1, 2 ** 53, 2 ** 53 + 1, -(2 ** 53), -(2 ** 53) - 1, 2 ** 63 - 1, -(2 ** 63),
       1795306633643218844]


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(name, value):
    num, typ = F[name]
    if typ in ("string", "bytes"):
        return uvarint(num << 3 | 2) + uvarint(len(value)) + value if value else b""
    if not value:
        return b""
    return uvarint(num << 3) + uvarint(value & (2 ** 64 - 1))


def records():
    addrs = [
        (2, ipaddress.ip_address("10.0.0.1").packed + bytes(12), "10.0.0.1"),
        (2, bytes(16), "0.0.0.0"),
        (10, ipaddress.ip_address("2001:db8::1").packed, "2001:db8::1"),
        (10, ipaddress.ip_address("::ffff:1.2.3.4").packed, "::ffff:1.2.3.4"),
        (0, bytes(range(16)), "0x000102030405060708090a0b0c0d0e0f"),
        (2, b"", ""),
    ]
    n = max(len(HOSTILE), len(U64), len(I64))
    for i in range(n):
        fam, raw, text = addrs[i % len(addrs)]
        r = {
            "netns": HOSTILE[i % len(HOSTILE)],
            "hostname": HOSTILE[(i + 3) % len(HOSTILE)],
            "label": HOSTILE[(i + 7) % len(HOSTILE)],
            "tag": HOSTILE[(i + 11) % len(HOSTILE)],
            "location": HOSTILE[(i + 13) % len(HOSTILE)],
            "congestion_algorithm_string": HOSTILE[(i + 17) % len(HOSTILE)],
            "timestamp_ns": I64[i % len(I64)],
            "tcp_info_bytes_acked": U64[i % len(U64)],
            "tcp_info_max_pacing_rate": U64[(i + 3) % len(U64)],
            "netns_inode": U64[(i + 5) % len(U64)],
            "record_counter": i + 1,
            "inet_diag_msg_family": fam,
            "inet_diag_msg_socket_source": raw,
            "inet_diag_msg_socket_destination": raw,
            "inet_diag_msg_state": [1, 10, 0, 13, 14, 255][i % 6],
            "tcp_info_state": [6, 99][i % 2],
            "congestion_algorithm_enum": [1, 7, 0, 42][i % 4],
            "tcp_info_rtt": [0, 1, 4294967295][i % 3],
            "inet_diag_msg_socket_source_port": [0, 443, 65535][i % 3],
        }
        r["_addr_text"] = text
        yield r


def encode(r):
    row = b"".join(field(k, v) for k, v in sorted(r.items(), key=lambda kv: F.get(kv[0], (0,))[0])
                   if k in F)
    return row + uvarint(4000 << 3) + uvarint(5)          # an unknown field, number 4000


def json_int(v):
    return v if -(2 ** 53) <= v <= 2 ** 53 else str(v)


def expect(r, name):
    """The value xtcp-fmt must write for field @name, as JSON would hold it."""
    if name in ("inet_diag_msg_socket_source", "inet_diag_msg_socket_destination"):
        return r["_addr_text"]
    v = r.get(name)
    if name in ("inet_diag_msg_state", "tcp_info_state"):
        return STATES[v] if v < len(STATES) else v
    if name == "congestion_algorithm_enum":
        return CONG[v] if v < len(CONG) else v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return json_int(v)


def plain(v):
    return str(v) if not isinstance(v, str) else v


def run(args, path):
    out = subprocess.run(["xtcp-fmt"] + args + [path], capture_output=True, check=True)
    return out.stdout


def main():
    d = sys.argv[1]
    recs = list(records())
    env = b"".join(b"\x52" + uvarint(len(row)) + row for row in map(encode, recs))
    pb = os.path.join(d, "adv.pb")
    with open(pb, "wb") as f:
        f.write(uvarint(len(env)) + env)
    names = [l.split("\t")[0] for l in
             subprocess.run(["xtcp-fmt", "--list-fields"], capture_output=True, text=True,
                            check=True).stdout.splitlines()]
    checked = 0

    # JSON lines
    out = run(["-f", "json"], pb)
    with open(os.path.join(d, "adv.json"), "wb") as f:
        f.write(out)
    lines = out.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(recs) + 1, len(lines)
    for r, line in zip(recs, lines):
        o = json.loads(line)
        assert list(o) == names, "keys are the schema's fields, in order, no unknown field"
        for k in F:
            assert o[k] == expect(r, k), (k, o[k], expect(r, k))
            checked += 1

    # CSV, with every hostile column
    cols = ["netns", "hostname", "label", "tag", "location", "congestion_algorithm_string",
            "timestamp_ns", "tcp_info_bytes_acked", "inet_diag_msg_state",
            "congestion_algorithm_enum", "inet_diag_msg_socket_source"]
    out = run(["-f", "csv", "--fields", ",".join(cols)], pb)
    rows = list(csv.reader(io.StringIO(out.decode("utf-8"), newline="")))
    assert rows[0] == cols and len(rows) == len(recs) + 1, (rows[0], len(rows))
    for r, row in zip(recs, rows[1:]):
        for k, cell in zip(cols, row):
            assert cell == plain(expect(r, k)), (k, cell, expect(r, k))
            checked += 1

    # TSV
    out = run(["-f", "tsv", "--fields", ",".join(cols)], pb).decode("utf-8")
    tlines = out.split("\n")
    assert tlines[-1] == "" and len(tlines) == len(recs) + 2
    unesc = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}
    for r, tl in zip(recs, tlines[1:]):
        cells = tl.split("\t")
        assert len(cells) == len(cols), cells
        for k, cell in zip(cols, cells):
            value, i = [], 0
            while i < len(cell):
                if cell[i] == "\\":
                    value.append(unesc[cell[i:i + 2]])
                    i += 2
                else:
                    value.append(cell[i])
                    i += 1
            assert "".join(value) == plain(expect(r, k)), (k, cell)
            checked += 1

    # text: one line per record, printable, and a line before each poll after the first
    polls = [(r.get("poll_sequence", 0), r.get("timestamp_ns", 0)) for r in recs]
    marks = sum(a != b for a, b in zip(polls, polls[1:]))
    out = run(["-f", "text"], pb).decode("utf-8")
    tl = out.split("\n")
    assert tl[-1] == "" and len(tl) == len(recs) + 2 + marks, len(tl)
    assert len([l for l in tl if re.fullmatch(r"---( poll \d+)?,? ?(\S+Z)? ---", l)]) == marks
    assert not any(c < " " or c == "\x7f" for c in out.replace("\n", "")), "control characters"
    out = run(["-f", "text", "--fields", ",".join(cols)], pb).decode("utf-8")
    assert len(out.split("\n")) == len(recs) + 2 + marks

    print("%d records, %d values equal in json, csv and tsv" % (len(recs), checked))


if __name__ == "__main__":
    main()
