"""Run a command with a throwaway PostgreSQL cluster and redis-server.

Usage::

    python tests/tools/services.py [--no-postgres] [--no-redis] -- CMD ARGS...

Starts the servers on free loopback ports in a temporary directory, exports
their addresses to CMD and always stops them afterwards (also on Ctrl-C or
SIGTERM). The exit status is CMD's. Exported to CMD:

- ``RDV_TEST_POSTGRES_URL``: ``postgresql+asyncpg://postgres@127.0.0.1:PORT/rdv_test``
- ``RDV_TEST_POSTGRES_ADMIN_URL``: same server, database ``postgres``
- ``RDV_TEST_REDIS_URL``: ``redis://127.0.0.1:PORT/0``
- ``RDV_TEST_REDIS_SERVER``: path of the redis-server binary

When ``RDV_TEST_POSTGRES_URL`` or ``RDV_TEST_REDIS_URL`` is already set, that
server is reused and nothing is started for it. Standard library only; the
Debian packages come from ``tests/tools/system-packages.sh``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

HOST = "127.0.0.1"
DATABASE = "rdv_test"
PORT_ATTEMPTS = 5
REDIS_START_TIMEOUT = 15.0
USAGE = "usage: services.py [--no-postgres] [--no-redis] -- CMD ARGS..."


class StartupError(Exception):
    """A server could not be started; the message says why."""


class Interrupted(Exception):
    """A signal arrived before the command was started."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def log(message: str) -> None:
    print(f"services: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Signals:
    """SIGINT/SIGTERM/SIGHUP handling.

    Before the command runs, a signal is only recorded and checked between
    startup steps (so a half-started server is still stopped). While the command
    runs, the signal is forwarded to it; a second one kills it.
    """

    HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.received: int | None = None
        self.child: subprocess.Popen[bytes] | None = None
        self._forwarded = 0

    def install(self) -> None:
        for signum in self.HANDLED:
            signal.signal(signum, self._handle)

    def ignore(self) -> None:
        for signum in self.HANDLED:
            signal.signal(signum, signal.SIG_IGN)

    def check(self) -> None:
        if self.received is not None:
            raise Interrupted(self.received)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.received is None:
            self.received = signum
        child = self.child
        if child is None or child.poll() is not None:
            return
        self._forwarded += 1
        if self._forwarded > 1:
            child.kill()
        elif signum != signal.SIGINT or not _terminal_sent_it_to_child():
            # A Ctrl-C from the terminal already reached the command, which
            # shares our (foreground) process group; anything else is forwarded.
            child.send_signal(signum)


def _terminal_sent_it_to_child() -> bool:
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):
        return False


class Postgres:
    def __init__(self, workdir: Path, signals: Signals) -> None:
        self.workdir = workdir
        self.signals = signals
        self.bindir = self._find_bindir()
        self.version = self.bindir.parent.name
        self.datadir = workdir / "pg"
        self.logfile = workdir / "pg.log"
        self.port = 0
        self.started = False

    @staticmethod
    def _find_bindir() -> Path:
        candidates = []
        for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
            bindir = Path(initdb).parent
            version = bindir.parent.name
            if (bindir / "pg_ctl").exists() and re.fullmatch(r"\d+(\.\d+)?", version):
                candidates.append((tuple(int(part) for part in version.split(".")), bindir))
        if not candidates:
            raise StartupError(
                "PostgreSQL not found (/usr/lib/postgresql/*/bin/initdb); "
                "run tests/tools/system-packages.sh"
            )
        return max(candidates)[1]

    def _run(
        self, args: Sequence[str], *, as_postgres: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if as_postgres and os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(
            command,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )

    def start(self) -> None:
        self._initdb()
        self.signals.check()
        self._start_server()
        self.signals.check()
        result = self._run(
            [str(self.bindir / "createdb"), "-h", HOST, "-p", str(self.port), "-U", "postgres",
             DATABASE],
            as_postgres=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise StartupError(f"createdb {DATABASE} failed:\n{result.stderr.strip()}")

    def _initdb(self) -> None:
        errors = []
        for locale in ("C.UTF-8", "C"):
            result = self._run(
                [str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres",
                 "-A", "trust", "-E", "UTF8", f"--locale={locale}", "--no-sync"]
            )  # fmt: skip
            if result.returncode == 0:
                return
            errors.append(f"initdb --locale={locale}:\n{(result.stdout + result.stderr).strip()}")
            self.signals.check()
            shutil.rmtree(self.datadir, ignore_errors=True)
        raise StartupError("initdb failed\n" + "\n".join(errors))

    def _start_server(self) -> None:
        for _attempt in range(PORT_ATTEMPTS):
            self.port = free_port()
            options = " ".join(
                [
                    f"-c listen_addresses={HOST}",
                    f"-p {self.port}",
                    f"-k {shlex.quote(str(self.workdir))}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                ]
            )
            log_size = self.logfile.stat().st_size if self.logfile.exists() else 0
            self.started = True  # from here on, stop() must try to stop it
            result = self._run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-o", options,
                 "-w", "-t", "60", "-l", str(self.logfile), "start"]
            )  # fmt: skip
            if result.returncode == 0:
                return
            self.signals.check()
            try:
                new_log = self.logfile.read_bytes()[log_size:].decode(errors="replace")
            except OSError:
                new_log = ""
            if "could not bind" in new_log or "Address already in use" in new_log:
                continue  # another process took the port meanwhile
            raise StartupError(
                f"pg_ctl start failed:\n{(result.stdout + result.stderr).strip()}\n"
                f"--- tail of {self.logfile} ---\n{tail(self.logfile)}"
            )
        raise StartupError(
            f"pg_ctl start failed {PORT_ATTEMPTS} times (ports in use?)\n"
            f"--- tail of {self.logfile} ---\n{tail(self.logfile)}"
        )

    def stop(self) -> None:
        if not self.started:
            return
        pidfile = self.datadir / "postmaster.pid"
        if not pidfile.exists():
            time.sleep(0.5)  # an interrupted pg_ctl may have just forked the postmaster
            if not pidfile.exists():
                return
        result = self._run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w",
             "-t", "30", "stop"]
        )  # fmt: skip
        if result.returncode == 0:
            return
        log(f"pg_ctl stop failed, killing the postmaster: {result.stderr.strip()}")
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pidfile.read_text().splitlines()[0]), signal.SIGKILL)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@{HOST}:{self.port}/{DATABASE}"

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@{HOST}:{self.port}/postgres"


