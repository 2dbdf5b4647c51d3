import contextlib
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maf.cases.involvement_import import parse_involvement_csv
from maf.cases.validation import (
    age_on,
    check_date_of_birth,
    normalise_nhs_number,
    normalise_postcode,
    normalise_upn,
    postcode_sector,
    upn_check_letter,
)

# --- postcodes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("le113tu", "LE11 3TU"),
        (" LE11  3TU ", "LE11 3TU"),
        ("le11\u00a03tu", "LE11 3TU"),  # non-breaking space pasted from a case system
        ("M1 1AE", "M1 1AE"),  # A9
        ("b338th", "B33 8TH"),  # A99
        ("CR2 6XH", "CR2 6XH"),  # AA9
        ("DN551PT", "DN55 1PT"),  # AA99
        ("W1A 1HQ", "W1A 1HQ"),  # A9A
        ("ec1a1bb", "EC1A 1BB"),  # AA9A
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_normalise_postcode_accepts_every_uk_shape(typed, expected):
    assert normalise_postcode(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["LE11", "LE11 3T", "LE11 3TUU", "1E11 3TU", "LEE1 3TU", "LE111 3TU", "LE11 TTU", "GIR 1AA"],
)
def test_normalise_postcode_rejects_wrong_shapes(typed):
    with pytest.raises(ValueError, match="^Enter a real UK postcode, like LE11 3TU$"):
        normalise_postcode(typed)


def test_normalise_postcode_rejects_letters_that_only_look_ascii_once_capitalised():
    # "ſ".upper() == "S": without an ASCII check this would become a valid-looking postcode.
    with pytest.raises(ValueError, match="real UK postcode"):
        normalise_postcode("le11 3tſ")


def test_normalise_postcode_asks_for_a_blank_one():
    with pytest.raises(ValueError, match="^Enter a postcode, like LE11 3TU$"):
        normalise_postcode("   ")


@pytest.mark.parametrize(
    ("postcode", "sector"),
    [("LE11 3TU", "LE11 3"), ("m11ae", "M1 1"), ("EC1A 1BB", "EC1A 1"), ("W1A 1HQ", "W1A 1")],
)
def test_postcode_sector(postcode, sector):
    assert postcode_sector(postcode) == sector


def test_postcode_sector_rejects_a_bad_postcode():
    with pytest.raises(ValueError, match="real UK postcode"):
        postcode_sector("LE11")


# --- NHS numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["9434765919", "943 476 5919", "943-476-5919", " 943 476 5919 "])
def test_normalise_nhs_number_accepts_the_published_example(typed):
    # 943 476 5919 is the NHS's own example: 9*10 + 4*9 + 3*8 + 4*7 + 7*6 + 6*5 + 5*4 + 9*3 + 1*2
    # = 299; 299 % 11 = 2; 11 - 2 = 9, the last digit.
    assert normalise_nhs_number(typed) == "9434765919"


def test_normalise_nhs_number_maps_a_check_of_11_to_0():
    # 400 000 033: 4*10 + 3*3 + 3*2 = 55; 55 % 11 = 0; 11 - 0 = 11, written as 0.
    assert normalise_nhs_number("400 000 0330") == "4000000330"


def test_normalise_nhs_number_rejects_a_check_of_10_whatever_the_last_digit():
    # 123 456 789: 1*10 + 2*9 + 3*8 + 4*7 + 5*6 + 6*5 + 7*4 + 8*3 + 9*2 = 210; 210 % 11 = 1;
    # 11 - 1 = 10, which no single digit can be, so the NHS never issues these nine digits.
    for last in "0123456789":
        with pytest.raises(ValueError, match="fails the check"):
            normalise_nhs_number(f"123 456 789{last}")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "^Enter an NHS number, like 943 476 5919$"),
        ("943 476 591", "^NHS number must be 10 digits, like 943 476 5919$"),
        ("943 476 59190", "^NHS number must be 10 digits, like 943 476 5919$"),
        ("943.476.5919", "^NHS number must only include numbers 0 to 9, spaces and hyphens$"),
        ("٩٤٣٤٧٦٥٩١٩", "^NHS number must only include numbers 0 to 9, spaces and hyphens$"),
        (
            "943 476 5918",
            "^Enter a valid NHS number: check the 10 digits, this one fails the check$",
        ),
    ],
)
def test_normalise_nhs_number_explains_what_is_wrong(typed, message):
    with pytest.raises(ValueError, match=message):
        normalise_nhs_number(typed)


