#!/usr/bin/env python3
"""compare.py: check xtcp records against what `ss` printed, socket by socket.

usage: compare.py [--stable-only] [--fail-extra] [--same-as SS2] [--run N]
                  [--expect-runs N] [--only-sk HEX,...] [--ifmap NAME=INDEX]
                  [-v] SS_TEXT XTCP_JSONL

SS_TEXT is the output of `ss -t -n` with any of -i -m -e -o -a (-O or not);
XTCP_JSONL is what `xtcp-show` prints (one JSON object per record, schema
field names).  Every socket ss lists must appear among the records, matched
on (family, local ip, local port, peer ip, peer port, state), and, when that
repeats, on the `sk:` cookie or `ino:` inode.  Then every value ss printed
that the record can hold is compared: the record's value is formatted the
way ss.c formats it (units, %g, rates computed from tcp_info, the
conditions under which ss prints a token at all) and the two strings must be
equal.  A token ss would have printed from the record but did not print is a
mismatch too (for token names this ss version is seen to print).

Output: one line per mismatch, "MISMATCH <socket> <field>: ss=<a> xtcp=<b>",
then a summary line.  Exit status: 0 all equal; 1 a mismatch, an ss socket
missing from the records, an ss token that cannot be checked, or (with
--fail-extra) a record that matches no ss socket; 2 usage/input error;
3 (--same-as only) the two ss runs differ, so the comparison is not
meaningful (the caller should retry).

--stable-only: compare only what does not move on an idle socket (see
STABLE below); everything else ss prints is ignored.
--run N: the records hold several runs (a capture of several `ss` runs):
compare only the N-th one.  --expect-runs N: require exactly N runs.
--only-sk HEX,...: check only the ss sockets with these `sk:` cookies.
--same-as SS2: a second ss run taken after the records; its sockets and
stable values must equal SS_TEXT's, else exit 3.
"""

import argparse
import json
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ss_parse  # noqa: E402

U32_MAX = 0xFFFFFFFF
U64_MAX = 0xFFFFFFFFFFFFFFFF

# Values that do not move on an idle socket (no data in flight, no keepalive):
# the brief's list (mss, rcvmss, advmss, wscale, rto, cwnd, ssthresh,
# bytes_acked, bytes_received, segs_out/in, data_segs_out/in, skmem,
# congestion name, state, addresses, ports) plus identity and configuration
# values that are constant by nature: queue lengths (nothing moves), the
# cookie, inode, uid, fwmark, cgroup, tos/tclass/class_id, shutdown, the
# interface, the TCP options negotiated at the handshake, pmtu and the
# other byte counters.  Left out: everything time-based (rtt, ato, lastsnd,
# lastrcv, lastack, timer, busy, minrtt) and the rates derived from it
# (send, pacing_rate, delivery_rate, bbr).
STABLE = {
    "state", "local", "peer", "iface", "recv_q", "send_q",
    "mss", "rcvmss", "advmss", "wscale", "rto", "cwnd", "ssthresh",
    "bytes_acked", "bytes_received", "bytes_sent", "bytes_retrans",
    "segs_out", "segs_in", "data_segs_out", "data_segs_in",
    "skmem", "mem", "cong", "flags", "pmtu",
    "ino", "sk", "uid", "fwmark", "cgroup", "tos", "tclass", "class_id",
    "shutdown", "ulp",
}

# Tokens every ss with -i has printed for years: their absence is checked
# even if no socket in the file shows them.
CORE_INFO = {"rto", "rtt", "ato", "mss", "cwnd", "ssthresh", "send", "lastsnd",
             "lastrcv", "lastack", "unacked", "retrans", "lost", "sacked",
             "reordering", "rcv_space", "cong"}

# Tokens ss prints from INET_DIAG_INFO (struct tcp_info); the congestion name
# is printed in the same block.  If ss printed none of them, the kernel sent
# no tcp_info for that socket (TIME-WAIT, SYN-RECV).
INFO_TOKENS = {
    "flags", "cong", "wscale", "rto", "backoff", "rtt", "ato", "mss", "pmtu",
    "rcvmss", "advmss", "cwnd", "ssthresh", "bytes_sent", "bytes_retrans",
    "bytes_acked", "bytes_received", "segs_out", "segs_in", "data_segs_out",
    "data_segs_in", "dctcp", "bbr", "send", "lastsnd", "lastrcv", "lastack",
    "pacing_rate", "delivery_rate", "delivered", "delivered_ce", "app_limited", "busy",
    "rwnd_limited", "sndbuf_limited", "unacked", "retrans", "lost", "sacked",
    "dsack_dups", "fackets", "reordering", "reord_seen", "rcv_rtt",
    "rcv_space", "rcv_ssthresh", "notsent", "minrtt", "rcv_ooopack",
    "snd_wnd", "rcv_wnd", "rehash",
}

