"""A tiny SMTP server for the delivery tests (Python's smtpd is gone from 3.12):
plays the remote mail server behind a real relay. Decides per recipient by its
local part: "gone..." gets 550 5.1.1, "slow..." 450 4.2.0, anything else 250.
Records each transaction's MAIL FROM and RCPT TO lines (with their DSN
parameters) and data, so tests can check what the relay passed on.

Loopback only; runs in a thread; stop() closes it.
"""
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        sink = self.server.sink
        self.reply("220 sink.test ESMTP ready")
        mail, rcpts = None, []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            verb = line[:4].upper()
            if verb == "EHLO":
                ext = ["sink.test", "8BITMIME", "SIZE 10240000"]
                if sink.dsn:
                    ext.append("DSN")
                for e in ext[:-1]:
                    self.reply("250-" + e)
                self.reply("250 " + ext[-1])
            elif verb == "HELO":
                self.reply("250 sink.test")
            elif verb == "MAIL":
                mail, rcpts = line, []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = line.split(":", 1)[1].strip().split(">", 1)[0].lstrip("<").lower()
                local = addr.split("@", 1)[0]
                if local.startswith("gone"):
                    self.reply(f"550 5.1.1 <{addr}>: Recipient address rejected: User unknown")
                elif local.startswith("slow"):
                    self.reply(f"450 4.2.0 <{addr}>: Recipient address rejected: Greylisted")
                else:
                    rcpts.append(line)
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554 5.5.1 No valid recipients")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while True:
                    d = self.rfile.readline(1 << 20)
                    if not d or d in (b".\r\n", b".\n"):
                        break
                    data.append(d[1:] if d.startswith(b"..") else d)
                with sink.lock:
                    sink.received.append({"mail": mail, "rcpts": list(rcpts),
                                          "data": b"".join(data)})
                self.reply("250 2.0.0 Ok: queued as SINK%d" % len(sink.received))
            elif verb == "RSET":
                mail, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Command not recognized")


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Sink:
    def __init__(self, dsn=True, host="127.0.0.1"):
        self.dsn = dsn
        self.received = []
        self.lock = threading.Lock()
        self.server = _Server((host, 0), _Handler)
        self.server.sink = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
