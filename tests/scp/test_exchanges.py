"""Data exchange under a contract: pushes checked whole in JSON, CSV and XML and stored by
the worker; pulls that share only the contract's fields, masked, consent by consent, in
pages or as a file; hostile and malformed payloads refused without harm; an exchange log
entry for every outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from core.jobs import JobContext
from core.unit_of_work import UnitOfWork
from models.scp.exchanges import push_job
from models.scp.tables import Exchange
from tests.scp.conftest import INTEGRATIONS, Scp, problem

FIELDS = [
    {"field_name": "ref", "data_type": "string", "masking": "none"},
    {"field_name": "phone", "data_type": "string", "masking": "partial", "data_category": "contact"},
    {"field_name": "national_id", "data_type": "string", "masking": "hash", "data_category": "identity"},
    {"field_name": "household_size", "data_type": "integer", "masking": "none"},
    {"field_name": "enrolled", "data_type": "boolean", "masking": "none"},
    {"field_name": "note", "data_type": "string", "masking": "redact"},
]
CONSENTS = [
    {"consent_code": "sharing", "on_missing": "omit_record"},
    {"consent_code": "contact_ok", "data_categories": ["contact"], "on_missing": "redact_fields"},
]


class Exchanging:
    """An active integration of its own with an active contract, and its tenant's store."""

    def __init__(self, scp: Scp) -> None:
        self.scp = scp
        self.tenant = tenant = scp.new_tenant()  # a store of its own
        self.admin, self.governor = f"{tenant}-admin", f"{tenant}-governor"
        self.integration_id = scp.walked_to("active", tenant)
        self.contract_id = scp.add_contract(
            self.integration_id,
            self.admin,
            field_list=FIELDS,
            consent_requirements=CONSENTS,
            data_categories=["identity", "contact"],
        )
        self.activate(self.contract_id)

    def activate(self, contract_id: str) -> None:
        activated = self.scp.call(self.governor, "POST", f"{self.base}/contracts/{contract_id}/activate")
        assert activated.status_code == 200, activated.text

    @property
    def base(self) -> str:
        return f"{INTEGRATIONS}/{self.integration_id}"

    def push(self, payload: Any, client: str | None = None, contract_id: str | None = None, **headers: str) -> Any:
        path = f"{self.base}/data/push?contract_id={contract_id or self.contract_id}"
        return self.scp.call(client or self.admin, "POST", path, {"payload": payload}, **headers)

    def upload(self, fmt: str, data: bytes, **headers: str) -> Any:
        return self.scp.client.post(
            f"{self.base}/data/push?contract_id={self.contract_id}",
            headers={**self.scp.auth(self.admin), **headers},
            data={"format": fmt},
            files={"payload": (f"records.{fmt}", data, "application/octet-stream")},
        )

    def pull(self, fmt: str = "json", query: str = "", client: str | None = None) -> Any:
        path = f"{self.base}/data/pull?contract_id={self.contract_id}&format={fmt}{query}"
        return self.scp.call(client or self.admin, "GET", path)

    def log(self) -> list[dict[str, Any]]:
        answer = self.scp.call(self.admin, "GET", f"{self.base}/exchanges?limit=100")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    def store(self) -> None:
        """What `partner-gateway worker` does with accepted pushes."""
        push_job().run(JobContext(self.scp.db, self.scp.settings))


def record(ref: str, **fields: Any) -> dict[str, Any]:
    return {
        "ref": ref,
        "phone": "+254700004321",
        "national_id": "12345678",
        "_consents": ["sharing", "contact_ok"],
        **fields,
    }


@pytest.fixture
def exchanging(scp: Scp) -> Exchanging:
    return Exchanging(scp)


def records_counted(flow: str) -> float:
    """SCP's records of a flow in the metrics (this process's)."""
    return REGISTRY.get_sample_value("partner_gateway_records_total", {"api": "scp", "flow": flow}) or 0.0


