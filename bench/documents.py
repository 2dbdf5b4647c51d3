"""Document benchmark (issue 9): how long the real functions take to build, for a meeting of
the benchmark forum (bench/seed.py) with 10 new cases and 30 reviews on its agenda,

- the agenda .docx (maf.agendas.document.agenda_document);
- the 30 invitations of its circulation: for each of the forum's 30 people (chair and members)
  the calendar event, its iTIP invitation (.ics) and the email's text and HTML bodies, built
  as maf.circulation.services.circulate builds them, without the database writes or SMTP;
- the whole circulation (circulate: the agenda built and attached, the 30 members' emails and
  invitations, the 10 presenters' slot invitations and the progress requests, all queued in the
  outbox), each repeat on another meeting of the same size, since a circulation is done once;
- the minutes .docx once the meeting is recorded (maf.outcomes.minutes.minutes_document).

Each is timed --repeats times after one warm-up, each time in a fresh database session as a
request would be; the best and the median are reported.

    .venv/bin/python -m bench.documents
"""

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from bench import environment

ITEMS = 40
TARGETS = {"Agenda document": 0.5, "30 invitations": 0.2}  # seconds, from issue 9


def timed(repeats: int, prepare, build) -> list[float]:
    """Seconds for `build(prepare())`, `repeats` times after a warm-up; `prepare` (loading the
    objects in a fresh session) is not timed."""
    from maf.extensions import db

    seconds = []
    for _ in range(repeats + 1):
        db.session.remove()
        argument = prepare()
        started = time.perf_counter()
        build(argument)
        seconds.append(time.perf_counter() - started)
    return seconds[1:]


def invitations(meeting) -> int:
    """What circulate() builds for each person invited to the meeting, short of saving it."""
    from maf.circulation import calendar
    from maf.circulation import services as circulation

    people = circulation.recipients(meeting)
    for person in people:
        attendee = calendar.Attendee(person.email, person.name, person.role)
        calendar.invitation(circulation.meeting_event(meeting, [attendee]), "REQUEST")
        circulation._email(
            "agenda",
            meeting=meeting,
            person=person,
            agenda_link=circulation._agenda_link(meeting),
            when=circulation._when(meeting),
        )
    return len(people)


def measure(repeats: int) -> dict:
    from bench import seed
    from maf.agendas.document import agenda_document
    from maf.circulation.services import circulate, recipients
    from maf.extensions import db
    from maf.forums.models import Meeting
    from maf.outcomes.minutes import minutes_document
    from maf.outcomes.models import Minutes

    bench = seed.seed()
    meeting_id = bench.agenda(ITEMS)
    to_circulate = iter([bench.agenda(ITEMS) for _ in range(repeats + 1)])

    def meeting():
        return db.session.get(Meeting, meeting_id)

    invited = len(recipients(meeting()))
    results = {
        "Agenda document": timed(repeats, meeting, agenda_document),
        f"{invited} invitations": timed(repeats, meeting, invitations),
        "Whole circulation": timed(
            repeats,
            lambda: db.session.get(Meeting, next(to_circulate)),
            lambda m: circulate(m, bench.coordinator),
        ),
    }
    minutes_id = bench.hold(meeting_id)
    results["Minutes document"] = timed(
        repeats,
        lambda: db.session.get(Minutes, minutes_id),
        lambda minutes: minutes_document(minutes.meeting, minutes),
    )
    return results


def markdown(report: dict) -> str:
    lines = [
        f"{report['database']}; {report['repeats']} repeats after a warm-up, each in a fresh "
        f"database session. Meeting: {ITEMS} items (10 new cases, 30 reviews).",
        "",
        "| document | best s | median s | target |",
        "|---|---:|---:|---|",
    ]
    for name, seconds in report["seconds"].items():
        target = TARGETS.get(name)
        verdict = (
            f"< {target} s: {'met' if statistics.median(seconds) < target else '**missed**'}"
            if target
            else ""
        )
        lines.append(
            f"| {name} | {min(seconds):.3f} | {statistics.median(seconds):.3f} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server to use; default: SQLite")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    url, work = environment.prepare("maf-bench-documents", args.database_url)
    import flask_migrate

    from bench import seed
    from maf import create_app
    from maf.extensions import db

    seed.create_database(url)
    app = create_app()
    try:
        with app.app_context():
            flask_migrate.upgrade()
            report = {
                "database": seed.database_version(),
                "repeats": args.repeats,
                "seconds": measure(args.repeats),
            }
            db.session.remove()
            db.engine.dispose()
    finally:
        seed.drop_database(url)
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    print(markdown(report))


if __name__ == "__main__":
    main()
