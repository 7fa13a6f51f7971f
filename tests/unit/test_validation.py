"""Field paths and messages of the request validators, without HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from core.validation import MAX_ERRORS, SchemaValidator, describe, field_path

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
                "properties": {
                    "productId": {"type": "string", "nullable": True},
                    "quantity": {"type": "integer", "format": "int32"},
                    "day": {"type": "string", "format": "date"},
                },
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
        ({"items": [{"productId": None, "quantity": 1}]}, {}),
        ({}, {"items": ["This field is required."]}),
        ({"items": [], "extra": 1}, {"extra": ["Unknown property."], "items": ["Must contain at least 1 item(s)."]}),
        ({"items": [{"quantity": 2**31}]}, {
            "items[0].productId": ["This field is required."],
            "items[0].quantity": ["Must be a valid int32."],
        }),
        ({"items": [{"productId": 1, "quantity": -(2**31) - 1}]}, {
            "items[0].productId": ["Must be of type string or null."],
            "items[0].quantity": ["Must be a valid int32."],
        }),
        ({"items": [{"productId": "A", "quantity": 1, "day": "2026-02-30"}]}, {
            "items[0].day": ["Must be a valid date."],
        }),
    ],
)  # fmt: skip
def test_errors_are_grouped_by_field(body: Any, errors: dict[str, list[str]]) -> None:
    validator = SchemaValidator(SCHEMA)

    assert validator.is_valid(body) is (errors == {})
    assert validator.errors(body) == errors


def test_errors_are_bounded() -> None:
    validator = SchemaValidator({"type": "array", "items": {"type": "integer"}})

    errors = validator.errors(["x"] * (MAX_ERRORS * 10))

    assert len(errors) == MAX_ERRORS


def test_deeper_errors_come_first() -> None:
    validator = SchemaValidator(SCHEMA)

    errors = validator.errors({"items": [{"productId": "A", "quantity": "x"}], "extra": True})

    assert list(errors) == ["items[0].quantity", "extra"]


@pytest.mark.parametrize(
    ("keyword", "value", "schema", "message"),
    [
        ("minimum", 1, {"minimum": 1}, "Must be greater than or equal to 1."),
        ("minimum", 0, {"minimum": 0, "exclusiveMinimum": True}, "Must be greater than 0."),
        ("exclusiveMinimum", True, {"minimum": 0, "exclusiveMinimum": True}, "Must be greater than 0."),
        ("maximum", 2**63 - 1, {"maximum": 2**63 - 1, "format": "int64"}, "Must be a valid int64."),
        ("enum", ["a", "b"], {}, "Must be one of: a, b."),
        ("pattern", "^x$", {}, "Must match the pattern ^x$."),
        ("not", {}, {}, "Invalid value."),
    ],
)
def test_describe(keyword: str, value: Any, schema: dict[str, Any], message: str) -> None:
    assert describe(keyword, value, schema) == message


def test_a_conditional_requirement_names_the_field_it_requires() -> None:
    """OpenAPI 3.0 writes "B is required when A is V" as a `not`; the message says so."""
    schema = {
        "type": "object",
        "properties": {"reason_code": {"type": "string"}, "reason_text": {"type": "string"}},
        "not": {
            "required": ["reason_code"],
            "properties": {"reason_code": {"type": "string", "enum": ["OTHER"]}},
            "not": {"required": ["reason_text"]},
        },
    }
    validator = SchemaValidator(schema)
    assert validator.is_valid({"reason_code": "OTHER", "reason_text": "Why."})
    assert validator.is_valid({"reason_code": "MISCONFIGURATION"})
    assert validator.errors({"reason_code": "OTHER"}) == {
        "reason_text": ["reason_text is required when reason_code is OTHER."]
    }
