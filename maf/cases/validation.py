"""Checks on the identifiers and dates a coordinator types in about a child.

Every function raises ValueError whose message can go straight into a GOV.UK error message:
sentence case, no full stop, and it says what to do.
"""

import re
from datetime import date

from maf.rules.words import words

# Only the shape is checked (outward A9, A99, AA9, AA99, A9A, AA9A; inward 9AA). Royal Mail's
# rules on which letters may appear where are left out on purpose: wrongly rejecting a real
# postcode blocks a child's record, which costs more than letting a well-shaped typo through.
_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA")
_POSTCODE_EXAMPLE = "LE11 3TU"

_NHS_NUMBER_EXAMPLE = "943 476 5919"

# The DfE check alphabet (UK Government Data Standards Catalogue, Unique Pupil Number 2.0):
# 0 -> A ... 22 -> Z, skipping I, O and S.
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_SHAPE = re.compile(rf"[{_UPN_LETTERS}][0-9]{{11}}[0-9{_UPN_LETTERS}]")
_UPN_EXAMPLE = "B801200005001"

CAF_MAX_AGE_YEARS = 25


def _squash(text: str) -> str:
    # Copy-paste from case systems brings non-breaking spaces and tabs as well as plain spaces.
    squashed = "".join(text.split())
    # str.upper() maps some non-ASCII letters onto ASCII ones ("ſ" -> "S"), so anything
    # non-ASCII is left as it is, to fail the format check rather than pass as something else.
    return squashed.upper() if squashed.isascii() else squashed


def normalise_postcode(text: str) -> str:
    """Return the postcode in capitals with one space before the inward code ("LE11 3TU")."""
    squashed = _squash(text)
    if not squashed:
        raise ValueError(f"Enter a postcode, like {_POSTCODE_EXAMPLE}")
    if not _POSTCODE.fullmatch(squashed):
        raise ValueError(f"Enter a real UK postcode, like {_POSTCODE_EXAMPLE}")
    return f"{squashed[:-3]} {squashed[-3:]}"


def postcode_sector(postcode: str) -> str:
    """Return the postcode sector: the outward code and the first inward digit ("LE11 3")."""
    outward, inward = normalise_postcode(postcode).split(" ")
    return f"{outward} {inward[0]}"


def _nhs_check_digit(first_nine: str) -> int | None:
    total = sum(
        int(digit) * weight for digit, weight in zip(first_nine, range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        return 0
    # A remainder giving 10 means the NHS never issues that sequence of nine digits.
    return None if check == 10 else check


def normalise_nhs_number(text: str) -> str:
    """Return the NHS number as 10 digits with no spaces, once its check digit is right."""
    digits = re.sub(r"[\s\-]", "", text)
    if not digits:
        raise ValueError(f"Enter an NHS number, like {_NHS_NUMBER_EXAMPLE}")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("NHS number must only include numbers 0 to 9, spaces and hyphens")
    if len(digits) != 10:
        raise ValueError(f"NHS number must be 10 digits, like {_NHS_NUMBER_EXAMPLE}")
    if _nhs_check_digit(digits[:9]) != int(digits[9]):
        raise ValueError("Enter a valid NHS number: check the 10 digits, this one fails the check")
    return digits


def upn_check_letter(last_twelve: str) -> str:
    """Return the check letter for characters 2 to 13 of a UPN (DfE modulus 23 algorithm).

    Characters 2 to 13 are weighted 2 to 13; a temporary UPN's final letter counts as its place
    in the check alphabet (A = 0, B = 1, ...), as the check letter itself does.
    """
    total = 0
    for weight, char in enumerate(last_twelve, start=2):
        value = int(char) if char.isdigit() else _UPN_LETTERS.index(char)
        total += value * weight
    return _UPN_LETTERS[total % 23]


def normalise_upn(text: str) -> str:
    """Return the Unique Pupil Number in capitals with no spaces, once its check letter is right."""
    upn = _squash(text)
    if not upn:
        raise ValueError(f"Enter a unique pupil number (UPN), like {_UPN_EXAMPLE}")
    if len(upn) != 13:
        raise ValueError(f"UPN must be 13 characters, like {_UPN_EXAMPLE}")
    if not _UPN_SHAPE.fullmatch(upn):
        raise ValueError(
            f"UPN must be a letter, then 11 numbers, then a number or a letter, like {_UPN_EXAMPLE}"
        )
    if upn_check_letter(upn[1:]) != upn[0]:
        raise ValueError("Enter a valid UPN: check the 13 characters, this one fails the check")
    return upn


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        # 29 February with no 29 February that year: someone born on 28 February is already
        # a day past the limit, so the earliest date still inside it is 1 March.
        return date(day.year - years, 3, 1)


def check_date_of_birth(dob: date, today: date) -> None:
    """Refuse a date of birth in the future or more than 25 years before `today`."""
    if dob > today:
        raise ValueError("Date of birth must be today or in the past")
    if dob < _years_before(today, CAF_MAX_AGE_YEARS):
        raise ValueError(
            f"Date of birth must be within the last {CAF_MAX_AGE_YEARS} years: "
            f"the {words().assessment_short} is for children and young people"
        )


def age_on(dob: date, day: date) -> int:
    """Return the age in whole years on `day`.

    Someone born on 29 February turns a year older on 1 March in other years, as in English law.
    """
    if day < dob:
        raise ValueError("Date of birth must be on or before the date the age is worked out for")
    had_birthday = (day.month, day.day) >= (dob.month, dob.day)
    return day.year - dob.year - (0 if had_birthday else 1)
