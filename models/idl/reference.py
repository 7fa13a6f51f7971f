"""Reference data from JobCost (projects, cost codes) and Timberline (vendors), and tax codes.

The integrations are not called per request: their exports are imported into local tables
(`partner-gateway idl import …`, from CSV or JSON), and every read is served from there.
`spent` is what approved (or since closed) purchase orders commit, read from the P/Os
themselves, so it is always current.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from core.tabular import TabularError, read_rows
from core.unit_of_work import UnitOfWork
from models.idl.repositories import ReferenceRepository
from models.idl.tables import CostCode, Project, PurchaseOrder, TaxCode, Vendor


@dataclass(frozen=True)
class WithSpending:
    """A project or cost code with what approved P/Os commit against its budget."""

    item: Any
    spent: Decimal

    @property
    def remaining(self) -> Decimal:
        return Decimal(self.item.budget) - self.spent


class Reference:
    def __init__(self, unit: UnitOfWork) -> None:
        self.rows = ReferenceRepository(unit)

    def projects(self, project_ids: Sequence[str] | None, active: bool, search: str | None) -> list[WithSpending]:
        """Projects, by id; `project_ids` None means every project (admin)."""
        projects = self.rows.projects(project_ids, "active" if active else "inactive", search)
        spent = self.rows.spending(PurchaseOrder.project_id)
        return [WithSpending(project, spent.get(project.id, Decimal(0))) for project in projects]

    def project(self, project_id: str) -> Project | None:
        return self.rows.project(project_id)

    def cost_codes(self, project_id: str) -> list[WithSpending]:
        codes = self.rows.cost_codes(project_id)
        spent = self.rows.spending(PurchaseOrder.cost_code, project_id=project_id)
        return [WithSpending(code, spent.get(code.id, Decimal(0))) for code in codes]

    def vendors(self, active: bool | None, search: str | None) -> Sequence[Vendor]:
        return self.rows.vendors(active, search)


# Imports ----------------------------------------------------------------------------------


class ReferenceImportError(ValueError):
    """A row of an import file is not valid; the message names the file and row."""


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _required(value: Any) -> str:
    text = _text(value)
    if text is None:
        raise ValueError("is required")
    return text


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not an amount") from exc


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "y", "active", ""}:
        return True
    if text in {"false", "0", "no", "n", "inactive"}:
        return False
    raise ValueError(f"{value!r} is not true or false")


def _day(value: Any) -> date | None:
    text = _text(value)
    return date.fromisoformat(text) if text else None


def _status(value: Any) -> str:
    status = (_text(value) or "active").lower()
    if status not in {"active", "inactive"}:
        raise ValueError(f"{value!r} is not active or inactive")
    return status


FIELDS: dict[type[Any], dict[str, Callable[[Any], Any]]] = {
    Project: {
        "id": _required,
        "job_number": _required,
        "name": _required,
        "status": _status,
        "budget": _money,
        "start_date": _day,
        "end_date": _day,
    },
    CostCode: {
        "project_id": _required,
        "id": _required,
        "code": _required,
        "description": _required,
        "category": _required,
        "budget": _money,
        "active": _flag,
    },
    Vendor: {
        "id": _required,
        "name": _required,
        "email": _text,
        "phone": _text,
        "address": _text,
        "payment_terms": _text,
        "active": _flag,
    },
    TaxCode: {"code": _required, "description": _required, "rate": _money},
}
KINDS: dict[str, type[Any]] = {"projects": Project, "cost-codes": CostCode, "vendors": Vendor, "tax-codes": TaxCode}


def parse(kind: str, rows: Iterable[Mapping[str, Any]], source: str) -> list[dict[str, Any]]:
    fields = FIELDS[KINDS[kind]]
    parsed = []
    for number, row in enumerate(rows, start=1):
        values = {}
        for name, convert in fields.items():
            try:
                values[name] = convert(row.get(name))
            except ValueError as exc:
                raise ReferenceImportError(f"{source}, row {number}: {name} {exc}") from exc
        parsed.append(values)
    return parsed


def import_rows(unit: UnitOfWork, kind: str, rows: Iterable[Mapping[str, Any]], source: str = "input") -> int:
    """Insert or update every row (matched by id); returns how many rows were imported."""
    model = KINDS[kind]
    records = parse(kind, rows, source)
    reference = ReferenceRepository(unit)
    for number, values in enumerate(records, start=1):
        if model is CostCode and reference.project(values["project_id"]) is None:
            project_id = values["project_id"]
            raise ReferenceImportError(f"{source}, row {number}: project_id {project_id} is not a known project")
        reference.merge(model(**values))
    return len(records)


def import_file(unit: UnitOfWork, kind: str, path: Path) -> int:
    try:
        rows = read_rows(path)
    except TabularError as exc:
        raise ReferenceImportError(str(exc)) from exc
    return import_rows(unit, kind, rows, str(path))
