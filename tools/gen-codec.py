#!/usr/bin/env python3
"""Generate the record codec (C) from the .proto schema.

    python3 tools/gen-codec.py proto/xtcp_flat_record.proto > build/gen/xtcp_codec.c

The output implements, for one proto3 message of scalar fields (default
XtcpFlatRecord), the functions declared in lib/record.h:

    size_t xtcp_record_encoded_max(const T *rec);
    size_t xtcp_record_encode(const T *rec, uint8_t *out);

and the body of the decoder, called by lib/record.c:

    int xtcp_record_decode_fields(struct xtcp_decoder *dec,
                                  const uint8_t *buf, size_t len, T *rec,
                                  size_t *n_unknown);

The encoder writes exactly what protobuf_c_message_pack() writes: fields in
number order, a field equal to zero skipped, unknown fields last.  The decoder
accepts and rejects exactly what protobuf_c_message_unpack() (1.4) does and
fills the struct the same way; tests/unit/t-record.c and
tests/fuzz/fuzz-record.c hold it to that.

Only the python3 standard library is used.
"""

import argparse
import re
import sys

SCALARS = {
    # proto type: (wire type, largest encoded value in bytes)
    "uint32": (0, 5),
    "int32": (0, 10),
    "sint32": (0, 5),
    "uint64": (0, 10),
    "int64": (0, 10),
    "sint64": (0, 10),
    "bool": (0, 1),
    "enum": (0, 10),
    "fixed32": (5, 4),
    "sfixed32": (5, 4),
    "float": (5, 4),
    "fixed64": (1, 8),
    "sfixed64": (1, 8),
    "double": (1, 8),
    "string": (2, 5),
    "bytes": (2, 5),
}

# protoc-c appends '_' to member names that are C/C++ keywords.
KEYWORDS = set("""
and and_eq asm auto bitand bitor bool break case catch char class compl const
const_cast continue default delete do double dynamic_cast else enum explicit
export extern false float for friend goto if inline int long mutable namespace
new not not_eq operator or or_eq private protected public register
reinterpret_cast return short signed sizeof static static_cast struct switch
template this throw true try typedef typeid typename union unsigned using
virtual void volatile wchar_t while xor xor_eq
""".split())


class ProtoError(Exception):
    pass


# --- parsing -------------------------------------------------------------

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>-?(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?))
  | (?P<ident>\.?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<symbol>[{}\[\]()<>;=,:.+-])
