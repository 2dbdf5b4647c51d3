"""MAF: multi-agency forums for early-help teams."""

import secrets
from pathlib import Path

from flask import Flask, g, has_request_context, render_template, request
from flask_wtf.csrf import CSRFError
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError

import config as maf_config
from maf.dbtypes import LONDON
from maf.extensions import csrf, db, limiter, login_manager, migrate
from maf.words import plural

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, **overrides) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(maf_config.INSTANCE_DIR),
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_object(maf_config.config_for(config_name))
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    # One way to say "1 day" / "2 days" in every template and macro (maf.words).
    app.jinja_env.globals["plural"] = plural
    WTFormsHelpers(app)

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _make_sqlite_behave(db.engine)
    # Batch mode lets migrations alter tables on SQLite too.
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    _register_models_and_blueprints(app)
    _register_request_hooks(app)
    _register_error_pages(app)

    from maf.cli import maf_cli

    app.cli.add_command(maf_cli)
    if app.config["SCHEDULER_IN_APP"] and not app.testing:
        from maf.jobs import start_in_app

        start_in_app(app)
    return app


def _make_sqlite_behave(engine) -> None:
    """Give the embedded SQLite database real transactions and enforced foreign keys.

    Python's sqlite3 driver begins transactions lazily and cannot nest savepoints; taking over
    BEGIN (the recipe in SQLAlchemy's SQLite notes) fixes both. WAL lets pages be read while a
    coordinator is saving.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A form post will write: take the write lock at the start, so a second post waits
        # for the first (busy_timeout) rather than failing when its snapshot turns stale.
        writes = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _register_models_and_blueprints(app: Flask) -> None:
    from maf.agendas import models as _agenda_models  # noqa: F401
    from maf.agendas.views import bp as agendas_bp
    from maf.answers import models as _answer_models  # noqa: F401
    from maf.answers.views import bp as answers_bp
    from maf.audit import models as _audit_models  # noqa: F401  (registers the tables)
    from maf.audit.views import bp as audit_bp
    from maf.auth import services as auth_services
    from maf.auth.permissions import public
    from maf.auth.views import bp as auth_bp
    from maf.cases import models as _case_models  # noqa: F401
    from maf.cases.views import bp as cases_bp
    from maf.circulation import models as _circulation_models  # noqa: F401
    from maf.circulation.views import bp as circulation_bp
    from maf.corrections.views import bp as corrections_bp
    from maf.dashboard.views import bp as dashboard_bp
    from maf.directory.views import bp as directory_bp
    from maf.forums import models as _forum_models  # noqa: F401
    from maf.forums.views import bp as forums_bp
    from maf.invitations.views import bp as invitations_bp
    from maf.notifications import models as _notification_models  # noqa: F401
    from maf.notifications.views import bp as notifications_bp
    from maf.outcomes import models as _outcome_models  # noqa: F401
    from maf.outcomes.followup_views import bp as followup_bp
    from maf.outcomes.progress_views import bp as progress_bp
    from maf.outcomes.views import bp as outcomes_bp
    from maf.people.views import bp as people_bp
    from maf.public_pages import models as _public_page_models  # noqa: F401
    from maf.public_pages.views import bp as public_pages_bp
    from maf.reports import models as _report_models  # noqa: F401
    from maf.reports.board_views import bp as board_bp
    from maf.reports.quality_views import bp as quality_bp
    from maf.reports.views import bp as reports_bp
    from maf.rules import models as _rule_models  # noqa: F401
    from maf.rules.views import bp as rules_bp
    from maf.search.views import bp as search_bp
    from maf.sso import models as _sso_models  # noqa: F401
    from maf.sso.views import bp as sso_bp
    from maf.subject_access.views import bp as subject_access_bp
    from maf.submissions import FormSubmission as _form_submission  # noqa: F401

    for blueprint in (
        auth_bp,
        sso_bp,
        dashboard_bp,
        directory_bp,
        cases_bp,
        forums_bp,
        agendas_bp,
        circulation_bp,
        answers_bp,
        outcomes_bp,
        progress_bp,
        followup_bp,
        corrections_bp,
        quality_bp,
        board_bp,
        reports_bp,
        audit_bp,
        invitations_bp,
        people_bp,
        rules_bp,
        search_bp,
        public_pages_bp,
        subject_access_bp,
        notifications_bp,
    ):
        app.register_blueprint(blueprint)
    public(app.view_functions["static"])

    login_manager.user_loader(auth_services.user_by_session_token)


def _register_request_hooks(app: Flask) -> None:
    from maf.auth.permissions import enforce_access

    @app.before_request
    def _csp_nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    app.before_request(enforce_access)

    from maf.auth.models import Role
    from maf.rules.words import init_app as init_words
    from maf.submissions import new_form_token

    init_words(app)  # {{ words.assessment_short }} in every template: the local words

    @app.context_processor
    def _template_globals():
        return {
            "roles": Role,
            "service_name": app.config["SERVICE_NAME"],
            "organisation_name": app.config["ORGANISATION_NAME"],
            "csp_nonce": g.get("csp_nonce"),
            # For hand-written forms that create something (maf.submissions).
            "form_token": new_form_token,
        }

    @app.template_filter("london")
    def _london_time(value):
        """Times are stored in UTC and shown as the clock on the wall in England."""
        return value.astimezone(LONDON).strftime("%-d %B %Y, %H:%M") if value else ""

    @app.after_request
    def _security_headers(response):
        nonce = g.get("csp_nonce", "")
        # The only inline script is GOV.UK Frontend's one-line "js-enabled" marker, allowed
        # by its per-request nonce; no inline style at all.
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if app.config["HSTS"]:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if response.mimetype == "text/html":
            # Pages carry personal data: keep them out of shared and back-button caches.
            response.headers["Cache-Control"] = "no-store"
        return response


def _register_error_pages(app: Flask) -> None:
    from maf.rules.words import Worded

    # Error pages say what happened and what to do, never what was asked for: a URL or form
    # could carry a child's details.
    messages = {
        400: ("There is a problem with your request", "Go back and try again."),
        403: (
            "You do not have permission to see this page",
            Worded("Ask your {w.coordinator} or administrator if you think you should."),
        ),
        404: (
            "Page not found",
            "If you typed the web address, check it is correct. If you "
            "followed a link, the page may have moved or you may not have access to it.",
        ),
        405: ("That action is not available here", "Go back and use the buttons on the page."),
        413: (
            "The file is too big",
            "Files must be smaller than 20 MB. Go back and choose a smaller file, or split it.",
        ),
        429: ("Too many attempts", "Wait a minute, then try again."),
        500: (
            "Sorry, there is a problem with the service",
            "Try again later. If it keeps "
            "happening, tell your administrator what you were doing and when.",
        ),
    }

    def render_error(status):
        title, advice = messages[status]
        return render_template("error.html", title=title, advice=advice), status

    for status in messages:
        app.register_error_handler(status, lambda error, status=status: render_error(status))

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        title = "Your form could not be sent"
        advice = (
            "The page had been open too long or your session ended. Go back, reload the "
            "page and try again."
        )
        return render_template("error.html", title=title, advice=advice), 400

    @app.errorhandler(StaleDataError)
    def _saved_at_the_same_moment(error):
        """Two saves of one record in flight at once: the version check passed for both, and
        the UPDATE of the second found the row's version moved (maf.versioning). Nothing of
        the second is kept; the person is told to look again rather than shown a failure."""
        db.session.rollback()
        app.logger.info("stale update refused during %s %s", request.method, request.endpoint)
        title = "Someone else saved this at the same moment"
        advice = (
            "Your changes have not been saved. Go back, reload the page to see what they "
            "saved, then make your changes again."
        )
        return render_template("error.html", title=title, advice=advice), 409

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeoutError)
    def _database_unavailable(error):
        """The database went away, refused or was too busy mid-request (issue 8: a clear page,
        no partial write). Rolling back undoes whatever the request had begun to save."""
        db.session.rollback()
        # The class and error code only: the message can quote the statement's values.
        original = getattr(error, "orig", None)
        described = [type(error).__name__]
        if original is not None:
            described.append(type(original).__name__)
            described.append(
                getattr(original, "sqlstate", None) or getattr(original, "sqlite_errorname", "")
            )
        app.logger.error(
            "database unavailable during %s %s: %s",
            request.method,
            request.endpoint,
            " ".join(filter(None, described)),
        )
        # Flask-Login puts `current_user` in every template, looking them up if the request had
        # not yet: drawn as for nobody instead, the page needs nothing from the database.
        g.setdefault("_login_user", login_manager.anonymous_user())
        return render_template("errors/unavailable.html"), 503, {"Retry-After": "120"}
