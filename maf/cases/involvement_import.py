"""Reads the CSV that statutory services send of the children they are working with.

Children's social care, specialist CAMHS, youth offending and SEN/EHCP teams each export a list
of tier 3/4 involvement. The coordinator uploads it so a CAF for a child already known to one of
those services can be spotted. Exports come from many systems and are often edited in Excel, so
the parser is forgiving about layout (column order and spelling, date style, short service
names) and strict about content: every row it cannot trust is reported by line number and the
rest are still returned.
"""

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO, TextIO

from maf.cases.models import StatutoryService
from maf.cases.validation import check_date_of_birth, normalise_postcode
from maf.errors import DomainError


@dataclass(frozen=True)
class InvolvementRow:
    line: int
    given_name: str
    family_name: str
    date_of_birth: date
    postcode: str | None
    service: StatutoryService
    status: str
    contact: str


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class ParsedImport:
    rows: list[InvolvementRow]
    errors: list[RowError]


REQUIRED_COLUMNS = ("given_name", "family_name", "date_of_birth", "service")
OPTIONAL_COLUMNS = ("postcode", "status", "contact")

PROGRESS_EVERY = 1000
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SAVE_AS_CSV = "In Excel choose File, Save As, and the type CSV UTF-8, then upload that file"
# What people upload instead of a CSV, known by the first bytes of the file.
NOT_CSV_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook or other zipped file",
    b"\xd0\xcf\x11\xe0": "an old-style Excel or Word file",
    b"%PDF": "a PDF",
    b"\x89PNG": "a picture",
    b"\xff\xd8\xff": "a picture",
    b"MZ": "a program",
}


def read_upload(filename: str, stream: BinaryIO) -> str:
    """The text of an uploaded register export, or a refusal saying what to do instead.

    Checked by content as well as by name: a workbook renamed to .csv is still refused, and
    nothing larger than MAX_UPLOAD_BYTES is read into memory.
    """
    if not filename.lower().endswith((".csv", ".txt")):
        raise DomainError("The file must be a CSV file", field="file")
    raw = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise DomainError("The file must be smaller than 20 MB", field="file")
    for signature, kind in NOT_CSV_SIGNATURES.items():
        if raw.startswith(signature):
            raise DomainError(f"The file is {kind}, not a CSV file. {SAVE_AS_CSV}", field="file")
    if b"\x00" in raw:
        raise DomainError(f"The file is not a text file. {SAVE_AS_CSV}", field="file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(
            f"The file must be saved as CSV UTF-8. {SAVE_AS_CSV}", field="file"
        ) from None


MAX_NAME_LENGTH = 100

# Messages quote what the file says so the coordinator can find it, but a runaway cell (a stray
# quote mark can swallow the rest of the file) must not flood the page.
_QUOTE_LIMIT = 40

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")

_SHORT_SERVICE_NAMES = {
    "cin": StatutoryService.CHILD_IN_NEED,
    "cp": StatutoryService.CHILD_PROTECTION,
    "cpp": StatutoryService.CHILD_PROTECTION,
    "lac": StatutoryService.LOOKED_AFTER,
    "cla": StatutoryService.LOOKED_AFTER,
    "camhs": StatutoryService.SPECIALIST_CAMHS,
    "yos": StatutoryService.YOUTH_OFFENDING,
    "yot": StatutoryService.YOUTH_OFFENDING,
    "ehcp": StatutoryService.EHCP,
    "sen statement": StatutoryService.EHCP,
}
_SHORT_SERVICE_HINT = "CIN, CP, CPP, LAC, CLA, CAMHS, YOS, YOT, EHCP or SEN statement"


def _service_key(text: str) -> str:
    # Excel turns ' into ’ as people type, and systems disagree on child_in_need vs
    # "Child in need" vs child-in-need.
    text = text.replace("\u2019", "'").casefold()
    return " ".join(re.sub(r"[_\-]", " ", text).split())


_SERVICES: dict[str, StatutoryService] = {
    **{_service_key(member.value): member for member in StatutoryService},
    **{_service_key(member.label): member for member in StatutoryService},
    **_SHORT_SERVICE_NAMES,
}


def _column_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def _quoted(value: str) -> str:
    if len(value) > _QUOTE_LIMIT:
        value = value[: _QUOTE_LIMIT - 1] + "…"
    return f"'{value}'"


def _columns_sentence() -> str:
    return ", ".join(REQUIRED_COLUMNS[:-1]) + f" and {REQUIRED_COLUMNS[-1]}"


def _parse_date(raw: str) -> date:
    match = _ISO_DATE.fullmatch(raw)
    if match:
        year, month, day = match.groups()
    else:
        match = _UK_DATE.fullmatch(raw)
        if not match:
            raise ValueError(
                f"Date of birth {_quoted(raw)} is not in a format we accept: "
                "use DD/MM/YYYY or YYYY-MM-DD, like 27/03/2015"
            )
        day, month, year = match.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"Date of birth {_quoted(raw)} is not a real date") from None


def _without_bom(stream: TextIO) -> Iterator[str]:
    # Excel's "CSV UTF-8" starts with a byte order mark, which survives unless the caller
    # opened the file as utf-8-sig; left in, it would glue itself to the first column's name.
    lines = iter(stream)
    for line in lines:
        yield line.removeprefix("\ufeff")
        break
    yield from lines


