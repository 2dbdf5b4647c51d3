"""Existing-CAF check benchmark (issue 9): how fast and how right the app's duplicate-child
check is against a million children, beside exact name + date of birth matching and Splink.

1. bench.population generates N children (default 1,000,000) and labelled query records:
   duplicates of population children with realistic differences, and hard non-matches.
2. The children are loaded into a fresh, migrated SQLite file and, given a PostgreSQL server
   (--postgres-url, or MAF_BENCH_PG_URL, or MAF_TEST_DATABASE_URL as .ci/with-postgres sets),
   into a new database on it, dropped afterwards: each child with one closed CAF and with the
   blocking keys the app itself computes (matching.blocking_keys of services.person_of_child),
   in bulk (executemany on SQLite, COPY on PostgreSQL).
3. Each query is recorded as a new CAF (a child and a case, not committed) and the app's own
   check, services.run_existing_caf_check, runs on it, timed with the flush of what it writes
   (candidates and the audit event); then the transaction is rolled back.
4. The same queries are matched by exact name + date of birth, and by Splink (DuckDB backend,
   trained without labels on these records) scoring exactly the pairs the app's blocking
   fetched for each query.
5. Precision, recall and F1 on the labels and the latency percentiles are printed as markdown;
   --write-results also replaces the "Existing-CAF check" section of bench/RESULTS.md and
   writes bench/results/matching.json.

    .venv/bin/python -m bench.matching --children 20000      # SQLite only, a quick look
    make bench-matching                                       # the recorded run, both databases
"""

import argparse
import json
import logging
import os
import platform
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from inspect import signature as inspect_signature
from pathlib import Path
from types import SimpleNamespace

# The app's instance folder (and the SQLite file) go in a temporary folder removed at the end,
# unless the caller (the test suite) names one.
OWN_INSTANCE_PATH = None
if "MAF_INSTANCE_PATH" not in os.environ:
    OWN_INSTANCE_PATH = os.environ["MAF_INSTANCE_PATH"] = tempfile.mkdtemp(
        prefix="maf-bench-matching-"
    )

import flask_migrate  # noqa: E402
from sqlalchemy import Engine, event, inspect, make_url, text  # noqa: E402

from bench import seed  # noqa: E402
from bench.population import Dataset, Record, generate  # noqa: E402
from maf import create_app  # noqa: E402
from maf.auth.models import User  # noqa: E402
from maf.auth.services import hash_password  # noqa: E402
from maf.cases import matching  # noqa: E402
from maf.cases import services as case_services  # noqa: E402
from maf.cases.models import (  # noqa: E402
    Case,
    CaseStatus,
    Child,
    ChildMatchKey,
    Gender,
    SettingType,
)
from maf.cases.validation import age_on  # noqa: E402
from maf.directory.models import Agency, AgencyTier, AgencyType, District  # noqa: E402
from maf.extensions import db  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
RESULTS_JSON = ROOT / "bench" / "results" / "matching.json"
SECTION_START, SECTION_END = "<!-- matching:start -->", "<!-- matching:end -->"
PG_DATABASE = "maf_bench_matching"
TARGET_P95_MS = 50.0
TARGET_RECALL = TARGET_PRECISION = 0.98
SPLINK_THRESHOLD = 0.5
LOAD_CHUNK = 20_000
WARM_UP_QUERIES = 20
# find_similar_children's default limit: the most key-sharing children it scores.
SIMILAR_CHILDREN_LIMIT = (
    inspect_signature(case_services.find_similar_children).parameters["limit"].default
)


# --- the database ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Background:
    """The district, agency and coordinator every benchmark CAF belongs to."""

    district_id: int
    agency_id: int
    user_id: int


def open_database(url: str):
    """A new, migrated database at `url` and the app bound to it."""
    _drop_database(url)
    seed.create_database(url)
    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, SECRET_KEY=secrets.token_hex(32))
    with app.app_context():
        flask_migrate.upgrade()
        district = District(name="Bench district", slug="bench")
        agency = Agency(
            name="Bench primary school",
            type=AgencyType.PRIMARY_SCHOOL,
            tier=AgencyTier.UNIVERSAL,
            districts=[district],
        )
        user = User(
            email="coordinator@bench.example",
            name="Bench Coordinator",
            agency=agency,
            password_hash=hash_password(secrets.token_urlsafe()),  # never signs in
        )
        db.session.add(user)
        db.session.commit()
        background = Background(district.id, agency.id, user.id)
        db.session.remove()
    return app, background


