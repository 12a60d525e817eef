"""The daemon's background threads under a flood of hits (src/common/thread.h).

While wrk keeps the loop thread busy, /metrics says homing_background_idle 1
and the background threads (storing, enrichment, notifications, checkpoints)
are in the kernel's SCHED_IDLE class; the admin API still registers messages,
since a writer that waits for the store's lock raises the background threads.
Once the flood is over they are back at nice +10, /metrics says 0, and every
answered hit is in the store. The test harness runs as root, which may bring
an idle-class thread back (RLIMIT_NICE): the daemon then uses SCHED_IDLE."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Instance, Runner, check, http_get, http_request, path_of  # noqa: E402

FLOOD_SECONDS = 5
# The checkpoint thread runs only on a store with WAL checkpoints (SQLite's
# HOMING_STORE_CAP_CHECKPOINT), not on PostgreSQL.
BACKGROUND = ("homing-enrich", "homing-notify") + (
    () if os.environ.get("HOMING_TEST_STORE_POSTGRESQL") else ("homing-ckpt",))


def metric(inst, name):
    _, _, body = http_get(inst.admin_port, "/metrics")
    m = re.search(rb"^" + name.encode() + rb" (\d+)$", body, re.M)
    check(m, f"/metrics has no {name}")
    return int(m.group(1))


def threads(pid):
    """{name: [(policy, nice)]} for the daemon's threads, from the kernel."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            sched = (os.sched_getscheduler(int(tid)), os.getpriority(os.PRIO_PROCESS, int(tid)))
        except OSError:
            continue  # the thread ended meanwhile
        out.setdefault(name, []).append(sched)
    return out


def wait_for(what, cond, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    check(False, f"{what} within {timeout} s")


T = Runner()
inst = Instance({"serve.flood_rate": "0"})
try:
    msg = inst.add_message(["bob@example.net"], ["https://example.com/"])
    key = inst.api_key("flood", scope="write")
    inst.serve()
    pid = inst.proc.pid
    url = f"http://127.0.0.1:{inst.public_port}{path_of(msg['copies'][0]['open_url'])}"

    def background_threads_yield_to_a_flood_and_come_back():
        check(metric(inst, "homing_background_idle") == 0, "idle mode before any hit")
        # A writer of the daemon that waited for the store's lock (at start-up
        # the threads all take it) raises them to nice 0 until the watch's next
        # tick, 100 ms later: wait for nice +10 rather than read it once.
        wait_for(f"{', '.join(BACKGROUND)} at nice +10 before the flood ({threads(pid)})",
                 lambda: all(threads(pid).get(n) == [(os.SCHED_OTHER, 10)] for n in BACKGROUND), 2)
        wrk = subprocess.Popen(["wrk", "-t1", "-c50", f"-d{FLOOD_SECONDS}s", url],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for("homing_background_idle 1 under wrk",
                     lambda: metric(inst, "homing_background_idle") == 1, FLOOD_SECONDS - 1)
            # A writer that waited for the lock (the ingester, once its backlog
            # is large) raises them until the watch's next tick: poll a little.
            def all_idle():
                during = threads(pid)
                return all(name in during and all(p == os.SCHED_IDLE for p, _ in during[name])
                           for name in BACKGROUND)
            wait_for(f"{', '.join(BACKGROUND)} in SCHED_IDLE during the flood ({threads(pid)})",
                     all_idle, 2)
            loop = threads(pid)["homing-loop"][0]
            check(loop == (os.SCHED_OTHER, 0), f"loop thread during the flood: {loop}")
            # The admin API writes while the background threads hold the store's
            # lock in turns: each registration must get through, well within
            # the store's 5 s wait for the lock.
            auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            for i in range(5):
                body = json.dumps({"subject": f"during the flood {i}", "from": "a@example.org",
                                   "recipients": [f"r{i}@example.net"]})
                t0 = time.time()
                st, _, data = http_request(inst.admin_port, "POST", "/api/v1/messages",
                                           headers=auth, body=body)
                took = time.time() - t0
                check(st == 201, (st, data))
                check(took < 3, f"registration {i} took {took:.1f} s during the flood")
            raises = metric(inst, "homing_background_raises_total")
            print(f"     {raises} raise(s) of the background threads by a waiting writer")
        finally:
            out, _ = wrk.communicate(timeout=FLOOD_SECONDS + 30)
        answered = int(re.search(r"(\d+) requests in", out).group(1))
        check(answered > 1000, f"wrk answered only {answered}: {out}")
        wait_for("homing_background_idle 0 after the flood",
                 lambda: metric(inst, "homing_background_idle") == 0, 5)
        wait_for(f"{', '.join(BACKGROUND)} back at nice +10 after the flood ({threads(pid)})",
                 lambda: all(threads(pid).get(n) == [(os.SCHED_OTHER, 10)] for n in BACKGROUND), 2)
        stored = inst.event_count(msg["id"])
        print(f"     wrk: {answered} answered hits; {stored} stored")
        check(stored >= answered, f"{answered} answered, {stored} stored")

    T.run(background_threads_yield_to_a_flood_and_come_back)
finally:
    if T.failed:
        print(inst.daemon_log()[-2000:])
    inst.close()
T.finish()
