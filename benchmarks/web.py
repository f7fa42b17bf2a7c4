"""The web application under load (issue 7): concurrent clients reading the public dashboard API,
as a ratio against the same server sending a static file of the same bytes.

Run from the repository root::

    .venv/bin/python benchmarks/web.py                          # 50 clients, 30 s per target, 2 rounds
    .venv/bin/python benchmarks/web.py --seconds 10 --repeat 3
    .venv/bin/python benchmarks/web.py --client httpx           # the load from httpx instead of raw sockets

What runs (each in its own process, so that none shares another's interpreter):

- the **store**: a copy of the store ``tipwatch demo`` builds (GLOTIP, tier placements, CTDC's
  records, the synthetic case records; built once into ``benchmarks/out/``, not timed), with one
  regional analyst added and one publication made (``publish(..., build_report=False)``), in a
  throw-away process;
- the **server**: ``python -m tipwatch serve --db COPY --port P`` on loopback, as an operator
  starts it (uvicorn, one process). A fresh server for every round;
- the **load**: N clients (default 50), each one keep-alive connection, asking again as soon as
  an answer has arrived, for S seconds (default 30), from one asyncio process. The default client
  is a minimal HTTP/1.1 client on an asyncio protocol: it reads the status and headers and counts
  the body's bytes into one reused buffer (``Content-Length`` bodies only, which is all this server
  sends for these two URLs), so that the load generator takes as little of the shared CPU as it
  can; ``--client httpx`` uses ``httpx.AsyncClient`` instead (and reads every body into memory).

The two targets, on the same server, in the same round:

- ``api``: ``GET /api/v1/dashboard``, the newest publication's JSON (bytes kept in memory);
- ``static``: ``GET /static/web/bench-dashboard.json``, the same bytes, written for the run into
  the folder the application serves ``/static/web`` from (Starlette's ``StaticFiles``) and deleted
  at the end (the name is git-ignored). The sizes are checked to match exactly.

Each round warms both targets up (``--warmup`` seconds each, not counted), then measures them one
after the other, the first alternating from round to round. Every answer that is not a 200 with
exactly the publication's bytes counts as an error and not in the latencies. Figures per target
and round: requests, requests/s, median, 90th and 99th percentile latency, errors, the server's
and the load generator's CPU time (from ``/proc`` and ``getrusage``). The ratios api ÷ static are
taken per round; the summary is their median. Results are appended to
``benchmarks/out/web-results.json`` (git-ignored; no path of this machine in it). Nothing here
fails on a figure. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))  # the working tree, whatever tipwatch the venv has installed
sys.path.insert(0, str(HERE))

from run import _scrub, source_fingerprint  # noqa: E402  (benchmarks/run.py)

OUT = HERE / "out"
STORE = OUT / "web-demo.duckdb"
RESULTS = OUT / "web-results.json"
STATIC_DIR = ROOT / "src" / "tipwatch" / "web" / "static"
STATIC_NAME = "bench-dashboard.json"  # git-ignored: src/tipwatch/web/static/bench-*.json
TARGETS = {"api": "/api/v1/dashboard", "static": f"/static/web/{STATIC_NAME}"}
REGION, YEARS = "ASEAN", (2003, 2021)
ANALYST, PASSWORD = "bench-analyst", "benchmark password, not secret"
HOST = "127.0.0.1"


def _say(text: str) -> None:
    print(_scrub(text), file=sys.stderr, flush=True)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("tipwatch", "uvicorn", "h11", "starlette", "fastapi", "anyio", "sqlalchemy", "duckdb",
                 "duckdb-engine", "httpx", "uvloop", "httptools"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


# ---------------------------------------------------------------------------------------------
# The store and the server


def setup(db: str) -> dict:
    """(In a fresh process.) Add a regional analyst to the store at ``db`` and publish once."""
    from tipwatch.web import auth, create_app
    from tipwatch.web.publish import publish

    app = create_app(db, region=REGION, years=YEARS)
    site = app.state.site
    try:
        auth.add_user(site.store.engine, ANALYST, PASSWORD, "analyst")
        who = auth.authenticate(site.store.engine, ANALYST, PASSWORD)
        start = time.perf_counter()
        summary = publish(site, who, build_report=False)
        return {"publication": summary["id"], "publish_s": time.perf_counter() - start}
    finally:
        site.store.close()


def _demo_store() -> None:
    if STORE.exists():
        return
    _say("building the demo store (once, about a minute) …")
    with tempfile.TemporaryDirectory(prefix="tipwatch-bench-web-") as tmp:
        subprocess.run([sys.executable, "-m", "tipwatch", "demo", "--db", str(STORE), "--out", str(Path(tmp) / "r")],
                       check=True, cwd=ROOT, capture_output=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _cpu_seconds(pid: int) -> tuple[float, float] | None:
    """User and system CPU time of process ``pid`` (all its threads), from ``/proc``; None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