def _drop_database(url: str) -> None:
    """A PostgreSQL database, or a SQLite file (about 2 GB at a million children)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        seed.drop_database(url)
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)


def _python_defaults(table) -> dict:
    """Values the ORM would fill in for columns a bulk row leaves out (COPY fills in none)."""
    defaults = {}
    for column in table.columns:
        default = column.default
        if default is None:
            continue
        defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    return defaults


NO_IDENTIFIERS = {"upn": None, "nhs_number": None}


def _child_row(index: int, record: Record, now: datetime) -> dict:
    return {
        "id": index + 1,
        "given_name": record.given_name,
        "family_name": record.family_name,
        "other_names": record.other_names,
        "date_of_birth": record.date_of_birth,
        "gender": Gender(record.gender),
        "address": "",
        "postcode": record.postcode,
        "created_at": now,
    }


def _case_row(index: int, record: Record, background: Background, defaults: dict) -> dict:
    """A CAF closed six months after the assessment; the check loads it with the child."""
    born = record.date_of_birth
    assessed = born + timedelta(days=(index * 7919) % max((date(2025, 12, 1) - born).days, 1))
    return defaults | {
        "id": index + 1,
        "child_id": index + 1,
        "district_id": background.district_id,
        "referrer_name": "Bench Referrer",
        "referrer_email": "referrer@bench.example",
        "referrer_agency_id": background.agency_id,
        "setting_type": SettingType.PRIMARY_SCHOOL,
        "assessment_completed_on": assessed,
        "age_at_assessment": age_on(born, assessed),
        "status": CaseStatus.CLOSED,
        "closed_on": assessed + timedelta(days=180),
        "created_by_id": background.user_id,
    }


def _write(engine: Engine, table, columns: list[str], rows: list[tuple]) -> None:
    """Insert rows in bulk, each value stored as SQLAlchemy would store it (its column type's
    bind processor), without checking foreign keys row by row: the generated rows refer only
    to rows already loaded. SQLite: executemany; PostgreSQL: COPY."""
    dialect = engine.dialect
    processors = [
        (position, processor)
        for position, column in enumerate(columns)
        if (processor := table.c[column].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if processors:
        rows = [_processed(row, processors) for row in rows]
    quote = dialect.identifier_preparer.quote
    names = ", ".join(map(quote, columns))
    connection = engine.raw_connection()
    try:
        if dialect.name == "sqlite":
            sqlite = connection.driver_connection  # in autocommit mode: see maf/__init__.py
            sqlite.execute("PRAGMA foreign_keys=OFF")
            sqlite.execute("BEGIN")
            placeholders = ", ".join("?" * len(columns))
            insert = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({placeholders})"  # noqa: S608  (names from the models)
            sqlite.executemany(insert, rows)
            sqlite.execute("COMMIT")
            sqlite.execute("PRAGMA foreign_keys=ON")
            return
        with connection.cursor() as cursor:
            # Only a superuser may skip the foreign-key triggers; others load more slowly.
            superuser = cursor.execute("SELECT current_setting('is_superuser')").fetchone()
            if superuser[0] == "on":
                cursor.execute("SET session_replication_role = replica")
            with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute("RESET session_replication_role")
        connection.commit()
    finally:
        connection.close()


def _processed(row: tuple, processors) -> list:
    values = list(row)
    for position, processor in processors:
        values[position] = processor(values[position])
    return values


def _drop_indexes(engine: Engine, tables: Iterable[str]) -> list[tuple[str, dict]]:
    """Drop the tables' secondary indexes before a bulk load: building an index once
    afterwards is far quicker than updating it row by row. Returns what was dropped."""
    quote = engine.dialect.identifier_preparer.quote
    indexes = [
        (table, index)
        for table in tables
        for index in inspect(engine).get_indexes(table)
        if not index["unique"]
    ]
    with engine.begin() as connection:
        for _, index in indexes:
            connection.execute(text(f"DROP INDEX {quote(index['name'])}"))
    return indexes


def _create_indexes(engine: Engine, indexes: list[tuple[str, dict]]) -> None:
    """The dropped indexes again, as the migrations defined them."""
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as connection:
        for table, index in indexes:
            columns = ", ".join(quote(column) for column in index["column_names"])
            connection.execute(
                text(f"CREATE INDEX {quote(index['name'])} ON {quote(table)} ({columns})")
            )


def _after_load(engine: Engine) -> None:
    """PostgreSQL: move the id sequences past the loaded ids (the checks insert a child and a
    case each) and gather the planner's statistics, as autovacuum would after a load."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in ("child", "caf_case"):
            connection.execute(
                text(  # constant table names
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))


@dataclass
class Target:
    label: str
    url: str
    app: object
    background: Background
    engine: Engine


