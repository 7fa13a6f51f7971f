"""Data contracts: what an integration may exchange, for which purpose, under which consents,
in which window; draft, then active, then archived, each update a new immutable version.

`ContractTerms` is the form data exchange enforces: the fields by name with their type and
masking, and the consents with the categories they cover and what a pull does without them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.columns import aware, utcnow
from core.problems import NotFound
from core.unit_of_work import UnitOfWork
from models.scp import lifecycle, problems
from models.scp.access import Caller
from models.scp.events import CONTRACT_ACTIVATED, CONTRACT_ARCHIVED
from models.scp.integrations import check_window, contract_event, scope_of
from models.scp.repositories import Contracts, Integrations
from models.scp.tables import Contract, Integration

DRAFT, ACTIVE, ARCHIVED = "draft", "active", "archived"
TERMS = ("purpose", "data_categories", "field_list", "consent_requirements")
OMIT_RECORD = "omit_record"


@dataclass(frozen=True)
class ContractField:
    field_name: str
    data_type: str
    masking: str
    data_category: str | None = None  # which consent requirements' categories cover it


@dataclass(frozen=True)
class ConsentRequirement:
    consent_code: str
    data_categories: tuple[str, ...] | None  # None: all of the contract's
    on_missing: str

    def covers(self, category: str) -> bool:
        return self.data_categories is None or category in self.data_categories


@dataclass(frozen=True)
class ContractTerms:
    purpose: str
    data_categories: tuple[str, ...]
    fields: Mapping[str, ContractField]
    consents: tuple[ConsentRequirement, ...]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ContractTerms:
        """Terms as a request gives them: a field named twice is its last entry; a consent
        without `on_missing` omits the record."""
        fields: dict[str, ContractField] = {}
        for entry in body["field_list"]:
            fields[entry["field_name"]] = ContractField(
                entry["field_name"], entry["data_type"], entry["masking"], entry.get("data_category")
            )
        consents = tuple(
            ConsentRequirement(
                entry["consent_code"],
                tuple(entry["data_categories"]) if entry.get("data_categories") else None,
                entry.get("on_missing") or OMIT_RECORD,
            )
            for entry in body["consent_requirements"]
        )
        return cls(body["purpose"], tuple(body["data_categories"]), fields, consents)

    @classmethod
    def of(cls, contract: Contract) -> ContractTerms:
        return cls.from_body(
            {
                "purpose": contract.purpose,
                "data_categories": contract.data_categories,
                "field_list": contract.field_list,
                "consent_requirements": contract.consent_requirements,
            }
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "data_categories": list(self.data_categories),
            "field_list": [
                {key: value for key, value in vars(field).items() if value is not None}
                for field in self.fields.values()
            ],
            "consent_requirements": [
                {
                    "consent_code": consent.consent_code,
                    **({"data_categories": list(consent.data_categories)} if consent.data_categories else {}),
                    "on_missing": consent.on_missing,
                }
                for consent in self.consents
            ],
        }

    def shared_as_is(self) -> Sequence[str]:
        """The fields shared unmasked, the only ones a pull may filter on."""
        return [name for name, field in self.fields.items() if field.masking == "none"]


def check_terms(body: Mapping[str, Any], at: str = "body") -> None:
    """What the schema cannot say of a contract's terms: a field's `data_category` is one of
    the contract's, and no field takes the name `_consents`, which records use for consents."""
    errors: dict[str, list[str]] = {}
    categories = set(body["data_categories"])
    for index, entry in enumerate(body["field_list"]):
        if entry["field_name"] == "_consents":
            errors[f"{at}.field_list[{index}].field_name"] = ["_consents is reserved for the consents of a record."]
        category = entry.get("data_category")
        if category is not None and category not in categories:
            errors[f"{at}.field_list[{index}].data_category"] = [
                f"{category} is not one of the contract's data_categories."
            ]
    if errors:
        raise problems.invalid_input(errors)


