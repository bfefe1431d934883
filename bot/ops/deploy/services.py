"""PostgreSQL, Redis and nginx from Debian packages, run as private instances in a directory.

Used by the one-command production profile on a single machine (`aiguillage production
--services-locales`) and by the test suite. Each service listens on 127.0.0.1 only, on the port it
is given, and keeps its data, logs and pid files in its own directory. PostgreSQL refuses to run
as root: when we are root, its commands run as the `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Optional

# The public server's largest request: a person's message, a provider's callback or a console form is a
# few kB. Sanic answers 413 before reading more (nginx does the same in production, at 1 MB). Not the
# action server: Rasa sends it whole trackers.
MAX_REQUEST_BYTES = 64 * 1024


def rasa_server_environment(env: dict, behind_proxy: bool = False) -> dict:
    """The Rasa server's Sanic settings. Behind our nginx, the client's address is the last entry of
    X-Forwarded-For (nginx appends the address it sees, so a client cannot choose it); without a
    proxy that header is ignored. A TLS terminator in front of nginx adds one: SANIC_PROXIES_COUNT=2."""
    sanic = {"SANIC_REQUEST_MAX_SIZE": str(MAX_REQUEST_BYTES)}
    if behind_proxy:
        sanic["SANIC_PROXIES_COUNT"] = "1"
    return dict(env, **{name: env.get(name, value) for name, value in sanic.items()})


class ServiceError(RuntimeError):
    """A service could not be started; the message says which and why, in French."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def postgres_bindir() -> Optional[Path]:
    """Where initdb and pg_ctl are (Debian keeps them out of PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def missing_binaries() -> list[str]:
    """Debian packages still to install for the production profile."""
    missing = []
    if postgres_bindir() is None:
        missing.append("postgresql")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        missing.append("nginx")
    return missing


def _terminate(process: Optional[subprocess.Popen]) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except OSError:
        return False


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", "postgres", "--"] + command


class LocalPostgres:
    """A private PostgreSQL cluster: `start()` creates it on first use, with one role and database."""

    def __init__(self, directory: Path, port: int, user: str = "aiguillage", password: str = "aiguillage",
                 database: str = "aiguillage", durable: bool = True, max_connections: int = 200):
        self.directory = Path(directory)
        self.port = port
        self.user, self.password, self.database = user, password, database
        self.durable = durable  # False only for tests: no fsync
        self.max_connections = max_connections
        self.bindir = postgres_bindir()

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(_as_postgres(list(args)), capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            raise ServiceError(f"PostgreSQL : « {' '.join(args[:2])} » a échoué : {result.stderr.strip()[-500:]}")
        return result

    def _prepare_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            for path in [self.directory] + [p for p in self.directory.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
            # The postgres user must be able to walk down to the directory.
            for parent in self.directory.resolve().parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)

    def start(self, timeout: float = 60.0) -> "LocalPostgres":
        if self.bindir is None:
            raise ServiceError("PostgreSQL n'est pas installé (paquet Debian postgresql).")
        self._prepare_directory()
        first_time = not (self.data / "PG_VERSION").exists()
        if first_time:
            self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "--encoding=UTF8", "--locale=C.UTF-8")
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                   f"-c max_connections={self.max_connections}")
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "postgres.log"),
                  "-o", options, "-w", "-t", str(int(timeout)), "start")
        if first_time:
            self._sql(f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}'")
            self._sql(f"CREATE DATABASE {self.database} OWNER {self.user}")
        return self

    def _sql(self, statement: str) -> None:
        psql = str(self.bindir / "psql") if (self.bindir / "psql").exists() else "psql"
        self._run(psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                  "-v", "ON_ERROR_STOP=1", "-c", statement)

    def stop(self, timeout: float = 60.0) -> None:
        """Fast shutdown (open sessions are ended), waiting until the server has gone."""
        pid_file = self.data / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return  # not running
        try:
            os.kill(pid, signal.SIGINT)  # what `pg_ctl stop -m fast` sends
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # The server removes its pid file last; a dead server may linger as a zombie here.
            if not pid_file.exists() or not _alive(pid):
                return
            time.sleep(0.2)
        raise ServiceError(f"PostgreSQL ne s'arrête pas (voir {self.directory / 'postgres.log'}).")

    def restart(self) -> None:
        """Stop and start again (the test of a database restart mid-conversation)."""
        self.stop()
        self.start()


class LocalRedis:
    """A private Redis on loopback, without persistence: it only holds conversation locks."""

    def __init__(self, directory: Path, port: int):
        self.directory = Path(directory)
        self.port = port
        self.process: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 20.0) -> "LocalRedis":
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("Redis n'est pas installé (paquet Debian redis-server).")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--daemonize", "no", "--protected-mode", "yes"],
            stdout=open(self.directory / "redis.log", "ab"), stderr=subprocess.STDOUT)
        if not wait_for_port(self.port, timeout):
            self.stop()
            raise ServiceError(f"Redis n'a pas démarré (voir {self.directory / 'redis.log'}).")
        return self

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None


def render_nginx_conf(directory: Path, listen_host: str, listen_port: int, upstream_ports: list[int],
                      max_body: str = "1m") -> str:
    """A load balancer in front of the Rasa instances (round robin; a dead instance is skipped)."""
    d = Path(directory)
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in upstream_ports)
    return f"""# Generated by aiguillage production: do not edit, change the settings instead.
worker_processes 1;
pid {d / 'nginx.pid'};
error_log {d / 'error.log'} warn;
daemon off;

events {{
    worker_connections 1024;
}}

http {{
    access_log {d / 'access.log'};
    client_body_temp_path {d / 'tmp' / 'body'};
    proxy_temp_path {d / 'tmp' / 'proxy'};
    fastcgi_temp_path {d / 'tmp' / 'fastcgi'};
    uwsgi_temp_path {d / 'tmp' / 'uwsgi'};
    scgi_temp_path {d / 'tmp' / 'scgi'};
    server_tokens off;

    upstream rasa {{
{servers}
        keepalive 32;
    }}

    server {{
        listen {listen_host}:{listen_port};
        client_max_body_size {max_body};

        location / {{
            proxy_pass http://rasa;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # A request is retried on another instance only if it never reached the first one
            # (nginx never replays a POST that was sent).
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
            proxy_read_timeout 90s;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, directory: Path, listen_host: str, listen_port: int, upstream_ports: list[int]):
        self.directory = Path(directory)
        self.listen_host, self.listen_port, self.upstream_ports = listen_host, listen_port, upstream_ports
        self.process: Optional[subprocess.Popen] = None

    @property
    def conf(self) -> Path:
        return self.directory / "nginx.conf"

    def start(self, timeout: float = 20.0) -> "Nginx":
        binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if binary is None:
            raise ServiceError("nginx n'est pas installé (paquet Debian nginx).")
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.directory / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(render_nginx_conf(self.directory, self.listen_host, self.listen_port,
                                               self.upstream_ports))
        check = subprocess.run([binary, "-t", "-c", str(self.conf), "-p", str(self.directory)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise ServiceError(f"Configuration nginx refusée : {check.stderr.strip()[-500:]}")
        self.process = subprocess.Popen([binary, "-c", str(self.conf), "-p", str(self.directory)],
                                        stdout=open(self.directory / "nginx.out", "ab"), stderr=subprocess.STDOUT)
        if not wait_for_port(self.listen_port, timeout, "127.0.0.1" if self.listen_host == "0.0.0.0"
                             else self.listen_host):
            self.stop()
            raise ServiceError(f"nginx n'a pas démarré (voir {self.directory / 'error.log'}).")
        return self

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None
