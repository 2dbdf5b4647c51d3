import io
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maf.cases.involvement_import import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    InvolvementRow,
    ParsedImport,
    RowError,
    parse_involvement_csv,
)
from maf.cases.models import StatutoryService

TODAY = date(2026, 11, 22)
HEADER = "given_name,family_name,date_of_birth,postcode,service,status,contact\n"


def parse(text: str, **kwargs) -> ParsedImport:
    return parse_involvement_csv(io.StringIO(text), TODAY, **kwargs)


def errors_by_line(result: ParsedImport) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for error in result.errors:
        found.setdefault(error.line, []).append(error.message)
    return found


def test_columns_are_as_documented():
    assert REQUIRED_COLUMNS == ("given_name", "family_name", "date_of_birth", "service")
    assert OPTIONAL_COLUMNS == ("postcode", "status", "contact")


def test_good_file():
    result = parse(
        HEADER
        + "Amelia,Okafor,2015-03-27,le113tu,child_in_need,open,Duty team 0116 305 0005\n"
        + "Zoë,Ní Bhriain,7/9/2012,,Specialist CAMHS,Closed,\n"
        + "Kai,,27/03/2015, LE11  3TU ,cpp,,kai.worker@example.gov.uk\n"
    )
    assert result.errors == []
    assert result.rows == [
        InvolvementRow(
            line=2,
            given_name="Amelia",
            family_name="Okafor",
            date_of_birth=date(2015, 3, 27),
            postcode="LE11 3TU",
            service=StatutoryService.CHILD_IN_NEED,
            status="open",
            contact="Duty team 0116 305 0005",
        ),
        InvolvementRow(
            line=3,
            given_name="Zoë",
            family_name="Ní Bhriain",
            date_of_birth=date(2012, 9, 7),
            postcode=None,
            service=StatutoryService.SPECIALIST_CAMHS,
            status="closed",
            contact="",
        ),
        InvolvementRow(
            line=4,
            given_name="Kai",
            family_name="",
            date_of_birth=date(2015, 3, 27),
            postcode="LE11 3TU",
            service=StatutoryService.CHILD_PROTECTION,
            status="open",
            contact="kai.worker@example.gov.uk",
        ),
    ]


def test_header_names_are_forgiving_and_in_any_order_with_extra_columns_ignored():
    result = parse(
        " Service ,Date of birth,Family-Name,GIVEN NAME,Case ID\nYOT,01/02/2010,Smith,Jo,ABC123\n"
    )
    assert result.errors == []
    [row] = result.rows
    assert (row.given_name, row.family_name, row.date_of_birth) == ("Jo", "Smith", date(2010, 2, 1))
    assert row.service is StatutoryService.YOUTH_OFFENDING
    # Optional columns left out entirely.
    assert (row.postcode, row.status, row.contact) == (None, "open", "")


@pytest.mark.parametrize(
    ("typed", "service"),
    [
        ("child_in_need", StatutoryService.CHILD_IN_NEED),
        ("CIN", StatutoryService.CHILD_IN_NEED),
        ("Children's social care: child in need", StatutoryService.CHILD_IN_NEED),
        ("children\u2019s social care: child in need", StatutoryService.CHILD_IN_NEED),
        ("child-in-need", StatutoryService.CHILD_IN_NEED),
        ("CP", StatutoryService.CHILD_PROTECTION),
        ("CPP", StatutoryService.CHILD_PROTECTION),
        ("child_protection", StatutoryService.CHILD_PROTECTION),
        ("LAC", StatutoryService.LOOKED_AFTER),
        ("cla", StatutoryService.LOOKED_AFTER),
        ("Children's social care: looked after", StatutoryService.LOOKED_AFTER),
        ("CAMHS", StatutoryService.SPECIALIST_CAMHS),
        ("specialist_camhs", StatutoryService.SPECIALIST_CAMHS),
        ("YOS", StatutoryService.YOUTH_OFFENDING),
        ("Youth offending service", StatutoryService.YOUTH_OFFENDING),
        ("EHCP", StatutoryService.EHCP),
        ("SEN statement", StatutoryService.EHCP),
        ("sen  statement", StatutoryService.EHCP),
        ("Education, health and care plan or SEN statement", StatutoryService.EHCP),
    ],
)
def test_service_names(typed, service):
    result = parse(f'given_name,family_name,date_of_birth,service\nJo,Smith,2015-01-01,"{typed}"\n')
    assert result.errors == []
    assert result.rows[0].service is service


