"""Records as a contract lets them in and out: checked field by field against its field list
and types on the way in (with the consents their data subjects gave), and masked, consent
by consent, on the way out.

A record is a mapping of field names to values; `_consents`, which is not a field, lists the
consent codes its data subject has given. JSON values must already be of their field's type;
CSV and XML values are text, read as that type (an empty text is no value).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from models.scp.contracts import ContractTerms

CONSENTS = "_consents"
MAX_ERRORS = 100
CONSENT_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class RecordError:
    record_index: int | None  # None: the payload as a whole
    field_name: str | None
    message: str


@dataclass
class Checked:
    """What a payload holds for its contract: the records to store, how many were left out for
    a missing consent, and the faults (none, if it may be stored)."""

    records: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)
    omitted: int = 0
    errors: list[RecordError] = field(default_factory=list)


def _typed(value: Any, data_type: str, textual: bool) -> Any:
    """`value` as a value of `data_type`, or ValueError with what was expected."""
    if value is None or (textual and value == ""):
        return None
    if data_type == "string":
        if not isinstance(value, str):
            raise ValueError("Expected a string.")
        return value
    if data_type == "integer":
        if textual and isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError("Expected an integer.")
    if data_type == "number":
        if textual and isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", value):
            number = float(value)
            if math.isfinite(number):
                return number
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return value
        raise ValueError("Expected a number.")
    if data_type == "boolean":
        if textual and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, bool):
            return value
        raise ValueError("Expected true or false.")
    if not isinstance(value, str):
        raise ValueError(f"Expected a {data_type} as RFC 3339 text.")
    try:
        if data_type == "date":
            return date.fromisoformat(value).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else _bad()
        moment = datetime.fromisoformat(value.upper())
        if moment.tzinfo is None:
            raise ValueError
        return value
    except ValueError:
        raise ValueError(f"Expected a {data_type} as RFC 3339 text.") from None


def _bad() -> Any:
    raise ValueError


def _consents(value: Any, textual: bool) -> list[str]:
    if isinstance(value, str) and textual:
        value = [code for code in value.split(";") if code]
    if not isinstance(value, list) or not all(isinstance(code, str) and CONSENT_CODE.fullmatch(code) for code in value):
        raise ValueError("Expected a list of consent codes.")
    return sorted(set(value))


def check(terms: ContractTerms, rows: Sequence[Mapping[str, Any]], *, textual: bool) -> Checked:
    """Every row against the contract; faults are listed (the first 100), never half-stored."""
    checked = Checked()
    required = {consent.consent_code for consent in terms.consents}
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            checked.errors.append(RecordError(index, None, "Expected a record (an object of fields)."))
            continue
        values: dict[str, Any] = {}
        given: list[str] = []
        for name, value in row.items():
            try:
                if name == CONSENTS:
                    given = _consents(value, textual)
                elif name not in terms.fields:
                    raise ValueError("Not a field of the contract's field list.")
                else:
                    values[name] = _typed(value, terms.fields[name].data_type, textual)
            except ValueError as fault:
                checked.errors.append(RecordError(index, str(name)[:128], str(fault)))
        if len(checked.errors) >= MAX_ERRORS:
            del checked.errors[MAX_ERRORS:]
            break
        if required - set(given):
            checked.omitted += 1
        else:
            checked.records.append((values, given))
    return checked


class Masker:
    """The masking of one contract's fields for one tenant: `hash` and `tokenize` are keyed per
    tenant and contract, so the same value gives the same output under one contract only."""

    def __init__(self, secret: str, tenant_id: str, contract_id: str) -> None:
        self.key = hmac.new(secret.encode(), f"{tenant_id}\n{contract_id}".encode(), hashlib.sha256).digest()

    def mask(self, value: Any, rule: str) -> Any:
        if value is None or rule == "none":
            return value
        if rule == "redact":
            return None
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        if rule == "partial":
            # All but the last four characters; a value of four or fewer is masked whole.
            return "*" * len(text) if len(text) <= 4 else "*" * (len(text) - 4) + text[-4:]
        digest = hmac.new(self.key, text.encode(), hashlib.sha256)
        if rule == "hash":
            return digest.hexdigest()
        return "tok_" + base64.urlsafe_b64encode(digest.digest()[:18]).decode()  # tokenize


def shared(
    terms: ContractTerms, masker: Masker, fields: Mapping[str, Any], consents: Iterable[str]
) -> dict[str, Any] | None:
    """One stored record as the contract shares it: only its fields, masked, with the fields a
    missing consent covers redacted, or None when a missing consent leaves the record out."""
    given = set(consents)
    redacted: set[str] = set()
    for consent in terms.consents:
        if consent.consent_code in given:
            continue
        if consent.on_missing == "omit_record":
            return None
        redacted |= {
            name
            for name, spec in terms.fields.items()
            if consent.data_categories is None
            or (spec.data_category is not None and spec.data_category in consent.data_categories)
        }
    return {
        name: None if name in redacted else masker.mask(fields.get(name), spec.masking)
        for name, spec in terms.fields.items()
    }


def masked_fields(terms: ContractTerms) -> list[str]:
    return [name for name, spec in terms.fields.items() if spec.masking != "none"]
