"""Duplicate-CAF matching (seed 002 A4: "practitioners should always check whether a CAF exists
for a child"; seed 003 §4 step 1).

A difference is FOUND when the two records share a blocking key (so the search fetches the
candidate at all) and `compare` calls them a match.
"""

import re
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maf.cases.matching import (
    PersonDetails,
    blocking_keys,
    compare,
    is_match,
    normalise_name,
)

JESSICA = PersonDetails(
    given_name="Jessica",
    family_name="Thompson",
    date_of_birth=date(2013, 4, 17),
    postcode="LE11 3TU",
    gender="female",
)


def child(given_name: str, family_name: str, **changes) -> PersonDetails:
    return replace(JESSICA, given_name=given_name, family_name=family_name, **changes)


def found(query: PersonDetails, candidate: PersonDetails) -> bool:
    return bool(blocking_keys(query) & blocking_keys(candidate)) and is_match(
        compare(query, candidate)
    )


# --- The same child recorded differently must be found -------------------------------------

SAME_CHILD = [
    pytest.param(child("Jessica", "Thompson"), child("Jessica", "Thomson"), id="family-typo"),
    pytest.param(child("Jessica", "Thompson"), child("Jesica", "Thompson"), id="given-typo"),
    pytest.param(
        child("Jonathan", "Hargreaves", gender="male"),
        child("Jon", "Hargreaves", gender="male"),
        id="nickname-jon-jonathan",
    ),
    pytest.param(
        child("Elizabeth", "Cartwright"), child("Liz", "Cartwright"), id="nickname-liz-elizabeth"
    ),
    pytest.param(
        child("Alfred", "Pickering", gender="male"),
        child("Alfie", "Pickering", gender="male"),
        id="nickname-alfie-alfred",
    ),
    pytest.param(child("Rebecca", "Holloway"), child("Bex", "Holloway"), id="nickname-bex-rebecca"),
    # British short forms the nicknames dataset lacks, missed at the first 1,000,000-child
    # benchmark (bench/RESULTS.md).
    pytest.param(
        child("Oliver", "Pickering", gender="male"),
        child("Olly", "Pickering", gender="male"),
        id="nickname-olly-oliver",
    ),
    pytest.param(
        child("William", "Allan", gender="male"),
        child("Liam", "Allan", gender="male"),
        id="nickname-liam-william",
    ),
    pytest.param(child("Catherine", "Doyle"), child("Kate", "Doyle"), id="nickname-kate-catherine"),
    pytest.param(
        child("Alexander", "Reid", gender="male"),
        child("Xander", "Reid", gender="male"),
        id="nickname-xander-alexander",
    ),
    pytest.param(
        child("Daniel", "Ashworth", gender="male"),
        child("Ashworth", "Daniel", gender="male"),
        id="given-and-family-swapped",
    ),
    pytest.param(
        child("Megan", "Smith-Jones"), child("Megan", "Smith"), id="double-barrelled-first-part"
    ),
    pytest.param(
        child("Megan", "Smith-Jones"), child("Megan", "Jones"), id="double-barrelled-second-part"
    ),
    pytest.param(
        child("Megan", "Smith Jones"), child("Megan", "Smith-Jones"), id="double-barrelled-spacing"
    ),
    pytest.param(
        child("Chloe", "Smith"),
        child("Chloe", "Barker", other_names=("Smith",)),
        id="changed-surname-previous-in-other-names",
    ),
    pytest.param(
        child("Chloe", "Barker", other_names=("Chloe Smith",)),
        child("Chloe", "Smith"),
        id="changed-surname-previous-full-name",
    ),
    pytest.param(
        child("Chloe", "Smith"),
        child("Chloe", "Barker"),
        id="changed-surname-unrecorded-same-postcode",
    ),
    pytest.param(
        child("Rebecca", "Holloway"),
        child("Becky", "Holloway", other_names=("Rebecca Holloway",)),
        id="known-as-in-other-names",
    ),
    pytest.param(
        replace(JESSICA, date_of_birth=date(2013, 4, 7)),
        replace(JESSICA, date_of_birth=date(2013, 7, 4)),
        id="dob-day-month-swapped",
    ),
    pytest.param(
        JESSICA, replace(JESSICA, date_of_birth=date(2013, 4, 19)), id="dob-one-digit-day"
    ),
    pytest.param(
        JESSICA, replace(JESSICA, date_of_birth=date(2014, 4, 17)), id="dob-one-digit-year"
    ),
    pytest.param(
        JESSICA,
        replace(JESSICA, date_of_birth=date(2014, 4, 17), postcode="NG1 5DT"),
        id="dob-one-digit-year-and-moved",
    ),
    pytest.param(
        replace(JESSICA, date_of_birth=date(2013, 4, 12)),
        replace(JESSICA, date_of_birth=date(2013, 4, 21)),
        id="dob-day-digits-transposed",
    ),
    pytest.param(JESSICA, replace(JESSICA, postcode="NG1 5DT"), id="old-address"),
    pytest.param(JESSICA, replace(JESSICA, postcode=None), id="postcode-unknown"),
    pytest.param(child("Zoë", "O'Neill"), child("Zoe", "ONeill"), id="accents-and-apostrophes"),
    pytest.param(
        child("Łukasz", "Nowak", gender="male"),
        child("Lukasz", "Nowak", gender="male"),
        id="accents-polish",
    ),
    pytest.param(
        child("Jessica", "Thompson", nhs_number="9434765919"),
        child("Jess", "Ferguson", nhs_number="9434765919", date_of_birth=date(2012, 1, 30)),
        id="same-nhs-number-different-names",
    ),
    pytest.param(
        child("", "Amani", postcode=None),
        child("Amani", "", postcode=None),
        id="one-word-name-either-field",
    ),
    pytest.param(
        child("", "Amani"), child("Amani", "Okafor"), id="one-word-name-against-full-name"
    ),
    pytest.param(
        child("Liz", "Cartwright"),
        child("Elizabeth", "Cartwright", date_of_birth=date(2013, 4, 18), postcode="NG1 5DT"),
        id="nickname-dob-slip-and-moved",
    ),
    pytest.param(
        child("Mohammed", "Hussain", gender="male"),
        child("Muhammad", "Hussain", gender="male"),
        id="transliteration-variant",
    ),
]