def test_every_label_is_understood():
    lines = [f'Jo,Smith,2015-01-01,"{member.label}"' for member in StatutoryService]
    result = parse("given_name,family_name,date_of_birth,service\n" + "\n".join(lines))
    assert result.errors == []
    assert [row.service for row in result.rows] == list(StatutoryService)


def test_every_kind_of_bad_row_is_reported_on_its_line_and_good_rows_survive():
    long_name = "A" * 101
    text = (
        HEADER  # line 1
        + "Good,One,2015-03-27,,CIN,,\n"  # 2
        + "Bad,Date,31/02/2015,,CIN,,\n"  # 3
        + "Bad,Format,2015.03.27,,CIN,,\n"  # 4
        + "Future,Child,23/11/2026,,CIN,,\n"  # 5
        + "Too,Old,21/11/2001,,CIN,,\n"  # 6
        + "Bad,Service,2015-03-27,,XYZ,,\n"  # 7
        + "Bad,Status,2015-03-27,,CIN,pending,\n"  # 8
        + ",,2015-03-27,,CIN,,\n"  # 9
        + f"{long_name},Long,2015-03-27,,CIN,,\n"  # 10
        + "Bad,Postcode,2015-03-27,LE11,CIN,,\n"  # 11
        + "Too,Few,2015-03-27,,CIN\n"  # 12
        + "Too,Many,2015-03-27,,CIN,,,extra\n"  # 13
        + "Blank,Date,,,CIN,,\n"  # 14
        + "Blank,Service,2015-03-27,,,,\n"  # 15
        + "Several,,not a date,,,maybe,\n"  # 16
        + "Good,Two,2001-11-22,,EHCP,closed,\n"  # 17: exactly 25 years old today
    )
    result = parse(text)
    assert [(row.line, row.given_name) for row in result.rows] == [(2, "Good"), (17, "Good")]
    assert errors_by_line(result) == {
        3: ["Date of birth '31/02/2015' is not a real date"],
        4: [
            "Date of birth '2015.03.27' is not in a format we accept: "
            "use DD/MM/YYYY or YYYY-MM-DD, like 27/03/2015"
        ],
        5: ["Date of birth must be today or in the past"],
        6: [
            "Date of birth must be within the last 25 years: "
            "the CAF is for children and young people"
        ],
        7: [
            "Service 'XYZ' is not one of: child_in_need, child_protection, looked_after, "
            "specialist_camhs, youth_offending, ehcp (the full names and CIN, CP, CPP, LAC, "
            "CLA, CAMHS, YOS, YOT, EHCP or SEN statement also work)"
        ],
        8: ["Status 'pending' must be open or closed"],
        9: ["Given name and family name are both blank: enter at least one"],
        10: ["Given name is longer than 100 characters"],
        11: ["Postcode 'LE11' is not a real UK postcode"],
        12: [
            "This row has 5 cells but the first row names 7 columns: check for missing or "
            "extra commas"
        ],
        13: [
            "This row has 8 cells but the first row names 7 columns: check for missing or "
            "extra commas"
        ],
        14: ["Date of birth is blank"],
        15: ["Service is blank"],
        16: [
            "Date of birth 'not a date' is not in a format we accept: "
            "use DD/MM/YYYY or YYYY-MM-DD, like 27/03/2015",
            "Service is blank",
            "Status 'maybe' must be open or closed",
        ],
    }


def test_names_of_exactly_100_characters_and_any_script_are_kept_as_typed():
    name = "Ł" * 100
    result = parse(
        "given_name,family_name,date_of_birth,service\n"
        f"  {name}  ,\u674e,2015-01-01,CIN\n"
        "\u0645\u062d\u0645\u062f,,2015-01-01,CIN\n"
    )
    assert result.errors == []
    assert [(row.given_name, row.family_name) for row in result.rows] == [
        (name, "\u674e"),
        ("\u0645\u062d\u0645\u062f", ""),
    ]


