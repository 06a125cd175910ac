#!/bin/sh
# tools/deps.sh check|install [build|test|all] - the packages xtcp needs.
# tools/deps.sh chdb - the path of the ClickHouse engine library (libchdb.so).
#   check    print the names of missing packages (nothing when all are there)
#   install  apt-get install the missing Debian ones (needs root), and fetch
#            chdb when the set needs it
# build: what `make` needs; test: build and what `make check` needs; all: test
# and what bench/ needs (the default, `make deps`).
#
# chdb: the tests load what they write into the real ClickHouse engine,
# in-process: libchdb.so from the npm package below (npm pack, checked
# against its pinned sha512, only the library extracted).  It is kept in
# $XTCP_CACHE, else /var/cache/xtcp (root) or ~/.cache/xtcp, in a folder
# named for its version, so a clone, a worktree or `make clean` fetch it
# once.  XTCP_CHDB=/path/to/libchdb.so uses a library from elsewhere.
set -eu

CHDB_PACKAGE=@chdb/lib-linux-x64-gnu
CHDB_VERSION=26.7.3-stable.1
CHDB_INTEGRITY=sha512-XP97mMqnc5tZpKQywR8N7cLTsHNiTmHr30pC5mzo3jWmukjKn2IBa60c2B/gWUNcuFjOMjWoorQICCqBVj5wpw==

# package:probe - probe is a command name, or a path that the package installs.
# BUILD: what `make` needs; TEST: what `make check` needs on top; BENCH: bench/.
BUILD="
make:make
clang:clang
llvm:llvm-profdata
lld:ld.lld
libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
pkg-config:pkg-config
libc6-dev:/usr/lib/x86_64-linux-gnu/libc.a
protobuf-c-compiler:protoc-c
libprotobuf-c-dev:/usr/include/protobuf-c/protobuf-c.h
libjansson-dev:/usr/include/jansson.h
libpcre2-dev:/usr/include/pcre2.h
librdkafka-dev:/usr/include/librdkafka/rdkafka.h
python3:python3
"
TEST="
protobuf-compiler:protoc
bats:bats
kcat:kcat
jq:jq
npm:npm
iproute2:ss
procps:ps
man-db:man
bsdutils:script
time:/usr/bin/time
prometheus:promtool
prometheus-node-exporter:prometheus-node-exporter
netbase:/etc/services
"
BENCH="
hyperfine:hyperfine
valgrind:valgrind
gnuplot-nox:gnuplot
"

# Where chdb is installed: $XTCP_CACHE, else /var/cache/xtcp for root, else
# the user's cache.  chdb_lib prints the library to use: XTCP_CHDB, else the
# first of those folders that has it, else where it would be installed.
chdb_home() {
	if [ -n "${XTCP_CACHE:-}" ]; then
		echo "$XTCP_CACHE/chdb-$CHDB_VERSION"
	elif [ "$(id -u)" -eq 0 ]; then
		echo "/var/cache/xtcp/chdb-$CHDB_VERSION"
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/xtcp/chdb-$CHDB_VERSION"
	fi
}

chdb_lib() {
	if [ -n "${XTCP_CHDB:-}" ]; then
		echo "$XTCP_CHDB"
		return
	fi
	for dir in "$(chdb_home)" "/var/cache/xtcp/chdb-$CHDB_VERSION"; do
		if [ -f "$dir/libchdb.so" ]; then
			echo "$dir/libchdb.so"
			return
		fi
	done
	echo "$(chdb_home)/libchdb.so"
}

# npm pack into a scratch folder (its own npm cache too, so that the
# download is not kept twice), check the integrity, extract the library,
# rename it into place.
fetch_chdb() {
	home=$(chdb_home)
	mkdir -p "$(dirname "$home")"
	scratch=$(mktemp -d "$(dirname "$home")/.chdb-fetch.XXXXXX")
	trap 'rm -rf "$scratch"' EXIT
	echo "deps: fetching $CHDB_PACKAGE@$CHDB_VERSION (about 180 MB) into $home"
	tgz=$(cd "$scratch" && npm pack --silent --cache "$scratch/npm-cache" \
		"$CHDB_PACKAGE@$CHDB_VERSION" | tail -1)
	got=$(python3 -c 'import base64, hashlib, sys
print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' \
		"$scratch/$tgz")
	if [ "$got" != "$CHDB_INTEGRITY" ]; then
		echo "deps: $tgz: integrity $got, want $CHDB_INTEGRITY" >&2
		exit 1
	fi
	tar -xzf "$scratch/$tgz" -C "$scratch" package/libchdb.so
	mkdir -p "$home"
	mv "$scratch/package/libchdb.so" "$home/libchdb.so"
	rm -rf "$scratch"
	trap - EXIT
	echo "deps: $home/libchdb.so"
}

case "${1:-check}" in
chdb)
	chdb_lib
	exit 0
	;;
esac

case "${2:-all}" in
build) PKGS=$BUILD CHDB= ;;
test) PKGS="$BUILD $TEST" CHDB=1 ;;
all) PKGS="$BUILD $TEST $BENCH" CHDB=1 ;;
*)
	echo "usage: $0 check|install [build|test|all] | $0 chdb" >&2
	exit 2
	;;
esac

missing() {
	for entry in $PKGS; do
		pkg=${entry%%:*}
		probe=${entry#*:}
		case $probe in
		/*) [ -e "$probe" ] || echo "$pkg" ;;
		*) command -v "$probe" >/dev/null 2>&1 || echo "$pkg" ;;
		esac
	done
}

chdb_missing() {
	[ -n "$CHDB" ] && [ ! -f "$(chdb_lib)" ]
}

case "${1:-check}" in
check)
	{
		missing
		if chdb_missing; then echo chdb; fi
	} | tr '\n' ' ' | sed 's/ $//'
	;;
install)
	need=$(missing | tr '\n' ' ')
	if [ -z "$need" ] && ! chdb_missing; then
		echo "deps: all packages present"
		exit 0
	fi
	if [ -n "$need" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "deps: missing packages: $need" >&2
			echo "deps: run 'sudo make deps' (or: sudo apt-get install $need)" >&2
			exit 1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $need
	fi
	if chdb_missing; then
		if [ -n "${XTCP_CHDB:-}" ]; then
			echo "deps: XTCP_CHDB=$XTCP_CHDB: no such file" >&2
			exit 1
		fi
		fetch_chdb
	fi
	;;
*)
	echo "usage: $0 check|install [build|test|all] | $0 chdb" >&2
	exit 2
	;;
esac
