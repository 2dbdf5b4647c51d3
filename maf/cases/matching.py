"""Duplicate-CAF check: is there already a CAF for this child anywhere in the authority?

Before a case goes on a forum agenda the coordinator searches every child (and every tier 3/4
involvement) for the same child. The search is two-stage:

* `blocking_keys` files each record under a handful of short index keys. A search fetches only
  records sharing a key with the query, so keys must be selective (a few hundred records at
  most in an authority of a million children) yet forgiving enough that the same child recorded
  with a typo, a nickname, a new surname, a mistyped birth date or a new address still shares
  at least one key.
* `compare` scores each fetched record and explains the score in short phrases the
  coordinator can check against the records.

Pure Python, no database or Flask: the app owns storage and presentation.
"""

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import product
from typing import NamedTuple

import jellyfish
from nicknames import NickNamer
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from unidecode import unidecode


@dataclass(frozen=True)
class PersonDetails:
    given_name: str
    family_name: str
    date_of_birth: date
    other_names: tuple[str, ...] = ()
    postcode: str | None = None
    gender: str | None = None
    upn: str | None = None
    nhs_number: str | None = None


@dataclass(frozen=True)
class MatchResult:
    score: float
    reasons: tuple[str, ...]
    decisive: bool


# Weights are points out of 100. An exact record with the same postcode scores 100; the
# thresholds sit in the gaps between the cases in tests/cases/test_matching.py:
#   twins (same DOB, family name, postcode; different given name)      68
#   same given name and DOB, unrecorded surname change, no postcode    67
#   names exact but DOB one digit wrong, address changed               77
#   nickname and DOB one digit wrong                                   73.8
# Twins must stay below MATCH_THRESHOLD while a single DOB slip with good names stays above it.
CANDIDATE_THRESHOLD: float = 55.0
MATCH_THRESHOLD: float = 72.0

_DOB_SAME = 35.0
_DOB_DAY_MONTH_SWAPPED = 22.0
_DOB_ONE_DIGIT = 20.0
_DOB_DIGITS_TRANSPOSED = 18.0
_GIVEN = 32.0
_FAMILY = 25.0
_POSTCODE = 8.0
_POSTCODE_SECTOR = 4.0
_GENDER_CONFLICT = 15.0
# "other" may be a later, truer record of the same child, so it counts for less against.
_GENDER_OTHER_CONFLICT = 5.0

# A single name carries less information than a full name, so it cannot earn the full
# given + family weight even when it matches exactly.
_SINGLE_NAME_SHARE = 0.85
_SWAPPED_NAMES_SHARE = 0.95
_PREVIOUS_NAME_SHARE = 0.95
_OTHER_NAME_SHARE = 0.9

_SAME_IGNORING_SPACES = 0.97
_SHORT_FORM = 0.9
_ONE_EDIT = 0.88
_SHARED_PART = 0.85
_SOUNDS_ALIKE = 0.82
_SHARED_SHORT_FORM = 0.8
# Below this Jaro-Winkler similarity two names are treated as unrelated; above it they earn a
# partial score that is kept well under a one-letter typo so that twins such as Oliver and
# Olivia do not look like the same child.
_JARO_WINKLER_FLOOR = 0.88
_JARO_WINKLER_CEILING_SHARE = 0.7
_STRONG_NAME = 0.85

# The nicknames dataset is American; these British diminutives are common in children's
# records and missing from it.
_BRITISH_SHORT_FORMS: dict[str, set[str]] = {
    "abigail": {"abi"},
    "alexander": {"xander", "zander"},
    "alexandra": {"lexi", "lexie"},
    "alfred": {"alfie", "freddie"},
    "benjamin": {"benji"},
    "catherine": {"kat", "kate", "katie"},
    "charlotte": {"charlie"},
    "elizabeth": {"ellie"},
    "evelyn": {"evie"},
    "florence": {"flo", "florrie"},
    "francesca": {"frankie"},
    "georgina": {"gina"},
    "imogen": {"immy"},
    "isabel": {"izzy"},
    "isabella": {"izzy"},
    "isabelle": {"izzy"},
    "katherine": {"kat", "kate", "katie"},
    "mackenzie": {"kenzie"},
    "madeleine": {"maddie"},
    "mohammed": {"mo"},
    "muhammad": {"mo"},
    "natalie": {"nat"},
    "nathan": {"nat"},
    "nathaniel": {"nat"},
    "oliver": {"olly", "ollie"},
    "olivia": {"liv", "livvy"},
    "rebecca": {"bex", "becks"},
    "robert": {"robbie"},
    "sebastian": {"seb"},
    "stanley": {"stan"},
    "susan": {"suzy", "suzie"},
    "suzanne": {"suzy", "suzie"},
    "william": {"liam"},
}


