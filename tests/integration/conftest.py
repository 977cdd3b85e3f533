"""The integration suite's harness: the real server binary on a free port, against memory,
a SQLite temp file or a fresh Postgres database, driven over HTTP with the standard library."""

from __future__ import annotations

import http.server
import json
import os
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterator

import pytest

SERVER_BIN = os.environ.get("AM_SERVER_BIN", "")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "").strip()
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def backends() -> list[str]:
    return ["memory", "sqlite", "postgres"]


@dataclass
class Server:
    """A running server and a small HTTP client for it."""

    base: str
    process: subprocess.Popen[bytes]
    log: list[str] = field(default_factory=list)
    metrics_token: str | None = None

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                raw = res.read()
                return res.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None

    def ok(self, method: str, path: str, body: Any = None, token: str | None = None,
           status: int = 200) -> Any:
        got, answer = self.call(method, path, body, token)
        assert got == status, f"{method} {path}: {got} {answer}"
        return answer

    def metric(self, series: str) -> float:
        """A series' value in `GET /metrics` (0 when it is not there)."""
        req = urllib.request.Request(self.base + "/metrics")
        req.add_header("authorization", f"Bearer {self.metrics_token}")
        with urllib.request.urlopen(req, timeout=30) as res:
            for line in res.read().decode().splitlines():
                name, _, value = line.rpartition(" ")
                if name == series:
                    return float(value)
        return 0.0

    def wait_for_metric(self, series: str, at_least: float, timeout: float = 30) -> None:
        """Waits until a series reaches `at_least` (the server's loops run on their own)."""
        deadline = time.monotonic() + timeout
        while (value := self.metric(series)) < at_least:
            assert time.monotonic() < deadline, f"{series} is {value}, not {at_least}"
            time.sleep(0.05)

    def owner(self, name: str = "owner") -> tuple[str, str]:
        """Registers a user and logs in: (email, token)."""
        email = f"{name}-{uuid.uuid4().hex}@example.com"
        self.ok("POST", "/users",
                {"name": name, "email": email, "password": "securepass123"}, status=201)
        answer = self.ok("POST", "/login", {"email": email, "password": "securepass123"})
        return email, answer["token"]

    def appointment(self, token: str, **extra: Any) -> dict[str, Any]:
        """An appointment from tomorrow on, two days, 09:00-12:00 UTC, hourly slots."""
        start = date.today() + timedelta(days=1)
        end = start + timedelta(days=1)
        body: dict[str, Any] = {
            "title": "Consultation",
            "start_time": f"{start}T09:00:00Z",
            "end_time": f"{start}T12:00:00Z",
            "start_date": f"{start}T00:00:00Z",
            "end_date": f"{end}T00:00:00Z",
            "booking_duration": 60,
            "type": "group",
            "max_attendees": 5,
            "description": "Integration",
        }
        body.update(extra)
        return self.ok("POST", "/appointments", body, token, status=201)

    def first_slot(self, app_code: str) -> str:
        page = self.ok("GET", f"/appointments/slots/{app_code}")
        return page["items"][0]["start_time"]

    def book(self, app_code: str, start: str, email: str) -> dict[str, Any]:
        return self.ok("POST", "/appointments/book", {
            "app_code": app_code, "start_time": start, "name": "Jane Smith",
            "email": email, "attendee_count": 1,
        }, status=201)


def _fresh_postgres() -> str:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        pytest.skip("SKIPPED: Postgres (set TEST_POSTGRES_URL to run it)")
    name = f"am_int_{int(time.time())}_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", POSTGRES_URL, "-q", "-c", f'CREATE DATABASE "{name}"'],
                   check=True, capture_output=True)
    head, _, _ = POSTGRES_URL.rpartition("/")
    return f"{head}/{name}"


def start_server(database_url: str, tmp: str, **env: str) -> Server:
    assert SERVER_BIN, "AM_SERVER_BIN names the server binary (scripts/test-integration.sh sets it)"
    full = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": "0",
        "JWT_SECRET_KEY": "integration-" + uuid.uuid4().hex + uuid.uuid4().hex,
        "BCRYPT_COST": "4",
        "LOG_FORMAT": "json",
        **env,
    }
    process = subprocess.Popen([SERVER_BIN], env=full, cwd=tmp,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    server = Server(base="", process=process, metrics_token=env.get("METRICS_TOKEN"))
    ready: "queue.Queue[int]" = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            server.log.append(line)
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            fields = entry.get("fields", entry)
            if fields.get("message") == "listening" and "port" in fields:
                ready.put(int(fields["port"]))

    threading.Thread(target=read, daemon=True).start()
    try:
        port = ready.get(timeout=60)
    except queue.Empty:
        process.kill()
        raise AssertionError("the server did not start:\n" + "\n".join(server.log))
    server.base = f"http://127.0.0.1:{port}"
    return server


@pytest.fixture(params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "memory":
        return "memory:"
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/integration.db"
    return _fresh_postgres()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP endpoint on a random loopback port that records what it is sent."""

    def __init__(self) -> None:
        self.got: "queue.Queue[Received]" = queue.Queue()
        got = self.got

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                n = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(n)
                got.put(Received({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def next(self, timeout: float = 20) -> Received:
        return self.got.get(timeout=timeout)

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def server(database_url: str, tmp_path: Any) -> Iterator[Server]:
    s = start_server(database_url, str(tmp_path), WEBHOOK_ALLOW_PRIVATE_TARGETS="1",
                     WEBHOOK_POLL_MS="20")
    yield s
    s.process.terminate()
    try:
        s.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        s.process.kill()
