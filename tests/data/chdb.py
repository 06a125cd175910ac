#!/usr/bin/env python3
"""The real ClickHouse engine, in-process: chdb's libchdb.so through ctypes.

    chdb.py --lib LIBCHDB --db DIR --schemas DIR [-o FILE] [--data FILE]
            [--replace OLD NEW]... STEP...

Each STEP is one SQL statement, or @FILE for the statement in FILE (the
shipped DDL; --replace substitutes text in those, as a user edits them:
brokers, settings).  The steps run in order on one connection to the
database in DIR; the result of the last one goes to FILE or standard output,
as bytes (the statement says its FORMAT; TSV otherwise).  --data FILE is the
last step's inline data, after a newline: the body of an INSERT ... FORMAT,
as clickhouse-client sends what it reads from standard input.  The first
failing step is reported as "chdb: step N: ERROR" and the exit status is 1.

--schemas is the format schema folder: relative format_schema and
kafka_schema settings ('xtcp_flat_record.proto:XtcpFlatRecord') are found
there (clickhouse-local, which chdb is, looks in its working directory).

As a module: Engine(lib, db, schemas).query(sql, fmt) -> bytes, or
EngineError.
"""

import argparse
import ctypes
import os
import sys


class EngineError(Exception):
    pass


class Engine:
    """One connection; close() (or the end of the process) closes it."""

    def __init__(self, lib, db, schemas):
        try:
            self.lib = ctypes.CDLL(lib)
        except OSError as e:
            raise EngineError("cannot load the ClickHouse engine: %s (make deps fetches it)" % e)
        L, V = self.lib, ctypes.c_void_p
        # chdb.h: chdb_connection *chdb_connect(int argc, char **argv), where
        # chdb_connection is a pointer; chdb_result *chdb_query_n(chdb_connection,
        # const char *query, size_t, const char *format, size_t); the result's
        # buffer, length and error; chdb_destroy_query_result; chdb_close_conn.
        L.chdb_connect.restype = V
        L.chdb_connect.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        L.chdb_query_n.restype = V
        L.chdb_query_n.argtypes = [V, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                   ctypes.c_size_t]
        L.chdb_result_buffer.restype = V
        L.chdb_result_buffer.argtypes = [V]
        L.chdb_result_length.restype = ctypes.c_size_t
        L.chdb_result_length.argtypes = [V]
        L.chdb_result_error.restype = ctypes.c_char_p
        L.chdb_result_error.argtypes = [V]
        L.chdb_destroy_query_result.restype = None
        L.chdb_destroy_query_result.argtypes = [V]
        L.chdb_close_conn.restype = None
        L.chdb_close_conn.argtypes = [V]
        db = os.path.abspath(db)
        os.makedirs(db, exist_ok=True)
        os.chdir(schemas)
        args = [b"xtcp-tests", b"--path=" + db.encode()]
        argv = (ctypes.c_char_p * len(args))(*args)
        self.handle = L.chdb_connect(len(args), argv)
        if not self.handle:
            raise EngineError("chdb_connect failed")
        self.conn = ctypes.cast(self.handle, ctypes.POINTER(V))[0]

    def query(self, sql, fmt="TSV"):
        q = sql.encode() if isinstance(sql, str) else sql
        f = fmt.encode()
        res = self.lib.chdb_query_n(self.conn, q, len(q), f, len(f))
        if not res:
            raise EngineError("chdb_query_n returned nothing")
        try:
            err = self.lib.chdb_result_error(res)
            if err:
                raise EngineError(err.decode(errors="replace").strip())
            buf, n = self.lib.chdb_result_buffer(res), self.lib.chdb_result_length(res)
            return ctypes.string_at(buf, n) if n else b""
        finally:
            self.lib.chdb_destroy_query_result(res)

    def close(self):
        if self.handle:
            self.lib.chdb_close_conn(self.handle)
            self.handle = None


def add_arguments(ap):
    ap.add_argument("--lib", required=True, help="libchdb.so (tools/deps.sh chdb)")
    ap.add_argument("--db", required=True, help="the database folder")
    ap.add_argument("--schemas", required=True, help="the format schema folder")
    ap.add_argument("--replace", action="append", default=[], nargs=2, metavar=("OLD", "NEW"),
                    help="substitute OLD by NEW in the @FILE steps")


def read_step(step, replace):
    """A step's statement: the text, or @FILE's with the substitutions made."""
    if not step.startswith("@"):
        return step
    with open(step[1:], encoding="utf-8") as fp:
        text = fp.read()
    for old, new in replace:
        text = text.replace(old, new)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(ap)
    ap.add_argument("-o", "--output", help="write the last result to this file")
    ap.add_argument("--data", help="the last step's inline data (an INSERT's body)")
    ap.add_argument("steps", nargs="+", metavar="STEP")
    args = ap.parse_args()
    out = os.path.abspath(args.output) if args.output else None
    data = None
    if args.data:
        with open(args.data, "rb") as fp:
            data = fp.read()
    steps = ["@" + os.path.abspath(s[1:]) if s.startswith("@") else s for s in args.steps]
    try:
        engine = Engine(args.lib, args.db, args.schemas)
    except EngineError as e:
        sys.stderr.write("chdb: %s\n" % e)
        return 1
    try:
        result = b""
        for i, step in enumerate(steps, 1):
            try:
                sql = read_step(step, args.replace)
                if data is not None and i == len(steps):
                    sql = sql.encode() + b"\n" + data
                result = engine.query(sql)
            except (OSError, EngineError) as e:
                sys.stderr.write("chdb: step %d: %s\n" % (i, e))
                return 1
        if out:
            with open(out, "wb") as fp:
                fp.write(result)
        else:
            sys.stdout.buffer.write(result)
            sys.stdout.flush()
        return 0
    finally:
        engine.close()

if __name__ == "__main__":
    sys.exit(main())