def _build_nicknamer() -> NickNamer:
    lookup = NickNamer.default_lookup()
    for canonical, short_forms in _BRITISH_SHORT_FORMS.items():
        lookup.setdefault(canonical, set()).update(short_forms)
    return NickNamer(nickname_lookup=lookup)


_NICKNAMER = _build_nicknamer()

_NOT_NAME_CHARACTERS = re.compile(r"[^a-z0-9]+")
_POSTCODE_SHAPE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")
_NHS_NUMBER_SHAPE = re.compile(r"[0-9]{10}")
_UPN_SHAPE = re.compile(r"[A-Z0-9]{13}")


@lru_cache(maxsize=65_536)
def normalise_name(text: str) -> str:
    """Comparable form of a name: ASCII, casefolded, apostrophes dropped, other punctuation
    (hyphens included) turned into single spaces. "Zoë O'Neill" -> "zoe oneill"."""
    # unidecode turns typographic apostrophes into "'", so one replace catches them all.
    ascii_text = unidecode(text).replace("'", "").replace("`", "")
    return " ".join(_NOT_NAME_CHARACTERS.sub(" ", ascii_text.casefold()).split())


def _comparable_name(text: str) -> str:
    # unidecode cannot transliterate everything (emoji, private-use characters); such a name
    # should still equal itself rather than vanish.
    return normalise_name(text) or " ".join(text.casefold().split())


def _shown(text: str) -> str:
    return " ".join(text.split())


# --- Names -----------------------------------------------------------------------------------


class _Likeness(NamedTuple):
    score: float  # 0..1
    kind: str  # one of the keys of _LIKENESS_PHRASES


_LIKENESS_PHRASES = {
    "same": "Same {subject}",
    "short form": "{Subject} is a short form ({a} / {b})",
    "shared short form": "{Subject}s are short forms of the same name ({a} / {b})",
    "sounds alike": "{Subject} sounds alike ({a} / {b})",
    "spelt similarly": "{Subject} spelt similarly ({a} / {b})",
    "shared part": "{Subject} shares a part ({a} / {b})",
    "different": "Different {subject} ({a} / {b})",
}

_UNRELATED = _Likeness(0.0, "different")


def _phrase(likeness: _Likeness, subject: str, a: str, b: str) -> str:
    """`subject` is "given name", "family name" or "name"."""
    template = _LIKENESS_PHRASES[likeness.kind]
    return template.format(subject=subject, Subject=subject[0].upper() + subject[1:], a=a, b=b)


def _is_short_form(a: str, b: str) -> bool:
    return b in _NICKNAMER.nicknames_of(a) or a in _NICKNAMER.nicknames_of(b)


@lru_cache(maxsize=65_536)
def _phonetic_codes(token: str) -> set[str]:
    return {code for code in (jellyfish.metaphone(token), jellyfish.nysiis(token)) if code}


@lru_cache(maxsize=131_072)
def _token_likeness(a: str, b: str) -> _Likeness:
    """Likeness of two single-word names (already comparable forms)."""
    if a == b:
        return _Likeness(1.0, "same")
    if _is_short_form(a, b):
        return _Likeness(_SHORT_FORM, "short form")
    jaro_winkler = JaroWinkler.similarity(a, b)
    sounds_alike = jaro_winkler >= 0.8 and bool(_phonetic_codes(a) & _phonetic_codes(b))
    # One slip of the keyboard is the commonest data-entry error; in very short names it more
    # often turns one real name into another (Ava / Eva), so it needs four letters.
    if min(len(a), len(b)) >= 4 and DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1:
        return _Likeness(_ONE_EDIT, "sounds alike" if sounds_alike else "spelt similarly")
    if sounds_alike:
        return _Likeness(_SOUNDS_ALIKE, "sounds alike")
    if _NICKNAMER.canonicals_of(a) & _NICKNAMER.canonicals_of(b):
        return _Likeness(_SHARED_SHORT_FORM, "shared short form")
    if jaro_winkler >= _JARO_WINKLER_FLOOR:
        share = (jaro_winkler - _JARO_WINKLER_FLOOR) / (1.0 - _JARO_WINKLER_FLOOR)
        score = share * _JARO_WINKLER_CEILING_SHARE
        return _Likeness(score, "spelt similarly" if score >= 0.5 else "different")
    return _UNRELATED


