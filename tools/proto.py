"""The subset of the .proto language that xtcp's schema uses, for the generators.

    import proto
    f = proto.load("proto/xtcp_flat_record.proto")
    msg = f["messages"]["XtcpFlatRecord"]

A field is a dict: label, type, name, number, line, and comment (the text of
a // comment on the same line after the field, stripped; "" when none).
schema() reads those comments as the record's schema entries, for every
generator that needs a field's unit, aliases or meaning.  Also the C names
protoc-c gives messages and members.  Only the python3 standard library is
used.
"""

import re

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


def tokenize(text, comments=None):
    """Tokens as (kind, value, line); // comments go to @comments[line] when given."""
    pos = 0
    line = 1
    tokens = []
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise ProtoError("line %d: unexpected character %r" % (line, text[pos]))
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "line_comment" and comments is not None:
            comments[line] = value[2:].strip()
        if kind not in ("ws", "line_comment", "block_comment"):
            tokens.append((kind, value, line))
        line += value.count("\n")
        pos = m.end()
    return tokens


class Parser:
    def __init__(self, tokens, comments=None):
        self.tokens = tokens
        self.comments = comments or {}
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
                                      "number": number, "line": line,
                                      "comment": self.comments.get(line, "")})
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




# --- the schema comments -------------------------------------------------
#
# The comment after each field of the record is `[unit] meaning {alias, ...}`
# (see the proto's header).  Instead of a unit, the brackets may say what the
# value is: a TCP state, an address family, an address.

UNITS = {"": 0, "ns": 1, "us": 1000, "ms": 1000000, "bytes": 0, "bytes/s": 0,
         "segments": 0, "packets": 0, "Mbit/s": 0}       # unit: nanoseconds per unit, times only
VALUE_KINDS = ("state", "family", "address")
COMMENT_RE = re.compile(r"^(?:\[(?P<unit>[^\]]*)\]\s*)?(?P<meaning>.*?)\s*(?:\{(?P<aliases>[^}]*)\})?$")


def schema(f, msg):
    """The schema entries of @msg's fields, in number order.

    Each is a dict: number, name, type (the proto type, "enum" for an enum),
    enum (an enum's full name, else None), kind (state, family or address
    when the comment says so, else the type), unit ("" for none or a kind),
    unit_ns (nanoseconds per unit for a time, else 0), aliases (a list),
    meaning, where (the field's line and name, for messages).  Raises
    ProtoError for a field without a meaning, an unknown unit, and an alias
    that is not a lower-case word, is another field's name or is another
    field's alias too.
    """
    out = []
    for raw in msg["fields"]:
        m = COMMENT_RE.match(raw["comment"])
        unit, meaning = (m.group("unit") or "").strip(), m.group("meaning").strip()
        aliases = [a.strip() for a in (m.group("aliases") or "").split(",") if a.strip()]
        where = "line %d: field %s" % (raw["line"], raw["name"])
        if not meaning:
            raise ProtoError("%s: no meaning in its comment ([unit] meaning {aliases})" % where)
        t = resolve_type(f, msg["name"], raw["type"])
        ptype = "enum" if t.startswith("enum:") else t
        if unit in VALUE_KINDS:
            kind, unit = unit, ""
        elif unit in UNITS:
            kind = ptype
        else:
            raise ProtoError("%s: unknown unit [%s] (units: %s; kinds: %s)"
                             % (where, unit, " ".join(u for u in UNITS if u),
                                " ".join(VALUE_KINDS)))
        out.append({"number": raw["number"], "name": raw["name"], "type": ptype,
                    "enum": t[5:] if t.startswith("enum:") else None,
                    "kind": kind, "unit": unit, "unit_ns": UNITS[unit],
                    "aliases": aliases, "meaning": meaning, "where": where})
    out.sort(key=lambda e: e["number"])
    names = {e["name"] for e in out}
    owner = {}
    for e in out:
        for a in e["aliases"]:
            if not re.match(r"^[a-z][a-z0-9_]*$", a):
                raise ProtoError("%s: alias %r is not a lower-case word" % (e["where"], a))
            if a in names and a != e["name"]:
                raise ProtoError("%s: alias %r is another field's name" % (e["where"], a))
            if a in owner:
                raise ProtoError("%s: alias %r is also %s's" % (e["where"], a, owner[a]))
            owner[a] = e["name"]
    return out


def load(path):
    """Parse the .proto file at @path; raises ProtoError or OSError."""
    with open(path, encoding="utf-8") as fp:
        text = fp.read()
    comments = {}
    tokens = tokenize(text, comments)
    return Parser(tokens, comments).parse_file()


def load_message(path, name):
    """load(@path) and its message @name: (file, message); raises ProtoError or OSError."""
    f = load(path)
    msg = f["messages"].get(name)
    if msg is None:
        raise ProtoError("no message %r" % name)
    return f, msg