@contextlib.contextmanager
def _server(db: str, log: Path):
    """``tipwatch serve`` in its own process on a free loopback port; yields (port, process)."""
    port = _free_port()
    with open(log, "wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "tipwatch", "serve", "--db", db, "--host", HOST,
                                 "--port", str(port)], cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server stopped (exit {proc.returncode}):\n{_scrub(log.read_text()[-2000:])}")
            with contextlib.suppress(OSError):
                if _get(port, "/api/v1/me")[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 90 s")
            time.sleep(0.2)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---------------------------------------------------------------------------------------------
# The load generator (its own process)


class _Answer(asyncio.BufferedProtocol):
    """One keep-alive connection that reads an answer's status and headers and only counts its body.

    The body's bytes are received into one reused buffer and never copied or kept, so the load
    generator spends as little CPU as a client can on an answer of a few megabytes.
    """

    def __init__(self) -> None:
        self.view = memoryview(bytearray(1 << 18))
        self.head = bytearray()
        self.remaining: int | None = None
        self.answer: asyncio.Future | None = None
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def ask(self, request: bytes) -> asyncio.Future:
        self.head.clear()
        self.remaining = None
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.answer

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        if self.answer is None or self.answer.done():
            self._fail(ValueError("data outside an answer"))
            return
        if self.remaining is None:
            self.head += self.view[:nbytes]
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > 1 << 16:
                    self._fail(ValueError("no end of headers"))
                return
            lines = bytes(self.head[:end]).split(b"\r\n")
            try:
                self.status = int(lines[0].split(b" ", 2)[1])
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:])}
                self.length = int(headers[b"content-length"])
            except (ValueError, IndexError, KeyError):
                self._fail(ValueError("no status or no Content-Length"))
                return
            self.close = headers.get(b"connection", b"").lower() == b"close"
            self.remaining = self.length - (len(self.head) - end - 4)
        else:
            self.remaining -= nbytes
        if self.remaining == 0:
            self.answer.set_result((self.status, self.length, self.close))
        elif self.remaining < 0:
            self._fail(ValueError("more bytes than Content-Length"))

    def _fail(self, exc: Exception) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc or ConnectionError("the server closed the connection"))


async def _raw_worker(port: int, path: str, size: int, stop: float, lat: list[float], errors: Counter) -> None:
    request = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\n"
               "User-Agent: tipwatch-bench\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    conn: _Answer | None = None
    while time.perf_counter() < stop:
        try:
            async with asyncio.timeout(60):
                if conn is None or conn.transport.is_closing():
                    _, conn = await loop.create_connection(_Answer, HOST, port)
                start = time.perf_counter()
                status, length, close = await conn.ask(request)
                elapsed = time.perf_counter() - start
            if status == 200 and length == size:
                lat.append(elapsed)
            else:
                errors[f"HTTP {status}, {length} bytes"] += 1
            if close:
                conn.transport.close()
        except (OSError, ValueError, TimeoutError) as exc:
            errors[type(exc).__name__] += 1
            if conn is not None:
                conn.transport.close()
            conn = None
            await asyncio.sleep(0.01)
    if conn is not None:
        conn.transport.close()


async def _httpx_worker(client, path: str, size: int, stop: float, lat: list[float], errors: Counter) -> None:
    import httpx

    while time.perf_counter() < stop:
        try:
            start = time.perf_counter()
            r = await client.get(path)
            elapsed = time.perf_counter() - start
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1
            await asyncio.sleep(0.01)
            continue
        if r.status_code == 200 and len(r.content) == size:
            lat.append(elapsed)
        else:
            errors[f"HTTP {r.status_code}, {len(r.content)} bytes"] += 1


