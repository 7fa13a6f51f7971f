"""Rows from CSV or JSON, refused with a message naming where the data went wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.tabular import TabularError, csv_rows, json_rows, read_rows


def test_csv_rows_are_keyed_by_the_header_line() -> None:
    rows = csv_rows(b'\xef\xbb\xbfid,name\n1,"Smith, J."\n2,\xc3\xa9t\xc3\xa9\n')

    assert rows == [{"id": "1", "name": "Smith, J."}, {"id": "2", "name": "été"}]


def test_csv_in_another_dialect_and_encoding() -> None:
    rows = csv_rows("id;name\n1;Müller\n".encode("cp1252"), encoding="cp1252", dialect="excel-tab")

    assert rows == [{"id;name": "1;Müller"}], "the tab dialect does not split on semicolons"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"id,name\n1,a,extra\n", "row 1: more values than the header names", id="extra-value"),
        pytest.param(b"id,name\n\xff\n", "not valid utf-8-sig text", id="not-utf-8"),
        pytest.param(b"", "no header line", id="empty"),
        pytest.param(b'id,name\n1,"unterminated\n', "line", id="broken-quoting"),
    ],
)
def test_bad_csv_is_refused_saying_where(data: bytes, message: str) -> None:
    with pytest.raises(TabularError, match=message):
        csv_rows(data, source="vendors.csv")


def test_json_rows_must_be_a_list_of_objects() -> None:
    assert json_rows(b'[{"id": 1}]') == [{"id": 1}]
    with pytest.raises(TabularError, match="expected a JSON list of objects"):
        json_rows(b'{"id": 1}')
    with pytest.raises(TabularError, match="not valid JSON"):
        json_rows(b"[{")


def test_a_file_is_read_by_its_suffix(tmp_path: Path) -> None:
    (tmp_path / "rows.json").write_text('[{"a": "1"}]')
    (tmp_path / "rows.csv").write_text("a\n1\n")

    assert read_rows(tmp_path / "rows.json") == read_rows(tmp_path / "rows.csv") == [{"a": "1"}]