def load(targets: list[Target], dataset: Dataset) -> float:
    """Every population child, with one closed CAF and the child's blocking keys, into every
    target; the keys are worked out once per child by the app's own functions. Each target is
    written by a thread of its own while the next chunk is prepared. Returns the seconds taken.
    """
    started = time.perf_counter()
    tables = (Child.__table__, Case.__table__, ChildMatchKey.__table__)
    names = [table.name for table in tables]
    case_defaults = _python_defaults(Case.__table__)
    now = datetime.now(UTC)
    population = dataset.population
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        dropped = list(pool.map(lambda target: _drop_indexes(target.engine, names), targets))
        writing = []
        for start in range(0, len(population), LOAD_CHUNK):
            children, cases, keys = [], [], []
            for index in range(start, min(start + LOAD_CHUNK, len(population))):
                record = population[index]
                child = _child_row(index, record, now)
                children.append(child)
                cases.append(_case_row(index, record, targets[0].background, case_defaults))
                # person_of_child reads only the child's fields: no model object needed.
                person = case_services.person_of_child(SimpleNamespace(**child, **NO_IDENTIFIERS))
                keys.extend((index + 1, key) for key in matching.blocking_keys(person))
            chunk = [
                (list(children[0]), [tuple(child.values()) for child in children]),
                (list(cases[0]), [tuple(case.values()) for case in cases]),
                (["child_id", "key"], keys),
            ]
            for future in writing:
                future.result()
            writing = [
                pool.submit(_write_chunk, target.engine, tables, chunk) for target in targets
            ]
            if start // LOAD_CHUNK % 10 == 9:
                _progress(f"loading: {start + len(children):,} children")
        for future in writing:
            future.result()
        finishing = [
            pool.submit(_finish_load, target.engine, indexes)
            for target, indexes in zip(targets, dropped, strict=True)
        ]
        for future in finishing:
            future.result()
    seconds = time.perf_counter() - started
    _progress(f"loaded in {seconds:.0f} s")
    return seconds


def _write_chunk(engine: Engine, tables, chunk) -> None:
    for table, (columns, rows) in zip(tables, chunk, strict=True):
        _write(engine, table, columns, rows)


def _finish_load(engine: Engine, indexes) -> None:
    _create_indexes(engine, indexes)
    _after_load(engine)


def _progress(message: str) -> None:
    print(f"[matching] {message}", file=sys.stderr, flush=True)


# --- the app's check --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    seconds: float
    found: dict[int, float]  # population index -> the app's score, for candidates (>= 55)
    reasons: dict[int, str]  # population index -> the reasons the app gave, for candidates
    fetched: frozenset[int]  # population indices the blocking keys fetched and compare scored


def run_checks(
    target: Target, dataset: Dataset, query_indices: list[int]
) -> dict[int, CheckResult]:
    """Record each query as a new CAF and run the coordinator's existing-CAF check on it, in
    a session of its own as a request would; nothing is committed."""
    results = {}
    for number, query_index in enumerate(query_indices):
        with target.app.app_context():
            results[query_index] = _check(target, dataset.queries[query_index].record)
        if number % 500 == 499:
            _progress(f"{target.label}: {number + 1:,} checks")
    return results


def _check(target: Target, record: Record) -> CheckResult:
    background = target.background
    user = db.session.get(User, background.user_id)
    child = Child(**_child_row(-1, record, datetime.now(UTC)) | {"id": None})
    case = Case(
        child=child,
        district_id=background.district_id,
        referrer_name="Bench Referrer",
        referrer_email="referrer@bench.example",
        referrer_agency_id=background.agency_id,
        setting_type=SettingType.PRIMARY_SCHOOL,
        assessment_completed_on=date(2026, 1, 1),
        created_by_id=user.id,
    )
    db.session.add(case)
    db.session.flush()
    # find_similar_children loads exactly the children sharing a key with the query (at most
    # its limit of them) and scores each: the pairs the app compares, which Splink scores too.
    fetched: list[int] = []

    def loaded(similar: Child, _context) -> None:
        fetched.append(similar.id - 1)

    event.listen(Child, "load", loaded)
    try:
        started = time.perf_counter()
        candidates = case_services.run_existing_caf_check(case, user)
        db.session.flush()
        seconds = time.perf_counter() - started
    finally:
        event.remove(Child, "load", loaded)
    found = {candidate.child_id - 1: candidate.score for candidate in candidates}
    reasons = {candidate.child_id - 1: candidate.reasons for candidate in candidates}
    db.session.rollback()
    return CheckResult(seconds, found, reasons, frozenset(fetched))


# --- the other two matchers -------------------------------------------------------------------


def _plain(name: str) -> str:
    """Case and spacing ignored, nothing else: what "exact" means to a person comparing."""
    return " ".join(name.casefold().split())


def exact_matches(dataset: Dataset) -> list[dict[int, float]]:
    """For each query, the population children with the same given name, family name and
    date of birth."""

    def key(record: Record) -> tuple:
        return _plain(record.given_name), _plain(record.family_name), record.date_of_birth

    wanted = {key(query.record) for query in dataset.queries}
    children = defaultdict(list)
    for index, record in enumerate(dataset.population):
        if (found := key(record)) in wanted:
            children[found].append(index)
    return [dict.fromkeys(children[key(query.record)], 1.0) for query in dataset.queries]


