"""Parse the text that iproute2's `ss` prints for TCP sockets.

Handles `ss -t` with any mix of -i (tcp_info), -m (skmem), -e (details),
-o (timers), -a and -n, in both layouts:

  * the default one: a state line, then one tab-indented detail line per
    socket (what `ss -tinm` and the fixtures `*_ss_tcp_info_a_*` show; a
    TIME-WAIT socket has an empty detail line);
  * the one-line layout of `-O/--oneline`.

Only numeric output is understood (run ss with -n): addresses must be IP
literals and ports numbers, as the fixtures are.

parse(text) -> list of dicts, one per socket, in output order:

    {
      "line": 12,                       # 1-based line of the state line
      "state_name": "ESTAB", "state": 1,  # kernel TCP_* number
      "recv_q": 0, "send_q": 0,
      "local": ADDR, "peer": ADDR,
      "tokens": {name: raw value text, ...},
      "flags": ["ts", "sack", ...],     # bare words ss prints as flags
      "cong": "cubic" or None,          # the congestion control name
      "skip": [...],                    # tokens the record cannot hold
      "unknown": [...],                 # tokens this module does not know
      "text": "the socket's lines",
    }

    ADDR = {"text": "[::1]%lo:80" (as printed), "family": 4 or 6,
            "ip": str(ipaddress.ip_address(...)) (canonical text, the same
            normalisation compare.py applies to the record's addresses),
            "packed": the address bytes, "port": int, "ifname": "lo" or None}

Values stay the exact text ss printed (`rtt` -> "0.048/0.014", `send` ->
"54613333333bps", `skmem` -> "(r0,rb1000000,...)"), so a comparison can
format the record's value the way ss does and compare strings.  Helpers
below split the compound values.

Address normalisation (what `key()` is built on):

  * IPv4 sockets print dotted quads; "0.0.0.0" is the IPv4 wildcard.  ss
    never prints "*" for an IPv4 address.
  * IPv6 addresses print in brackets, "[::1]", "[::ffff:127.0.0.1]".
  * ss prints "*" for the IPv6 unspecified address "::" when the socket is
    not v6only (a dual-stack listener) and "[::]" when it is v6only.  Both
    are the IPv6 address "::": the record has no v6only bit, so the two
    forms must map to the same key.
  * An IPv4-mapped address "[::ffff:1.2.3.4]" belongs to an AF_INET6 socket
    and stays IPv6: the kernel reports such sockets with family AF_INET6 and
    the raw 16 bytes ::ffff:1.2.3.4, which is what the record holds.  It is
    NOT folded onto the IPv4 address 1.2.3.4 (an AF_INET socket with the
    same numbers is a different socket).
  * A port printed as "*" is port 0.
  * "%ifname" after the local address is the bound interface
    (idiag_if != 0); it is not part of the key.
"""

import ipaddress
import re

# sstate_name[] of ss.c, index = kernel TCP state number.
STATE_BY_NAME = {
    "UNKNOWN": 0,
    "ESTAB": 1,
    "SYN-SENT": 2,
    "SYN-RECV": 3,
    "FIN-WAIT-1": 4,
    "FIN-WAIT-2": 5,
    "TIME-WAIT": 6,
    "UNCONN": 7,
    "CLOSE-WAIT": 8,
    "LAST-ACK": 9,
    "LISTEN": 10,
    "CLOSING": 11,
}
# long spellings some people paste
STATE_ALIASES = {
    "ESTABLISHED": 1, "SYN_SENT": 2, "SYN_RECV": 3, "FIN_WAIT1": 4,
    "FIN_WAIT2": 5, "TIME_WAIT": 6, "CLOSE": 7, "CLOSE_WAIT": 8,
    "LAST_ACK": 9, "CLOSING": 11,
}
STATE_NAME = {v: k for k, v in STATE_BY_NAME.items()}

NETIDS = {"tcp", "mptcp", "dccp", "sctp"}

# Bare words of tcp_stats_print() that are flags, not the congestion name.
FLAG_WORDS = {"ts", "sack", "ecn", "ecnseen", "fastopen", "app_limited", "bidir"}

# "name value" pairs (the value is the next token).
PAIR_WORDS = {"send", "pacing_rate", "delivery_rate"}

