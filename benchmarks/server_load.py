"""A bounded load test of ``steward server``'s read endpoints beside MLflow's tracking server.

The same registry content in both: --models models (default 200) of --versions versions (5) each, the
alias ``champion`` on every model's last version. Steward's is registered through ``Registry.register``
(the gate's own path) and read with a viewer's token; MLflow's (3.x, installed from PyPI into its own
venv, benchmarks/.mlflow-venv, once) through its model registry store, the one its server reads. Each
server runs on loopback as its own command line (``steward server``, ``mlflow server``) with --workers
worker processes, on SQLite and then on PostgreSQL (a fresh database per server, dropped afterwards).
MLflow refuses '/' in a name, so its models are ``bench-model-NNN`` where steward's are ``bench/model-NNN``.

Five reads, each asked --requests times (5,000) of steward at --concurrency (16) after --warmup requests
(500), the model named in each request drawn in turn from all of them. MLflow answers tens of times fewer
requests per second, so its measurement of an endpoint (and its warm-up) stops at --mlflow-requests
(1,000) or after --mlflow-seconds (20 s), whichever comes first; the table says how many it answered.

  endpoint       steward                                    MLflow (REST API 2.0)
  get model      GET /api/v1/models/{name}                  registered-models/get?name=
  get version    GET /api/v1/models/{name}/versions/{n}     model-versions/get?name=&version=
  get alias      GET /api/v1/models/{name}/aliases/champion registered-models/alias?name=&alias=champion
  search 50      GET /api/v1/models?limit=50                registered-models/search?max_results=50
  list versions  GET /api/v1/models/{name}/versions         model-versions/search?filter=name='{name}'

The load generator is --clients processes of asyncio connections speaking keep-alive HTTP/1.1 with the
requests prepared in advance (no HTTP library per request). Its own ceiling is measured first, against a
trivial server that answers every request with two bytes, and printed: a server figure near it is the
client's limit, not the server's. Prints requests/s and p50/p95/p99 latency per endpoint for both
servers, steward/MLflow throughput ratios and PASS or FAIL per endpoint for the goal: at least 10 times
MLflow's throughput and a lower p99. Exits 1 if any endpoint fails (or any request does).

    .venv/bin/python benchmarks/server_load.py [--requests 5000] [--concurrency 16] [--backends sqlite]
        [--quick]   # 500 requests, 100 warm-up, 50 models

The MLflow venv is made on first use; to make it by hand:
``python3 -m venv benchmarks/.mlflow-venv && benchmarks/.mlflow-venv/bin/pip install mlflow==3.17.2
psycopg2-binary``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from modelsteward.core import FileEntry, Manifest, Verdict
from modelsteward.registry import Description, Registry, Role

REPO_ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VENV = REPO_ROOT / "benchmarks" / ".mlflow-venv"
MLFLOW_REQUIREMENTS = ("mlflow==3.17.2", "psycopg2-binary")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ENDPOINTS = ("get model", "get version", "get alias", "search 50", "list versions")
ALIAS = "champion"
GOAL_RATIO = 10.0


@dataclass(frozen=True, slots=True)
class Measure:
    """One endpoint's run: what the load generator saw."""

    seconds: float
    """Wall time from the first request sent to the last answer, over every client process."""
    latencies: np.ndarray
    """Seconds of each answered request (status 200), as the client measured it."""
    failed: int
    """Requests answered with another status, or not at all."""

    @property
    def rate(self) -> float:
        """Answered requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentiles(self) -> tuple[float, float, float]:
        """p50, p95 and p99 latency in milliseconds."""
        if not len(self.latencies):
            return (float("nan"),) * 3
        p50, p95, p99 = (float(v) * 1000 for v in np.percentile(self.latencies, [50, 95, 99]))
        return p50, p95, p99


@dataclass(frozen=True, slots=True)
class Server:
    """A server under test: how to reach it and what to ask it for each endpoint."""

    port: int
    paths: dict[str, list[str]]
    """For each endpoint, the paths (with query) its requests go through in turn."""
    headers: str = ""
    """Extra request header lines, each ending in CRLF (steward's bearer token)."""


@dataclass(frozen=True, slots=True)
class Options:
    """The run's settings, from the command line."""

    requests: int
    """Measured requests per endpoint to steward."""
    peer_requests: int
    """Measured requests per endpoint to MLflow, at most: it answers tens of times fewer per second."""
    peer_seconds: float
    """MLflow's measurement of an endpoint ends after this long, with the requests answered by then."""
    warmup: int
    concurrency: int
    clients: int
    workers: int
    models: int
    versions: int


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="measured requests per endpoint")
    parser.add_argument(
        "--mlflow-requests", type=int, default=1000, help="measured requests per endpoint to MLflow"
    )
    parser.add_argument(
        "--mlflow-seconds", type=float, default=20, help="at most this long measuring each MLflow endpoint"
    )
    parser.add_argument("--warmup", type=int, default=500, help="requests per endpoint before measuring")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server worker processes")
    parser.add_argument("--clients", type=int, default=min(4, os.cpu_count() or 1), help="client processes")
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--postgres", default=os.environ.get("STEWARD_TEST_POSTGRES", DEFAULT_POSTGRES))
    parser.add_argument("--quick", action="store_true", help="500 requests, 100 warm-up, 50 models")
    parser.add_argument("--trivial-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trivial_server is not None:
        _serve_trivial(args.trivial_server)
        return 0
    if args.quick:
        args.requests, args.mlflow_requests, args.warmup, args.models = 500, 200, 100, min(args.models, 50)
    options = Options(
        args.requests,
        min(args.requests, args.mlflow_requests),
        args.mlflow_seconds,
        args.warmup,
        args.concurrency,
        args.clients,
        args.workers,
        args.models,
        args.versions,
    )
    mlflow = _install_mlflow()
    print(
        f"{options.models} models x {options.versions} versions; {options.requests:,} requests per endpoint "
        f"to steward, {options.peer_requests:,} (or {options.peer_seconds:g} s) to MLflow, after "
        f"{options.warmup:,} warm-up; concurrency "
        f"{options.concurrency}; {options.workers} server workers each, {options.clients} client processes, "
        f"{os.cpu_count()} cores shared by all"
    )
    print(f"MLflow {_mlflow_version(mlflow)}; steward from this checkout")
    ceiling = _client_ceiling(options)
    p50, _, p99 = ceiling.percentiles()
    print(
        f"client ceiling (trivial server, same concurrency): {ceiling.rate:,.0f} requests/s, "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )
    failed = False
    for backend in args.backends.split(","):
        with _databases(backend, args.postgres) as (steward_url, mlflow_url):
            failed |= _compare(backend, steward_url, mlflow_url, mlflow, options)
    return 1 if failed else 0


def _compare(backend: str, steward_url: str, mlflow_url: str, mlflow: Path, options: Options) -> bool:
    """Seed both registries on ``backend``, load both servers, print the table; True if anything failed."""
    names = [f"bench/model-{m:03d}" for m in range(options.models)]
    started = time.perf_counter()
    token = _seed_steward(steward_url, names, options.versions)
    steward_seed = time.perf_counter() - started
    started = time.perf_counter()
    _seed_mlflow(mlflow, mlflow_url, names, options.versions)
    mlflow_seed = time.perf_counter() - started
    print(
        f"\n{backend}: seeded {len(names) * options.versions:,} versions into steward in "
        f"{steward_seed:.1f} s (Registry.register) and into MLflow in {mlflow_seed:.1f} s "
        "(its registry store)"
    )
    results: dict[str, dict[str, Measure]] = {}
    with tempfile.TemporaryDirectory(prefix="steward-server-load-") as scratch:
        home = Path(scratch)
        port = _free_port()
        env = {**os.environ, "STEWARD_HOME": str(home / "steward"), "STEWARD_DATABASE_URL": steward_url}
        command = [sys.executable, "-m", "modelsteward", "server", "--port", str(port)]
        command += ["--workers", str(options.workers)]
        steward = Server(port, _steward_paths(names, options.versions), f"Authorization: Bearer {token}\r\n")
        with _running(command, env, f"http://127.0.0.1:{port}/api/v1/healthz", "steward server"):
            _check_answers("steward", steward, _steward_shape)
            results["steward"] = _load_all(steward, options.warmup, options.requests, options)
        port = _free_port()
        command = [str(mlflow / "bin" / "mlflow"), "server", "--backend-store-uri", mlflow_url]
        command += ["--default-artifact-root", str(home / "artifacts"), "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", str(options.workers)]
        peer = Server(port, _mlflow_paths(names, options.versions))
        with _running(command, dict(os.environ), f"http://127.0.0.1:{port}/health", "mlflow server"):
            _check_answers("mlflow", peer, _mlflow_shape)
            warmup = min(options.warmup, options.peer_requests // 5)
            results["mlflow"] = _load_all(
                peer, warmup, options.peer_requests, options, seconds=options.peer_seconds
            )
    return _report(backend, results["steward"], results["mlflow"])


def _report(backend: str, steward: dict[str, Measure], mlflow: dict[str, Measure]) -> bool:
    print(f"{backend}: requests/s and latency in ms as the client saw it; answered: MLflow's sample")
    print(
        f"{'endpoint':14} {'steward/s':>10} {'p50':>7} {'p95':>7} {'p99':>7}   {'MLflow/s':>9} "
        f"{'p50':>7} {'p95':>7} {'p99':>7} {'answered':>8}   {'ratio':>6} {'failed':>7}  goal"
    )
    failed = False
    for endpoint in ENDPOINTS:
        ours, theirs = steward[endpoint], mlflow[endpoint]
        ratio = ours.rate / theirs.rate if theirs.rate else float("inf")
        ours_p, theirs_p = ours.percentiles(), theirs.percentiles()
        passed = ratio >= GOAL_RATIO and ours_p[2] < theirs_p[2] and not ours.failed
        failed |= not passed or bool(ours.failed)
        print(
            f"{endpoint:14} {ours.rate:10,.0f} {ours_p[0]:7.2f} {ours_p[1]:7.2f} {ours_p[2]:7.2f}   "
            f"{theirs.rate:9,.0f} {theirs_p[0]:7.2f} {theirs_p[1]:7.2f} {theirs_p[2]:7.2f} "
            f"{len(theirs.latencies):8,d}   "
            f"{ratio:5.1f}x {ours.failed:4d}/{theirs.failed:<3d} {'PASS' if passed else 'FAIL'}"
        )
    return failed


# --- seeding -----------------------------------------------------------------------------------


def _seed_steward(url: str, names: Sequence[str], versions: int) -> str:
    """Register ``versions`` versions of each model, alias the last, and return a viewer's token."""
    with Registry.open(url) as registry:
        for name in names:
            for number in range(1, versions + 1):
                data = f"{name} weights {number}".encode()
                sha = hashlib.sha256(data).hexdigest()
                manifest = Manifest(
                    files=(FileEntry("model.safetensors", len(data), sha),), shard_size=1 << 20
                )
                record = {
                    "decision": {"verdict": "approve", "reasons": []},
                    "checks": [{"check": "license", "status": "pass", "data": {"ids": ["apache-2.0"]}}],
                }
                report = "sha256:" + hashlib.sha256(b"report " + data).hexdigest()
                registry.register(
                    name=name,
                    manifest=manifest,
                    source=f"hf://{name}@main",
                    revision=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
                    verdict=Verdict.APPROVE,
                    describe=functools.partial(_describe, record, report),
                    actor="seeder",
                )
            registry.set_alias(name, ALIAS, versions, actor="seeder")
        registry.add_user("bench-viewer", Role.VIEWER, actor="seeder")
        return registry.issue_token("bench-viewer", name="load test", expires=None, actor="seeder").secret


def _describe(record: dict[str, Any], report: str, _number: int) -> Description:
    return Description(record=record, documents={"report": report})


# Runs in MLflow's venv: the store its server reads, so the server answers from the same rows a client's
# create calls would have written (the REST round trips would only make seeding slower).
_MLFLOW_SEED = """
import json, sys
from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

url, names, versions, alias = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
store = SqlAlchemyStore(url)
for name in names:
    store.create_registered_model(name, tags=[RegisteredModelTag("owner", "bench")], description=name)
    for number in range(1, versions + 1):
        store.create_model_version(
            name, source=f"s3://bench-models/{name}/{number}", run_id=None,
            tags=[ModelVersionTag("verdict", "approve")], description=f"{name} version {number}",
        )
    store.set_registered_model_alias(name, alias, str(versions))
"""


def _seed_mlflow(mlflow: Path, url: str, names: Sequence[str], versions: int) -> None:
    listed = json.dumps([mlflow_name(n) for n in names])
    command = [str(mlflow / "bin" / "python"), "-c", _MLFLOW_SEED, url, listed]
    done = subprocess.run([*command, str(versions), ALIAS], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"seeding MLflow failed:\n{done.stderr[-3000:]}")


# --- what each server is asked -------------------------------------------------------------------


def _steward_paths(names: Sequence[str], versions: int) -> dict[str, list[str]]:
    quoted = [quote(n, safe="/") for n in names]
    return {
        "get model": [f"/api/v1/models/{n}" for n in quoted],
        "get version": [f"/api/v1/models/{n}/versions/{1 + i % versions}" for i, n in enumerate(quoted)],
        "get alias": [f"/api/v1/models/{n}/aliases/{ALIAS}" for n in quoted],
        "search 50": ["/api/v1/models?limit=50"],
        "list versions": [f"/api/v1/models/{n}/versions" for n in quoted],
    }


def mlflow_name(name: str) -> str:
    """The MLflow name of steward's model ``name``: MLflow refuses '/' in names."""
    return name.replace("/", "-")


def _mlflow_paths(names: Sequence[str], versions: int) -> dict[str, list[str]]:
    names = [mlflow_name(n) for n in names]
    base = "/api/2.0/mlflow"
    # The filter is name='NAME': repr quotes these names (letters, digits, '-', '/') with single quotes.
    quoted = [quote(n, safe="") for n in names]
    return {
        "get model": [f"{base}/registered-models/get?name={n}" for n in quoted],
        "get version": [
            f"{base}/model-versions/get?name={n}&version={1 + i % versions}" for i, n in enumerate(quoted)
        ],
        "get alias": [f"{base}/registered-models/alias?name={n}&alias={ALIAS}" for n in quoted],
        "search 50": [f"{base}/registered-models/search?max_results=50"],
        "list versions": [
            f"{base}/model-versions/search?filter=name%3D{quote(repr(n), safe='')}" for n in names
        ],
    }


def _steward_shape(endpoint: str, body: Any) -> int:
    """How many versions (or models, for the search) one steward answer holds."""
    if endpoint == "search 50":
        return len(body["items"])
    if endpoint == "list versions":
        return len(body["items"])
    return 1


def _mlflow_shape(endpoint: str, body: Any) -> int:
    if endpoint == "search 50":
        return len(body["registered_models"])
    if endpoint == "list versions":
        return len(body["model_versions"])
    return 1


def _check_answers(label: str, server: Server, count: Callable[[str, Any], int]) -> None:
    """One request per endpoint through httpx: each must answer 200 with the content asked for."""
    headers = dict(line.split(": ", 1) for line in server.headers.splitlines() if line)
    sizes = []
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=headers) as http:
        for endpoint in ENDPOINTS:
            answer = http.get(server.paths[endpoint][0])
            if answer.status_code != 200:
                raise SystemExit(f"{label} {endpoint}: {answer.status_code} {answer.text[:300]}")
            items = count(endpoint, answer.json())
            sizes.append(f"{endpoint} {len(answer.content):,} B ({items})")
    print(f"  {label} answers: " + ", ".join(sizes))


# --- servers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _running(command: list[str], env: dict[str, str], health: str, label: str) -> Iterator[None]:
    """Run ``command`` until the block ends, once ``health`` answers 200; stopped with SIGINT."""
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-3000:]
                    raise SystemExit(f"{label} did not start (status {server.returncode}):\n{tail}")
                try:
                    if httpx.get(health, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            yield
        finally:
            # The whole process group: both servers fork their workers.
            _signal_group(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _signal_group(server.pid, signal.SIGKILL)
                server.wait()


def _signal_group(pid: int, sent: signal.Signals) -> None:
    # Gone already: a server that failed to start, workers and all.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sent)


@contextlib.contextmanager
def _databases(backend: str, postgres: str) -> Iterator[tuple[str, str]]:
    """Empty databases for steward and MLflow: SQLite files, or two new PostgreSQL databases."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="steward-server-load-db-") as folder:
            yield f"sqlite:///{folder}/steward.db", f"sqlite:///{folder}/mlflow.db"
        return
    if backend != "postgresql":
        raise SystemExit(f"unknown backend {backend}: choose sqlite or postgresql")
    server = make_url(postgres)
    names = [f"bench_{tool}_{uuid.uuid4().hex[:12]}" for tool in ("steward", "mlflow")]
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        for name in names:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        ours: URL = server.set(database=names[0])
        theirs: URL = server.set(drivername="postgresql+psycopg2", database=names[1])  # in MLflow's venv
        yield ours.render_as_string(hide_password=False), theirs.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _install_mlflow() -> Path:
    """The MLflow venv, made (and MLflow installed into it) on first use."""
    marker = MLFLOW_VENV / "installed.txt"
    wanted = "\n".join(MLFLOW_REQUIREMENTS) + "\n"
    if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return MLFLOW_VENV
    print(f"installing {' '.join(MLFLOW_REQUIREMENTS)} into {MLFLOW_VENV}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(MLFLOW_VENV)], check=True)
    pip = [str(MLFLOW_VENV / "bin" / "python"), "-m", "pip", "install", "-q", *MLFLOW_REQUIREMENTS]
    if subprocess.run(pip, check=False).returncode != 0:
        raise SystemExit(f"pip install {' '.join(MLFLOW_REQUIREMENTS)} failed")
    marker.write_text(wanted, encoding="utf-8")
    return MLFLOW_VENV


def _mlflow_version(mlflow: Path) -> str:
    code = "import importlib.metadata as m; print(m.version('mlflow'))"
    return subprocess.run(
        [str(mlflow / "bin" / "python"), "-c", code], capture_output=True, text=True, check=False
    ).stdout.strip()


def _serve_trivial(port: int) -> None:
    """Answer every request on ``port`` with ``ok``, in one process per core (SO_REUSEPORT)."""
    for _ in range((os.cpu_count() or 1) - 1):
        if os.fork() == 0:
            break

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            # GET requests only, so each request ends its head and carries no body.
            reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"
            self.transport.write(reply * data.count(b"\r\n\r\n"))

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Answer, "127.0.0.1", port, reuse_port=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def _client_ceiling(options: Options) -> Measure:
    port = _free_port()
    command = [sys.executable, __file__, "--trivial-server", str(port)]
    server = subprocess.Popen(command, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the trivial server did not start") from None
                time.sleep(0.05)
        trivial = Server(port, {"ceiling": ["/"]})
        _load(trivial, "ceiling", options.warmup, options)
        return _load(trivial, "ceiling", options.requests, options)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()


# --- the load generator ------------------------------------------------------------------------


def _load_all(
    server: Server, warmup: int, requests: int, options: Options, *, seconds: float | None = None
) -> dict[str, Measure]:
    results = {}
    for endpoint in ENDPOINTS:
        _load(server, endpoint, warmup, options, seconds=seconds)
        results[endpoint] = _load(server, endpoint, requests, options, seconds=seconds)
    return results


def _load(
    server: Server, endpoint: str, requests: int, options: Options, *, seconds: float | None = None
) -> Measure:
    """Send ``requests`` requests for ``endpoint``, each client process with its share of connections."""
    paths = server.paths[endpoint]
    wire = [
        (f"GET {paths[i % len(paths)]} HTTP/1.1\r\nHost: 127.0.0.1\r\n{server.headers}\r\n").encode()
        for i in range(requests)
    ]
    clients = max(1, min(options.clients, options.concurrency))
    shares = [wire[c::clients] for c in range(clients)]
    connections = [
        options.concurrency // clients + (c < options.concurrency % clients) for c in range(clients)
    ]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(clients, mp_context=context) as pool:
        until = None if seconds is None else time.time() + seconds
        parts = list(pool.map(_drive, [server.port] * clients, shares, connections, [until] * clients))
    latencies = np.concatenate([np.asarray(p[0]) for p in parts])
    seconds = max(p[3] for p in parts) - min(p[2] for p in parts)
    return Measure(seconds, latencies, sum(p[1] for p in parts))


_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


def _drive(
    port: int, wire: list[bytes], connections: int, until: float | None
) -> tuple[list[float], int, float, float]:
    """In a client process: (latencies of answers 200, failures, wall start, wall end); no request is
    sent after the wall-clock time ``until``."""
    return asyncio.run(_connections(port, wire, connections, until))


async def _connections(
    port: int, wire: list[bytes], connections: int, until: float | None
) -> tuple[list[float], int, float, float]:
    latencies: list[float] = []
    failed = 0
    queue = iter(wire)
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal failed
        for request in queue:
            if until is not None and time.time() > until:
                break
            started = time.perf_counter()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = _LENGTH.search(head)
                if length is not None:
                    await reader.readexactly(int(length.group(1)))
                else:
                    await _read_chunked(reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                failed += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            if head[9:12] == b"200":
                latencies.append(time.perf_counter() - started)
            else:
                failed += 1
            if b"connection: close" in head.lower():
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    started = time.time()
    await asyncio.gather(*(client(r, w) for r, w in streams))
    return latencies, failed, started, time.time()


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        await reader.readexactly(size + 2)  # the chunk and its CRLF; the last chunk is empty
        if size == 0:
            return


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


if __name__ == "__main__":
    raise SystemExit(main())