""", re.VERBOSE | re.DOTALL)


def tokenize(text):
    pos = 0
    line = 1
    tokens = []
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise ProtoError("line %d: unexpected character %r" % (line, text[pos]))
        kind = m.lastgroup
        value = m.group(kind)
        if kind not in ("ws", "line_comment", "block_comment"):
            tokens.append((kind, value, line))
        line += value.count("\n")
        pos = m.end()
    return tokens


class Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.i = 0

    def peek(self, k=0):
        if self.i + k < len(self.tokens):
            return self.tokens[self.i + k][1]
        return None

    def line(self):
        if self.i < len(self.tokens):
            return self.tokens[self.i][2]
        return self.tokens[-1][2] if self.tokens else 0

    def next(self):
        if self.i >= len(self.tokens):
            raise ProtoError("unexpected end of file")
        tok = self.tokens[self.i]
        self.i += 1
        return tok[1]

    def expect(self, value):
        line = self.line()
        got = self.next()
        if got != value:
            raise ProtoError("line %d: expected %r, got %r" % (line, value, got))

    def ident(self):
        line = self.line()
        kind, value, _ = self.tokens[self.i] if self.i < len(self.tokens) else (None, None, 0)
        if kind != "ident":
            raise ProtoError("line %d: expected a name, got %r" % (line, value))
        self.i += 1
        return value

    def skip_statement(self):
        """Skip to the end of a statement, over any nested braces."""
        depth = 0
        while True:
            t = self.next()
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
                if depth == 0:
                    return
            elif t == ";" and depth == 0:
                return

    def skip_brackets(self):
        if self.peek() != "[":
            return
        depth = 0
        while True:
            t = self.next()
            if t == "[":
                depth += 1
            elif t == "]":
                depth -= 1
                if depth == 0:
                    return

    def parse_file(self):
        f = {"syntax": "proto2", "package": "", "messages": {}, "enums": {}}
        while self.peek() is not None:
            t = self.peek()
            if t == "syntax":
                self.next()
                self.expect("=")
                f["syntax"] = self.next().strip("\"'")
                self.expect(";")
            elif t == "package":
                self.next()
                f["package"] = self.ident()
                self.expect(";")
            elif t in ("import", "option"):
                self.skip_statement()
            elif t == "message":
                self.parse_message(f, "")
            elif t == "enum":
                self.parse_enum(f, "")
            elif t == ";":
                self.next()
            else:
                self.skip_statement()
        return f

    def parse_enum(self, f, scope):
        self.expect("enum")
        name = scope + self.ident()
        values = []
        self.expect("{")
        while self.peek() != "}":
            t = self.peek()
            if t in ("option", "reserved"):
                self.skip_statement()
            elif t == ";":
                self.next()
            else:
                vname = self.ident()
                self.expect("=")
                values.append((vname, int(self.next(), 0)))
                self.skip_brackets()
                self.expect(";")
        self.expect("}")
        f["enums"][name] = values

    def parse_message(self, f, scope):
        self.expect("message")
        name = scope + self.ident()
        msg = {"name": name, "fields": [], "unsupported": []}
        f["messages"][name] = msg
        self.expect("{")
        while self.peek() != "}":
            t = self.peek()
            line = self.line()
            if t == "message":
                self.parse_message(f, name + ".")
            elif t == "enum":
                self.parse_enum(f, name + ".")
            elif t in ("option", "reserved", "extensions", "extend"):
                self.skip_statement()
            elif t == ";":
                self.next()
            elif t in ("oneof", "map", "group"):
                msg["unsupported"].append("line %d: %s" % (line, t))
                self.skip_statement()
            else:
                label = None
                if t in ("optional", "repeated", "required"):
                    label = self.next()
                ftype = self.ident()
                fname = self.ident()
                self.expect("=")
                number = int(self.next(), 0)
                self.skip_brackets()
                self.expect(";")
                msg["fields"].append({"label": label, "type": ftype, "name": fname,
                                      "number": number, "line": line})
        self.expect("}")
        return msg


def resolve_type(f, msg_name, tname):
    """Return 'enum:<full name>', 'message:<full name>' or the scalar type."""
    if tname in SCALARS and tname != "enum":
        return tname
    pkg = f["package"]
    if tname.startswith("."):
        cands = [tname[1:]]
    else:
        cands = []
        scope = msg_name.split(".")
        while True:
            cands.append(".".join(scope + [tname]))
            if not scope:
                break
            scope = scope[:-1]
    for c in cands:
        for full in (c, c[len(pkg) + 1:] if pkg and c.startswith(pkg + ".") else None):
            if full is None:
                continue
            if full in f["enums"]:
                return "enum:" + full
            if full in f["messages"]:
                return "message:" + full
    raise ProtoError("%s: unknown type %r" % (msg_name, tname))


# --- C names, as protoc-c makes them -------------------------------------

def to_camel(name):
    out = []
    upper = True
    for ch in name:
        if ch == "_":
            upper = True
        elif upper:
            out.append(ch.upper())
            upper = False
        else:
            out.append(ch)
    return "".join(out)


def c_type_name(package, full):
    parts = [p for p in (package.split(".") if package else []) if p]
    parts += full.split(".")
    return "__".join(to_camel(p) for p in parts)


def member_name(name):
    n = name.lower()
    return n + "_" if n in KEYWORDS else n


def varint(n):
    out = []
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return out


# --- emitting C ----------------------------------------------------------

PRELUDE = r"""/*
 * Generated by tools/gen-codec.py from %(proto)s; do not edit.
 *
 * The fast codec of %(ctype)s: protobuf_c_message_pack()
 * and protobuf_c_message_unpack() (protobuf-c 1.4) rewritten as straight-line
 * code for this one message.  See lib/record.h for the contract.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "record.h"

/* Not every helper is used by every schema. */
#define HELPER static inline __attribute__((unused))

HELPER uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	if (v < (1u << 7)) {
		p[0] = (uint8_t)v;
		return p + 1;
	}
	p[0] = (uint8_t)(v | 0x80);
	if (v < (1u << 14)) {
		p[1] = (uint8_t)(v >> 7);
		return p + 2;
	}
	p[1] = (uint8_t)((v >> 7) | 0x80);
	if (v < (1u << 21)) {
		p[2] = (uint8_t)(v >> 14);
		return p + 3;
	}
	p[2] = (uint8_t)((v >> 14) | 0x80);
	if (v < (1u << 28)) {
		p[3] = (uint8_t)(v >> 21);
		return p + 4;
	}
	p[3] = (uint8_t)((v >> 21) | 0x80);
	p[4] = (uint8_t)(v >> 28);
	return p + 5;
}

