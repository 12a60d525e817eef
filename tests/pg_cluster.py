#!/usr/bin/env python3
"""pg_cluster.py: runs a command beside a private PostgreSQL server.

usage: pg_cluster.py COMMAND [ARGS...]

Makes a cluster in a fresh directory (/tmp/homing-pg.XXXXXX) with initdb,
starts it with pg_ctl on a Unix socket in that directory only (no TCP port:
listen_addresses is empty), creates the database homing_test, and runs
COMMAND with HOMING_TEST_STORE_POSTGRESQL set to the URL template the backend
test suite (tests/unit/store_backends.h) fills in:

    postgresql:///homing_test?host=DIR&user=postgres&schema=%s

each test's store being a schema of its own. The server is stopped and the
directory removed afterwards, whatever COMMAND did; every wait is bounded.
Its exit status is COMMAND's.

A test that stops and starts the server itself (integration/nodes: PostgreSQL
down for a while) gets HOMING_TEST_PG_CTL, the pg_ctl command as JSON (a list
of words: runuser in front of it as root), HOMING_TEST_PG_DATA (the data
directory) and HOMING_TEST_PG_OPTS (the server options of `pg_ctl start -o`);
homing_test.pg_server('stop' or 'start') uses them.

initdb and the server refuse to run as root: as root (make test on a fresh
Debian machine), they run as the `postgres` user that Debian's postgresql
package creates (runuser -u postgres), in a directory handed to that user;
the test itself still runs as root and connects through the socket with
trust authentication (the socket's directory is private to the run). The
server binaries come from /usr/lib/postgresql/VERSION/bin (scripts/setup.sh
installs postgresql and libpq-dev). fsync is off: a test cluster need not
survive a power loss, and it starts in about a second.
"""
import glob
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

START_TIMEOUT_S = 60  # pg_ctl -t: how long to wait for the server to accept connections
STOP_TIMEOUT_S = 30
CMD_TIMEOUT_S = 30    # initdb, createdb


def bindir():
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'),
                   key=lambda p: int(p.split('/')[4]) if p.split('/')[4].isdigit() else 0)
    if not found:
        sys.exit('pg_cluster.py: no /usr/lib/postgresql/*/bin/initdb: run scripts/setup.sh '
                 '(Debian package postgresql)')
    return os.path.dirname(found[-1])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bins = bindir()
    root = os.geteuid() == 0
    tmp = tempfile.mkdtemp(prefix='homing-pg.', dir='/tmp')
    as_server = []
    if root:
        try:
            pw = pwd.getpwnam('postgres')
        except KeyError:
            sys.exit('pg_cluster.py: running as root needs the postgres user '
                     '(Debian package postgresql)')
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
        as_server = ['runuser', '-u', 'postgres', '--']
    # The socket's directory is searchable by all: homing serve started as
    # root drops to the homing user before it connects. The data directory
    # inside stays the server's own (initdb makes it 0700).
    os.chmod(tmp, 0o711)
    data = os.path.join(tmp, 'data')
    log = os.path.join(tmp, 'server.log')

    def server(*args, timeout=CMD_TIMEOUT_S):
        subprocess.run(as_server + [os.path.join(bins, args[0])] + list(args[1:]), cwd=tmp,
                       check=True, timeout=timeout, stdout=subprocess.DEVNULL)

    started = False
    status = 1
    try:
        server('initdb', '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8',
               '--locale=C', '--no-sync')
        opts = (f"-k {tmp} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                "-c full_page_writes=off -c max_connections=100")
        server('pg_ctl', '-D', data, '-l', log, '-o', opts, '-w', '-t', str(START_TIMEOUT_S),
               'start', timeout=START_TIMEOUT_S + 10)
        started = True
        server('createdb', '-h', tmp, '-U', 'postgres', 'homing_test')
        env = dict(os.environ)
        env['HOMING_TEST_STORE_POSTGRESQL'] = (
            f'postgresql:///homing_test?host={tmp}&user=postgres&schema=%s')
        env['HOMING_TEST_PG_CTL'] = json.dumps(as_server + [os.path.join(bins, 'pg_ctl')])
        env['HOMING_TEST_PG_DATA'] = data
        env['HOMING_TEST_PG_LOG'] = log
        env['HOMING_TEST_PG_OPTS'] = opts
        status = subprocess.run(sys.argv[1:], env=env).returncode
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        print(f'pg_cluster.py: {e}', file=sys.stderr)
        if os.path.exists(log):
            with open(log, encoding='utf-8', errors='replace') as f:
                sys.stderr.write(f.read()[-4000:])
    finally:
        # A test may have stopped it already (or started it again): stop
        # what runs.
        if started and os.path.exists(os.path.join(data, 'postmaster.pid')):
            try:
                server('pg_ctl', '-D', data, '-m', 'immediate', '-w', '-t', str(STOP_TIMEOUT_S),
                       'stop', timeout=STOP_TIMEOUT_S + 10)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
                print(f'pg_cluster.py: stopping: {e}', file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == '__main__':
    main()
