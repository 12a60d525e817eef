"""systemd's notification protocol as the daemon speaks it (src/serve/sdnotify.c),
checked without systemd: the test binds a unix datagram socket, names it in
NOTIFY_SOCKET like systemd does for a Type=notify unit, and reads what arrives.

- READY=1 comes once both listeners answer (not before), then WATCHDOG=1 at
  about half of WATCHDOG_USEC for as long as the daemon runs, then STOPPING=1
  on SIGTERM;
- an abstract socket name ("@name") works as well as a path;
- WATCHDOG_PID naming another process means the watchdog is not ours: READY=1
  still comes, but no WATCHDOG=1;
- a malformed NOTIFY_SOCKET or WATCHDOG_USEC is refused with a warning and
  nothing is sent; without NOTIFY_SOCKET the daemon serves as before.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, http_get  # noqa: E402

WATCHDOG_USEC = 400000  # 0.4 s: a ping every 0.2 s


def bind(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    return s


def receive_all(sock, until, stop_when=None):
    """(time, message) pairs until the monotonic deadline (or stop_when)."""
    got = []
    while time.monotonic() < until:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        got.append((time.monotonic(), data.decode()))
        if stop_when and stop_when(got):
            break
    return got


def serve_with(inst, env):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return inst.serve()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def ready_watchdog_stopping(abstract):
    inst = Instance()
    sock = None
    try:
        if abstract:
            name = f"@homing-test-{os.getpid()}-{time.monotonic_ns()}"
            sock = bind("\0" + name[1:])
        else:
            name = os.path.join(inst.tmp, "notify.sock")
            sock = bind(name)
            os.chmod(inst.tmp, 0o777)
            os.chmod(name, 0o777)  # the daemon may have switched to its user
        start = time.monotonic()
        serve_with(inst, {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": str(WATCHDOG_USEC)})
        got = receive_all(sock, start + 20,
                          lambda g: sum("WATCHDOG=1" in m for _, m in g) >= 6)
        msgs = [m for _, m in got]
        check(msgs and msgs[0].split("\n")[0] == "READY=1", f"first message {msgs[:1]}")
        check("STATUS=serving" in msgs[0].split("\n"), msgs[0])
        dogs = [t for t, m in got if m == "WATCHDOG=1"]
        check(len(dogs) >= 6, f"{len(dogs)} WATCHDOG=1 in 20 s: {msgs}")
        gaps = [b - a for a, b in zip(dogs, dogs[1:])]
        # Half the interval, on a 100 ms watch tick: well inside the interval,
        # never a burst (a loaded machine may stretch a gap, hence the bound
        # at the full interval only for the median).
        gaps.sort()
        median = gaps[len(gaps) // 2]
        check(0.15 <= median <= WATCHDOG_USEC / 1e6, f"median ping gap {median:.3f} s: {gaps}")
        check(gaps[0] >= 0.1, f"pings closer than the watch tick: {gaps}")
        # The daemon still serves: READY meant it.
        st, _, _ = http_get(inst.public_port, "/healthz", timeout=5)
        check(st == 200, f"healthz {st}")
        inst.proc.send_signal(15)
        got = receive_all(sock, time.monotonic() + 20, lambda g: any(
            m == "STOPPING=1" for _, m in g))
        check(any(m == "STOPPING=1" for _, m in got), f"no STOPPING=1 after SIGTERM: {got}")
        check(inst.proc.wait(timeout=20) == 0, f"exit status {inst.proc.returncode}")
    finally:
        if sock:
            sock.close()
        inst.close()


def notify_path_socket():
    ready_watchdog_stopping(abstract=False)


def notify_abstract_socket():
    ready_watchdog_stopping(abstract=True)


def ready_comes_only_when_serving():
    """READY=1 arrives after both listeners are bound: the test checks the admin
    listener answers the moment READY=1 is read."""
    inst = Instance()
    sock = None
    try:
        name = os.path.join(inst.tmp, "notify.sock")
        sock = bind(name)
        os.chmod(inst.tmp, 0o777)
        os.chmod(name, 0o777)
        os.environ["NOTIFY_SOCKET"] = name
        try:
            from subprocess import Popen, STDOUT
            from homing_test import HOMING
            log = open(os.path.join(inst.tmp, "serve.log"), "w+")
            inst.log = log
            inst.proc = Popen([HOMING, "-c", inst.conf, "serve"], stdout=log, stderr=STDOUT)
        finally:
            os.environ.pop("NOTIFY_SOCKET", None)
        got = receive_all(sock, time.monotonic() + 20, lambda g: True)
        check(got and got[0][1].startswith("READY=1"), f"no READY=1: {got} {inst.daemon_log()}")
        st, _, _ = http_get(inst.public_port, "/healthz", timeout=5)
        st2, _, _ = http_get(inst.admin_port, "/healthz", timeout=5)
        check(st == 200 and st2 == 200, f"healthz {st} {st2} right after READY=1")
        got = receive_all(sock, time.monotonic() + 1.0)
        check(not any("WATCHDOG" in m for _, m in got), f"watchdog without WATCHDOG_USEC: {got}")
    finally:
        if sock:
            sock.close()
        inst.close()


def other_pids_watchdog_is_not_ours():
    inst = Instance()
    sock = None
    try:
        name = os.path.join(inst.tmp, "notify.sock")
        sock = bind(name)
        os.chmod(inst.tmp, 0o777)
        os.chmod(name, 0o777)
        serve_with(inst, {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": str(WATCHDOG_USEC),
                          "WATCHDOG_PID": "1"})
        got = receive_all(sock, time.monotonic() + 2.0)
        msgs = [m for _, m in got]
        check(msgs and msgs[0].startswith("READY=1"), msgs)
        check(not any("WATCHDOG" in m for m in msgs), f"pinged another pid's watchdog: {msgs}")
    finally:
        if sock:
            sock.close()
        inst.close()


def malformed_variables_refused():
    """A NOTIFY_SOCKET that is neither a path nor an abstract name is refused
    with a warning, and the daemon still serves."""
    inst = Instance()
    try:
        serve_with(inst, {"NOTIFY_SOCKET": "relative/path", "WATCHDOG_USEC": "abc"})
        st, _, _ = http_get(inst.public_port, "/healthz", timeout=5)
        check(st == 200, st)
        log = inst.daemon_log()
        check("not notifying systemd" in log, f"no warning in: {log}")
    finally:
        inst.close()


def no_socket_no_messages():
    inst = Instance()
    try:
        env = {k: v for k, v in os.environ.items()}
        check("NOTIFY_SOCKET" not in env, "the test itself runs without NOTIFY_SOCKET")
        inst.serve()
        st, _, _ = http_get(inst.public_port, "/healthz", timeout=5)
        check(st == 200, st)
        check("systemd" not in inst.daemon_log(), inst.daemon_log())
    finally:
        inst.close()


if __name__ == "__main__":
    os.environ.pop("NOTIFY_SOCKET", None)  # a test run under systemd itself
    T = Runner()
    T.run(notify_path_socket)
    T.run(notify_abstract_socket)
    T.run(ready_comes_only_when_serving)
    T.run(other_pids_watchdog_is_not_ours)
    T.run(malformed_variables_refused)
    T.run(no_socket_no_messages)
    T.finish()