TIMER_NAMES = ["off", "on", "keepalive", "timewait", "persist", "unknown"]

# struct inet_diag_sockopt bit order (first two bytes, LSB first)
SOCKOPT_BITS = ["recverr", "is_icsk", "freebind", "hdrincl", "mc_loop",
                "transparent", "mc_all", "nodefrag", "bind_addr_no_port",
                "recverr_rfc4884", "defer_connect"]


def c_hash_x(v):
    """printf("%#x", v): "0" for zero, else "0x..."."""
    return "0" if v == 0 else "0x%x" % v


def sprint_bw(bw, numeric):
    """ss.c sprint_bw(): %.0f with -n, else %.3g with a k/M/G/T suffix."""
    if numeric:
        return "%.0f" % bw
    if bw >= 1e12:
        return "%.3gT" % (bw / 1e12)
    if bw >= 1e9:
        return "%.3gG" % (bw / 1e9)
    if bw >= 1e6:
        return "%.3gM" % (bw / 1e6)
    if bw >= 1e3:
        return "%.3gk" % (bw / 1e3)
    return "%g" % bw


def print_ms_timer(timeout):
    """ss.c print_ms_timer()."""
    secs = timeout // 1000
    minutes = secs // 60
    secs = secs % 60
    msecs = timeout % 1000
    buf = ""
    if minutes:
        msecs = 0
        buf = "%dmin" % minutes
        if minutes > 9:
            secs = 0
    if secs:
        if secs > 9:
            msecs = 0
        buf += "%d%s" % (secs, "." if msecs else "sec")
    if msecs:
        buf += "%03dms" % msecs
    return buf


def is_numeric_bw(text):
    """True when a rate was printed with -n (plain digits before "bps")."""
    return not any(c in text for c in "kMGT")


class Rec(dict):
    """A record: missing fields read as 0 (protobuf default)."""

    def __missing__(self, k):
        return 0


