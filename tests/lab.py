"""The lab: three private Docker engines, a local registry (their mirror), Redis and, with
LAB_DATABASE=postgres, PostgreSQL.

    python tests/lab.py run -- pytest ...     start the lab, run the command with its
                                              environment, stop the lab (whatever happens)
    python tests/lab.py engine stop|start NAME
                                              stop or start again one engine's dockerd (local, tls,
                                              ssh) of the lab in LAB_ROOT (fault tests)

The engines: "local" on a unix socket (DOCKER_HOST), "tls" on tcp://127.0.0.1 with client
certificates (LAB_TLS_*), "ssh" behind a local sshd (LAB_SSH_*), which runs
`docker system dial-stdio` against it. Certificates and keys are made by openssl and ssh-keygen
(the lab runs under the system python too, which has no `cryptography`).

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
    "openssl": "openssl",
    "ssh-keygen": "openssh-client",
    "/usr/sbin/sshd": "openssh-server",
}
ENGINES_FILE = "engines.json"  # in the lab folder: how to stop and start each engine again
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


def _pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """Running: not ended, and not a zombie its parent has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def descendants(pid: int) -> list[int]:
    """Every process under pid (children, theirs, ...), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _environ_naming(text: str) -> list[int]:
    needle = text.encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError):
            if needle in environ.read_bytes():
                found.append(int(environ.parent.name))
    return [pid for pid in found if pid != os.getpid() and _alive(pid)]


@dataclass
class LabEngine:
    """One dockerd of the lab: its folder (data, exec root, socket, pidfile), its bridge and its log."""

    name: str
    home: Path
    bridge: str
    subnet: str  # "10.x.y": the bridge is 10.x.y.1/24
    log: Path
    listen: list[str] = field(default_factory=list)  # more -H addresses, with their TLS flags

    @property
    def socket(self) -> str:
        return f"unix://{self.home}/docker.sock"

    @property
    def pidfile(self) -> Path:
        return self.home / "docker.pid"

    def argv(self, registry: str) -> list[str]:
        return [
            "dockerd",
            "--data-root",
            str(self.home / "data"),
            "--exec-root",
            str(self.home / "exec"),
            "-H",
            self.socket,
            *self.listen,
            "--pidfile",
            str(self.pidfile),
            "--bridge",
            self.bridge,
            "--iptables=false",
            "--ip-masq=false",
            "--registry-mirror",
            f"http://{registry}",
            "--insecure-registry",
            registry,
            # A broken download fails the pull at once instead of after four more tries.
            "--max-download-attempts",
            "1",
        ]

    def add_bridge(self) -> None:
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", f"{self.subnet}.1/24", "dev", self.bridge], check=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)

    def answers(self) -> bool:
        return docker_at(self.socket, "version", timeout=30).returncode == 0

    def network_bridges(self) -> list[str]:
        """The host bridges of the engine's own bridge networks (`br-` and the network's short id)."""
        try:
            ids = docker_at(self.socket, "network", "ls", "-q", "--filter", "driver=bridge", timeout=10)
        except subprocess.TimeoutExpired:
            return []
        return [f"br-{net[:12]}" for net in ids.stdout.decode().split()] if ids.returncode == 0 else []


def docker_at(host: str, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """The docker CLI against one engine (its unix socket)."""
    env = {**os.environ, "DOCKER_HOST": host, "DOCKER_BUILDKIT": "0"}
    for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        env.pop(name, None)
    return subprocess.run(["docker", *args], env=env, capture_output=True, timeout=timeout)


@dataclass
class Lab:
    root: Path
    registry_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    bridge: str = field(default_factory=lambda: f"clab{os.getpid() % 100000}")
    database: str = "sqlite"
    postgres_port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    ssh_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    engines: dict[str, LabEngine] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pid = os.getpid()
        # Each engine has a bridge and a /24 of its own; the first keeps the names it always had.
        self.engines["local"] = LabEngine(
            "local", self.root, self.bridge, f"10.{200 + pid % 50}.{pid % 250}", self.root / "dockerd.log"
        )
        tls, certs = self.root / "tls", self.tls_certs
        self.engines["tls"] = LabEngine(
            "tls",
            tls,
            f"clabt{pid % 100000}",
            f"10.{150 + pid % 50}.{pid % 250}",
            tls / "dockerd.log",
            [
                "-H",
                f"tcp://127.0.0.1:{self.tls_port}",
                "--tlsverify",
                "--tlscacert",
                str(certs / "ca.pem"),
                "--tlscert",
                str(tls / "server-cert.pem"),
                "--tlskey",
                str(tls / "server-key.pem"),
            ],
        )
        ssh = self.root / "ssh"
        self.engines["ssh"] = LabEngine(
            "ssh", ssh, f"clabs{pid % 100000}", f"10.{100 + pid % 50}.{pid % 250}", ssh / "dockerd.log"
        )

    @property
    def docker_host(self) -> str:
        return self.engines["local"].socket

    @property
    def tls_certs(self) -> Path:
        return self.root / "tls" / "client"

    @property
    def ssh_dir(self) -> Path:
        return self.root / "ssh"

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
            "LAB_TLS_HOST": f"tcp://127.0.0.1:{self.tls_port}",
            "LAB_TLS_CERTS": str(self.tls_certs),  # ca.pem, cert.pem, key.pem (the client's)
            "LAB_TLS_SOCKET": self.engines["tls"].socket,
            "LAB_SSH_HOST": f"ssh://root@127.0.0.1:{self.ssh_port}",
            "LAB_SSH_KEY": str(self.ssh_dir / "id_ed25519"),
            "LAB_SSH_HOST_KEY": str(self.ssh_dir / "ssh_host_ed25519_key.pub"),
            "LAB_SSH_SOCKET": self.engines["ssh"].socket,
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

    def _spawn(self, name: str, argv: list[str], log: Path | None = None) -> None:
        out = open(log or self.root / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

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

    def make_tls_material(self) -> None:
        """A CA, the tls engine's server certificate (127.0.0.1, localhost) and a client certificate,
        as `docker --tlsverify` expects them: ca.pem, cert.pem, key.pem."""
        tls, client = self.root / "tls", self.tls_certs
        client.mkdir(parents=True, mode=0o700)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"]

        def openssl(*args: str) -> None:
            subprocess.run(["openssl", "req", "-x509", *ec, *args], check=True, capture_output=True)

        ca, ca_key = client / "ca.pem", tls / "ca-key.pem"
        openssl("-keyout", str(ca_key), "-out", str(ca), "-subj", "/CN=console lab CA")
        signed = ["-CA", str(ca), "-CAkey", str(ca_key)]
        openssl(
            *signed,
            "-keyout",
            str(tls / "server-key.pem"),
            "-out",
            str(tls / "server-cert.pem"),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "extendedKeyUsage=serverAuth",
        )
        openssl(
            *signed,
            "-keyout",
            str(client / "key.pem"),
            "-out",
            str(client / "cert.pem"),
            "-subj",
            "/CN=console",
            "-addext",
            "extendedKeyUsage=clientAuth",
        )

    def make_ssh_material(self) -> None:
        """The sshd's host key, the console's client key, and an authorized_keys line that points
        `docker system dial-stdio` at the ssh engine's socket."""
        ssh = self.ssh_dir
        ssh.mkdir(parents=True, mode=0o700)
        for key in ("ssh_host_ed25519_key", "id_ed25519"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"console-lab-{key}", "-f", str(ssh / key)],
                check=True,
                capture_output=True,
            )
        public = (ssh / "id_ed25519.pub").read_text().strip()
        (ssh / "authorized_keys").write_text(f'environment="DOCKER_HOST={self.engines["ssh"].socket}" {public}\n')
        (ssh / "sshd_config").write_text(
            "\n".join(
                [
                    f"Port {self.ssh_port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {ssh / 'ssh_host_ed25519_key'}",
                    f"PidFile {ssh / 'sshd.pid'}",
                    f"AuthorizedKeysFile {ssh / 'authorized_keys'}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitUserEnvironment yes",
                    "StrictModes no",  # the lab folder is in /tmp
                    "UsePAM no",
                    "",
                ]
            )
        )

    def start_sshd(self) -> None:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # Debian's sshd wants its privilege separation folder
        self._spawn("sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", str(self.ssh_dir / "sshd_config")])

    def start_engines(self) -> None:
        """Each engine's bridge and dockerd, all started at once; `wait_engines` waits for them."""
        state = {}
        for engine in self.engines.values():
            engine.home.mkdir(exist_ok=True)
            engine.add_bridge()
            argv = engine.argv(self.registry)
            self._spawn(f"dockerd-{engine.name}", argv, engine.log)
            state[engine.name] = {
                "argv": argv,
                "pidfile": str(engine.pidfile),
                "socket": engine.socket,
                "log": str(engine.log),
            }
        (self.root / ENGINES_FILE).write_text(json.dumps(state, indent=1))

    def wait_engines(self) -> None:
        for engine in self.engines.values():
            wait_for(engine.answers, f"dockerd ({engine.name})", timeout=60)

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
        self.make_tls_material()
        self.make_ssh_material()
        # Everything starts at once; the waits come after (dockerd takes the longest).
        self.start_registry()
        self.start_redis()
        self.start_engines()
        self.start_sshd()
        if self.database == "postgres":
            self.start_postgres()
        wait_for(lambda: port_open(self.registry_port), "the registry")
        wait_for(lambda: port_open(self.redis_port), "redis")
        wait_for(lambda: port_open(self.ssh_port), "sshd")
        self.wait_engines()
        self.seed()
        return self

    def stop(self) -> None:
        # The bridges of the networks tests made (a stopped dockerd leaves them on the host, and enough of them
        # use up every address pool dockerd picks subnets from); deleted once their engine has stopped.
        bridges = [bridge for engine in self.engines.values() for bridge in engine.network_bridges()]
        # The engines first, all asked at once (a fault test may have started one again outside our group).
        pids = [pid for engine in self.engines.values() if (pid := _pid(engine.pidfile))]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        sshd = self.procs.get("sshd")
        if sshd is not None:
            # sshd leaves its sessions (and their `docker system dial-stdio`) running when it ends.
            for pid in [*descendants(sshd.pid), sshd.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        names = [name for name in self.procs if name.startswith("dockerd-")]
        for name in (*names, "sshd", "registry", "redis", "postgres"):
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
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        # A test that stops Redis for real starts it again outside our process group, and redis-server
        # renames its process, so it is asked to shut down on its port.
        if port_open(self.redis_port):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.redis_port), 2) as s:
                s.sendall(b"SHUTDOWN NOSAVE\r\n")
                s.recv(64)
        # dockerd leaves containerd-shims behind when it is killed; end anything still under our root.
        subprocess.run(["pkill", "-f", str(self.root)], capture_output=True)
        for bridge in [*bridges, *(engine.bridge for engine in self.engines.values())]:
            subprocess.run(["ip", "link", "delete", bridge], capture_output=True)
        for engine in self.engines.values():
            subprocess.run(["umount", "-R", str(engine.home / "exec")], capture_output=True)
            subprocess.run(["umount", "-R", str(engine.home / "data")], capture_output=True)

    def leftovers(self) -> list[str]:
        """What of the lab still runs: its ports answering, processes naming its folder, or sessions
        of its sshd (they name the ssh engine's socket in their environment)."""
        deadline = time.monotonic() + 10
        while True:
            ports = [self.redis_port, self.registry_port, self.tls_port, self.ssh_port]
            if self.database == "postgres":
                ports.append(self.postgres_port)
            left = [f"port {p}" for p in ports if port_open(p)]
            found = subprocess.run(["pgrep", "-f", str(self.root)], capture_output=True, text=True).stdout.split()
            left += [f"pid {pid}" for pid in found if int(pid) != os.getpid()]
            left += [f"pid {pid}" for pid in _environ_naming(f"DOCKER_HOST={self.engines['ssh'].socket}")]
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


