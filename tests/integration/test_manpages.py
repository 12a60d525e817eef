"""Man pages and shell completion (man/meson.build, scripts/gen_docs.py) agree
with the binary they describe:

- regenerated from the binary now, they are byte for byte the built ones
  (a page never lags behind --help or the option table);
- every command of `homing --help` has its homing-COMMAND.1, which holds every
  long option of `homing COMMAND --help`; homing.1 lists every command;
- homing.conf.5 has every option of `homing init --print` (the option table),
  with its default; every option is in docs/configuration.md too;
- every page renders with man -l and groff reports no warning;
- bash completion completes commands, subcommands and options; the zsh
  function parses and lists every command.

usage: test_manpages.py SYSCONFDIR STATEDIR DATADIR (from tests/meson.build)
"""
import filecmp
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from homing_test import HOMING, Runner, check  # noqa: E402

SRC = os.environ.get("HOMING_SRC", os.getcwd())
BUILD = os.environ.get("HOMING_BUILD", os.path.join(SRC, "build"))
MAN = os.path.join(BUILD, "man")
SYSCONFDIR, STATEDIR, DATADIR = sys.argv[1:4]
ENV = dict(os.environ, HOMING_CONFIG="/nonexistent/homing.conf", LC_ALL="C")
T = Runner()


def out(*args):
    p = subprocess.run([HOMING, *args], capture_output=True, text=True, env=ENV, timeout=30)
    check(p.returncode == 0, f"homing {' '.join(args)}: {p.returncode} {p.stderr}")
    return p.stdout


def commands():
    text = out("--help").split("\nCommands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in text.splitlines() if line.startswith("  ")
            and not line.startswith("   ")]


def version():
    return out("--version").split()[1]


def regenerated_equals_built():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, os.path.join(SRC, "scripts", "gen_docs.py"), HOMING, d,
                        version(), SYSCONFDIR, STATEDIR, DATADIR], check=True, timeout=120)
        made = sorted(os.listdir(d))
        built = sorted(f for f in os.listdir(MAN) if f.endswith((".1", ".5", ".bash"))
                       or f == "_homing")
        check(made == built, f"generated {made}, built {built}")
        _, diff, errors = filecmp.cmpfiles(d, MAN, made, shallow=False)
        check(not diff and not errors, f"built pages differ from --help now: {diff} {errors}")


def roff_text(path):
    """The page as man shows it, for searching (hyphens plain)."""
    p = subprocess.run(["man", "-l", path], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING="0",
                                LC_ALL="C.UTF-8"))
    check(p.returncode == 0 and p.stdout.strip(), f"man -l {path}: {p.returncode} {p.stderr}")
    return re.sub(r".\x08", "", p.stdout).replace("\u2010", "-").replace("\u2212", "-")


def every_command_has_its_page():
    cmds = commands()
    check(len(cmds) >= 20, f"commands: {cmds}")
    main = roff_text(os.path.join(MAN, "homing.1"))
    for c in cmds:
        page = os.path.join(MAN, f"homing-{c}.1")
        check(os.path.exists(page), f"no {page}")
        check(f"homing-{c}(1)" in main, f"homing.1 does not list {c}")
        text = roff_text(page)
        helptext = out(c, "--help")
        for opt in set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", helptext)):
            check(opt in text, f"homing-{c}.1 lacks {opt}")
        first = helptext.splitlines()[0].replace("usage: ", "")
        check(" ".join(first.split()) in " ".join(text.split()), f"homing-{c}.1 synopsis")


def conf_page_has_every_option():
    text = " ".join(roff_text(os.path.join(MAN, "homing.conf.5")).split())
    doc = open(os.path.join(SRC, "docs", "configuration.md")).read()
    section, n = None, 0
    for line in out("init", "--print").splitlines():
        if line.startswith("["):
            section = line[1:-1]
            check(f"[{section}]" in text, f"homing.conf.5 lacks [{section}]")
        elif " =" in line and not line.startswith("#"):
            key, _, value = line.partition(" =")
            value = value.strip()
            shown = f"{key} = {value}" if value else f"{key} = (empty)"
            check(shown in text, f"homing.conf.5 lacks '{shown}' in [{section}]")
            check(f"`{section}.{key}`" in doc, f"docs/configuration.md lacks {section}.{key}")
            n += 1
    check(n >= 40, f"only {n} options")
    check(f"{SYSCONFDIR}/homing.conf" in text and STATEDIR in text, "paths in homing.conf.5")


def pages_render_without_warnings():
    pages = [f for f in os.listdir(MAN) if f.endswith((".1", ".5"))]
    for f in pages:
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(MAN, f)],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and not p.stderr, f"groff on {f}: {p.stderr}")
    text = roff_text(os.path.join(MAN, "homing.1"))
    for want in ("NAME", "SYNOPSIS", "COMMANDS", "FILES", f"{SYSCONFDIR}/homing.conf", DATADIR,
                 "HOMING_CONFIG", "EXIT STATUS"):
        check(want in text, f"homing.1 lacks {want}")


def bash_completes():
    script = os.path.join(MAN, "homing.bash")

    def complete(*words):
        line = " ".join(f"'{w}'" for w in words)
        p = subprocess.run(["bash", "-c", f'source "$1"; COMP_WORDS=({line}); '
                            f'COMP_CWORD={len(words) - 1}; _homing; '
                            'printf "%s\\n" "${COMPREPLY[@]}"', "x", script],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and not p.stderr, p.stderr)
        return p.stdout.split()

    check(complete("homing", "sc") == ["scan"], complete("homing", "sc"))
    check(set(complete("homing", "")) >= set(commands()), "not every command completes")
    check(complete("homing", "scan", "--tr") == ["--trackers"], complete("homing", "scan", "--tr"))
    check(complete("homing", "-c", "x.conf", "message", "") [:3] == ["add", "show", "list"],
          complete("homing", "-c", "x.conf", "message", ""))
    check("--follow" in complete("homing", "events", "--"), "events --follow")


def zsh_function_parses():
    script = os.path.join(MAN, "_homing")
    p = subprocess.run(["zsh", "-n", script], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and not p.stderr, f"zsh -n: {p.stderr}")
    text = open(script).read()
    check(text.startswith("#compdef homing\n"), "no #compdef line")
    for c in commands():
        check(f"'{c}:" in text, f"_homing does not list {c}")


T.run(regenerated_equals_built)
T.run(every_command_has_its_page)
T.run(conf_page_has_every_option)
T.run(pages_render_without_warnings)
T.run(bash_completes)
T.run(zsh_function_parses)
T.finish()