HELPER uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	if (v < (UINT64_C(1) << 28))
		return put_u32(p, (uint32_t)v);
	p[0] = (uint8_t)(v | 0x80);
	p[1] = (uint8_t)((v >> 7) | 0x80);
	p[2] = (uint8_t)((v >> 14) | 0x80);
	p[3] = (uint8_t)((v >> 21) | 0x80);
	v >>= 28;
	p += 4;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* int32 and enum: a negative value is written as its 64-bit sign extension. */
HELPER uint8_t *put_i32(uint8_t *p, int32_t v)
{
	if (v < 0)
		return put_u64(p, (uint64_t)(int64_t)v);
	return put_u32(p, (uint32_t)v);
}

HELPER uint8_t *put_fixed32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return p + 4;
}

HELPER uint8_t *put_fixed64(uint8_t *p, uint64_t v)
{
	p = put_fixed32(p, (uint32_t)v);
	return put_fixed32(p, (uint32_t)(v >> 32));
}

HELPER uint8_t *put_data(uint8_t *p, const void *data, size_t n)
{
	p = put_u32(p, (uint32_t)n);
	memcpy(p, data, n);
	return p + n;
}

HELPER uint32_t zigzag32(int32_t v)
{
	return v < 0 ? (0u - (uint32_t)v) * 2 - 1 : (uint32_t)v * 2;
}

HELPER uint64_t zigzag64(int64_t v)
{
	return v < 0 ? (UINT64_C(0) - (uint64_t)v) * 2 - 1 : (uint64_t)v * 2;
}

HELPER int32_t unzigzag32(uint32_t v)
{
	return (v & 1) ? (int32_t)~(v >> 1) : (int32_t)(v >> 1);
}

HELPER int64_t unzigzag64(uint64_t v)
{
	return (v & 1) ? (int64_t)~(v >> 1) : (int64_t)(v >> 1);
}

HELPER uint32_t get_fixed32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

HELPER uint64_t get_fixed64(const uint8_t *p)
{
	return (uint64_t)get_fixed32(p) | (uint64_t)get_fixed32(p + 4) << 32;
}

/* A varint read from the input: what follows it (NULL if malformed) and its value. */
struct varint {
	const uint8_t *next;
	uint64_t value;
};

/*
 * A varint of at most @limit bytes: 10 for a value, whose low 64 bits count
 * (bits past the 64th in a 10th byte are dropped, as protobuf-c does); 5 for
 * a tag or a length prefix, because protobuf-c reads no more for those.
 */
static __attribute__((noinline)) struct varint varint_slow(const uint8_t *p, const uint8_t *end,
							   size_t limit)
{
	struct varint r = { NULL, 0 };
	size_t max = (size_t)(end - p) < limit ? (size_t)(end - p) : limit;
	size_t i;

	for (i = 0; i < max; i++) {
		r.value |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (p[i] < 0x80) {
			r.next = p + i + 1;
			return r;
		}
	}
	return r;
}

HELPER uint64_t load_le64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/*
 * A value varint of any length; up to 8 bytes without a branch per byte:
 * find the last byte from the clear high bits, squeeze out the continuation
 * bits.
 */
static __attribute__((noinline)) struct varint varint_long(const uint8_t *p, const uint8_t *end)
{
	struct varint r;
	uint64_t x, stop;
	unsigned bits;

	if (end - p < 8)
		return varint_slow(p, end, 10);
	x = load_le64(p);
	stop = ~x & UINT64_C(0x8080808080808080);
	if (!stop)
		return varint_slow(p, end, 10);
	bits = (unsigned)__builtin_ctzll(stop) + 1;
	if (bits < 64)
		x &= (UINT64_C(1) << bits) - 1;
	x &= UINT64_C(0x7f7f7f7f7f7f7f7f);
	x = (x & UINT64_C(0x007f007f007f007f)) | (x & UINT64_C(0x7f007f007f007f00)) >> 1;
	x = (x & UINT64_C(0x00003fff00003fff)) | (x & UINT64_C(0x3fff00003fff0000)) >> 2;
	x = (x & UINT64_C(0x000000000fffffff)) | (x & UINT64_C(0x0fffffff00000000)) >> 4;
	r.next = p + bits / 8;
	r.value = x;
	return r;
}