# "name:value" tokens this parser knows (tcp_stats_print, sock_details_print,
# inet_show_sock, print_skmeminfo).  Anything else is reported as unknown.
KNOWN_COLON = {
    # tcp_info
    "wscale", "rto", "backoff", "rtt", "ato", "qack", "mss", "pmtu", "rcvmss",
    "advmss", "cwnd", "ssthresh", "bytes_sent", "bytes_retrans", "bytes_acked",
    "bytes_received", "segs_out", "segs_in", "data_segs_out", "data_segs_in",
    "dctcp", "bbr", "lastsnd", "lastrcv", "lastack", "delivered",
    "delivered_ce", "busy", "rwnd_limited", "sndbuf_limited", "unacked",
    "retrans", "lost", "sacked", "dsack_dups", "fackets", "reordering",
    "reord_seen", "rcv_rtt", "rcv_space", "rcv_ssthresh", "notsent", "minrtt",
    "rcv_ooopack", "snd_wnd", "rcv_wnd", "rehash",
    # memory
    "skmem", "mem",
    # header details
    "uid", "ino", "sk", "fwmark", "cgroup", "v6only", "timer", "tos",
    "tclass", "class_id",
}

# Tokens the record cannot hold: kept in "skip", never compared.
#   users:      process names/pids/fds (from /proc, not netlink)
#   v6only:     INET_DIAG_SKV6ONLY has no field in the schema
#   md5keys:    TCP-MD5 keys, not in the schema
#   proc_ctx / sock_ctx: SELinux contexts
SKIP_COLON = {"users", "v6only", "md5keys", "proc_ctx", "sock_ctx"}

SHUTDOWN_RE = re.compile(r"^[<-]-[>-]$")