_MAX_PARTS = 4


def _likeness(a: str, b: str) -> _Likeness:
    """Likeness of two names that may have several parts (Smith-Jones, Mary Jane)."""
    if not a or not b:
        return _UNRELATED
    if a == b:
        return _Likeness(1.0, "same")
    if a > b:
        # Cache hits and tie-breaks must not depend on which record is the query.
        a, b = b, a
    a_parts, b_parts = a.split(), b.split()
    if len(a_parts) == 1 and len(b_parts) == 1:
        return _token_likeness(a, b)
    a_joined, b_joined = "".join(a_parts), "".join(b_parts)
    if a_joined == b_joined:
        return _Likeness(_SAME_IGNORING_SPACES, "same")
    whole = _token_likeness(a_joined, b_joined)
    best_part = max(
        (_token_likeness(x, y) for x, y in product(a_parts[:_MAX_PARTS], b_parts[:_MAX_PARTS])),
        key=lambda likeness: likeness.score,
    )
    part = _Likeness(_SHARED_PART * best_part.score, "shared part")
    return max(whole, part, key=lambda likeness: likeness.score)


class _Names(NamedTuple):
    given: str
    family: str
    given_shown: str
    family_shown: str
    # (comparable form, as recorded) for each other name and for each word of it, so that
    # "Chloe Smith" can match a previous surname "Smith" or a whole previous name.
    others: tuple[tuple[str, str], ...]

    @property
    def recorded(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (name, shown)
            for name, shown in ((self.given, self.given_shown), (self.family, self.family_shown))
            if name
        )


_MAX_OTHER_NAMES = 6


@lru_cache(maxsize=16_384)
def _prepare_names(given: str, family: str, other_names: tuple[str, ...]) -> _Names:
    others: list[tuple[str, str]] = []
    for other in other_names[:_MAX_OTHER_NAMES]:
        comparable = _comparable_name(other)
        if not comparable:
            continue
        others.append((comparable, _shown(other)))
        parts = comparable.split()
        if len(parts) > 1:
            others.extend((part, _shown(other)) for part in parts[:_MAX_PARTS])
    return _Names(
        given=_comparable_name(given),
        family=_comparable_name(family),
        given_shown=_shown(given),
        family_shown=_shown(family),
        others=tuple(dict.fromkeys(others)),
    )


def _best_other_name(name: str, others: tuple[tuple[str, str], ...]) -> tuple[_Likeness, str]:
    best, best_shown = _UNRELATED, ""
    for other, shown in others:
        likeness = _likeness(name, other)
        if likeness.score > best.score:
            best, best_shown = likeness, shown
    return best, best_shown


class _NameEvidence(NamedTuple):
    points: float
    reasons: list[str]
    strong: bool  # both names agree well: enough to show despite a conflicting DOB


def _name_evidence(query: _Names, candidate: _Names) -> _NameEvidence:
    if not (query.given and query.family and candidate.given and candidate.family):
        return _single_name_evidence(query, candidate)

    given = _likeness(query.given, candidate.given)
    given_reason = _phrase(given, "given name", query.given_shown, candidate.given_shown)
    for name, others in ((query.given, candidate.others), (candidate.given, query.others)):
        known_as, shown = _best_other_name(name, others)
        if known_as.score * _OTHER_NAME_SHARE > given.score:
            given = _Likeness(known_as.score * _OTHER_NAME_SHARE, known_as.kind)
            given_reason = f"Given name matches another recorded name ({shown})"

    family = _likeness(query.family, candidate.family)
    family_reason = _phrase(family, "family name", query.family_shown, candidate.family_shown)
    for name, others in ((query.family, candidate.others), (candidate.family, query.others)):
        previous, shown = _best_other_name(name, others)
        if previous.score * _PREVIOUS_NAME_SHARE > family.score:
            family = _Likeness(previous.score * _PREVIOUS_NAME_SHARE, previous.kind)
            family_reason = f"Family name matches a previous name ({shown})"

    points = _GIVEN * given.score + _FAMILY * family.score
    reasons = [given_reason, family_reason]

    given_as_family = _likeness(query.given, candidate.family)
    family_as_given = _likeness(query.family, candidate.given)
    weaker, stronger = sorted((given_as_family.score, family_as_given.score))
    if weaker >= _SOUNDS_ALIKE:
        # The weaker agreement gets the larger weight: conservative, and the same whichever
        # record is the query.
        swapped_points = _SWAPPED_NAMES_SHARE * (_GIVEN * weaker + _FAMILY * stronger)
        if swapped_points > points:
            return _NameEvidence(swapped_points, ["Given and family names swapped"], True)

    strong = min(given.score, family.score) >= _STRONG_NAME
    return _NameEvidence(points, reasons, strong)


