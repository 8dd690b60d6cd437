#!/usr/bin/env python3
# fault_postfix.py: an SMTP client for tests/integration/fault_postfix.sh.
#   fault_postfix.py PORT FIRST LAST THREADS GAP_MS
# sends messages FIRST..LAST (Subject "fault-N", Message-ID <fault-N@test>) to
# 127.0.0.1:PORT over THREADS parallel connections, one message per connection,
# GAP_MS apart per thread; prints "N RESULT" per message as it is answered: ok,
# 4xx/5xx code, or
# error (connection failed).  Every connection has a 30 s timeout.
import smtplib, sys, threading, time

port, first, last, nthreads, gap = (int(a) for a in sys.argv[1:6])
results = {}
lock = threading.Lock()


def send(i):
    msg = ("From: Alice <alice@pass.test>\r\nTo: User <user@example.vn>\r\n"
           "Subject: fault-%d\r\nMessage-ID: <fault-%d@test>\r\n"
           "Date: Sat, 22 Nov 2025 10:00:00 +0700\r\n\r\nmessage %d\r\n" % (i, i, i))
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=30)
        try:
            s.sendmail("alice@pass.test", ["user@example.vn"], msg)
            r = "ok"
        finally:
            try:
                s.quit()
            except Exception:
                pass
    except smtplib.SMTPRecipientsRefused as e:
        r = str(list(e.recipients.values())[0][0])
    except smtplib.SMTPResponseException as e:
        r = str(e.smtp_code)
    except Exception:
        r = "error"
    with lock:
        results[i] = r
        print(i, r, flush=True)  # as it happens: the test watches the progress


def worker(k):
    for i in range(first + k, last + 1, nthreads):
        send(i)
        time.sleep(gap / 1000.0)


ts = [threading.Thread(target=worker, args=(k,)) for k in range(nthreads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