def tokenize(s):
    """Split on blanks, keeping "(...)" groups and "..." strings whole, so
    users:(("a b",pid=1,fd=3)) stays one token."""
    out, cur, depth, quote = [], [], 0, False
    for ch in s:
        if quote:
            cur.append(ch)
            if ch == '"':
                quote = False
            continue
        if ch == '"':
            quote = True
            cur.append(ch)
        elif ch == "(":
            depth += 1
            cur.append(ch)
        elif ch == ")":
            depth = max(0, depth - 1)
            cur.append(ch)
        elif ch.isspace() and depth == 0:
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def parse_addr(text):
    """'[::ffff:1.2.3.4]%lo:80' -> ADDR dict (see the module doc)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        raise ValueError("address without port: %r" % text)
    ifname = None
    if "%" in host:
        host, _, ifname = host.partition("%")
    if port == "*":
        portnum = 0
    elif port.isdigit():
        portnum = int(port)
    else:
        raise ValueError("non-numeric port %r in %r (run ss with -n)" % (port, text))
    if host == "*":
        # IPv6 "::" of a socket that is not v6only (ss.c inet_addr_print)
        ip = ipaddress.IPv6Address("::")
    elif host.startswith("[") and host.endswith("]"):
        ip = ipaddress.IPv6Address(host[1:-1])
    else:
        try:
            ip = ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError("not an IP literal: %r in %r (run ss with -n)" % (host, text))
    return {"text": text, "family": ip.version, "ip": str(ip),
            "packed": ip.packed, "port": portnum, "ifname": ifname}


def is_state_word(w):
    return w in STATE_BY_NAME or w in STATE_ALIASES


def _blocks(text):
    """Yield (lineno, [lines]) per socket: a state line plus its
    continuation lines (lines that start with white space)."""
    cur, start = None, 0
    netid_col = False
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            # an empty detail line (TIME-WAIT) is "\t" + spaces
            if cur is not None and line[:1] in ("\t", " "):
                cur.append(line)
            continue
        first = stripped.split(None, 1)[0]
        if first in ("State", "Netid") and "Recv-Q" in stripped:
            netid_col = first == "Netid"
            if cur is not None:
                yield start, cur, netid_col
            cur = None
            continue
        if line[:1] in ("\t", " ") and cur is not None and not is_state_word(first):
            cur.append(line)
            continue
        if cur is not None:
            yield start, cur, netid_col
        cur, start = [line], n
    if cur is not None:
        yield start, cur, netid_col


def parse_socket(lineno, lines, netid_col=False):
    toks = tokenize(" ".join(lines))
    if toks and (netid_col or toks[0] in NETIDS) and not is_state_word(toks[0]):
        toks = toks[1:]
    if len(toks) < 5:
        raise ValueError("line %d: too few columns: %r" % (lineno, lines[0]))
    state_name, rq, wq, loc, peer = toks[:5]
    if state_name in STATE_BY_NAME:
        state = STATE_BY_NAME[state_name]
    elif state_name in STATE_ALIASES:
        state = STATE_ALIASES[state_name]
    else:
        raise ValueError("line %d: unknown state %r" % (lineno, state_name))
    sock = {
        "line": lineno,
        "state_name": state_name,
        "state": state,
        "recv_q": int(rq),
        "send_q": int(wq),
        "local": parse_addr(loc),
        "peer": parse_addr(peer),
        "tokens": {},
        "flags": [],
        "cong": None,
        "skip": [],
        "unknown": [],
        "text": "\n".join(lines),
    }
    t = sock["tokens"]
    rest = toks[5:]
    i = 0
    while i < len(rest):
        tok = rest[i]
        i += 1
        if SHUTDOWN_RE.match(tok):
            t["shutdown"] = tok
            continue
        if tok in FLAG_WORDS:
            sock["flags"].append(tok)
            continue
        if tok in PAIR_WORDS:
            if i >= len(rest):
                sock["unknown"].append(tok)
                break
            t[tok] = rest[i]
            i += 1
            continue
        if tok.startswith("tcp-ulp-"):
            t["ulp"] = tok[len("tcp-ulp-"):]
            # ULP details (tls version/cipher/conf, mptcp subflow): not in
            # the record, skip them.
            while i < len(rest) and (rest[i].endswith(":") or rest[i] == "zc_ro_tx"
                                     or rest[i].split(":", 1)[0] in
                                     ("flags", "token", "seq", "sfseq", "ssnoff", "maplen")):
                if rest[i].endswith(":") and i + 1 < len(rest):
                    sock["skip"].append(rest[i] + " " + rest[i + 1])
                    i += 2
                else:
                    sock["skip"].append(rest[i])
                    i += 1
            continue
        if tok == "inet-sockopt:":
            # "inet-sockopt: ( recverr is_icsk ... )" -> names
            names = []
            while i < len(rest) and rest[i] != ")":
                w = rest[i].strip("()")
                if w:
                    names.append(w)
                i += 1
            i += 1
            t["inet-sockopt"] = names
            continue
        if ":" in tok:
            name, _, val = tok.partition(":")
            if name in SKIP_COLON:
                sock["skip"].append(tok)
            elif name == "cgroup":
                t.setdefault("cgroup", []).append(val)
            elif name in KNOWN_COLON:
                if name in t:
                    sock["unknown"].append(tok)   # repeated: suspicious
                else:
                    t[name] = val
            else:
                sock["unknown"].append(tok)
            continue
        if re.match(r"^[a-z][a-z0-9_]*$", tok) and sock["cong"] is None:
            # the congestion control name: a bare lower-case word
            sock["cong"] = tok
            continue
        sock["unknown"].append(tok)
    return sock


def parse(text):
    """Parse a whole ss output; returns the list of socket dicts."""
    return [parse_socket(n, lines, netid) for n, lines, netid in _blocks(text)]


def parse_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse(f.read())


def key(sock):
    """Match key: (family, local ip, local port, peer ip, peer port, state)."""
    lo, pe = sock["local"], sock["peer"]
    return (lo["family"], lo["ip"], lo["port"], pe["ip"], pe["port"], sock["state"])


def skmem_fields(val):
    """'(r0,rb1000000,t0,...)' -> {'r': 0, 'rb': 1000000, ...}"""
    out = {}
    for part in val.strip("()").split(","):
        m = re.match(r"^([a-z]+)(\d+)$", part)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


if __name__ == "__main__":
    import json
    import sys
    for s in parse_file(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdin"):
        s = dict(s, local=dict(s["local"], packed=None), peer=dict(s["peer"], packed=None))
        print(json.dumps(s))