def _single_name_evidence(query: _Names, candidate: _Names) -> _NameEvidence:
    """At least one record has a single name (or none): match it against every name held."""
    query_names, candidate_names = query.recorded, candidate.recorded
    if not query_names or not candidate_names:
        return _NameEvidence(0.0, ["No name recorded to compare"], False)

    best, best_reason = _UNRELATED, ""
    for (q_name, q_shown), (c_name, c_shown) in product(query_names, candidate_names):
        likeness = _likeness(q_name, c_name)
        if likeness.score > best.score or not best_reason:
            best, best_reason = likeness, _phrase(likeness, "name", q_shown, c_shown)
    for names, others in ((query_names, candidate.others), (candidate_names, query.others)):
        for name, _ in names:
            other, shown = _best_other_name(name, others)
            if other.score * _OTHER_NAME_SHARE > best.score:
                best = _Likeness(other.score * _OTHER_NAME_SHARE, other.kind)
                best_reason = f"Name matches another recorded name ({shown})"

    reasons = [best_reason]
    if len(query_names) == 1 and len(candidate_names) == 1:
        points = best.score * (_GIVEN + _FAMILY) * _SINGLE_NAME_SHARE
        strong = best.score >= _STRONG_NAME
    else:
        points = best.score * _GIVEN
        strong = False
        reasons.append("Only one name recorded")
    return _NameEvidence(points, reasons, strong)


# --- Date of birth, postcode, gender, identifiers ---------------------------------------------