/*
 * Inlined at every field of the in-order path, which makes sure 10 bytes can
 * be read: values of up to five bytes take a branch per byte, which predicts
 * well because each field has its own copy; longer ones go out of line.
 */
static inline __attribute__((always_inline, unused)) struct varint
varint_fast(const uint8_t *p, const uint8_t *end)
{
	struct varint r;
	uint64_t b, v;

	b = p[0];
	v = b & 0x7f;
	if (b < 0x80) {
		r.next = p + 1;
		goto done;
	}
	b = p[1];
	v |= (b & 0x7f) << 7;
	if (b < 0x80) {
		r.next = p + 2;
		goto done;
	}
	b = p[2];
	v |= (b & 0x7f) << 14;
	if (b < 0x80) {
		r.next = p + 3;
		goto done;
	}
	b = p[3];
	v |= (b & 0x7f) << 21;
	if (b < 0x80) {
		r.next = p + 4;
		goto done;
	}
	b = p[4];
	v |= (b & 0x7f) << 28;
	if (b >= 0x80)
		return varint_long(p, end);
	r.next = p + 5;
done:
	r.value = v;
	return r;
}

/*
 * The same for 64-bit fields, whose values are often long: one byte inline,
 * up to 8 without a branch per byte (10 bytes can be read).
 */
static inline __attribute__((always_inline, unused)) struct varint
varint_fast64(const uint8_t *p, const uint8_t *end)
{
	struct varint r;
	uint64_t x, stop;
	unsigned bits;

	if (p[0] < 0x80) {
		r.next = p + 1;
		r.value = p[0];
		return r;
	}
	x = load_le64(p);
	stop = ~x & UINT64_C(0x8080808080808080);
	if (!stop)
		return varint_slow(p, end, 10);
	bits = (unsigned)__builtin_ctzll(stop) + 1;
	if (bits < 64)
		x &= (UINT64_C(1) << bits) - 1;
	x &= UINT64_C(0x7f7f7f7f7f7f7f7f);
	x = (x & UINT64_C(0x007f007f007f007f)) | (x & UINT64_C(0x7f007f007f007f00)) >> 1;
	x = (x & UINT64_C(0x00003fff00003fff)) | (x & UINT64_C(0x3fff00003fff0000)) >> 2;
	x = (x & UINT64_C(0x000000000fffffff)) | (x & UINT64_C(0x0fffffff00000000)) >> 4;
	r.next = p + bits / 8;
	r.value = x;
	return r;
}

/* A length prefix: .next is the payload, NULL if it runs past the end. */
static inline __attribute__((always_inline, unused)) struct varint
len_prefix(const uint8_t *p, const uint8_t *end)
{
	struct varint r;

	if (p < end && p[0] < 0x80) {
		r.next = p + 1;
		r.value = p[0];
	} else {
		r = varint_slow(p, end, 5);
		if (!r.next)
			return r;
	}
	if (r.value > (uint64_t)(end - r.next))
		r.next = NULL;
	return r;
}

HELPER char *empty_string(void)
{
	return (char *)(uintptr_t)protobuf_c_empty_string;
}

/* Copies a string into the arena, NUL-terminated; the arena has room (see record.c). */
HELPER char *take_string(uint8_t **arena, const uint8_t *s, size_t n)
{
	char *str;

	if (n == 0)
		return empty_string();
	str = (char *)*arena;
	memcpy(str, s, n);
	str[n] = '\0';
	*arena += n + 1;
	return str;
}

HELPER ProtobufCBinaryData take_bytes(uint8_t **arena, const uint8_t *s, size_t n)
{
	ProtobufCBinaryData bd = { n, NULL };

	if (n) {
		bd.data = *arena;
		memcpy(bd.data, s, n);
		*arena += n;
	}
	return bd;
}

