#!/usr/bin/env python3
# security_dns.py: hostile DNS clients for tests/integration/security_rbld.sh.
#   security_dns.py xfr PORT ZONE...   AXFR and IXFR over TCP and UDP, and UPDATE
#       (opcode 5, adding an A record) over UDP and TCP, for each zone; prints one
#       line per case: "CASE RCODE answers=N authority=N additional=N" or
#       "CASE none" when nothing came back within 2 s (TCP: connection closed).
#   security_dns.py amp PORT IPZONE DOMZONE LISTED_IP N   N queries (with and
#       without EDNS) for unlisted addresses and names, ANY of listed, unlisted and
#       apex names; prints "queries=N answered=N max_ratio=R worst=CASE".
import random, socket, struct, sys

RC = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def wire(name):
    out = b""
    for label in name.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def query(qid, name, qtype, opcode=0, edns=False, extra_rr=b"", nauth=0):
    flags = (opcode << 11) | (0x0100 if opcode == 0 else 0)
    ar = 1 if edns else 0
    h = struct.pack(">HHHHHH", qid, flags, 1, 0, nauth, ar)
    body = wire(name) + struct.pack(">HH", qtype, 1) + extra_rr
    if edns:
        body += b"\x00" + struct.pack(">HHBBHH", 41, 1232, 0, 0, 0, 0)
    return h + body


def summary(resp):
    if resp is None or len(resp) < 12:
        return "none"
    _, flags, _, an, ns, ar = struct.unpack(">HHHHHH", resp[:12])
    return "%s answers=%d authority=%d additional=%d" % (RC.get(flags & 15, str(flags & 15)), an, ns, ar)


def udp(port, pkt, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(pkt, ("127.0.0.1", port))
    try:
        return s.recv(65535)
    except OSError:
        return None
    finally:
        s.close()


def tcp(port, pkt, timeout=2.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(struct.pack(">H", len(pkt)) + pkt)
        hdr = b""
        while len(hdr) < 2:
            c = s.recv(2 - len(hdr))
            if not c:
                return None
            hdr += c
        n = struct.unpack(">H", hdr)[0]
        body = b""
        while len(body) < n:
            c = s.recv(n - len(body))
            if not c:
                return None
            body += c
        return body
    except OSError:
        return None
    finally:
        s.close()


def xfr(port, zones):
    for z in zones:
        for qtype, qn in ((252, "AXFR"), (251, "IXFR")):
            extra, nauth = b"", 0
            if qtype == 251:  # IXFR carries the client's SOA in the authority section
                soa = wire("ns." + z) + wire("h." + z) + struct.pack(">IIIII", 1, 60, 60, 60, 60)
                extra = wire(z) + struct.pack(">HHIH", 6, 1, 0, len(soa)) + soa
                nauth = 1
            pkt = query(0x4242, z, qtype, extra_rr=extra, nauth=nauth)
            print("%s-%s-tcp %s" % (qn, z, summary(tcp(port, pkt))))
            print("%s-%s-udp %s" % (qn, z, summary(udp(port, pkt))))
        # UPDATE (RFC 2136): zone section = z SOA, update section adds an A record
        rr = wire("1.0.0.10." + z) + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 2])
        h = struct.pack(">HHHHHH", 0x4343, 5 << 11, 1, 0, 1, 0)
        pkt = h + wire(z) + struct.pack(">HH", 6, 1) + rr
        print("UPDATE-%s-udp %s" % (z, summary(udp(port, pkt))))
        print("UPDATE-%s-tcp %s" % (z, summary(tcp(port, pkt))))


def amp(port, ipzone, domzone, listed, n):
    rnd = random.Random(7)
    rev = ".".join(reversed(listed.split(".")))
    worst, worst_case, answered, sent = 0.0, "", 0, 0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    for i in range(n):
        k = i % 6
        if k == 0:
            name, qt, case = "%d.%d.%d.10.%s" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 256), ipzone), 1, "unlisted-ip-A"
        elif k == 1:
            name, qt, case = "%d.%d.%d.10.%s" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 256), ipzone), 255, "unlisted-ip-ANY"
        elif k == 2:
            name, qt, case = "s%d.example%d.vn.%s" % (rnd.randrange(10**6), i, domzone), 1, "unlisted-domain-A"
        elif k == 3:
            name, qt, case = "s%d.vn.%s" % (rnd.randrange(10**6), domzone), 255, "unlisted-domain-ANY"
        elif k == 4:
            name, qt, case = "%s.%s" % (rev, ipzone), 255, "listed-ip-ANY"
        else:
            name, qt, case = (ipzone if i % 12 < 6 else domzone), 255, "apex-ANY"
        edns = (i // 6) % 2 == 1
        pkt = query(i & 0xffff, name, qt, edns=edns)
        sent += 1
        s.sendto(pkt, ("127.0.0.1", port))
        try:
            resp = s.recv(65535)
        except OSError:
            continue
        answered += 1
        r = len(resp) / len(pkt)
        if r > worst:
            worst, worst_case = r, "%s%s(%d->%d bytes)" % (case, "+EDNS" if edns else "", len(pkt), len(resp))
    print("queries=%d answered=%d max_ratio=%.2f worst=%s" % (sent, answered, worst, worst_case))


if __name__ == "__main__":
    if sys.argv[1] == "xfr":
        xfr(int(sys.argv[2]), sys.argv[3:])
    else:
        amp(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