def test_a_push_is_accepted_then_stored_and_a_pull_shares_it_masked(exchanging: Exchanging) -> None:
    pushed_before, pulled_before = records_counted("push"), records_counted("pull")
    pushed = exchanging.push([record("A-1", household_size=4, enrolled=True, note="private"), record("A-2")])
    assert pushed.status_code == 202, pushed.text
    assert pushed.json()["status"] == "accepted"
    exchanging.store()
    # Counted once stored; the job also stores any other push the shared database holds.
    assert records_counted("push") >= pushed_before + 2
    (entry,) = [item for item in exchanging.log() if item["exchange_id"] == pushed.json()["exchange_id"]]
    assert (entry["status"], entry["record_count"], entry["omitted_record_count"]) == ("completed", 2, 0)
    pulled = exchanging.pull(query="&filters=ref:A-1")
    assert pulled.status_code == 200, pulled.text
    body = pulled.json()
    assert body["payload"] == [
        {
            "ref": "A-1",
            "phone": "*********4321",
            "national_id": body["payload"][0]["national_id"],
            "household_size": 4,
            "enrolled": True,
            "note": None,
        }
    ]
    assert len(body["payload"][0]["national_id"]) == 64
    assert body["payload"][0]["national_id"] != "12345678"
    assert body["masked_fields"] == ["phone", "national_id", "note"]
    assert pulled.headers["x-scp-exchange-id"] == body["exchange_id"]
    assert (body["next_cursor"], body["output_url"]) == (None, None)
    assert records_counted("pull") == pulled_before + 1


def test_consent_omits_or_redacts_as_the_contract_says(exchanging: Exchanging) -> None:
    unconsented = record("C-0", _consents=["contact_ok"])
    contactless = record("C-1", _consents=["sharing"])
    refused = exchanging.push([unconsented, contactless, record("C-2")])
    assert refused.status_code == 202, refused.text
    # A push stores no record that lacks a consent its own contract requires.
    omitted = [i["omitted_record_count"] for i in exchanging.log() if i["exchange_id"] == refused.json()["exchange_id"]]
    assert omitted == [2]
    # Another contract of the tenant, asking less, lets them in; this one, pulling, asks more.
    laxer = exchanging.scp.add_contract(
        exchanging.integration_id,
        exchanging.admin,
        field_list=FIELDS,
        consent_requirements=[],
        data_categories=["identity", "contact"],
    )
    exchanging.activate(laxer)
    assert exchanging.push([unconsented, contactless], contract_id=laxer).status_code == 202
    exchanging.store()
    pulled = exchanging.pull().json()
    shared = {item["ref"]: item for item in pulled["payload"]}
    assert "C-0" not in shared
    assert pulled["omitted_record_count"] == 1
    assert shared["C-1"]["phone"] is None, "no contact consent: the contact fields are redacted"
    assert shared["C-2"]["phone"] == "*********4321"


@pytest.mark.parametrize("fmt", ["json", "csv", "xml"])
def test_fields_outside_the_contract_and_wrong_types_are_refused_by_name(exchanging: Exchanging, fmt: str) -> None:
    if fmt == "json":
        answer = exchanging.push([record("B-1", salary=10), record("B-2", household_size="four")])
    elif fmt == "csv":
        answer = exchanging.upload("csv", b"ref,salary,household_size\r\nB-1,10,\r\nB-2,,four\r\n")
    else:
        xml = (
            b"<records><record><ref>B-1</ref><salary>10</salary></record>"
            b"<record><ref>B-2</ref><household_size>four</household_size></record></records>"
        )
        answer = exchanging.upload("xml", xml)
    error = problem(answer, 422, "urn:scp:problem:payload-invalid")
    faults = {entry["field"]: entry["message"] for entry in error["errors"]}
    assert faults["body.payload[0].salary"] == "Not a field of the contract's field list."
    assert faults["body.payload[1].household_size"] == "Expected an integer."
    (entry,) = [item for item in exchanging.log() if item["exchange_id"] == error["exchange_id"]]
    assert (entry["status"], entry["format"], entry["failure"]["type"]) == (
        "rejected",
        fmt,
        "urn:scp:problem:payload-invalid",
    )
    assert {(e["record_index"], e["field_name"]) for e in entry["failure"]["record_errors"]} >= {
        (0, "salary"),
        (1, "household_size"),
    }