/* protobuf-c reads a bool from the raw bytes of any wire type. */
HELPER protobuf_c_boolean raw_bool(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] & 0x7f)
			return 1;
	return 0;
}
"""


class Field:
    def __init__(self, f, msg, raw, package):
        self.name = raw["name"]
        self.number = raw["number"]
        if raw["label"] is not None:
            raise ProtoError("line %d: field %s: label %r is not supported"
                             % (raw["line"], self.name, raw["label"]))
        t = resolve_type(f, msg["name"], raw["type"])
        if t.startswith("message:"):
            raise ProtoError("line %d: field %s: message-typed fields are not supported"
                             % (raw["line"], self.name))
        if t.startswith("enum:"):
            self.ctype_enum = c_type_name(package, t[5:])
            t = "enum"
        self.type = t
        if not 1 <= self.number <= (1 << 29) - 1:
            raise ProtoError("line %d: field %s: bad number %d"
                             % (raw["line"], self.name, self.number))
        self.wire, self.maxval = SCALARS[t]
        self.member = member_name(self.name)
        self.tag = varint(self.number << 3 | self.wire)

    def key(self, wire=None):
        return self.number << 3 | (self.wire if wire is None else wire)


def emit_tag(out, ind, tag):
    if len(tag) == 1:
        out.append("%s*p++ = 0x%02x;" % (ind, tag[0]))
    else:
        for i, b in enumerate(tag):
            out.append("%sp[%d] = 0x%02x;" % (ind, i, b))
        out.append("%sp += %d;" % (ind, len(tag)))


def gen_encode(fields, ctype):
    out = []
    const = 0
    for fl in fields:
        const += len(fl.tag) + fl.maxval
    out.append("size_t xtcp_record_encoded_max(const %s *rec)" % ctype)
    out.append("{")
    out.append("\tsize_t n = %d;" % const)
    out.append("\tunsigned i;")
    out.append("")
    for fl in fields:
        m = "rec->" + fl.member
        if fl.type == "string":
            out.append("\tif (%s && %s[0])" % (m, m))
            out.append("\t\tn += strlen(%s);" % m)
        elif fl.type == "bytes":
            out.append("\tn += %s.len;" % m)
    out.append("\tfor (i = 0; i < rec->base.n_unknown_fields; i++)")
    out.append("\t\tn += 5 + rec->base.unknown_fields[i].len;")
    out.append("\treturn n;")
    out.append("}")
    out.append("")

    out.append("size_t xtcp_record_encode(const %s *rec, uint8_t *out)" % ctype)
    out.append("{")
    out.append("\tuint8_t *restrict p = out;\t/* the record is not in the output */")
    out.append("\tunsigned i;")
    out.append("")
    for fl in fields:
        m = "rec->" + fl.member
        t = fl.type
        # The value goes to a local first: stores through p could alias rec.
        if t in ("uint32", "fixed32"):
            decl, cond, body = "uint32_t v = %s;" % m, "v", []
        elif t in ("int32", "sfixed32", "sint32", "enum"):
            decl, cond, body = "int32_t v = (int32_t)%s;" % m, "v", []
        elif t in ("uint64", "fixed64"):
            decl, cond, body = "uint64_t v = %s;" % m, "v", []
        elif t in ("int64", "sfixed64", "sint64"):
            decl, cond, body = "int64_t v = %s;" % m, "v", []
        elif t == "bool":
            decl, cond, body = "protobuf_c_boolean v = %s;" % m, "v", []
        elif t in ("float", "double"):
            decl, cond, body = None, "%s != 0" % m, []
        elif t == "string":
            decl, cond, body = "const char *s = %s;" % m, "s && s[0]", []
        elif t == "bytes":
            decl, cond, body = "size_t n = %s.len;" % m, "n", []
        else:
            raise AssertionError(t)
        if t == "uint32":
            body.append("p = put_u32(p, v);")
        elif t in ("int32", "enum"):
            body.append("p = put_i32(p, v);")
        elif t == "sint32":
            body.append("p = put_u32(p, zigzag32(v));")
        elif t == "uint64":
            body.append("p = put_u64(p, v);")
        elif t == "int64":
            body.append("p = put_u64(p, (uint64_t)v);")
        elif t == "sint64":
            body.append("p = put_u64(p, zigzag64(v));")
        elif t == "bool":
            body.append("*p++ = 1;")
        elif t == "fixed32":
            body.append("p = put_fixed32(p, v);")
        elif t == "sfixed32":
            body.append("p = put_fixed32(p, (uint32_t)v);")
        elif t == "fixed64":
            body.append("p = put_fixed64(p, v);")
        elif t == "sfixed64":
            body.append("p = put_fixed64(p, (uint64_t)v);")
        elif t == "float":
            body = ["uint32_t bits;", "", "memcpy(&bits, &%s, 4);" % m, "p = put_fixed32(p, bits);"]
        elif t == "double":
            body = ["uint64_t bits;", "", "memcpy(&bits, &%s, 8);" % m, "p = put_fixed64(p, bits);"]
        elif t == "string":
            body.append("p = put_data(p, s, strlen(s));")
        elif t == "bytes":
            body.append("p = put_data(p, %s.data, n);" % m)
        ind = "\t"
        if decl:
            out.append("\t{")
            out.append("\t\t" + decl)
            out.append("")
            ind = "\t\t"
        out.append("%sif (%s) {" % (ind, cond))
        if t in ("float", "double"):
            out.append(ind + "\t" + body[0])
            out.append("")
            body = body[2:]
        emit_tag(out, ind + "\t", fl.tag)
        for b in body:
            out.append(ind + "\t" + b)
        out.append(ind + "}")
        if decl:
            out.append("\t}")
    out.append("\tfor (i = 0; i < rec->base.n_unknown_fields; i++) {")
    out.append("\t\tconst ProtobufCMessageUnknownField *u = &rec->base.unknown_fields[i];")
    out.append("\t\tuint8_t *tag = p;")
    out.append("")
    out.append("\t\tp = put_u64(p, (uint64_t)u->tag << 3);")
    out.append("\t\ttag[0] |= u->wire_type;")
    out.append("\t\tif (u->len) {")
    out.append("\t\t\tmemcpy(p, u->data, u->len);")
    out.append("\t\t\tp += u->len;")
    out.append("\t\t}")
    out.append("\t}")
    out.append("\treturn (size_t)(p - out);")
    out.append("}")
    out.append("")
    return out


def emit_value(out, ind, fl, varint_fn, fail):
    """Code that reads the value of @fl at p (just after its tag) into rec."""
    m = "rec->" + fl.member
    t = fl.type
    if fl.wire == 0:
        out.append(ind + "x = %s(p, end);" % varint_fn)
        out.append(ind + "if (!x.next)")
        out.append(ind + "\t" + fail)
        if t == "bool":
            out.append(ind + "%s = raw_bool(p, (size_t)(x.next - p));" % m)
        out.append(ind + "p = x.next;")
        if t == "uint32":
            out.append(ind + "%s = (uint32_t)x.value;" % m)
        elif t == "int32":
            out.append(ind + "%s = (int32_t)(uint32_t)x.value;" % m)
        elif t == "enum":
            out.append(ind + "%s = (%s)(int32_t)(uint32_t)x.value;" % (m, fl.ctype_enum))
        elif t == "sint32":
            out.append(ind + "%s = unzigzag32((uint32_t)x.value);" % m)
        elif t == "uint64":
            out.append(ind + "%s = x.value;" % m)
        elif t == "int64":
            out.append(ind + "%s = (int64_t)x.value;" % m)
        elif t == "sint64":
            out.append(ind + "%s = unzigzag64(x.value);" % m)
        elif t == "bool":
            pass
        else:
            raise AssertionError(t)
    elif fl.wire == 5:
        out.append(ind + "if (end - p < 4)")
        out.append(ind + "\t" + fail)
        if t == "float":
            out.append(ind + "memcpy(&%s, p, 4);" % m)
        else:
            out.append(ind + "%s = (%s)get_fixed32(p);"
                       % (m, "uint32_t" if t == "fixed32" else "int32_t"))
        out.append(ind + "p += 4;")
    elif fl.wire == 1:
        out.append(ind + "if (end - p < 8)")
        out.append(ind + "\t" + fail)
        if t == "double":
            out.append(ind + "memcpy(&%s, p, 8);" % m)
        else:
            out.append(ind + "%s = (%s)get_fixed64(p);"
                       % (m, "uint64_t" if t == "fixed64" else "int64_t"))
        out.append(ind + "p += 8;")
    elif fl.wire == 2:
        out.append(ind + "x = len_prefix(p, end);")
        out.append(ind + "if (!x.next)")
        out.append(ind + "\t" + fail)
        if t == "string":
            out.append(ind + "%s = take_string(&arena, x.next, (size_t)x.value);" % m)
        else:
            out.append(ind + "%s = take_bytes(&arena, x.next, (size_t)x.value);" % m)
        out.append(ind + "p = x.next + x.value;")


def gen_decode_case(out, fl):
    """The generic loop's case for one field: wire type check, value, store."""
    out.append("\t\tcase %d: /* %s */" % (fl.number, fl.name))
    if fl.type == "bool":
        # protobuf-c takes a bool from the raw bytes of any wire type.
        out.append("\t\t\tif (!(x.next = skip_value(p, end, key & 7)))")
        out.append("\t\t\t\treturn -1;")
        out.append("\t\t\trec->%s = raw_bool(p, (size_t)(x.next - p));" % fl.member)
        out.append("\t\t\tp = x.next;")
        out.append("\t\t\tcontinue;")
        return
    # protobuf-c fails the whole message on a known field of the wrong wire type.
    out.append("\t\t\tif ((key & 7) != %d)" % fl.wire)
    out.append("\t\t\t\treturn -1;")
    emit_value(out, "\t\t\t", fl, "varint_long", "return -1;")
    out.append("\t\t\tcontinue;")


