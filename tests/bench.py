"""`make bench`: the console at scale, in a lab of its own. Not part of the tests.

    python tests/lab.py run -- .venv/bin/python tests/bench.py [--quick]

1. Lists at scale: 100, 300 and 1,000 containers (most never started) and as many image tags. The median time
   of the container and image list pages and of their live partials, each next to the median of the raw
   engine call it depends on, timed turn about in the same run; with the shared snapshot and without it (no
   watcher). With the largest lab: the System page against `GET /info`, and the fixed cost of a signed-in
   request (a job poll answering 204 less the same poll sent without a session, answered 401).
2. Pulls: the fixed cost (an image the engine already has), then a 40 MB image of one layer and a 200 MB
   image of four layers from the lab registry, pulled through the console (form post until its job page
   shows the end) and with `docker pull`, turn about, removed in between.
3. Viewers: engine API requests per second, counted by a proxy in front of the engine socket,
   while 1, 10 and 50 simulated viewers keep the dashboard and the container list open.
4. Queue: 20 different pulls submitted at once, then 20 identical ones: time until all have
   finished, and how many pulls the engine was asked for.
5. Memory: the peak RSS of a web worker and of a Celery worker process during 1-4.
6. Fleet: the fleet page (`/`) with the lab's three engines, then with several dead or hung ones added
   (unix sockets that do not exist, tcp ports nothing listens on, a socket that accepts and never answers):
   its time must not grow with them; the page with 10 engines against one `GET /containers/json?all=1` of the
   largest; and the engine requests each viewer of the fleet page costs.

Prints a table and writes it, with the machine it ran on, to docs/benchmarks.md
(--quick: a small lab and few repetitions, to try the script; it writes nothing;
--fleet: only part 6, whose section of docs/benchmarks.md it replaces;
--terminal: only part 7, likewise).

7. Terminal: keystroke echo latency (p50 / p95) through the console's terminal (WebSocket, uvicorn, the engine's
   exec stream) beside `docker exec -it` driven through a pty; page times with 0 and with 20 terminals open.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import random
import re
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import termios
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import docker  # noqa: E402
import redis  # noqa: E402
import requests  # noqa: E402

from console.system.management.commands.serve import console_processes  # noqa: E402
from tests.console_process import ConsoleProcess  # noqa: E402
from tests.engine_proxy import EngineProxy  # noqa: E402
from tests.images_registries import import_image, seed_image  # noqa: E402
from tests.lab import free_port, wait_for  # noqa: E402

QUICK = "--quick" in sys.argv
FLEET_ONLY = "--fleet" in sys.argv
TERMINAL_ONLY = "--terminal" in sys.argv
SIZES = (20, 50, 100) if QUICK else (100, 300, 1000)  # containers, and image tags, the lists are timed at
RUNNING, IMAGES = (5, 10) if QUICK else (10, 100)  # containers started; images the tags name (10 tags at most each)
REPEAT = 5 if QUICK else 15  # timed requests of each list, and as many raw engine calls
PULLS = 2 if QUICK else 5  # pulls of each image each way
LAYERS, LAYER_MB = 4, 50
SMALL_MB = 40  # the small image: one layer (the was 42 MB)
FIXED_REPEAT = 10 if QUICK else 60  # signed-in and anonymous requests timed for the fixed cost of a request
VIEWERS = (1, 10, 50)
VIEWING_SECONDS = 10 if QUICK else 30
DASHBOARD_POLL = 5  # the dashboard's hx-trigger="every 5s"; the container list does not poll
QUEUE = 20
PASSWORD = "bench-viewer-pass-1"
OUT = ROOT / "docs" / "benchmarks.md"
ENGINE_SOCKET = os.environ["DOCKER_HOST"].removeprefix("unix://")
REGISTRY = os.environ["LAB_REGISTRY"]


@dataclass
class Row:
    measure: str
    result: str
    target: str = ""
    met: bool | None = None

    def markdown(self) -> str:
        verdict = {None: "", True: "met", False: "**missed**"}[self.met]
        return f"| {self.measure} | {self.result} | {self.target} | {verdict} |"


ROWS: list[Row] = []
NOTES: list[str] = []


def report(measure: str, result: str, target: str = "", met: bool | None = None) -> None:
    row = Row(measure, result, target, met)
    ROWS.append(row)
    print(row.markdown(), flush=True)


# --- helpers ------------------------------------------------------------------------------------


class EngineConnection(http.client.HTTPConnection):
    """HTTP to the engine's unix socket, with nothing of the SDK in between."""

    def __init__(self):
        super().__init__("localhost", timeout=60)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(ENGINE_SOCKET)


def engine_get(path: str) -> bytes:
    conn = EngineConnection()
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, (path, response.status)
        return body
    finally:
        conn.close()