@pytest.mark.parametrize(("query", "candidate"), SAME_CHILD)
def test_same_child_recorded_differently_is_found(query, candidate):
    assert blocking_keys(query) & blocking_keys(candidate), "search would never fetch it"
    result = compare(query, candidate)
    assert is_match(result), result


@pytest.mark.parametrize(("query", "candidate"), SAME_CHILD)
def test_found_whichever_record_is_the_query(query, candidate):
    assert found(candidate, query)
    assert compare(candidate, query).score == compare(query, candidate).score


# With nothing but a first name and date of birth in common, only a shared address makes
# these a likely match; every other difference must survive a move as well.
NEEDS_SAME_ADDRESS = {"changed-surname-unrecorded-same-postcode", "one-word-name-against-full-name"}


@pytest.mark.parametrize(
    ("query", "candidate"), [case for case in SAME_CHILD if case.id not in NEEDS_SAME_ADDRESS]
)
def test_found_after_the_family_moved(query, candidate):
    assert found(query, replace(candidate, postcode="DN55 1PT"))


def test_unrecorded_surname_change_after_a_move_is_shown_but_not_matched():
    result = compare(child("Chloe", "Smith"), child("Chloe", "Barker", postcode="DN55 1PT"))
    # Shown from 55, the same child from 72 (tests/cases/test_boundaries.py tries both edges).
    assert result.score == 67.0
    assert not is_match(result)


def test_same_nhs_number_decides_whatever_the_names():
    result = compare(
        child("Jessica", "Thompson", nhs_number="9434765919"),
        child("Kayleigh", "Marsh", nhs_number="9434765919", date_of_birth=date(2011, 2, 3)),
    )
    assert result.decisive
    assert result.score == 100
    assert result.reasons[0] == "Same NHS number"


def test_same_upn_decides_when_nhs_numbers_are_not_both_known():
    result = compare(
        child("Jessica", "Thompson", upn="A823409417012", nhs_number="9434765919"),
        child("Kayleigh", "Marsh", upn="A823409417012"),
    )
    assert result.decisive
    assert result.score == 100
    assert "Same UPN" in result.reasons


# --- Different children that look alike must not match ------------------------------------


def test_twins_do_not_match_but_are_shown():
    oliver = child("Oliver", "Whitfield", gender="male")
    harry = child("Harry", "Whitfield", gender="male")
    result = compare(oliver, harry)
    assert not is_match(result)
    # A twin's CAF is worth the coordinator knowing about, so it is still listed.
    assert result.score == 68.0
    assert "Different given name (Oliver / Harry)" in result.reasons


