"""`flask --app wsgi maf ...` commands."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from maf.auth import services as auth_services
from maf.auth.models import Role
from maf.dbtypes import london_today
from maf.directory.models import Agency, District
from maf.extensions import db
from maf.words import plural

maf_cli = AppGroup("maf", help="MAF administration commands.")


@maf_cli.command("demo")
@click.option(
    "--history",
    default=400,
    show_default=True,
    help="How many past CAFs to make, over two years of forum meetings (first load only).",
)
def demo_command(history: int):
    """Load (or refresh) demo districts, agencies and users, and print how to sign in."""
    from maf.demo import DEMO_PASSWORD, load_demo_data

    users = load_demo_data(history_cases=history)
    click.echo("Demo data loaded. Sign in at http://127.0.0.1:5000/sign-in with:")
    for user in users:
        roles = ", ".join(role.label for role in user.roles)
        where = ", ".join(user.districts) or "all districts"
        click.echo(f"  {user.email:<36} {roles} ({where})")
    click.echo(f"Password for every demo user: {DEMO_PASSWORD}")


def _lookup(model, name_column, names):
    found = []
    for name in names:
        obj = db.session.scalar(select(model).where(name_column == name))
        if obj is None:
            raise click.BadParameter(f"no {model.__tablename__} called {name!r}")
        found.append(obj)
    return found


@maf_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="Repeat for several roles.",
)
@click.option("--district", "districts", multiple=True, help="District slug; repeatable.")
@click.option("--agency", default=None, help="Exact agency name.")
@click.password_option(help="At least 12 characters; prompted for if not given.")
def create_user_command(email, name, roles, districts, agency, password):
    """Create an account (or update the one with this email) for a real deployment."""
    problem = auth_services.password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    user = auth_services.save_user(
        email=email,
        name=name,
        password=password,
        roles=[Role(role) for role in roles],
        districts=_lookup(District, District.slug, districts),
        agency=_lookup(Agency, Agency.name, [agency])[0] if agency else None,
    )
    db.session.commit()
    click.echo(f"Saved {user.email} with roles {', '.join(sorted(user.roles))}.")


@maf_cli.command("import-involvement")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--all-or-nothing", is_flag=True, help="Import nothing if any row has a problem.")
def import_involvement_command(file: Path, all_or_nothing: bool):
    """Load a tier 3/4 register export (CSV) from a statutory service."""
    from maf.cases.involvement_import import parse_involvement_csv
    from maf.cases.services import import_involvement

    total_lines = sum(1 for _ in file.open(encoding="utf-8-sig", newline=""))
    with (
        file.open(encoding="utf-8-sig", newline="") as stream,
        click.progressbar(length=total_lines, label="Reading", file=sys.stderr) as bar,
    ):
        seen = [0]

        def advance(line: int) -> None:
            bar.update(line - seen[0])
            seen[0] = line

        try:
            parsed = parse_involvement_csv(stream, london_today(), on_progress=advance)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        bar.update(total_lines - seen[0])
    for error in parsed.errors:
        click.echo(f"line {error.line}: {error.message}", err=True)
    batch = import_involvement(parsed, file.name, None, all_or_nothing=all_or_nothing)
    if batch is None:
        raise click.ClickException(
            f"Nothing imported: {plural(len(parsed.errors), 'row')} with problems "
            "(--all-or-nothing)"
        )
    click.echo(
        f"Imported {plural(batch.rows_imported, 'row')}; "
        f"{plural(batch.rows_rejected, 'row')} not imported."
    )


@maf_cli.command("scheduler")
def scheduler_command():
    """Run the scheduled jobs (outbox sender, reminders) in this process until stopped."""
    from flask import current_app

    from maf.jobs import run_forever

    run_forever(
        current_app._get_current_object(),
        announce=lambda: click.echo(
            "Scheduler waiting for the lease; only one scheduler runs the jobs at a time."
        ),
    )


@maf_cli.command("send-outbox")
def send_outbox_command():
    """Send the waiting emails once, now."""
    from maf.circulation.outbox import send_pending

    report = send_pending(worker="cli")
    click.echo(str(report))


@maf_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
def retention_command(dry_run: bool):
    """Archive CAFs closed over a year ago; destroy identifying data archived over 6 years."""

    from maf.reports.retention import apply_retention

    report = apply_retention(london_today(), dry_run=dry_run)
    verb = "Would" if dry_run else "Did"
    click.echo(f"{verb} archive cases: {', '.join(map(str, report.archived)) or 'none'}")
    click.echo(
        f"{verb} remove from search children: "
        f"{', '.join(map(str, report.removed_from_search)) or 'none'}"
    )
    click.echo(
        f"{verb} destroy identifying data of children: "
        f"{', '.join(map(str, report.destroyed)) or 'none'}"
    )


@maf_cli.command("backup")
@click.option(
    "--to",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write the backup in (default: backups/ in the instance folder).",
)
def backup_command(directory: Path | None):
    """Back up the whole database to a file named by the time (UTC), readable by you only."""
    from flask import current_app

    from maf.backup import BackupError, back_up

    directory = directory or Path(current_app.instance_path) / "backups"
    try:
        path = back_up(current_app.config["SQLALCHEMY_DATABASE_URI"], directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up to {path}")


@maf_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
def restore_command(path: Path, yes: bool):
    """Replace everything in the database with a backup. Stop the web app and scheduler first."""
    from flask import current_app
    from sqlalchemy import make_url

    from maf.backup import BackupError, check_backup, restore

    database_url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        check_backup(database_url, path)
        if not yes:
            shown = make_url(database_url).render_as_string(hide_password=True)
            click.confirm(
                f"Everything in {shown} will be replaced by the backup {path.name}. Continue?",
                abort=True,
            )
        # This process's own connections must not hold the tables the restore replaces.
        db.session.remove()
        db.engine.dispose()
        restore(database_url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored the database from {path}")
