"""The Debian package (debian/), built and installed the way an operator would.

1. `dpkg-buildpackage -us -uc -b` on a copy of the tree (in the build
   directory, always at the same path so ccache, kept beside it, hits on the
   next run) gives homing_VERSION_ARCH.deb; its Depends come from the shared
   libraries it links (dh_shlibdeps) plus uap-core and adduser;
2. `lintian --fail-on error` passes;
3. the files land in FHS places, /etc/homing/homing.conf is a conffile;
4. `dpkg -x` into a throwaway root, and `homing --version` runs from it;
5. `dpkg -i` into a throwaway copy of this machine's root (an overlay over /
   in a private mount namespace, chrooted: every write lands in a tmpfs, the
   machine is untouched), as on a fresh install: creates the homing user,
   initialises /var/lib/homing (key 0600 and store, owned by homing), enables
   and starts nothing; `homing` with no -c reads /etc/homing/homing.conf and
   its state from /var/lib/homing; `man homing` works; the daemon started as
   root serves on loopback as the homing user; `dpkg --purge` removes the
   state.

Needs root (dpkg -i, mount namespaces), as `make test` runs.
"""
import glob
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import Runner, check, free_port  # noqa: E402

SRC = os.environ.get("HOMING_SRC", os.getcwd())
BUILD = os.environ.get("HOMING_BUILD", os.path.join(SRC, "build"))
WORK = os.path.join(BUILD, "deb")
CCACHE = os.path.join(BUILD, "deb-ccache")
T = Runner()
state = {}


def sh(cmd, timeout=120, ok=True, **kw):
    p = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                       timeout=timeout, **kw)
    if ok and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}:\n{p.stdout[-3000:]}\n"
                             f"{p.stderr[-3000:]}")
    return p


def version():
    line = open(os.path.join(SRC, "debian", "changelog")).readline()
    return line.split("(", 1)[1].split(")", 1)[0]


def build_package():
    check(os.geteuid() == 0, "this test needs root (make test runs as root)")
    v = version()
    tree = os.path.join(WORK, f"homing-{v}")
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(tree)
    # The tracked files and new ones not ignored: what a clone would hold.
    files = sh(["git", "-C", SRC, "ls-files", "-z", "--cached", "--others",
                "--exclude-standard"]).stdout.split("\0")
    for f in filter(None, files):
        src = os.path.join(SRC, f)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(tree, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(tree, f))
    env = dict(os.environ, PATH="/usr/lib/ccache:" + os.environ["PATH"], CCACHE_DIR=CCACHE,
               DEB_BUILD_OPTIONS="nocheck parallel=2", LC_ALL="C.UTF-8")
    t0 = time.time()
    p = sh(["dpkg-buildpackage", "-us", "-uc", "-b"], timeout=1200, cwd=tree, env=env, ok=False)
    print(f"     dpkg-buildpackage: {time.time() - t0:.1f}s")
    check(p.returncode == 0, f"dpkg-buildpackage exited {p.returncode}:\n{p.stdout[-4000:]}"
                             f"\n{p.stderr[-4000:]}")
    debs = glob.glob(os.path.join(WORK, f"homing_{v}_*.deb"))
    check(len(debs) == 1, f"no homing_{v}_*.deb in {os.listdir(WORK)}")
    state["deb"] = debs[0]
    state["changes"] = glob.glob(os.path.join(WORK, f"homing_{v}_*.changes"))[0]
    depends = sh(["dpkg-deb", "-f", debs[0], "Depends"]).stdout
    for lib in ("libc6", "libh2o-evloop", "libsqlite3-0", "libsodium23", "libgmime-3.0-0",
                "libjansson4", "libcurl4", "libssl3", "uap-core", "adduser"):
        check(lib in depends, f"{lib} not in Depends: {depends}")


def lintian_clean():
    p = sh(["lintian", "--fail-on", "error", "--info", state["changes"]], ok=False,
           timeout=600)
    print("     " + (p.stdout.strip().replace("\n", "\n     ") or "lintian: no tags"))
    check(p.returncode == 0, f"lintian exited {p.returncode}: {p.stdout} {p.stderr}")


def fhs_layout():
    listing = sh(["dpkg-deb", "-c", state["deb"]]).stdout
    paths = {line.split()[5].rstrip("/") for line in listing.splitlines()}
    want = ["./usr/bin/homing", "./etc/homing/homing.conf", "./lib/systemd/system/homing.service",
            "./usr/share/homing/trackers.tsv", "./usr/share/homing/useragents.tsv",
            "./usr/share/homing/machines.tsv", "./usr/share/man/man1/homing.1.gz",
            "./usr/share/man/man1/homing-serve.1.gz", "./usr/share/man/man5/homing.conf.5.gz",
            "./usr/share/bash-completion/completions/homing",
            "./usr/share/zsh/vendor-completions/_homing", "./usr/share/doc/homing/copyright"]
    for w in want:
        check(w in paths, f"{w} not in the package")
    check(not any(p.startswith("./var") for p in paths),
          "the package ships /var: postinst makes /var/lib/homing for the homing user")
    ctl = os.path.join(WORK, "control")
    shutil.rmtree(ctl, ignore_errors=True)
    sh(["dpkg-deb", "-e", state["deb"], ctl])
    conffiles = open(os.path.join(ctl, "conffiles")).read().split()
    check(conffiles == ["/etc/homing/homing.conf"], f"conffiles: {conffiles}")