def test_csv_and_xml_records_are_stored_typed(exchanging: Exchanging) -> None:
    csv = b"\xef\xbb\xbfref,household_size,enrolled,_consents\r\nD-1,3,true,sharing;contact_ok\r\n"
    xml = (
        b"<records><record><ref>D-2</ref><household_size>5</household_size>"
        b"<_consents><consent>sharing</consent><consent>contact_ok</consent></_consents></record></records>"
    )
    assert exchanging.upload("csv", csv).status_code == 202
    assert exchanging.upload("xml", xml).status_code == 202
    exchanging.store()
    shared = {item["ref"]: item for item in exchanging.pull().json()["payload"]}
    assert (shared["D-1"]["household_size"], shared["D-1"]["enrolled"]) == (3, True)
    assert shared["D-2"]["household_size"] == 5


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><records><record><ref>&c;</ref></record></records>',
            "DTDForbidden",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<records><record><ref>&x;</ref></record></records>",
            "DTDForbidden",
        ),
        (b"<records><record><ref>E-1</ref>", "not acceptable XML"),
        (b"<rows><row><ref>E-1</ref></row></rows>", "root element must be <records>"),
    ],
    ids=["entity-expansion-bomb", "external-entity", "truncated", "wrong-root"],
)
def test_hostile_or_broken_xml_is_refused_without_harm(exchanging: Exchanging, data: bytes, said: str) -> None:
    error = problem(exchanging.upload("xml", data), 422, "urn:scp:problem:payload-invalid")
    assert said in error["detail"]
    assert "root:" not in json.dumps(error)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"ref,household_size\r\nF-1,2,3\r\n", "more values than the header names"),
        (b"ref\r\n\xe9t\xe9\r\n", "not valid utf-8-sig text"),
        (b'ref\r\n"unclosed\r\n', "unexpected end of data"),
    ],
    ids=["wrong-columns", "bad-encoding", "bad-quoting"],
)
def test_malformed_csv_is_refused_clearly(exchanging: Exchanging, data: bytes, said: str) -> None:
    error = problem(exchanging.upload("csv", data), 422, "urn:scp:problem:payload-invalid")
    assert said in error["detail"]


def test_more_than_ten_thousand_records_is_413(exchanging: Exchanging) -> None:
    error = problem(exchanging.push([{"ref": str(n)} for n in range(10_001)]), 413)
    assert "10000" in error["detail"]
    assert [i["status"] for i in exchanging.log() if i["exchange_id"] == error["exchange_id"]] == ["rejected"]


