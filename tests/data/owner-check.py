#!/usr/bin/env python3
"""Check xtcp-dump's owner fields against independent sources.

  owner-check.py RECORDS.json EXPECT.tsv SS...

RECORDS.json: xtcp-fmt -f json of `xtcp-dump -p -n ...`.  EXPECT.tsv: one
holder per line: netns, pid, cgroup path (from /proc/PID/cgroup's 0:: line),
container_id, container_runtime, pod_uid, systemd_unit ("-" for empty).
SS: `NETNS=FILE` pairs, the output of `ss -tanpe` in that namespace.

Every socket ss lists in those namespaces must be a record with the same
inode whose process_pid is the lowest pid ss names, process_comm that pid's
name, process_count the number of pids; and whose cgroup fields are the
holder's.  Every record of those namespaces with an inode must be in ss.
Prints "N sockets, M values equal" or the differences (exit 1).
"""
import json
import re
import sys

records = [json.loads(line) for line in open(sys.argv[1])]
holders = {}
for line in open(sys.argv[2]):
    f = line.rstrip('\n').split('\t')
    holders[int(f[1])] = dict(zip(
        ('netns', 'pid', 'cgroup_path', 'container_id', 'container_runtime', 'pod_uid',
         'systemd_unit'), [x if x != '-' else '' for x in f]))

ss = {}   # (netns, inode) -> [(comm, pid)]
for arg in sys.argv[3:]:
    ns, path = arg.split('=', 1)
    for line in open(path):
        m = re.search(r'\bino:(\d+)', line)
        if not m or m.group(1) == '0':
            continue
        users = re.findall(r'\("([^"]*)",pid=(\d+),fd=\d+\)', line)
        ss[(ns, int(m.group(1)))] = [(c, int(p)) for c, p in users]

by_inode = {(r['netns'], r['inet_diag_msg_inode']): r for r in records
            if r['netns'] in {k[0] for k in ss} and r['inet_diag_msg_inode']}
bad, equal = [], 0
for key, users in sorted(ss.items()):
    r = by_inode.get(key)
    if r is None:
        bad.append('%s inode %d: in ss, not in the records' % key)
        continue
    pids = sorted({p for _, p in users})
    want = {'process_pid': pids[0] if pids else 0,
            'process_comm': dict((p, c) for c, p in users).get(pids[0], '') if pids else '',
            'process_count': len(pids)}
    holder = next((holders[p] for p in pids if p in holders), None)
    if holder is None:
        bad.append('%s inode %d: held by %s, no holder of the test' % (key + (pids,)))
        continue
    for k in ('cgroup_path', 'container_id', 'container_runtime', 'pod_uid', 'systemd_unit'):
        want[k] = holder[k]
    if r['c_group'] == 0:
        bad.append('%s inode %d: no cgroup id' % key)
    for k, v in want.items():
        if r[k] != v:
            bad.append('%s inode %d: %s is %r, want %r' % (key + (k, r[k], v)))
        else:
            equal += 1
for key in by_inode:
    if key not in ss:
        bad.append('%s inode %d: in the records, not in ss' % key)
if bad:
    print('\n'.join(bad))
    sys.exit(1)
print('%d sockets, %d values equal' % (len(ss), equal))
