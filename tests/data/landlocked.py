#!/usr/bin/env python3
"""landlocked.py CMD [ARG]...: run CMD in a Landlock domain of its own.

The ruleset handles one file access only (making character devices, which
nothing here does), so CMD can read, write and run what it could before; but
a process in a Landlock domain may not ptrace, nor read the /proc/PID/ns/*
links of, any process outside its domain, whatever its capabilities: what a
security module refusing a held CAP_SYS_PTRACE looks like.

Exits 77 when the kernel has no Landlock (the caller skips).
"""

import ctypes
import os
import struct
import sys

SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_ACCESS_FS_MAKE_CHAR = 1 << 7
PR_SET_NO_NEW_PRIVS = 38


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: landlocked.py CMD [ARG]...")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    attr = ctypes.create_string_buffer(struct.pack("=Q", LANDLOCK_ACCESS_FS_MAKE_CHAR))
    fd = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, attr, ctypes.c_size_t(8), ctypes.c_uint32(0))
    if fd < 0:
        print(f"landlocked.py: no Landlock: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        sys.exit(77)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
        sys.exit(f"landlocked.py: prctl: {os.strerror(ctypes.get_errno())}")
    if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) < 0:
        sys.exit(f"landlocked.py: landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
    os.close(fd)
    os.execvp(sys.argv[1], sys.argv[1:])


main()
