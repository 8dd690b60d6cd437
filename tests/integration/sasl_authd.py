#!/usr/bin/env python3
"""sasl_authd.py: a minimal authentication server speaking the Dovecot auth
protocol (version 1.2, as Postfix's smtpd_sasl_type = dovecot uses it), for the
outbound tests: Postfix does real SMTP AUTH against it, so chanrac-milter gets a
real {auth_authen}.  Mechanisms PLAIN and LOGIN; one user and password given on
the command line.  Listens on 127.0.0.1, prints its port on stdout.

Usage: sasl_authd.py USER PASSWORD
"""
import base64
import os
import socket
import sys
import threading

USER, PASSWORD = sys.argv[1], sys.argv[2]


def check_plain(data):
    parts = data.split(b"\0")
    if len(parts) != 3:
        return None
    authz, authc, pw = parts
    if authc.decode("utf-8", "replace") == USER and pw.decode("utf-8", "replace") == PASSWORD \
            and authz in (b"", authc):
        return USER
    return None


def serve(conn):
    f = conn.makefile("rwb", buffering=0)
    f.write(b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
            b"SPID\t%d\nCUID\t1\nCOOKIE\t%s\nDONE\n" % (os.getpid(), os.urandom(16).hex().encode()))
    login = {}  # id -> [step, username]
    for raw in f:
        fields = raw.rstrip(b"\n").split(b"\t")
        cmd = fields[0]
        if cmd == b"AUTH" and len(fields) >= 3:
            rid, mech = fields[1], fields[2].upper()
            args = dict(x.split(b"=", 1) if b"=" in x else (x, b"") for x in fields[3:])
            if mech == b"PLAIN":
                if b"resp" in args:
                    user = check_plain(base64.b64decode(args[b"resp"]))
                    f.write(b"OK\t%s\tuser=%s\n" % (rid, user.encode()) if user
                            else b"FAIL\t%s\treason=bad credentials\n" % rid)
                else:
                    login[rid] = ["plain", None]
                    f.write(b"CONT\t%s\t\n" % rid)
            elif mech == b"LOGIN":
                login[rid] = ["login-user", None]
                f.write(b"CONT\t%s\t%s\n" % (rid, base64.b64encode(b"Username:")))
            else:
                f.write(b"FAIL\t%s\treason=unsupported mechanism\n" % rid)
        elif cmd == b"CONT" and len(fields) >= 3 and fields[1] in login:
            rid, data = fields[1], base64.b64decode(fields[2])
            step = login[rid]
            if step[0] == "plain":
                user = check_plain(data)
                f.write(b"OK\t%s\tuser=%s\n" % (rid, user.encode()) if user
                        else b"FAIL\t%s\treason=bad credentials\n" % rid)
                del login[rid]
            elif step[0] == "login-user":
                step[0], step[1] = "login-pass", data.decode("utf-8", "replace")
                f.write(b"CONT\t%s\t%s\n" % (rid, base64.b64encode(b"Password:")))
            else:
                ok = step[1] == USER and data.decode("utf-8", "replace") == PASSWORD
                f.write(b"OK\t%s\tuser=%s\n" % (rid, USER.encode()) if ok
                        else b"FAIL\t%s\treason=bad credentials\n" % rid)
                del login[rid]
        # VERSION, CPID and anything else: nothing to answer
    conn.close()


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print(s.getsockname()[1], flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