def render(rec, sock, options_shown=True, numeric=True):
    """What ss would print for this record: {token name: value text}.

    Only tokens whose presence ss decides from the values themselves are
    produced unconditionally; tokens that depend on an attribute being
    present (tos, tclass, class_id, shutdown, skmem, cong, dctcp, bbr,
    ulp, cgroup) are produced when ss printed them or the record's value
    says the attribute must have been there.
    """
    r = rec
    t = sock["tokens"]
    out = {}
    st = r["inet_diag_msg_state"]

    out["recv_q"] = str(r["inet_diag_msg_rqueue"])
    out["send_q"] = str(r["inet_diag_msg_wqueue"])
    out["iface"] = str(r["inet_diag_msg_socket_interface"])

    # sock_details_print (-e)
    if r["inet_diag_msg_uid"]:
        out["uid"] = "%u" % r["inet_diag_msg_uid"]
    out["ino"] = "%u" % r["inet_diag_msg_inode"]
    out["sk"] = "%x" % r["inet_diag_msg_socket_cookie"]
    if r["socket_mark"]:
        out["fwmark"] = "0x%x" % r["socket_mark"]
    if r["inet_diag_msg_timer"]:
        tm = min(r["inet_diag_msg_timer"], 5)
        out["timer"] = "(%s,%s,%d)" % (TIMER_NAMES[tm],
                                      print_ms_timer(r["inet_diag_msg_expires"]),
                                      r["inet_diag_msg_retrans"])
    if "shutdown" in t:
        m = r["shutdown_state"]
        out["shutdown"] = ("-" if m & 1 else "<") + "-" + ("-" if m & 2 else ">")
    if "tos" in t:
        out["tos"] = c_hash_x(r["type_of_service"])
    if "tclass" in t:
        out["tclass"] = c_hash_x(r["traffic_class"])
    if "class_id" in t:
        out["class_id"] = c_hash_x(r["class_id"])
    if "cgroup" in t and t["cgroup"][0].startswith("unreachable:"):
        # Without a cgroup2 mount ss prints "unreachable:<id in hex>"; a
        # path cannot be checked against the id.
        out["cgroup"] = "unreachable:%x" % r["c_group"]

    # print_skmeminfo
    if "skmem" in t:
        have = ss_parse.skmem_fields(t["skmem"])
        v = "(r%u,rb%u,t%u,tb%u,f%u,w%u,o%u" % (
            r["sk_mem_info_rmem_alloc"], r["sk_mem_info_rcv_buf"],
            r["sk_mem_info_wmem_alloc"], r["sk_mem_info_snd_buf"],
            r["sk_mem_info_fwd_alloc"], r["sk_mem_info_wmem_queued"],
            r["sk_mem_info_optmem"])
        if "bl" in have:
            v += ",bl%u" % r["sk_mem_info_backlog"]
        if "d" in have:
            v += ",d%u" % r["sk_mem_info_drops"]
        out["skmem"] = v + ")"
    if "mem" in t:
        out["mem"] = "(r%u,w%u,f%u,t%u)" % (r["mem_info_rmem"], r["mem_info_wmem"],
                                           r["mem_info_fmem"], r["mem_info_tmem"])

    if "inet-sockopt" in t:
        bits = r["sock_opt"]
        out["inet-sockopt"] = " ".join(n for i, n in enumerate(SOCKOPT_BITS) if bits >> i & 1)

    if "ulp" in t or r["ulp_name"]:
        out["ulp"] = r["ulp_name"] or ""

    # tcp_show_info + tcp_stats_print
    info = {}
    opts = r["tcp_info_options"]
    flags = []
    # the TCP option flags are printed only with -e or -o (show_options)
    for bit, name in ((1, "ts"), (2, "sack"), (8, "ecn"), (16, "ecnseen"), (32, "fastopen")):
        if opts & bit and options_shown:
            flags.append(name)
    info["flags"] = " ".join(flags)
    if r["congestion_algorithm_string"]:
        info["cong"] = r["congestion_algorithm_string"]
    if opts & 4:
        info["wscale"] = "%d,%d" % (r["tcp_info_send_scale"], r["tcp_info_rcv_scale"])
    rto = r["tcp_info_rto"]
    if rto and rto != 3000000:
        info["rto"] = "%g" % (rto / 1000)
    if r["tcp_info_backoff"]:
        info["backoff"] = "%u" % r["tcp_info_backoff"]
    if r["tcp_info_rtt"]:
        info["rtt"] = "%g/%g" % (r["tcp_info_rtt"] / 1000, r["tcp_info_rtt_var"] / 1000)
    if r["tcp_info_ato"]:
        info["ato"] = "%g" % (r["tcp_info_ato"] / 1000)
    for name, field in (("mss", "tcp_info_snd_mss"), ("pmtu", "tcp_info_pmtu"),
                        ("rcvmss", "tcp_info_rcv_mss"), ("advmss", "tcp_info_adv_mss"),
                        ("cwnd", "tcp_info_snd_cwnd")):
        if r[field]:
            info[name] = "%d" % r[field]
    if 0 < r["tcp_info_snd_ssthresh"] < 0xFFFF:
        info["ssthresh"] = "%d" % r["tcp_info_snd_ssthresh"]
    for name in ("bytes_sent", "bytes_retrans", "bytes_acked", "bytes_received",
                 "segs_out", "segs_in", "data_segs_out", "data_segs_in"):
        if r["tcp_info_" + name]:
            info[name] = "%d" % r["tcp_info_" + name]

    # INET_DIAG_DCTCPINFO: ss prints it whenever the attribute is there; an
    # enabled one can be recognised from the record, a fallback one only
    # from the congestion name.
    if r["dctcp_info_enabled"]:
        info["dctcp"] = "(ce_state:%u,alpha:%u,ab_ecn:%u,ab_tot:%u)" % (
            r["dctcp_info_ce_state"], r["dctcp_info_alpha"],
            r["dctcp_info_ab_ecn"], r["dctcp_info_ab_tot"])
    elif "dctcp" in t:
        info["dctcp"] = "fallback_mode"

    bbr_any = any(r["bbr_info_" + f] for f in ("bw_lo", "bw_hi", "min_rtt", "pacing_gain", "cwnd_gain"))
    if bbr_any or "bbr" in t:
        bw = (r["bbr_info_bw_hi"] << 32) | r["bbr_info_bw_lo"]
        bnum = is_numeric_bw(t["bbr"]) if "bbr" in t else numeric
        v = "(bw:%sbps,mrtt:%g" % (sprint_bw(float(bw) * 8.0, bnum), r["bbr_info_min_rtt"] / 1000.0)
        if r["bbr_info_pacing_gain"]:
            v += ",pacing_gain:%g" % (r["bbr_info_pacing_gain"] / 256.0)
        if r["bbr_info_cwnd_gain"]:
            v += ",cwnd_gain:%g" % (r["bbr_info_cwnd_gain"] / 256.0)
        info["bbr"] = v + ")"

    # send: cwnd * mss * 8e6 / rtt, rtt from vegas info when it has one
    rtt = float(r["tcp_info_rtt"])
    if r["vegas_info_enabled"] and r["vegas_info_rtt"] and r["vegas_info_rtt"] != 0x7FFFFFFF:
        rtt = float(r["vegas_info_rtt"])
    if rtt > 0 and r["tcp_info_snd_mss"] and r["tcp_info_snd_cwnd"]:
        bps = float(r["tcp_info_snd_cwnd"]) * float(r["tcp_info_snd_mss"]) * 8000000.0 / rtt
        info["send"] = sprint_bw(bps, is_numeric_bw(t["send"]) if "send" in t else numeric) + "bps"
    for name, field in (("lastsnd", "tcp_info_last_data_sent"),
                        ("lastrcv", "tcp_info_last_data_recv"),
                        ("lastack", "tcp_info_last_ack_recv")):
        if r[field]:
            info[name] = "%u" % r[field]
    pr = r["tcp_info_pacing_rate"]
    if pr and pr != U64_MAX:
        pnum = is_numeric_bw(t["pacing_rate"]) if "pacing_rate" in t else numeric
        v = sprint_bw(float(pr) * 8.0, pnum) + "bps"
        mpr = r["tcp_info_max_pacing_rate"]
        if mpr and mpr != U64_MAX:
            v += "/" + sprint_bw(float(mpr) * 8.0, pnum) + "bps"
        info["pacing_rate"] = v
    if r["tcp_info_delivery_rate"]:
        dnum = is_numeric_bw(t["delivery_rate"]) if "delivery_rate" in t else numeric
        info["delivery_rate"] = sprint_bw(float(r["tcp_info_delivery_rate"]) * 8.0, dnum) + "bps"
    if r["tcp_info_delivered"]:
        info["delivered"] = "%u" % r["tcp_info_delivered"]
    if r["tcp_info_delivered_ce"]:
        info["delivered_ce"] = "%u" % r["tcp_info_delivered_ce"]
    if r["tcp_info_delivery_rate_app_limited"]:
        info["app_limited"] = "app_limited"
    busy = r["tcp_info_busy_time"]
    if busy:
        info["busy"] = "%dms" % (busy // 1000)
        for name in ("rwnd_limited", "sndbuf_limited"):
            x = r["tcp_info_" + name]
            if x:
                info[name] = "%dms(%.1f%%)" % (x // 1000, 100.0 * x / busy)
    if r["tcp_info_unacked"]:
        info["unacked"] = "%u" % r["tcp_info_unacked"]
    if r["tcp_info_retrans"] or r["tcp_info_total_retrans"]:
        info["retrans"] = "%u/%u" % (r["tcp_info_retrans"], r["tcp_info_total_retrans"])
    if r["tcp_info_lost"]:
        info["lost"] = "%u" % r["tcp_info_lost"]
    if r["tcp_info_sacked"] and st != 10:
        info["sacked"] = "%u" % r["tcp_info_sacked"]
    if r["tcp_info_dsack_dups"]:
        info["dsack_dups"] = "%u" % r["tcp_info_dsack_dups"]
    if r["tcp_info_fackets"]:
        info["fackets"] = "%u" % r["tcp_info_fackets"]
    if r["tcp_info_reordering"] != 3:
        info["reordering"] = "%d" % r["tcp_info_reordering"]
    if r["tcp_info_reord_seen"]:
        info["reord_seen"] = "%d" % r["tcp_info_reord_seen"]
    if r["tcp_info_rcv_rtt"]:
        info["rcv_rtt"] = "%g" % (r["tcp_info_rcv_rtt"] / 1000)
    if r["tcp_info_rcv_space"]:
        info["rcv_space"] = "%d" % r["tcp_info_rcv_space"]
    if r["tcp_info_rcv_ssthresh"]:
        info["rcv_ssthresh"] = "%u" % r["tcp_info_rcv_ssthresh"]
    if r["tcp_info_not_sent_bytes"]:
        info["notsent"] = "%u" % r["tcp_info_not_sent_bytes"]
    mr = r["tcp_info_min_rtt"]
    if mr and mr != U32_MAX:
        info["minrtt"] = "%g" % (mr / 1000)
    for name, field in (("rcv_ooopack", "tcp_info_rcv_ooopack"), ("snd_wnd", "tcp_info_snd_wnd"),
                        ("rcv_wnd", "tcp_info_rcv_wnd"), ("rehash", "tcp_info_rehash")):
        if r[field]:
            info[name] = "%u" % r[field]
    return out, info


def ss_values(sock):
    """The ss side in the same shape as render()."""
    t = dict(sock["tokens"])
    v = {k: val for k, val in t.items() if k != "cgroup"}
    if "cgroup" in t and t["cgroup"][0].startswith("unreachable:"):
        # ss -e prints cgroup once in the details and once after tos (6.x);
        # the first one is enough.  Without a cgroup2 mount it is the id
        # ("unreachable:<hex>"), which the record holds; a path is not.
        v["cgroup"] = t["cgroup"][0]
    if "inet-sockopt" in t:
        v["inet-sockopt"] = " ".join(t["inet-sockopt"])
    v["recv_q"] = str(sock["recv_q"])
    v["send_q"] = str(sock["send_q"])
    # the TCP option flags (ts sack ecn ecnseen fastopen) are one value;
    # app_limited, printed later in the line, is a value of its own
    flags = [f for f in sock["flags"] if f != "app_limited"]
    if "app_limited" in sock["flags"]:
        v["app_limited"] = "app_limited"
    if flags or sock["cong"] or any(k in t for k in INFO_TOKENS):
        v["flags"] = " ".join(flags)
    if sock["cong"]:
        v["cong"] = sock["cong"]
    return v


def rec_key(rec):
    fam = {2: 4, 10: 6}.get(rec["inet_diag_msg_family"], 0)
    src = rec["inet_diag_msg_socket_source"]
    dst = rec["inet_diag_msg_socket_destination"]
    try:
        src = str(ss_parse.ipaddress.ip_address(src))
        dst = str(ss_parse.ipaddress.ip_address(dst))
    except ValueError:
        pass
    return (fam, src, rec["inet_diag_msg_socket_source_port"], dst,
            rec["inet_diag_msg_socket_destination_port"], rec["inet_diag_msg_state"])


def ss_style(family, ip, port):
    """An address the way ss -n prints it (IPv6 in brackets, port 0 as *)."""
    if family == 6:
        a = ss_parse.ipaddress.IPv6Address(ip)
        ip = "[%s]" % ("::ffff:%s" % a.ipv4_mapped if a.ipv4_mapped else a)
    return "%s:%s" % (ip, port or "*")


def sock_name(sock):
    return "%s %s->%s" % (sock["state_name"], sock["local"]["text"], sock["peer"]["text"])


def load_records(path):
    recs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                recs.append(Rec(json.loads(line)))
            except ValueError as e:
                raise SystemExit("compare.py: %s:%d: bad JSON: %s" % (path, n, e))
    return recs


def split_runs(recs):
    """Split records into runs (one answer to each dump of the sockets).

    Records of different poll_sequence values are different runs.  Within
    one poll (as `xtcp-dump -r` gives for a capture holding several `ss`
    runs) a run ends where a socket repeats: the same cookie and 4-tuple
    seen again means the dumps started over.
    """
    runs, cur, seen, seq = [], [], set(), None
    for r in recs:
        ident = (r["inet_diag_msg_socket_cookie"], rec_key(r))
        if cur and (r["poll_sequence"] != seq or ident in seen):
            runs.append(cur)
            cur, seen = [], set()
        cur.append(r)
        seen.add(ident)
        seq = r["poll_sequence"]
    if cur:
        runs.append(cur)
    return runs


def match(socks, recs):
    """Pair ss sockets with records.  Returns (pairs, missing, extra)."""
    by_key = {}
    for i, r in enumerate(recs):
        by_key.setdefault(rec_key(r), []).append(i)
    used = set()
    pairs, missing = [], []
    for s in socks:
        cands = [i for i in by_key.get(ss_parse.key(s), []) if i not in used]
        if len(cands) > 1 and "sk" in s["tokens"]:
            ck = int(s["tokens"]["sk"], 16)
            c2 = [i for i in cands if recs[i]["inet_diag_msg_socket_cookie"] == ck]
            cands = c2 or cands
        if len(cands) > 1 and "ino" in s["tokens"]:
            ino = int(s["tokens"]["ino"])
            c2 = [i for i in cands if recs[i]["inet_diag_msg_inode"] == ino]
            cands = c2 or cands
        if not cands:
            missing.append(s)
            continue
        used.add(cands[0])
        pairs.append((s, recs[cands[0]]))
    extra = [recs[i] for i in range(len(recs)) if i not in used]
    return pairs, missing, extra


def compare_pair(s, rec, seen_names, stable_only, options_shown, problems, ifmap):
    name = sock_name(s)
    sv = ss_values(s)
    hdr, info = render(rec, s, options_shown)
    want = dict(hdr)
    has_info = any(k in sv for k in INFO_TOKENS)
    if has_info:
        want.update(info)
    elif rec["tcp_info_snd_cwnd"] or rec["tcp_info_state"]:
        problems.append("MISMATCH %s tcp_info: ss printed none, xtcp has tcp_info_state=%s cwnd=%s"
                        % (name, rec["tcp_info_state"], rec["tcp_info_snd_cwnd"]))

    def wanted(k):
        return not stable_only or k in STABLE

    # the interface: ss prints "%ifname" iff idiag_if != 0
    ifname = s["local"]["ifname"]
    if wanted("iface"):
        recif = rec["inet_diag_msg_socket_interface"]
        if (ifname is None) != (recif == 0):
            problems.append("MISMATCH %s iface: ss=%s xtcp=%s" % (name, ifname, recif))
        elif ifname:
            # ss prints the name (ll_index_to_name), or "if<N>" when it has
            # none; names are mapped with --ifmap NAME=INDEX.
            want_if = ifmap.get(ifname)
            if want_if is None and ifname.startswith("if") and ifname[2:].isdigit():
                want_if = int(ifname[2:])
            if want_if is not None and want_if != recif:
                problems.append("MISMATCH %s iface: ss=%s(%d) xtcp=%s" % (name, ifname, want_if, recif))

    # values ss printed
    for k, v in sorted(sv.items()):
        if not wanted(k):
            continue
        if k not in want:
            if k in ("flags",) and v == "":
                continue
            problems.append("MISMATCH %s %s: ss=%s xtcp=(would not print)" % (name, k, v))
        elif want[k] != v:
            problems.append("MISMATCH %s %s: ss=%s xtcp=%s" % (name, k, v, want[k]))

    # values ss would have printed from the record but did not
    for k, v in sorted(want.items()):
        if k in sv or not wanted(k):
            continue
        if k in ("iface", "flags") and v in ("0", ""):
            continue
        if k == "iface":
            continue
        if k == "timer" and not options_shown:
            continue    # ss ran without -e or -o
        if k in ("uid", "ino", "sk", "fwmark") and "ino" not in sv:
            continue    # ss ran without -e
        if k in INFO_TOKENS and k not in seen_names and k not in CORE_INFO:
            continue    # this ss version never prints it
        problems.append("MISMATCH %s %s: ss=(not printed) xtcp=%s" % (name, k, v))

    for u in s["unknown"]:
        problems.append("UNCHECKED %s: ss token %r is not understood" % (name, u))


def run(args):
    try:
        socks = ss_parse.parse_file(args.ss)
    except (OSError, ValueError) as e:
        print("compare.py: %s: %s" % (args.ss, e), file=sys.stderr)
        return 2
    try:
        recs = load_records(args.jsonl)
    except OSError as e:
        print("compare.py: %s" % e, file=sys.stderr)
        return 2

    if args.only_sk:
        want = {int(x, 16) for x in args.only_sk.split(",") if x}
        socks = [s for s in socks if "sk" in s["tokens"] and int(s["tokens"]["sk"], 16) in want]
        if len(socks) != len(want):
            print("compare.py: --only-sk: %d of %d cookies found in %s"
                  % (len(socks), len(want), args.ss), file=sys.stderr)
            return 2

    if args.run is not None or args.expect_runs is not None:
        runs = split_runs(recs)
        if args.expect_runs is not None and len(runs) != args.expect_runs:
            print("RUNS the records hold %d runs (%s records), expected %d"
                  % (len(runs), "+".join(str(len(x)) for x in runs), args.expect_runs))
            return 1
        if args.run is not None:
            if not 1 <= args.run <= len(runs):
                print("compare.py: --run %d: the records hold %d runs" % (args.run, len(runs)),
                      file=sys.stderr)
                return 2
            recs = runs[args.run - 1]

    if args.same_as:
        try:
            socks2 = ss_parse.parse_file(args.same_as)
        except (OSError, ValueError) as e:
            print("compare.py: %s: %s" % (args.same_as, e), file=sys.stderr)
            return 2
        diff = ss_diff(socks, socks2)
        if diff:
            for d in diff[:20]:
                print("UNSTABLE " + d)
            print("compare.py: the two ss runs differ in %d stable values; not comparing" % len(diff))
            return 3

    seen_names = set()
    options_shown = False
    for s in socks:
        seen_names.update(ss_values(s))
        # show_options (ss -e or -o): TCP option flags, timers, details
        if (set(s["flags"]) - {"app_limited"}) or "timer" in s["tokens"] or "ino" in s["tokens"]:
            options_shown = True

    ifmap = {}
    for m in args.ifmap:
        name, _, idx = m.partition("=")
        if not idx.isdigit():
            print("compare.py: --ifmap wants NAME=INDEX, not %r" % m, file=sys.stderr)
            return 2
        ifmap[name] = int(idx)

    pairs, missing, extra = match(socks, recs)
    problems = []
    for s in missing:
        problems.append("MISSING %s (line %d): not in xtcp output" % (sock_name(s), s["line"]))
    for s, r in pairs:
        compare_pair(s, r, seen_names, args.stable_only, options_shown, problems, ifmap)
    nvalues = sum(len(ss_values(s)) for s, _ in pairs)
    for r in extra:
        k = rec_key(r)
        line = "EXTRA %s %s->%s cookie=%x: not in ss output" % (
            ss_parse.STATE_NAME.get(k[5], k[5]), ss_style(k[0], k[1], k[2]),
            ss_style(k[0], k[3], k[4]), r["inet_diag_msg_socket_cookie"])
        if args.fail_extra:
            problems.append(line)
        elif args.verbose:
            print(line)
    for p in problems:
        print(p)
    print("compare: ss sockets=%d records=%d matched=%d missing=%d extra=%d values=%d problems=%d%s"
          % (len(socks), len(recs), len(pairs), len(missing), len(extra), nvalues,
             len(problems), " (stable only)" if args.stable_only else ""))
    return 1 if problems else 0


def ss_diff(a, b):
    """Stable values that differ between two ss runs (by key + cookie)."""
    def index(socks):
        d = {}
        for s in socks:
            d[(ss_parse.key(s), s["tokens"].get("sk"))] = s
        return d
    ia, ib = index(a), index(b)
    out = []
    for k in sorted(set(ia) | set(ib), key=str):
        if k not in ia or k not in ib:
            out.append("%s only in %s run" % (k, "first" if k in ia else "second"))
            continue
        va = {x: y for x, y in ss_values(ia[k]).items() if x in STABLE}
        vb = {x: y for x, y in ss_values(ib[k]).items() if x in STABLE}
        for f in sorted(set(va) | set(vb)):
            if va.get(f) != vb.get(f):
                out.append("%s %s: %s vs %s" % (sock_name(ia[k]), f, va.get(f), vb.get(f)))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="compare ss text with xtcp-show JSON lines")
    p.add_argument("--stable-only", action="store_true",
                   help="compare only values that do not move on an idle socket")
    p.add_argument("--fail-extra", action="store_true",
                   help="a record that matches no ss socket is a failure")
    p.add_argument("--same-as", metavar="SS2",
                   help="second ss run; exit 3 if its stable values differ")
    p.add_argument("--run", type=int, metavar="N",
                   help="compare only the N-th run of the records (1-based; see split_runs)")
    p.add_argument("--expect-runs", type=int, metavar="N",
                   help="fail unless the records hold exactly N runs")
    p.add_argument("--only-sk", metavar="HEX,...",
                   help="check only the ss sockets with these sk: cookies")
    p.add_argument("--ifmap", action="append", default=[], metavar="NAME=INDEX",
                   help="interface index of a name ss prints after %%")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("ss")
    p.add_argument("jsonl")
    args = p.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
