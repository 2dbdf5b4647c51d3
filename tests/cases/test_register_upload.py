"""Uploading a register export through the page: checked for type and size by content as well
as by name (issue 8: "uploads checked for type and size"), refusals shown beside the file field,
and nothing imported from a refused file."""

import io

import pytest
from sqlalchemy import func, select

from maf.cases.involvement_import import MAX_UPLOAD_BYTES
from maf.cases.models import InvolvementRecord
from maf.extensions import db
from tests.conftest import csrf_token_from

HEADER = b"given_name,family_name,date_of_birth,postcode,service,status,contact\n"
GOOD_ROW = b"Jessica,Thompson,2014-03-09,LE11 3AB,CIN,open,\n"


def _upload(client, content: bytes, filename: str):
    token = csrf_token_from(client.get("/cases/register").text)
    return client.post(
        "/cases/register",
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def _records() -> int:
    return db.session.scalar(select(func.count()).select_from(InvolvementRecord))


@pytest.fixture
def signed_in_coordinator(client, coordinator, sign_in):
    sign_in(coordinator)
    return client


def test_a_csv_is_imported(signed_in_coordinator):
    response = _upload(signed_in_coordinator, HEADER + GOOD_ROW, "cin-export.csv")
    assert "1 row imported; 0 rows not imported" in response.text
    assert _records() == 1


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (HEADER + GOOD_ROW, "export.xlsx", "The file must be a CSV file"),
        (b"PK\x03\x04" + b"\x00" * 200, "export.csv", "an Excel workbook or other zipped file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, "export.csv", "old-style Excel"),
        (b"%PDF-1.7\n" + HEADER, "export.csv", "a PDF"),
        (b"MZ\x90\x00" + b"\x00" * 60, "export.csv", "a program"),
        (HEADER + b"Jo,Smith\x00,2014-03-09,,CIN,,\n", "export.csv", "not a text file"),
        (HEADER + "Zoë,Smith,2014-03-09,,CIN,,\n".encode("cp1252"), "export.csv", "CSV UTF-8"),
    ],
    ids=["name", "xlsx", "xls", "pdf", "exe", "nul", "cp1252"],
)
def test_a_file_that_is_not_a_utf8_csv_is_refused_beside_the_field(
    signed_in_coordinator, content, filename, message
):
    response = _upload(signed_in_coordinator, content, filename)
    assert response.status_code == 200
    assert 'id="file-error"' in response.text and message in response.text
    assert 'href="#file"' in response.text, "the error summary links to the field"
    assert _records() == 0


def test_a_file_over_20_mb_is_refused_without_importing_any_of_it(signed_in_coordinator):
    padding = b"Jessica,Thompson,2014-03-09,LE11 3AB,CIN,open,\n"
    content = HEADER + padding * (MAX_UPLOAD_BYTES // len(padding) + 1)
    assert (
        MAX_UPLOAD_BYTES
        < len(content)
        < signed_in_coordinator.application.config["MAX_CONTENT_LENGTH"]
    )
    response = _upload(signed_in_coordinator, content, "export.csv")
    assert "The file must be smaller than 20 MB" in response.text
    assert _records() == 0


def test_a_request_bigger_than_any_upload_gets_the_too_big_page(signed_in_coordinator):
    limit = signed_in_coordinator.application.config["MAX_CONTENT_LENGTH"]
    response = _upload(signed_in_coordinator, b"x" * (limit + 1), "export.csv")
    assert response.status_code == 413
    assert "The file is too big" in response.text
    assert _records() == 0
