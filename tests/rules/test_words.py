"""The words the service uses (issue 15 point 4): every form a sentence needs, made from the
local rules; read at the moment a page, email or document is made, once per request; a label
written at import follows a change; what was frozen keeps the words it was made with."""

import io

import docx
import pytest
from markupsafe import Markup, escape
from sqlalchemy import event
from sqlalchemy.engine import Engine

from maf.auth.models import Role
from maf.cases.models import CaseStatus, TierOutcome
from maf.extensions import db
from maf.outcomes import minutes as minutes_service
from maf.rules import services as rules
from maf.rules.words import (
    DEFAULT_WORDS,
    Worded,
    Words,
    article,
    followed_by,
    made_from,
    plural,
    worded,
    words,
)
from tests.auth.test_authorisation_matrix import world  # noqa: F401
from tests.rules.test_words_everywhere import FAMILIES_FIRST, docx_text, set_words

EHA = Words(
    assessment="early help assessment",
    assessment_short="EHA",
    forum="team around the family",
    forum_short="TAF",
    lead_professional="lead practitioner",
)


def test_the_seeds_words_are_the_defaults():
    """Seed 003 (the Common Assessment Framework, CAF), seed 004 (the district multi-agency
    forums, MAFs) and seed 001 (the lead professional): what every page said before."""
    w = DEFAULT_WORDS
    assert (w.assessment, w.assessment_short) == ("Common Assessment Framework", "CAF")
    assert w.assessment_in_full == "Common Assessment Framework (CAF)"
    assert (w.a_assessment_short, w.a_assessment_short_cap) == ("a CAF", "A CAF")
    assert w.assessments_short == "CAFs"
    assert (w.coordinator, w.coordinators, w.a_coordinator) == (
        "CAF coordinator",
        "CAF coordinators",
        "a CAF coordinator",
    )
    assert (w.forum, w.forums, w.forums_cap, w.a_forum) == (
        "multi-agency forum",
        "multi-agency forums",
        "Multi-agency forums",
        "a multi-agency forum",
    )
    assert (w.lead_professional_cap, w.lead_professionals, w.lead_professional_short) == (
        "Lead professional",
        "lead professionals",
        "LP",
    )


def test_the_families_first_words_read_right():
    assert (EHA.a_assessment_short, EHA.a_assessment_short_cap) == ("an EHA", "An EHA")
    assert (EHA.a_assessment, EHA.assessment_cap) == (
        "an early help assessment",
        "Early help assessment",
    )
    assert EHA.assessments_short == "EHAs"
    assert EHA.assessment_in_full == "early help assessment (EHA)"
    assert (EHA.coordinator, EHA.a_coordinator) == ("EHA coordinator", "an EHA coordinator")
    assert (EHA.forums, EHA.forums_cap, EHA.a_forum) == (
        "teams around the family",
        "Teams around the family",
        "a team around the family",
    )
    assert (EHA.lead_professionals_cap, EHA.a_lead_professional) == (
        "Lead practitioners",
        "a lead practitioner",
    )


@pytest.mark.parametrize(
    ("phrase", "said"),
    [
        ("CAF", "a"),  # said as a word, "caff"
        ("TAF", "a"),
        ("MAF", "a"),
        ("MASH", "a"),
        ("EHA", "an"),  # said letter by letter: "ee-aitch-ay"
        ("EHCP", "an"),
        ("FSP", "an"),  # "eff-ess-pee"
        ("LP", "an"),
        ("NHS", "an"),
        ("UN", "a"),  # "you-en"
        ("early help assessment", "an"),
        ("Common Assessment Framework", "a"),
        ("unified assessment", "a"),
        ("one-stop plan", "a"),
        ("hour", "an"),
        ("integrated plan", "an"),
    ],
)
def test_article_by_how_it_is_said(phrase, said):
    assert article(phrase) == said


@pytest.mark.parametrize(
    ("phrase", "plural_phrase"),
    [
        ("team around the family", "teams around the family"),
        ("team around the child", "teams around the child"),
        ("lead practitioner", "lead practitioners"),
        ("family hub", "family hubs"),
        ("early help assessment", "early help assessments"),
        ("EHA", "EHAs"),
        ("key worker", "key workers"),
        ("family support plan", "family support plans"),
        ("early help body", "early help bodies"),
        ("early help match", "early help matches"),
    ],
)
def test_plurals(phrase, plural_phrase):
    assert plural(phrase) == plural_phrase


