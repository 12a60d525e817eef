"""README.md's Quick start and tour, run as a reader would, from outside the
clone.

The daemon is started with the Quick start's `make run` (its VAR made
beforehand with `homing init`, on free loopback ports instead of 8080/8081).
Then every command of the tour's code block runs, in order, in one bash
environment whose working directory starts outside the tree (the tour's own
`cd "$(mktemp -d)"` takes it to a fresh one). The only edits to the commands:
`export HOMING_SRC=...` names this tree, `export HOMING_CONFIG=...` the test's
configuration, 127.0.0.1:8080/8081 become the free ports, and the
placeholders <message id>, <bob's token> and <bob's click token> are filled
from what `homing message add` printed, as a reader would copy them.
`homing events --follow` runs for a few seconds. Each command's result is
checked, and the tree holds no new file afterwards (the tour writes only in
its temporary directory).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import HOMING, Instance, Runner, check, free_port, http_get  # noqa: E402

SRC = os.path.abspath(os.environ.get("HOMING_SRC", os.getcwd()))
T = Runner()


def readme_block(heading):
    """The first indented code block under '## heading', continuation lines joined."""
    text = open(os.path.join(SRC, "README.md")).read()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines, block, started = [], [], False
    for line in section.splitlines():
        if line.startswith("    "):
            block.append(line[4:])
            started = True
        elif started and line.strip():
            break
        elif started:
            block.append("")
    pending = ""
    for line in block:
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        line = pending + line.strip()
        pending = ""
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def git_status():
    return subprocess.run(["git", "-C", SRC, "status", "--porcelain", "--untracked-files=all"],
                          capture_output=True, text=True).stdout


def tour():
    quick = readme_block("Quick start")
    check([line.split("#")[0].strip() for line in quick] == ["make run", "make test"], quick)
    commands = readme_block("A short tour")
    check(len(commands) >= 15, f"tour: {commands}")
    before = git_status()

    values = {}
    inst = Instance()  # homing init in a temp dir outside the tree, free ports
    outside = tempfile.mkdtemp(prefix="homing-readme-")
    make = None
    try:
        pub, adm = inst.public_port, inst.admin_port
        # Quick start: make run, with the prepared VAR (it initialises only
        # a VAR without homing.conf) and this build's binary. Its setup step
        # finds the geo data where `make test`'s setup put it (./var), so it
        # downloads nothing.
        for d in ("npm", "geo"):
            check(os.path.isdir(os.path.join(SRC, "var", d)), f"no var/{d}: run scripts/setup.sh")
            os.symlink(os.path.join(SRC, "var", d), os.path.join(inst.dir, d))
        make = subprocess.Popen(["make", "-C", SRC, "run", f"VAR={inst.dir}",
                                 f"HOMING={os.path.abspath(HOMING)}"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        deadline = time.time() + 300  # make run's setup and build steps come first
        while time.time() < deadline:
            if make.poll() is not None:
                raise AssertionError(f"make run exited {make.returncode}: {make.stdout.read()}")
            try:
                if http_get(adm, "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("make run did not serve within 300 s")

        env = {k: v for k, v in os.environ.items() if k not in ("HOMING_CONFIG", "HOMING_BIN")}
        cwd = outside
        state = os.path.join(outside, ".state")
        ran = []
        for cmd in commands:
            if cmd.startswith("export HOMING_SRC="):
                cmd = f"export HOMING_SRC={SRC}"
            elif cmd.startswith("export HOMING_CONFIG="):
                cmd = f"export HOMING_CONFIG={inst.conf}"
            cmd = cmd.replace("127.0.0.1:8080", f"127.0.0.1:{pub}")
            cmd = cmd.replace("127.0.0.1:8081", f"127.0.0.1:{adm}")
            for placeholder, value in values.items():
                if placeholder.startswith("<"):
                    cmd = cmd.replace(placeholder, value)
            check("<" not in cmd.replace("< ", "").replace("2>", ""),
                  f"unfilled placeholder in: {cmd}")
            follow = "--follow" in cmd
            script = (f"set -a\n{cmd}\nrc=$?\nenv -0 > {state}.env\npwd > {state}.cwd\nexit $rc\n")
            p = subprocess.Popen(["bash", "-c", script], cwd=cwd, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 start_new_session=True)
            try:
                stdout, stderr = p.communicate(timeout=3 if follow else 120)
            except subprocess.TimeoutExpired:
                check(follow, f"'{cmd}' did not finish")
                os.killpg(p.pid, signal.SIGINT)
                stdout, stderr = p.communicate(timeout=30)
            ran.append(cmd)
            if not follow:
                env = dict(kv.split("=", 1) for kv in
                           open(f"{state}.env").read().split("\0") if "=" in kv)
                cwd = open(f"{state}.cwd").read().strip()
            expect_rc = 1 if cmd.startswith("homing scan") else 0
            if not follow:
                check(p.returncode == expect_rc,
                      f"'{cmd}' exited {p.returncode} (want {expect_rc}): {stderr}")
            check_output(cmd, stdout, values, cwd, outside)
        check(not cwd.startswith(SRC + "/") and cwd != SRC, f"the tour ran in the tree: {cwd}")
        check(any(c.startswith("homing trace") for c in ran) and
              any(c.startswith("homing bounce") for c in ran), "the tour was cut short")
    finally:
        if make and make.poll() is None:
            os.killpg(make.pid, signal.SIGTERM)
            try:
                make.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(make.pid, signal.SIGKILL)
                make.wait()
        inst.close()
        shutil.rmtree(outside, ignore_errors=True)
        if values.get("_tourdir", "").startswith(tempfile.gettempdir() + "/"):
            shutil.rmtree(values["_tourdir"], ignore_errors=True)
    after = git_status()
    check(after == before, f"the tour changed the tree:\n{after}")


def check_output(cmd, out, values, cwd, outside):
    """What each tour command must show, and the values later ones need."""
    if cmd.startswith("cd "):
        check(os.path.isdir(cwd) and cwd != outside and not cwd.startswith(SRC + "/"),
              f"cd went to {cwd}")
        values["_tourdir"] = cwd
    elif cmd.startswith("homing message add"):
        m = re.search(r"^message ([0-9a-f]{16})$", out, re.M)
        bob = re.search(r"recipient 1 bob@example.net\n\s+open\s+\S+/o/(\S+)\.gif\n"
                        r"\s+link 1\s+\S+/c/(\S+)", out)
        check(m and bob, f"message add printed: {out}")
        values["<message id>"] = m.group(1)
        values["<bob's token>"] = bob.group(1)
        values["<bob's click token>"] = bob.group(2)
    elif "/c/" in cmd:
        check(out.strip().lower() == "location: https://example.com/offer", repr(out))
    elif cmd.startswith("homing report"):
        check("bob@example.net" in out and "carol@example.com" in out, out)
        bob_line = next((line for line in out.splitlines() if "bob@example.net" in line), "")
        check(re.search(r"\b1\b", bob_line), f"bob's open and click not in: {out}")
    elif cmd.startswith("homing events --follow"):
        check("open" in out and "click" in out, f"events --follow printed: {out!r}")
    elif cmd.startswith("KEY="):
        pass
    elif "/api/v1/events" in cmd:
        check(out.lstrip().startswith("{") and '"open"' in out, out[:500])
    elif "/metrics" in cmd:
        check("homing_" in out, out[:500])
    elif cmd.startswith("homing track"):
        files = os.listdir(os.path.join(cwd, "out"))
        check(len(files) >= 1 and all(f.endswith(".eml") for f in files), files)
    elif cmd.startswith("homing scan"):
        check("tracking devices" in out, out)
    elif cmd.startswith("homing strip"):
        check(os.path.getsize(os.path.join(cwd, "clean.eml")) > 0, "clean.eml empty")
    elif cmd.startswith("homing rules"):
        check("local-zone" in open(os.path.join(cwd, "trackers.conf")).read(), "trackers.conf")
    elif cmd.startswith("homing trace"):
        check("spf" in out.lower() and "dkim" in out.lower(), out[:500])
    elif cmd.startswith("homing bounce"):
        check('"reason"' in out or '"status"' in out, out[:500])


T.run(tour)
T.finish()
