"""homing milter against a scripted MTA: milter.max_connections and the
protocol's guards, byte for byte on a unix socket and on TCP (the real
Postfix path is test_milter.py).

Checked:
- with milter.max_connections = 2, two MTA connections get CONTINUE at
  CONNECT and the third is passed through untouched: ACCEPT at CONNECT (the
  MTA then sends nothing more of it and delivers its mail as it came),
  counted in homing_milter_overload_total and logged;
- a connection within the limit still filters a whole message (the tag
  policy's X-Homing-Trackers header, then ACCEPT), so the overflow took
  nothing from it;
- when a counted connection ends, its slot is free again: a new connection
  gets CONTINUE (polled with a deadline: the milter sees the close
  asynchronously); QUIT_NC (a new SMTP session on the same milter
  connection) keeps the slot;
- a packet longer than HOMING_MILTER_PACKET_MAX (1 MiB), a zero length, an
  unknown command and a malformed header each close only their own
  connection, and the milter goes on serving the others;
- a message over milter.max_message (oversize = reject) is refused with 552
  5.3.4 at its end, and the next message on that connection is filtered;
- on a unix socket the milter asks for no reply to MAIL, RCPT, headers, the
  end of headers and body chunks: one round trip per message;
- over TCP a packet without a reply does not hold the next one for a delayed
  ACK (test_tcp_round_trips).
"""
import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from homing_test import HOMING, Instance, Runner, check, free_port  # noqa: E402

WAIT_S = 30
PACKET_MAX = 1 << 20
NR_HDR, NR_MAIL, NR_RCPT, NR_EOH, NR_BODY = 0x80, 0x4000, 0x8000, 0x40000, 0x80000
NR_ALL = NR_HDR | NR_MAIL | NR_RCPT | NR_EOH | NR_BODY
PIXEL = (b'<p>Hi<img src="http://us1.list-manage.com/track/open.php?u=1&amp;id=2" '
         b'width="1" height="1"></p>\r\n')


