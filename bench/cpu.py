#!/usr/bin/env python3
"""bench/cpu.py - wall and CPU time of commands, interleaved, with their spread.

  cpu.py [-r ROUNDS] [-w WARMUP] [-o TSV] NAME=COMMAND...

Each round runs every COMMAND once, in the order given, with stdout to /dev/null (through
/bin/sh when it has the shell's syntax, such as a pipe; else directly); a round's commands
so meet the same moment of a shared machine. Times come from wait4(2): the children's CPU
time, user + system, as precisely as the kernel accounts it (not /usr/bin/time's 10 ms
steps; the split between user and system is the kernel's estimate from its ticks), and the
wall time around the run. Prints, per command, the
median, the first and third quartiles and the range of wall, user, system and CPU (user +
system) in ms, then each command's ratio of medians to the first one (the reference, such
as the floor), and the median and quartiles of the ratios paired within each round. As
user and system come from ticks, each line also gives their means over the rounds, which
the ticks do not bias.
-o writes every sample as TSV.
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time


def argv(cmd):
    """A command without the shell's syntax runs without a shell, which is not timed then."""
    if any(c in cmd for c in '|&;<>()$`\\"\'*?[#~=%'):
        return ['/bin/sh', '-c', cmd]
    return shlex.split(cmd)


def run(cmd):
    t0 = time.perf_counter_ns()
    p = subprocess.Popen(argv(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter_ns() - t0) / 1e6
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f'cpu.py: {cmd!r} exited {p.returncode}')
    return wall, ru.ru_utime * 1e3, ru.ru_stime * 1e3


def quartiles(xs):
    if len(xs) < 4:
        return min(xs), max(xs)
    q = statistics.quantiles(xs, n=4)
    return q[0], q[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    ap.add_argument('-r', '--rounds', type=int, default=15)
    ap.add_argument('-w', '--warmup', type=int, default=2)
    ap.add_argument('-o', '--output')
    ap.add_argument('commands', nargs='+', metavar='NAME=COMMAND')
    a = ap.parse_args()
    cmds = []
    for c in a.commands:
        name, sep, cmd = c.partition('=')
        if not sep or not name or not cmd:
            ap.error(f'want NAME=COMMAND, not {c!r}')
        cmds.append((name, cmd))
    for _ in range(a.warmup):
        for _, cmd in cmds:
            run(cmd)
    samples = {name: [] for name, _ in cmds}
    for _ in range(a.rounds):
        for name, cmd in cmds:
            samples[name].append(run(cmd))
    if a.output:
        with open(a.output, 'w') as f:
            f.write('command\tround\twall_ms\tuser_ms\tsys_ms\n')
            for name, rows in samples.items():
                for i, (w, u, s) in enumerate(rows):
                    f.write(f'{name}\t{i + 1}\t{w:.3f}\t{u:.3f}\t{s:.3f}\n')
    med = {}
    print(f'{a.rounds} rounds, each command once a round, in turn; ms: median [q1-q3] (min-max)')
    for name, rows in samples.items():
        cols = {'wall': [r[0] for r in rows], 'user': [r[1] for r in rows],
                'sys': [r[2] for r in rows], 'cpu': [r[1] + r[2] for r in rows]}
        med[name] = {k: statistics.median(v) for k, v in cols.items()}
        parts = []
        for k, v in cols.items():
            q1, q3 = quartiles(v)
            parts.append(f'{k} {statistics.median(v):7.1f} [{q1:.1f}-{q3:.1f}] '
                         f'({min(v):.1f}-{max(v):.1f})')
        # user and system come from the kernel's ticks (4 ms here): a median of them is
        # quantized, their mean over the rounds is not biased
        parts.append(f'mean user {statistics.mean(cols["user"]):.2f} '
                     f'sys {statistics.mean(cols["sys"]):.2f}')
        print(f'{name:<28} ' + '  '.join(parts))
    ref = cmds[0][0]
    for name, _ in cmds[1:]:
        # paired: the ratio within each round (the same moment of the machine), its median
        # and quartiles; less moved by the machine drifting than the ratio of the medians
        pw = [x[0] / r[0] for x, r in zip(samples[name], samples[ref])]
        pc = [(x[1] + x[2]) / (r[1] + r[2]) for x, r in zip(samples[name], samples[ref])
              if r[1] + r[2] > 0]
        paired = ''
        if len(pw) >= 4 and len(pc) >= 4:
            (w1, w3), (c1, c3) = quartiles(pw), quartiles(pc)
            paired = (f'; paired wall {statistics.median(pw):.3f}x [{w1:.3f}-{w3:.3f}], '
                      f'cpu {statistics.median(pc):.3f}x [{c1:.3f}-{c3:.3f}]')
        print(f'{name} / {ref}: wall {med[name]["wall"] / med[ref]["wall"]:.3f}x, '
              f'cpu {med[name]["cpu"] / med[ref]["cpu"]:.3f}x' + paired)


main()