def splink_matches(
    dataset: Dataset, fetched: list[frozenset[int]], seed_value: int
) -> tuple[list[dict[int, float]], dict]:
    """Splink's match probability for every pair the app's blocking fetched.

    The model is Splink's usual one for people (forename/surname with swaps and a
    term-frequency adjustment on the full name, date of birth, postcode, gender), on a
    link_only job between the queries and the population. u comes from random sampling, m
    from expectation maximisation on pairs blocked on date of birth and then on full name,
    the prior from deterministic rules: no labels are used.
    """
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()

    def table(records: list[Record]) -> pa.Table:
        given = [_plain(record.given_name) for record in records]
        family = [_plain(record.family_name) for record in records]
        return pa.table(
            {
                "unique_id": list(range(len(records))),
                "given_name": given,
                "family_name": family,
                "full_name": [f"{g} {f}" for g, f in zip(given, family, strict=True)],
                "dob": [record.date_of_birth.isoformat() for record in records],
                "postcode": [record.postcode.upper() for record in records],
                "gender": [record.gender for record in records],
            }
        )

    db_api = DuckDBAPI()
    population = db_api.register(table(dataset.population), dataset_display_name="population")
    queries = db_api.register(
        table([query.record for query in dataset.queries]), dataset_display_name="queries"
    )
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.ForenameSurnameComparison(
                "given_name", "family_name", forename_surname_concat_col_name="full_name"
            ),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("gender"),
        ],
    )
    linker = Linker([population, queries], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("full_name", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed_value)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("full_name"))
    # Splink's own key format for a pair: "<dataset>-__-<unique_id>", population on the left.
    pairs = pa.table(
        {
            "match_key": ["0"] * sum(len(children) for children in fetched),
            "join_key_l": [
                f"population-__-{child}" for children in fetched for child in sorted(children)
            ],
            "join_key_r": [
                f"queries-__-{query}"
                for query, children in enumerate(fetched)
                for _ in range(len(children))
            ],
        }
    )
    linker.table_management.register_blocked_pairs_for_predict(db_api.register(pairs))
    predictions = linker.inference.predict(warning_mode="never").as_duckdbpyrelation()
    scores: list[dict[int, float]] = [{} for _ in dataset.queries]
    rows = predictions.select("source_dataset_l, unique_id_l, unique_id_r, match_probability")
    for source_l, id_l, id_r, probability in rows.fetchall():
        child, query = (id_l, id_r) if source_l == "population" else (id_r, id_l)
        scores[query][child] = probability
    info = {
        "pairs scored": len(pairs),
        "seconds": round(time.perf_counter() - started, 1),
        "model": linker.misc.save_model_to_json(),  # the trained m and u values, and the prior
    }
    return scores, info


# --- precision and recall ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Counts for one matcher at one threshold."""

    true_positives: int
    false_positives: int
    duplicates: int
    found_by_kind: dict[str, int]
    false_positives_by_kind: dict[str, int]

    @property
    def precision(self) -> float:
        returned = self.true_positives + self.false_positives
        return self.true_positives / returned if returned else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.duplicates

    @property
    def f1(self) -> float:
        return (
            2
            * self.true_positives
            / (
                2 * self.true_positives
                + self.false_positives
                + (self.duplicates - self.true_positives)
            )
        )


def outcome(dataset: Dataset, scores: list[dict[int, float]], threshold: float) -> Outcome:
    """A duplicate counts as found when its partner scores at or above the threshold; every
    other child at or above it, for any query, is a false positive."""
    true_positives = false_positives = 0
    found_by_kind: Counter = Counter()
    false_by_kind: Counter = Counter()
    for query, found in zip(dataset.queries, scores, strict=True):
        returned = {child for child, score in found.items() if score >= threshold}
        partner_found = query.duplicate and query.partner in returned
        wrong = len(returned) - partner_found
        true_positives += partner_found
        found_by_kind[query.kind] += partner_found
        false_positives += wrong
        false_by_kind[query.kind] += wrong
    duplicates = sum(query.duplicate for query in dataset.queries)
    return Outcome(true_positives, false_positives, duplicates, found_by_kind, false_by_kind)


def _difference(query: Record, partner: Record) -> str:
    """What a missed duplicate's records disagree on, in a form that repeats across pairs."""
    if query.given_name != partner.given_name:
        return f"given name {query.given_name} / {partner.given_name}"
    if query.family_name != partner.family_name:
        return "family name"
    if query.date_of_birth != partner.date_of_birth:
        return f"date of birth {query.date_of_birth} / {partner.date_of_birth}"
    return "postcode"


