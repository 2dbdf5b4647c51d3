"""Page benchmark (issue 9).

1. SQL statements per request, counted in-process (a SQLAlchemy before_cursor_execute listener
   and Flask's test client) for the agenda page and the agenda builder at 5, 10, 20 and 40
   items, the coordinator's queue at three lengths, and case pages for a case on two agendas
   and one on five: the counts must not grow with the number of items.
2. Throughput and latency under load: gunicorn serves bench.app (the real app plus a bare
   route) on 127.0.0.1, and wrk, with a fixed number of connections and the coordinator's
   session cookie, drives in turn the bare route, the agenda page of a meeting with 10 new cases
   and 30 reviews, its builder, the queue and a case page. Each page's requests per second is
   given as a ratio to the bare route's in the same run, on the same server.

Each run builds its own database: a SQLite file by default, or a new database on the
PostgreSQL server named by --database-url, dropped afterwards:

    .venv/bin/python -m bench.pages
    .ci/with-postgres sh -c '.venv/bin/python -m bench.pages \\
        --database-url "$MAF_TEST_DATABASE_URL"'

(make bench-pages runs both.)
"""

import argparse
import contextvars
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import event

from bench import environment

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")
AGENDA_SIZES = (5, 10, 20, 40)
QUEUE_ADDITIONS = (0, 5, 15)  # ready cases added to the queue before each count
CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class HttpClient(requests.Session):
    """A requests session that, like Flask's test client, takes paths and follows no
    redirects."""

    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, self.base + url, *args, **kwargs)


def sign_in(client) -> None:
    """Sign in as the Charnwood coordinator through the real form, CSRF token and all."""
    from bench.seed import COORDINATOR_EMAIL, PASSWORD

    token = CSRF_TOKEN.search(client.get("/sign-in").text).group(1)
    response = client.post(
        "/sign-in", data={"email": COORDINATOR_EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    if response.status_code != 302 or "sign-in" in response.headers["Location"]:
        raise SystemExit(f"The bench could not sign in: HTTP {response.status_code}")


def get_page(client, path: str):
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}, not 200")
    return response


# --- 1. SQL statements per request -------------------------------------------------------


def statements(engine, client, path: str) -> int:
    """SQL statements sent while serving one GET of `path` (after a first, warming GET).

    Each request runs in a fresh context, as on a server, so nothing is served from the
    previous request's session."""
    contextvars.Context().run(get_page, client, path)
    count = 0

    def counted(*_args):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counted)
    try:
        contextvars.Context().run(get_page, client, path)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count


def count_statements(app, bench, agendas: dict[int, int]) -> dict:
    """The statement counts, as {page: [(what varies, statements), ...]}."""
    from maf.extensions import db

    with app.app_context():
        engine = db.engine
    client = app.test_client()
    contextvars.Context().run(sign_in, client)
    counts = {
        "Agenda page": [
            (f"{size} items", statements(engine, client, f"/meetings/{meeting_id}/agenda"))
            for size, meeting_id in agendas.items()
        ],
        "Agenda builder": [
            (f"{size} items", statements(engine, client, f"/meetings/{meeting_id}/agenda/build"))
            for size, meeting_id in agendas.items()
        ],
        "Coordinator queue": [],
        "Case page": [
            (
                f"case on {on} agendas",
                statements(engine, client, f"/cases/{bench.open_case_ids[index]}"),
            )
            for index, on in ((-1, 2), (0, 1 + len(AGENDA_SIZES)))
        ],
    }
    for added in QUEUE_ADDITIONS:
        with app.app_context():
            for _ in range(added):
                bench.ready_case()
            entries = bench.queue_length()
        counts["Coordinator queue"].append(
            (f"{entries} cases queued", statements(engine, client, "/cases/"))
        )
    return counts


# --- 2. throughput and latency under load ------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            "--no-control-socket",  # its default path is shared by every gunicorn on the machine
            "bench.app:app",
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/bench/bare", timeout=10).ok:
                return server
        except requests.RequestException:
            time.sleep(0.2)  # the workers are still importing the app
    server.terminate()
    raise SystemExit("gunicorn did not start within 60 seconds")


