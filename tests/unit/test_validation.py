"""Field paths and messages of the request validators, without HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft4Validator

from core.validation import FORMAT_CHECKER, collect, field_path

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["productId", "quantity"],
                "properties": {"productId": {"type": "string"}, "quantity": {"type": "integer", "format": "int32"}},
            },
        }
    },
}


@pytest.mark.parametrize(
    ("parts", "expected"),
    [([], "$"), (["items"], "items"), (["items", 0, "quantity"], "items[0].quantity"), ([2], "[2]")],
)
def test_field_path(parts: list[str | int], expected: str) -> None:
    assert field_path(parts) == expected


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"items": [{"productId": "A", "quantity": 1}]}, {}),
        ({}, {"items": ["This field is required."]}),
        ({"items": [], "extra": 1}, {"extra": ["Unknown property."], "items": ["Must contain at least 1 item(s)."]}),
        ({"items": [{"quantity": 2**31}]}, {
            "items[0].productId": ["This field is required."],
            "items[0].quantity": ["Must be a valid int32."],
        }),
    ],
)  # fmt: skip
def test_collect_groups_every_error_by_field(body: Any, errors: dict[str, list[str]]) -> None:
    validator = Draft4Validator(SCHEMA, format_checker=FORMAT_CHECKER)

    assert collect(validator.iter_errors(body)) == errors


@pytest.mark.parametrize(("value", "valid"), [(2**31 - 1, True), (-(2**31), True), (2**31, False), (True, True)])
def test_int32_bounds(value: int, valid: bool) -> None:
    assert FORMAT_CHECKER.conforms(value, "int32") is valid
