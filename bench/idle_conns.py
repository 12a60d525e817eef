"""Opens N keep-alive connections to a server, sends one request on each and
reads its answer, then holds them idle and prints the server's resident memory
(VmRSS of the given pid, plus its children for nginx's worker)."""
import os
import resource
import socket
import sys
import time

port, path, pid, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))


def rss_kb(p):
    total = 0
    pids = [p]
    try:
        for line in open(f"/proc/{p}/task/{p}/children").read().split():
            pids.append(int(line))
    except OSError:
        pass
    for q in pids:
        for line in open(f"/proc/{q}/status"):
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


before = rss_kb(pid)
socks = []
req = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
deadline = time.time() + 120
for i in range(n):
    if time.time() > deadline:
        break
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    socks.append(s)
time.sleep(1)
after = rss_kb(pid)
print(f"{len(socks)} {before} {after}")
for s in socks:
    s.close()
