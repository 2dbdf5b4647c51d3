"""Spreadsheet formula injection ("CSV injection"), guarded once for every CSV the app writes.

A spreadsheet opening a CSV runs a cell that starts with a formula character. OWASP's advice:
prefix such a cell with a single quote, so it is shown as text. Issue 13 found the first guard
let through what spreadsheets still run: a formula after leading spaces or a line break
(" =1+1", "\\n=1+1"), full-width signs (Excel reads "＝1+1" as "=1+1" in East Asian locales) and
"|" (dynamic data exchange in older Excel and LibreOffice).
"""

import unicodedata

# What a formula, or a command, starts with: OWASP's list, "|", and the full-width forms of
# = + - @ that some spreadsheets fold to ASCII.
FORMULA_STARTS = frozenset("=+-@|\t\r\n\uff1d\uff0b\uff0d\uff20")


def _is_padding(character: str) -> bool:
    """Spaces, line breaks and invisible control or format characters (such as a zero-width
    space) that a spreadsheet may skip before reading the formula."""
    return character.isspace() or unicodedata.category(character) in ("Cc", "Cf")


def is_formula(text: str) -> bool:
    if not text:
        return False
    if text[0] in FORMULA_STARTS:
        return True
    start = next((character for character in text if not _is_padding(character)), "")
    return start in FORMULA_STARTS


def neutralised(value):
    """A cell a spreadsheet would run as a formula gets a leading apostrophe, and is shown as
    the text it is; other text, and numbers, are left as they are."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value
