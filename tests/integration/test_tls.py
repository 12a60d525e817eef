"""TLS on the public listener (public.tls_cert / public.tls_key) and SIGHUP.

A self-signed certificate made here with `openssl req`; curl --http2 gets the
pixel over HTTP/2 (ALPN h2) and the hit is recorded; openssl s_client is
refused TLS 1.1 and accepted with TLS 1.2 and 1.3; a plaintext request gets no
answer. Reload: the certificate files are replaced and the daemon sent SIGHUP;
a new connection sees the new certificate while a keep-alive connection opened
before goes on working. The key file is rotated and SIGHUP makes tokens of the
new key verify. A certificate that does not match its key is refused at start
with one line, and on SIGHUP the old one stays in use."""
import hashlib
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import (Instance, Runner, check, http_get, https_get, path_of,  # noqa: E402
                         tls_client_context, HOMING)

GIF_LEN = 43


def make_cert(dirpath, name, cn):
    cert = os.path.join(dirpath, name + ".crt")
    key = os.path.join(dirpath, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def daemon_owns(*paths):
    """Started as root the daemon reads files again as serve.user (homing)."""
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam("homing")
    for p in paths:
        os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(p, 0o600)


def der_fingerprint(sock):
    return hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest()


def file_fingerprint(cert):
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], check=True,
                         capture_output=True, timeout=30).stdout
    return hashlib.sha256(der).hexdigest()


def s_client(port, *opts, brief=True):
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                        *(["-brief"] if brief else []), *opts], input="", capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def metric(inst, name):
    _, _, body = http_get(inst.admin_port, "/metrics")
    m = re.search(rb"^" + name.encode() + rb" (\d+)$", body, re.M)
    return int(m.group(1)) if m else None


