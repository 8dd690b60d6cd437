#!/usr/bin/env python3
# fault_tcp.py: hostile TCP clients for tests/integration/fault_rbld.sh.
#   fault_tcp.py PORT IDLE SLOW SECONDS [GRACE]
# opens SLOW "slowloris" connections that send one byte of a never-finished
# 40-byte query every 0.3 s, then IDLE ones that never send a byte, all to
# 127.0.0.1:PORT, keeps them for SECONDS and (still trickling) up to GRACE
# more seconds while any is open (on a loaded machine opening 2,000
# connections eats into SECONDS), then prints
#   "opened=N refused=N closed_by_server=N still_open=N slow_bytes=N"
# refused: connect failed; closed_by_server: the server closed it (EOF/reset).
import errno, resource, select, socket, sys, time

port, n_idle, n_slow, secs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
grace = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = n_idle + n_slow + 64
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

socks, slow, refused = [], set(), 0
for i in range(n_idle + n_slow):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    rc = s.connect_ex(("127.0.0.1", port))
    if rc not in (0, errno.EINPROGRESS):
        refused += 1
        s.close()
        continue
    socks.append(s)
    if i < n_slow:  # the slowloris ones first: they take the server's slots
        slow.add(s)
opened = len(socks)
alive = set(socks)
closed = 0
sent = {s: 0 for s in slow}
partial = b"\x00\x28" + b"\x12\x34\x01\x00\x00\x01" + b"\x00" * 32  # length 40, never completed
deadline = time.monotonic() + secs + grace
next_trickle = time.monotonic()
while time.monotonic() < deadline and alive:
    now = time.monotonic()
    if now >= next_trickle:
        next_trickle = now + 0.3
        for s in list(alive & slow):
            k = sent[s]
            if k >= len(partial) - 1:
                continue
            try:
                s.send(partial[k:k + 1])
                sent[s] = k + 1
            except BlockingIOError:
                pass
            except OSError:
                alive.discard(s)
                closed += 1
    p = select.poll()
    byfd = {}
    for s in alive:
        p.register(s, select.POLLIN)
        byfd[s.fileno()] = s
    for fd, _ in p.poll(50):
        s = byfd[fd]
        try:
            if s.recv(512) == b"":
                alive.discard(s)
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            alive.discard(s)
            closed += 1
print("opened=%d refused=%d closed_by_server=%d still_open=%d slow_bytes=%d"
      % (opened, refused, closed, len(alive), sum(sent.values())))
