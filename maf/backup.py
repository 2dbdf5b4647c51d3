"""Backing up the whole database to one file, and restoring it (issue 8).

SQLite: the online backup API copies a consistent snapshot while the service goes on writing.
PostgreSQL: pg_dump's custom format (also one consistent snapshot), restored by pg_restore in a
single transaction, so a restore that fails part-way leaves the database as it was. The password
reaches the PostgreSQL tools through PGPASSWORD, never their command line, which anyone on the
machine can read.

A backup holds every child's personal data: it is created readable by its owner only (0600), in
a folder only its owner can open (0700), and never overwrites another file.
"""

import os
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from datetime import datetime
from glob import glob
from pathlib import Path
from urllib.request import pathname2url

from psycopg.conninfo import make_conninfo
from sqlalchemy import URL, make_url

from maf.dbtypes import utcnow

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Only a database with Alembic's version table was made by MAF.
MAF_TABLE = "alembic_version"
# How long a SQLite backup or restore waits for another program (the web app, the scheduler)
# to let go of the database before it gives up.
SQLITE_WAIT_SECONDS = 10


class BackupError(Exception):
    """What went wrong, for the person running the command; no personal data."""


def back_up(database_url: str, directory: Path, now: datetime | None = None) -> Path:
    """Write a backup of the database into `directory`, named by the UTC time; return its path."""
    url = make_url(database_url)
    kind = _kind_of_database(url)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    target = directory / f"maf-{stamp}.{'sqlite' if kind == 'sqlite' else 'dump'}"
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{target} already exists: wait a second and try again") from None
    except OSError as error:
        raise BackupError(f"cannot write to {directory}: {error.strerror}") from None
    try:
        with os.fdopen(descriptor, "wb") as output:
            if kind == "sqlite":
                _sqlite_back_up(url.database, target)
            else:
                _run_pg_tool("pg_dump", url, "--format=custom", stdout=output)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def check_backup(database_url: str, path: Path) -> None:
    """Raise BackupError unless `path` is an undamaged MAF backup this database can take."""
    url = make_url(database_url)
    kind = _kind_of_database(url)
    try:
        with path.open("rb") as stream:
            header = stream.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        raise BackupError(f"there is no file {path}") from None
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror}") from None
    if header.startswith(SQLITE_HEADER):
        found = "sqlite"
    elif header.startswith(PG_DUMP_HEADER):
        found = "postgresql"
    else:
        raise BackupError(f"{path} is not a MAF backup: it is neither SQLite nor a pg_dump file")
    if found != kind:
        raise BackupError(
            f"{path} is a backup of a {KINDS[found]} database, but this database is {KINDS[kind]}"
        )
    if kind == "sqlite":
        with closing(_open_read_only(path)) as backup:
            _check_sqlite(backup, path)
    else:
        try:
            contents = _run_pg_tool("pg_restore", None, "--list", str(path))
        except BackupError as error:
            raise BackupError(f"{path} is damaged: {error}") from None
        if f" TABLE public {MAF_TABLE} " not in contents:
            raise BackupError(f"{path} is not a MAF backup: it has no {MAF_TABLE} table")


