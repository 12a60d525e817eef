"""A tiny SMTP server for the delivery tests (Python's smtpd is gone from 3.12):
plays the remote mail server behind a real relay. Decides per recipient by its
local part: "gone..." gets 550 5.1.1, "slow..." 450 4.2.0, anything else 250.
With auth=(user, password) it offers AUTH PLAIN and refuses MAIL (530) until a
login succeeds. Records each transaction's MAIL FROM and RCPT TO lines (with their DSN
parameters) and data, so tests can check what the relay passed on.

Loopback only; runs in a thread; stop() closes it.
"""
import base64
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
        authed = sink.auth is None
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
                if sink.auth:
                    ext.append("AUTH PLAIN")
                for e in ext[:-1]:
                    self.reply("250-" + e)
                self.reply("250 " + ext[-1])
            elif verb == "HELO":
                self.reply("250 sink.test")
            elif verb == "AUTH":
                parts = line.split()
                if len(parts) < 2 or parts[1].upper() != "PLAIN" or not sink.auth:
                    self.reply("504 5.5.4 Unrecognized authentication type")
                    continue
                if len(parts) > 2:
                    blob = parts[2]
                else:
                    self.reply("334 ")
                    blob = self.rfile.readline(4096).decode("latin-1").strip()
                try:
                    _, user, pw = base64.b64decode(blob).decode().split("\0")
                except (ValueError, UnicodeDecodeError):
                    user = pw = None
                if (user, pw) == sink.auth:
                    authed = True
                    with sink.lock:
                        sink.logins.append(user)
                    self.reply("235 2.7.0 Authentication successful")
                else:
                    self.reply("535 5.7.8 Authentication credentials invalid")
            elif verb == "MAIL":
                if not authed:
                    self.reply("530 5.7.0 Authentication required")
                    continue
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
    def __init__(self, dsn=True, host="127.0.0.1", auth=None):
        self.dsn = dsn
        self.auth = auth  # (user, password): AUTH PLAIN required before MAIL
        self.logins = []
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