def test_boy_girl_twins_with_similar_names_do_not_match():
    result = compare(
        child("Oliver", "Whitfield", gender="male"), child("Olivia", "Whitfield", gender="female")
    )
    assert not is_match(result)


def test_same_name_different_dob_and_postcode_is_not_even_a_candidate():
    other_jessica = replace(JESSICA, date_of_birth=date(2016, 11, 2), postcode="DE1 3QT")
    result = compare(JESSICA, other_jessica)
    assert not is_match(result)
    assert result.score == 54.0  # not shown: candidates start at 55


def test_same_name_and_postcode_but_very_different_dob_is_shown_not_matched():
    result = compare(JESSICA, replace(JESSICA, date_of_birth=date(2016, 11, 2)))
    assert result.score == 65.0
    assert not is_match(result)


def test_different_nhs_numbers_decide_even_when_all_else_agrees():
    result = compare(
        replace(JESSICA, nhs_number="9434765919"), replace(JESSICA, nhs_number="4010232137")
    )
    assert result.decisive
    assert result.score == 0
    assert not is_match(result)
    assert result.reasons[0] == "Different NHS number"


def test_different_upns_decide_even_when_all_else_agrees():
    result = compare(replace(JESSICA, upn="A823409417012"), replace(JESSICA, upn="H801200001001"))
    assert result.decisive
    assert not is_match(result)


def test_nhs_number_known_on_one_side_only_is_ignored():
    result = compare(replace(JESSICA, nhs_number="9434765919"), JESSICA)
    assert not result.decisive
    assert is_match(result)


@pytest.mark.parametrize(
    "sibling_dob",
    [
        pytest.param(date(2015, 9, 2), id="different-day-and-month"),
        pytest.param(date(2015, 4, 17), id="same-birthday"),
    ],
)
def test_sibling_two_years_apart_does_not_match(sibling_dob):
    sibling = child("Ruby", "Thompson", date_of_birth=sibling_dob)
    assert not is_match(compare(JESSICA, sibling))


def test_sibling_with_very_different_dob_is_not_a_candidate():
    sibling = child("Ruby", "Thompson", date_of_birth=date(2015, 9, 2))
    assert compare(JESSICA, sibling).score == 33.0  # not shown: candidates start at 55


def test_different_gender_counts_against():
    same = compare(child("Sam", "Kershaw"), child("Sam", "Kershaw"))
    other = compare(child("Sam", "Kershaw"), child("Sam", "Kershaw", gender="male"))
    assert other.score < same.score
    assert "Different gender recorded" in other.reasons


# --- Ranking and reasons -------------------------------------------------------------------


def test_results_are_ranked_sensibly():
    elizabeth = child("Elizabeth", "Cartwright")
    exact = compare(elizabeth, child("Elizabeth", "Cartwright"))
    nickname = compare(elizabeth, child("Liz", "Cartwright"))
    twin = compare(elizabeth, child("Harriet", "Cartwright"))
    stranger = compare(elizabeth, child("Priya", "Chauhan", postcode="DE1 3QT"))
    assert exact.score > nickname.score > twin.score > stranger.score
    assert exact.score == 100


