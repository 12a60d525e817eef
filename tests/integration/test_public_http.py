"""The public listener's guards against hostile HTTP, driven with raw sockets:
bodies over PUBLIC_BODY_MAX refused early (413 and close), conflicting message
framing refused (400 and close, nothing after it read), connection caps per
client address and in total, and no busy loop when the process runs out of
file descriptors (accepting pauses, and resumes once they are free)."""
import os
import re
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, http_get  # noqa: E402

BODY_MAX = 8192  # PUBLIC_BODY_MAX in src/serve/serve.h


def exchange(port, data, source=None, wait=5.0):
    """Sends data on a new connection and reads until the server closes it or
    `wait` seconds pass. Returns (bytes read, closed by the server, seconds)."""
    s = socket.socket()
    if source:
        s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    t0 = time.time()
    out, closed = b"", False
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused while sending: what was answered is still to be read
    s.settimeout(0.2)
    while time.time() - t0 < wait:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            closed = True
            break
        if not d:
            closed = True
            break
        out += d
    s.close()
    return out, closed, time.time() - t0


def statuses(raw):
    return [int(m) for m in re.findall(rb"^HTTP/1\.1 (\d{3}) ", raw, re.M)]


def metric(inst, name, required=True):
    _, _, body = http_get(inst.admin_port, "/metrics")
    m = re.search(rb"^" + re.escape(name.encode()) + rb" (\d+)$", body, re.M)
    check(m or not required, f"/metrics has no {name}")
    return int(m.group(1)) if m else None