def _nhs_check(first_nine: str) -> int:
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    return (11 - total % 11) % 11


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_normalise_nhs_number_accepts_exactly_one_final_digit(first_nine):
    check = _nhs_check(first_nine)
    accepted = []
    for last in "0123456789":
        with contextlib.suppress(ValueError):
            accepted.append(normalise_nhs_number(first_nine + last))
    assert accepted == ([] if check == 10 else [f"{first_nine}{check}"])


# --- UPNs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "upn",
    [
        # python-stdnum's doctest for stdnum.gb.upn.
        "B801200005001",
        # The examples in the DfE's "Unique pupil numbers" guidance, as quoted in the tests of
        # DfE's multiplication tables check service: a permanent and a temporary UPN.
        "H801200001001",
        "G80120000101A",
    ],
)
def test_normalise_upn_accepts_published_examples(upn):
    assert normalise_upn(upn) == upn


def test_upn_check_letter_worked_by_hand():
    # 801 2000 05 001, weights 2..13: 8*2 + 1*4 + 2*5 + 5*10 + 1*13 = 16 + 4 + 10 + 50 + 13 = 93;
    # 93 % 23 = 1 -> B.
    assert upn_check_letter("801200005001") == "B"
    # 823 1234 26 017: 8*2 + 2*3 + 3*4 + 1*5 + 2*6 + 3*7 + 4*8 + 2*9 + 6*10 + 0*11 + 1*12 + 7*13
    # = 16 + 6 + 12 + 5 + 12 + 21 + 32 + 18 + 60 + 0 + 12 + 91 = 285; 285 % 23 = 9 -> K
    # (A0 B1 C2 D3 E4 F5 G6 H7 J8 K9: I is skipped).
    assert upn_check_letter("823123426017") == "K"
    # Temporary: final letter R counts 15 (A0 .. H7 J8 .. N12 P13 Q14 R15, no I or O).
    # 823 1234 26 01R: 285 - 7*13 + 15*13 = 389; 389 % 23 = 21 -> Y.
    assert upn_check_letter("82312342601R") == "Y"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("k823123426017", "K823123426017"), (" K823 1234 2601 7 ", "K823123426017")],
)
def test_normalise_upn_uppercases_and_strips_spaces(typed, expected):
    assert normalise_upn(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "^Enter a unique pupil number \\(UPN\\), like B801200005001$"),
        ("K82312342601", "^UPN must be 13 characters, like B801200005001$"),
        ("K8231234260170", "^UPN must be 13 characters, like B801200005001$"),
        ("K82312342601S", "^UPN must be a letter, then 11 numbers, then a number or a letter"),
        ("I823123426017", "^UPN must be a letter, then 11 numbers"),
        ("K8231234A6017", "^UPN must be a letter, then 11 numbers"),
        ("A801200005001", "^Enter a valid UPN: check the 13 characters, this one fails the check$"),
    ],
)
def test_normalise_upn_explains_what_is_wrong(typed, message):
    with pytest.raises(ValueError, match=message):
        normalise_upn(typed)


_UPN_TAIL = st.text(alphabet="0123456789", min_size=11, max_size=11)
_UPN_LAST = st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUVWXYZ")


