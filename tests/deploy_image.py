"""The console's image, built offline in the lab: a Debian 13 base made with mmdebstrap, the wheels of
requirements.txt fetched on the host, both cached under ~/.cache/docker-console (made again when their
inputs change), and `docker build --network none` with the lab engine's classic builder."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "docker-console"
BASE_TAG = "docker-console-base:trixie"
IMAGE_TAG = "docker-console"
# Debian 13 "trixie" (its python3 is 3.13): the smallest variant with what the console needs at run time.
MMDEBSTRAP = [
    "mmdebstrap",
    "--variant=minbase",
    "--include=python3,python3-venv",
    "--aptopt=APT::Install-Recommends false",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "trixie",
]
MIRROR = "http://deb.debian.org/debian"
# cp313 wheels for x86_64 Linux with glibc 2.17 to 2.36 (bookworm's; trixie has 2.41): pip does not widen
# a --platform itself, so every manylinux tag is named.
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(17, 37)] + ["manylinux2014_x86_64"]


def _key(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()[:12]


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"deploy: {argv[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def base_tarball() -> Path:
    """The mmdebstrap tarball of the base (made once per set of arguments)."""
    tarball = CACHE / f"base-trixie-{_key(*MMDEBSTRAP, MIRROR)}.tar"
    if tarball.exists():
        return tarball
    if not shutil.which("mmdebstrap"):
        raise RuntimeError("deploy: mmdebstrap is missing (apt-get install mmdebstrap; scripts/system-packages does)")
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(f".{os.getpid()}.tar")
    try:
        _run([*MMDEBSTRAP, str(partial), MIRROR])
        partial.rename(tarball)
    finally:
        partial.unlink(missing_ok=True)
    return tarball


def wheelhouse() -> Path:
    """The wheels of requirements.txt for cp313 on x86_64 Linux, hashes checked (made once per lock)."""
    lock = (ROOT / "requirements.txt").read_bytes()
    house = CACHE / f"wheelhouse-{_key(lock, *PLATFORMS)}"
    if house.exists():
        return house
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix="wheelhouse-", dir=CACHE))
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    try:
        _run(
            [sys.executable, "-m", "pip", "download", "-q", "--require-hashes", "-r", str(ROOT / "requirements.txt")]
            + ["-d", str(partial), "--only-binary=:all:", "--python-version", "3.13", "--implementation", "cp"]
            + platforms
        )
        partial.rename(house)
    except OSError:
        if not house.exists():  # else another run made it meanwhile
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return house


def build_context(into: Path, wheels: Path) -> Path:
    """The repository's files as committed or changed (not what git ignores), and the wheels as wheelhouse/."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    shutil.copytree(wheels, into / "wheelhouse")
    return into


def docker(*args: str) -> subprocess.CompletedProcess:
    """The docker CLI against the lab engine (DOCKER_HOST), with its classic builder."""
    result = subprocess.run(
        ["docker", *args], env={**os.environ, "DOCKER_BUILDKIT": "0"}, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def build(times: dict[str, float]) -> str:
    """Import the base into the lab engine and build the console's image on it, offline. Returns its tag."""
    started = time.monotonic()
    tarball = base_tarball()
    times["base"] = time.monotonic() - started
    started = time.monotonic()
    wheels = wheelhouse()
    times["wheelhouse"] = time.monotonic() - started
    started = time.monotonic()
    docker("import", str(tarball), BASE_TAG)
    times["import"] = time.monotonic() - started
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="deploy-context-") as ctx:
        build_context(Path(ctx), wheels)
        docker("build", "--network", "none", "--build-arg", f"BASE={BASE_TAG}", "-t", IMAGE_TAG, ctx)
    times["build"] = time.monotonic() - started
    return IMAGE_TAG