def test_worded_behaves_as_the_string_it_stands_for(app):
    label = Worded("{w.coordinator}")
    with app.app_context():
        assert label == "CAF coordinator"
        assert "CAF coordinator" == label  # noqa: SIM300
        assert f"As {label}" == "As CAF coordinator"
        assert label + "s" == "CAF coordinators"
        assert "A " + label == "A CAF coordinator"
        assert label.lower() == "caf coordinator"
        assert len(label) == len("CAF coordinator") and "CAF" in label
        assert escape(Worded("{w.assessment_short} & <b>")) == Markup("CAF &amp; &lt;b&gt;")
        assert followed_by(label, " must be chosen") == "CAF coordinator must be chosen"
        assert made_from(label, str.upper) == "CAF COORDINATOR"
        assert made_from("Plain", str.upper) == "PLAIN"


def test_outside_the_application_the_seeds_words(app):
    """A constant made at import cannot follow a change, and never fails the import."""
    assert words() is DEFAULT_WORDS
    assert Role.COORDINATOR.label == "CAF coordinator"


def test_the_words_are_the_rules_in_force(app, make_user):
    admin = make_user(Role.ADMIN)
    assert words() == DEFAULT_WORDS
    set_words(FAMILIES_FIRST, admin)
    assert words() == EHA
    # Labels written at import read the words when they are shown...
    assert Role.COORDINATOR.label == "EHA coordinator"
    assert CaseStatus.MERGED.label == "Added to an existing EHA"
    assert TierOutcome.WITHDRAW.label == "Withdraw the EHA"
    assert dict(Role.choices())["coordinator"] == "EHA coordinator"
    assert ", ".join(role.label for role in Role).count("EHA coordinator") == 1
    # ... and so do messages made at the moment they are needed.
    assert worded("{w.a_assessment_short_cap} needs consent") == "An EHA needs consent"
    rules.change("word_assessment_short", "FSA", by=admin)
    db.session.commit()
    assert Role.COORDINATOR.label == "FSA coordinator"


def test_a_page_reads_the_rules_once(app, client, coordinator, make_case, sign_in):
    """A case page says "CAF" and "lead professional" many times, and asks for the deadline
    rules: one read of the rules' table for all of it."""
    case = make_case()
    db.session.commit()
    sign_in(coordinator)
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "rule_change" in statement:
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        page = client.get(f"/cases/{case.id}")
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert page.status_code == 200
    assert page.text.count("CAF") > 3
    assert len(statements) == 1


def test_a_change_shows_on_the_next_page(app, client, make_user):
    """The sign-in page, read by anyone, names the coordinator."""
    assert "ask your CAF coordinator" in client.get("/sign-in").text
    set_words(FAMILIES_FIRST, make_user(Role.ADMIN))
    page = client.get("/sign-in").text
    assert "ask your EHA coordinator" in page
    assert "For EHA coordinators" in page and "district teams around the family" in page


def test_what_was_frozen_keeps_its_words_and_what_is_made_now_uses_the_new(
    app,
    world,  # noqa: F811
):
    """Changing a rule never rewrites history: approved minutes (frozen when approved) and a
    queued email keep "lead professional"; an agenda made after the change says "lead
    practitioner"."""
    from maf.circulation.models import OutboxMessage

    minutes = minutes_service.current_minutes(world.held)
    minutes_service.approve(minutes, world.users["chair"])
    db.session.commit()
    asked = db.session.get(OutboxMessage, world.values["message_id"])
    assert "lead professional" in asked.text_body

    set_words(FAMILIES_FIRST, world.users["admin"])

    coordinator = world.client("coord")
    frozen = docx_text(coordinator.get(f"/minutes/{minutes.id}.docx").data)
    assert "Lead professional" in frozen and "Lead practitioner" not in frozen
    assert "lead professional" in db.session.get(OutboxMessage, asked.id).text_body
    agenda = coordinator.get(f"/meetings/{world.planned.id}/agenda.docx")
    table = docx.Document(io.BytesIO(agenda.data)).tables[-1]
    assert table.rows[0].cells[-1].text == "Lead practitioner"