def seconds(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def clone(session: requests.Session) -> requests.Session:
    """The same signed-in browser in another thread (a Session is not shared across threads)."""
    copy = requests.Session()
    copy.headers.update(session.headers)
    copy.cookies.update(session.cookies)
    return copy


def post(console: ConsoleProcess, session: requests.Session, path: str, **data: str) -> str:
    """Send a form as a browser would; the address it lands on."""
    response = session.post(f"{console.url}{path}", data=data, timeout=120)
    response.raise_for_status()
    return response.url


def wait_finished(console: ConsoleProcess, session: requests.Session, job: str, page: str = "") -> str:
    """Poll the job page's live part as its htmx trigger does: at the pace the page names (`every 100ms`
    while the job is young), with the revision and pace it has, so an unchanged job answers 204; its final state."""
    page = page or session.get(job, timeout=60).text
    if not (polling := re.search(r'"rev": "(\d+)", "every": "(\w+)"', page)):  # it had ended when its page was drawn
        return re.search(r'id="job-state">(\w+)<', page).group(1)
    revision, every = polling.groups()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(_pace(every))
        params = {"rev": revision, "every": every}
        response = session.get(job, params=params, headers={"HX-Request": "true"}, timeout=60)
        if response.status_code == 286:  # htmx: stop polling, the job has finished
            return re.search(r'id="job-state">(\w+)<', response.text).group(1)
        if response.status_code == 200 and response.headers.get("HX-Reswap") != "none":  # not the clock alone
            revision, every = re.search(r'"rev": "(\d+)", "every": "(\w+)"', response.text).groups()
    raise TimeoutError(job)


def _pace(every: str) -> float:
    return int(every.removesuffix("ms")) / 1000 if every.endswith("ms") else int(every.removesuffix("s"))


def manage_output(console: ConsoleProcess, *args: str) -> str:
    argv = [sys.executable, "manage.py", *args]
    return subprocess.run(argv, cwd=ROOT, env=console.env, check=True, capture_output=True, text=True).stdout


def docker_cli(*args: str) -> None:
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    subprocess.run(["docker", *args], env=env, check=True, capture_output=True)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return found


def _peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory this process has had, in bytes."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024


PEAKS = {"web": 0, "worker": 0}


def note_memory(console: ConsoleProcess) -> None:
    """The peaks so far of the web server's workers and of the Celery processes (main and pool)."""
    web = console.procs["web"].pid
    worker = console.procs["worker"].pid
    PEAKS["web"] = max([PEAKS["web"], *map(_peak_rss, _children(web))])
    PEAKS["worker"] = max([PEAKS["worker"], _peak_rss(worker), *map(_peak_rss, _children(worker))])


def restart_watcher(console: ConsoleProcess) -> None:
    """The console's watcher again (a first one, or after a stop: the snapshot is then listed afresh)."""
    if console.procs["watcher"].poll() is None:
        return
    argv = console_processes(sys.executable, "127.0.0.1", console.port, web_workers=console.web_workers)
    console._spawn("watcher", argv["watcher"])


def watcher_following() -> bool:
    raw = redis.Redis.from_url(os.environ["REDIS_URL"]).get("console:local:watcher")
    return bool(raw) and b'"connected": true' in raw


def machine() -> list[str]:
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    memory = int(re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text()).group(1))
    engine = docker.from_env().version()
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu.group(1) if cpu else platform.processor()}, {os.cpu_count()} cores (nproc)",
        f"- Memory: {memory / 1024 / 1024:.1f} GiB; load average when the run ended:"
        f" {' / '.join(f'{load:.2f}' for load in os.getloadavg())} (1 / 5 / 15 min)",
        f"- OS: {platform.platform()}; Docker Engine {engine['Version']}; Python {platform.python_version()}",
    ]


# --- the scale lab ------------------------------------------------------------------------------


SCALE = {"containers": 0, "tags": 0, "seconds": 0.0}


def grow_scale_lab(client: docker.DockerClient, size: int) -> None:
    """Up to `size` bench containers (RUNNING of them started) and `size` bench image tags (on IMAGES images,
    tags 1, 2, …), made fast with the engine API from 16 threads."""
    started = time.monotonic()
    client.images.pull("hello-world", tag="latest")
    client.images.pull("httpd", tag="2.4")

    def create(i: int) -> None:
        name = f"bench-{i:04}"
        image = "httpd:2.4" if i < RUNNING or i % 2 else "hello-world"
        client.api.create_container(image, name=name, labels={"bench": "1"})
        if i < RUNNING:
            client.api.start(name)

    def tag(i: int) -> None:
        repository, number = f"bench/app{i % IMAGES:03}", i // IMAGES + 1
        if number == 1:
            import_image(repository, "1")
        else:
            client.api.tag(f"{repository}:1", repository, str(number))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(create, range(SCALE["containers"], size)))
        first = list(range(SCALE["tags"], size))
        list(pool.map(tag, [i for i in first if i < IMAGES]))  # each image before its other tags
        list(pool.map(tag, [i for i in first if i >= IMAGES]))
    SCALE.update(containers=size, tags=size, seconds=SCALE["seconds"] + time.monotonic() - started)


def snapshot_holds(size: int) -> bool:
    """The shared snapshot lists `size` bench containers and bench image tags."""
    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    containers = json.loads(r.hget("console:local:kind:containers", "data") or "[]")
    images = json.loads(r.hget("console:local:kind:images", "data") or "[]")
    names = sum(1 for c in containers if any(n.startswith("/bench-") for n in c.get("Names") or []))
    tags = sum(1 for i in images for t in i.get("RepoTags") or [] if t.startswith("bench/app"))
    return names == size and tags == size


# --- 1. lists at scale -----------------------------------------------------------------------------

LISTS = [
    ("Container list page", "/engines/local/containers/?all=1", False, "/containers/json?all=1"),
    ("Container list, live partial", "/engines/local/containers/?all=1", True, "/containers/json?all=1"),
    ("Image list page", "/engines/local/images/", False, "/images/json"),
    ("Image list, live partial", "/engines/local/images/", True, "/images/json"),
]


def turn_about(page: Callable[[], object], raw: Callable[[], object], repeat: int = REPEAT) -> tuple[float, float]:
    """Medians of a console request and a raw engine call timed turn about (so both see the same machine),
    after a warm-up of both web workers."""
    for _ in range(6):
        page(), raw()
    pages, raws = [], []
    for _ in range(repeat):
        pages.append(seconds(page))
        raws.append(seconds(raw))
    return statistics.median(pages), statistics.median(raws)


def time_lists(console: ConsoleProcess, session: requests.Session, size: int, snapshot: bool) -> None:
    limit = 0.5 if snapshot else 1.5
    for label, path, partial, raw in LISTS:
        headers = {"HX-Request": "true"} if partial else {}

        def page(path=path, headers=headers) -> None:
            response = session.get(f"{console.url}{path}", headers=headers, timeout=120)
            assert response.status_code == 200 and ("bench-" in response.text or "bench/app" in response.text)

        page_median, raw_median = turn_about(page, lambda raw=raw: engine_get(raw))
        ratio = page_median / raw_median
        measure = (
            f"{label}, {size} {'containers' if 'containers' in raw else 'tags'}"
            f" ({'with' if snapshot else 'without'} the snapshot)"
        )
        if ratio > limit:
            floor_note(f"Missed: {measure}", limit * raw_median)
        report(
            measure,
            f"{ms(page_median)} vs `GET {raw}` {ms(raw_median)}: **{ratio:.2f}x**",
            f"<= {limit}x",
            ratio <= limit,
        )