def _dob_digits(value: date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _dob_shown(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


class _DobEvidence(NamedTuple):
    points: float
    reason: str
    conflict: bool


def _dob_evidence(query: date, candidate: date) -> _DobEvidence:
    if query == candidate:
        return _DobEvidence(_DOB_SAME, "Same date of birth", False)
    shown = f"({_dob_shown(query)} / {_dob_shown(candidate)})"
    if (query.year, query.month, query.day) == (candidate.year, candidate.day, candidate.month):
        return _DobEvidence(
            _DOB_DAY_MONTH_SWAPPED, f"Day and month of birth swapped {shown}", False
        )
    q_digits, c_digits = _dob_digits(query), _dob_digits(candidate)
    differing = [i for i, (q, c) in enumerate(zip(q_digits, c_digits, strict=True)) if q != c]
    if len(differing) == 1:
        return _DobEvidence(_DOB_ONE_DIGIT, f"Date of birth differs by one digit {shown}", False)
    if (
        len(differing) == 2
        and differing[1] == differing[0] + 1
        and q_digits[differing[0]] == c_digits[differing[1]]
        and q_digits[differing[1]] == c_digits[differing[0]]
    ):
        return _DobEvidence(
            _DOB_DIGITS_TRANSPOSED, f"Two digits of date of birth transposed {shown}", False
        )
    return _DobEvidence(0.0, f"Different date of birth {shown}", True)


def _compact_postcode(postcode: str | None) -> str:
    return "".join((postcode or "").split()).upper()


def _postcode_sector(compact: str) -> str | None:
    """The outward code and the first digit of the inward code: LE113TU -> "LE11 3"."""
    if not _POSTCODE_SHAPE.fullmatch(compact):
        return None
    return f"{compact[:-3]} {compact[-3]}"


def _postcode_evidence(query: str | None, candidate: str | None) -> tuple[float, str | None]:
    q_postcode, c_postcode = _compact_postcode(query), _compact_postcode(candidate)
    if not q_postcode or not c_postcode:
        return 0.0, None
    if q_postcode == c_postcode:
        return _POSTCODE, "Same postcode"
    q_sector = _postcode_sector(q_postcode)
    if q_sector and q_sector == _postcode_sector(c_postcode):
        return _POSTCODE_SECTOR, "Same postcode sector"
    # Families move; a different address is no evidence of a different child.
    return 0.0, None


def _gender_penalty(query: str | None, candidate: str | None) -> tuple[float, str | None]:
    q_gender, c_gender = (query or "").strip().casefold(), (candidate or "").strip().casefold()
    if not q_gender or not c_gender or q_gender == c_gender:
        return 0.0, None
    penalty = _GENDER_OTHER_CONFLICT if "other" in (q_gender, c_gender) else _GENDER_CONFLICT
    return penalty, "Different gender recorded"


def _compact_identifier(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def _identifier_verdict(
    query: PersonDetails, candidate: PersonDetails
) -> tuple[float | None, list[str]]:
    """An identifier held by both records decides; NHS number first, then UPN."""
    verdict: float | None = None
    reasons: list[str] = []
    for label, q_value, c_value in (
        ("NHS number", query.nhs_number, candidate.nhs_number),
        ("UPN", query.upn, candidate.upn),
    ):
        q_identifier, c_identifier = _compact_identifier(q_value), _compact_identifier(c_value)
        if not q_identifier or not c_identifier:
            continue
        same = q_identifier == c_identifier
        reasons.append(f"Same {label}" if same else f"Different {label}")
        if verdict is None:
            verdict = 100.0 if same else 0.0
    return verdict, reasons


# --- Public API ------------------------------------------------------------------------------


def compare(query: PersonDetails, candidate: PersonDetails) -> MatchResult:
    """Score how likely `candidate` is the same child as `query`, with reasons."""
    query_names = _prepare_names(query.given_name, query.family_name, tuple(query.other_names))
    candidate_names = _prepare_names(
        candidate.given_name, candidate.family_name, tuple(candidate.other_names)
    )
    dob = _dob_evidence(query.date_of_birth, candidate.date_of_birth)
    names = _name_evidence(query_names, candidate_names)
    postcode_points, postcode_reason = _postcode_evidence(query.postcode, candidate.postcode)
    gender_penalty, gender_reason = _gender_penalty(query.gender, candidate.gender)

    score = dob.points + names.points + postcode_points - gender_penalty
    if dob.conflict:
        # A different birth date is strong evidence of a different child; only the same
        # full name at the same address is still worth a coordinator's look.
        showable = names.strong and postcode_reason == "Same postcode"
        ceiling = MATCH_THRESHOLD - 1.0 if showable else CANDIDATE_THRESHOLD - 1.0
        score = min(score, ceiling)
    score = round(min(max(score, 0.0), 100.0), 1)

    evidence = [dob.reason, *names.reasons]
    evidence += [reason for reason in (postcode_reason, gender_reason) if reason]

    verdict, identifier_reasons = _identifier_verdict(query, candidate)
    if verdict is not None:
        return MatchResult(verdict, tuple(identifier_reasons + evidence), True)
    return MatchResult(score, tuple(evidence), False)


def is_match(result: MatchResult) -> bool:
    return result.score >= MATCH_THRESHOLD


# Blocking codes are truncated so keys stay short; two names that agree on their first ten
# phonetic characters are close enough to be worth comparing.
_CODE_LENGTH = 10
# Codes of one or two characters ("L" for Lee, Leo and Leah) lump together too many children
# for a key, so short names are keyed on their spelling instead.
_SHORTEST_CODE = 3
_MAX_NAME_TOKENS = 3
_MAX_CODES = 10

_ENCODERS = {"m": jellyfish.metaphone, "n": jellyfish.nysiis}


@lru_cache(maxsize=65_536)
def _blocking_code(token: str, encoding: str) -> str:
    code = _ENCODERS[encoding](token)[:_CODE_LENGTH]
    return code if len(code) >= _SHORTEST_CODE else f"={token[:_CODE_LENGTH]}"


def _tokens(*names: str) -> list[str]:
    tokens: list[str] = []
    for name in names:
        tokens.extend(normalise_name(name).split()[:_MAX_NAME_TOKENS])
    return list(dict.fromkeys(tokens))


def _with_short_form_roots(tokens: list[str]) -> list[str]:
    """The tokens, then the full names they may be short forms of, so Liz meets Elizabeth."""
    roots = [root for token in tokens for root in sorted(_NICKNAMER.canonicals_of(token))]
    # A handful of dataset entries are initials ("k.c."), which would make useless keys.
    return list(dict.fromkeys(tokens + [root for root in roots if root.isalpha()]))


def _codes(tokens: list[str], encoding: str) -> set[str]:
    codes = dict.fromkeys(_blocking_code(token, encoding) for token in tokens)
    return set(list(codes)[:_MAX_CODES])


def blocking_keys(person: PersonDetails) -> set[str]:
    """Index keys for `person`; a search compares only records sharing at least one key.

    Key families (every one combines two independent facts, never a lone surname or year):
      nhs:<number>, upn:<upn>        identifiers
      nd:<name code>:<yyyymmdd>      any name word + exact DOB (survives a typo or new
                                     surname in the other name, and one-word names)
      ny:<given code>:<yyyy>         given name + birth year (survives a DOB day/month slip
                                     together with a surname change or typo)
      fi:<family code>:<initial>:<yyyy>
                                     family name + given initial + birth year (survives a
                                     DOB day/month slip together with a given-name typo)
      bd:<name code>:<initial>:<mmdd>
                                     one name + the other name's initial + birthday (survives
                                     a wrong year together with a typo in either name)
      npm:/npn:<code>|<code>         given + family pair, sorted so swapped names meet
                                     (survives any DOB error)
      dp:<yyyymmdd>:<sector>         exact DOB + postcode sector (survives a name change)
    Name codes are metaphone; the pair keys also come in NYSIIS (npn:) because a typo that
    changes one encoding often leaves the other alone. Short forms are keyed under their full
    names too (Liz also under Elizabeth), and short codes fall back to the spelling ("=leo").
    """
    keys: set[str] = set()
    nhs_number = _compact_identifier(person.nhs_number)
    if _NHS_NUMBER_SHAPE.fullmatch(nhs_number):
        keys.add(f"nhs:{nhs_number}")
    upn = _compact_identifier(person.upn)
    if _UPN_SHAPE.fullmatch(upn):
        keys.add(f"upn:{upn}")

    dob = _dob_digits(person.date_of_birth)
    given_tokens = _tokens(person.given_name)
    family_tokens = _tokens(person.family_name)
    if not given_tokens:
        # A one-word name is most often the name the child is called by.
        given_tokens, family_tokens = family_tokens, []
    given_tokens = _with_short_form_roots(given_tokens)
    given_initials = {token[0] for token in given_tokens}
    family_initials = {token[0] for token in family_tokens}
    other_tokens = _with_short_form_roots(_tokens(*person.other_names[:_MAX_OTHER_NAMES]))

    year, birthday = dob[:4], dob[4:]
    for encoding in _ENCODERS:
        given = _codes(given_tokens, encoding)
        family = _codes(family_tokens, encoding)
        other = _codes(other_tokens, encoding)
        keys.update(
            f"np{encoding}:{'|'.join(sorted((first, second)))}"
            for first, second in product(given | other, family | other)
            if first != second
        )
        if encoding != "m":
            continue
        # The keys below each hold a date part, which makes them selective but also means a
        # second encoding would add many index rows for little extra recall.
        keys.update(f"nd:{code}:{dob}" for code in given | family | other)
        keys.update(f"ny:{code}:{year}" for code in given)
        keys.update(f"fi:{code}:{initial}:{year}" for code in family for initial in given_initials)
        keys.update(
            f"bd:{code}:{initial}:{birthday}"
            for codes, initials in ((given, family_initials), (family, given_initials))
            for code in codes
            for initial in initials
        )

    sector = _postcode_sector(_compact_postcode(person.postcode))
    if sector:
        keys.add(f"dp:{dob}:{sector}")
    return {key for key in keys if len(key) <= 80 and key.isascii()}


# --- Searching by name alone -----------------------------------------------------------------

# Any date serves: the name-pair keys are the only ones without a date part.
_ANY_DATE = date(2000, 1, 1)


def name_keys(given_name: str, family_name: str) -> set[str]:
    """The blocking keys of a name alone (the npm:/npn: given + family pairs), for a search by
    name without a date of birth. Empty for a single name: one name alone is not selective."""
    person = PersonDetails(given_name=given_name, family_name=family_name, date_of_birth=_ANY_DATE)
    return {key for key in blocking_keys(person) if key.startswith(("npm:", "npn:"))}


def compare_names(query: PersonDetails, candidate: PersonDetails) -> MatchResult:
    """How alike the names alone are, as `compare` weighs them, out of 100 (the most two names
    can earn), with the same plain-words reasons; for a search by name without a date of birth."""
    names = _name_evidence(
        _prepare_names(query.given_name, query.family_name, tuple(query.other_names)),
        _prepare_names(candidate.given_name, candidate.family_name, tuple(candidate.other_names)),
    )
    score = round(min(100.0, 100.0 * names.points / (_GIVEN + _FAMILY)), 1)
    return MatchResult(score, tuple(names.reasons), False)
