"""CPRAS's own procurement data, and what PrintPLANR is told of it: the supplier context, and the
supplier and buyer hand-off payloads.

The data is CPRAS's, imported from its exports (`partner-gateway cpras import KIND FILE`,
from CSV or JSON, rows matched by id). Every payload carries only the fields the source
document lists: no contact beyond the one e-mail it names, no people.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.tabular import TabularError, read_rows
from core.unit_of_work import UnitOfWork
from models.cpras.tables import Buyer, Contract, ContractLot, Framework, Lot, Project, Supplier

PRICING_DISPLAYS = ("as_is", "with_margin")


@dataclass(frozen=True)
class Current:
    """A supplier's contract in effect on a day, with its lots in effect then."""

    contract: Contract
    project: Project
    lots: Sequence[tuple[Lot, ContractLot]]


class Procurement:
    def __init__(self, unit: UnitOfWork) -> None:
        self.session = unit.session

    def supplier(self, supplier_id: str) -> Supplier | None:
        return self.session.get(Supplier, supplier_id)

    def buyer(self, buyer_id: str) -> Buyer | None:
        return self.session.get(Buyer, buyer_id)

    def current_contract(self, supplier_id: str, today: date) -> Current | None:
        """Of the supplier's contracts with a lot in effect `today`, the one that started last."""
        rows = self.session.execute(
            select(Contract, Project, Lot, ContractLot)
            .join(Project, Project.project_id == Contract.project_id)
            .join(ContractLot, ContractLot.contract_id == Contract.contract_id)
            .join(Lot, Lot.lot_id == ContractLot.lot_id)
            .where(
                Contract.supplier_id == supplier_id,
                ContractLot.effective_from <= today,
                ContractLot.effective_to >= today,
            )
            .order_by(Contract.contract_id, Lot.lot_code, Lot.lot_id)
        ).all()
        by_contract: dict[str, list[Any]] = {}
        for row in rows:
            by_contract.setdefault(row.Contract.contract_id, []).append(row)
        if not by_contract:
            return None
        latest = max(
            by_contract.values(),
            key=lambda group: (max(r.ContractLot.effective_from for r in group), group[0].Contract.contract_id),
        )
        first = latest[0]
        return Current(first.Contract, first.Project, [(row.Lot, row.ContractLot) for row in latest])

    def context(self, supplier_id: str, today: date) -> dict[str, Any] | None:
        """The `SupplierContext` of a supplier, or None if it has no contract in effect."""
        supplier = self.supplier(supplier_id)
        current = self.current_contract(supplier_id, today) if supplier else None
        if supplier is None or current is None:
            return None
        return {
            "supplier_id": supplier.supplier_id,
            "company_name": supplier.company_name,
            "primary_email": supplier.primary_email,
            "framework": _framework(current),
            "contracted_lots": [
                {"lot_id": lot.lot_id, "lot_code": lot.lot_code, "title": lot.title} for lot, _ in current.lots
            ],
            "pricing_policy": {"display": current.project.pricing_display},
        }

    def supplier_handoff(self, supplier_id: str, user_name: str, today: date, return_url: str) -> dict[str, Any] | None:
        """The `SupplierHandoff` of a supplier's user, or None if it has no contract in effect."""
        supplier = self.supplier(supplier_id)
        current = self.current_contract(supplier_id, today) if supplier else None
        if supplier is None or current is None:
            return None
        return {
            "supplier": {
                "id": supplier.supplier_id,
                "company_name": supplier.company_name,
                "primary_email": supplier.primary_email,
                "user_name": user_name,
            },
            "framework": _framework(current),
            "contracted_lots": [
                {
                    "lot_id": lot.lot_id,
                    "lot_code": lot.lot_code,
                    "title": lot.title,
                    "effective_from": term.effective_from.isoformat(),
                    "effective_to": term.effective_to.isoformat(),
                }
                for lot, term in current.lots
            ],
            "redirect": {"return_url": return_url},
        }

    def orderable(self, buyer_id: str, today: date) -> list[Orderable]:
        """The (project, lot) pairs a buyer can order in today, each with its suppliers."""
        rows = self.session.execute(
            select(Project, Lot, Contract.supplier_id)
            .join(Contract, Contract.project_id == Project.project_id)
            .join(ContractLot, ContractLot.contract_id == Contract.contract_id)
            .join(Lot, Lot.lot_id == ContractLot.lot_id)
            .where(
                Project.buyer_id == buyer_id,
                ContractLot.effective_from <= today,
                ContractLot.effective_to >= today,
            )
            .order_by(Project.name, Lot.lot_code, Contract.supplier_id)
        ).all()
        found: dict[tuple[str, str], Orderable] = {}
        for project, lot, supplier_id in rows:
            key = (project.project_id, lot.lot_id)
            if key not in found:
                found[key] = Orderable(project, lot, [])
            if supplier_id not in found[key].supplier_ids:
                found[key].supplier_ids.append(supplier_id)
        return list(found.values())

    def buyer_handoff(
        self, buyer_id: str, project_id: str, lot_id: str, today: date, return_url: str
    ) -> dict[str, Any] | None:
        """The `BuyerHandoff` for a buyer's project and lot, or None if they cannot order there."""
        buyer = self.buyer(buyer_id)
        choice = next(
            (
                option
                for option in self.orderable(buyer_id, today)
                if (option.project.project_id, option.lot.lot_id) == (project_id, lot_id)
            ),
            None,
        )
        if buyer is None or choice is None:
            return None
        return {
            "buyer": {"id": buyer.buyer_id, "org_name": buyer.org_name, "email": buyer.email},
            "context": {
                "project_id": project_id,
                "lot_id": lot_id,
                "supplier_ids": choice.supplier_ids[:100],
                "mode": "order",
            },
            "pricing_policy": {"display": choice.project.pricing_display},
            "redirect": {"return_url": return_url},
        }