def wrk(url: str, cookie: str, connections: int, seconds: int) -> dict:
    """One wrk run against `url`; wrk_report.lua prints its summary as JSON."""
    run = subprocess.run(  # noqa: S603 - fixed arguments
        [
            shutil.which("wrk"),
            "--threads",
            "1",
            "--connections",
            str(connections),
            "--duration",
            f"{seconds}s",
            "--timeout",
            "10s",
            "--script",
            str(WRK_SCRIPT),
            "--header",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def load_test(port: int, targets: dict[str, str], args) -> dict[str, dict]:
    """Each target in turn: a warm-up run, discarded, then the measured run."""
    base = f"http://127.0.0.1:{port}"
    client = HttpClient(base)
    sign_in(client)
    for path in targets.values():
        get_page(client, path)  # a redirect to sign-in would be counted as a fast success
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    results = {}
    for name, path in targets.items():
        wrk(base + path, cookie, args.connections, args.warmup)
        result = wrk(base + path, cookie, args.connections, args.duration)
        # A failed request (e.g. 503 when SQLite is busy) is quick: only successes count.
        result["requests_per_second"] = (result["requests"] - result["failed"]) / result["seconds"]
        results[name] = {"path": path, **result}
        print(f"  {name}: {result['requests_per_second']:.1f} req/s", file=sys.stderr)
    bare = results["Bare route"]["requests_per_second"]
    for result in results.values():
        result["ratio_to_bare"] = result["requests_per_second"] / bare
    return results


# --- the run -------------------------------------------------------------------------------


def markdown(report: dict) -> str:
    lines = [
        f"{report['database']}; gunicorn {report['workers']} workers × {report['threads']} "
        f"threads (gthread); wrk 1 thread, {report['connections']} connections, "
        f"{report['duration']:g} s per page after a {report['warmup']:g} s warm-up.",
        "",
        "| page | req/s | ratio to bare | p50 ms | p95 ms | p99 ms | failed |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in report["load"].items():
        lines.append(
            f"| {name} | {result['requests_per_second']:.0f} | {result['ratio_to_bare']:.1%} "
            f"| {result['p50_ms']:.1f} | {result['p95_ms']:.1f} | {result['p99_ms']:.1f} "
            f"| {result['failed']} of {result['requests']} |"
        )
    lines += ["", "| SQL statements per request | counts | first to last |", "|---|---|---:|"]
    for page, counts in report["statements"].items():
        shown = ", ".join(f"{label}: {count}" for label, count in counts)
        lines.append(f"| {page} | {shown} | {counts[-1][1] - counts[0][1]:+d} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server to use; default: SQLite")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per page")
    parser.add_argument("--warmup", type=int, default=2, help="seconds discarded per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench-pages does)")

    url, work = environment.prepare("maf-bench-pages", args.database_url)
    import flask_migrate

    from bench import seed
    from maf import create_app
    from maf.extensions import db

    seed.create_database(url)
    app = create_app()
    server = None
    try:
        started = time.perf_counter()
        with app.app_context():
            flask_migrate.upgrade()
            bench = seed.seed()
            agendas = {size: bench.agenda(size) for size in AGENDA_SIZES}
            version = seed.database_version()
            db.session.remove()
        print(f"Seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        statements_counted = count_statements(app, bench, agendas)
        with app.app_context():
            db.engine.dispose()  # the server's processes open their own connections
        port = free_port()
        server = start_server(port, args.workers, args.threads)
        meeting = agendas[max(AGENDA_SIZES)]
        targets = {
            "Bare route": "/bench/bare",
            "Agenda page, 10 new cases + 30 reviews": f"/meetings/{meeting}/agenda",
            "Agenda builder, same meeting": f"/meetings/{meeting}/agenda/build",
            "Coordinator queue": "/cases/",
            "Case page (a review case)": f"/cases/{bench.open_case_ids[0]}",
        }
        report = {
            "database": version,
            **{key: getattr(args, key) for key in ("workers", "threads", "connections")},
            **{key: getattr(args, key) for key in ("duration", "warmup")},
            "load": load_test(port, targets, args),
            "statements": statements_counted,
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with app.app_context():
            db.engine.dispose()
        seed.drop_database(url)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(markdown(report))


if __name__ == "__main__":
    main()