def wait_open(inst, n, timeout=10):
    if metric(inst, "homing_connections_open", required=False) is None:
        time.sleep(0.3)  # a daemon without the gauge: let the test judge the behaviour
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        if metric(inst, "homing_connections_open") == n:
            return
        time.sleep(0.02)
    raise AssertionError(f"homing_connections_open never reached {n}: "
                         f"{metric(inst, 'homing_connections_open')}")


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def spool_files(pid):
    """Files h2o spools large buffers to (created, then unlinked, in TMPDIR)."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if "h2o.b." in target:
            out.append(target)
    return out


def refused_early(inst, request, want):
    raw, closed, secs = exchange(inst.public_port, request)
    check(statuses(raw) == [want], f"want one {want} answer, got {raw[:200]!r}")
    check(closed, "the connection stayed open after the refusal")
    check(secs < 4, f"the refusal took {secs:.1f} s")
    return raw


# --- bodies -------------------------------------------------------------------

def test_huge_declared_body_refused_before_reading(inst):
    pid = inst.proc.pid
    before = rss_kb(pid)
    head = (b"POST /o/x.gif HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000\r\n\r\n")
    # a little of the body: the answer must not wait for the rest
    refused_early(inst, head + b"x" * 4096, 413)
    check(not spool_files(pid), f"h2o spooled a body to disk: {spool_files(pid)}")
    # two at once, as in the report (each stops at the head)
    socks = []
    for _ in range(2):
        s = socket.create_connection(("127.0.0.1", inst.public_port), timeout=5)
        s.sendall(head + b"y" * 4096)
        socks.append(s)
    for s in socks:
        data = b""
        deadline = time.time() + 5
        while b"\r\n\r\n" not in data and time.time() < deadline:
            try:
                d = s.recv(4096)
            except ConnectionResetError:
                break
            if not d:
                break
            data += d
        check(statuses(data) == [413], f"want 413, got {data[:120]!r}")
        s.close()
    check(not spool_files(pid), "h2o spooled a body to disk")
    check(rss_kb(pid) - before < 20000,
          f"RSS grew by {rss_kb(pid) - before} kB for refused bodies")


# Only the start of each body is sent: the declared length alone must be
# refused (and bytes left unread at the close would make it a reset).
def test_body_over_limit_on_get(inst):
    refused_early(inst, b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                  % (BODY_MAX + 1) + b"a" * 100, 413)


def test_body_over_limit_on_post(inst):
    refused_early(inst, b"POST /o/x.gif HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
                  % (BODY_MAX + 1) + b"a" * 100, 413)


def test_chunked_body_without_length_bounded(inst):
    chunk = b"1000\r\n" + b"c" * 0x1000 + b"\r\n"
    # 8 KiB in two chunks and no terminating chunk: the refusal comes when the
    # decoded body reaches the limit, not at its end (which never comes)
    refused_early(inst, b"POST /c/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + chunk * (BODY_MAX // 0x1000), 413)


def test_small_body_still_reaches_the_route(inst):
    raw, closed, _ = exchange(inst.public_port,
                              b"POST /o/x.gif HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"
                              + b"b" * 100 + b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
                              b"Connection: close\r\n\r\n")
    check(statuses(raw) == [405, 200], f"want 405 then 200, got {raw[:300]!r}")


# --- framing (RFC 9112 section 6.3) ----------------------------------------------

SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"


def framing_refused(inst, head, body):
    before = metric(inst, "homing_bad_framing_total", required=False)
    raw = refused_early(inst, head + b"\r\n" + body + SMUGGLED, 400)
    check(b"200 OK" not in raw, "the request after the bad one was answered")
    check(metric(inst, "homing_bad_framing_total") == (before or 0) + 1,
          "homing_bad_framing_total did not count the refusal")


def test_duplicate_content_length_same_value(inst):
    framing_refused(inst, b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                    b"Content-Length: 5\r\n", b"hello")


def test_duplicate_content_length_differing(inst):
    # h2o would frame by the first (0): the second request would run
    framing_refused(inst, b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
                    b"content-length: 34\r\n", b"")


def test_content_length_and_transfer_encoding(inst):
    framing_refused(inst, b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                    b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n")


def test_transfer_encoding_chunked_then_content_length(inst):
    framing_refused(inst, b"POST /o/x.gif HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                    b"Content-Length: 40\r\n", b"0\r\n\r\n")


def test_duplicate_transfer_encoding(inst):
    framing_refused(inst, b"GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                    b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n")


def test_obsolete_line_folding(inst):
    raw = refused_early(inst, b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n"
                        b" Content-Length: 5\r\n\r\nhello" + SMUGGLED, 400)
    check(b"200 OK" not in raw, "the folded request was answered")


def test_shapes_h2o_refuses_itself(inst):
    # h2o 2.2 already refuses these; kept so that stays true
    for head in (b"Content-Length: 5, 5\r\n", b"Content-Length : 5\r\n",
                 b"Transfer-Encoding: gzip, chunked\r\n", b"Content-Length: -1\r\n"):
        raw = refused_early(inst, b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + head + b"\r\nhello"
                            + SMUGGLED, 400)
        check(b"200 OK" not in raw, f"answered after {head!r}")


def test_single_framing_still_works(inst):
    raw, _, _ = exchange(inst.public_port,
                         b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                         b"GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n0\r\n\r\n"
                         b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    check(statuses(raw) == [200, 200, 200], f"want three 200s, got {raw[:400]!r}")


# --- connection caps ------------------------------------------------------------

def keepalive(port, source):
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while b"\r\n\r\nok\n" not in data:
        d = s.recv(4096)
        check(d, "closed before answering")
        data += d
    check(statuses(data) == [200], f"want 200, got {data!r}")
    return s


def refused_at_accept(port, source):
    raw, closed, _ = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", source=source)
    check(closed, "an over-cap connection was kept open")
    check(statuses(raw) in ([], [503]), f"an over-cap connection was answered: {raw[:100]!r}")


def test_connection_caps(inst):
    port = inst.public_port
    wait_open(inst, 0)
    held = [keepalive(port, "127.0.0.1") for _ in range(4)]
    wait_open(inst, 4)
    refused_at_accept(port, "127.0.0.1")
    check(metric(inst, 'homing_connections_max{scope="per_client"}') == 4, "cap not exposed")
    check(metric(inst, 'homing_connections_max{scope="total"}') == 6, "cap not exposed")
    check(metric(inst, 'homing_connections_refused_total{reason="per_client"}') == 1,
          "per-client refusal not counted")
    # another address is still served, up to the total of 6
    held.append(keepalive(port, "127.0.0.2"))
    held.append(keepalive(port, "127.0.0.3"))
    wait_open(inst, 6)
    refused_at_accept(port, "127.0.0.4")
    check(metric(inst, 'homing_connections_refused_total{reason="total"}') == 1,
          "total refusal not counted")
    check(metric(inst, 'homing_connections_refused_total{reason="per_client"}') == 1,
          "a total refusal was counted per client")
    for s in held:
        s.close()
    wait_open(inst, 0)
    # the counters come back down: the full per-client allowance again
    held = [keepalive(port, "127.0.0.1") for _ in range(4)]
    for s in held:
        s.close()
    wait_open(inst, 0)


# --- out of file descriptors -------------------------------------------------------

def loop_demand_s(pid):
    """Seconds the daemon's event-loop threads ran or waited to run (schedstat),
    which a busy loop fills whatever the machine's load."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            if open(f"/proc/{pid}/task/{tid}/comm").read().strip() != "homing-loop":
                continue
            run_ns, wait_ns = open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[:2]
        except OSError:
            continue
        total += int(run_ns) + int(wait_ns)
    return total / 1e9


