#!/bin/sh
# tools/deps.sh check|install [build|test|all] - the Debian packages xtcp needs.
#   check    print the names of missing packages (nothing when all are there)
#   install  apt-get install the missing ones (needs root)
# build: what `make` needs; test: build and what `make check` needs; all: test
# and what bench/ needs (the default, `make deps`).
set -eu

# package:probe - probe is a command name, or a path that the package installs.
# BUILD: what `make` needs; TEST: what `make check` needs on top; BENCH: bench/.
BUILD="
make:make
clang:clang
llvm:llvm-profdata
lld:ld.lld
libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
pkg-config:pkg-config
libmnl-dev:/usr/include/libmnl/libmnl.h
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
iproute2:ss
procps:ps
man-db:man
bsdutils:script
"
BENCH="
hyperfine:hyperfine
valgrind:valgrind
gnuplot-nox:gnuplot
"

case "${2:-all}" in
build) PKGS=$BUILD ;;
test) PKGS="$BUILD $TEST" ;;
all) PKGS="$BUILD $TEST $BENCH" ;;
*)
	echo "usage: $0 check|install [build|test|all]" >&2
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

case "${1:-check}" in
check)
	missing | tr '\n' ' ' | sed 's/ $//'
	;;
install)
	need=$(missing | tr '\n' ' ')
	if [ -z "$need" ]; then
		echo "deps: all packages present"
		exit 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages: $need" >&2
		echo "deps: run 'sudo make deps' (or: sudo apt-get install $need)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need
	;;
*)
	echo "usage: $0 check|install [build|test|all]" >&2
	exit 2
	;;
esac