def frequent_misses(dataset: Dataset, scores: list[dict[int, float]], threshold: float):
    """The commonest differences among duplicates not found at the threshold."""
    misses = Counter(
        (query.kind, _difference(query.record, dataset.population[query.partner]))
        for query, found in zip(dataset.queries, scores, strict=True)
        if query.duplicate and found.get(query.partner, 0.0) < threshold
    )
    return [(kind, difference, count) for (kind, difference), count in misses.most_common(12)]


def _evidence(reasons: str) -> str:
    """The date-of-birth and address evidence behind a score, from the app's reasons."""
    dob = reasons.split(" (")[0].split(";")[0]
    address = next(
        (where for where in ("Same postcode sector", "Same postcode") if where in reasons),
        "different or no postcode",
    )
    return f"{dob}; {address.lower()}"


def frequent_false_positives(dataset: Dataset, checks: list[CheckResult], threshold: float):
    """The commonest evidence behind children wrongly returned at the threshold."""
    wrong = Counter(
        _evidence(check.reasons[child])
        for query, check in zip(dataset.queries, checks, strict=True)
        for child, score in check.found.items()
        if score >= threshold and not (query.duplicate and child == query.partner)
    )
    return wrong.most_common(8)


def best_f1_threshold(dataset: Dataset, scores: list[dict[int, float]]) -> float:
    """The threshold, among the scores given, at which F1 is highest."""
    pairs = sorted(
        (
            (score, query.duplicate and child == query.partner)
            for query, found in zip(dataset.queries, scores, strict=True)
            for child, score in found.items()
        ),
        reverse=True,
    )
    duplicates = sum(query.duplicate for query in dataset.queries)
    best, best_threshold, true_positives = -1.0, 1.0, 0
    for position, (score, correct) in enumerate(pairs):
        true_positives += correct
        last_of_score = position + 1 == len(pairs) or pairs[position + 1][0] != score
        if last_of_score:
            f1 = 2 * true_positives / (position + 1 + duplicates)
            if f1 > best:
                best, best_threshold = f1, score
    return best_threshold


# --- the report -------------------------------------------------------------------------------


