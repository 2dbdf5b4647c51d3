"""Domain rules for CAF cases: intake, consent, the two checks, and the case's status."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import selectinload

from maf import submissions
from maf.audit import services as audit
from maf.auth.models import Role, User, UserRole, user_district
from maf.auth.permissions import can_see_case, restrict_to_visible_districts
from maf.cases import deadlines, matching
from maf.cases.involvement_import import ParsedImport
from maf.cases.models import (
    Case,
    CaseStatus,
    CaseStatusChange,
    Child,
    ChildMatchKey,
    Consent,
    ConsentGiver,
    ConsentKind,
    ConsentMethod,
    Domain,
    Gender,
    InvolvementImport,
    InvolvementMatch,
    InvolvementMatchKey,
    InvolvementRecord,
    InvolvementStatus,
    MatchCandidate,
    MatchVerdict,
    NeedStatement,
    SettingType,
    SharingGround,
    SharingWithoutConsent,
    StatutoryService,
    TierOutcome,
)
from maf.cases.validation import age_on
from maf.corrections import merges
from maf.corrections.models import ChildDetailsChange
from maf.dbtypes import london_today, utcnow
from maf.directory.models import Agency, AgencyType, District
from maf.errors import DomainError
from maf.extensions import db
from maf.rules.words import worded, words
from maf.versioning import UNCHECKED, require_version, touch


class CaseError(DomainError):
    """A rule about cases, consent or the checks refused the change."""


# --- status ------------------------------------------------------------------------------

S = CaseStatus
ALLOWED_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.RECEIVED: frozenset({S.CHECKED, S.WITHDRAWN, S.MERGED}),
    S.CHECKED: frozenset({S.READY_FOR_FORUM, S.WITHDRAWN}),
    # Back to "checked" when sharing consent is withdrawn before the meeting.
    S.READY_FOR_FORUM: frozenset({S.ON_AGENDA, S.CHECKED, S.WITHDRAWN}),
    # Back to "checked" too when consent is withdrawn while the case waits on an agenda: it
    # cannot be "ready" again until the family consents again.
    S.ON_AGENDA: frozenset({S.READY_FOR_FORUM, S.CHECKED, S.OPEN, S.STEPPED_UP, S.WITHDRAWN}),
    S.OPEN: frozenset({S.CLOSED, S.STEPPED_UP, S.WITHDRAWN}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.STEPPED_UP: frozenset(),
    S.MERGED: frozenset(),
}
# A CAF in one of these is "open" for the existing-CAF check: a new CAF joins it.
OPEN_STATUSES = frozenset({S.RECEIVED, S.CHECKED, S.READY_FOR_FORUM, S.ON_AGENDA, S.OPEN})


def change_status(case: Case, to: CaseStatus, user: User, reason: str = "") -> None:
    if to not in ALLOWED_TRANSITIONS[case.status]:
        raise CaseError(
            f"This case is {case.status.label.lower()}, so it cannot become {to.label.lower()}"
        )
    if to in (S.READY_FOR_FORUM, S.ON_AGENDA):
        require_forum_sharing_consent(case)
    db.session.add(
        CaseStatusChange(
            case=case, from_status=case.status, to_status=to, reason=reason, changed_by_id=user.id
        )
    )
    audit.record("case_status_changed", case, user=user, detail=f"{case.status} -> {to}")
    case.status = to
    case.status_reason = reason
    touch(case, user)  # so a stale edit of the case can say who changed it
    if to == S.CLOSED and case.closed_on is None:
        case.closed_on = london_today()  # England's date: utcnow().date() is a day out at night
    if to in (S.WITHDRAWN, S.STEPPED_UP) and case.ended_on is None:
        case.ended_on = london_today()  # retention starts (seed 002 D3), as closed_on does


def forum_sharing_consent(case: Case) -> Consent | None:
    """Sharing consent in force that covers the members of the district forum, if any."""
    for consent in case.consents:
        if consent.kind == ConsentKind.SHARE and consent.in_force and consent.covers_forum:
            return consent
    return None


def may_share_with_forum(case: Case) -> bool:
    """The one decision every exit asks: may this case be shown to the forum's members now?

    The agenda page and document, circulation and slot invitations, the calendar feed, the
    minutes and progress requests all ask it at the moment they are read or sent, so a consent
    withdrawn takes the child out of everything members see from then on.

    Seed 003 §4.12 and §4.17: CAF information is shared with explicit consent, here consent
    in force that covers the members of the district forum. A recorded decision to share
    without consent (§4.21-4.24) does not count: it is an exceptional judgement about a
    particular disclosure to the recipients it names, not consent to put the child before
    every agency at the forum, so the forum's gate stays consent.
    """
    return forum_sharing_consent(case) is not None


def require_forum_sharing_consent(case: Case) -> None:
    """Seed 003 §4.12: CAF information is shared only with explicit consent."""
    if not may_share_with_forum(case):
        raise CaseError(
            "This case cannot go to the forum: there is no consent in force to share the "
            "assessment with the members of the district forum"
        )


def checks_complete(case: Case) -> bool:
    return case.existing_caf_checked_at is not None and case.tier_outcome in (
        TierOutcome.NONE_FOUND,
        TierOutcome.PROCEED,
    )


def _advance_if_checked(case: Case, user: User) -> None:
    if case.status == S.RECEIVED and checks_complete(case):
        change_status(case, S.CHECKED, user, "Both checks done")


NO_FORUM_CONSENT = "No consent to share with the forum members: record consent to share first"


def available_actions(case: Case) -> frozenset[str]:
    """What the coordinator can do to the case now, so pages offer only what will work."""
    actions = set()
    if case.status == S.RECEIVED:
        actions |= {"decide_candidates", "record_tier_outcome", "rerun_checks"}
    if case.status == S.CHECKED and checks_complete(case) and may_share_with_forum(case):
        actions.add("mark_ready")
    # Once on an agenda, the forum decides; withdrawing then happens at the meeting.
    if case.status in (S.RECEIVED, S.CHECKED, S.READY_FOR_FORUM):
        actions.add("withdraw")
    return frozenset(actions)


def unavailable_actions(case: Case) -> dict[str, str]:
    """Actions the coordinator would expect at this stage but cannot take yet, with why, so
    the page explains instead of offering a button that fails."""
    if case.status == S.CHECKED and not may_share_with_forum(case):
        return {"mark_ready": NO_FORUM_CONSENT}
    return {}


def mark_ready_for_forum(case: Case, user: User) -> None:
    if case.status == S.RECEIVED:
        raise CaseError("Finish both checks before the case can go to a forum")
    change_status(case, S.READY_FOR_FORUM, user)
    db.session.commit()


def withdraw(case: Case, reason: str, user: User, version: int | None = UNCHECKED) -> None:
    """`version` is the case's version when the form was opened: if the case has changed
    since (another coordinator's decision), the withdrawal is refused (StaleEdit) so it is
    made knowing what they did."""
    if not reason.strip():
        raise CaseError(worded("Enter why the {w.assessment_short} is being withdrawn"))
    require_version(
        case,
        version,
        yours={"Status": S.WITHDRAWN.label, "Reason": reason.strip()},
        theirs={"Status": case.status.label, "Reason": case.status_reason},
    )
    change_status(case, S.WITHDRAWN, user, reason.strip())
    db.session.commit()


# --- intake ------------------------------------------------------------------------------


@dataclass
class ChildDetails:
    given_name: str
    family_name: str
    date_of_birth: date
    gender: Gender
    other_names: str = ""
    address: str = ""
    postcode: str | None = None
    school: Agency | None = None
    school_name: str | None = None  # typed, when the school is not among the listed ones
    upn: str | None = None
    nhs_number: str | None = None


@dataclass
class ReferralDetails:
    district: District
    referrer_name: str
    referrer_email: str
    referrer_agency: Agency
    setting_type: SettingType
    assessment_completed_on: date
    needs: list[NeedStatement] = field(default_factory=list)
    strengths: str = ""
    child_views: str = ""
    family_views: str = ""


@dataclass
class ConsentDetails:
    kind: ConsentKind
    given: bool
    given_by: ConsentGiver
    given_by_name: str
    given_on: date
    method: ConsentMethod
    covers_forum: bool = False
    agencies: list[Agency] = field(default_factory=list)


def consent_problem(date_of_birth: date, consent: ConsentDetails) -> str | None:
    """Seed 002 A3: for under-12s the family agrees; seed 003 §4.13: 12+ usually can."""
    if (
        consent.given_by == ConsentGiver.YOUNG_PERSON
        and age_on(date_of_birth, consent.given_on) < 12
    ):
        return (
            "The child was under 12 when consent was given, so a parent or carer gives it "
            "(the child should still be involved)"
        )
    if consent.given_on < date_of_birth:
        return "The date of consent must be after the child's date of birth"
    return None


def _intake_consent_problems(child: ChildDetails, consents: list[ConsentDetails]) -> list[str]:
    problems = [p for c in consents if (p := consent_problem(child.date_of_birth, c))]
    given = {c.kind for c in consents if c.given}
    # Seed 003 §4.11 and §4.18: without consent to undertake and to record, nothing is stored.
    if ConsentKind.UNDERTAKE not in given:
        problems.append(
            worded("{w.a_assessment_short_cap} needs consent to undertake the assessment")
        )
    if ConsentKind.RECORD not in given:
        problems.append("Without consent to record the assessment, nothing can be stored")
    return problems


def person_of_child(child: Child) -> matching.PersonDetails:
    return matching.PersonDetails(
        given_name=child.given_name,
        family_name=child.family_name,
        date_of_birth=child.date_of_birth,
        other_names=tuple(name.strip() for name in child.other_names.split(",") if name.strip()),
        postcode=child.postcode,
        gender=None if child.gender == Gender.NOT_KNOWN else child.gender.value,
        upn=child.upn,
        nhs_number=child.nhs_number,
    )


def person_of_involvement(record: InvolvementRecord) -> matching.PersonDetails:
    return matching.PersonDetails(
        given_name=record.given_name,
        family_name=record.family_name,
        date_of_birth=record.date_of_birth,
        postcode=record.postcode,
    )


def _index_child(child: Child) -> None:
    db.session.execute(delete(ChildMatchKey).where(ChildMatchKey.child_id == child.id))
    keys = matching.blocking_keys(person_of_child(child))
    if keys:
        db.session.execute(
            insert(ChildMatchKey), [{"child_id": child.id, "key": key} for key in keys]
        )


# The agencies a child can attend: the intake's school or setting is one of these.
SCHOOL_TYPES = (
    AgencyType.EARLY_YEARS,
    AgencyType.PRIMARY_SCHOOL,
    AgencyType.HIGH_SCHOOL,
    AgencyType.COLLEGE,
)


def schools_of(districts: Iterable[District]) -> list[Agency]:
    """The schools and settings of these districts, and those serving the whole authority,
    by name."""
    ids = [district.id for district in districts]
    return list(
        db.session.scalars(
            select(Agency)
            .where(
                Agency.type.in_(SCHOOL_TYPES),
                Agency.retired_at.is_(None),
                Agency.districts.any(District.id.in_(ids)) | ~Agency.districts.any(),
            )
            .order_by(Agency.name)
        )
    )


def _school_problem(child: ChildDetails, district: District) -> str | None:
    school = child.school
    if school is None:
        return None
    if school.type not in SCHOOL_TYPES:
        return "Select a school or setting, not another kind of agency"
    if school.retired:
        return f"{school.name} has closed or merged: select one of the schools listed"
    if school.districts and district not in school.districts:
        return (
            f"{school.name} is not a school in {district.name}: select one of its schools, "
            f"or Not listed and type the name"
        )
    return None


def receive_caf(
    child_details: ChildDetails,
    referral: ReferralDetails,
    consents: list[ConsentDetails],
    user: User,
    once: str | None = None,
) -> Case:
    """Record a completed CAF as a new case and run both checks on it."""
    problems = _intake_consent_problems(child_details, consents)
    if problems:
        raise CaseError(problems[0], field="consent_given_by")
    school_problem = _school_problem(child_details, referral.district)
    if school_problem:
        raise CaseError(school_problem, field="school")
    if child_details.school is not None:
        child_details.school_name = None  # one answer: the listed school
    submission = submissions.claim(once, "case", user)
    child = Child(**vars(child_details))
    db.session.add(child)
    referrer_user = db.session.scalar(
        select(User).where(User.email == referral.referrer_email.strip().lower())
    )
    case = Case(
        child=child,
        district=referral.district,
        referrer_name=referral.referrer_name,
        referrer_email=referral.referrer_email.strip(),
        referrer_agency=referral.referrer_agency,
        referrer_user=referrer_user,
        setting_type=referral.setting_type,
        assessment_completed_on=referral.assessment_completed_on,
        age_at_assessment=age_on(child_details.date_of_birth, referral.assessment_completed_on),
        needs=list(referral.needs),
        strengths=referral.strengths,
        child_views=referral.child_views,
        family_views=referral.family_views,
        status=S.RECEIVED,
        created_by_id=user.id,
    )
    db.session.add(case)
    for details in consents:
        _add_consent(case, details, user)
    db.session.flush()
    _index_child(child)
    db.session.add(
        CaseStatusChange(
            case=case,
            to_status=S.RECEIVED,
            reason=worded("{w.assessment_short} received"),
            changed_by_id=user.id,
        )
    )
    audit.record("case_received", case, user=user)
    run_existing_caf_check(case, user)
    run_tier_check(case, user)
    submissions.created(submission, case)
    db.session.commit()
    return case


# --- consent -----------------------------------------------------------------------------


def _add_consent(case: Case, details: ConsentDetails, user: User) -> Consent:
    consent = Consent(
        case=case,
        kind=details.kind,
        given=details.given,
        given_by=details.given_by,
        given_by_name=details.given_by_name.strip(),
        given_on=details.given_on,
        method=details.method,
        covers_forum=details.kind == ConsentKind.SHARE and details.covers_forum,
        agencies=list(details.agencies) if details.kind == ConsentKind.SHARE else [],
        recorded_by_id=user.id,
    )
    db.session.add(consent)
    return consent


def record_consent(
    case: Case, details: ConsentDetails, user: User, once: str | None = None
) -> Consent:
    problem = consent_problem(case.child.date_of_birth, details)
    if problem:
        raise CaseError(problem)
    submission = submissions.claim(once, "consent", user)
    consent = _add_consent(case, details, user)
    submissions.created(submission, consent)
    audit.record(
        "consent_recorded", case, user=user, detail=f"consent {consent.id}: {details.kind}"
    )
    db.session.commit()
    return consent


def withdraw_consent(
    consent: Consent,
    withdrawn_on: date,
    note: str,
    user: User,
    version: int | None = UNCHECKED,
) -> None:
    """Withdrawal is recorded beside the consent, never by deleting it (seed 002 A3).
    `version` is the consent's version when the form was opened: a withdrawal recorded by
    someone else since is shown, not overwritten (StaleEdit)."""
    require_version(
        consent,
        version,
        yours={"Date consent was withdrawn": f"{withdrawn_on:%-d %B %Y}", "Note": note.strip()},
        theirs={
            "Date consent was withdrawn": f"{consent.withdrawn_on:%-d %B %Y}"
            if consent.withdrawn_on
            else "Not withdrawn",
            "Note": consent.withdrawal_note,
        },
    )
    if consent.withdrawn_on is not None:
        raise CaseError("This consent has already been withdrawn")
    if not consent.given:
        raise CaseError("Consent that was refused cannot be withdrawn")
    if withdrawn_on < consent.given_on:
        raise CaseError("The date of withdrawal must be on or after the date consent was given")
    consent.withdrawn_on = withdrawn_on
    consent.withdrawal_note = note.strip()
    touch(consent, user)
    case = consent.case
    audit.record("consent_withdrawn", case, user=user, detail=f"consent {consent.id}")
    if not may_share_with_forum(case):
        reason = f"Consent to share was withdrawn on {withdrawn_on:%-d %B %Y}"
        # Agendas and circulation build on cases, so they are imported here, when needed.
        from maf.circulation.services import take_off_forum_agendas

        take_off_forum_agendas(case, reason, user)
        if case.status == S.READY_FOR_FORUM:
            change_status(case, S.CHECKED, user, reason)
    db.session.commit()


def record_sharing_without_consent(
    case: Case,
    *,
    decided_by_name: str,
    decided_on: date,
    ground: SharingGround,
    reason: str,
    shared_with: str,
    user: User,
    once: str | None = None,
) -> SharingWithoutConsent:
    """Seed 003 §4.21-4.24: exceptional, and the reasons are always recorded."""
    if not reason.strip():
        raise CaseError("Enter why the information is being shared without consent")
    submission = submissions.claim(once, "sharing_without_consent", user)
    record = SharingWithoutConsent(
        case=case,
        decided_by_name=decided_by_name.strip(),
        decided_on=decided_on,
        ground=ground,
        reason=reason.strip(),
        shared_with=shared_with.strip(),
        recorded_by_id=user.id,
    )
    db.session.add(record)
    submissions.created(submission, record)
    audit.record("shared_without_consent", case, user=user, detail=str(ground))
    db.session.commit()
    return record


# --- check 1: is there already a CAF for this child? -------------------------------------


def find_similar_children(
    person: matching.PersonDetails, exclude_child_ids: Iterable[int] = (), limit: int = 200
) -> list[tuple[Child, matching.MatchResult]]:
    """Children sharing a blocking key with `person`, scored, best first.

    Reads only the key index, never every child; the `limit` most key-sharing children are
    scored.
    """
    keys = matching.blocking_keys(person)
    if not keys:
        return []
    # Ties go to the newest records, so that both databases score the same children.
    shared = (
        select(ChildMatchKey.child_id)
        .where(ChildMatchKey.key.in_(keys))
        .group_by(ChildMatchKey.child_id)
        .order_by(func.count().desc(), ChildMatchKey.child_id.desc())
        .limit(limit)
    )
    exclude = set(exclude_child_ids)
    if exclude:
        shared = shared.where(ChildMatchKey.child_id.not_in(exclude))
    children = db.session.scalars(
        select(Child).where(Child.id.in_(shared)).options(selectinload(Child.cases))
    ).all()
    scored = [(child, matching.compare(person, person_of_child(child))) for child in children]
    scored = [(c, r) for c, r in scored if r.score >= matching.CANDIDATE_THRESHOLD]
    return sorted(scored, key=lambda pair: pair[1].score, reverse=True)


def open_case_of(child: Child, excluding: Case | None = None) -> Case | None:
    for case in child.cases:
        if case.status in OPEN_STATUSES and case is not excluding:
            return case
    return None


@dataclass(frozen=True)
class CandidateShown:
    """A possible match as the coordinator sees it: the matched child's case to open when they
    may see it, otherwise the district that holds it and whom to ask there."""

    candidate: MatchCandidate
    open_case: Case | None
    their_case: Case | None  # the open case, else the latest one not archived
    may_open: bool
    holding_district: District | None
    ask: list[User]  # the holding district's coordinators, when the case may not be opened


def _coordinators_of(district_ids: set[int]) -> dict[int, list[User]]:
    rows = db.session.execute(
        select(user_district.c.district_id, User)
        .join(User, User.id == user_district.c.user_id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            user_district.c.district_id.in_(district_ids),
            UserRole.role == Role.COORDINATOR,
            User.active,
        )
        .order_by(User.name)
    ).all()
    found: dict[int, list[User]] = defaultdict(list)
    for district_id, coordinator in rows:
        found[district_id].append(coordinator)
    return found


def candidates_shown(case: Case, user: User) -> list[CandidateShown]:
    """The existing-CAF check's possible matches for `user` to read, each audited as a read of
    the matched child's record (it names them, with their date of birth and postcode), so
    "who has looked at this child" includes the coordinators shown them as a match."""
    found = []
    for candidate in case.match_candidates:
        open_case = open_case_of(candidate.child, excluding=case)
        current = [c for c in candidate.child.cases if c.archived_at is None]
        their = open_case or (current[-1] if current else None)
        found.append((candidate, open_case, their, their is not None and can_see_case(user, their)))
    elsewhere = {their.district_id for _, _, their, may_open in found if their and not may_open}
    coordinators = _coordinators_of(elsewhere) if elsewhere else {}
    shown = []
    for candidate, open_case, their, may_open in found:
        shown.append(
            CandidateShown(
                candidate=candidate,
                open_case=open_case,
                their_case=their,
                may_open=may_open,
                holding_district=their.district if their is not None else None,
                ask=[] if may_open or their is None else coordinators.get(their.district_id, []),
            )
        )
        if candidate.child.cases:  # the audit finds a child's events through their cases
            audit.record_now(
                "view_as_possible_match",
                candidate.child.cases[-1],
                detail=f"possible match on case {case.id}",
            )
    return shown


def run_existing_caf_check(case: Case, user: User) -> list[MatchCandidate]:
    """Find children who may be this one; verdicts already given are kept."""
    found = dict(
        (child.id, result)
        for child, result in find_similar_children(
            person_of_child(case.child), exclude_child_ids=[case.child_id]
        )
    )
    kept = []
    for candidate in list(case.match_candidates):
        if candidate.child_id in found:
            result = found.pop(candidate.child_id)
            candidate.score, candidate.reasons = result.score, "; ".join(result.reasons)[:500]
            kept.append(candidate)
        elif candidate.verdict is None:
            db.session.delete(candidate)
        else:
            kept.append(candidate)
    for child_id, result in found.items():
        candidate = MatchCandidate(
            case=case,
            child_id=child_id,
            score=result.score,
            reasons="; ".join(result.reasons)[:500],
        )
        db.session.add(candidate)
        kept.append(candidate)
    _mark_existing_caf_check(case)
    audit.record("existing_caf_check", case, user=user, detail=f"{len(kept)} candidates")
    _advance_if_checked(case, user)
    return kept


def _mark_existing_caf_check(case: Case) -> None:
    undecided = [c for c in case.match_candidates if c.verdict is None]
    case.existing_caf_checked_at = None if undecided else (case.existing_caf_checked_at or utcnow())


def decide_candidate(
    case: Case,
    candidate: MatchCandidate,
    verdict: MatchVerdict,
    user: User,
    version: int | None = UNCHECKED,
) -> Case:
    """Record the coordinator's verdict; for the same child, join the records up.

    Returns the case the coordinator should look at next: the existing open CAF when the new
    information was added to it, otherwise this case. `version` is the case's version when
    the page was opened: a verdict given by another coordinator since (and a merge it made)
    is shown, not silently reversed (StaleEdit).
    """
    decision = f"Is {candidate.child.full_name} the same child?"
    require_version(
        case,
        version,
        yours={decision: verdict.label},
        theirs={decision: candidate.verdict.label if candidate.verdict else "Not decided yet"},
    )
    if case.status != S.RECEIVED:
        raise CaseError(
            worded(
                "The existing-{w.assessment_short} check is done at intake, before the case is "
                "checked"
            )
        )
    if candidate.case_id != case.id:
        raise CaseError("That candidate belongs to another case")
    candidate.verdict, candidate.decided_by_id, candidate.decided_at = verdict, user.id, utcnow()
    audit.record(
        "existing_caf_verdict", case, user=user, detail=f"child {candidate.child_id}: {verdict}"
    )
    result = case
    if verdict == MatchVerdict.SAME:
        existing_child = candidate.child
        existing_case = open_case_of(existing_child)
        earlier_cases = list(existing_child.cases)
        # Everything the join moves or changes is recorded, so a wrong merge can be undone.
        before = merges.begin(case, case.child, existing_child, existing_case, user)
        changes = _merge_child_into(case.child, existing_child)
        touch(existing_child, user)  # a correction opened before the join is told who joined
        _record_merge(case, earlier_cases, changes, user)
        if existing_case is not None:
            _add_to_existing_case(case, existing_case, user)
            result = existing_case
        merges.finish(before, case, existing_child, existing_case, user)
    _mark_existing_caf_check(case)
    touch(case, user)
    if case.status == S.RECEIVED:
        _advance_if_checked(case, user)
    db.session.commit()
    return result


# Details the newer CAF brings up to date (the child moved house or school), by label.
# The school is read as school_or_setting: a listed school or a typed name, moved together.
_UPDATED_BY_A_NEWER_CAF = (
    ("address", "address"),
    ("postcode", "postcode"),
    ("school", "school_or_setting"),
)
# Who the child is: kept as first recorded; a different value on the newer CAF is noted.
_IDENTITY = (("date of birth", "date_of_birth"), ("UPN", "upn"), ("NHS number", "nhs_number"))


def _shown(value) -> str:
    if isinstance(value, date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, Gender):
        return value.label.lower()
    return getattr(value, "name", None) or str(value or "")  # an agency by its name


def _merge_child_into(duplicate: Child, child: Child) -> list[str]:
    """One child, one record: move the duplicate's cases across and keep every detail.

    `duplicate` is the record made from the newer CAF: its non-empty address, postcode, school
    and (when known) gender update the child's; its names join the other names; identifiers
    fill gaps and, where they differ, are noted. Returns what changed, in words, for the
    timelines of both cases (each change keeps the value it replaced)."""
    changes = []
    names = [n.strip() for n in child.other_names.split(",") if n.strip()]
    added = []
    for name in (duplicate.full_name, *duplicate.other_names.split(",")):
        if name.strip() and name.strip() != child.full_name and name.strip() not in names:
            names.append(name.strip())
            added.append(name.strip())
    child.other_names = ", ".join(names)[:300]
    if added:
        changes.append(f"also known as {', '.join(added)}")
    fields = list(_UPDATED_BY_A_NEWER_CAF)
    if duplicate.gender != Gender.NOT_KNOWN:
        fields.append(("gender", "gender"))
    for label, attribute in fields:
        older, newer = getattr(child, attribute), getattr(duplicate, attribute)
        if newer in (None, "") or newer == older:
            continue
        if attribute == "school_or_setting":
            child.school, child.school_name = duplicate.school, duplicate.school_name
        else:
            setattr(child, attribute, newer)
        was = f" (was {_shown(older)})" if older not in (None, "") else ""
        changes.append(f"{label} {_shown(newer)}{was}")
    identifiers = {attribute: getattr(duplicate, attribute) for _, attribute in _IDENTITY}
    # The duplicate gives up its unique identifiers before the child takes them.
    duplicate.upn = duplicate.nhs_number = None
    db.session.flush()
    for label, attribute in _IDENTITY:
        older, newer = getattr(child, attribute), identifiers[attribute]
        if newer in (None, "") or newer == older:
            continue
        if older in (None, ""):
            setattr(child, attribute, newer)
            changes.append(f"{label} {_shown(newer)}")
        else:
            changes.append(
                f"{label} on the newer {words().assessment_short} {_shown(newer)}, "
                f"kept as {_shown(older)}"
            )
    for case in list(duplicate.cases):
        case.child = child
    moving, dropped = merges.candidates_of_duplicate(duplicate, child)
    for candidate in moving:
        candidate.child_id = child.id
    for candidate in dropped:  # the case keeps its possible match with the kept record
        db.session.delete(candidate)
    # Corrections made to the joined-in record are now part of the one child's history.
    for correction in db.session.scalars(
        select(ChildDetailsChange).where(ChildDetailsChange.child_id == duplicate.id)
    ):
        correction.child_id = child.id
    db.session.flush()
    db.session.execute(delete(ChildMatchKey).where(ChildMatchKey.child_id == duplicate.id))
    db.session.delete(duplicate)
    db.session.flush()
    _index_child(child)
    return changes


def _record_merge(new: Case, earlier: list[Case], changes: list[str], user: User) -> None:
    """Both sides' timelines say the records were joined, and what the newer CAF changed."""
    short = words().assessment_short
    changed = f" Updated from the newer {short}: {'; '.join(changes)}." if changes else ""
    references = ", ".join(f"case {case.id}" for case in earlier) or "an earlier record"
    audit.record(
        "child_merged",
        new,
        user=user,
        detail=f"The same child as {references}: the child's records were joined.{changed}",
    )
    for case in earlier:
        audit.record(
            "child_merged",
            case,
            user=user,
            detail=(
                f"The {short} received as case {new.id} is for the same child: the child's records "
                f"were joined.{changed}"
            ),
        )


def _add_to_existing_case(new: Case, existing: Case, user: User) -> None:
    """Seed 002 A4: no parallel CAF. The new assessment's information joins the open one."""
    existing.needs = existing.needs + [n for n in new.needs if n not in existing.needs]
    heading = (
        f"From the {words().assessment_short} completed on {new.assessment_completed_on:%d %B %Y} "
        f"by {new.referrer_name} ({new.referrer_agency.name}):"
    )
    for attribute in ("strengths", "child_views", "family_views"):
        added = getattr(new, attribute).strip()
        if added:
            current = getattr(existing, attribute).strip()
            setattr(existing, attribute, f"{current}\n\n{heading}\n{added}".strip())
    for consent in list(new.consents):
        consent.case = existing
    new.merged_into = existing
    change_status(
        new, S.MERGED, user, f"Added to the open {words().assessment_short}, case {existing.id}"
    )
    audit.record("case_information_added", existing, user=user, detail=f"from case {new.id}")


# --- check 2: are tier 3/4 services involved? --------------------------------------------


def find_involvement(
    person: matching.PersonDetails, limit: int = 100
) -> list[tuple[InvolvementRecord, matching.MatchResult]]:
    keys = matching.blocking_keys(person)
    if not keys:
        return []
    shared = (
        select(InvolvementMatchKey.involvement_id)
        .where(InvolvementMatchKey.key.in_(keys))
        .group_by(InvolvementMatchKey.involvement_id)
        .order_by(func.count().desc())
        .limit(limit)
    )
    records = db.session.scalars(
        select(InvolvementRecord).where(InvolvementRecord.id.in_(shared))
    ).all()
    scored = [(r, matching.compare(person, person_of_involvement(r))) for r in records]
    scored = [(r, m) for r, m in scored if m.score >= matching.CANDIDATE_THRESHOLD]
    return sorted(scored, key=lambda pair: pair[1].score, reverse=True)


def run_tier_check(case: Case, user: User) -> list[InvolvementMatch]:
    db.session.execute(delete(InvolvementMatch).where(InvolvementMatch.case_id == case.id))
    db.session.expire(case, ["involvement_matches"])
    matches = [
        InvolvementMatch(
            case=case,
            involvement=record,
            score=result.score,
            reasons="; ".join(result.reasons)[:500],
        )
        for record, result in find_involvement(person_of_child(case.child))
    ]
    db.session.add_all(matches)
    audit.record("tier_check", case, user=user, detail=f"{len(matches)} register matches")
    return matches


def earlier_involvement(case: Case) -> list[Case]:
    """Earlier CAFs of the same child where tier 3/4 involvement was recorded."""
    return [
        other
        for other in case.child.cases
        if other is not case
        and (
            other.tier_outcome in (TierOutcome.PROCEED, TierOutcome.SIGNPOST)
            or other.status == S.STEPPED_UP
        )
    ]


def record_tier_outcome(
    case: Case, outcome: TierOutcome, reason: str, user: User, version: int | None = UNCHECKED
) -> None:
    """`version` is the case's version when the form was opened: an outcome recorded by
    another coordinator since is shown beside this one, not replaced (StaleEdit)."""
    reason = reason.strip()
    if outcome != TierOutcome.NONE_FOUND and not reason:
        raise CaseError(
            {
                TierOutcome.PROCEED: "Enter why the forum should coordinate this case even "
                "though tier 3/4 services are involved",
                TierOutcome.SIGNPOST: "Enter which service the family is signposted to",
                TierOutcome.WITHDRAW: worded(
                    "Enter why the {w.assessment_short} is being withdrawn"
                ),
            }[outcome]
        )
    require_version(
        case,
        version,
        yours={"Outcome of the tier 3/4 check": outcome.label, "Reason": reason},
        theirs={
            "Outcome of the tier 3/4 check": case.tier_outcome.label
            if case.tier_outcome
            else "Not recorded",
            "Reason": case.tier_outcome_reason,
        },
    )
    if case.status != S.RECEIVED:
        raise CaseError("The tier 3/4 check is done at intake, before the case is checked")
    case.tier_outcome, case.tier_outcome_reason, case.tier_checked_at = outcome, reason, utcnow()
    touch(case, user)
    audit.record("tier_outcome", case, user=user, detail=str(outcome))
    if outcome == TierOutcome.SIGNPOST:
        change_status(case, S.WITHDRAWN, user, f"Signposted: {reason}")
    elif outcome == TierOutcome.WITHDRAW:
        change_status(case, S.WITHDRAWN, user, reason)
    else:
        _advance_if_checked(case, user)
    db.session.commit()


def import_involvement(
    parsed: ParsedImport,
    filename: str,
    user: User | None,
    all_or_nothing: bool = False,
    once: str | None = None,
) -> InvolvementImport | None:
    """Load a statutory service's export. Each file is a full snapshot of the services it
    contains, so it replaces what the register held for those services.

    With `all_or_nothing`, a file with any bad row imports nothing and returns None.
    """
    if all_or_nothing and parsed.errors:
        return None
    # Two imports of one file at once would each keep the rows the other inserted.
    submission = submissions.claim(once, "involvement_import", user)
    batch = InvolvementImport(
        filename=filename[:200],
        imported_by_id=user.id if user else None,
        rows_imported=len(parsed.rows),
        rows_rejected=len(parsed.errors),
    )
    db.session.add(batch)
    services = {row.service for row in parsed.rows}
    if services:
        db.session.execute(delete(InvolvementRecord).where(InvolvementRecord.service.in_(services)))
    db.session.flush()
    for start in range(0, len(parsed.rows), 1000):
        chunk = parsed.rows[start : start + 1000]
        records = [
            InvolvementRecord(
                import_id=batch.id,
                given_name=row.given_name,
                family_name=row.family_name,
                date_of_birth=row.date_of_birth,
                postcode=row.postcode,
                service=row.service,
                status=InvolvementStatus(row.status),
                contact=row.contact,
            )
            for row in chunk
        ]
        db.session.add_all(records)
        db.session.flush()
        keys = [
            {"involvement_id": record.id, "key": key}
            for record in records
            for key in matching.blocking_keys(person_of_involvement(record))
        ]
        if keys:
            db.session.execute(insert(InvolvementMatchKey), keys)
    submissions.created(submission, batch)
    audit.record("involvement_imported", batch, user=user, detail=f"{len(parsed.rows)} rows")
    db.session.commit()
    return batch


@dataclass(frozen=True)
class RegisterSummary:
    records_by_service: dict[StatutoryService, int]
    recent_imports: list[InvolvementImport]


def register_summary() -> RegisterSummary:
    counts = dict(
        db.session.execute(
            select(InvolvementRecord.service, func.count()).group_by(InvolvementRecord.service)
        ).all()
    )
    recent = db.session.scalars(
        select(InvolvementImport).order_by(InvolvementImport.id.desc()).limit(5)
    ).all()
    return RegisterSummary(
        {service: counts.get(service, 0) for service in StatutoryService}, list(recent)
    )


# --- the coordinator's queue -------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    case: Case
    days_since_assessment: int
    first_meeting_deadline: date
    working_days_left: int

    @property
    def overdue(self) -> bool:
        return self.working_days_left < 0


def _queue_entry(case: Case, today: date) -> QueueEntry:
    deadline = deadlines.first_meeting_deadline(case.assessment_completed_on, case.created_at)
    left = (
        deadlines.working_days_between(today, deadline)
        if deadline >= today
        else -deadlines.working_days_between(deadline, today)
    )
    return QueueEntry(
        case=case,
        days_since_assessment=(today - case.assessment_completed_on).days,
        first_meeting_deadline=deadline,
        working_days_left=left,
    )


def coordinator_queue(user: User, today: date) -> dict[str, list[QueueEntry]]:
    """Cases waiting for checks and cases ready for a forum, oldest assessment first."""
    statement = restrict_to_visible_districts(
        select(Case)
        .where(Case.status.in_([S.RECEIVED, S.CHECKED, S.READY_FOR_FORUM]))
        .options(selectinload(Case.child), selectinload(Case.district))
        .order_by(Case.assessment_completed_on, Case.id),
        Case.district_id,
        user,
    )
    queue: dict[str, list[QueueEntry]] = {"awaiting_checks": [], "ready_for_forum": []}
    for case in db.session.scalars(statement):
        bucket = "ready_for_forum" if case.status == S.READY_FOR_FORUM else "awaiting_checks"
        queue[bucket].append(_queue_entry(case, today))
    return queue


# --- need statements ---------------------------------------------------------------------


def need_statements_by_domain(include_retired: bool = False) -> dict[Domain, list[NeedStatement]]:
    statement = select(NeedStatement).order_by(NeedStatement.element, NeedStatement.text)
    if not include_retired:
        statement = statement.where(NeedStatement.active)
    grouped: dict[Domain, list[NeedStatement]] = defaultdict(list)
    for need in db.session.scalars(statement):
        grouped[need.domain].append(need)
    return {domain: grouped[domain] for domain in Domain}


def add_need_statement(
    domain: Domain, element: str, text: str, user: User, once: str | None = None
) -> NeedStatement:
    text = text.strip()
    submission = submissions.claim(once, "need_statement", user)
    if db.session.scalar(
        select(NeedStatement).where(func.lower(NeedStatement.text) == text.lower())
    ):
        raise CaseError("That need statement already exists")
    need = NeedStatement(domain=domain, element=element.strip(), text=text)
    db.session.add(need)
    submissions.created(submission, need)
    audit.record("need_statement_added", need, user=user)
    db.session.commit()
    return need


def retire_need_statement(need: NeedStatement, user: User) -> None:
    """Retired statements stay on the cases that used them; they are not offered again."""
    need.active, need.retired_at = False, utcnow()
    touch(need, user)
    audit.record("need_statement_retired", need, user=user)
    db.session.commit()
