"""Retention benchmark (issue 16 point 5): how long the nightly retention run takes to destroy
children whose names are copied into minutes, emails and a large audit log.

The benchmark forum (bench/seed.py) holds a meeting of 40 items (10 new cases, 30 reviews),
whose agenda is circulated (each member's email links all 40 cases and carries the agenda),
recorded, and whose minutes are approved and circulated. Every child on that meeting is then
made due for destruction (closed and archived more than the rule's years ago), the audit log
is padded to --audit-events rows (mostly unrelated details, a few naming the children), and
the real run (maf.reports.retention.apply_retention) is timed after the dry run.

    .venv/bin/python -m bench.retention                     # SQLite
    .venv/bin/python -m bench.retention --database-url postgresql://...
"""

import argparse
import cProfile
import json
import os
import pstats
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from bench import environment

ITEMS = 40
PROFILE = bool(os.environ.get("MAF_BENCH_PROFILE"))  # print where the real run's time goes


def _pad_audit(events: int, names: list[str]) -> None:
    """`events` audit rows: one in a thousand names a child being destroyed."""
    from maf.audit.models import AuditEvent
    from maf.extensions import db

    now = datetime.now(UTC)
    batch = []
    for number in range(events):
        detail = f"version {number % 7}: {number % 31} messages"
        if number % 1000 == 0:
            detail = f"Asked after {names[number // 1000 % len(names)]}"
        batch.append(
            {
                "action": "padding",
                "occurred_at": now - timedelta(minutes=number),
                "object_type": "meeting",
                "object_id": str(number % 500),
                "detail": detail,
            }
        )
        if len(batch) == 20_000:
            db.session.execute(db.insert(AuditEvent), batch)
            batch = []
    if batch:
        db.session.execute(db.insert(AuditEvent), batch)
    db.session.commit()


def measure(audit_events: int) -> dict:
    from sqlalchemy import func, select

    from bench import seed
    from maf.agendas.models import AgendaItem
    from maf.cases.models import Case, CaseStatus, Child
    from maf.circulation.models import OutboxMessage, outbox_message_case
    from maf.circulation.services import circulate
    from maf.dbtypes import LONDON, set_clock
    from maf.extensions import db
    from maf.forums.models import Meeting
    from maf.outcomes import minutes as minutes_service
    from maf.outcomes.models import Minutes
    from maf.reports import retention

    bench = seed.seed()
    meeting_id = bench.agenda(ITEMS)
    meeting = db.session.get(Meeting, meeting_id)
    circulate(meeting, bench.coordinator)
    set_clock(meeting.starts_at)  # recorded, approved and circulated once it has taken place
    minutes = db.session.get(Minutes, bench.hold(meeting_id))
    minutes_service.approve(minutes, minutes.meeting.forum.chair)
    minutes_service.circulate(minutes, minutes.meeting.forum.chair)
    set_clock(None)

    case_ids = list(
        db.session.scalars(select(AgendaItem.case_id).where(AgendaItem.meeting_id == meeting_id))
    )
    child_ids = set(db.session.scalars(select(Case.child_id).where(Case.id.in_(case_ids))))
    today = date.today()
    long_ago = datetime.combine(today - timedelta(days=8 * 366), clock(2), LONDON)
    names = []
    for case in db.session.scalars(select(Case).where(Case.child_id.in_(child_ids))):
        if case.status != CaseStatus.MERGED:
            case.status, case.closed_on = CaseStatus.CLOSED, long_ago.date() - timedelta(days=400)
        case.archived_at = long_ago.astimezone(UTC)
    for child in db.session.scalars(select(Child).where(Child.id.in_(child_ids))):
        names.append(child.full_name)
    db.session.commit()
    _pad_audit(audit_events, names)
    emails = db.session.scalar(
        select(func.count(func.distinct(outbox_message_case.c.message_id))).where(
            outbox_message_case.c.case_id.in_(case_ids)
        )
    )
    messages = db.session.scalar(select(func.count(OutboxMessage.id)))

    db.session.remove()
    started = time.perf_counter()
    dry = retention.apply_retention(today, dry_run=True)
    dry_seconds = time.perf_counter() - started
    db.session.remove()
    profiler = cProfile.Profile() if PROFILE else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    real = retention.apply_retention(today)
    real_seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    assert real.destroyed == dry.destroyed and len(real.destroyed) >= len(child_ids)
    return {
        "children destroyed": len(real.destroyed),
        "emails linked to them (of all emails)": f"{emails} (of {messages})",
        "audit events": db.session.scalar(
            select(func.count()).select_from(db.metadata.tables["audit_event"])
        ),
        "dry run s": round(dry_seconds, 2),
        "real run s": round(real_seconds, 2),
        "real run per child s": round(real_seconds / max(len(real.destroyed), 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server to use; default: SQLite")
    parser.add_argument("--audit-events", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    url, work = environment.prepare("maf-bench-retention", args.database_url)
    import flask_migrate

    from bench import seed
    from maf import create_app
    from maf.extensions import db

    seed.create_database(url)
    app = create_app()
    try:
        with app.app_context():
            flask_migrate.upgrade()
            report = {"database": seed.database_version(), **measure(args.audit_events)}
            db.session.remove()
            db.engine.dispose()
    finally:
        seed.drop_database(url)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print("| measure | value |\n|---|---:|")
    for name, value in report.items():
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
