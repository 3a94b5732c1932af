"""The lab: a private Docker engine, a local registry (the engine's mirror), Redis and, with
LAB_DATABASE=postgres, PostgreSQL.

    python tests/lab.py run -- pytest ...     start the lab, run the command with its
                                              environment, stop the lab (whatever happens)

Everything lives under one temporary folder and listens on 127.0.0.1 only. The engine
gets its own data root, exec root, socket and bridge, so it never meets a host's
docker0; images are built offline FROM scratch with Debian's static busybox. The tests'
database is SQLite (a file in that folder) unless LAB_DATABASE=postgres.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
HELLO_TEXT = """
Hello from Docker!
This message shows that your installation appears to be working correctly.

To generate this message, Docker took the following steps:
 1. The Docker client contacted the Docker daemon.
 2. The Docker daemon pulled the "hello-world" image from the Docker Hub.
 3. The Docker daemon created a new container from that image which runs the
    executable that produced the output you are currently reading.
 4. The Docker daemon streamed that output to the Docker client, which sent it
    to your terminal.
"""
REQUIRED = {
    "dockerd": "docker.io",
    "docker": "docker.io",
    "docker-registry": "docker-registry",
    "redis-server": "redis-server",
}
# Debian's postgresql package (PostgreSQL 15 on bookworm); the newest installed if there are several.
POSTGRES_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), default=Path("/-"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"lab: {what} did not come up within {timeout:.0f}s")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Lab:
    root: Path
    registry_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    bridge: str = field(default_factory=lambda: f"clab{os.getpid() % 100000}")
    database: str = "sqlite"
    postgres_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def docker_host(self) -> str:
        return f"unix://{self.root}/docker.sock"

    @property
    def registry(self) -> str:
        return f"127.0.0.1:{self.registry_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def database_url(self) -> str:
        if self.database == "postgres":
            return f"postgres://lab@127.0.0.1:{self.postgres_port}/console"
        return f"sqlite:///{self.root / 'console.sqlite3'}"

    def env(self) -> dict[str, str]:
        return {
            "DOCKER_HOST": self.docker_host,
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database_url,
            "TEST_DATABASE_NAME": str(self.root / "test.sqlite3"),  # SQLite only
            "LAB_REGISTRY": self.registry,
            "LAB_ROOT": str(self.root),
            "LAB_REGISTRY_CONFIG": str(self.root / "registry.yml"),
            "LAB_REDIS_PORT": str(self.redis_port),
        }

    def docker(self, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker", *args],
            env={**os.environ, "DOCKER_HOST": self.docker_host, "DOCKER_BUILDKIT": "0"},
            input=input,
            capture_output=True,
            check=check,
        )

    # --- parts ---------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.root / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def start_registry(self) -> None:
        (self.root / "registry").mkdir(exist_ok=True)
        (self.root / "registry.yml").write_text(
            json.dumps(
                {
                    "version": 0.1,
                    "log": {"level": "warn"},
                    "storage": {
                        "filesystem": {"rootdirectory": str(self.root / "registry")},
                        "delete": {"enabled": True},
                    },
                    "http": {"addr": self.registry},
                }
            )
        )
        self._spawn("registry", ["docker-registry", "serve", str(self.root / "registry.yml")])
        wait_for(lambda: port_open(self.registry_port), "the registry")

    def start_redis(self) -> None:
        self._spawn(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
        )
        wait_for(lambda: port_open(self.redis_port), "redis")

    def start_postgres(self) -> None:
        """PostgreSQL as the `postgres` user (it refuses root), its data and socket in the lab folder,
        trust for the superuser `lab`; no durability, which a test run does not need."""
        data, sockets = self.root / "postgres", self.root / "postgres-socket"
        self.root.chmod(0o711)  # the postgres user reaches its own folders, and nothing else of ours
        for folder in (data, sockets):
            folder.mkdir()
            shutil.chown(folder, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*as_postgres, str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "lab", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        settings = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "200"}
        self._spawn(
            "postgres",
            [
                *as_postgres,
                str(POSTGRES_BIN / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.postgres_port),
                "-k",
                str(sockets),
                *[arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")],
            ],
        )
        wait_for(lambda: port_open(self.postgres_port), "postgres")
        createdb = ["createdb", "-h", "127.0.0.1", "-p", str(self.postgres_port), "-U", "lab", "console"]
        wait_for(lambda: subprocess.run(createdb, capture_output=True).returncode == 0, "the console database")

    def start_engine(self) -> None:
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        subnet = f"10.{200 + os.getpid() % 50}.{os.getpid() % 250}"
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", f"{subnet}.1/24", "dev", self.bridge], check=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)
        self._spawn(
            "dockerd",
            [
                "dockerd",
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "-H",
                self.docker_host,
                "--pidfile",
                str(self.root / "docker.pid"),
                "--bridge",
                self.bridge,
                "--iptables=false",
                "--ip-masq=false",
                "--registry-mirror",
                f"http://{self.registry}",
                "--insecure-registry",
                self.registry,
                # A broken download fails the pull at once instead of after four more tries.
                "--max-download-attempts",
                "1",
            ],
        )
        wait_for(lambda: self.docker("version").returncode == 0, "dockerd", timeout=60)

    def start(self) -> Lab:
        missing = [f"{cmd} (apt-get install {pkg})" for cmd, pkg in REQUIRED.items() if not shutil.which(cmd)]
        if not BUSYBOX.exists():
            missing.append("/bin/busybox (apt-get install busybox-static)")
        if missing:
            raise SystemExit("lab: missing " + ", ".join(missing))
        if os.geteuid() != 0:
            raise SystemExit("lab: the lab engine needs root (dockerd, a bridge); run as root")
        if self.database == "postgres" and not (POSTGRES_BIN / "postgres").exists():
            raise SystemExit("lab: LAB_DATABASE=postgres needs PostgreSQL (apt-get install postgresql)")
        self.start_registry()
        self.start_redis()
        if self.database == "postgres":
            self.start_postgres()
        self.start_engine()
        self.seed()
        return self

    def stop(self) -> None:
        for name in ("dockerd", "registry", "redis", "postgres"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                # SIGINT is PostgreSQL's fast shutdown; its SIGTERM would wait for every client to leave.
                os.killpg(proc.pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # A test that stops Redis for real starts it again outside our process group, and redis-server
        # renames its process, so it is asked to shut down on its port.
        if port_open(self.redis_port):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.redis_port), 2) as s:
                s.sendall(b"SHUTDOWN NOSAVE\r\n")
                s.recv(64)
        # dockerd leaves containerd-shims behind when it is killed; end anything still under our root.
        subprocess.run(["pkill", "-f", str(self.root)], capture_output=True)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        subprocess.run(["umount", "-R", str(self.root / "exec")], capture_output=True)
        subprocess.run(["umount", "-R", str(self.root / "data")], capture_output=True)

    def leftovers(self) -> list[str]:
        """What of the lab still runs: its ports answering, or processes naming its folder."""
        deadline = time.monotonic() + 10
        while True:
            ports = [self.redis_port, self.registry_port]
            if self.database == "postgres":
                ports.append(self.postgres_port)
            left = [f"port {p}" for p in ports if port_open(p)]
            found = subprocess.run(["pgrep", "-f", str(self.root)], capture_output=True, text=True).stdout.split()
            left += [f"pid {pid}" for pid in found if int(pid) != os.getpid()]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.2)

    # --- seed images -------------------------------------------------------------

    def build(self, tag: str, dockerfile: str, files: dict[str, bytes]) -> None:
        with tempfile.TemporaryDirectory(dir=self.root) as ctx:
            shutil.copy(BUSYBOX, Path(ctx) / "busybox")
            for name, content in files.items():
                (Path(ctx) / name).write_bytes(content)
            (Path(ctx) / "Dockerfile").write_text(dockerfile)
            self.docker("build", "-q", "-t", tag, ctx)

    def push(self, tag: str) -> None:
        self.docker("push", tag)
        self.docker("rmi", tag)

    def seed(self) -> None:
        """What the tutorial uses: hello-world, httpd:2.4 = httpd:latest, and httpd:2.2 (five layers)."""
        reg = self.registry
        self.build(
            f"{reg}/library/hello-world:latest",
            "FROM scratch\nCOPY busybox /bin/busybox\nCOPY hello.txt /hello.txt\n"
            'CMD ["/bin/busybox", "cat", "/hello.txt"]\n',
            {"hello.txt": HELLO_TEXT.encode()},
        )
        httpd = (
            "FROM scratch\nCOPY busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            "COPY index.html /www/index.html\n"
            "EXPOSE 80\n"
            'CMD ["/bin/sh", "-c", "echo \\"httpd {version}: serving /www on port 80\\"; '
            'exec httpd -f -v -p 80 -h /www"]\n'
        )
        self.build(f"{reg}/library/httpd:2.4", httpd.format(version="2.4"), {"index.html": b"<h1>It works!</h1>\n"})
        self.docker("tag", f"{reg}/library/httpd:2.4", f"{reg}/library/httpd:latest")
        # 2.2: a different image of five layers, one of them 24 MB, so pull progress is visible.
        self.build(
            f"{reg}/library/httpd:2.2",
            httpd.format(version="2.2").replace(
                "COPY index.html",
                "COPY modules.bin /usr/lib/httpd/modules.bin\nCOPY conf.txt /etc/httpd.conf\nCOPY index.html",
            ),
            {
                "index.html": b"<h1>It works! (2.2)</h1>\n",
                "modules.bin": os.urandom(24_000_000),
                "conf.txt": b"Listen 80\n",
            },
        )
        for ref in ("hello-world:latest", "httpd:2.4", "httpd:latest", "httpd:2.2"):
            self.docker("push", f"{reg}/library/{ref}")
        for ref in ("hello-world:latest", "httpd:2.4", "httpd:latest", "httpd:2.2"):
            self.docker("rmi", f"{reg}/library/{ref}")
        self.docker("image", "prune", "-f")


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "run" or "--" not in argv:
        print(__doc__)
        return 2
    command = argv[argv.index("--") + 1 :]
    root = Path(tempfile.mkdtemp(prefix="console-lab-"))
    database = os.environ.get("LAB_DATABASE") or "sqlite"
    if database not in ("sqlite", "postgres"):
        raise SystemExit(f"lab: LAB_DATABASE must be sqlite or postgres, not {database!r}")
    lab = Lab(root, database=database)
    started = time.monotonic()
    try:
        lab.start()
        print(
            f"lab: engine {lab.docker_host}, registry {lab.registry}, redis {lab.redis_url}, "
            f"database {lab.database_url} (up in {time.monotonic() - started:.1f}s)",
            flush=True,
        )
        env = {**os.environ, **lab.env()}
        code = subprocess.call(command, env=env)
    finally:
        lab.stop()
        shutil.rmtree(root, ignore_errors=True)
    # The run must leave nothing of its own behind; a leak fails it.
    if left := lab.leftovers():
        print(f"lab: processes left running after the lab stopped: {left}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