def test_an_idempotent_push_replays_and_logs_once(exchanging: Exchanging) -> None:
    key = {"Idempotency-Key": f"push-{exchanging.integration_id}"}
    first = exchanging.push([record("G-1")], **key)
    again = exchanging.push([record("G-1")], **key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert [i["exchange_id"] for i in exchanging.log()].count(first.json()["exchange_id"]) == 1
    assert len(exchanging.log()) == 1
    problem(exchanging.push([record("G-2")], **key), 422, "urn:scp:problem:idempotency-key-reused")
    path = f"{exchanging.base}/data/push?contract_id={exchanging.contract_id}"
    in_body = {"payload": [record("G-1")], "idempotency_key": "other-key"}
    clash = exchanging.scp.call(exchanging.admin, "POST", path, in_body, **key)
    error = problem(clash, 400, "urn:scp:problem:validation-error")
    assert error["errors"] == [
        {"field": "body.idempotency_key", "message": "Must equal the Idempotency-Key header when both are given."}
    ]
    alone = exchanging.scp.call(exchanging.admin, "POST", path, in_body)
    again = exchanging.scp.call(exchanging.admin, "POST", path, in_body)
    assert (alone.status_code, again.status_code) == (202, 202)
    assert again.json() == alone.json(), "the body's idempotency_key is a key too"


def test_json_pulls_come_in_pages(exchanging: Exchanging) -> None:
    assert exchanging.push([record(f"P-{n}", household_size=n) for n in range(5)]).status_code == 202
    exchanging.store()
    seen: list[str] = []
    query = "&limit=2"
    while True:
        body = exchanging.pull(query=query).json()
        seen += [item["ref"] for item in body["payload"]]
        if body["next_cursor"] is None:
            break
        query = f"&limit=2&cursor={body['next_cursor']}"
    assert seen == [f"P-{n}" for n in range(5)]
    bad = exchanging.pull(query="&cursor=made-up")
    assert bad.status_code == 400
    assert [i["status"] for i in exchanging.log() if i["exchange_id"] == bad.json().get("exchange_id")] == ["rejected"]


@pytest.mark.parametrize("fmt", ["csv", "xml"])
def test_csv_and_xml_pulls_are_files_to_download(exchanging: Exchanging, fmt: str) -> None:
    assert exchanging.push([record("H-1", note="x"), record("H-2")]).status_code == 202
    exchanging.store()
    body = exchanging.pull(fmt).json()
    assert (body["payload"], body["record_count"], body["format"]) == ([], 2, fmt)
    download = exchanging.scp.call(exchanging.admin, "GET", body["output_url"])
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/octet-stream"
    assert f'filename="exchange-{body["exchange_id"]}.{fmt}"' in download.headers["content-disposition"]
    text = download.content.decode()
    if fmt == "csv":
        assert text.splitlines()[0] == "ref,phone,national_id,household_size,enrolled,note"
        assert text.splitlines()[1].startswith("H-1,*********4321,")
    else:
        assert "<record><ref>H-1</ref><phone>*********4321</phone>" in text
    problem(exchanging.pull(fmt, "&limit=5"), 400, "urn:scp:problem:validation-error")
    other = Exchanging(exchanging.scp)
    problem(exchanging.scp.call(other.admin, "GET", body["output_url"]), 404)


def test_filters_only_on_fields_shared_as_is(exchanging: Exchanging) -> None:
    error = problem(exchanging.pull(query="&filters=phone:123"), 422, "urn:scp:problem:filter-not-allowed")
    assert [i["status"] for i in exchanging.log() if i["exchange_id"] == error["exchange_id"]] == ["rejected"]
    problem(exchanging.pull(query="&filters=salary:1"), 422, "urn:scp:problem:filter-not-allowed")


def test_exchange_follows_the_integrations_status_and_the_contract(exchanging: Exchanging) -> None:
    scp = exchanging.scp
    assert scp.move(exchanging.governor, exchanging.integration_id, "restrict").status_code == 200
    assert exchanging.push([record("R-1")]).status_code == 202, "restricted: push only"
    problem(exchanging.pull(), 409, "urn:scp:problem:integration-not-exchanging")
    assert scp.move(exchanging.governor, exchanging.integration_id, "suspend").status_code == 200
    problem(exchanging.push([record("R-2")]), 409, "urn:scp:problem:integration-not-exchanging")
    assert scp.move(exchanging.governor, exchanging.integration_id, "deprecate").status_code == 200
    problem(exchanging.push([record("R-3")]), 409, "urn:scp:problem:integration-not-exchanging")
    statuses = [item["status"] for item in exchanging.log()]
    assert statuses.count("rejected") == 3
    assert statuses.count("accepted") == 1


def test_a_contract_not_active_or_not_the_integrations(scp: Scp, exchanging: Exchanging) -> None:
    draft = scp.add_contract(exchanging.integration_id, exchanging.admin)
    path = f"{exchanging.base}/data/push?contract_id={draft}"
    problem(
        scp.call(exchanging.admin, "POST", path, {"payload": [{"ref": "x"}]}),
        409,
        "urn:scp:problem:contract-not-active",
    )
    other = scp.walked_to("active", exchanging.tenant)
    stranger = scp.add_contract(other, exchanging.admin)
    missing = scp.call(
        exchanging.admin, "POST", f"{exchanging.base}/data/push?contract_id={stranger}", {"payload": [{}]}
    )
    error = problem(missing, 404)
    assert [i["status"] for i in exchanging.log() if i["exchange_id"] == error["exchange_id"]] == ["rejected"]


def test_an_integrations_own_client_exchanges_for_it_alone(scp: Scp, exchanging: Exchanging) -> None:
    issued = scp.walked_to("approved", exchanging.tenant)
    activated = scp.move(exchanging.governor, issued, "activate", None).json()
    own = activated["auth_client_id"]
    scp.secrets[own] = activated["auth_client_secret"]
    scp.granted[own] = frozenset({"integrations:read", "data:push", "data:pull", "exchanges:read", "webhooks:read"})
    before = len(exchanging.log())
    sibling = exchanging.push([record("S-1")], client=own)
    problem(sibling, 404)
    assert len(exchanging.log()) == before, "no entry in a sibling's log"


def test_the_log_lists_by_status_and_time(exchanging: Exchanging) -> None:
    assert exchanging.push([record("L-1")]).status_code == 202
    problem(exchanging.push([{"nope": 1}]), 422, "urn:scp:problem:payload-invalid")
    listed = exchanging.scp.call(exchanging.admin, "GET", f"{exchanging.base}/exchanges?status=rejected").json()
    assert [item["status"] for item in listed["items"]] == ["rejected"]
    future = exchanging.scp.call(exchanging.admin, "GET", f"{exchanging.base}/exchanges?since=2099-01-01T00:00:00Z")
    assert future.json()["total"] == 0


def test_a_push_the_worker_cannot_store_fails_whole(exchanging: Exchanging) -> None:
    pushed = exchanging.push([record("W-1"), record("W-2")])
    assert pushed.status_code == 202, pushed.text
    with UnitOfWork(exchanging.scp.db, exchanging.scp.settings) as unit:
        waiting = unit.session.scalars(
            select(Exchange).where(Exchange.exchange_id == pushed.json()["exchange_id"])
        ).one()
        Path(str(waiting.file_path)).write_text("[[{}, []], not json")  # the file went bad on its disk
    exchanging.store()
    (entry,) = [item for item in exchanging.log() if item["exchange_id"] == pushed.json()["exchange_id"]]
    assert (entry["status"], entry["record_count"]) == ("failed", None)
    assert "could not be stored" in entry["failure"]["detail"]
    assert exchanging.pull().json()["payload"] == [], "nothing half-stored"


def test_a_filter_never_matches_a_value_consent_hides(exchanging: Exchanging) -> None:
    fields = [
        {"field_name": "ref", "data_type": "string", "masking": "none"},
        {"field_name": "email", "data_type": "string", "masking": "none", "data_category": "contact"},
    ]
    strict, lax = (
        exchanging.scp.add_contract(
            exchanging.integration_id,
            exchanging.admin,
            field_list=fields,
            consent_requirements=consents,
            data_categories=["identity", "contact"],
        )
        for consents in (
            [{"consent_code": "contact_ok", "data_categories": ["contact"], "on_missing": "redact_fields"}],
            [],
        )
    )
    exchanging.activate(strict)
    exchanging.activate(lax)
    hidden = {"ref": "K-1", "email": "someone@example.org", "_consents": []}
    assert exchanging.push([hidden], contract_id=lax).status_code == 202
    exchanging.store()
    path = f"{exchanging.base}/data/pull?contract_id={strict}&format=json"
    everything = exchanging.scp.call(exchanging.admin, "GET", path).json()["payload"]
    assert {"ref": "K-1", "email": None} in everything, "shared, with the contact field redacted"
    guessed = exchanging.scp.call(exchanging.admin, "GET", f"{path}&filters=email:someone@example.org").json()
    assert (guessed["payload"], guessed["omitted_record_count"]) == ([], 0), "the hidden value cannot be confirmed"