def test_cells_that_look_like_spreadsheet_formulas_are_kept_as_text():
    result = parse(
        HEADER
        + '=HYPERLINK("http://example.com"),+Smith,2015-01-01,,CIN,,@team\n'
        + "-Jo,=1+1,2015-01-01,,CIN,,=cmd|' /C calc'!A0\n"
    )
    assert result.errors == []
    assert [(row.given_name, row.family_name, row.contact) for row in result.rows] == [
        ('=HYPERLINK("http://example.com")', "+Smith", "@team"),
        ("-Jo", "=1+1", "=cmd|' /C calc'!A0"),
    ]


def test_blank_lines_and_rows_of_empty_cells_are_skipped_without_shifting_line_numbers():
    result = parse(HEADER + "\n" + ",,,,,,\n" + "   \n" + "Jo,Smith,2015-01-01,,CIN,,\n" + "\n")
    assert result.errors == []
    assert [row.line for row in result.rows] == [5]


def test_a_quoted_line_break_keeps_later_line_numbers_true():
    result = parse(
        HEADER
        + 'Jo,Smith,2015-01-01,,CIN,,"Team A\nextension 4"\n'  # lines 2-3
        + "Bad,Row,2015-01-01,,XYZ,,\n"  # line 4
    )
    assert result.rows[0].contact == "Team A\nextension 4"
    assert [error.line for error in result.errors] == [4]


def test_a_stray_quote_mark_is_reported_on_the_line_it_starts():
    result = parse(HEADER + 'Jo,"Smith,2015-01-01,,CIN,,\nAl,Jones,2015-01-01,,CIN,,\n')
    assert result.rows == []
    assert result.errors == [
        RowError(
            2,
            "This row has 2 cells but the first row names 7 columns: it runs on to line 3, "
            "so check for a stray quote mark",
        )
    ]


def test_an_unreadable_row_is_reported_and_reading_carries_on():
    # A bare carriage return inside a line (a Mac-era export) is not valid CSV.
    result = parse(HEADER + "Jo,Sm\rith,2015-01-01,,CIN,,\n" + "Al,Jones,2015-01-01,,CIN,,\n")
    assert [row.line for row in result.rows] == [3]
    assert result.errors == [
        RowError(
            2,
            "This row could not be read: check for a stray quote mark, "
            "a line break inside a cell or a cell that is too long",
        )
    ]


def test_an_enormous_cell_is_a_row_error():
    # Python's csv module refuses cells over 131,072 characters; that must not stop the import.
    huge = '"' + "y" * 200_000 + '"'
    result = parse(HEADER + f"Jo,{huge},2015-01-01,,CIN,,\n" + "Al,Jones,2015-01-01,,CIN,,\n")
    assert [row.line for row in result.rows] == [3]
    assert [error.line for error in result.errors] == [2]


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("given_name,family_name,service\n", "The file has no 'date_of_birth' column: "),
        ("given_name,family_name\n", "The file has no 'date_of_birth' or 'service' columns: "),
        ("name,dob\n", "The file has no 'given_name', 'family_name', 'date_of_birth' or 'service'"),
        ("Jo,Smith,2015-01-01,CIN\n", "The file has no 'given_name', 'family_name'"),
    ],
)
def test_a_missing_required_column_is_a_file_level_error(header, missing):
    with pytest.raises(ValueError) as raised:
        parse(header + "Jo,Smith,2015-01-01,CIN\n")
    message = str(raised.value)
    assert message.startswith(missing)
    assert message.endswith(
        "the first row must name the columns given_name, family_name, date_of_birth and service"
    )


def test_an_empty_file_is_a_file_level_error():
    for text in ("", "\n\n", ",,,\n"):
        with pytest.raises(ValueError, match="^The file is empty: the first row must name"):
            parse(text)


def test_a_column_named_twice_is_a_file_level_error():
    with pytest.raises(ValueError, match="^The file has more than one 'service' column"):
        parse("given_name,family_name,date_of_birth,service,Service\n")


def test_a_header_with_no_rows_is_an_empty_import():
    assert parse(HEADER) == ParsedImport(rows=[], errors=[])


@pytest.mark.parametrize("bom_line", ["\ufeff" + HEADER, '\ufeff"given_name"' + HEADER[10:]])
def test_a_utf8_byte_order_mark_is_ignored(bom_line):
    result = parse(bom_line + "Jo,Smith,2015-01-01,,CIN,,\n")
    assert result.errors == []
    assert result.rows[0].given_name == "Jo"


