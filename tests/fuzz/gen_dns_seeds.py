#!/usr/bin/env python3
"""Writes the seed queries of fuzz_dns into tests/fuzz/corpus/dns: standard queries
for names in and around the zones of fuzz_dns.c, with and without EDNS, plus a
few malformed ones (compression pointer, response bit, unknown opcode)."""
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "dns")
os.makedirs(out, exist_ok=True)


def name(n):
    w = b""
    for label in n.split(".") if n else []:
        w += bytes([len(label)]) + label.encode()
    return w + b"\0"


def query(qid, n, qtype, qclass=1, flags=0x0100, edns=None, raw_name=None):
    p = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 1 if edns is not None else 0)
    p += (raw_name if raw_name is not None else name(n)) + struct.pack(">HH", qtype, qclass)
    if edns is not None:
        size, version, do = edns
        p += b"\0" + struct.pack(">HHBBHH", 41, size, 0, version, 0x8000 if do else 0, 0)
    return p


seeds = {
    "a-listed-v4": query(1, "7.2.0.192.bl.test", 1),
    "txt-listed-v4": query(2, "7.2.0.192.bl.test", 16),
    "any-listed-v4-edns": query(3, "9.2.0.192.bl.test", 255, edns=(1232, 0, 1)),
    "a-test-point": query(4, "2.0.0.127.bl.test", 1),
    "a-never-listed": query(5, "1.0.0.127.bl.test", 1),
    "a-allowed": query(6, "8.2.0.192.bl.test", 1),
    "a-partial": query(7, "2.0.192.bl.test", 1),
    "txt-v6": query(8, ".".join(reversed("20010db8000000000000000000000001")) + ".bl.test", 16),
    "a-v4-mapped": query(9, ".".join(reversed("00000000000000000000ffff7f000002")) + ".bl.test", 1),
    "soa-apex": query(10, "bl.test", 6),
    "ns-apex-edns": query(11, "bl.test", 2, edns=(4096, 0, 0)),
    "any-apex": query(12, "BL.TEST", 255),
    "a-domain": query(13, "example.com.dbl.test", 1),
    "txt-wild": query(14, "x.y.w.vn.dbl.test", 16),
    "a-excluded": query(15, "ok.w.vn.dbl.test", 1),
    "a-test-domain": query(16, "test.dbl.test", 1),
    "a-invalid": query(17, "invalid.dbl.test", 1),
    "a-ent": query(18, "c.deep.vn.dbl.test", 1),
    "txt-big": query(19, "1.0.0.10.any.test", 16),
    "a-big-noedns": query(20, "1.0.0.10.any.test", 1),
    "txt-big-edns512": query(21, "1.0.0.10.any.test", 16, edns=(512, 0, 0)),
    "a-refused": query(22, "example.org", 1),
    "a-root": query(23, "", 1),
    "a-class-chaos": query(24, "version.bind", 16, qclass=3),
    "badvers": query(25, "bl.test", 6, edns=(1232, 1, 0)),
    "notimp-opcode": query(26, "bl.test", 6, flags=0x2100),
    "response-bit": query(27, "bl.test", 1, flags=0x8100),
    "pointer-name": query(28, "", 1, raw_name=b"\xc0\x0c"),
    "label-with-dot": query(29, "", 1, raw_name=b"\x03a.b\x02bl\x04test\x00"),
    "aaaa-listed": query(30, "7.2.0.192.bl.test", 28),
}
for k, v in seeds.items():
    with open(os.path.join(out, k), "wb") as f:
        f.write(v)