def gen_in_order(fields, ctype):
    """
    Every encoder (protobuf-c, protoc, Go) writes fields in number order, so
    the decoder first expects exactly that: for each field in turn, if the
    next bytes are its (minimal) tag, read it.  There is no dispatch, each
    field has its own branches, so they predict well, and an absent field
    costs a compare.  While ROOM bytes remain, the tag and a varint can be
    read without bounds checks.  What this leaves (the last few bytes,
    unknown fields, fields out of order or repeated, longer tags) the generic
    loop reads next, and the result is the same as if it had read it all.
    """
    room = max(len(fl.tag) for fl in fields) + 10
    out = []
    out.append("/*")
    out.append(" * Reads the fields at p that come in field-number order, each with its minimal")
    out.append(" * tag, while %d bytes remain; returns where it stopped, or NULL on malformed" % room)
    out.append(" * bytes.")
    out.append(" */")
    out.append("static __attribute__((noinline)) const uint8_t *")
    out.append("decode_in_order(const uint8_t *p, const uint8_t *end, %s *rec, uint8_t **arenap)"
               % ctype)
    out.append("{")
    out.append("\tuint8_t *arena = *arenap;")
    out.append("\tstruct varint x;")
    out.append("")
    out.append("\tif (end - p < %d)" % room)
    out.append("\t\treturn p;")
    for fl in fields:
        tag = fl.tag
        lit = "".join("\\x%02x" % b for b in tag)
        out.append("\tif (memcmp(p, \"%s\", %d) == 0) { /* %s */" % (lit, len(tag), fl.name))
        out.append("\t\tp += %d;" % len(tag))
        fast = "varint_fast64" if fl.type in ("uint64", "int64", "sint64") else "varint_fast"
        emit_value(out, "\t\t", fl, fast, "return NULL;")
        out.append("\t\tif (end - p < %d)" % room)
        out.append("\t\t\tgoto out;")
        out.append("\t}")
    out.append("out:")
    out.append("\t*arenap = arena;")
    out.append("\treturn p;")
    out.append("}")
    out.append("")
    return out


