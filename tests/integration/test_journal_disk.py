"""The hit journal on a nearly full disk: its directory on a 4 MB tmpfs that
this test mounts (and unmounts, also on failure). A hit is journaled and
answered with far less than a 16 MB segment free; with truly no room left it
is answered 503 (never 200 unrecorded, never a crash), and the daemon's log
says so at most once a second with a count of the lines left out; once room
is made, hits are answered again, and every 200 is in the store."""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Failure, Instance, Runner, check, path_of  # noqa: E402

TMPFS_SIZE = "4m"
LEFT_FREE = 1 << 20      # what the first filler leaves: far less than a 16 MB segment
FULL_HITS_MAX = 20000    # bound on the hits that use up the reserved blocks
BURST_503 = 300          # 503s sent in a row for the log check


class Client:
    """One keep-alive connection; get() returns the status."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def get(self, path):
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nUser-Agent: disk-test\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise Failure("connection closed")
            self.buf += chunk
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        while len(rest) < length:
            rest += self.s.recv(65536)
        self.buf = rest[length:]
        return int(head.split(b" ", 2)[1])


def fill(path, leave):
    """Writes a file until at most `leave` bytes stay free (0: until ENOSPC)."""
    st = os.statvfs(os.path.dirname(path))
    todo = max(0, st.f_bavail * st.f_frsize - leave)
    block = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        try:
            while leave == 0 or todo > 0:
                n = f.write(block[:min(len(block), todo)] if leave else block)
                todo -= n
        except OSError:
            pass


inst = Instance({"serve.flood_rate": "0"})
mnt = os.path.join(inst.tmp, "disk")
os.mkdir(mnt)
mounted = False
T = Runner()
try:
    # mode 1777: the daemon, as serve.user, makes its journal directory there.
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=1777", "tmpfs", mnt],
                   check=True)
    mounted = True
    inst.set_config({"store.journal": os.path.join(mnt, "journal")})
    msg = inst.add_message(["bob@example.net"])
    pixel = path_of(msg["copies"][0]["open_url"])
    inst.serve()
    answered = 0

    def hits_journaled_with_little_free():
        global answered
        fill(os.path.join(mnt, "filler1"), LEFT_FREE)
        st = os.statvfs(mnt)
        free = st.f_bavail * st.f_frsize
        c = Client(inst.public_port)
        codes = [c.get(pixel) for _ in range(50)]
        answered += codes.count(200)
        print(f"     {free >> 10} KB free: {codes.count(200)} of 50 hits answered 200")
        check(codes == [200] * 50, f"statuses with {free} bytes free: {sorted(set(codes))}")

    def no_room_is_503_logged_once_a_second():
        global answered
        fill(os.path.join(mnt, "filler2"), 0)
        c = Client(inst.public_port)
        # The blocks reserved before the disk filled up take hits until they
        # run out; then every hit is refused.
        n200 = 0
        for _ in range(FULL_HITS_MAX):
            st = c.get(pixel)
            if st != 200:
                break
            n200 += 1
        check(st == 503, f"no 503 after {FULL_HITS_MAX} hits on a full disk (last {st})")
        answered += n200
        before = len(re.findall("cannot journal a hit", inst.daemon_log()))
        t0 = time.time()
        codes = [c.get(pixel) for _ in range(BURST_503)]
        elapsed = time.time() - t0
        check(codes == [503] * BURST_503, f"statuses on a full disk: {sorted(set(codes))}")
        time.sleep(1.1)
        check(c.get(pixel) == 503, "still full")
        lines = re.findall(r"cannot journal a hit[^\n]*", inst.daemon_log())
        new = len(lines) - before
        print(f"     full: {n200} more hits in reserved blocks, then {BURST_503 + 2} answered 503 in "
              f"{elapsed + 1.1:.1f}s; {new} log line(s), the last: {lines[-1]!r}")
        check(1 <= new <= int(elapsed + 1.1) + 2, f"{new} log lines for {BURST_503 + 2} failures")
        check(re.search(r"\((\d+) more like it not logged\)", lines[-1]), lines[-1])

    def room_again_answers_and_nothing_is_lost():
        global answered
        os.unlink(os.path.join(mnt, "filler1"))
        os.unlink(os.path.join(mnt, "filler2"))
        c = Client(inst.public_port)
        codes = [c.get(pixel) for _ in range(50)]
        check(codes == [200] * 50, f"statuses after room was made: {sorted(set(codes))}")
        answered += 50
        check(inst.stop() == 0, "clean stop")
        with inst.db() as db:
            stored = db.execute("SELECT count(*) FROM events WHERE kind='open'").fetchone()[0]
        print(f"     {answered} hits answered 200, {stored} in the store")
        check(stored == answered, f"{answered} answered, {stored} stored")

    T.run(hits_journaled_with_little_free)
    T.run(no_room_is_503_logged_once_a_second)
    T.run(room_again_answers_and_nothing_is_lost)
finally:
    if T.failed:
        print(inst.daemon_log()[-2000:])
    try:
        inst.stop()
    except Failure:
        pass
    if mounted:
        subprocess.run(["umount", "-l", mnt])
    inst.close()
T.finish()