def test_a_file_read_with_a_bom_and_windows_line_endings_from_disk(tmp_path):
    path = tmp_path / "export.csv"
    text = HEADER + "Jo,Smith,27/03/2015,LE11 3TU,LAC,Open,Team\n" + "Al,,2015-01-01,,X,,\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    with path.open(encoding="utf-8", newline="") as stream:
        result = parse_involvement_csv(stream, TODAY)
    assert [(row.line, row.given_name, row.contact) for row in result.rows] == [(2, "Jo", "Team")]
    assert [error.line for error in result.errors] == [3]


def test_windows_line_endings_in_a_string():
    text = HEADER + "Jo,Smith,2015-01-01,,CIN,,\n\nAl,,bad,,CIN,,\n"
    result = parse(text.replace("\n", "\r\n"))
    assert [row.line for row in result.rows] == [2]
    assert [(row.given_name, row.contact) for row in result.rows] == [("Jo", "")]
    assert [error.line for error in result.errors] == [4]


def test_a_file_that_is_not_utf8_is_a_file_level_error(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(HEADER.encode() + "Zoë,Smith,2015-01-01,,CIN,,\n".encode("cp1252"))
    with (
        path.open(encoding="utf-8", newline="") as stream,
        pytest.raises(ValueError, match="^The file is not UTF-8 text"),
    ):
        parse_involvement_csv(stream, TODAY)


def test_ten_thousand_rows_with_progress_every_thousand():
    rows = [f"Child{n},Family{n},2015-01-01,LE11 3TU,CIN,open,Team {n}\n" for n in range(10_000)]
    rows[4_999] = "Bad,Row,2015-01-01,LE11 3TU,XYZ,open,\n"  # line 5001
    seen: list[int] = []
    result = parse(HEADER + "".join(rows), on_progress=seen.append)
    assert len(result.rows) == 9_999
    assert [error.line for error in result.errors] == [5_001]
    # The header is line 1, so the 1000th row is on line 1001.
    assert seen == [1_001 + 1_000 * n for n in range(10)]


_CELL_TEXT = st.text(max_size=30) | st.sampled_from(
    ["", "2015-01-01", "1/2/2015", "31/02/2015", "CIN", "closed", '"', "=1+1"]
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_CELL_TEXT, max_size=9), max_size=8))
def test_any_cells_under_a_good_header_give_rows_or_row_errors_never_an_exception(table):
    body = "\n".join(",".join(cells) for cells in table)
    result = parse(HEADER + body)
    for error in result.errors:
        assert error.line >= 2
        assert error.message


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_at_all_gives_a_result_or_a_file_level_value_error(text):
    try:
        result = parse(text)
    except ValueError as error:
        assert str(error).startswith(("The file ", "The first row could not be read"))
    else:
        assert isinstance(result, ParsedImport)


def _blank(line: str) -> bool:
    return all(not cell.strip() for cell in line.split(","))


# Any text at all, and text made of a register's own characters (so that some rows are good).
ANY_TEXT = st.text(max_size=300) | st.text(alphabet='Amy,Lee 27/3/2015-cin\n\t"\r', max_size=300)


@given(ANY_TEXT)
def test_any_text_after_a_good_header_is_imported_or_reported_line_by_line(text):
    """The coordinator is told "N rows imported; M rows not imported": every row of the file is
    one or the other, by a line number the file has, and none is silently dropped."""
    source = HEADER + text
    result = parse(source)
    imported = [row.line for row in result.rows]
    refused = sorted({error.line for error in result.errors})
    lines_in_file = len(source.split("\n")) - (1 if source.endswith("\n") else 0)
    assert all(2 <= line <= lines_in_file for line in imported + refused), (imported, refused)
    assert len(set(imported)) == len(imported) and not set(imported) & set(refused)
    assert all(error.message.strip() for error in result.errors)
    if '"' not in text and "\r" not in text:
        # Without quotes every line is one row: count the rows that are not blank.
        rows = [line for line in text.split("\n") if not _blank(line)]
        assert len(imported) + len(refused) == len(rows)