class Redis:
    def __init__(self, workdir: Path, signals: Signals) -> None:
        self.workdir = workdir
        self.signals = signals
        server = shutil.which("redis-server")
        if server is None:
            raise StartupError("redis-server not found; run tests/tools/system-packages.sh")
        self.server = server
        self.logfile = workdir / "redis.log"
        self.version = self._version()
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def _version(self) -> str:
        result = subprocess.run(
            [self.server, "--version"], capture_output=True, text=True, check=False
        )
        match = re.search(r"v=(\S+)", result.stdout)
        return match.group(1) if match else "?"

    def start(self) -> None:
        for _attempt in range(PORT_ATTEMPTS):
            self.port = free_port()
            with self.logfile.open("ab") as logfile:
                self.process = subprocess.Popen(
                    [self.server, "--port", str(self.port), "--bind", HOST, "--save", "",
                     "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)],
                    stdin=subprocess.DEVNULL,
                    stdout=logfile,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a terminal Ctrl-C must not kill it before we do
                )  # fmt: skip
            if self._wait_ready():
                return
            self.signals.check()
            self.stop()
            if "Address already in use" not in tail(self.logfile):
                break
        raise StartupError(
            f"redis-server did not start\n--- tail of {self.logfile} ---\n{tail(self.logfile)}"
        )

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None or self.signals.received is not None:
                return False
            if self._ping():
                return True
            time.sleep(0.05)
        return False

    def _ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"


def admin_url_for(url: str) -> str:
    return urllib.parse.urlsplit(url)._replace(path="/postgres").geturl()


def parse_args(argv: list[str]) -> tuple[bool, bool, list[str]]:
    if "--" not in argv:
        raise SystemExit(USAGE)
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    unknown = set(options) - {"--no-postgres", "--no-redis"}
    if unknown or not command:
        raise SystemExit(USAGE)
    return "--no-postgres" not in options, "--no-redis" not in options, command


def exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def main(argv: list[str]) -> int:
    want_postgres, want_redis, command = parse_args(argv)
    env = dict(os.environ)
    signals = Signals()
    signals.install()
    workdir: Path | None = None
    postgres: Postgres | None = None
    redis: Redis | None = None
    try:
        summary = []
        if want_postgres and not env.get("RDV_TEST_POSTGRES_URL"):
            workdir = workdir or Path(tempfile.mkdtemp(prefix="rdv-test-", dir="/tmp"))
            if os.geteuid() == 0:
                shutil.chown(workdir, "postgres", "postgres")
            postgres = Postgres(workdir, signals)
            postgres.start()
            env["RDV_TEST_POSTGRES_URL"] = postgres.url
            env["RDV_TEST_POSTGRES_ADMIN_URL"] = postgres.admin_url
            summary.append(f"postgresql {postgres.version} on {HOST}:{postgres.port}")
        elif want_postgres:
            env.setdefault(
                "RDV_TEST_POSTGRES_ADMIN_URL", admin_url_for(env["RDV_TEST_POSTGRES_URL"])
            )
            summary.append("postgresql from RDV_TEST_POSTGRES_URL")
        signals.check()

        if want_redis and not env.get("RDV_TEST_REDIS_URL"):
            workdir = workdir or Path(tempfile.mkdtemp(prefix="rdv-test-", dir="/tmp"))
            redis = Redis(workdir, signals)
            redis.start()
            env["RDV_TEST_REDIS_URL"] = redis.url
            env["RDV_TEST_REDIS_SERVER"] = redis.server
            summary.append(f"redis {redis.version} on {HOST}:{redis.port}")
        elif want_redis:
            summary.append("redis from RDV_TEST_REDIS_URL")
        signals.check()

        log(", ".join(summary) if summary else "nothing started")
        try:
            signals.child = subprocess.Popen(command, env=env)
        except OSError as exc:
            log(f"cannot run {command[0]!r}: {exc}")
            return 127
        returncode = signals.child.wait()
        return exit_status(returncode)
    except StartupError as exc:
        log(f"startup failed: {exc}")
        return 1
    except Interrupted as exc:
        log(f"interrupted by {exc} during startup")
        return 128 + exc.signum
    finally:
        signals.ignore()  # cleanup must not be interrupted half-way
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