@pytest.mark.parametrize(
    ("query", "candidate", "phrase"),
    [
        pytest.param(JESSICA, JESSICA, "Same date of birth", id="same-dob"),
        pytest.param(
            replace(JESSICA, date_of_birth=date(2013, 4, 7)),
            replace(JESSICA, date_of_birth=date(2013, 7, 4)),
            "Day and month of birth swapped (07/04/2013 / 04/07/2013)",
            id="dob-swapped",
        ),
        pytest.param(
            JESSICA,
            replace(JESSICA, date_of_birth=date(2014, 4, 17)),
            "Date of birth differs by one digit (17/04/2013 / 17/04/2014)",
            id="dob-one-digit",
        ),
        pytest.param(
            child("Liz", "Cartwright"),
            child("Elizabeth", "Cartwright"),
            "Given name is a short form (Liz / Elizabeth)",
            id="short-form",
        ),
        pytest.param(
            child("Jessica", "Smith"),
            child("Jessica", "Smyth"),
            "Family name sounds alike (Smith / Smyth)",
            id="sounds-alike",
        ),
        pytest.param(
            child("Jessica", "Thompson"),
            child("Jessica", "Thomson"),
            "Family name spelt similarly (Thompson / Thomson)",
            id="spelt-similarly",
        ),
        pytest.param(
            child("Daniel", "Ashworth"),
            child("Ashworth", "Daniel"),
            "Given and family names swapped",
            id="swapped",
        ),
        pytest.param(
            child("Megan", "Smith-Jones"),
            child("Megan", "Jones"),
            "Family name shares a part (Smith-Jones / Jones)",
            id="shared-part",
        ),
        pytest.param(
            child("Chloe", "Smith"),
            child("Chloe", "Barker", other_names=("Smith",)),
            "Family name matches a previous name (Smith)",
            id="previous-name",
        ),
        pytest.param(JESSICA, JESSICA, "Same postcode", id="same-postcode"),
        pytest.param(
            JESSICA, replace(JESSICA, postcode="LE11 3AB"), "Same postcode sector", id="sector"
        ),
        pytest.param(
            replace(JESSICA, nhs_number="9434765919"),
            replace(JESSICA, nhs_number="9434765919"),
            "Same NHS number",
            id="same-nhs",
        ),
        pytest.param(
            replace(JESSICA, nhs_number="9434765919"),
            replace(JESSICA, nhs_number="4010232137"),
            "Different NHS number",
            id="different-nhs",
        ),
        pytest.param(
            child("", "Amani"), child("Amani", "Okafor"), "Only one name recorded", id="one-name"
        ),
    ],
)
def test_reasons_explain_the_score(query, candidate, phrase):
    assert phrase in compare(query, candidate).reasons


def test_moving_house_is_no_evidence_against():
    assert (
        compare(JESSICA, replace(JESSICA, postcode="NG1 5DT")).score
        == compare(JESSICA, replace(JESSICA, postcode=None)).score
    )


# --- Names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Zoë O'Neill", "zoe oneill"),
        ("O’Neill", "oneill"),
        ("Llewellyn-Jones", "llewellyn jones"),
        ("  Mary   Jane ", "mary jane"),
        ("Łukasz", "lukasz"),
        ("Nguyễn", "nguyen"),
        ("STRAßE", "strasse"),
        ("St. John", "st john"),
        ("", ""),
    ],
)
def test_normalise_name(typed, expected):
    assert normalise_name(typed) == expected


# --- Blocking keys ---------------------------------------------------------------------------

_NAME_CODE = r"(?:[A-Z0-9]{3,10}|=[a-z0-9]{1,10})"
_KEY_SHAPES = {
    "nd": re.compile(rf"nd:{_NAME_CODE}:\d{{8}}"),  # name + full DOB
    "ny": re.compile(rf"ny:{_NAME_CODE}:\d{{4}}"),  # given name + birth year
    "fi": re.compile(rf"fi:{_NAME_CODE}:[a-z0-9]:\d{{4}}"),  # family name + initial + year
    "bd": re.compile(rf"bd:{_NAME_CODE}:[a-z0-9]:\d{{4}}"),  # name + other initial + birthday
    "np": re.compile(rf"np[mn]:{_NAME_CODE}\|{_NAME_CODE}"),  # two names
    "dp": re.compile(r"dp:\d{8}:[A-Z]{1,2}\d[A-Z\d]? \d"),  # full DOB + postcode sector
    "nhs": re.compile(r"nhs:\d{10}"),
    "upn": re.compile(r"upn:[A-Z0-9]{13}"),
}

EXAMPLES = [
    JESSICA,
    child("Elizabeth", "Smith-Jones", other_names=("Smith", "Beth Smith")),
    child("Jon", "Hargreaves", nhs_number="9434765919", upn="A823409417012"),
    child("", "Amani"),
    child("Zoë", "O'Neill", postcode=None),
    child("Christopher", "Llewellyn-Jones"),
]


@pytest.mark.parametrize("person", EXAMPLES)
def test_every_key_is_short_ascii_and_combines_two_facts(person):
    keys = blocking_keys(person)
    assert keys
    for key in keys:
        assert len(key) <= 80 and key.isascii(), key
        assert any(shape.fullmatch(key) for shape in _KEY_SHAPES.values()), key


