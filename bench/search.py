"""Finding a case at scale (issue 16): a search by name among 1,000,000 children, and the case
list of a district with 5,000 cases.

1. bench.population generates N children (default 1,000,000) and labelled queries: the same
   children recorded again with realistic differences (typos, short forms, date slips, new
   surnames), the population the existing-CAF check is measured on (bench/matching.py).
2. bench.matching loads them into a fresh, migrated SQLite database (and, given --postgres-url
   or MAF_TEST_DATABASE_URL as .ci/with-postgres sets, a PostgreSQL database dropped
   afterwards): each child with one closed CAF and the blocking keys the app computes.
3. A coordinator of the district searches for each query, through the app's own service
   (maf.search.services.search, which reads visible_cases and the matcher's index): by name
   and date of birth, then by name alone. Each search is timed; "found" counts the queries
   whose child was among the results.
4. 5,000 of the cases move to a district of their own, with statuses, review dates and lead
   professionals; that district's coordinator loads the case list through the app (GET
   /case-list: session, SQL, template), unfiltered, sorted by child and filtered; timed.

    .venv/bin/python -m bench.search --children 20000     # SQLite only, a quick look
    .venv/bin/python -m bench.search                      # 1,000,000 children

Prints p50 and p95 (milliseconds) per measure, as markdown.
"""

import argparse
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from bench import matching as bench_matching  # sets MAF_INSTANCE_PATH first
from bench.population import generate
from maf.auth.models import Role, User
from maf.auth.services import hash_password
from maf.cases import matching
from maf.cases.models import Case, CaseStatus
from maf.cases.services import find_similar_children
from maf.directory.models import District
from maf.extensions import db
from maf.outcomes.models import LeadKind, LeadProfessional
from maf.search import services as search_services

PG_DATABASE = "maf_bench_search"
TARGET_SEARCH_P95_MS = 50.0
TARGET_LIST_MS = 100.0
LIST_CASES = 5_000
PASSWORD = secrets.token_urlsafe(12)
CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
WARM_UP = 10


def _progress(message: str) -> None:
    print(f"[search] {message}", file=sys.stderr, flush=True)


def _coordinator(districts: list[District], email: str) -> User:
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is not None:  # from a kept database: this run's password
        user.password_hash = hash_password(PASSWORD)
        user.districts = districts
        db.session.commit()
        return user
    user = User(email=email, name="Bench Coordinator", password_hash=hash_password(PASSWORD))
    user.roles = [Role.COORDINATOR]
    user.districts = districts
    db.session.add(user)
    db.session.commit()
    return user


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "n": len(ms),
        "p50": statistics.median(ms),
        "p95": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))],
        "max": ms[-1],
    }


def time_searches(target, dataset, queries: int) -> dict[str, dict]:
    """Search for each duplicate query, by name and date of birth and by name alone."""
    duplicates = [q for q in dataset.queries if q.duplicate][:queries]
    results = {}
    with target.app.app_context():
        # Every district: a kept database's list district holds 5,000 of the children.
        user = _coordinator(list(db.session.scalars(db.select(District))), "search@bench.example")
        # One untimed pass first, so every measure below reads a warm page cache (the load
        # leaves the database's pages half out of memory on a busy machine).
        for query in duplicates:
            search_services.search(
                user,
                search_services.SearchCriteria(
                    name=f"{query.record.given_name} {query.record.family_name}",
                    date_of_birth=query.record.date_of_birth,
                ),
                date(2027, 1, 12),
            )
            db.session.rollback()
        for label, with_date in (("name and date of birth", True), ("name alone", False)):
            timings, found = [], 0
            for number, query in enumerate(duplicates):
                record = query.record
                criteria = search_services.SearchCriteria(
                    name=f"{record.given_name} {record.family_name}",
                    date_of_birth=record.date_of_birth if with_date else None,
                )
                started = time.perf_counter()
                try:
                    outcome = search_services.search(user, criteria, date(2027, 1, 12))
                    ids = {row.case.child_id for row in outcome.rows}
                except search_services.SearchError:  # a one-word name without a date
                    ids = set()
                elapsed = time.perf_counter() - started
                db.session.rollback()  # a fresh transaction, as each request has
                if number >= WARM_UP:
                    timings.append(elapsed)
                found += (query.partner + 1) in ids  # population index i is child i + 1
            results[label] = percentiles(timings) | {"found": found / len(duplicates)}
            _progress(f"{target.label}, {label}: {results[label]}")
        # The existing-CAF check's own lookup alone (find_similar_children), for the same
        # queries: how much of a search is the matcher's, how much the search's own.
        timings = []
        for number, query in enumerate(duplicates):
            record = query.record
            person = matching.PersonDetails(
                given_name=record.given_name,
                family_name=record.family_name,
                date_of_birth=record.date_of_birth,
            )
            started = time.perf_counter()
            find_similar_children(person)
            elapsed = time.perf_counter() - started
            db.session.rollback()
            if number >= WARM_UP:
                timings.append(elapsed)
        label = "name and date of birth: the matcher's lookup alone (find_similar_children)"
        results[label] = percentiles(timings) | {"found": float("nan")}
        _progress(f"{target.label}, {label}: {results[label]}")
    return results