def version_from_extracted_root():
    root = os.path.join(WORK, "root")
    shutil.rmtree(root, ignore_errors=True)
    sh(["dpkg", "-x", state["deb"], root])
    out = sh([os.path.join(root, "usr/bin/homing"), "--version"]).stdout
    check(out == f"homing {version()}\n", repr(out))


# Runs inside the chroot: a fresh install, what it made, a daemon, a purge.
INSTALL_CHECK = r"""
set -eu
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
# As on a machine that never had homing: no user, no state, no package.
dpkg --purge homing >/dev/null 2>&1 || true
userdel homing 2>/dev/null || true
rm -rf /var/lib/homing /etc/homing
dpkg -i /homing.deb >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }
echo "user: $(getent passwd homing | cut -d: -f1,6,7)"
echo "state: $(stat -c '%U:%G %a' /var/lib/homing)"
echo "keys: $(stat -c '%U %a' /var/lib/homing/token.keys)"
echo "store: $(stat -c '%U' /var/lib/homing/homing.db)"
echo "conf: $(stat -c '%U %a' /etc/homing/homing.conf)"
echo "enabled: $(ls /etc/systemd/system/multi-user.target.wants/ 2>/dev/null | grep -c homing || true)"
echo "version: $(homing --version)"
# No -c: the system configuration, whose state is /var/lib/homing.
echo "keys-list: $(homing token-keys list | head -1)"
homing message add --subject pkg --from a@example.org --to b@example.net --json >/tmp/m.json
echo "messages: $(homing message list | grep -c pkg)"
echo "man: $(man -w homing) $(man -w homing.conf) $(man -w homing-serve)"
MANWIDTH=80 man homing-serve 2>/dev/null | grep -q 'READY=1' && echo "man-serve: ok"
homing serve --listen 127.0.0.1:$PUBLIC --admin-listen 127.0.0.1:$ADMIN >/tmp/serve.log 2>&1 &
pid=$!
ok=0
for i in $(seq 1 150); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$ADMIN/healthz', timeout=1)" 2>/dev/null; then ok=1; break; fi
  sleep 0.1
done
echo "serve: $ok as $(ps -o user= -p $pid)"
kill -TERM $pid; wait $pid || { echo "serve exit $?"; cat /tmp/serve.log; }
dpkg --purge homing >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; exit 1; }
echo "purged: $([ -e /var/lib/homing ] && echo state-left || echo state-gone)" \
     "$([ -e /etc/homing/homing.conf ] && echo conf-left || echo conf-gone)"
"""


def install_into_throwaway_root():
    top = os.path.join(WORK, "overlay")
    os.makedirs(top, exist_ok=True)
    script = os.path.join(WORK, "install-check.sh")
    open(script, "w").write(INSTALL_CHECK)
    # An overlay over / in a private mount namespace: lower is this machine's
    # root, upper a tmpfs, so dpkg -i, useradd and postinst write only there.
    outer = f"""
set -eu
mount -t tmpfs none {top}
mkdir {top}/u {top}/w {top}/m
mount -t overlay overlay -o lowerdir=/,upperdir={top}/u,workdir={top}/w {top}/m
mount -t proc proc {top}/m/proc
mount --rbind /dev {top}/m/dev
mount -t tmpfs none {top}/m/tmp
mount -t tmpfs none {top}/m/run
cp {state['deb']} {top}/m/homing.deb
cp {script} {top}/m/install-check.sh
PUBLIC={free_port()} ADMIN={free_port()} chroot {top}/m sh /install-check.sh
"""
    p = sh(["unshare", "--mount", "--propagation", "private", "sh", "-c", outer], timeout=300,
           ok=False)
    out = p.stdout
    print("     " + out.strip().replace("\n", "\n     "))
    check(p.returncode == 0, f"install check exited {p.returncode}: {out} {p.stderr}")
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    check(lines.get("user") == "homing:/var/lib/homing:/usr/sbin/nologin", lines.get("user"))
    check(lines.get("state") == "homing:homing 750", lines.get("state"))
    check(lines.get("keys") == "homing 600", lines.get("keys"))
    check(lines.get("store") == "homing", lines.get("store"))
    check(lines.get("conf") == "root 644", lines.get("conf"))
    check(lines.get("enabled") == "0", "the unit is enabled on install")
    check(lines.get("version") == f"homing {version()}", lines.get("version"))
    check(lines.get("keys-list", "").strip() != "", "token-keys list printed nothing")
    check(lines.get("messages") == "1", lines.get("messages"))
    check(lines.get("man") == "/usr/share/man/man1/homing.1.gz /usr/share/man/man5/homing.conf."
          "5.gz /usr/share/man/man1/homing-serve.1.gz", lines.get("man"))
    check(lines.get("man-serve") == "ok", "man homing-serve does not render its --help")
    check(lines.get("serve") == "1 as homing", lines.get("serve"))
    check(lines.get("purged") == "state-gone conf-gone", lines.get("purged"))


T.run(build_package)
if state.get("deb"):
    T.run(lintian_clean)
    T.run(fhs_layout)
    T.run(version_from_extracted_root)
    T.run(install_into_throwaway_root)
T.finish()
