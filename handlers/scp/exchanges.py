"""Data exchange: push, pull, the exchange logs, and the output files of CSV and XML pulls."""

from __future__ import annotations

import functools
import json
from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse
from marshmallow import fields
from starlette.responses import Response

from core.cursors import CursorCodec
from core.dto import Dto, Stamp
from core.problems import ValidationFailed
from core.request_context import current_request_id
from core.responses import Json, json_body, location
from core.unit_of_work import current_unit
from handlers.scp import dto
from handlers.scp.context import IDEMPOTENCY_HEADER, idempotent, scp_settings
from models.scp.access import Caller
from models.scp.exchanges import DataExchange, Request

CHUNK = 64 * 1024


class ExchangeDto(Dto):
    exchange_id = fields.String()
    integration_id = fields.String()
    contract_id = fields.String(allow_none=True)
    contract_version_id = fields.Integer(allow_none=True)
    direction = fields.String()
    status = fields.String()
    format = fields.String(allow_none=True)
    client_id = fields.String()
    request_id = fields.String()
    idempotency_key = fields.String(allow_none=True)
    received_at = Stamp()
    completed_at = Stamp(allow_none=True)
    record_count = fields.Integer(allow_none=True)
    omitted_record_count = fields.Integer(allow_none=True)
    masked_fields = fields.List(fields.String())
    failure = fields.Raw()

    omit_when_none = ("failure",)


exchanges_dto = ExchangeDto(many=True)


@functools.cache
def _codec(secret: str) -> CursorCodec:
    return CursorCodec(secret, parameter="query.cursor")


def _exchange(principal: Caller, key: str | None = None) -> DataExchange:
    return DataExchange(current_unit(), Request(principal, current_request_id(), key), scp_settings())


def _key(principal: Caller, integration_id: str, contract_id: str, fmt: str, body_key: str | None) -> str | None:
    """The push's idempotency key: the header, or the document's `idempotency_key` input; both
    given, they must agree."""
    header = request.headers.get(IDEMPOTENCY_HEADER)
    if header is not None and body_key is not None and header != body_key:
        message = "Must equal the Idempotency-Key header when both are given."
        refused = ValidationFailed("The request is invalid.", errors={"body.idempotency_key": [message]})
        _exchange(principal).refuse("push", integration_id, contract_id, fmt, refused)
    return header if header is not None else body_key


def push_integration_data(
    principal: Caller, integration_id: str, contract_id: str, body: dict[str, Any], payload: Any = None
) -> Response:
    """Check a push under a contract and accept it for storing."""
    fmt = body["format"] if payload is not None else body.get("format", "json")
    key = _key(principal, integration_id, contract_id, fmt, body.get("idempotency_key"))
    if payload is not None:  # an upload: the file, read whole (at most 10 MiB)
        data: bytes | list[Any] = payload.file.read()
        described = json.dumps({**body, "payload": None}, sort_keys=True).encode() + b"\n" + bytes(data)
    else:
        data, described = body["payload"], None

    def push() -> Json:
        exchange = _exchange(principal, key).push(integration_id, contract_id, fmt, data)
        answer = {
            "exchange_id": exchange.exchange_id,
            "status": exchange.status,
            "received_at": dto.stamp(exchange.received_at),
        }
        return json_body(answer, 202)

    return idempotent(principal, push, key=key, body=described)


def pull_integration_data(
    principal: Caller,
    integration_id: str,
    contract_id: str,
    format: str,  # noqa: A002 - the spec names it `format`
    limit: int,
    filters: list[str] | None = None,
    cursor: str | None = None,
) -> Json:
    """Pull the records a contract shares, masked and consent-checked."""
    exchange = _exchange(principal)
    given = [name for name in ("limit", "cursor") if name in request.query_params]
    if format != "json" and given:
        exchange.refuse(
            "pull",
            integration_id,
            contract_id,
            format,
            ValidationFailed(
                "A csv or xml pull is not paginated.",
                errors={f"query.{given[0]}": ["Only a json pull takes limit and cursor."]},
            ),
        )
    pulled = exchange.pull(
        integration_id, contract_id, format, filters or [], limit, cursor, _codec(scp_settings().data_secret)
    )
    entry = pulled.exchange
    output = None
    if entry.file_path:
        output = location(
            "/integrations/{id}/exchanges/{exchange}/output", id=integration_id, exchange=entry.exchange_id
        )
    answer = {
        "exchange_id": entry.exchange_id,
        "status": entry.status,
        "contract_id": entry.contract_id,
        "contract_version_id": entry.contract_version_id,
        "format": entry.format,
        "record_count": entry.record_count,
        "omitted_record_count": entry.omitted_record_count,
        "masked_fields": entry.masked_fields,
        "payload": pulled.payload,
        "next_cursor": pulled.next_cursor,
        "output_url": output,
        "completed_at": dto.stamp(entry.completed_at),
    }
    headers = {"X-SCP-Exchange-Id": entry.exchange_id, "X-SCP-Exchange-Status": entry.status}
    return json_body(answer, 200, headers)


def list_integration_exchanges(
    principal: Caller, integration_id: str, page: int, limit: int, status: str | None = None, since: str | None = None
) -> Json:
    """List an integration's exchange log entries, newest first."""
    moment = dto.instant(since, "query.since") if since is not None else None
    rows, total = _exchange(principal).page(integration_id, status, moment, page, limit)
    return json_body(dto.page(page, limit, total, exchanges_dto.dump(rows)))


def download_integration_exchange_output(principal: Caller, integration_id: str, exchange_id: str) -> ConnexionResponse:
    """Stream the output file of a csv or xml pull."""
    exchange, path = _exchange(principal).output(integration_id, exchange_id)

    def chunks() -> Any:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    name = f"exchange-{exchange.exchange_id}.{exchange.format}"
    return ConnexionResponse(
        status_code=200,
        mimetype="application/octet-stream",
        body=chunks(),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