@given(_UPN_TAIL, _UPN_LAST)
def test_normalise_upn_accepts_only_the_computed_check_letter(tail, last):
    body = tail + last
    right = upn_check_letter(body)
    assert normalise_upn(right + body) == right + body
    for wrong in "ABCDEFGHJKLMNPQRTUVWXYZ".replace(right, ""):
        with pytest.raises(ValueError, match="fails the check"):
            normalise_upn(wrong + body)


# --- dates of birth ----------------------------------------------------------------------------

TODAY = date(2026, 11, 22)


def test_a_register_row_born_today_or_exactly_25_years_ago_is_imported_a_day_beyond_is_not():
    """What the coordinator sees of check_date_of_birth: the rows an involvement import takes
    and the line-by-line reasons it gives for the others."""
    rows = (
        "given_name,family_name,date_of_birth,service\n"
        "Nia,Born-Today,22/11/2026,cin\n"
        "Ola,Born-Tomorrow,23/11/2026,cin\n"
        "Pat,Exactly-25,22/11/2001,cin\n"
        "Ray,25-And-A-Day,21/11/2001,cin\n"
    )
    result = parse_involvement_csv(io.StringIO(rows), TODAY)
    assert [(row.line, row.family_name, row.date_of_birth) for row in result.rows] == [
        (2, "Born-Today", date(2026, 11, 22)),
        (4, "Exactly-25", date(2001, 11, 22)),
    ]
    assert [(error.line, error.message) for error in result.errors] == [
        (3, "Date of birth must be today or in the past"),
        (
            5,
            "Date of birth must be within the last 25 years: the CAF is for children and young "
            "people",
        ),
    ]


def test_check_date_of_birth_rejects_the_future():
    with pytest.raises(ValueError, match="^Date of birth must be today or in the past$"):
        check_date_of_birth(date(2026, 11, 23), TODAY)


def test_check_date_of_birth_rejects_more_than_25_years_ago():
    with pytest.raises(
        ValueError,
        match=(
            "^Date of birth must be within the last 25 years: "
            "the CAF is for children and young people$"
        ),
    ):
        check_date_of_birth(date(2001, 11, 21), TODAY)


def test_check_date_of_birth_on_29_february():
    # There was no 29 February 2003: 28 February 2003 is 25 years and a day before, 1 March 2003
    # is a day short of 25 years.
    leap_day = date(2028, 2, 29)
    check_date_of_birth(date(2003, 3, 1), leap_day)
    with pytest.raises(ValueError, match="within the last 25 years"):
        check_date_of_birth(date(2003, 2, 28), leap_day)


@pytest.mark.parametrize(
    ("dob", "day", "age"),
    [
        (date(2015, 3, 27), date(2015, 3, 27), 0),
        (date(2015, 3, 27), date(2026, 3, 26), 10),
        (date(2015, 3, 27), date(2026, 3, 27), 11),
        (date(2012, 2, 29), date(2026, 2, 28), 13),
        (date(2012, 2, 29), date(2026, 3, 1), 14),
        (date(2012, 2, 29), date(2028, 2, 29), 16),
    ],
)
def test_age_on(dob, day, age):
    assert age_on(dob, day) == age


def test_age_on_refuses_a_day_before_birth():
    with pytest.raises(ValueError, match="Date of birth must be on or before"):
        age_on(date(2015, 3, 27), date(2015, 3, 26))


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)), st.data())
def test_check_date_of_birth_agrees_with_age_on(today, data):
    dob = data.draw(st.dates(min_value=date(1960, 1, 1), max_value=today))
    try:
        check_date_of_birth(dob, today)
    except ValueError:
        accepted = False
    else:
        accepted = True
    # Allowed means under 25, or turning 25 today.
    age = age_on(dob, today)
    if age == 25:
        yesterday = date.fromordinal(today.toordinal() - 1)
        assert accepted == (age_on(dob, yesterday) == 24)
    else:
        assert accepted == (age < 25)