def wait_reloads(inst, n, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if metric(inst, "homing_reloads_total") == n:
            return
        time.sleep(0.05)
    raise AssertionError(f"homing_reloads_total did not reach {n}: {inst.daemon_log()}")


T = Runner()
certdir = tempfile.mkdtemp(prefix="homing-tls-")
os.chmod(certdir, 0o755)
cert, key = make_cert(certdir, "live", "homing-test-one")
daemon_owns(cert, key)
inst = Instance({"public.tls_cert": cert, "public.tls_key": key, "serve.threads": "2",
                 "serve.flood_rate": "0"})  # reloads_under_load hits one URL from one client
try:
    inst.set_config({"public.base_url": f"https://127.0.0.1:{inst.public_port}"})
    msg = inst.add_message(["bob@example.net"], ["https://example.com/x"])
    bob = msg["copies"][0]
    check(bob["open_url"].startswith("https://"), bob["open_url"])
    inst.serve()
    port = inst.public_port

    def curl_http2_pixel_is_recorded():
        p = subprocess.run(["curl", "-sk", "--http2", "-o", "-", "-w", "\n%{http_version}",
                            f"https://127.0.0.1:{port}{path_of(bob['open_url'])}"],
                           capture_output=True, timeout=30)
        body, _, version = p.stdout.rpartition(b"\n")
        check(p.returncode == 0, p.stderr)
        check(version == b"2", f"HTTP version {version!r}")
        check(len(body) == GIF_LEN and body.startswith(b"GIF89a"), body)
        check(inst.event_count(msg["id"]) == 1, "the hit over HTTP/2 is recorded")

    def curl_http11_click_redirects():
        p = subprocess.run(["curl", "-sk", "--http1.1", "-o", "/dev/null", "-w",
                            "%{http_code} %{http_version} %{redirect_url}",
                            f"https://127.0.0.1:{port}{path_of(bob['links'][0]['click_url'])}"],
                           capture_output=True, text=True, timeout=30)
        check(p.stdout == "302 1.1 https://example.com/x", p.stdout)

    def tls11_refused_12_13_accepted_h2_by_alpn():
        # SECLEVEL=0 lets OpenSSL 3's client offer TLS 1.1 at all: the refusal
        # must be the server's.
        rc, out = s_client(port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        check(rc != 0, f"TLS 1.1 accepted: {out}")
        check("no protocols available" not in out, f"the client did not offer TLS 1.1: {out}")
        check("Protocol version: TLSv1.1" not in out and "CONNECTION ESTABLISHED" not in out, out)
        rc, out = s_client(port, "-tls1_2")
        check(rc == 0 and "Protocol version: TLSv1.2" in out, out)
        check(re.search(r"Ciphersuite: ECDHE-\w+-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)", out), out)
        rc, out = s_client(port, "-tls1_3")
        check(rc == 0 and "Protocol version: TLSv1.3" in out, out)
        rc, out = s_client(port, "-tls1_3", "-alpn", "h2,http/1.1", brief=False)
        check(rc == 0 and "ALPN protocol: h2" in out, out)
        rc, out = s_client(port, "-tls1_2", "-alpn", "http/1.1", brief=False)
        check(rc == 0 and "ALPN protocol: http/1.1" in out, out)

    def framing_check_http1_only():
        # HTTP/2 frames its body itself: a POST with a body reaches the route
        # (405), not the HTTP/1 head check, whose input would be h2 frames.
        p = subprocess.run(["curl", "-sk", "--http2", "-X", "POST", "--data", "a=b", "-o",
                            "/dev/null", "-w", "%{http_version} %{http_code}",
                            f"https://127.0.0.1:{port}/healthz"],
                           capture_output=True, text=True, timeout=30)
        check(p.stdout == "2 405", p.stdout)
        # HTTP/1.1 inside TLS: the head check still sees the decrypted head.
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with tls_client_context().wrap_socket(raw) as s:
            s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            data = s.recv(200)
        check(data.startswith(b"HTTP/1.1 400"), data)

    def plaintext_gets_no_answer():
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                data = s.recv(100)
            except (ConnectionResetError, socket.timeout):
                data = b""
        check(not data.startswith(b"HTTP/1.1 200"), data)

    def sighup_new_certificate_old_connection_kept():
        old_fp = file_fingerprint(cert)
        kept = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                           context=tls_client_context())
        kept.request("GET", "/healthz")
        r = kept.getresponse()
        r.read()
        check(r.status == 200, r.status)
        check(der_fingerprint(kept.sock) == old_fp, "first connection has the first cert")
        # Replace the files in place, as certbot or lego do through a hook.
        newcert, newkey = make_cert(certdir, "next", "homing-test-two")
        os.replace(newcert, cert)
        os.replace(newkey, key)
        daemon_owns(cert, key)
        new_fp = file_fingerprint(cert)
        check(new_fp != old_fp, "a different certificate")
        inst.proc.send_signal(signal.SIGHUP)
        wait_reloads(inst, 1)
        fresh = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                            context=tls_client_context())
        fresh.request("GET", "/healthz")
        r = fresh.getresponse()
        r.read()
        check(r.status == 200 and der_fingerprint(fresh.sock) == new_fp,
              "a new connection sees the new certificate")
        fresh.close()
        # The keep-alive connection from before: same socket, still served.
        sock_before = kept.sock
        for _ in range(3):
            kept.request("GET", path_of(bob["open_url"]))
            r = kept.getresponse()
            body = r.read()
            check(r.status == 200 and len(body) == GIF_LEN, (r.status, body))
        check(kept.sock is sock_before and der_fingerprint(kept.sock) == old_fp,
              "the old connection kept its socket and certificate")
        kept.close()
        check(inst.proc.poll() is None, "daemon still running")

    def sighup_reloads_token_keys():
        inst.run("token-keys", "rotate")
        daemon_owns(os.path.join(inst.dir, "token.keys"))
        m2 = inst.add_message(["dave@example.net"], subject="after rotate")
        url = path_of(m2["copies"][0]["open_url"])
        invalid0 = metric(inst, 'homing_invalid_tokens_total{kind="open"}')

        def curl_pixel():
            subprocess.run(["curl", "-sk", "-o", "/dev/null", f"https://127.0.0.1:{port}{url}"],
                           check=True, timeout=30)
        curl_pixel()  # signed by a key the daemon has not loaded yet
        check(metric(inst, 'homing_invalid_tokens_total{kind="open"}') == invalid0 + 1,
              "a token of the new key is invalid before the reload")
        check(inst.event_count(m2["id"]) == 0, "not recorded before the reload")
        inst.proc.send_signal(signal.SIGHUP)
        wait_reloads(inst, 2)
        curl_pixel()
        check(inst.event_count(m2["id"]) == 1, "recorded after the reload")
        # Tokens of the old key still verify (it is still in the file).
        curl_old = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                                   f"https://127.0.0.1:{port}{path_of(bob['open_url'])}"],
                                  capture_output=True, text=True, timeout=30)
        check(curl_old.stdout == "200", curl_old.stdout)

    def bad_reload_keeps_certificate():
        before = file_fingerprint(cert)
        other_cert, other_key = make_cert(certdir, "other", "homing-test-three")
        os.replace(other_key, key)  # key of another certificate: must not load
        daemon_owns(key)
        inst.proc.send_signal(signal.SIGHUP)
        wait_reloads(inst, 3)
        check("does not match" in inst.daemon_log(), inst.daemon_log())
        rc, out = s_client(port, "-tls1_3")
        check(rc == 0, out)
        p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}"],
                           input="", capture_output=True, text=True, timeout=30)
        der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=p.stdout.encode(),
                             capture_output=True, timeout=30).stdout
        check(hashlib.sha256(der).hexdigest() == before, "the certificate in use is kept")

    def reloads_under_load():
        # New TLS connections and pixel hits on both loop threads while the
        # daemon reloads again and again: every request answered, every hit
        # recorded (the TSan build runs this too).
        import threading
        goodcert, goodkey = make_cert(certdir, "again", "homing-test-four")
        os.replace(goodcert, cert)
        os.replace(goodkey, key)
        daemon_owns(cert, key)
        n0 = inst.event_count(msg["id"])
        r0 = metric(inst, "homing_reloads_total")
        results = []

        def client():
            for _ in range(60):
                c = http.client.HTTPSConnection("127.0.0.1", port, timeout=20,
                                                context=tls_client_context())
                c.request("GET", path_of(bob["open_url"]))
                r = c.getresponse()
                results.append((r.status, len(r.read())))
                c.close()
        threads = [threading.Thread(target=client) for _ in range(3)]
        for th in threads:
            th.start()
        for i in range(8):  # one at a time: signals sent while one is pending merge
            inst.proc.send_signal(signal.SIGHUP)
            wait_reloads(inst, r0 + i + 1)
        for th in threads:
            th.join()
        check(inst.daemon_log().count("keeping the certificate in use") == 1,
              "only the deliberately bad reload failed")
        check(results == [(200, GIF_LEN)] * 180, set(results))
        check(inst.event_count(msg["id"]) == n0 + 180, "every hit recorded")

    def silent_client_across_reloads():
        # Clients that connect, then say nothing until after a reload: h2o
        # creates the SSL object from the loop's context only at the first
        # bytes, so the context must outlive the switch (tls.c's grace). New
        # connections between the reload and the first bytes make both loops
        # switch; before the grace this was a use-after-free (ASan) or a crash.
        r0 = metric(inst, "homing_reloads_total")
        silent = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(8)]
        # (within h2o's 10 s handshake timeout, which closes a silent client)
        inst.proc.send_signal(signal.SIGHUP)
        wait_reloads(inst, r0 + 1)
        for _ in range(8):  # accepted by both loop threads
            st, _, _ = https_get(port, "/healthz")
            check(st == 200, st)
        for raw in silent:
            with tls_client_context().wrap_socket(raw) as tls:
                tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := tls.recv(4096):
                    data += chunk
            check(data.startswith(b"HTTP/1.1 200"), data[:60])
        check(inst.proc.poll() is None, "daemon still running")

    def mismatched_key_refused_at_start():
        p = subprocess.run([HOMING, "-c", inst.conf, "serve", "--listen",
                            "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 2, p.returncode)
        lines = p.stderr.strip().splitlines()
        check(len(lines) == 1 and "does not match public.tls_cert" in lines[0],
              p.stderr)

    T.run(curl_http2_pixel_is_recorded)
    T.run(curl_http11_click_redirects)
    T.run(tls11_refused_12_13_accepted_h2_by_alpn)
    T.run(framing_check_http1_only)
    T.run(plaintext_gets_no_answer)
    T.run(sighup_new_certificate_old_connection_kept)
    T.run(sighup_reloads_token_keys)
    T.run(bad_reload_keeps_certificate)
    T.run(mismatched_key_refused_at_start)
    T.run(reloads_under_load)
    T.run(silent_client_across_reloads)
    rc = inst.stop()
    T.run(lambda: check(rc == 0, f"SIGTERM exit {rc}"))
finally:
    inst.close()
    shutil.rmtree(certdir, ignore_errors=True)
T.finish()