async def _load(port: int, path: str, size: int, seconds: float, clients: int, kind: str) -> dict:
    lat: list[float] = []
    errors: Counter = Counter()
    start = time.perf_counter()
    stop = start + seconds
    if kind == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=60) as client:
            await asyncio.gather(*(_httpx_worker(client, path, size, stop, lat, errors) for _ in range(clients)))
    else:
        await asyncio.gather(*(_raw_worker(port, path, size, stop, lat, errors) for _ in range(clients)))
    return {"lat": lat, "errors": errors, "elapsed": time.perf_counter() - start}


def load(port: int, path: str, size: int, seconds: float, clients: int, kind: str) -> dict:
    """(In a fresh process.) ``clients`` keep-alive clients asking for ``path`` for ``seconds``."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    got = asyncio.run(_load(port, path, size, seconds, clients, kind))
    after = resource.getrusage(resource.RUSAGE_SELF)
    lat = sorted(got["lat"])
    n = len(lat)
    q = statistics.quantiles(lat, n=100, method="inclusive") if n > 1 else [float("nan")] * 99
    return {"requests": n, "errors": sum(got["errors"].values()), "error_kinds": dict(got["errors"]),
            "seconds": got["elapsed"], "rps": n / got["elapsed"],
            "median_ms": q[49] * 1e3, "p90_ms": q[89] * 1e3, "p99_ms": q[98] * 1e3,
            "max_ms": (lat[-1] if lat else float("nan")) * 1e3,
            "client_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "client_sys_s": after.ru_stime - before.ru_stime}


def _run_load(port: int, target: str, size: int, seconds: float, clients: int, kind: str) -> dict:
    res = subprocess.run([sys.executable, __file__, "--load", str(port), target, str(size), str(seconds),
                          str(clients), kind], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------
# The run


def _ms(x: float) -> str:
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"


def table(rounds: list[dict], size: int) -> str:
    head = ("| round | target | first | requests | req/s | MB/s | median ms | p90 ms | p99 ms | max ms | errors "
            "| server CPU (sys) | server CPU/req | client CPU (sys) | load avg |")
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rounds:
        for target in TARGETS:
            m = r[target]
            cpu = m.get("server_cpu_s")
            per_request = "–" if cpu is None else f"{cpu / max(m['requests'], 1) * 1e3:.2f} ms"
            server = "–" if cpu is None else f"{cpu:.1f} s ({m['server_sys_s']:.1f})"
            lines.append(
                f"| {r['round']} | {target} | {'yes' if r['order'][0] == target else ''} | {m['requests']:,} "
                f"| {m['rps']:,.0f} | {m['rps'] * size / 1e6:.1f} | {_ms(m['median_ms'])} | {_ms(m['p90_ms'])} "
                f"| {_ms(m['p99_ms'])} | {_ms(m['max_ms'])} | {m['errors']} "
                f"| {server} | {per_request} "
                f"| {m['client_cpu_s']:.1f} s ({m['client_sys_s']:.1f}) | {m['load_before']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="measured seconds per target and round")
    ap.add_argument("--clients", type=int, default=50, help="concurrent keep-alive clients")
    ap.add_argument("--repeat", type=int, default=2, help="rounds (a fresh server each)")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds of load per target before each round")
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw", help="the load generator's HTTP client")
    ap.add_argument("--setup", metavar="DB", help=argparse.SUPPRESS)
    ap.add_argument("--load", nargs=6, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.setup:
        print(json.dumps(setup(args.setup)))
        return
    if args.load:
        port, target, size, seconds, clients, kind = args.load
        print(json.dumps(load(int(port), TARGETS[target], int(size), float(seconds), int(clients), kind)))
        return

    OUT.mkdir(exist_ok=True)
    _demo_store()
    fingerprint = source_fingerprint()
    when = datetime.now().isoformat(timespec="seconds")
    static = STATIC_DIR / STATIC_NAME
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="tipwatch-bench-web-") as tmp:
        db = str(Path(tmp) / "web.duckdb")
        shutil.copyfile(STORE, db)
        res = subprocess.run([sys.executable, __file__, "--setup", db], capture_output=True, text=True, cwd=ROOT)
        if res.returncode:
            raise SystemExit(_scrub(f"publishing failed:\n{res.stderr[-3000:]}"))
        published = json.loads(res.stdout.strip().splitlines()[-1])
        _say(f"published {published['publication']} in {published['publish_s']:.1f} s")
        size = 0
        try:
            for i in range(args.repeat):
                with _server(db, Path(tmp) / f"server-{i + 1}.log") as (port, proc):
                    status, body = _get(port, TARGETS["api"])
                    if status != 200:
                        raise SystemExit(f"{TARGETS['api']} answered {status}: {body[:300]!r}")
                    if size and len(body) != size:
                        raise SystemExit(f"the dashboard changed size between rounds: {size} → {len(body)}")
                    size = len(body)
                    static.write_bytes(body)
                    status, same = _get(port, TARGETS["static"])
                    if status != 200 or same != body:
                        raise SystemExit(f"{TARGETS['static']} does not send the dashboard's bytes ({status}, "
                                         f"{len(same):,} against {size:,} bytes)")
                    for target in TARGETS:
                        _run_load(port, target, size, args.warmup, args.clients, args.client)
                    order = list(TARGETS) if i % 2 == 0 else list(reversed(TARGETS))
                    entry: dict = {"round": i + 1, "order": order, "server_rss_mb": None}
                    for target in order:
                        load_before = os.getloadavg()[0]
                        cpu0 = _cpu_seconds(proc.pid)
                        m = _run_load(port, target, size, args.seconds, args.clients, args.client)
                        cpu1 = _cpu_seconds(proc.pid)
                        if cpu0 is not None and cpu1 is not None:
                            m["server_user_s"], m["server_sys_s"] = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
                            m["server_cpu_s"] = m["server_user_s"] + m["server_sys_s"]
                        m["load_before"] = load_before
                        m["load_after"] = os.getloadavg()[0]
                        entry[target] = m
                        _say(f"round {i + 1} {target}: {m['requests']:,} requests, {m['rps']:,.0f}/s, median "
                             f"{m['median_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms, {m['errors']} errors")
                    with contextlib.suppress(OSError):
                        rss = [ln for ln in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                               if ln.startswith("VmHWM:")]
                        entry["server_rss_mb"] = int(rss[0].split()[1]) / 1024 if rss else None
                    rounds.append(entry)
        finally:
            static.unlink(missing_ok=True)
    fingerprint_end = source_fingerprint()

    for r in rounds:
        for t in TARGETS:
            cpu = r[t].get("server_cpu_s")
            r[t]["server_cpu_ms_per_request"] = None if cpu is None else cpu / max(r[t]["requests"], 1) * 1e3
    keys = ["median_ms", "p99_ms", "rps"] + (["server_cpu_ms_per_request"] if rounds[0]["api"].get("server_cpu_s")
                                              is not None else [])
    ratios = {key: statistics.median(r["api"][key] / r["static"][key] for r in rounds) for key in keys}
    medians = {t: {key: statistics.median(r[t][key] for r in rounds) for key in ("rps", "median_ms", "p99_ms")}
               for t in TARGETS}
    print(f"{args.clients} clients ({args.client}), {args.seconds:g} s per target and round, {args.repeat} rounds; "
          f"response {size:,} bytes (the same for both); {os.cpu_count()} CPUs shared by server and load")
    print(table(rounds, size))
    for t in TARGETS:
        print(f"{t}: median of rounds {medians[t]['rps']:,.0f} req/s, median latency {medians[t]['median_ms']:.1f} ms, "
              f"p99 {medians[t]['p99_ms']:.1f} ms")
    cpu_ratio = ratios.get("server_cpu_ms_per_request")
    print(f"ratio api/static (median of rounds): median latency {ratios['median_ms']:.2f}, "
          f"p99 latency {ratios['p99_ms']:.2f}, throughput {ratios['rps']:.2f}"
          + ("" if cpu_ratio is None else f", server CPU per request {cpu_ratio:.2f}"))
    if fingerprint_end != fingerprint:
        print(f"the source changed during the run ({fingerprint} → {fingerprint_end}): measure again")
    record = {"when": when, "versions": _versions(), "cpus": os.cpu_count(), "source": fingerprint,
              "source_end": fingerprint_end, "clients": args.clients, "seconds": args.seconds,
              "repeat": args.repeat, "warmup": args.warmup, "client": args.client, "bytes": size,
              "publish_s": published["publish_s"], "rounds": rounds, "medians": medians, "ratios": ratios}
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(_scrub(json.dumps([*history, record], indent=1)))


if __name__ == "__main__":
    main()
