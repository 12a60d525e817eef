"""`make install` (meson install) puts every file where the compiled-in
defaults look for it, and the installed binary finds them there:

- staged with DESTDIR: the binary, the data files, the example configuration
  (every option of the table), the unit with the prefix's paths, the man pages
  and completion, the empty state directory;
- then run as installed: in a private mount namespace the staged tree is
  copied over the real places (each an overlay whose upper layer is a tmpfs,
  so the machine is untouched), and `homing` with no -c reads
  SYSCONFDIR/homing.conf, keeps its state in STATEDIR (`init --keep-config`),
  and `scan` reads DATADIR/trackers.tsv: take that file away and scan fails
  naming it, where the build tree's binary reads the source tree's data/.

usage: test_install.py PREFIX BINDIR SYSCONFDIR STATEDIR DATADIR UNITDIR
(absolute paths, from tests/meson.build)
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import HOMING, Runner, check  # noqa: E402

SRC = os.environ.get("HOMING_SRC", os.getcwd())
BUILD = os.environ.get("HOMING_BUILD", os.path.join(SRC, "build"))
PREFIX, BINDIR, SYSCONFDIR, STATEDIR, DATADIR, UNITDIR = sys.argv[1:7]
T = Runner()
stage = tempfile.mkdtemp(prefix="homing-install-")
SAMPLE = os.path.join(SRC, "tests", "data", "scan", "msgs", "mailchimp.eml")


def staged(path):
    return os.path.join(stage, path.lstrip("/"))


def make_install_stages_every_file():
    p = subprocess.run(["make", "-C", SRC, "install", f"DESTDIR={stage}",
                        f"INSTALL_BUILD={BUILD}"], capture_output=True, text=True, timeout=600)
    check(p.returncode == 0, f"make install: {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr}")
    want = [f"{BINDIR}/homing", f"{SYSCONFDIR}/homing.conf", f"{DATADIR}/trackers.tsv",
            f"{DATADIR}/useragents.tsv", f"{DATADIR}/machines.tsv", f"{UNITDIR}/homing.service",
            f"{PREFIX}/share/man/man1/homing.1", f"{PREFIX}/share/man/man1/homing-serve.1",
            f"{PREFIX}/share/man/man5/homing.conf.5",
            f"{PREFIX}/share/bash-completion/completions/homing",
            f"{PREFIX}/share/zsh/vendor-completions/_homing"]
    for w in want:
        check(os.path.isfile(staged(w)), f"{w} not installed")
    check(os.path.isdir(staged(STATEDIR)), f"{STATEDIR} not made")
    conf = open(staged(f"{SYSCONFDIR}/homing.conf")).read()
    printed = subprocess.run([HOMING, "init", "--print"], capture_output=True, text=True).stdout
    check(conf == printed, "the installed homing.conf is not `homing init --print`")
    unit = open(staged(f"{UNITDIR}/homing.service")).read()
    check(f"ExecStart={BINDIR}/homing -c {SYSCONFDIR}/homing.conf serve" in unit,
          "unit ExecStart does not name the installed paths")
    check(f"ReadWritePaths={STATEDIR}" in unit, "unit ReadWritePaths")


# Runs in a private mount namespace: the staged tree over the real prefix.
AS_INSTALLED = r"""
set -eu
mount -t tmpfs none "$SCRATCH"
i=0
for top in $ROOTS; do
  i=$((i + 1))
  mkdir "$SCRATCH/u$i" "$SCRATCH/w$i"
  mount -t overlay overlay -o "lowerdir=$top,upperdir=$SCRATCH/u$i,workdir=$SCRATCH/w$i" "$top"
  cp -a "$STAGE$top/." "$top/"
done
cd /
unset HOMING_CONFIG
homing=$BINDIR/homing
$homing init --keep-config >/dev/null
echo "state: $(ls "$STATEDIR" | grep -E '^(homing.db|token.keys)$' | tr '\n' ' ')"
echo "keys-list: $($homing token-keys list | wc -l)"
rc=0; $homing scan "$SAMPLE" >/dev/null 2>&1 || rc=$?
echo "scan-installed: $rc"
rm "$DATADIR/trackers.tsv"
rc=0; err=$($homing scan "$SAMPLE" 2>&1 >/dev/null) || rc=$?
echo "scan-without-data: $rc $err"
rc=0; "$BUILT" scan "$SAMPLE" >/dev/null 2>&1 || rc=$?
echo "scan-build-tree: $rc"
"""


def installed_binary_uses_installed_paths():
    check(os.geteuid() == 0, "this test needs root (make test runs as root)")
    # The top staged directories: PREFIX, and those outside it (/etc, /var
    # for --prefix=/usr; /var/local for /usr/local).
    roots = []
    for top in sorted(os.listdir(stage)):
        for d, _, _ in os.walk(os.path.join(stage, top)):
            rel = "/" + os.path.relpath(d, stage)
            if (rel == PREFIX or not PREFIX.startswith(rel + "/")) and \
                    not any(rel.startswith(r + "/") or rel == r for r in roots) and \
                    os.path.isdir(rel):
                roots.append(rel)
    scratch = tempfile.mkdtemp(prefix="homing-overlay-")
    env = dict(os.environ, ROOTS=" ".join(roots), SCRATCH=scratch, PREFIX=PREFIX, STAGE=stage, STATEDIR=STATEDIR, BINDIR=BINDIR,
               DATADIR=DATADIR, SAMPLE=SAMPLE, BUILT=os.path.abspath(HOMING))
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        AS_INSTALLED], capture_output=True, text=True, env=env, timeout=120)
    os.rmdir(scratch)
    print(f"     overlays: {' '.join(roots)}")
    print("     " + p.stdout.strip().replace("\n", "\n     "))
    check(p.returncode == 0, f"exited {p.returncode}: {p.stderr}")
    lines = dict(line.split(": ", 1) for line in p.stdout.splitlines())
    check(lines["state"].split() == ["homing.db", "token.keys"], lines["state"])
    check(int(lines["keys-list"]) >= 2, "token-keys list shows no key")
    check(lines["scan-installed"] == "1", "installed scan did not find the trackers")
    check(lines["scan-without-data"].startswith("2 ") and
          f"{DATADIR}/trackers.tsv" in lines["scan-without-data"],
          f"installed scan without its data file: {lines['scan-without-data']}")
    check(lines["scan-build-tree"] == "1", "the build tree's binary does not read data/")


try:
    T.run(make_install_stages_every_file)
    T.run(installed_binary_uses_installed_paths)
finally:
    shutil.rmtree(stage, ignore_errors=True)
T.finish()