def test_year_keys_depend_on_the_given_name_only():
    def year_keys(person):
        return {key for key in blocking_keys(person) if key.startswith("ny")}

    assert year_keys(child("Jessica", "Thompson"))
    assert year_keys(child("Jessica", "Thompson")) == year_keys(child("Jessica", "Barker"))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param(
            child("Oliver", "Smith", date_of_birth=date(2012, 3, 1), postcode="LE11 3TU"),
            child("Harry", "Smith", date_of_birth=date(2016, 8, 9), postcode="NG1 5DT"),
            id="only-surname",
        ),
        pytest.param(
            child("Oliver", "Smith", date_of_birth=date(2012, 3, 1)),
            child("Harry", "Patel", date_of_birth=date(2012, 8, 9)),
            id="only-birth-year",
        ),
        pytest.param(
            child("Oliver", "Smith", date_of_birth=date(2012, 3, 1)),
            child("Harry", "Patel", date_of_birth=date(2015, 8, 9)),
            id="only-postcode",
        ),
        pytest.param(
            child("Oliver", "Smith", date_of_birth=date(2012, 3, 1)),
            child("Oliver", "Patel", date_of_birth=date(2015, 8, 9)),
            id="only-given-name",
        ),
        pytest.param(
            child("Oliver", "Smith", date_of_birth=date(2012, 3, 1)),
            child("Harry", "Patel", date_of_birth=date(2012, 3, 1), postcode="NG1 5DT"),
            id="only-dob",
        ),
    ],
)
def test_records_sharing_one_common_fact_share_no_key(one, other):
    assert not blocking_keys(one) & blocking_keys(other)


def test_keys_for_example_person():
    keys = blocking_keys(child("Liz", "Smith-Jones"))
    assert {"nd:ELSB0:20130417", "npm:ELSB0|JNS", "npm:ELSB0|SM0", "dp:20130417:LE11 3"} <= keys


# --- Properties -----------------------------------------------------------------------------

names = st.text(max_size=40)
optional_text = st.none() | st.text(max_size=20)
people = st.builds(
    PersonDetails,
    given_name=names,
    family_name=names,
    date_of_birth=st.dates(),
    other_names=st.lists(names, max_size=3).map(tuple),
    postcode=optional_text,
    gender=st.none() | st.sampled_from(["female", "male", "other"]) | st.text(max_size=8),
    upn=optional_text,
    nhs_number=optional_text,
)


@settings(max_examples=300, deadline=None)
@given(person=people)
def test_a_record_always_matches_itself(person):
    # A record with no name at all cannot be matched on names; the form requires one.
    if not (person.given_name.strip() or person.family_name.strip()):
        person = replace(person, family_name="Thompson")
    result = compare(person, person)
    assert is_match(result), result
    if normalise_name(person.given_name) or normalise_name(person.family_name):
        assert blocking_keys(person)


@settings(max_examples=300, deadline=None)
@given(query=people, candidate=people)
def test_compare_never_raises_and_is_symmetric(query, candidate):
    result = compare(query, candidate)
    assert 0 <= result.score <= 100
    assert all(isinstance(reason, str) and reason for reason in result.reasons)
    assert compare(candidate, query).score == result.score


@settings(max_examples=300, deadline=None)
@given(person=people)
def test_blocking_keys_never_raise_and_are_short_ascii(person):
    for key in blocking_keys(person):
        assert len(key) <= 80 and key.isascii(), key


COMMON_GIVEN_NAMES = ["Oliver", "Amelia", "Harry", "Isabella", "Mohammed", "Charlotte", "Jacob"]
COMMON_FAMILY_NAMES = ["Thompson", "Hussain", "Robinson", "Kowalski", "Wright", "Edwards"]


@settings(max_examples=300, deadline=None)
@given(
    given_name=st.sampled_from(COMMON_GIVEN_NAMES),
    family_name=st.sampled_from(COMMON_FAMILY_NAMES),
    date_of_birth=st.dates(min_value=date(2006, 1, 1), max_value=date(2025, 12, 31)),
    slip_in_given_name=st.booleans(),
    position=st.integers(min_value=1, max_value=20),
    letter=st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
)
def test_a_one_letter_slip_in_either_name_is_still_found(
    given_name, family_name, date_of_birth, slip_in_given_name, position, letter
):
    recorded = PersonDetails(given_name, family_name, date_of_birth)
    name = given_name if slip_in_given_name else family_name
    # Slips in the first letter are rarer and change every phonetic code; not covered here.
    position = 1 + position % (len(name) - 1)
    slipped = name[:position] + letter + name[position + 1 :]
    typed = (
        replace(recorded, given_name=slipped)
        if slip_in_given_name
        else replace(recorded, family_name=slipped)
    )
    assert found(recorded, typed), compare(recorded, typed)
