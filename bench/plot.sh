#!/bin/bash
# bench/plot.sh - from every bench/results/pipeline-N.json, write
# bench/results/scaling.dat (mean wall time in ms per command and socket
# count), bench/results/summary.md (ratios to the floor and to ss -tin) and
# draw docs/scaling.svg (time against socket count, log-log) with gnuplot.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results

python3 - "$out" <<'PY'
import glob, json, os, re, sys
out = sys.argv[1]
runs = {}
for path in glob.glob(os.path.join(out, 'pipeline-*.json')):
    n = int(re.search(r'pipeline-(\d+)\.json$', path).group(1))
    runs[n] = {r['command']: r for r in json.load(open(path))['results']}
if not runs:
    sys.exit('plot.sh: no bench/results/pipeline-N.json; run bench/run.sh first')
cols = ['floor', 'xtcp-dump', 'xtcp-dump | xtcp-fmt -f json', 'xtcp-dump | xtcp-fmt -f csv',
        'xtcp-dump | xtcp-filter | xtcp-fmt -f json', 'ss -tin', 'ss -tinm']
with open(os.path.join(out, 'scaling.dat'), 'w') as f:
    f.write('# sockets ' + ' '.join('"%s"' % c for c in cols) + '  (mean ms; NaN = not run)\n')
    for n in sorted(runs):
        f.write('%d %s\n' % (n, ' '.join('%.3f' % (runs[n][c]['mean'] * 1e3) if c in runs[n]
                                          else 'NaN' for c in cols)))
with open(os.path.join(out, 'summary.md'), 'w') as f:
    f.write('| sockets | command | mean [ms] | × floor | × ss -tin |\n|---:|:---|---:|---:|---:|\n')
    for n in sorted(runs):
        fl = runs[n]['floor']['mean']
        ss = runs[n]['ss -tin']['mean']
        for c in cols:
            if c in runs[n]:
                m = runs[n][c]['mean']
                f.write('| %d | `%s` | %.1f | %.2f | %.2f |\n' % (n, c, m * 1e3, m / fl, m / ss))
print(open(os.path.join(out, 'summary.md')).read())
PY

gnuplot <<'GP'
set terminal svg size 800,520 dynamic font "sans,12" background rgb "white"
set output "docs/scaling.svg"
set title "TCP socket dump: wall time against socket count (hyperfine means)"
set xlabel "sockets in the namespace"
set ylabel "wall time [ms]"
set logscale xy
set xrange [700:150000]
set xtics ("1k" 1000, "3k" 3000, "10k" 10000, "30k" 30000, "100k" 100000)
set rmargin 4
set grid
set key top left
set datafile missing "NaN"
plot "bench/results/scaling.dat" using 1:2 with linespoints lw 2 title "floor (raw netlink dump, discarded)", \
     "" using 1:3 with linespoints lw 2 title "xtcp-dump > /dev/null", \
     "" using 1:4 with linespoints lw 2 title "xtcp-dump | xtcp-fmt -f json", \
     "" using 1:7 with linespoints lw 2 title "ss -tin", \
     "" using 1:8 with linespoints lw 2 title "ss -tinm"
GP
echo "plot.sh: docs/scaling.svg"