def _list_district(target) -> tuple[int, str]:
    """5,000 cases in a district of their own, in the states a list shows, with a coordinator."""
    with target.app.app_context():
        kept = db.session.scalar(db.select(District).where(District.slug == "bench-list"))
        if kept is not None:  # a kept database has it already
            _coordinator([kept], "list@bench.example")
            return kept.id, "list@bench.example"
        district = District(name="Bench list district", slug="bench-list")
        db.session.add(district)
        db.session.flush()
        ids = list(db.session.scalars(db.select(Case.id).order_by(Case.id).limit(LIST_CASES)))
        statuses = [CaseStatus.OPEN, CaseStatus.CLOSED, CaseStatus.RECEIVED, CaseStatus.ON_AGENDA]
        for number, case_id in enumerate(ids):
            status = statuses[number % len(statuses)]
            db.session.execute(
                db.update(Case)
                .where(Case.id == case_id)
                .values(
                    district_id=district.id,
                    status=status,
                    next_review_on=date(2027, 1, 1) + timedelta(days=number % 120)
                    if status == CaseStatus.OPEN
                    else None,
                )
            )
            if status == CaseStatus.OPEN:
                db.session.add(
                    LeadProfessional(
                        case_id=case_id,
                        kind=LeadKind.PRACTITIONER,
                        name=f"Lead {number}",
                        email=f"lead{number}@bench.example",
                        agency_id=target.background.agency_id,
                        agreed=True,
                        starts_on=date(2026, 10, 1),
                    )
                )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # As autovacuum would after such a change: the load's statistics knew no such
            # district, and the planner chose by them.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE"))
        _coordinator([district], "list@bench.example")
        return district.id, "list@bench.example"


def time_case_list(target, rounds: int) -> dict[str, dict]:
    _list_district(target)
    client = target.app.test_client()
    token = CSRF_TOKEN.search(client.get("/sign-in").text).group(1)
    response = client.post(
        "/sign-in",
        data={"email": "list@bench.example", "password": PASSWORD, "csrf_token": token},
    )
    if response.status_code != 302 or "sign-in" in response.headers["Location"]:
        raise SystemExit(f"The bench could not sign in: HTTP {response.status_code}")
    pages = {
        "case list, first page (50 of 5,000)": "/case-list",
        "sorted by child, page 40": "/case-list?sort=child&order=ascending&page=40",
        "open cases, review overdue": "/case-list?status=open&late=review",
        "first-meeting deadline missed": "/case-list?late=first-meeting",
    }
    results = {}
    for label, path in pages.items():
        timings = []
        for number in range(rounds + 3):
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}")
            if number >= 3:
                timings.append(elapsed)
        results[label] = percentiles(timings)
        _progress(f"{target.label}, {label}: {results[label]}")
    return results


def markdown(args, report: dict) -> str:
    lines = [
        f"{args.children:,} children, {args.queries:,} searches per kind "
        f"(duplicates with realistic differences, seed {args.seed}); a district of "
        f"{LIST_CASES:,} cases for the list.",
        "",
        "| database | measure | n | p50 ms | p95 ms | max ms | found | target met |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for target, measures in report.items():
        for label, m in measures["search"].items():
            found = "" if m["found"] != m["found"] else f"{m['found']:.1%}"  # NaN: not counted
            lines.append(
                f"| {target} | search by {label} | {m['n']} | {m['p50']:.1f} | {m['p95']:.1f} "
                f"| {m['max']:.1f} | {found} | "
                f"{'yes' if m['p95'] < TARGET_SEARCH_P95_MS else 'no'} (p95 < 50 ms) |"
            )
        for label, m in measures["list"].items():
            lines.append(
                f"| {target} | {label} | {m['n']} | {m['p50']:.1f} | {m['p95']:.1f} "
                f"| {m['max']:.1f} | | "
                f"{'yes' if m['p95'] < TARGET_LIST_MS else 'no'} (< 100 ms) |"
            )
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--list-rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MAF_BENCH_PG_URL") or os.environ.get("MAF_TEST_DATABASE_URL"),
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the SQLite database in this folder, and use it again if it is there "
        "(SQLite only: loading a million children takes minutes)",
    )
    return parser.parse_args(argv)


def _kept_target(folder: Path):
    """The SQLite target a previous run with --keep loaded into `folder`, or None."""
    database = folder / "bench.sqlite"
    if not (folder / "loaded").exists():
        return None
    from maf import create_app

    url = f"sqlite:///{database}"
    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=secrets.token_hex(32))
    with app.app_context():
        engine = db.engine
        user = db.session.scalar(db.select(User).order_by(User.id).limit(1))
        background = bench_matching.Background(1, user.agency_id, user.id)
    return bench_matching.Target("SQLite (kept)", url, app, background, engine)


def main(argv=None) -> None:
    args = parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="maf-bench-search-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        dataset = generate(
            args.children, duplicates=args.queries + WARM_UP, non_matches=0, seed=args.seed
        )
        _progress(f"generated {len(dataset.population):,} children")
        kept = _kept_target(work) if args.keep else None
        if kept:
            targets = [kept]
        else:
            bench_matching.PG_DATABASE = PG_DATABASE
            targets = bench_matching.open_targets(
                argparse.Namespace(
                    postgres_url=args.postgres_url, no_postgres=args.no_postgres or args.keep
                ),
                work,
            )
            if args.postgres_only:
                targets = [t for t in targets if t.engine.dialect.name == "postgresql"]
            bench_matching.load(targets, dataset)
            if args.keep:
                (work / "loaded").touch()
        report = {}
        for target in targets:
            report[target.label] = {
                "search": time_searches(target, dataset, args.queries + WARM_UP),
                "list": time_case_list(target, args.list_rounds),
            }
        print(markdown(args, report))
    finally:
        for target in locals().get("targets", []):
            target.engine.dispose()
            if target.engine.dialect.name == "postgresql":
                bench_matching._drop_database(target.url)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        if bench_matching.OWN_INSTANCE_PATH:
            shutil.rmtree(bench_matching.OWN_INSTANCE_PATH, ignore_errors=True)


if __name__ == "__main__":
    main()