def gen_decode(fields, ctype):
    out = gen_in_order(fields, ctype)
    out.append("""/* The bytes of a value of wire type @wire at p: returns what follows, NULL if malformed. */
static const uint8_t *skip_value(const uint8_t *p, const uint8_t *end, uint64_t wire)
{
	struct varint x;

	switch (wire) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		return varint_long(p, end).next;
	case PROTOBUF_C_WIRE_TYPE_64BIT:
		return end - p < 8 ? NULL : p + 8;
	case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
		x = len_prefix(p, end);
		return x.next ? x.next + x.value : NULL;
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		return end - p < 4 ? NULL : p + 4;
	default:	/* groups (3, 4) and 6, 7: protobuf-c fails */
		return NULL;
	}
}

/*
 * Decodes buf[0..len) into rec, which the caller has reset.  Strings, bytes
 * and unknown fields are copied into dec->arena, which has room for len bytes
 * (a field's copy is never longer than its encoding).  Returns 0, -1 when
 * the bytes are malformed (or, as protobuf-c, a known field has the wrong
 * wire type), or 1 when dec->unknown has fewer than the *n_unknown entries
 * this row needs: the caller grows it and decodes again.
 */""")
    proto = ("int xtcp_record_decode_fields(struct xtcp_decoder *dec, const uint8_t *buf, size_t len,\n"
             "\t\t\t      %s *rec, size_t *n_unknown)" % ctype)
    out.append(proto + ";")
    out.append("")
    out.append(proto)
    out.append("{")
    out.append("\tconst uint8_t *p = buf, *end = buf + len;")
    out.append("\tuint8_t *arena = dec->arena;")
    out.append("\tsize_t nu = 0;")
    out.append("\tstruct varint x;")
    out.append("\tuint64_t key;")
    out.append("")
    out.append("\tif (!(p = decode_in_order(p, end, rec, &arena)))")
    out.append("\t\treturn -1;")
    out.append("\twhile (p < end) {")
    out.append("\t\t/* protobuf-c: a tag has at most 5 bytes; a 1-byte tag of field 0 is an error */")
    out.append("\t\tif (p[0] < 0x80) {")
    out.append("\t\t\tif (p[0] < 8)")
    out.append("\t\t\t\treturn -1;")
    out.append("\t\t\tkey = *p++;")
    out.append("\t\t} else {")
    out.append("\t\t\tx = varint_slow(p, end, 5);")
    out.append("\t\t\tif (!x.next)")
    out.append("\t\t\t\treturn -1;")
    out.append("\t\t\tkey = x.value;")
    out.append("\t\t\tp = x.next;")
    out.append("\t\t}")
    out.append("")
    out.append("\t\tswitch (key >> 3) {")
    for fl in fields:
        gen_decode_case(out, fl)
    out.append("\t\tdefault:")
    out.append("\t\t\tbreak;")
    out.append("\t\t}")
    out.append("")
    out.append("\t\t/* An unknown field: kept as protobuf-c keeps it, the raw bytes after the tag. */")
    out.append("\t\tif (!(x.next = skip_value(p, end, key & 7)))")
    out.append("\t\t\treturn -1;")
    out.append("\t\tif (nu < dec->unknown_cap) {")
    out.append("\t\t\tProtobufCMessageUnknownField *u = &dec->unknown[nu];")
    out.append("")
    out.append("\t\t\tu->tag = (uint32_t)(key >> 3);")
    out.append("\t\t\tu->wire_type = (ProtobufCWireType)(key & 7);")
    out.append("\t\t\tu->len = (size_t)(x.next - p);")
    out.append("\t\t\tu->data = arena;")
    out.append("\t\t\tmemcpy(arena, p, u->len);")
    out.append("\t\t\tarena += u->len;")
    out.append("\t\t}")
    out.append("\t\tnu++;")
    out.append("\t\tp = x.next;")
    out.append("\t}")
    out.append("\t*n_unknown = nu;")
    out.append("\tif (nu > dec->unknown_cap)")
    out.append("\t\treturn 1;")
    out.append("\tif (nu) {")
    out.append("\t\trec->base.n_unknown_fields = (unsigned)nu;")
    out.append("\t\trec->base.unknown_fields = dec->unknown;")
    out.append("\t}")
    out.append("\treturn 0;")
    out.append("}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("proto")
    ap.add_argument("--message", default="XtcpFlatRecord",
                    help="message to generate the codec for (default %(default)s)")
    args = ap.parse_args()

    try:
        with open(args.proto, encoding="utf-8") as fp:
            text = fp.read()
        f = Parser(tokenize(text)).parse_file()
        if f["syntax"] != "proto3":
            raise ProtoError("only proto3 is supported (zero-skip encoding)")
        msg = f["messages"].get(args.message)
        if msg is None:
            raise ProtoError("no message %r" % args.message)
        if msg["unsupported"]:
            raise ProtoError("%s: not supported: %s" % (args.message, ", ".join(msg["unsupported"])))
        fields = [Field(f, msg, raw, f["package"]) for raw in msg["fields"]]
        seen = {}
        for fl in fields:
            if fl.number in seen:
                raise ProtoError("%s: field number %d used by %s and %s"
                                 % (args.message, fl.number, seen[fl.number], fl.name))
            seen[fl.number] = fl.name
        if not fields:
            raise ProtoError("%s has no fields" % args.message)
        fields.sort(key=lambda x: x.number)
    except (OSError, ProtoError, ValueError) as e:
        sys.stderr.write("gen-codec: %s: %s\n" % (args.proto, e))
        return 1

    ctype = c_type_name(f["package"], args.message)
    out = [PRELUDE % {"proto": args.proto, "ctype": ctype}]
    out += gen_encode(fields, ctype)
    out += gen_decode(fields, ctype)
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