def pk(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


class MTA:
    """One MTA connection: negotiates as Postfix 3.7 does (version 6, every
    action, every protocol step offered)."""

    def __init__(self, path):
        """path: a unix socket's, or (host, port) for TCP."""
        self.s = socket.socket(socket.AF_UNIX if isinstance(path, str) else socket.AF_INET)
        self.s.settimeout(WAIT_S)
        self.s.connect(path)
        self.s.sendall(pk(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
        cmd, data = self.read()
        check(cmd == b"O" and len(data) >= 12, f"optneg reply {cmd!r} {data!r}")
        self.version, self.actions, self.steps = struct.unpack(">III", data[:12])

    def read(self):
        head = self.exact(5)
        if head is None:
            return None, None
        n = struct.unpack(">I", head[:4])[0]
        return head[4:5], self.exact(n - 1)

    def exact(self, n):
        b = b""
        while len(b) < n:
            chunk = self.s.recv(n - len(b))
            if not chunk:
                return None if not b else b
            b += chunk
        return b

    def closed(self):
        """True when the milter closed the connection (EOF, no reply)."""
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True

    def connect(self):
        self.s.sendall(pk(b"D", b"C" + b"j\0mx.dest.test\0") +
                       pk(b"C", b"localhost\x004" + struct.pack(">H", 40000) + b"127.0.0.1\0"))
        return self.read()[0]

    def message(self, rcpt=b"<tagme@dest.test>", body=PIXEL):
        """A whole tracked message; the replies from end of headers on."""
        s = self.s
        s.sendall(pk(b"D", b"Mi\0QID1\0") + pk(b"M", b"<news@shop.example>\0"))
        if not self.steps & NR_MAIL:
            check(self.read()[0] == b"c", "MAIL")
        s.sendall(pk(b"R", rcpt + b"\0"))
        if not self.steps & NR_RCPT:
            check(self.read()[0] == b"c", "RCPT")
        for name, value in ((b"From", b"news@shop.example"), (b"To", b"tagme@dest.test"),
                            (b"Subject", b"Sale"), (b"MIME-Version", b"1.0"),
                            (b"Content-Type", b"text/html; charset=utf-8")):
            s.sendall(pk(b"L", name + b"\0" + value + b"\0"))
            if not self.steps & NR_HDR:
                check(self.read()[0] == b"c", "HEADER")
        s.sendall(pk(b"N"))
        if not self.steps & NR_EOH:
            check(self.read()[0] == b"c", "EOH")
        for i in range(0, len(body), 65535):
            s.sendall(pk(b"B", body[i:i + 65535]))
            if not self.steps & NR_BODY:
                check(self.read()[0] == b"c", "BODY")
        s.sendall(pk(b"D", b"Ei\0QID1\0") + pk(b"E"))
        out = []
        while True:
            cmd, data = self.read()
            check(cmd is not None, f"connection closed at end of message after {out!r}")
            out.append((cmd, data))
            if cmd in (b"a", b"t", b"r", b"y", b"c"):
                return out

    def close(self):
        try:
            self.s.sendall(pk(b"Q"))
        except OSError:
            pass
        self.s.close()


def stat(path, name):
    try:
        for line in open(path):
            if line.startswith(name + " "):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def wait_for(cond, what):
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    check(False, what)


def test_max_connections():
    inst = Instance()
    proc = None
    try:
        sock = os.path.join(inst.tmp, "milter.sock")
        stats = os.path.join(inst.tmp, "milter.prom")
        log = os.path.join(inst.tmp, "milter.log")
        conf = os.path.join(inst.tmp, "milter.conf")
        with open(conf, "w") as f:
            f.write(f"[milter]\nlisten = unix:{sock}\ndefault_policy = tag\n"
                    f"max_connections = 2\nstats_file = {stats}\n"
                    f"max_message = 4096\noversize = reject\n")
        proc = subprocess.Popen([HOMING, "-c", conf, "milter"], stdout=subprocess.DEVNULL,
                                stderr=open(log, "w"))
        wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, "no socket")
        check(proc.poll() is None, f"milter exited: {open(log).read()}")

        a, b = MTA(sock), MTA(sock)
        check(a.version == 6, f"version {a.version}")
        check(a.actions & 0x33 == 0x33, f"actions {a.actions:#x}: add/change headers, body, "
              "quarantine")
        check(a.steps & NR_ALL == NR_ALL, f"no-reply steps on a unix socket: {a.steps:#x}")
        check(a.connect() == b"c", "first connection: CONTINUE")
        check(b.connect() == b"c", "second connection: CONTINUE")
        c = MTA(sock)
        check(c.connect() == b"a", "third connection past max_connections=2: ACCEPT (untouched)")
        wait_for(lambda: stat(stats, "homing_milter_overload_total") == 1,
                 f"overload counted: {open(stats).read() if os.path.exists(stats) else ''}")
        check("max_connections" in open(log).read(), "overload logged")

        # within the limit, a whole message is still filtered
        out = a.message()
        check(out[-1][0] == b"a", f"final ACCEPT: {out!r}")
        heads = [d for cmd, d in out if cmd == b"h"]
        check(any(d.startswith(b"X-Homing-Trackers\0") and b"Mailchimp" in d for d in heads),
              f"X-Homing-Trackers added: {heads!r}")
        # over milter.max_message with no reply to the body chunks: the
        # refusal comes at the end of the message, the connection goes on
        out = a.message(body=PIXEL * 200)
        check(out == [(b"y", b"552 5.3.4 message too large for the tracker filter\0")],
              f"oversize refused at the end: {out!r}")
        check(a.message()[-1][0] == b"a", "the next message on it is filtered")
        # a new SMTP session on the same milter connection keeps its slot
        a.s.sendall(pk(b"K"))
        check(a.connect() == b"c", "QUIT_NC then CONNECT: still counted")
        c.close()

        # a counted connection ends: its slot comes back
        b.close()
        got = []

        def slot_back():
            m = MTA(sock)
            r = m.connect()
            got.append(m)
            return r == b"c"
        wait_for(slot_back, "slot freed after a counted connection closed")
        d = got.pop()
        for m in got:
            m.close()
        check(d.message()[-1][0] == b"a", "the new connection filters")

        # protocol guards: each closes only its own connection
        for name, raw in (("over HOMING_MILTER_PACKET_MAX",
                           struct.pack(">I", PACKET_MAX + 1) + b"B" + b"x" * 4096),
                          ("zero length", b"\0\0\0\0"),
                          ("unknown command", pk(b"Z", b"x")),
                          ("header without its NUL", pk(b"L", b"Subject\0no end"))):
            e = MTA(sock)
            check(e.connect() == b"a", f"{name}: third connection, passed through")
            e.s.sendall(raw)
            check(e.closed(), f"{name}: connection closed")
            e.s.close()
        check(a.message()[-1][0] == b"a", "the milter still serves the others")
        check(proc.poll() is None, "milter still running")
        for m in (a, d):
            m.close()
        proc.terminate()
        check(proc.wait(30) == 0, "clean stop on SIGTERM")
        check(not os.path.exists(sock), "socket removed at stop")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        inst.close()


def test_tcp_round_trips():
    """Over TCP, a packet without a reply must not hold the next one: the MTA
    writes each packet as its own segment (Postfix: a macro packet, then its
    command) with Nagle's algorithm on, so unless the milter acknowledges at
    once, the second waits for its delayed ACK (40 ms on Linux). 30 messages
    of policy off, each its macros, MAIL, RCPT, a header and the end of data
    written one by one: the median message must take well under
    40 ms (it took 87-100 ms with libmilter, two delayed ACKs)."""
    inst = Instance()
    proc = None
    try:
        port = free_port()
        log = os.path.join(inst.tmp, "milter.log")
        conf = os.path.join(inst.tmp, "milter.conf")
        with open(conf, "w") as f:
            f.write(f"[milter]\nlisten = 127.0.0.1:{port}\ndefault_policy = off\n")
        proc = subprocess.Popen([HOMING, "-c", conf, "milter"], stdout=subprocess.DEVNULL,
                                stderr=open(log, "w"))

        def up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return proc.poll() is not None
        wait_for(up, "milter did not listen")
        check(proc.poll() is None, f"milter exited: {open(log).read()}")
        m = MTA(("127.0.0.1", port))
        check(m.connect() == b"c", "CONNECT")
        times = []
        for i in range(30):
            t0 = time.monotonic()
            for raw, reply in ((pk(b"D", b"Mi\0Q\0"), False),
                               (pk(b"M", b"<a@src.test>\0"), not m.steps & NR_MAIL),
                               (pk(b"D", b"Ri\0Q\0"), False),
                               (pk(b"R", b"<b@dest.test>\0"), not m.steps & NR_RCPT),
                               (pk(b"L", b"Subject\0x\0"), not m.steps & NR_HDR),
                               (pk(b"D", b"Ei\0Q\0"), False), (pk(b"E"), True)):
                m.s.sendall(raw)
                if reply:
                    cmd = m.read()[0]
                    check(cmd in (b"c", b"a"), f"reply {cmd!r}")
                    if cmd == b"a":
                        break  # policy off: accepted at the first chance
            times.append(time.monotonic() - t0)
        m.close()
        times.sort()
        median = times[len(times) // 2]
        check(median < 0.025, f"median message over TCP {median * 1000:.1f} ms "
              f"(delayed ACK?): {[round(t * 1000, 1) for t in times]}")
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        inst.close()


if __name__ == "__main__":
    r = Runner()
    r.run(test_max_connections)
    r.run(test_tcp_round_trips)
    r.finish()