def time_system_page(console: ConsoleProcess, session: requests.Session, size: int) -> None:
    def page() -> None:
        response = session.get(f"{console.url}/engines/local/system/", timeout=120)
        assert response.status_code == 200 and 'id="health-engine"' in response.text

    page_median, raw_median = turn_about(page, lambda: engine_get("/info"))
    ratio = page_median / raw_median
    if ratio > 0.5:
        floor_note("Missed: the System page", 0.5 * raw_median)
    report(
        f"System page, {size} containers (with the snapshot)",
        f"{ms(page_median)} vs `GET /info` {ms(raw_median)}: **{ratio:.2f}x**",
        "<= 0.5x",
        ratio <= 0.5,
    )


# A job that is never sent to a worker (made in the database alone), old enough that its page polls once a second.
IDLE_JOB = """
from datetime import timedelta
from django.utils import timezone
from console.jobs.models import Job
job = Job.objects.create(kind="system.df", engine="local", requested_by_name="bench")
Job.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(hours=1))
print(job.pk)
"""


FLOOR = {"signed_in": 0.0, "bare": 0.0}  # the least a signed-in request costs here, and an anonymous one


def floor_note(measure: str, allowed: float) -> None:
    """A missed goal whose allowance is below what any signed-in request costs on this server says so."""
    if allowed < FLOOR["signed_in"]:
        NOTES.append(
            f"{measure}: the goal allows {allowed * 1000:.1f} ms, less than any signed-in request costs here (a job"
            f" poll answering 204: {ms(FLOOR['signed_in'])}; the same poll without a session: {ms(FLOOR['bare'])})."
        )


def time_fixed_cost(console: ConsoleProcess, session: requests.Session) -> None:
    """The fixed cost of a signed-in request: a job page's poll answering 204 (the session, the user, the
    middleware and the role, then one indexed lookup) less the same poll sent without a session cookie (the
    same server and middleware, answered 401 by the sign-in check: no session, user or role read), turn about."""
    job_id = manage_output(console, "shell", "-c", IDLE_JOB).split()[-1]
    url = f"{console.url}/jobs/{job_id}/"
    revision = re.search(r'"rev": "(\d+)"', session.get(url, timeout=60).text).group(1)
    anonymous = requests.Session()

    def poll() -> None:
        response = session.get(url, params={"rev": revision, "every": "1s"}, headers={"HX-Request": "true"})
        assert response.status_code == 204, response.status_code

    def anonymous_poll() -> None:
        response = anonymous.get(url, params={"rev": revision, "every": "1s"}, headers={"HX-Request": "true"})
        assert response.status_code == 401, response.status_code

    signed_in, bare = turn_about(poll, anonymous_poll, FIXED_REPEAT)
    FLOOR.update(signed_in=signed_in, bare=bare)
    fixed = signed_in - bare
    report(
        "Fixed cost of a signed-in request (middleware, session, role)",
        f"{ms(signed_in)} (a job poll answering 204) less {ms(bare)} (the same poll without a session, 401):"
        f" **{fixed * 1000:.1f} ms**",
        "<= 3 ms",
        fixed <= 0.003,
    )


# --- 2. pull overhead ------------------------------------------------------------------------------


def big_image() -> str:
    """A 200 MB image of LAYERS layers of random bytes, in the lab registry only."""
    reference = f"{REGISTRY}/bench/big:1"
    with tempfile.TemporaryDirectory() as context:
        lines = ["FROM scratch"]
        for i in range(LAYERS):
            (Path(context) / f"layer{i}.bin").write_bytes(os.urandom(LAYER_MB * 1024 * 1024))
            lines.append(f"COPY layer{i}.bin /layer{i}.bin")
        (Path(context) / "Dockerfile").write_text("\n".join(lines) + "\n")
        docker_cli("build", "-q", "-t", reference, context)
    docker_cli("push", reference)
    docker_cli("rmi", reference)
    return reference


def time_pulls(console: ConsoleProcess, session: requests.Session, client: docker.DockerClient) -> None:
    def by_console(reference: str) -> None:
        response = session.post(f"{console.url}/engines/local/images/pull/start/", data={"reference": reference})
        response.raise_for_status()
        assert wait_finished(console, session, response.url, response.text) == "succeeded", response.url

    def by_cli(reference: str) -> None:
        docker_cli("pull", "-q", reference)

    # What a pull costs besides the bytes: an image the engine already has (only its manifest is fetched).
    present = f"{REGISTRY}/library/hello-world:latest"
    by_cli(present)
    fixed = {way: [] for way in ("console", "cli")}
    for _ in range(2 * PULLS):
        for way, pull in (("console", by_console), ("cli", by_cli)):
            fixed[way].append(seconds(lambda pull=pull: pull(present)))
    console_fixed, cli_fixed = statistics.median(fixed["console"]), statistics.median(fixed["cli"])
    report(
        "A pull's fixed cost: an image the engine has, console / `docker pull` (form post until the job page"
        " shows the end)",
        f"{ms(console_fixed)} / {ms(cli_fixed)}: **{(console_fixed - cli_fixed) * 1000:.0f} ms** more",
        "<= 100 ms",
        console_fixed - cli_fixed <= 0.1,
    )

    small = f"{REGISTRY}/{seed_image(REGISTRY, 'bench/small', SMALL_MB * 1_000_000)}"
    big = big_image()
    images = [(small, f"{SMALL_MB} MB (1 layer)", 1.15), (big, f"{LAYERS * LAYER_MB} MB ({LAYERS} layers)", 1.05)]
    for reference, size, limit in images:
        by_cli(reference)  # warm up: the registry's files in the page cache
        client.api.remove_image(reference)
        times: dict[str, list[float]] = {"console": [], "cli": []}
        for _ in range(PULLS):
            for way, pull in (("console", by_console), ("cli", by_cli)):
                times[way].append(seconds(lambda pull=pull, reference=reference: pull(reference)))
                client.api.remove_image(reference)
        console_median, cli_median = statistics.median(times["console"]), statistics.median(times["cli"])
        ratio = console_median / cli_median
        report(
            f"Pull of a {size} image: console / `docker pull`",
            f"{ms(console_median)} / {ms(cli_median)}: **{ratio:.2f}x**",
            f"<= {limit:.2f}x",
            ratio <= limit,
        )
        NOTES.append(
            f"Pulls of the {size} image, in seconds, turn about: console "
            + ", ".join(f"{t:.2f}" for t in times["console"])
            + "; docker pull "
            + ", ".join(f"{t:.2f}" for t in times["cli"])
            + "."
        )
    NOTES.append(
        "A console pull is timed from the form post until its job page's live part says it has finished, polled"
        " as its htmx trigger does (every 100 ms while the job is under 5 s old, 250 ms under 30 s, then every"
        f" second). The fixed cost: medians of {2 * PULLS} pulls each way of an image the engine already has."
    )


