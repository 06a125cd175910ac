# bench/load.sh - sourced by the benchmark scripts: start and stop
# `xtcp-bench load` in the background.
#
#   start_load XTCP_BENCH ARGS...   start it, wait until it is ready; sets
#                                   load_pid and netns (its namespace)
#   stop_load                       end it (safe to call twice, and in a trap)

load_pid=
netns=

start_load() {
	local ready bench=$1
	shift
	ready=$(mktemp)
	"$bench" load "$@" >"$ready" &
	load_pid=$!
	until grep -q '^ready' "$ready"; do
		kill -0 "$load_pid" 2>/dev/null || { echo "$0: load failed" >&2; rm -f "$ready"; exit 1; }
		sleep 0.2
	done
	netns=$(sed -n 's/^ready netns=\([^ ]*\).*/\1/p' "$ready")
	rm -f "$ready"
}

stop_load() {
	if [ -n "$load_pid" ]; then
		kill "$load_pid" 2>/dev/null || true
		wait "$load_pid" 2>/dev/null || true
	fi
	load_pid=
}
