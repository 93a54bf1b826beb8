"""A throwaway PostgreSQL cluster for tests: initdb into a temp folder, start on a free port.

Uses the server binaries of Debian's `postgresql` package (or any `initdb`/`pg_ctl` on PATH), which
scripts/setup-test-system.sh installs; nothing here installs anything. A test gets its cluster from
`cluster_for_tests()` (it must be marked `postgres` and `slow`, see tests/lanes.py).
As root the cluster runs as the `postgres` user (PostgreSQL refuses to run as root). Trust
authentication on 127.0.0.1 and a private socket folder: nothing outside the test can reach it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lanes import missing, require_lane
from ports import free_port


def server_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb and shutil.which("pg_ctl") else None


@dataclass
class Cluster:
    bindir: Path
    root: Path
    port: int
    user: str | None  # run the server as this user (None: as ourselves)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self.resume()

    def resume(self) -> None:
        """Start the server on the existing data folder (after `pause`): same port, same data."""
        # 100 connections: the scale-out test holds a Prefect server (17 seen at peak) and the
        # ledgers of eight concurrent flow runs and the web app (11) in one cluster, with room to spare.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60", "-o", options, "start"
        )

    def pause(self) -> None:
        """Stop the server and keep its data (the database is unreachable until `resume`); open
        connections are cut, as in a failover or a restart of the database server."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class NoServer(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


def start_cluster() -> Cluster:
    """Start a cluster, or raise RuntimeError saying what is missing."""
    bindir = server_bindir()
    if bindir is None:
        raise NoServer("no PostgreSQL server binaries (apt-get install -y postgresql)")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root, and there is no 'postgres' user to run the server as") from None
        user = "postgres"
    root = Path(tempfile.mkdtemp(prefix="hundred-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    os.chmod(root, 0o755)  # the socket and data folder, owned by the server's user
    cluster = Cluster(bindir, root, free_port(), user)
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr or exc.stdout}{log[-2000:]}") from None
    return cluster


def cluster_for_tests() -> Cluster:
    """`start_cluster()` for a test marked `postgres`: a missing PostgreSQL, or one that does not
    start, fails the test saying why (never a skip)."""
    require_lane("postgres", "a PostgreSQL cluster")
    try:
        return start_cluster()
    except NoServer:
        missing("PostgreSQL's server (initdb, pg_ctl)", "apt-get install -y postgresql")
        raise
    except RuntimeError as exc:
        pytest.fail(f"PostgreSQL for the tests: {exc}", pytrace=False)