# --- one engine stopped and started again (fault tests) ------------------------------------------


def _engine_state(name: str, root: Path | None) -> dict:
    root = root or Path(os.environ["LAB_ROOT"])
    state = json.loads((root / ENGINES_FILE).read_text())
    if name not in state:
        raise SystemExit(f"lab: no engine {name!r} (there are {', '.join(state)})")
    return state[name]


def engine_stop(name: str, root: Path | None = None, timeout: float = 90) -> None:
    """Stop one engine's dockerd of the lab (SIGTERM by its pidfile) and wait until it is gone."""
    state = _engine_state(name, root)
    pid = _pid(Path(state["pidfile"]))
    if pid is not None and _alive(pid):
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not _alive(pid), f"dockerd ({name}) to stop", timeout=timeout)


def engine_start(name: str, root: Path | None = None, timeout: float = 90) -> None:
    """Start one engine's dockerd again with the command line the lab gave it; wait until it answers."""
    state = _engine_state(name, root)
    pid = _pid(Path(state["pidfile"]))
    if pid is None or not _alive(pid):
        with open(state["log"], "ab") as log:
            subprocess.Popen(state["argv"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(lambda: docker_at(state["socket"], "version", timeout=30).returncode == 0, f"dockerd ({name})", timeout)


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "engine" and argv[2] in ("stop", "start"):
        (engine_stop if argv[2] == "stop" else engine_start)(argv[3])
        return 0
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
            f"lab: engines {lab.docker_host}, tcp://127.0.0.1:{lab.tls_port} (TLS), ssh://127.0.0.1:{lab.ssh_port}, "
            f"registry {lab.registry}, redis {lab.redis_url}, "
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
