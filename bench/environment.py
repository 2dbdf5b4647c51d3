"""Where a benchmark run's app finds its database and settings.

The app reads its configuration from the environment when `config` is first imported (and
gunicorn's workers inherit it), so a benchmark calls `prepare` before importing anything from
maf.
"""

import os
import secrets
import tempfile
from pathlib import Path

from sqlalchemy import make_url


def prepare(name: str, server_url: str | None) -> tuple[str, Path]:
    """Settings for a run on its own database: a SQLite file in a new directory, or the
    database `name` on the PostgreSQL server of `server_url`. Returns (database URL, directory).

    Development settings: production's differences (Secure cookies, HSTS, a required second
    factor) change nothing a page or document does, but Secure cookies are not sent back over
    plain http. No second factor and a loose sign-in throttle, so the bench can sign in.
    """
    work = Path(tempfile.mkdtemp(prefix=f"maf-{name}-"))
    url = (
        make_url(server_url).set(database=name.replace("-", "_")).render_as_string(False)
        if server_url
        else f"sqlite:///{work / 'bench.sqlite'}"
    )
    os.environ.update(
        MAF_ENV="development",
        MAF_DATABASE_URL=url,
        MAF_INSTANCE_PATH=str(work),
        MAF_SECRET_KEY=secrets.token_hex(32),
        MAF_MFA_REQUIRED_ROLES="",
        MAF_SIGN_IN_RATE_LIMIT="1000 per minute",
        MAF_MAIL_TRANSPORT="file",
        MAF_SCHEDULER_IN_APP="false",
    )
    return url, work