def restore(database_url: str, path: Path) -> None:
    """Replace everything in the database with the backup at `path`, or change nothing.

    The web app and the scheduler should be stopped first: on SQLite the restore waits for their
    writes and may give up; on PostgreSQL it waits for their locks.
    """
    check_backup(database_url, path)
    url = make_url(database_url)
    if _kind_of_database(url) == "sqlite":
        deadline = time.monotonic() + SQLITE_WAIT_SECONDS

        def give_up_when_kept_waiting(_status, _remaining, _total):
            # sqlite3's backup() retries a locked database for ever; this ends the wait.
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked by another program")

        try:
            with (
                closing(_open_read_only(path)) as backup,
                closing(sqlite3.connect(url.database, timeout=SQLITE_WAIT_SECONDS)) as live,
            ):
                # In one step (all pages), so a restore that gives up has copied nothing.
                backup.backup(live, progress=give_up_when_kept_waiting, sleep=0.1)
        except sqlite3.Error as error:
            raise BackupError(f"the restore failed, nothing was changed: {error}") from None
        return
    try:
        _run_pg_tool(
            "pg_restore",
            url,
            "--clean",
            "--if-exists",
            "--no-owner",
            # One transaction, stopped at the first error: all of the backup, or nothing.
            "--single-transaction",
            "--exit-on-error",
            str(path),
        )
    except BackupError as error:
        raise BackupError(f"the restore failed, nothing was changed: {error}") from None


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_back_up(database: str, target: Path) -> None:
    if not Path(database).is_file():
        raise BackupError(f"there is no database file {database}")
    try:
        with (
            closing(sqlite3.connect(database, timeout=SQLITE_WAIT_SECONDS)) as live,
            closing(sqlite3.connect(target)) as copy,
        ):
            live.backup(copy)
            # One self-contained file: the copy would otherwise keep the live database's WAL
            # mode, and with it -wal and -shm files beside it once opened.
            copy.execute("PRAGMA journal_mode=DELETE")
            _check_sqlite(copy, target)
    except sqlite3.Error as error:
        raise BackupError(f"the backup failed: {error}") from None


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Opening a backup must neither create nor change it."""
    return sqlite3.connect(f"file:{pathname2url(str(path.resolve()))}?mode=ro", uri=True)


def _check_sqlite(connection: sqlite3.Connection, path: Path) -> None:
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
        is_maf = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MAF_TABLE,)
        ).fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is damaged: {error}") from None
    if verdict != "ok":
        raise BackupError(f"{path} is damaged: {verdict}")
    if not is_maf:
        raise BackupError(f"{path} is not a MAF backup: it has no {MAF_TABLE} table")


# --- PostgreSQL ------------------------------------------------------------------------------


def _kind_of_database(url: URL) -> str:
    kind = url.get_backend_name()
    if kind not in KINDS:
        raise BackupError(f"backups of {kind} databases are not supported")
    return kind


def _pg_tool(name: str) -> str:
    """The tool on PATH, else the newest in Debian's /usr/lib/postgresql/<version>/bin."""
    installed = sorted(
        glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(Path(path).parent.parent.name.partition(".")[0] or 0),
    )
    found = shutil.which(name) or (installed[-1] if installed else None)
    if found is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client programs")
    return found


def _run_pg_tool(name: str, url: URL | None, *arguments: str, stdout=subprocess.PIPE) -> str:
    """Run pg_dump or pg_restore against the database at `url` (None: no database)."""
    command = [_pg_tool(name), *arguments]
    environment = dict(os.environ)
    if url is not None:
        settings = {
            "host": url.host,
            "port": url.port,
            "user": url.username,
            "dbname": url.database,
            **url.query,
        }
        try:
            conninfo = make_conninfo(**{k: v for k, v in settings.items() if v is not None})
        except Exception as error:  # psycopg rejects a setting libpq does not know
            raise BackupError(f"the database address cannot be used: {error}") from None
        command.append(f"--dbname={conninfo}")
        if url.password:
            environment["PGPASSWORD"] = url.password
    # No shell: the arguments are the tool's path, fixed options and our own file and address.
    result = subprocess.run(  # noqa: S603
        command, stdout=stdout, stderr=subprocess.PIPE, env=environment, check=False
    )
    if result.returncode != 0:
        # Only the tools' own error lines: their context lines can quote a row of data.
        errors = [
            line
            for line in result.stderr.decode("utf-8", "replace").splitlines()
            if line.startswith(f"{name}: error:")
        ]
        raise BackupError(f"{name} failed: {'; '.join(errors) or result.returncode}")
    return result.stdout.decode("utf-8", "replace") if stdout == subprocess.PIPE else ""
