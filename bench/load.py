"""`make load`: many people using MAF at once, on a fresh database, with no errors and no lost
writes (issue 8).

Makes a fresh database, migrates it and loads the demo, serves it with gunicorn on 127.0.0.1
and runs bench/locustfile.py under locust for a bounded time. Then it checks that every write
the server acknowledged is in the database, prints the results as Markdown and exits non-zero
on any failed request, server error or lost write.

The database is a SQLite file in a temporary folder or, when MAF_DATABASE_URL names a
PostgreSQL server, a new database of its own on that server, dropped at the end:

    .venv/bin/python -m bench.load [--users 25] [--duration 60] [--markdown FILE]
    .ci/with-postgres sh -c 'MAF_DATABASE_URL="$MAF_TEST_DATABASE_URL" make load'
"""

import argparse
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Written only by the load test's simulated people (see bench/locustfile.py).
LOAD_TEXT = "Load test %"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=25, help="simulated people at once")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=5, help="people starting per second")
    parser.add_argument("--history", type=int, default=400, help="past CAFs in the demo data")
    # SQLite is served by one process with one thread: with more, requests that read and then
    # write (sign-in, every audited page) fail with SQLITE_BUSY. PostgreSQL takes several.
    parser.add_argument("--workers", type=int, help="gunicorn workers (default 4)")
    parser.add_argument("--threads", type=int, help="threads per worker (default 4)")
    parser.add_argument("--markdown", type=Path, help="also write the results to this file")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*command: str | Path, env: dict, log: Path) -> None:
    with log.open("a") as out:
        done = subprocess.run(  # noqa: S603 - our own venv's commands
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{log.read_text()[-3000:]}")


def prepare(db) -> int:
    """Start the demo's board period in every coordinator's district, as each coordinator
    would, so they all have a board report to add risks to. Returns the last audit event's id:
    the checks count only what comes after it."""
    from sqlalchemy import func, select

    from maf.audit.models import AuditEvent
    from maf.auth.models import Role, User
    from maf.reports import board
    from maf.reports.models import BoardPeriod

    demo_period = db.session.scalar(select(BoardPeriod).order_by(BoardPeriod.id))
    for user in db.session.scalars(select(User)):
        if user.has_role(Role.COORDINATOR):
            for district in user.districts:
                board.board_period(district, demo_period.starts_on, demo_period.ends_on, user)
    db.session.commit()
    return db.session.scalar(select(func.max(AuditEvent.id)))


def check_writes(db, tally: dict, since: int) -> list[tuple[str, Counter, Counter]]:
    """(what, acknowledged, found in the database) for each kind of write: the rows or events
    themselves where each is unique, or their count."""
    from sqlalchemy import func, select

    from maf.audit.models import AuditEvent
    from maf.outcomes.models import ItemRecord
    from maf.reports.models import BoardEntry

    def audited(action: str) -> int:
        return db.session.scalar(
            select(func.count()).where(AuditEvent.id > since, AuditEvent.action == action)
        )

    risks = Counter(
        db.session.scalars(select(BoardEntry.text).where(BoardEntry.text.like(LOAD_TEXT)))
    )
    acknowledged = Counter(tally["board_entries"])
    saves = sum(len(texts) for texts in tally["item_records"].values())
    # Each save replaces the discussion, so the last one stands: it must be one the server
    # acknowledged, and each acknowledged save left its audit event in the same transaction.
    last_saved = sum(
        db.session.scalar(
            select(ItemRecord.discussion).where(ItemRecord.agenda_item_id == int(item_id))
        )
        in texts
        for item_id, texts in tally["item_records"].items()
    )
    reads = sum(tally["audited_reads"].values())
    return [
        ("board risks added (rows)", acknowledged, risks),
        (
            "item discussions saved (audit events)",
            Counter(n=saves),
            Counter(n=audited("item_recorded")),
        ),
        (
            "items whose discussion is the last saved",
            Counter(n=len(tally["item_records"])),
            Counter(n=last_saved),
        ),
        ("audited page reads (audit events)", Counter(n=reads), Counter(n=audited("view"))),
    ]


def start_server(args, env: dict, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
        [
            BIN / "gunicorn",
            f"--workers={args.workers}",
            f"--threads={args.threads}",
            "--worker-class=gthread",
            f"--bind=127.0.0.1:{port}",
            # Longer than a person's pause, so a connection is never reused just as the
            # server closes it (that race is the client's, not the application's).
            "--keep-alive=10",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
                return server
        except OSError:
            time.sleep(0.5)
    stop(server)
    sys.exit("gunicorn did not answer within 60 seconds")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def server_problems(log: str) -> Counter:
    """Gunicorn's warnings (e.g. "[CRITICAL] WORKER TIMEOUT"), the app's logged errors and any
    traceback, each with how often it came."""
    found = re.findall(
        r"\[(?:WARNING|ERROR|CRITICAL)\] (.*)|\] ERROR in \w+: (.*)|^(Traceback)", log, re.M
    )
    return Counter(next(filter(None, groups)) for groups in found)


def markdown(args, database, tally, writes, server_log, locust_log) -> str:
    people = ", ".join(f"{count} {kind.lower()}s" for kind, count in tally["people"].items())
    lines = [
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {database}; gunicorn --workers {args.workers} "
        f"--threads {args.threads}; demo data with {args.history} past CAFs. The machine's load "
        f"average before the run: {args.load_before:.1f} (other work slows the pages too).",
        f"{args.users} simulated people ({people}) for {args.duration} s, 0.5–2 s between actions.",
        "",
        "| page or action | requests | failures | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in tally["timings"]:
        name = f"{row['method']} {row['name']}" if row["method"] else "**all**"
        lines.append(
            f"| {name} | {row['requests']} | {row['failures']} | {row['rps']:.1f} | "
            f"{row['p50']} | {row['p95']} | {row['p99']} |"
        )
    lines += [
        "",
        "| write | acknowledged | in the database | lost | saved but not acknowledged |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {what} | {said.total()} | {found.total()} | {(said - found).total()} | "
        f"{(found - said).total()} |"
        for what, said, found in writes
    ]
    if tally["failures"]:
        lines += ["", "Failed requests:", "", *(f"- {line}" for line in tally["failures"])]
    if tally["exceptions"]:
        lines += ["", "Broken tasks:", "", *(f"- {line}" for line in tally["exceptions"])]
    problems = server_problems(server_log)
    lines += [
        "",
        f"Server log: {problems.total()} warnings and errors{':' if problems else '.'}",
        *(f"- {line} ({count}×)" for line, count in problems.most_common(10)),
        "",
        "Load generator: "
        + ("CPU-bound at times." if "CPU usage above" in locust_log else "not CPU-bound."),
    ]
    return "\n".join(lines)


def database_url(tmp: Path) -> str:
    """A SQLite file in the temporary folder or, when MAF_DATABASE_URL names a PostgreSQL
    server, a new database of the load test's own there (never the named one)."""
    given = os.environ.get("MAF_DATABASE_URL")
    if not given:
        return f"sqlite:///{tmp / 'maf.sqlite'}"
    from sqlalchemy import make_url

    fresh = make_url(given).set(database=f"maf_load_{secrets.token_hex(4)}")
    return fresh.render_as_string(hide_password=False)


def main() -> int:
    args = parse_args()
    args.load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="maf-load-") as folder:
        tmp = Path(folder)
        url = database_url(tmp)
        args.workers, args.threads = args.workers or 4, args.threads or 4
        # Development settings without two-step sign-in, and a throttle that lets everyone
        # sign in from the one address the test runs on.
        env = os.environ | {
            "MAF_ENV": "development",
            "MAF_DATABASE_URL": url,
            "MAF_INSTANCE_PATH": str(tmp),
            "MAF_SECRET_KEY": secrets.token_hex(32),
            "MAF_MFA_REQUIRED_ROLES": "",
            "MAF_SIGN_IN_RATE_LIMIT": "10000 per minute",
            "MAF_SCHEDULER_IN_APP": "false",
            "MAF_MAIL_TRANSPORT": "file",
        }
        # Before anything imports config.py, so the app made here for the set-up and the
        # checks reads the same settings as the server.
        os.environ.update(env)
        from bench.seed import create_database, drop_database

        create_database(url)  # on PostgreSQL; SQLite makes its own file
        try:
            report, problems = measure(args, tmp, env)
        finally:
            drop_database(url)
    verdict = f"FAIL: {', '.join(problems)}" if problems else "PASS"
    report += f"\n\n**{verdict}**\n"
    print(report)
    if args.markdown:
        args.markdown.write_text(report)
    return 1 if problems else 0


def measure(args, tmp: Path, env: dict) -> tuple[str, list[str]]:
    """Set up, serve, load and check; returns the report and what went wrong."""
    from maf import create_app
    from maf.extensions import db

    setup_log = tmp / "setup.log"
    for command in (("db", "upgrade"), ("maf", "demo", f"--history={args.history}")):
        run(BIN / "flask", "--app", "wsgi", *command, env=env, log=setup_log)
    app = create_app()
    with app.app_context():
        version = ".".join(map(str, db.session.connection().dialect.server_version_info))
        database = f"{db.engine.dialect.name} {version}"
        since = prepare(db)
        db.engine.dispose()

    port, server_log, locust_log = free_port(), tmp / "gunicorn.log", tmp / "locust.log"
    server = start_server(args, env, port, server_log)
    try:
        with locust_log.open("w") as out:
            subprocess.run(  # noqa: S603 - our own venv's locust
                [
                    BIN / "locust",
                    f"--locustfile={ROOT / 'bench' / 'locustfile.py'}",
                    "--headless",
                    "--only-summary",
                    f"--users={args.users}",
                    f"--spawn-rate={args.spawn_rate}",
                    f"--run-time={args.duration}s",
                    "--stop-timeout=30",  # let each person finish what they are doing
                    f"--host=http://127.0.0.1:{port}",
                ],
                cwd=ROOT,
                env=env | {"MAF_LOAD_TALLY": str(tmp / "tally.json")},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    finally:
        stop(server)
    if not (tmp / "tally.json").exists():
        sys.exit(f"locust did not finish:\n{locust_log.read_text()[-3000:]}")
    tally = json.loads((tmp / "tally.json").read_text())
    with app.app_context():
        writes = check_writes(db, tally, since)
        db.engine.dispose()
    server_text = server_log.read_text()
    report = markdown(args, database, tally, writes, server_text, locust_log.read_text())
    # A write saved while its person was shown an error is as wrong as one lost.
    wrong = sum((said - found).total() + (found - said).total() for _, said, found in writes)
    counts = {
        "failed requests": tally["timings"][-1]["failures"],
        "broken tasks": len(tally["exceptions"]),
        "warnings and errors in the server log": server_problems(server_text).total(),
        "lost or unacknowledged writes": wrong,
    }
    return report, [f"{count} {what}" for what, count in counts.items() if count]


if __name__ == "__main__":
    sys.exit(main())
