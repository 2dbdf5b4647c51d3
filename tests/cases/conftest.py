from datetime import date

import pytest
from sqlalchemy import select

from maf.auth.models import Role
from maf.cases import services
from maf.cases.models import (
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Gender,
    NeedStatement,
    SettingType,
)
from maf.extensions import db


@pytest.fixture
def coordinator(make_user, make_district):
    return make_user(Role.COORDINATOR, name="Priya Shah", districts=[make_district("Charnwood")])


@pytest.fixture
def school(make_agency):
    return make_agency(name="Loughborough Woodgate High School")


@pytest.fixture
def make_case(coordinator, school):
    """Record a completed CAF through the intake service, as the coordinator would."""

    def make(
        given_name="Jessica",
        family_name="Thompson",
        date_of_birth=date(2012, 5, 17),
        postcode="LE11 3TU",
        *,
        share_with_forum=True,
        consent_by=ConsentGiver.PARENT_CARER,
        assessment_completed_on=date(2026, 11, 2),
        district=None,
        user=None,
        needs=(),
        **child,
    ):
        given_on = assessment_completed_on
        common = dict(
            given=True,
            given_by=consent_by,
            given_by_name="Karen Thompson",
            given_on=given_on,
            method=ConsentMethod.WRITTEN,
        )
        consents = [
            services.ConsentDetails(kind=ConsentKind.UNDERTAKE, **common),
            services.ConsentDetails(kind=ConsentKind.RECORD, **common),
        ]
        if share_with_forum:
            consents.append(
                services.ConsentDetails(kind=ConsentKind.SHARE, covers_forum=True, **common)
            )
        return services.receive_caf(
            services.ChildDetails(
                given_name=given_name,
                family_name=family_name,
                date_of_birth=date_of_birth,
                gender=child.pop("gender", Gender.FEMALE),
                postcode=postcode,
                **child,
            ),
            services.ReferralDetails(
                district=district or coordinator.districts[0],
                referrer_name="Daniel Kowalski",
                referrer_email="pastoral.lead@example.org",
                referrer_agency=school,
                setting_type=SettingType.HIGH_SCHOOL,
                assessment_completed_on=assessment_completed_on,
                needs=list(needs),
                strengths="Loves football",
            ),
            consents,
            user or coordinator,
        )

    return make


@pytest.fixture
def need_statements(database):
    return list(db.session.scalars(select(NeedStatement).order_by(NeedStatement.id)))