def latency(results: list[CheckResult]) -> dict[str, float]:
    milliseconds = [result.seconds * 1000 for result in results]
    cuts = statistics.quantiles(milliseconds, n=100, method="inclusive")
    return {
        "checks": len(milliseconds),
        "children scored, mean": statistics.fmean(len(result.fetched) for result in results),
        "checks at the limit": sum(len(r.fetched) == SIMILAR_CHILDREN_LIMIT for r in results)
        / len(results),
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "max": max(milliseconds),
        "mean": statistics.fmean(milliseconds),
    }


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{memory_kb / 1024**2:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def _share(value: float) -> str:
    return f"{value:.4f}"


def _yes(met: bool) -> str:
    return "**met**" if met else "**missed**"


def markdown(report: dict) -> str:
    setup, accuracy = report["setup"], report["accuracy"]
    lines = [
        "## Existing-CAF check",
        "",
        f"Measured {setup['date']} by `{setup['command']}`: {setup['children']:,} children, "
        f"{setup['duplicates']:,} labelled duplicates and {setup['non_matches']:,} hard "
        f"non-matches, seed {setup['seed']}. Machine: {setup['machine']['cpu']}, "
        f"{setup['machine']['cores']} cores, {setup['machine']['memory']}; "
        f"{setup['machine']['os']}; Python {setup['machine']['python']}; "
        + "; ".join(setup["databases"])
        + f"; Splink {setup['splink']} on DuckDB {setup['duckdb']}.",
        "",
        "### Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    for label, figures in report["latency"].items():
        lines.append(
            f"| p95 of one check < {TARGET_P95_MS:.0f} ms on {label} | {_ms(figures['p95'])} "
            f"| {_yes(figures['p95'] < TARGET_P95_MS)} |"
        )
    app = accuracy["App, match threshold"]
    exact = accuracy["Exact name + date of birth"]
    lines.append(
        f"| recall ≥ {TARGET_RECALL} at precision ≥ {TARGET_PRECISION} (app's match threshold) "
        f"| recall {_share(app['recall'])}, precision {_share(app['precision'])} "
        f"| {_yes(app['recall'] >= TARGET_RECALL and app['precision'] >= TARGET_PRECISION)} |"
    )
    lines.append(
        f"| better recall than exact name + date of birth | {_share(app['recall'])} against "
        f"{_share(exact['recall'])} | {_yes(app['recall'] > exact['recall'])} |"
    )
    splink = accuracy.get(f"Splink, match probability ≥ {SPLINK_THRESHOLD}")
    if splink:
        best = accuracy["Splink, best-F1 threshold"]
        lines.append(
            f"| F1 at least Splink's | {_share(app['f1'])} against {_share(splink['f1'])} "
            f"(Splink at its best threshold: {_share(best['f1'])}) "
            f"| {_yes(app['f1'] >= max(splink['f1'], best['f1']))} |"
        )
    lines += [
        "",
        "### Latency of one check",
        "",
        "| database | checks | p50 | p95 | p99 | max | children scored per check (mean) "
        f"| checks scoring the limit of {SIMILAR_CHILDREN_LIMIT} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, figures in report["latency"].items():
        lines.append(
            f"| {label} | {figures['checks']:,} | {_ms(figures['p50'])} | {_ms(figures['p95'])} "
            f"| {_ms(figures['p99'])} | {_ms(figures['max'])} "
            f"| {figures['children scored, mean']:.0f} | {figures['checks at the limit']:.0%} |"
        )
    lines += [
        "",
        "### Precision and recall on the labelled pairs",
        "",
        "| matcher | threshold | found | missed | false positives | precision | recall | F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, figures in accuracy.items():
        lines.append(
            f"| {label} | {figures['threshold']:g} | {figures['true_positives']:,} "
            f"| {figures['duplicates'] - figures['true_positives']:,} "
            f"| {figures['false_positives']:,} | {_share(figures['precision'])} "
            f"| {_share(figures['recall'])} | {_share(figures['f1'])} |"
        )
    columns = [label for label in accuracy if "best-F1" not in label]
    lines += [
        "",
        "### Duplicates found, by difference",
        "",
        "| difference | pairs | " + " | ".join(columns) + " | fetched by the app's keys |",
        "|---|---:|" + "---:|" * (len(columns) + 1),
    ]
    for kind, count in report["kinds"]["duplicates"].items():
        cells = [f"{accuracy[label]['found_by_kind'][kind]:,}" for label in columns]
        fetched = report["kinds"]["fetched"][kind]
        lines.append(f"| {kind} | {count:,} | " + " | ".join(cells) + f" | {fetched:,} |")
    lines += [
        "",
        "### False positives, by kind of query",
        "",
        "| query | queries | " + " | ".join(columns) + " |",
        "|---|---:|" + "---:|" * len(columns),
    ]
    for kind, count in report["kinds"]["all"].items():
        cells = [f"{accuracy[label]['false_positives_by_kind'][kind]:,}" for label in columns]
        lines.append(f"| {kind} | {count:,} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### The app's commonest misses at its match threshold",
        "",
        "| difference | what differs | pairs missed |",
        "|---|---|---:|",
        *(f"| {kind} | {what} | {count:,} |" for kind, what, count in report["misses"]),
    ]
    lines += [
        "",
        "### The evidence behind the app's false positives at its match threshold",
        "",
        "| date of birth; address | false positives |",
        "|---|---:|",
        *(f"| {evidence} | {count:,} |" for evidence, count in report["false positives"]),
    ]
    lines += ["", *DEFINITIONS.format(**report["definitions"]).splitlines()]
    if report["differences"]:
        lines += ["", *report["differences"]]
    return "\n".join(lines).rstrip() + "\n"


DEFINITIONS = """\
### What the figures mean

- **Population and labels** (bench/population.py): children in households (siblings share a
  family name and postcode; 3% of households with two or more children have twins). Given
  names are half the commonest baby names in England and Wales since 2008 (the commonest,
  Oliver and Olivia, about 2% of their sex) and half Faker's en_GB lists; surnames are
  Faker's weighted en_GB list mixed with its en_IE list (Smith 1.3% of children); 15% of
  households take their names from Faker's en_IE, en_IN or pl_PL lists; postcodes are Faker
  en_GB postcodes in 4,000 sectors. With a few hundred given names and a few thousand
  surnames, children share a full name more often than in a real authority (very roughly
  twice as often), so there are more namesakes: more children fetched per check and more
  false positives than real data would give. Each labelled query is a new record paired
  with one population child: a *duplicate* is that child recorded again with the difference
  named in the table; a *hard non-match* is a different child who looks like them (a twin, a
  sibling at the same address, a child with the same common name born within a year). No
  query carries an NHS number or UPN, which would decide the match on its own.
- **One check** is `services.run_existing_caf_check(case, user)` for a new CAF whose child is
  the query (the child and case are inserted first, untimed), timed with the flush of the
  candidates and audit event it writes; each check runs in a fresh session, as a request
  does, and is rolled back. Every population child has one closed CAF, which the check loads
  with the child. {warm_up} checks are run first and not counted.
- **Found**: the query's partner is returned at or above the threshold. **False positive**:
  any other child returned at or above the threshold, for any query (for a hard non-match,
  the partner too). Precision = found / (found + false positives); recall = found /
  duplicates; F1 = 2 · precision · recall / (precision + recall).
- **App**: the scores the check gave, at its match threshold ({match}) and at its candidate
  threshold ({candidate}, the lowest score it shows a coordinator). Its best-F1 threshold is
  given for information only; the app's thresholds were not changed for this benchmark.
- **Exact name + date of birth**: given name, family name (case and spacing ignored) and
  date of birth all equal, searched over the whole population.
- **Splink** {splink_version} (DuckDB): a link_only model between the queries and the
  population with Splink's standard comparisons for people (forename/surname with swapped
  names and a term-frequency adjustment on the full name, date of birth, postcode, gender);
  u by random sampling (5,000,000 pairs), m by expectation maximisation on pairs blocked on
  date of birth and then on full name, the prior from exact full name + date of birth
  (recall 0.7): no labels. It scores exactly the pairs the app's blocking keys fetched for
  each query ({splink_pairs:,} pairs), so the two differ only in scoring; the default
  threshold is a match probability of {splink_threshold}, and the best-F1 threshold, chosen
  with the labels, is shown for fairness. Training and scoring took {splink_seconds} s.
- **Fetched by the app's keys**: the partner was among the children sharing a blocking key
  with the query (the {limit} sharing most keys), so any matcher scoring those pairs could
  find it.

### How to reproduce

`make bench-matching` (PostgreSQL from Debian's `postgresql` package, started by
`.ci/with-postgres` on port 55432 or MAF_PG_PORT; it times an even spread of 1,000 of the
queries there) or, for SQLite alone, `.venv/bin/python -m bench.matching --no-postgres`.
`--help` lists the sizes, seed and options. The run took {total_minutes:.1f} minutes:
generating {generate_seconds:.0f} s, loading {load_total:.0f} s, checks {check_seconds:.0f} s,
Splink {splink_seconds} s.
"""


def write_section(markdown_text: str) -> None:
    """Replace this benchmark's section of bench/RESULTS.md, leaving the rest alone."""
    section = f"{SECTION_START}\n{markdown_text}{SECTION_END}"
    current = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmarks\n"
    if SECTION_START in current and SECTION_END in current:
        before, rest = current.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1]
        updated = before + section + after
    else:
        updated = current.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS_MD.write_text(updated)


# --- the run ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.matching", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--duplicates", type=int, default=2_000)
    parser.add_argument("--non-matches", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MAF_BENCH_PG_URL") or os.environ.get("MAF_TEST_DATABASE_URL"),
        help="a PostgreSQL server (its database name is replaced by "
        f"{PG_DATABASE}); default MAF_BENCH_PG_URL or MAF_TEST_DATABASE_URL",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--postgres-checks",
        type=int,
        help="time only this many of the queries on PostgreSQL (default: all)",
    )
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument(
        "--write-results",
        action="store_true",
        help="replace this benchmark's section of bench/RESULTS.md and write "
        "bench/results/matching.json",
    )
    return parser.parse_args(argv)


def open_targets(args, work: Path) -> list[Target]:
    urls = {f"SQLite {sqlite3.sqlite_version}": f"sqlite:///{work / 'bench.sqlite'}"}
    if args.postgres_url and not args.no_postgres:
        url = make_url(args.postgres_url).set(database=PG_DATABASE)
        urls["PostgreSQL"] = url.render_as_string(hide_password=False)
    targets = []
    for label, url in urls.items():
        app, background = open_database(url)
        with app.app_context():
            engine = db.engine
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    server = connection.execute(text("SHOW server_version")).scalar()
                label = f"PostgreSQL {server.split()[0]}"
        targets.append(Target(label, url, app, background, engine))
    return targets


def _sample(everything: list[int], target: Target, args) -> list[int]:
    """All the queries, or on PostgreSQL if asked an even spread of them (they are grouped by
    kind, so the first few would all be of one kind)."""
    wanted = args.postgres_checks if target.engine.dialect.name == "postgresql" else None
    if not wanted or wanted >= len(everything):
        return everything
    return everything[:: len(everything) // wanted][:wanted]


def _difference_between(label, results, reference_label, reference) -> str:
    """Whether two databases' checks returned the same candidates with the same scores."""
    different = [
        index for index, result in results.items() if result.found != reference[index].found
    ]
    if not different:
        return (
            f"{label} returned the same candidates and scores as {reference_label} for all "
            f"{len(results):,} queries."
        )
    at_limit = sum(
        len(results[index].fetched) == len(reference[index].fetched) == SIMILAR_CHILDREN_LIMIT
        for index in different
    )
    return (
        f"{label} returned different candidates from {reference_label} for {len(different):,} "
        f"of {len(results):,} queries; in {at_limit:,} of them both fetched the limit of "
        f"{SIMILAR_CHILDREN_LIMIT} children, so they scored different children among those "
        "tied on the number of keys shared (the query orders by that count alone)."
    )


def _installed(package: str) -> str:
    """The installed version, or a note: `--no-splink` runs (the test suite's) go without it."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    dataset = generate(args.children, args.duplicates, args.non_matches, args.seed)
    generate_seconds = time.perf_counter() - started
    _progress(f"generated {len(dataset.population):,} children in {generate_seconds:.0f} s")

    work = Path(os.environ["MAF_INSTANCE_PATH"])
    targets = open_targets(args, work)
    try:
        load_seconds = load(targets, dataset)
        checks: dict[str, dict[int, CheckResult]] = {}
        check_started = time.perf_counter()
        everything = list(range(len(dataset.queries)))
        for target in targets:
            run_checks(target, dataset, everything[:WARM_UP_QUERIES])
            checks[target.label] = run_checks(target, dataset, _sample(everything, target, args))
        check_seconds = time.perf_counter() - check_started
    finally:
        for target in targets:
            target.engine.dispose()
            _drop_database(target.url)
        if OWN_INSTANCE_PATH:
            shutil.rmtree(OWN_INSTANCE_PATH, ignore_errors=True)

    reference = checks[targets[0].label]
    app_scores = [reference[index].found for index in everything]
    fetched = [reference[index].fetched for index in everything]
    differences = [
        _difference_between(label, results, targets[0].label, reference)
        for label, results in list(checks.items())[1:]
    ]

    matchers = {
        "App, match threshold": (app_scores, matching.MATCH_THRESHOLD),
        "App, candidate threshold": (app_scores, matching.CANDIDATE_THRESHOLD),
        "App, best-F1 threshold": (app_scores, best_f1_threshold(dataset, app_scores)),
        "Exact name + date of birth": (exact_matches(dataset), 1.0),
    }
    splink_info = {"seconds": 0, "pairs scored": 0}
    if not args.no_splink:
        splink_scores, splink_info = splink_matches(dataset, fetched, args.seed)
        matchers[f"Splink, match probability ≥ {SPLINK_THRESHOLD}"] = (
            splink_scores,
            SPLINK_THRESHOLD,
        )
        matchers["Splink, best-F1 threshold"] = (
            splink_scores,
            best_f1_threshold(dataset, splink_scores),
        )
    accuracy = {}
    for label, (scores, threshold) in matchers.items():
        counts = outcome(dataset, scores, threshold)
        accuracy[label] = {
            "threshold": round(threshold, 4),
            "true_positives": counts.true_positives,
            "false_positives": counts.false_positives,
            "duplicates": counts.duplicates,
            "precision": counts.precision,
            "recall": counts.recall,
            "f1": counts.f1,
            "found_by_kind": dict(counts.found_by_kind),
            "false_positives_by_kind": dict(counts.false_positives_by_kind),
        }

    kinds = Counter(query.kind for query in dataset.queries)
    fetched_by_kind = Counter(
        query.kind
        for query, children in zip(dataset.queries, fetched, strict=True)
        if query.duplicate and query.partner in children
    )
    report = {
        "setup": {
            "date": datetime.now(UTC).date().isoformat(),
            "command": "make bench-matching"
            if args.write_results
            else " ".join(["python -m bench.matching", *sys.argv[1:]]),
            "children": args.children,
            "duplicates": args.duplicates,
            "non_matches": args.non_matches,
            "seed": args.seed,
            "machine": machine(),
            "databases": [target.label for target in targets],
            "splink": _installed("splink"),
            "duckdb": _installed("duckdb"),
        },
        "latency": {label: latency(list(results.values())) for label, results in checks.items()},
        "load_seconds": load_seconds,
        "accuracy": accuracy,
        "kinds": {
            "duplicates": dict(Counter(q.kind for q in dataset.queries if q.duplicate)),
            "all": dict(kinds),
            "fetched": {kind: fetched_by_kind[kind] for kind in kinds},
        },
        "splink": splink_info,
        "differences": differences,
        "misses": frequent_misses(dataset, app_scores, matching.MATCH_THRESHOLD),
        "false positives": frequent_false_positives(
            dataset, [reference[index] for index in everything], matching.MATCH_THRESHOLD
        ),
    }
    report["definitions"] = {
        "warm_up": WARM_UP_QUERIES,
        "limit": SIMILAR_CHILDREN_LIMIT,
        "match": matching.MATCH_THRESHOLD,
        "candidate": matching.CANDIDATE_THRESHOLD,
        "splink_version": _installed("splink"),
        "splink_pairs": splink_info["pairs scored"],
        "splink_threshold": SPLINK_THRESHOLD,
        "splink_seconds": splink_info["seconds"],
        "total_minutes": (time.perf_counter() - started) / 60,
        "generate_seconds": generate_seconds,
        "load_total": load_seconds,
        "check_seconds": check_seconds,
    }
    text_report = markdown(report)
    print(text_report)
    if args.write_results:
        write_section(text_report)
        RESULTS_JSON.parent.mkdir(exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(report, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
