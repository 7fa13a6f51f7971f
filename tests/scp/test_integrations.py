"""Integrations: register, list, read and update; windows and verticals checked against what
the schema cannot state; every update a new immutable version; Idempotency-Key as the
IETF draft has it."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.columns import utcnow
from core.idempotency import IdempotencyRecord, fingerprint
from core.unit_of_work import UnitOfWork
from handlers.scp.context import key_scope, request_described
from models.scp.access import Caller
from models.scp.tables import IntegrationVersion
from tests.scp.conftest import INTEGRATIONS, Scp, problem, registration


class TestCreate:
    def test_a_new_integration_is_a_draft_with_its_first_version(self, scp: Scp) -> None:
        answer = scp.call("riverside-admin", "POST", INTEGRATIONS, registration(data_contract_ref="DSA-2026-014"))
        assert answer.status_code == 201, answer.text
        created = answer.json()
        assert created["status"] == "draft"
        assert answer.headers["location"] == f"{INTEGRATIONS}/{created['integration_id']}"
        details = scp.get(created["integration_id"])
        assert details["version_id"] == 1
        assert details["auth_client_id"] is None
        assert details["data_contract_ref"] == "DSA-2026-014"
        assert details["exchange_directions"] == []
        assert details["contracts"] == []
        assert "last_status_reason" not in details

    @pytest.mark.parametrize(
        ("window", "status", "kind"),
        [
            ({"active_until": "2026-03-01T00:00:00Z"}, 400, "urn:scp:problem:validation-error"),
            ({"active_until": "2026-02-01T00:00:00+01:00"}, 400, "urn:scp:problem:validation-error"),
            (
                {"active_from": "2020-01-01T00:00:00Z", "active_until": "2021-01-01T00:00:00Z"},
                409,
                "urn:scp:problem:invalid-active-window",
            ),
        ],
        ids=["ends-when-it-starts", "ends-before-it-starts", "ended-already"],
    )
    def test_windows(self, scp: Scp, window: dict[str, str], status: int, kind: str) -> None:
        problem(scp.call("riverside-admin", "POST", INTEGRATIONS, registration(**window)), status, kind)

    def test_an_unknown_vertical_is_named(self, scp: Scp) -> None:
        answer = scp.call(
            "riverside-admin", "POST", INTEGRATIONS, registration(vertical_ids=["health", "space-travel"])
        )
        error = problem(answer, 422, "urn:scp:problem:unknown-vertical")
        assert error["errors"] == [{"field": "body.vertical_ids", "message": "Unknown vertical 'space-travel'."}]

    def test_a_date_time_of_any_rfc_3339_spelling(self, scp: Scp) -> None:
        integration_id = scp.create(active_from="2026-03-01t05:30:00+05:30", active_until=None)
        details = scp.get(integration_id)
        assert (details["active_from"], details["active_until"]) == ("2026-03-01T00:00:00Z", None)


class TestList:
    def test_filters_combine_and_pages_count(self, scp: Scp) -> None:
        partner_type = f"test_{hashlib.sha256(str(utcnow()).encode()).hexdigest()[:8]}"
        ids = [scp.create(partner_type=partner_type, vertical_ids=["education"]) for _ in range(3)]
        scp.create(partner_type=partner_type, vertical_ids=["health"])
        answer = scp.call(
            "riverside-admin", "GET", f"{INTEGRATIONS}?partner_type={partner_type}&vertical_id=education&limit=2"
        )
        page = answer.json()
        assert (page["page"], page["limit"], page["total"]) == (1, 2, 3)
        assert [item["integration_id"] for item in page["items"]] == ids[::-1][:2], "newest first"
        second = scp.call(
            "riverside-admin", "GET", f"{INTEGRATIONS}?partner_type={partner_type}&vertical_id=education&limit=2&page=2"
        )
        assert [item["integration_id"] for item in second.json()["items"]] == [ids[0]]
        past = scp.call("riverside-admin", "GET", f"{INTEGRATIONS}?partner_type={partner_type}&page=9").json()
        assert (past["items"], past["total"]) == ([], 4)

    def test_by_status(self, scp: Scp) -> None:
        integration_id = scp.walked_to("restricted")
        page = scp.call("riverside-admin", "GET", f"{INTEGRATIONS}?status=restricted&limit=100").json()
        assert integration_id in {item["integration_id"] for item in page["items"]}
        assert {item["status"] for item in page["items"]} == {"restricted"}

    def test_bad_parameters_are_located(self, scp: Scp) -> None:
        error = problem(
            scp.call("riverside-admin", "GET", f"{INTEGRATIONS}?limit=101&colour=red"),
            400,
            "urn:scp:problem:validation-error",
        )
        assert {entry["field"] for entry in error["errors"]} == {"query.limit", "query.colour"}


class TestUpdate:
    def test_each_update_is_a_new_version_and_the_history_is_kept(self, scp: Scp) -> None:
        integration_id = scp.create()
        first = scp.call("riverside-admin", "PATCH", f"{INTEGRATIONS}/{integration_id}", {"partner_name": "PayFast"})
        second = scp.call(
            "riverside-admin",
            "PATCH",
            f"{INTEGRATIONS}/{integration_id}",
            {"vertical_ids": ["livelihoods"], "active_until": None},
        )
        assert (first.json()["version_id"], second.json()["version_id"]) == (2, 3)
        details = scp.get(integration_id)
        assert (details["partner_name"], details["vertical_ids"], details["active_until"]) == (
            "PayFast",
            ["livelihoods"],
            None,
        )
        assert details["status"] == "draft", "an update does not change the status"
        with UnitOfWork(scp.db, scp.settings) as unit:
            versions = unit.session.scalars(
                select(IntegrationVersion)
                .where(IntegrationVersion.integration_id == integration_id)
                .order_by(IntegrationVersion.version_id)
            ).all()
            history = [
                (v.version_id, v.fields["partner_name"], v.fields["vertical_ids"], v.fields["active_until"])
                for v in versions
            ]
        assert history == [
            (1, "PayFast Kenya Ltd", ["social-protection"], "2099-01-01T00:00:00+00:00"),
            (2, "PayFast", ["social-protection"], "2099-01-01T00:00:00+00:00"),
            (3, "PayFast", ["livelihoods"], None),
        ]
        listed = scp.call("riverside-admin", "GET", f"{INTEGRATIONS}?vertical_id=livelihoods&limit=100").json()
        assert integration_id in {item["integration_id"] for item in listed["items"]}

    @pytest.mark.parametrize(
        ("change", "status", "kind"),
        [
            ({"active_from": "2100-01-01T00:00:00Z"}, 409, "urn:scp:problem:invalid-active-window"),
            ({"active_until": "2026-02-01T00:00:00Z"}, 409, "urn:scp:problem:invalid-active-window"),
            (
                {"active_from": "2030-01-01T00:00:00Z", "active_until": "2029-01-01T00:00:00Z"},
                400,
                "urn:scp:problem:validation-error",
            ),
            ({"partner_type": "ngo"}, 400, "urn:scp:problem:validation-error"),
            ({}, 400, "urn:scp:problem:validation-error"),
            ({"vertical_ids": ["atlantis"]}, 422, "urn:scp:problem:unknown-vertical"),
        ],
        ids=[
            "start-after-stored-end",
            "end-before-stored-start",
            "both-out-of-order",
            "partner-type-fixed",
            "nothing",
            "unknown-vertical",
        ],
    )
    def test_refused_updates_change_nothing(self, scp: Scp, change: dict[str, object], status: int, kind: str) -> None:
        integration_id = scp.create()
        before = scp.get(integration_id)
        problem(scp.call("riverside-admin", "PATCH", f"{INTEGRATIONS}/{integration_id}", change), status, kind)
        assert scp.get(integration_id) == before


class TestIdempotency:
    def test_a_repeat_replays_the_first_answer(self, scp: Scp) -> None:
        headers = {"Idempotency-Key": f"create-{utcnow().timestamp()}"}
        first = scp.call("riverside-admin", "POST", INTEGRATIONS, registration(), **headers)
        again = scp.call("riverside-admin", "POST", INTEGRATIONS, registration(), **headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers

    def test_another_request_with_the_key_is_422(self, scp: Scp) -> None:
        headers = {"Idempotency-Key": f"create-{utcnow().timestamp()}"}
        assert scp.call("riverside-admin", "POST", INTEGRATIONS, registration(), **headers).status_code == 201
        other = scp.call("riverside-admin", "POST", INTEGRATIONS, registration(partner_name="Other"), **headers)
        problem(other, 422, "urn:scp:problem:idempotency-key-reused")

    def test_keys_are_the_clients_own(self, scp: Scp) -> None:
        headers = {"Idempotency-Key": f"shared-{utcnow().timestamp()}"}
        mine = scp.call("riverside-admin", "POST", INTEGRATIONS, registration(), **headers)
        theirs = scp.call("harbour-admin", "POST", INTEGRATIONS, registration(vertical_ids=["health"]), **headers)
        assert (mine.status_code, theirs.status_code) == (201, 201)
        assert mine.json()["integration_id"] != theirs.json()["integration_id"]

    def test_a_key_in_flight_is_409_with_retry_after(self, scp: Scp) -> None:
        key = f"busy-{utcnow().timestamp()}"
        raw = json.dumps(registration()).encode()
        caller = Caller("riverside-admin", "admin", "riverside-care")
        with UnitOfWork(scp.db, scp.settings) as unit:  # its first request, still running in another worker
            unit.session.add(
                IdempotencyRecord(
                    api="scp",
                    scope=key_scope(caller),
                    key=key,
                    fingerprint=fingerprint(request_described("POST", INTEGRATIONS, "", raw)),
                    locked_until=utcnow() + timedelta(minutes=1),
                    created_at=utcnow(),
                    expires_at=utcnow() + timedelta(hours=1),
                )
            )
            unit.commit()
        headers = {**scp.auth("riverside-admin"), "Idempotency-Key": key, "Content-Type": "application/json"}
        answer = scp.client.post(INTEGRATIONS, content=raw, headers=headers)
        problem(answer, 409, "urn:scp:problem:idempotency-key-in-use")
        assert 1 <= int(answer.headers["retry-after"]) <= 5

    def test_an_error_is_not_kept(self, scp: Scp) -> None:
        headers = {"Idempotency-Key": f"error-{utcnow().timestamp()}"}
        problem(
            scp.call("riverside-admin", "POST", INTEGRATIONS, registration(vertical_ids=["atlantis"]), **headers),
            422,
            "urn:scp:problem:unknown-vertical",
        )
        assert (
            scp.call(
                "riverside-admin", "POST", INTEGRATIONS, registration(vertical_ids=["atlantis"]), **headers
            ).status_code
            == 422
        )
        assert scp.call("riverside-admin", "POST", INTEGRATIONS, registration(), **headers).status_code == 201
