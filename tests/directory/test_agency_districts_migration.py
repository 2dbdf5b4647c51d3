"""The migration that lets an agency work in several districts (issue 15): each agency's one
district becomes its one row in agency_district; an agency with none still serves the whole
authority; downgrade puts a district back on each agency."""

import flask_migrate
from sqlalchemy import MetaData, Table, inspect, select

from maf.extensions import db

REVISION = "a7c3e91d2f40"


def test_each_agencys_district_becomes_one_row_and_downgrade_puts_it_back(make_scratch_app):
    scratch = make_scratch_app("agency_districts", migrate=False)
    with scratch.app_context():
        flask_migrate.upgrade(revision=REVISION)
        flask_migrate.downgrade(revision="-1")  # the schema before: one district_id per agency
        meta = MetaData()
        district, agency = (
            Table(name, meta, autoload_with=db.engine) for name in ("district", "agency")
        )
        with db.engine.begin() as connection:
            connection.execute(
                district.insert(),
                [
                    {"id": 1, "name": "Charnwood", "slug": "charnwood"},
                    {"id": 2, "name": "Melton", "slug": "melton"},
                ],
            )
            connection.execute(
                agency.insert(),
                [
                    {
                        "id": 1,
                        "name": "Rawlins Academy",
                        "type": "high_school",
                        "tier": "universal",
                        "district_id": 1,
                    },
                    {
                        "id": 2,
                        "name": "Melton Vale",
                        "type": "college",
                        "tier": "universal",
                        "district_id": 2,
                    },
                    {
                        "id": 3,
                        "name": "Leicestershire Police",
                        "type": "police",
                        "tier": "targeted",
                        "district_id": None,
                    },
                ],
            )

        flask_migrate.upgrade(revision=REVISION)
        links = Table("agency_district", MetaData(), autoload_with=db.engine)
        with db.engine.connect() as connection:
            rows = connection.execute(
                select(links.c.agency_id, links.c.district_id).order_by(links.c.agency_id)
            ).all()
        assert [tuple(row) for row in rows] == [(1, 1), (2, 2)], "the police serve everywhere"
        assert "district_id" not in {c["name"] for c in inspect(db.engine).get_columns("agency")}

        # An agency now in both districts keeps one of them when the schema goes back.
        with db.engine.begin() as connection:
            connection.execute(links.insert(), [{"agency_id": 1, "district_id": 2}])
        flask_migrate.downgrade(revision="-1")
        agency = Table("agency", MetaData(), autoload_with=db.engine)
        with db.engine.connect() as connection:
            back = connection.execute(
                select(agency.c.id, agency.c.district_id).order_by(agency.c.id)
            ).all()
        assert [tuple(row) for row in back] == [(1, 1), (2, 2), (3, None)]
        assert "agency_district" not in inspect(db.engine).get_table_names()
