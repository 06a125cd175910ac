#!/usr/bin/env python3
"""Test helper: make damaged copies of netlink pcaps and split xtcp streams.

  pcaptool.py corrupt-attr IN OUT      first sock_diag reply: first attribute's nla_len overruns
  pcaptool.py corrupt-nlmsg IN OUT     first sock_diag reply: nlmsg_len past the packet
  pcaptool.py truncate IN OUT N        keep the first N bytes
  pcaptool.py frames STREAM DIR        write each frame's Envelope bytes to DIR/NNNN.bin; print count
  pcaptool.py raw IN OUT               the kernel's replies of a pcap as a raw dump (ss -D format)
"""
import struct
import sys


def packets(data):
    magic = data[:4]
    endian = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + 'I', data[pos + 8:pos + 12])[0]
        yield pos + 16, incl, endian
        pos += 16 + incl


def messages(data, start, length):
    """(offset, nlmsg_len, type, flags) of each netlink message in one packet (after the cooked header)."""
    pos = start + 16
    end = start + length
    while pos + 16 <= end:
        nlen, ntype, nflags = struct.unpack('<IHH', data[pos:pos + 8])
        if nlen < 16:
            return
        yield pos, nlen, ntype, nflags
        pos += (nlen + 3) & ~3


def first_reply(data):
    for start, incl, _ in packets(data):
        for pos, nlen, ntype, nflags in messages(data, start, incl):
            if ntype == 20 and not nflags & 1:
                return start, incl, pos, nlen
    raise SystemExit('no sock_diag reply found')


def main():
    cmd = sys.argv[1]
    if cmd == 'frames':
        data = open(sys.argv[2], 'rb').read()
        pos = n = 0
        while pos < len(data):
            length = shift = 0
            while True:
                b = data[pos]
                pos += 1
                length |= (b & 0x7f) << shift
                shift += 7
                if not b & 0x80:
                    break
            n += 1
            with open('%s/%04d.bin' % (sys.argv[3], n), 'wb') as f:
                f.write(data[pos:pos + length])
            pos += length
        print(n)
        return
    data = bytearray(open(sys.argv[2], 'rb').read())
    if cmd == 'corrupt-attr':
        _, _, pos, nlen = first_reply(data)
        attr = pos + 16 + 72
        struct.pack_into('<H', data, attr, 0xfff0)
    elif cmd == 'corrupt-nlmsg':
        _, incl, pos, nlen = first_reply(data)
        struct.pack_into('<I', data, pos, nlen + 4096)
    elif cmd == 'truncate':
        data = data[:int(sys.argv[4])]
    elif cmd == 'raw':
        out = bytearray()
        for start, incl, _ in packets(bytes(data)):
            for pos, nlen, ntype, nflags in messages(data, start, incl):
                if not nflags & 1:
                    out += data[pos:pos + nlen] + b'\0' * (((nlen + 3) & ~3) - nlen)
        data = out
    else:
        raise SystemExit('unknown command ' + cmd)
    open(sys.argv[3], 'wb').write(data)


if __name__ == '__main__':
    main()