def _records(stream: TextIO) -> Iterator[tuple[int, int, list[str] | None]]:
    """Yield (first line, last line, cells) per CSV record; cells is None if it was unreadable.

    Line numbers are physical lines, so a quoted cell holding a line break still leaves later
    rows numbered as a spreadsheet or text editor shows them.
    """
    reader = csv.reader(_without_bom(stream))
    last_line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield last_line + 1, reader.line_num, None
        except UnicodeDecodeError:
            raise ValueError(
                "The file is not UTF-8 text: in Excel, save it as 'CSV UTF-8' and try again"
            ) from None
        else:
            yield last_line + 1, reader.line_num, cells
        last_line = reader.line_num


def _is_blank(cells: list[str]) -> bool:
    # Excel leaves rows of bare commas where rows were cleared rather than deleted.
    return all(not cell.strip() for cell in cells)


def _read_header(
    records: Iterator[tuple[int, int, list[str] | None]],
) -> tuple[dict[str, int], int]:
    """Return where each known column is, and how many cells every row should have."""
    for _first, _last, cells in records:
        if cells is None:
            raise ValueError(
                f"The first row could not be read: it must name the columns {_columns_sentence()}"
            )
        if _is_blank(cells):
            continue
        return _header_positions(cells), len(cells)
    raise ValueError(
        f"The file is empty: the first row must name the columns {_columns_sentence()}"
    )


def _header_positions(cells: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = _column_key(cell)
        if key not in REQUIRED_COLUMNS and key not in OPTIONAL_COLUMNS:
            continue
        if key in positions:
            raise ValueError(
                f"The file has more than one '{key}' column: keep one and delete the others"
            )
        positions[key] = index
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        quoted = [f"'{column}'" for column in missing]
        names = " or ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)
        noun = "column" if len(missing) == 1 else "columns"
        raise ValueError(
            f"The file has no {names} {noun}: the first row must name the columns "
            f"{_columns_sentence()}"
        )
    return positions


def _parse_row(
    line: int, cells: list[str], positions: dict[str, int], today: date
) -> InvolvementRow | list[str]:
    """Return the row, or the reasons it was refused."""

    def cell(column: str) -> str:
        index = positions.get(column)
        return "" if index is None else cells[index].strip()

    problems: list[str] = []

    given_name, family_name = cell("given_name"), cell("family_name")
    if not given_name and not family_name:
        problems.append("Given name and family name are both blank: enter at least one")
    for label, name in (("Given name", given_name), ("Family name", family_name)):
        if len(name) > MAX_NAME_LENGTH:
            problems.append(f"{label} is longer than {MAX_NAME_LENGTH} characters")

    date_of_birth: date | None = None
    raw_dob = cell("date_of_birth")
    if not raw_dob:
        problems.append("Date of birth is blank")
    else:
        try:
            date_of_birth = _parse_date(raw_dob)
            check_date_of_birth(date_of_birth, today)
        except ValueError as error:
            problems.append(str(error))

    postcode: str | None = None
    raw_postcode = cell("postcode")
    if raw_postcode:
        try:
            postcode = normalise_postcode(raw_postcode)
        except ValueError:
            problems.append(f"Postcode {_quoted(raw_postcode)} is not a real UK postcode")

    raw_service = cell("service")
    service = _SERVICES.get(_service_key(raw_service))
    if not raw_service:
        problems.append("Service is blank")
    elif service is None:
        values = ", ".join(member.value for member in StatutoryService)
        problems.append(
            f"Service {_quoted(raw_service)} is not one of: {values} "
            f"(the full names and {_SHORT_SERVICE_HINT} also work)"
        )

    raw_status = cell("status")
    status = raw_status.casefold() or "open"
    if status not in ("open", "closed"):
        problems.append(f"Status {_quoted(raw_status)} must be open or closed")

    if problems or date_of_birth is None or service is None:
        return problems
    return InvolvementRow(
        line=line,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        postcode=postcode,
        service=service,
        status=status,
        contact=cell("contact"),
    )


def parse_involvement_csv(
    stream: TextIO, today: date, on_progress: Callable[[int], None] | None = None
) -> ParsedImport:
    """Read a statutory-service involvement CSV into good rows and per-line errors.

    Raises ValueError only for problems with the whole file: no header, a required column
    missing or named twice, or text that is not UTF-8. `on_progress` is called with the current
    line number after every 1000 data rows.
    """
    records = _records(stream)
    positions, width = _read_header(records)
    result = ParsedImport(rows=[], errors=[])
    data_rows = 0
    for first, last, cells in records:
        if cells is not None and _is_blank(cells):
            continue
        data_rows += 1
        if cells is None:
            result.errors.append(
                RowError(
                    first,
                    "This row could not be read: check for a stray quote mark, "
                    "a line break inside a cell or a cell that is too long",
                )
            )
        elif len(cells) != width:
            result.errors.append(RowError(first, _width_message(len(cells), width, first, last)))
        else:
            parsed = _parse_row(first, cells, positions, today)
            if isinstance(parsed, InvolvementRow):
                result.rows.append(parsed)
            else:
                result.errors.extend(RowError(first, message) for message in parsed)
        if on_progress is not None and data_rows % PROGRESS_EVERY == 0:
            on_progress(last)
    return result


def _width_message(cells: int, width: int, first: int, last: int) -> str:
    message = f"This row has {cells} cells but the first row names {width} columns"
    if last > first:
        # A quote mark left open joins the following lines into this row.
        return f"{message}: it runs on to line {last}, so check for a stray quote mark"
    return f"{message}: check for missing or extra commas"