@dataclass(frozen=True)
class Orderable:
    project: Project
    lot: Lot
    supplier_ids: list[str]


def _framework(current: Current) -> dict[str, str]:
    return {
        "framework_id": current.contract.framework_id,
        "contract_id": current.contract.contract_id,
        "project_id": current.contract.project_id,
    }


# Imports ----------------------------------------------------------------------------------


class ProcurementImportError(ValueError):
    """A row of an import file is not valid; the message names the file and row."""


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _text(limit: int) -> Callable[[Any], str]:
    def required(value: Any) -> str:
        text = str(value).strip() if value is not None else ""
        if not text:
            raise ValueError("is required")
        if len(text) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return text

    return required


def _optional_id(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return _text(128)(text) if text else None


def _email(value: Any) -> str:
    text = _text(254)(value)
    if not _EMAIL.fullmatch(text):
        raise ValueError(f"{text!r} is not an e-mail address")
    return text


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(_text(10)(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _display(value: Any) -> str:
    text = str(value).strip() if value is not None else ""
    if (text or "as_is") not in PRICING_DISPLAYS:
        raise ValueError(f"{value!r} is not one of {', '.join(PRICING_DISPLAYS)}")
    return text or "as_is"


_ID = _text(128)
# What each kind's rows hold, in the order the kinds must be imported (each names earlier ones).
KINDS: dict[str, tuple[type[Any], dict[str, Callable[[Any], Any]]]] = {
    "buyers": (Buyer, {"buyer_id": _ID, "org_name": _text(256), "email": _email}),
    "suppliers": (
        Supplier,
        {"supplier_id": _ID, "company_name": _text(256), "primary_email": _email},
    ),
    "frameworks": (Framework, {"framework_id": _ID, "title": _text(256)}),
    "lots": (Lot, {"lot_id": _ID, "framework_id": _ID, "lot_code": _text(64), "title": _text(256)}),
    "projects": (
        Project,
        {
            "project_id": _ID,
            "name": _text(256),
            "framework_id": _ID,
            "buyer_id": _optional_id,
            "pricing_display": _display,
        },
    ),
    "contracts": (Contract, {"contract_id": _ID, "framework_id": _ID, "supplier_id": _ID, "project_id": _ID}),
    "contract-lots": (
        ContractLot,
        {"contract_id": _ID, "lot_id": _ID, "effective_from": _day, "effective_to": _day},
    ),
}
# Which other rows a kind's fields name, to refuse a dangling reference with the row's number.
REFERENCES: dict[str, tuple[type[Any], str]] = {
    "framework_id": (Framework, "framework"),
    "buyer_id": (Buyer, "buyer"),
    "supplier_id": (Supplier, "supplier"),
    "project_id": (Project, "project"),
    "contract_id": (Contract, "contract"),
    "lot_id": (Lot, "lot"),
}


def import_rows(unit: UnitOfWork, kind: str, rows: Iterable[Mapping[str, Any]], source: str = "input") -> int:
    """Insert or update every row (matched by its id); all or nothing. Returns how many."""
    model, fields = KINDS[kind]
    primary = {column.name for column in model.__table__.primary_key.columns}
    count = 0
    for number, row in enumerate(rows, start=1):
        values: dict[str, Any] = {}
        for name, convert in fields.items():
            try:
                values[name] = convert(row.get(name))
            except ValueError as exc:
                raise ProcurementImportError(f"{source}, row {number}: {name} {exc}") from exc
        if "effective_from" in values and values["effective_from"] > values["effective_to"]:
            raise ProcurementImportError(f"{source}, row {number}: effective_from is after effective_to")
        for name, (target, label) in REFERENCES.items():
            known = name not in values or primary == {name} or values[name] is None
            if not known and unit.session.get(target, values[name]) is None:
                raise ProcurementImportError(f"{source}, row {number}: {name} {values[name]} is not a known {label}")
        if kind == "contract-lots":
            _check_same_framework(unit, values, source, number)
        unit.session.merge(model(**values))
        unit.session.flush()
        count += 1
    return count


def _check_same_framework(unit: UnitOfWork, values: Mapping[str, Any], source: str, number: int) -> None:
    contract = unit.session.get(Contract, values["contract_id"])
    lot = unit.session.get(Lot, values["lot_id"])
    if contract is not None and lot is not None and contract.framework_id != lot.framework_id:
        raise ProcurementImportError(
            f"{source}, row {number}: lot {lot.lot_id} is not of framework {contract.framework_id}"
        )


def import_file(unit: UnitOfWork, kind: str, path: Path) -> int:
    try:
        rows = read_rows(path)
    except TabularError as exc:
        raise ProcurementImportError(str(exc)) from exc
    return import_rows(unit, kind, rows, str(path))