class ContractService:
    def __init__(self, unit: UnitOfWork, caller: Caller) -> None:
        self.unit = unit
        self.caller = caller
        self.scope = scope_of(unit, caller)
        self.contracts = Contracts(unit, self.scope)

    def add(self, integration: Integration, body: Mapping[str, Any], active_from: datetime | None = None) -> Contract:
        """A `draft` contract of an integration, with its first version."""
        self.caller.may_change("add data contracts")
        if integration.status == lifecycle.ARCHIVED:
            raise problems.invalid_transition(
                f"Integration {integration.integration_id} is archived; it takes no new contract."
            )
        now = utcnow()
        start = active_from or body["active_from"]
        check_window(start, body.get("active_until"), now)
        check_terms(body)
        terms = ContractTerms.from_body(body).as_json()
        contract = Contract(
            contract_id=str(uuid.uuid4()),
            tenant_id=integration.tenant_id,
            integration_id=integration.integration_id,
            status=DRAFT,
            version_id=1,
            active_from=start,
            active_until=body.get("active_until"),
            created_at=now,
            updated_at=now,
            **terms,
        )
        self.contracts.add(contract)
        self.contracts.record_version(contract, self._version(contract), self.caller.client_id, now)
        return contract

    def add_to(self, integration_id: str, body: Mapping[str, Any]) -> Contract:
        self.caller.may_change("add data contracts")
        return self.add(self._integration(integration_id, lock=True), body)

    def update(self, integration_id: str, contract_id: str, changes: Mapping[str, Any]) -> Contract:
        """Apply the given terms as a new version, the contract locked meanwhile."""
        self.caller.may_change("update data contracts")
        contract = self._contract(integration_id, contract_id, lock=True)
        if contract.status == ARCHIVED:
            raise problems.invalid_transition(
                f"Contract {contract_id} is archived; an archived contract cannot be changed."
            )
        now = utcnow()
        values: dict[str, Any] = {"updated_at": now}
        if any(name in changes for name in TERMS):
            current = {name: getattr(contract, name) for name in TERMS}
            check_terms({**current, **changes})
            values.update(ContractTerms.from_body({**current, **changes}).as_json())
        if "active_until" in changes:
            end = changes["active_until"]
            if end is not None and aware(end) <= aware(contract.active_from):
                raise problems.invalid_window(
                    f"active_until {aware(end).isoformat()} is not later than the contract's active_from "
                    f"{aware(contract.active_from).isoformat()}."
                )
            if end is not None and aware(end) <= now:
                raise problems.invalid_window(f"active_until {aware(end).isoformat()} is already past.")
            values["active_until"] = end
        if not self.contracts.bump(contract, contract.version_id, values):
            raise problems.version_conflict(f"Contract {contract_id} was changed meanwhile; retry the update.")
        self.contracts.record_version(contract, self._version(contract), self.caller.client_id, now)
        return contract

    def activate(self, integration_id: str, contract_id: str) -> Contract:
        self.caller.may_change("govern data contracts")
        contract = self._contract(integration_id, contract_id, lock=True)  # the lock first, then reads
        integration = self._integration(integration_id)
        if contract.status != DRAFT:
            raise problems.invalid_transition(
                f"A contract in status {contract.status} cannot be activated; activate needs status draft."
            )
        if integration.status == lifecycle.ARCHIVED:
            raise problems.invalid_transition(f"Integration {integration_id} is archived; its contracts stay archived.")
        now = utcnow()
        if contract.active_until is not None and aware(contract.active_until) <= now:
            raise problems.invalid_window(
                f"Contract {contract_id}'s window ended at {aware(contract.active_until).isoformat()}."
            )
        contract.status, contract.activated_at, contract.updated_at = ACTIVE, now, now
        self.unit.session.flush()
        contract_event(self.unit, CONTRACT_ACTIVATED, contract)
        return contract

    def archive(self, integration_id: str, contract_id: str, body: Mapping[str, Any]) -> Contract:
        self.caller.may_change("govern data contracts")
        contract = self._contract(integration_id, contract_id, lock=True)
        if contract.status == ARCHIVED:
            raise problems.invalid_transition(f"Contract {contract_id} is archived already.")
        now = utcnow()
        contract.status, contract.archived_at, contract.updated_at = ARCHIVED, now, now
        contract.archive_reason_code, contract.archive_reason_text = body["reason_code"], body.get("reason_text")
        self.unit.session.flush()
        contract_event(self.unit, CONTRACT_ARCHIVED, contract)
        return contract

    def _version(self, contract: Contract) -> dict[str, Any]:
        terms = ContractTerms.of(contract).as_json()
        terms["active_from"] = aware(contract.active_from).isoformat()
        terms["active_until"] = aware(contract.active_until).isoformat() if contract.active_until else None
        return terms

    def _integration(self, integration_id: str, *, lock: bool = False) -> Integration:
        return Integrations(self.unit, self.scope).found(integration_id, lock=lock)

    def _contract(self, integration_id: str, contract_id: str, *, lock: bool = False) -> Contract:
        contract = self.contracts.of_integration(integration_id, contract_id, lock=lock)
        if contract is None:
            raise NotFound(f"Contract {contract_id} of integration {integration_id} was not found.")
        return contract
