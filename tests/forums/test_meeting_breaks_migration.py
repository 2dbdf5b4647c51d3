"""The migration that gives each meeting its own breaks (issue 14 point 3): every existing
meeting, past ones included, keeps the breaks its agenda was being timed with."""

from datetime import UTC, date, datetime, time

import flask_migrate
from sqlalchemy import MetaData, Table, inspect, select

from maf.extensions import db

REVISION = "16b20c6acf6c"


def test_every_existing_meeting_gets_its_forums_breaks_and_downgrade_drops_them(
    make_scratch_app,
):
    scratch = make_scratch_app("meeting_breaks", migrate=False)
    with scratch.app_context():
        flask_migrate.upgrade(revision=REVISION)
        flask_migrate.downgrade(revision="-1")  # the schema before: breaks are the forum's
        meta = MetaData()
        table = {
            name: Table(name, meta, autoload_with=db.engine)
            for name in ("district", "forum", "forum_break", "meeting")
        }
        now = datetime(2026, 12, 1, tzinfo=UTC)
        usual = {
            "district_id": 1,
            "weekday": 1,
            "week_of_month": 2,
            "months": "1,4,7,10",
            "start_time": time(9, 30),
            "length_minutes": 240,
            "new_case_minutes": 20,
            "review_minutes": 5,
            "new_case_capacity": 10,
            "review_capacity": 30,
            "created_at": now,
        }
        with db.engine.begin() as connection:
            connection.execute(
                table["district"].insert(), [{"id": 1, "name": "Charnwood", "slug": "charnwood"}]
            )
            connection.execute(
                table["forum"].insert(),
                [
                    {"id": 1, "name": "Charnwood MAF", "venue": "Loughborough", **usual},
                    {"id": 2, "name": "Melton MAF", "venue": "Melton", **usual},
                ],
            )
            connection.execute(
                table["forum_break"].insert(),
                [
                    {"forum_id": 1, "starts_at": time(11, 0), "minutes": 15},
                    {"forum_id": 1, "starts_at": time(12, 30), "minutes": 30},
                ],
            )
            meeting = {"start_time": time(9, 30), "length_minutes": 240, "agenda_version": 0}
            connection.execute(
                table["meeting"].insert(),
                [
                    {**meeting, "venue": "Loughborough", "created_at": now, **row}
                    for row in (
                        {"id": 1, "forum_id": 1, "date": date(2026, 10, 13), "status": "held"},
                        {"id": 2, "forum_id": 1, "date": date(2027, 1, 12), "status": "planned"},
                        {"id": 3, "forum_id": 2, "date": date(2027, 2, 9), "status": "planned"},
                    )
                ],
            )

        flask_migrate.upgrade(revision=REVISION)
        breaks = Table("meeting_break", MetaData(), autoload_with=db.engine)
        with db.engine.connect() as connection:
            copied = connection.execute(
                select(breaks.c.meeting_id, breaks.c.starts_at, breaks.c.minutes).order_by(
                    breaks.c.meeting_id, breaks.c.starts_at
                )
            ).all()
        assert [tuple(row) for row in copied] == [
            (1, time(11, 0), 15),
            (1, time(12, 30), 30),
            (2, time(11, 0), 15),
            (2, time(12, 30), 30),
        ], "both of Charnwood's meetings, the held one too; Melton has no breaks"

        flask_migrate.downgrade(revision="-1")
        assert "meeting_break" not in inspect(db.engine).get_table_names()
