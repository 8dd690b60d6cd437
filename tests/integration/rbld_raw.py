#!/usr/bin/env python3
# rbld_raw.py: sends one hand-made (often malformed) DNS packet over UDP and prints
# the answer's RCODE name and flags, or "none" if nothing came back in time.
# Usage: rbld_raw.py PORT CASE   (CASE names a packet below)
import socket, struct, sys

def q(name, qtype=1, qd=1, flags=0x0100, an=0, ar=0, extra=b""):
    h = struct.pack(">HHHHHH", 0x1234, flags, qd, an, 0, ar)
    return h + name + struct.pack(">HH", qtype, 1) + extra

N = b"\x017\x012\x010\x03192\x02bl\x04test\x00"
opt = lambda ver=0, size=4096: b"\x00" + struct.pack(">HHBBHH", 41, size, 0, ver, 0, 0)
CASES = {
    "ok": q(N),
    "qdcount2": q(N, qd=2),
    "qdcount0": struct.pack(">HHHHHH", 0x1234, 0x0100, 0, 0, 0, 0),
    "pointer": q(b"\x017\xc0\x0c"),
    "pointer_loop": struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01",
    "long_label": q(b"\x40" + b"a" * 64 + b"\x02bl\x04test\x00"),
    "label_past_end": struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x3fabc",
    "name_too_long": q(b"\x3f" + b"a" * 63 + b"\x3f" + b"b" * 63 + b"\x3f" + b"c" * 63 + b"\x3f" + b"d" * 63 + b"\x02bl\x04test\x00"),
    "no_qtype": struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + N + b"\x00",
    "short": b"\x12\x34\x01",
    "response": q(N, flags=0x8100),
    "opcode_status": q(N, flags=0x1100),
    "opcode_notify": q(N, flags=0x2100),
    "edns_v1": q(N, ar=1, extra=opt(ver=1)),
    "edns_ok": q(N, ar=1, extra=opt()),
    "two_opt": q(N, ar=2, extra=opt() + opt()),
    "opt_bad_len": q(N, ar=1, extra=b"\x00" + struct.pack(">HHBBHH", 41, 4096, 0, 0, 0, 40)),
    "ancount": q(N, an=1),
    "mixed_case": q(b"\x07ExAmPlE\x02Vn\x03DbL\x04TeSt\x00"),
}
RC = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

port, case = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.sendto(CASES[case], ("127.0.0.1", port))
try:
    d, _ = s.recvfrom(65535)
except socket.timeout:
    print("none")
    sys.exit(0)
flags = struct.unpack(">H", d[2:4])[0]
rc = flags & 15
ar = struct.unpack(">H", d[10:12])[0]
# extended RCODE from an OPT record at the end (ours is always last and 11 bytes)
if ar and len(d) >= 11 and d[-11] == 0 and d[-10:-8] == b"\x00\x29":
    rc |= d[-6] << 4
name = {16: "BADVERS"}.get(rc, RC.get(rc, str(rc)))
fl = [n for b, n in ((0x8000, "qr"), (0x0400, "aa"), (0x0200, "tc"), (0x0080, "ra")) if flags & b]
out = [name, " ".join(fl), "id=%d" % struct.unpack(">H", d[0:2])[0]]
if case == "mixed_case":
    # echoed question text, and the answer count (owner is a pointer to it)
    i, labels = 12, []
    while d[i]:
        labels.append(d[i + 1:i + 1 + d[i]].decode()); i += 1 + d[i]
    out += ["q=" + ".".join(labels), "an=%d" % struct.unpack(">H", d[6:8])[0]]
print(*out)