def test_fd_limit_pauses_accepting():
    nofile = 64  # the daemon holds about 31 descriptors idle

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    inst = Instance({"public.max_connections": "0", "public.max_connections_per_client": "0"})
    try:
        inst.serve(preexec_fn=low_limit)
        pid = inst.proc.pid
        clients = []
        for _ in range(nofile):
            s = socket.create_connection(("127.0.0.1", inst.public_port), timeout=5)
            clients.append(s)
        # the daemon accepts until it has no descriptor left
        deadline = time.time() + 10
        while time.time() < deadline and len(os.listdir(f"/proc/{pid}/fd")) < nofile - 1:
            time.sleep(0.05)
        check(len(os.listdir(f"/proc/{pid}/fd")) >= nofile - 1, "never reached the fd limit")
        time.sleep(0.3)
        d0, t0 = loop_demand_s(pid), time.time()
        time.sleep(1.0)
        demand = (loop_demand_s(pid) - d0) / (time.time() - t0)
        print(f"     loop threads at the fd limit: {demand:.0%} of a CPU asked for")
        check(demand < 0.5, f"the loops asked for {demand:.0%} of a CPU at the fd limit (a spin)")
        for s in clients:
            s.close()
        deadline = time.time() + 15
        ok = False
        while time.time() < deadline and not ok:
            try:
                ok = http_get(inst.public_port, "/healthz", timeout=1)[0] == 200
            except OSError:
                time.sleep(0.1)
        check(ok, "not serving again after the connections closed")
        check(metric(inst, "homing_accept_fd_limit_total") > 0, "the pauses were not counted")
        check("not accepting" in inst.daemon_log(), "the fd limit was not logged")
        stops_cleanly(inst)
    finally:
        inst.close()


def stops_cleanly(inst):
    rc = inst.stop()
    check(rc == 0, f"the daemon exited {rc}: {inst.daemon_log()[-2000:]}")


def main():
    r = Runner()
    inst = Instance()
    try:
        inst.serve()
        for t in (test_huge_declared_body_refused_before_reading, test_body_over_limit_on_get,
                  test_body_over_limit_on_post, test_chunked_body_without_length_bounded,
                  test_small_body_still_reaches_the_route,
                  test_duplicate_content_length_same_value,
                  test_duplicate_content_length_differing,
                  test_content_length_and_transfer_encoding,
                  test_transfer_encoding_chunked_then_content_length,
                  test_duplicate_transfer_encoding, test_obsolete_line_folding,
                  test_shapes_h2o_refuses_itself, test_single_framing_still_works):
            r.run(t, inst)
        r.run(stops_cleanly, inst)
    finally:
        inst.close()
    caps = Instance({"public.max_connections": "6", "public.max_connections_per_client": "4"})
    try:
        caps.serve()
        r.run(test_connection_caps, caps)
        r.run(stops_cleanly, caps)
    finally:
        caps.close()
    r.run(test_fd_limit_pauses_accepting)
    r.finish()


if __name__ == "__main__":
    main()