# --- 3. viewers ------------------------------------------------------------------------------------


def watch(console: ConsoleProcess, sessions: list[requests.Session], proxy: EngineProxy) -> tuple[float, int, int]:
    """Engine requests per second while these viewers keep the dashboard and the container list open."""
    stop = threading.Event()
    served, failed = [0], [0]

    def viewer(session: requests.Session) -> None:
        session = clone(session)

        def get(path: str, **kwargs) -> requests.Response | None:
            try:
                response = session.get(f"{console.url}{path}", timeout=60, **kwargs)
            except requests.RequestException:
                failed[0] += 1
                return None
            served[0] += 1
            if response.status_code not in (200, 204):
                failed[0] += 1
            return response

        if stop.wait(random.uniform(0, DASHBOARD_POLL)):  # people open their pages at different moments
            return
        page = get("/engines/local/")
        get("/engines/local/containers/")
        token = re.search(r'"v": "([^"]*)"', page.text).group(1) if page is not None else ""
        while not stop.wait(DASHBOARD_POLL):
            poll = get("/engines/local/", params={"v": token}, headers={"HX-Request": "true"})
            if poll is not None and poll.status_code == 200:
                token = re.search(r'"v": "([^"]*)"', poll.text).group(1)

    start = proxy.count()
    started = time.monotonic()
    threads = [threading.Thread(target=viewer, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    time.sleep(VIEWING_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - started
    return len(proxy.since(start)) / elapsed, served[0], failed[0]


def time_viewers(console: ConsoleProcess, admin: requests.Session, proxy: EngineProxy) -> None:
    post(console, admin, "/users/new/", username="vera", password=PASSWORD, role="Viewer")
    with ThreadPoolExecutor(4) as pool:  # one sign-in per viewer, as each has a browser of their own
        sessions = list(pool.map(lambda _: console.session("vera", PASSWORD), range(max(VIEWERS))))
    rates = {}
    for count in VIEWERS:
        rates[count], served, failed = watch(console, sessions[:count], proxy)
        NOTES.append(
            f"{count} viewer(s) for {VIEWING_SECONDS} s: {served} pages and polls served, {failed} failed; "
            f"{rates[count]:.2f} engine requests/s."
        )
    one, many = rates[1], rates[max(VIEWERS)]
    times = f"**{many / one:.2f}x** one" if one else "one viewer cost the engine no request"
    report(
        "Engine API requests/s with 1 / 10 / 50 viewers",
        " / ".join(f"{rates[c]:.2f}" for c in VIEWERS) + f": {times}",
        "50 viewers <= 2x one",
        many <= 2 * max(one, 1 / VIEWING_SECONDS),  # one viewer may cost nothing at all: then 1 request
    )


# --- 4. queue --------------------------------------------------------------------------------------


def time_queue(console: ConsoleProcess, session: requests.Session, proxy: EngineProxy) -> None:
    different = [f"{REGISTRY}/{seed_image(REGISTRY, f'bench/queue{i:02}', 2_000_000)}" for i in range(QUEUE)]
    # Large enough that its pull is still running when the last of the posts arrives: a pull asked for after
    # the first has ended is a new pull (only a queued or running one is joined).
    same = f"{REGISTRY}/{seed_image(REGISTRY, 'bench/same', 100_000_000)}"

    def submit_all(references: list[str]) -> float:
        def submit(reference: str) -> str:
            return post(console, clone(session), "/engines/local/images/pull/start/", reference=reference)

        started = time.monotonic()
        with ThreadPoolExecutor(len(references)) as pool:
            jobs = set(pool.map(submit, references))
        states = [console.wait_job(session, job) for job in jobs]
        assert states == ["succeeded"] * len(jobs), states
        return time.monotonic() - started

    report(f"{QUEUE} different pulls submitted at once: until all have finished", ms(submit_all(different)))
    start = proxy.count()
    elapsed = submit_all([same] * QUEUE)
    pulls = [r for r in proxy.since(start) if "/images/create" in r and "bench/same" in urllib.parse.unquote(r)]
    report(
        f"{QUEUE} identical pulls submitted at once: until all have finished; engine pulls",
        f"{ms(elapsed)}; **{len(pulls)}** engine pull(s)",
        "1 engine pull",
        len(pulls) == 1,
    )


# --- 6. fleet --------------------------------------------------------------------------------------

FLEET_REPEAT = 10 if QUICK else 60
FLEET_VIEWERS = (0, 1, 10)
FLEET_VIEWING_SECONDS = 10 if QUICK else 20
FLEET_ROWS: list[Row] = []
FLEET_NOTES: list[str] = []
# The lab's engines as Engine rows of the bench console (the tests' own helper), and more from the environment.
ENGINE_ROWS = """
import json, os
from tests.conftest import lab_engine_rows
from console.engines.models import Engine
lab_engine_rows()
for name, url, insecure, description in json.loads(os.environ.get("BENCH_ENGINES", "[]")):
    Engine.objects.update_or_create(name=name, defaults={"url": url, "insecure": insecure, "description": description})
"""
# A viewer with no role on some engines (BENCH_HIDDEN): several of them see different rows of the same console.
HIDING_VIEWER = """
import json, os
from django.contrib.auth.models import Group, User
from console.engines.models import Engine, EngineRole
user = User.objects.create_user(os.environ["BENCH_USER"], password=os.environ["BENCH_PASSWORD"])
user.groups.add(Group.objects.get_or_create(name="Viewer")[0])
for name in json.loads(os.environ["BENCH_HIDDEN"]):
    EngineRole.objects.create(user=user, engine=Engine.objects.get(name=name), role="")
"""


def fleet_report(measure: str, result: str, target: str = "", met: bool | None = None) -> None:
    row = Row(measure, result, target, met)
    FLEET_ROWS.append(row)
    print(row.markdown(), flush=True)


def watcher_states(names: list[str]) -> dict[str, bool | None]:
    """Each engine's watcher heartbeat: connected, not connected, or None (none heard yet)."""
    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    found = {}
    for name in names:
        raw = r.get(f"console:{name}:watcher")
        found[name] = None if raw is None else bool(json.loads(raw).get("connected"))
    return found


def time_fleet_pages(console: ConsoleProcess, views: dict[str, tuple[requests.Session, int]]) -> dict:
    """For each view (a session that sees so many rows): medians of the whole fleet page and of its live part
    answering "nothing changed", the views timed turn about so that each sees the same machine."""

    def page(session: requests.Session, rows: int) -> str:
        response = session.get(f"{console.url}/", timeout=60)
        assert response.status_code == 200 and response.text.count('<tr id="engine-') == rows, response.text[-500:]
        return response.text

    def poll(session: requests.Session, rows: int) -> float:
        token = re.search(r'"v": "([^"]*)"', page(session, rows)).group(1)
        started = time.perf_counter()
        answer = session.get(f"{console.url}/", params={"v": token}, headers={"HX-Request": "true"}, timeout=60)
        assert answer.status_code in (200, 204)
        return time.perf_counter() - started

    for session, rows in views.values():
        for _ in range(5):  # warm up both web workers
            page(session, rows)
    pages: dict[str, list[float]] = {name: [] for name in views}
    polls: dict[str, list[float]] = {name: [] for name in views}
    for _ in range(FLEET_REPEAT):
        for name, (session, rows) in views.items():
            pages[name].append(seconds(lambda session=session, rows=rows: page(session, rows)))
            polls[name].append(poll(session, rows))
    SAMPLES.update(pages)
    return {name: (statistics.median(pages[name]), statistics.median(polls[name])) for name in views}


SAMPLES: dict[str, list[float]] = {}  # each fleet view's page times, for the comparison of medians


def median_difference(a: list[float], b: list[float], rounds: int = 2000) -> tuple[float, float, float]:
    """median(a) - median(b), and its 95% interval by the bootstrap (resampling both with replacement)."""
    rng = random.Random(18)
    found = sorted(
        statistics.median(rng.choices(a, k=len(a))) - statistics.median(rng.choices(b, k=len(b))) for _ in range(rounds)
    )
    return statistics.median(a) - statistics.median(b), found[int(0.025 * rounds)], found[int(0.975 * rounds)]


def fleet_viewers(console: ConsoleProcess, sessions: list[requests.Session], proxy: EngineProxy) -> tuple[float, int]:
    """Engine requests per second (the local engine's, the watcher's included) while these viewers keep the
    fleet page open and poll its live part as its htmx trigger does."""
    stop = threading.Event()
    served = [0]

    def viewer(session: requests.Session) -> None:
        session = clone(session)
        if stop.wait(random.uniform(0, DASHBOARD_POLL)):
            return
        token = re.search(r'"v": "([^"]*)"', session.get(f"{console.url}/", timeout=60).text).group(1)
        served[0] += 1
        while not stop.wait(DASHBOARD_POLL):
            poll = session.get(f"{console.url}/", params={"v": token}, headers={"HX-Request": "true"}, timeout=60)
            served[0] += 1
            if poll.status_code == 200:
                token = re.search(r'"v": "([^"]*)"', poll.text).group(1)

    start, started = proxy.count(), time.monotonic()
    threads = [threading.Thread(target=viewer, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    time.sleep(FLEET_VIEWING_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return len(proxy.since(start)) / (time.monotonic() - started), served[0]


def time_fleet() -> None:
    """The fleet page seen with the lab's three engines, with eight idle ones more, and with eight dead or hung
    ones more, turn about on one console that watches them all."""
    proxy = EngineProxy(os.environ["DOCKER_HOST"]).start()  # counts what reaches the local engine
    hung = [EngineProxy(os.environ["DOCKER_HOST"], hold=".").start() for _ in range(2)]  # accept, never answer
    console = ConsoleProcess(worker=False)  # no job runs here; a worker per engine would only cost memory
    console.env |= {"DOCKER_HOST": proxy.address, "DOCKER_TIMEOUT": "10"}
    lab = ["local", "tls", "ssh"]
    idle = [(f"idle-{i}", os.environ["DOCKER_HOST"], False, "the local engine again") for i in range(1, 9)]
    dead = [(f"gone-unix-{i}", f"unix:///nonexistent/{i}.sock", False, "socket that does not exist") for i in (1, 2, 3)]
    dead += [(f"gone-tcp-{i}", f"tcp://127.0.0.1:{free_port()}", True, "port nothing listens on") for i in (1, 2, 3)]
    dead += [(f"hung-{i}", p.address, False, "accepts, never answers") for i, p in enumerate(hung, 1)]
    idle_names, dead_names = [name for name, *_ in idle], [name for name, *_ in dead]
    try:
        console.start()
        admin = console.session()
        console.manage("shell", "-c", ENGINE_ROWS)
        wait_for(lambda: all(watcher_states(lab).values()), "the three lab engines' watchers", timeout=120)
        alone = time_fleet_pages(console, {"admin": (admin, len(lab))})["admin"]

        console.manage("shell", "-c", ENGINE_ROWS, BENCH_ENGINES=json.dumps(idle + dead))
        wait_for(lambda: all(watcher_states(lab + idle_names).values()), "the idle engines' watchers", 120)
        wait_for(
            lambda: all(v is False for v in watcher_states(dead_names).values()), "the dead engines' watchers", 120
        )
        viewers = {
            "lab-only": idle_names + dead_names,
            "with-idle": dead_names,
            "with-dead": idle_names,
            "ten": idle_names[7:] + dead_names,  # the three lab engines and seven idle ones
        }
        for username, hidden in viewers.items():
            console.manage(
                "shell",
                "-c",
                HIDING_VIEWER,
                BENCH_USER=username,
                BENCH_PASSWORD=PASSWORD,
                BENCH_HIDDEN=json.dumps(hidden),
            )
        sessions = {name: console.session(name, PASSWORD) for name in viewers}
        total = len(lab) + len(dead)
        rows = {"lab-only": len(lab), "with-idle": total, "with-dead": total, "ten": 10}
        timed = time_fleet_pages(console, {name: (sessions[name], rows[name]) for name in viewers})
        three, with_idle, with_dead = timed["lab-only"], timed["with-idle"], timed["with-dead"]
        differences = {
            name: median_difference(SAMPLES[name], SAMPLES["lab-only"]) for name in ("with-idle", "with-dead")
        }
        fleet_report(
            f"Fleet page: the 3 lab engines alone / plus {len(idle)} idle / plus {len(dead)} dead or hung ones",
            f"{ms(three[0])} / {ms(with_idle[0])} / {ms(with_dead[0])}; more than 3 alone: "
            + " / ".join(
                f"**{d * 1e3:+.1f} ms** (95% {lo * 1e3:+.1f} to {hi * 1e3:+.1f})" for d, lo, hi in differences.values()
            ),
            "no longer than 3 alone (within the noise: 95% interval reaching 0)",
            all(lo <= 0 for _, lo, _ in differences.values()) and with_dead[0] < 1,
        )

        def ten_engines() -> None:
            response = sessions["ten"].get(f"{console.url}/", timeout=60)
            assert response.status_code == 200 and response.text.count('<tr id="engine-') == 10

        page_median, raw_median = turn_about(ten_engines, lambda: engine_get("/containers/json?all=1"), FLEET_REPEAT)
        largest = len(json.loads(engine_get("/containers/json?all=1")))
        fleet_report(
            f"Fleet page with 10 engines vs one `GET /containers/json?all=1` of the largest ({largest} containers)",
            f"{ms(page_median)} vs {ms(raw_median)}: **{page_median / raw_median:.2f}x**",
            "<= 0.5x",
            page_median / raw_median <= 0.5,
        )
        fleet_report(
            "Fleet page, live part answering 204: 3 / 11 with idle / 11 with dead engines",
            f"{ms(three[1])} / {ms(with_idle[1])} / {ms(with_dead[1])}",
        )
        FLEET_NOTES.append(
            f"The dead or hung engines: {', '.join(f'{name} ({why})' for name, _, _, why in dead)}; each shown red"
            f" with its watcher's error. The idle ones: {len(idle)} more Engine rows on the local engine's socket,"
            " watched and green. The console's DOCKER_TIMEOUT is 10 s: a page that asked a hung engine would take"
            f" at least that. Pages: medians of {FLEET_REPEAT}, one viewer after another on the same console, which"
            " watches all 19 engines throughout; each viewer has no role on the engines it does not see. Before any"
            f" engine was added, the 3-engine page took {ms(alone[0])}, its 204 {ms(alone[1])}."
        )

        post(console, admin, "/users/new/", username="vera", password=PASSWORD, role="Viewer")
        sessions = [console.session("vera", PASSWORD) for _ in range(max(FLEET_VIEWERS))]
        rates = {}
        for count in FLEET_VIEWERS:
            rates[count], served = fleet_viewers(console, sessions[:count], proxy)
            FLEET_NOTES.append(
                f"{count} viewer(s) of the fleet page for {FLEET_VIEWING_SECONDS} s: {served} pages and polls;"
                f" {rates[count]:.2f} requests/s reached the local engine (its watcher's included)."
            )
        per_viewer = max(0.0, rates[max(FLEET_VIEWERS)] - rates[0]) / max(FLEET_VIEWERS)
        fleet_report(
            f"Engine requests/s with 0 / 1 / {max(FLEET_VIEWERS)} fleet page viewers (19 engines); per viewer",
            " / ".join(f"{rates[c]:.2f}" for c in FLEET_VIEWERS) + f"; **{per_viewer:.3f}** per viewer",
            "~0 per viewer (< 0.02)",
            per_viewer < 0.02,
        )
    finally:
        console.stop()
        proxy.stop()
        for p in hung:
            p.stop()


def fleet_section() -> list[str]:
    return [
        "## Fleet page",
        "",
        "A console (uvicorn and the watcher, no worker) with the lab's three engines (unix, tcp+TLS, ssh) as"
        " Engine rows, then eight idle and eight dead or hung engines more; viewers with no role on some of them"
        " see 3, 3 + idle, 3 + dead or 10 (3 + 7 idle) rows. The local engine is reached through a counting"
        " proxy. Load average"
        f" when it ended: {' / '.join(f'{load:.2f}' for load in os.getloadavg())} (1 / 5 / 15 min).",
        "",
        "| Measure | Result | Target | |",
        "| --- | --- | --- | --- |",
        *(row.markdown() for row in FLEET_ROWS),
        "",
        *(f"- {note}" for note in FLEET_NOTES),
        "",
    ]


# --- 7. the terminal -----------------------------------------------------------------------------------

TERMINAL_KEYS = 40 if QUICK else 300  # keystrokes timed each way
TERMINALS = 20
TERMINAL_REPEAT = 10 if QUICK else 30  # timed page loads with 0 and with 20 terminals open
TERMINAL_ROWS: list[Row] = []
TERMINAL_NOTES: list[str] = []


def p50_p95(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{ms_fine(statistics.median(ordered))} / {ms_fine(ordered[int(len(ordered) * 0.95) - 1])}"


def ms_fine(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def echo_times(send: Callable[[bytes], None], until: Callable[[bytes], None]) -> list[float]:
    """Each keystroke's time until the terminal echoes it (a tty's echo, with `cat` reading it)."""
    times = []
    for i in range(TERMINAL_KEYS):
        key = bytes([ord("a") + i % 26])
        started = time.perf_counter()
        send(key)
        until(key)
        times.append(time.perf_counter() - started)
    return times


def console_terminal(console: ConsoleProcess, session: requests.Session, container: str, command: str):
    from websockets.sync.client import connect

    url = console.url.replace("http", "ws", 1)
    query = urllib.parse.urlencode({"command": command})
    return connect(
        f"{url}/engines/local/containers/{container}/terminal/socket/?{query}",
        additional_headers={"Cookie": f"sessionid={session.cookies['sessionid']}", "Origin": console.url},
        open_timeout=60,
    )


def time_terminal() -> None:
    import pty

    client = docker.from_env(timeout=300)
    client.images.pull("httpd", tag="2.4")
    box = client.containers.run("httpd:2.4", name=f"bench-terminal-{os.getpid()}", detach=True)
    console = ConsoleProcess(worker=False)
    try:
        console.start()
        admin = console.session()
        with console_terminal(console, admin, box.id, "cat") as ws:

            def ws_until(key: bytes) -> None:
                while key not in ws.recv(timeout=30):
                    pass

            echo_times(ws.send, ws_until)  # warm up
            through_console = echo_times(ws.send, ws_until)
        main, side = pty.openpty()
        cli = subprocess.Popen(["docker", "exec", "-it", box.id, "cat"], stdin=side, stdout=side, stderr=side)
        os.close(side)
        try:

            def pty_until(key: bytes) -> None:
                while key not in os.read(main, 4096):
                    pass

            echo_times(lambda key: os.write(main, key), pty_until)  # warm up: docker sets the pty raw meanwhile
            while select.select([main], [], [], 0.5)[0]:  # the warm-up's echoes, local ones included, drained
                os.read(main, 4096)
            assert not termios.tcgetattr(main)[3] & termios.ECHO, "the pty still echoes locally"
            direct = echo_times(lambda key: os.write(main, key), pty_until)
        finally:
            cli.kill()
            cli.wait()
            os.close(main)
        report_terminal(
            "Keystroke echo, p50 / p95: through the console's terminal / `docker exec -it` directly",
            f"console {p50_p95(through_console)}; docker exec -it {p50_p95(direct)}",
        )

        def pages() -> tuple[list[float], list[float]]:
            lists, details = [], []
            for _ in range(TERMINAL_REPEAT):
                lists.append(seconds(lambda: admin.get(f"{console.url}/engines/local/containers/", timeout=60)))
                details.append(seconds(lambda: admin.get(f"{console.url}/engines/local/containers/{box.id}/")))
            return lists, details

        pages()  # warm up both web workers
        idle_lists, idle_details = pages()
        # Twenty terminals each printing a line a second, as a `tail -f` would, held open while pages are timed.
        held = ExitStack()
        busy = [
            held.enter_context(console_terminal(console, admin, box.id, "while true; do date; sleep 1; done"))
            for _ in range(TERMINALS)
        ]
        stop = threading.Event()

        def drain(ws) -> None:
            while not stop.is_set():
                with suppress(TimeoutError):
                    ws.recv(timeout=1)

        readers = [threading.Thread(target=drain, args=(ws,), daemon=True) for ws in busy]
        for reader in readers:
            reader.start()
        try:
            open_lists, open_details = pages()
        finally:
            stop.set()
            for reader in readers:
                reader.join(timeout=5)
            held.close()
        report_terminal(
            f"Container list page, p50 / p95: no terminal open / {TERMINALS} open",
            f"none open {p50_p95(idle_lists)}; {TERMINALS} open {p50_p95(open_lists)}",
        )
        report_terminal(
            f"Container page, p50 / p95: no terminal open / {TERMINALS} open",
            f"none open {p50_p95(idle_details)}; {TERMINALS} open {p50_p95(open_details)}",
        )
        TERMINAL_NOTES.append(
            f"Echo: {TERMINAL_KEYS} keystrokes each way, one at a time, to `cat` in a busybox container on the local"
            " engine: the console's through a WebSocket client (the browser's path less xterm.js), the CLI's through"
            " a pty, as a person's terminal would drive it. Pages: "
            f"{TERMINAL_REPEAT} loads each, one after another, while {TERMINALS} terminals each print a line a second."
        )
    finally:
        console.stop()
        box.remove(force=True)
        client.close()


def report_terminal(measure: str, result: str) -> None:
    row = Row(measure, result)
    TERMINAL_ROWS.append(row)
    print(row.markdown(), flush=True)


def terminal_section() -> list[str]:
    return [
        "## Terminal",
        "",
        "`tests/bench.py --terminal`: a console (uvicorn with 2 workers, the watcher) on the lab's local engine."
        f" Load average when it ended: {' / '.join(f'{load:.2f}' for load in os.getloadavg())} (1 / 5 / 15 min).",
        "",
        "| Measure | Result | Target | |",
        "| --- | --- | --- | --- |",
        *(row.markdown() for row in TERMINAL_ROWS),
        "",
        *(f"- {note}" for note in TERMINAL_NOTES),
        "",
    ]


def write_section(heading: str, lines: list[str]) -> None:
    """Replace one section of docs/benchmarks.md (or add it), keeping the rest of the last full run."""
    section = "\n".join(lines)
    print(section)
    if QUICK:
        return
    text = OUT.read_text() if OUT.exists() else "# Benchmarks\n\n"
    before, found, after = text.partition(heading)
    rest = after.partition("\n## ")[2] if found else ""
    OUT.write_text(before.rstrip("\n") + "\n\n" + section + (f"\n## {rest}" if rest else ""))
    print(f"Saved to {OUT.relative_to(ROOT)}")


# --- the run -----------------------------------------------------------------------------------------


def main() -> None:
    if FLEET_ONLY:
        time_fleet()
        write_section("## Fleet page", fleet_section())
        return
    if TERMINAL_ONLY:
        time_terminal()
        write_section("## Terminal", terminal_section())
        return
    client = docker.from_env(timeout=300)
    print("Lists and pulls: a console on the engine, its lab grown step by step ...", flush=True)
    grow_scale_lab(client, SIZES[0])
    console = ConsoleProcess().start()
    try:
        admin = console.session()
        for size in SIZES:
            grow_scale_lab(client, size)
            restart_watcher(console)
            wait_for(lambda size=size: watcher_following() and snapshot_holds(size), "the snapshot", timeout=300)
            print(f"{size} containers and tags ...", flush=True)
            if size == SIZES[0]:
                time_fixed_cost(console, admin)
            time_lists(console, admin, size, snapshot=True)
            if size == SIZES[-1]:
                time_system_page(console, admin, size)
            console.procs["watcher"].terminate()
            console.procs["watcher"].wait(timeout=30)
            assert not watcher_following()
            time_lists(console, admin, size, snapshot=False)
        NOTES.append(
            f"The scale lab: {SCALE['containers']} containers ({RUNNING} running, the rest created and never"
            f" started) and {SCALE['tags']} image tags ({IMAGES} images, up to {SCALE['tags'] // IMAGES} tags each)"
            f" besides the lab's own, made in {SCALE['seconds']:.0f} s with the engine API from 16 threads, in"
            f" steps of {', '.join(map(str, SIZES))}."
        )
        restart_watcher(console)
        wait_for(watcher_following, "the watcher", timeout=120)
        time_pulls(console, admin, client)
        note_memory(console)
    finally:
        console.stop()

    print("Viewers and the queue: a console behind a counting proxy ...", flush=True)
    proxy = EngineProxy(os.environ["DOCKER_HOST"]).start()
    console = ConsoleProcess()
    console.env["DOCKER_HOST"] = proxy.address
    try:
        console.start()
        admin = console.session()
        wait_for(watcher_following, "the watcher", timeout=120)
        time_viewers(console, admin, proxy)
        time_queue(console, admin, proxy)
        note_memory(console)
    finally:
        console.stop()
        proxy.stop()

    report("Peak RSS of a web worker (uvicorn) during 1-4", f"{PEAKS['web'] / 2**20:.0f} MiB")
    report("Peak RSS of a Celery worker process during 1-4", f"{PEAKS['worker'] / 2**20:.0f} MiB")

    print("The fleet page: the lab's three engines, then dead and hung ones too ...", flush=True)
    try:
        time_fleet()
    except Exception as exc:  # the rest is written all the same; `--fleet` runs this part again
        traceback.print_exc()
        FLEET_NOTES.append(f"This part failed: {exc!r}; `tests/bench.py --fleet` runs it again.")
    print("The terminal: echo latency, and pages with 20 terminals open ...", flush=True)
    time_terminal()
    write_report()


def write_report() -> None:
    lines = [
        "# Benchmarks",
        "",
        "Made by `make bench` (`tests/bench.py`), which builds a lab of its own (a private dockerd, a local",
        "registry and Redis) and runs a whole console in it: uvicorn (2 workers), one Celery",
        "worker (2 processes) and the watcher, on SQLite. Targets are the issue's; a missed one says so.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Results",
        "",
        "| Measure | Result | Target | |",
        "| --- | --- | --- | --- |",
        *(row.markdown() for row in ROWS),
        "",
        "## How",
        "",
        f"- Lists: at {', '.join(map(str, SIZES))} containers and as many image tags, {REPEAT} timed requests of"
        " each page, each followed by the raw engine call (a plain HTTP GET on the engine's socket, body read, not"
        " parsed), after a warm-up of 6; medians. The console reads the lists from the shared snapshot while the"
        " watcher runs, and asks the engine itself once the watcher is stopped. A page's time is all of it:"
        " sign-in and session checks, the whole list (from Redis or the engine) filtered and sorted, and the rows"
        " rendered (at most LIST_WINDOW, 200; the page says how many more match) — or, with the snapshot, the"
        " table another request rendered from the same snapshot for the same view in the last 10 s.",
        "- System page: the whole page (health checks, a ping of the engine; docker info and version and the"
        " event feed, rendered from the snapshot once per snapshot of them for everyone) against a raw"
        " `GET /info`, turn about, with the largest lab.",
        "- Fixed cost of a signed-in request: a job page's poll answering 204 for a job that never runs"
        " (session, user, middleware and role, then one indexed lookup) less the same poll without a session"
        " cookie (the same server and middleware, answered 401 by the sign-in check), turn about; medians"
        f" of {FIXED_REPEAT}.",
        f"- Viewers: each simulated viewer signs in, opens the dashboard and the container list (at a random"
        f" moment in the first {DASHBOARD_POLL} s) and then polls the dashboard's live part every"
        f" {DASHBOARD_POLL} s with its version token, as its htmx trigger does (the container list has no"
        f" poll); {VIEWING_SECONDS} s per level. Requests are counted by a proxy on the console's engine socket"
        " (the watcher's included).",
        "- Queue: the pulls are form posts sent at once from as many threads; the worker runs two jobs at a time.",
        "- Memory: VmHWM of each uvicorn worker and each Celery process, read from /proc before each console"
        " stopped; the largest.",
        *(f"- {note}" for note in NOTES),
        "",
        *fleet_section(),
        *terminal_section(),
    ]
    text = "\n".join(lines)
    print(text)
    if not QUICK:
        OUT.parent.mkdir(exist_ok=True)
        OUT.write_text(text)
        write_readme_table()
        print(f"Saved to {OUT.relative_to(ROOT)} and README.md")


def write_readme_table() -> None:
    """The goals and their results, between the README's bench markers."""
    readme = ROOT / "README.md"
    before, start, rest = readme.read_text().partition("<!-- bench:start -->")
    _, end, after = rest.partition("<!-- bench:end -->")
    if not (start and end):
        return
    goals = [row for row in [*ROWS, *FLEET_ROWS] if row.met is not None]
    table = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average"
        f" {' / '.join(f'{load:.2f}' for load in os.getloadavg())} (1 / 5 / 15 min) when it ended.",
        "",
        "| Measure | Result | Goal | |",
        "| --- | --- | --- | --- |",
        *(row.markdown() for row in goals),
    ]
    readme.write_text(before + start + "\n" + "\n".join(table) + "\n" + end + after)


if __name__ == "__main__":
    main()
