"""A coordinator records a CAF, does both checks and makes the case ready for a forum."""

import io
from datetime import date

from playwright.sync_api import expect

from maf.auth.models import Role
from maf.cases import services
from maf.cases.involvement_import import parse_involvement_csv
from maf.cases.models import (
    CaseStatus,
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Gender,
    SettingType,
)
from maf.extensions import db

REGISTER = (
    "given_name,family_name,date_of_birth,postcode,service,status,contact\n"
    "Elizabeth,Thompson,17/05/2012,LE11 3TU,CAMHS,open,Dr Amira Patel\n"
)


def _fill_date(page, name, day, month, year):
    page.locator(f"#{name}-day").fill(day)
    page.locator(f"#{name}-month").fill(month)
    page.locator(f"#{name}-year").fill(year)


def _choose(page, legend, option):
    page.get_by_role("group", name=legend).get_by_label(option, exact=True).check()


def test_intake_to_ready_for_forum(
    page, make_user, make_district, make_agency, sign_in_as, axe_violations
):
    charnwood = make_district("Charnwood")
    school = make_agency(name="Loughborough Woodgate High School", district=charnwood)
    coordinator = make_user(Role.COORDINATOR, name="Priya Shah", districts=[charnwood])
    services.import_involvement(
        parse_involvement_csv(io.StringIO(REGISTER), date(2026, 11, 22)), "camhs.csv", coordinator
    )

    sign_in_as(coordinator)
    page.get_by_role("link", name="CAF queue").click()
    page.get_by_role("button", name="Record a completed CAF").click()
    _choose(page, "Is there a concern", "No")
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Given name").fill("Liz")
    page.get_by_label("Family name").fill("Thompson")
    _fill_date(page, "date_of_birth", "17", "5", "2012")
    _choose(page, "Gender", "Female")
    page.get_by_label("Postcode").fill("le11 3tu")
    page.get_by_label("Name of the practitioner who completed the CAF").fill("Daniel Kowalski")
    page.get_by_label("Their email address").fill("pastoral.lead@example.org")
    page.get_by_label("Their agency").select_option(label=school.name)
    page.get_by_label("Where the CAF came from").select_option(label="High school")
    _fill_date(page, "assessment_completed_on", "2", "11", "2026")
    page.get_by_label("Behaviour is hard to manage at school").check()
    _choose(page, "Who gave consent", "A parent or carer")
    page.get_by_label("Their name").fill("Karen Thompson")
    _fill_date(page, "consent_given_on", "2", "11", "2026")
    _choose(page, "How was consent given?", "Written (signed)")
    _choose(page, "Consent to share the assessment", "Given")
    page.get_by_label("Members of the district multi-agency forum").check()
    page.get_by_role("button", name="Save and run the checks").click()

    # Each read waits for the page the click leads to (CI once read the page before it).
    expect(page.get_by_role("heading", level=1)).to_have_text("Liz Thompson")
    assert "CAF received as case" in page.inner_text("main")
    assert axe_violations() == []

    # Check 2: the register knows her as Elizabeth; coordination with CAMHS is needed.
    tier = page.locator("#tier-check ~ table").first
    assert "Specialist CAMHS" in tier.inner_text()
    assert "Dr Amira Patel" in tier.inner_text()
    _choose(
        page,
        "Outcome of the tier 3/4 check",
        "Involved, but bring to the forum because coordination is needed",
    )
    page.get_by_label("Reason").fill("CAMHS asked for family support around school")
    page.get_by_role("button", name="Save the outcome").click()

    expect(page.locator("#status")).to_contain_text("Checked")
    page.get_by_role("button", name="Mark ready for a forum").click()
    expect(page.locator("#status")).to_contain_text("Ready for a forum")
    assert axe_violations() == []

    page.get_by_role("link", name="CAF queue").first.click()
    expect(page.get_by_role("table", name="Ready for a forum")).to_contain_text("Liz Thompson")


def test_existing_caf_candidate_is_confirmed_in_the_browser(
    page, make_user, make_district, make_agency, sign_in_as, axe_violations
):
    charnwood = make_district("Charnwood")
    coordinator = make_user(Role.COORDINATOR, districts=[charnwood])
    school = make_agency(name="Shepshed Orchard Primary School")

    def receive(given_name):
        common = dict(
            given=True,
            given_by=ConsentGiver.PARENT_CARER,
            given_by_name="Sam Reid",
            given_on=date(2026, 11, 2),
            method=ConsentMethod.ORAL,
        )
        return services.receive_caf(
            services.ChildDetails(
                given_name, "Reid", date(2014, 3, 9), Gender.MALE, postcode="LE12 9QQ"
            ),
            services.ReferralDetails(
                charnwood,
                "A Teacher",
                "teacher@example.org",
                school,
                SettingType.PRIMARY_SCHOOL,
                date(2026, 11, 2),
            ),
            [
                services.ConsentDetails(kind=k, **common)
                for k in (ConsentKind.UNDERTAKE, ConsentKind.RECORD, ConsentKind.SHARE)
            ],
            coordinator,
        )

    earlier = receive("Jonathan")
    new = receive("Jon")
    sign_in_as(coordinator)
    page.goto(f"/cases/{new.id}")
    card = page.locator(f"#verdict-{new.match_candidates[0].id}")
    assert "Jonathan Reid" in card.inner_text()
    assert "Yes: case" in card.inner_text(), "the open CAF is shown"
    assert axe_violations() == []
    card.get_by_label("Same child").check()
    card.get_by_role("button", name="Save decision").click()
    expect(page.locator("main")).to_contain_text("no second CAF has been started")
    assert page.url.endswith(f"/cases/{earlier.id}#existing-caf-check")
    db.session.refresh(new)
    assert new.status == CaseStatus.MERGED
