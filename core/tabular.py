"""Rows of tabular data from CSV, JSON or XML: reference-data imports and data exchange read them here.

CSV is read with the standard csv module, in a stated dialect and encoding, the first line
naming the columns; JSON must be a list of objects; XML is a root element of row elements,
read by defusedxml with no DTD, entity or external reference allowed (no billion laughs,
no file or network reads). Anything else is a `TabularError` that says where the data went
wrong, never a half-read file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, ElementTree

Row = Mapping[str, Any]


class TabularError(ValueError):
    """The data is not the rows it should be; the message names the source and, if it can, the row."""


def csv_rows(data: bytes, *, source: str = "input", encoding: str = "utf-8-sig", dialect: str = "excel") -> list[Row]:
    """The rows of CSV `data`, keyed by the header line's column names."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TabularError(f"{source}: not valid {encoding} text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect, strict=True)
    try:
        rows: list[Row] = list(reader)
    except csv.Error as exc:
        raise TabularError(f"{source}, line {reader.line_num}: {exc}") from None
    if reader.fieldnames is None:
        raise TabularError(f"{source}: no header line")
    for number, row in enumerate(rows, start=1):
        if None in row:
            raise TabularError(f"{source}, row {number}: more values than the header names")
    return rows


def json_rows(data: bytes, *, source: str = "input") -> list[Row]:
    """The objects of a JSON list."""
    try:
        rows = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TabularError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise TabularError(f"{source}: expected a JSON list of objects")
    return rows


def xml_rows(data: bytes, *, source: str = "input", root: str = "records", row: str = "row") -> list[Row]:
    """The `row` elements of a `root` element, each a mapping of its child elements' names to
    their text; a child holding elements of its own is the list of their texts."""
    try:
        document = ElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError) as exc:
        raise TabularError(f"{source}: not acceptable XML ({exc})") from None
    if document.tag != root:
        raise TabularError(f"{source}: the root element must be <{root}>, not <{document.tag}>")
    rows: list[Row] = []
    for number, element in enumerate(document, start=1):
        if element.tag != row:
            raise TabularError(f"{source}, element {number}: expected <{row}>, not <{element.tag}>")
        values: dict[str, Any] = {}
        for child in element:
            if child.tag in values:
                raise TabularError(f"{source}, <{row}> {number}: <{child.tag}> given twice")
            items = list(child)
            values[child.tag] = [item.text or "" for item in items] if items else (child.text or "")
        rows.append(values)
    return rows


def read_rows(path: Path) -> list[Row]:
    """The rows of a `.json` file (a list of objects), or else of a CSV file with a header line."""
    data = path.read_bytes()
    if path.suffix.lower() == ".json":
        return json_rows(data, source=str(path))
    return csv_rows(data, source=str(path))
