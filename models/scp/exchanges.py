"""Data exchange under a contract: push and pull, and the exchange log entry of each.

"Data exchange requests MUST reference an active integration contract": both need an
integration that may exchange in their direction within its window, and an active contract
of it within its window. A push is checked whole when it arrives and refused with every
fault named, or accepted (202) and stored by a worker, all or nothing. A pull reads the
tenant's records, shares only the contract's fields, masked, and applies each consent
requirement; JSON comes in pages with a cursor, CSV and XML as a file written in batches
(never all in memory) and downloaded afterwards.

"Exchange logs MUST be created for each push or pull request": every request that names
an integration the caller may see gets an entry, refused ones too. A refusal rolls the
request's transaction back, so its entry is written in a transaction of its own.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select, update

from core.columns import aware, rfc3339, utcnow
from core.cursors import CursorCodec
from core.jobs import Backlog, Job, JobContext, claim_due
from core.ops.metrics import count_records
from core.problems import ApiProblem, NotFound, PayloadTooLarge, Unprocessable
from core.tabular import TabularError, csv_rows, json_rows, xml_rows
from core.unit_of_work import UnitOfWork
from models.scp import problems
from models.scp.access import Caller
from models.scp.contracts import ACTIVE, ContractTerms
from models.scp.events import API_NAME, EXCHANGE_COMPLETED, EXCHANGE_FAILED, publish
from models.scp.integrations import scope_of
from models.scp.lifecycle import PULL, PUSH, exchange_directions
from models.scp.records import Checked, Masker, RecordError, check, masked_fields, shared
from models.scp.repositories import Contracts, Exchanges, Integrations, Records
from models.scp.settings import ScpSettings
from models.scp.tables import Contract, Exchange, Integration

logger = logging.getLogger(__name__)

ACCEPTED, PROCESSING, COMPLETED, FAILED, REJECTED = "accepted", "processing", "completed", "failed", "rejected"
MAX_RECORDS = 10_000
PUSH_LIMIT = 10 * 1024 * 1024  # bytes of data in one push
PULL_BATCH = 1_000
OUTPUT_RETENTION = timedelta(hours=24)
PAYLOAD_INVALID = problems.PREFIX + "payload-invalid"
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold


@dataclass(frozen=True)
class Request:
    """Who asked, under which key, as the exchange log keeps it."""

    caller: Caller
    request_id: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Pulled:
    exchange: Exchange
    payload: list[dict[str, Any]]
    next_cursor: str | None


def _failure(problem: ApiProblem, record_errors: Sequence[RecordError] = ()) -> dict[str, Any]:
    kind = problem.extensions.get("type") or problems.type_of(problem.status_code)
    errors = [vars(error) for error in record_errors][:100]
    return {"type": kind, "detail": problem.detail or "", "record_errors": errors}


class DataExchange:
    def __init__(self, unit: UnitOfWork, request: Request, settings: ScpSettings) -> None:
        self.unit = unit
        self.request = request
        self.settings = settings
        self.scope = scope_of(unit, request.caller)

    # The log ----------------------------------------------------------------------------------

    def _entry(self, integration: Integration, direction: str, contract_id: str | None, fmt: str | None) -> Exchange:
        return Exchange(
            exchange_id=str(uuid.uuid4()),
            tenant_id=integration.tenant_id,
            integration_id=integration.integration_id,
            contract_id=contract_id,
            direction=direction,
            status=ACCEPTED,
            format=fmt,
            client_id=self.request.caller.client_id,
            request_id=self.request.request_id,
            idempotency_key=self.request.idempotency_key,
            received_at=utcnow(),
            masked_fields=[],
        )

    def _rejected(self, entry: Exchange, problem: ApiProblem, record_errors: Sequence[RecordError] = ()) -> ApiProblem:
        """Log the refusal in a transaction of its own (the request's rolls back), and name the
        entry in the problem."""
        entry.status, entry.completed_at = REJECTED, utcnow()
        entry.failure = _failure(problem, record_errors)
        entry.file_path = entry.due_at = None
        with UnitOfWork(self.unit.database, self.unit.settings) as own:
            own.session.add(entry)
            own.commit()
        problem.extensions = {**problem.extensions, "exchange_id": entry.exchange_id}
        return problem

    def _logged(self, entry: Exchange, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except ApiProblem as refused:
            raise self._rejected(entry, refused, getattr(refused, "record_errors", ())) from None
        except Exception:  # a 500: logged as rejected too, then answered as any other
            self._rejected(entry, ApiProblem("An unexpected error occurred."))
            raise

    # Shared checks ------------------------------------------------------------------------------

    def _integration(self, integration_id: str) -> Integration:
        return Integrations(self.unit, self.scope).found(integration_id)

    def _usable(self, integration: Integration, contract_id: str, direction: str, entry: Exchange) -> Contract:
        now = utcnow()
        if direction not in exchange_directions(integration.status, integration.deprecated_from):
            raise problems.not_exchanging(
                f"Integration {integration.integration_id} is {integration.status}; it may not {direction} data now."
            )
        if aware(integration.active_from) > now or (
            integration.active_until is not None and aware(integration.active_until) <= now
        ):
            raise problems.not_exchanging(f"Integration {integration.integration_id} is outside its active window.")
        contract = Contracts(self.unit, self.scope).of_integration(integration.integration_id, contract_id)
        if contract is None:
            raise NotFound(f"Contract {contract_id} of integration {integration.integration_id} was not found.")
        entry.contract_version_id = contract.version_id
        within = aware(contract.active_from) <= now and (
            contract.active_until is None or aware(contract.active_until) > now
        )
        if contract.status != ACTIVE or not within:
            raise problems.contract_not_active(
                f"Contract {contract_id} is {contract.status}"
                + ("" if within else ", outside its window")
                + "; exchange needs an active contract within its window."
            )
        return contract

    # Push -------------------------------------------------------------------------------------

    def push(self, integration_id: str, contract_id: str, fmt: str, payload: bytes | list[Any]) -> Exchange:
        """Check a push whole and accept it for the worker, or refuse it with every fault named."""
        integration = self._integration(integration_id)
        entry = self._entry(integration, PUSH, contract_id, fmt)
        return self._logged(entry, lambda: self._accept(integration, contract_id, fmt, payload, entry))  # type: ignore[no-any-return]

    def _accept(
        self, integration: Integration, contract_id: str, fmt: str, payload: bytes | list[Any], entry: Exchange
    ) -> Exchange:
        contract = self._usable(integration, contract_id, PUSH, entry)
        rows = _rows(fmt, payload)
        if len(rows) > MAX_RECORDS:
            raise PayloadTooLarge(f"A push holds at most {MAX_RECORDS} records; this one holds {len(rows)}.")
        checked = check(ContractTerms.of(contract), rows, textual=fmt != "json")
        if checked.errors:
            raise _payload_invalid(checked)
        path = self.settings.exchange_dir / f"{entry.exchange_id}.push.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(checked.records, separators=(",", ":")))
        self.unit.after_rollback(lambda: path.unlink(missing_ok=True))
        entry.omitted_record_count, entry.file_path, entry.due_at = checked.omitted, str(path), utcnow()
        self.unit.session.add(entry)
        self.unit.session.flush()
        return entry

    def refuse(
        self, direction: str, integration_id: str, contract_id: str, fmt: str | None, problem: ApiProblem
    ) -> None:
        """Refuse a request a handler finds wrong, with its exchange log entry."""
        integration = self._integration(integration_id)
        raise self._rejected(self._entry(integration, direction, contract_id, fmt), problem)

    # Pull -------------------------------------------------------------------------------------

    def pull(
        self,
        integration_id: str,
        contract_id: str,
        fmt: str,
        filters: Sequence[str],
        limit: int,
        cursor: str | None,
        cursors: CursorCodec,
    ) -> Pulled:
        integration = self._integration(integration_id)
        entry = self._entry(integration, PULL, contract_id, fmt)
        return self._logged(  # type: ignore[no-any-return]
            entry, lambda: self._pull(integration, contract_id, fmt, filters, limit, cursor, cursors, entry)
        )

    def _pull(
        self,
        integration: Integration,
        contract_id: str,
        fmt: str,
        filters: Sequence[str],
        limit: int,
        cursor: str | None,
        cursors: CursorCodec,
        entry: Exchange,
    ) -> Pulled:
        contract = self._usable(integration, contract_id, PULL, entry)
        terms = ContractTerms.of(contract)
        wanted = _filters(terms, filters)
        scope = f"pull:{integration.integration_id}:{contract_id}:{'&'.join(sorted(filters))}"
        after = int(cursors.decode(scope, cursor, length=1)[0]) if cursor else 0
        masker = Masker(self.settings.data_secret, integration.tenant_id, contract.contract_id)
        records = Records(self.unit, integration.tenant_id)
        omitted: list[int] = []  # the ids of the records a missing consent left out

        def matching(last: int) -> Iterator[tuple[int, dict[str, Any]]]:
            """The records the contract shares after id `last`, read a batch at a time."""
            while True:
                batch = records.after(last, PULL_BATCH)
                for row in batch:
                    last = row.id
                    fields = row.fields
                    if not any(name in fields for name in terms.fields):
                        continue
                    out = shared(terms, masker, fields, row.consents)
                    if out is None:
                        # Counted only when nothing is filtered: a count of the records a
                        # filter matched but consent hid would tell what they hold.
                        if not wanted:
                            omitted.append(row.id)
                        continue
                    # On what is shared, never on a value consent redacted.
                    if all(_text(out.get(name)) == value for name, value in wanted):
                        yield row.id, out
                if len(batch) < PULL_BATCH:
                    return

        payload: list[dict[str, Any]] = []
        next_cursor = None
        if fmt == "json":
            page = list(itertools.islice(matching(after), limit + 1))
            if len(page) > limit:  # one more than asked: there is a next page, after the last one shown
                page = page[:limit]
                next_cursor = cursors.encode(scope, [page[-1][0]])
                omitted[:] = [record_id for record_id in omitted if record_id < page[-1][0]]
            payload = [out for _, out in page]
            count = len(payload)
        else:
            path = self.settings.exchange_dir / f"{entry.exchange_id}.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.unit.after_rollback(lambda: path.unlink(missing_ok=True))
            count = _write_output(path, fmt, list(terms.fields), (out for _, out in matching(after)))
            entry.file_path = str(path)
        entry.status, entry.completed_at = COMPLETED, utcnow()
        entry.record_count, entry.omitted_record_count = count, len(omitted)
        count_records(self.unit, API_NAME, "pull", count)
        entry.masked_fields = masked_fields(terms)
        self.unit.session.add(entry)
        self.unit.session.flush()
        exchange_event(self.unit, EXCHANGE_COMPLETED, entry)
        return Pulled(entry, payload, next_cursor)

    # Reading the log ----------------------------------------------------------------------------

    def page(
        self, integration_id: str, status: str | None, since: datetime | None, page: int, limit: int
    ) -> tuple[list[Any], int]:
        self._integration(integration_id)
        return Exchanges(self.unit, self.scope).matching(integration_id, status, since, page, limit)

    def output(self, integration_id: str, exchange_id: str) -> tuple[Exchange, Path]:
        """The output file of a csv or xml pull, while it is kept."""
        self._integration(integration_id)
        exchange = Exchanges(self.unit, self.scope).get(exchange_id)
        if exchange is None or exchange.integration_id != integration_id:
            raise NotFound(f"Exchange {exchange_id} of integration {integration_id} was not found.")
        kept = exchange.direction == PULL and exchange.status == COMPLETED and exchange.file_path
        path = Path(exchange.file_path) if kept else None
        if path is None or not path.is_file():
            raise NotFound(f"Exchange {exchange_id} has no output file (only csv and xml pulls do, for 24 hours).")
        return exchange, path


def exchange_event(unit: UnitOfWork, kind: str, exchange: Exchange) -> None:
    completed = rfc3339(exchange.completed_at) if exchange.completed_at else None
    payload: dict[str, Any] = {
        "exchange_id": exchange.exchange_id,
        "contract_id": exchange.contract_id,
        "direction": exchange.direction,
        "status": exchange.status,
        "format": exchange.format,
        "record_count": exchange.record_count,
        "completed_at": completed,
    }
    if exchange.failure is not None:
        payload["failure"] = exchange.failure
    publish(unit, kind, exchange.integration_id, payload)


def _at_most(fmt: str, payload: bytes) -> None:
    """Refuse more than MAX_RECORDS records before building them (10 MiB of `<record/>` or of
    empty CSV lines would be millions of them): a count of what could start one."""
    marks = payload.count(b"<record") if fmt == "xml" else payload.count(b"\n") - 1 if fmt == "csv" else 0
    if marks > MAX_RECORDS:
        rows = _rows(fmt, payload, counted=True) if fmt == "csv" else None  # a quoted line break is no record
        if rows is None or len(rows) > MAX_RECORDS:
            raise PayloadTooLarge(f"A push holds at most {MAX_RECORDS} records; this one holds more.")


def _rows(fmt: str, payload: bytes | list[Any], counted: bool = False) -> list[Any]:
    if isinstance(payload, list):
        return payload
    if not counted:
        _at_most(fmt, payload)
    try:
        if fmt == "csv":
            return list(csv_rows(payload, source="payload"))
        if fmt == "xml":
            return list(xml_rows(payload, source="payload", root="records", row="record"))
        return list(json_rows(payload, source="payload"))
    except TabularError as fault:
        problem = Unprocessable(str(fault), errors={"body.payload": [str(fault)]}, extensions={"type": PAYLOAD_INVALID})
        problem.record_errors = [RecordError(None, None, str(fault))]
        raise problem from None


def _payload_invalid(checked: Checked) -> Unprocessable:
    errors: dict[str, list[str]] = {}
    for error in checked.errors:
        where = f"body.payload[{error.record_index}]" + (f".{error.field_name}" if error.field_name else "")
        errors.setdefault(where, []).append(error.message)
    count = len(checked.errors)
    problem = Unprocessable(
        f"{count} fault{'s' if count != 1 else ''} against the contract's field list"
        + (" (the first 100)" if count >= 100 else "")
        + ".",
        errors=errors,
        extensions={"type": PAYLOAD_INVALID},
    )
    problem.record_errors = checked.errors
    return problem


def _filters(terms: ContractTerms, filters: Sequence[str]) -> list[tuple[str, str]]:
    wanted = []
    for text in filters:
        name, _, value = text.partition(":")
        field = terms.fields.get(name)
        if field is None or field.masking != "none":
            raise problems.filter_not_allowed(f"The field {name} cannot be filtered on under this contract.")
        wanted.append((name, value))
    return wanted


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_output(path: Path, fmt: str, names: list[str], records: Iterator[dict[str, Any]]) -> int:
    """Write the records to `path` as they come (RFC 4180 CSV, or `records`/`record` XML)."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            writer = csv.writer(handle, dialect="excel", lineterminator="\r\n")
            writer.writerow(names)
            for record in records:
                writer.writerow([_text(record.get(name)) for name in names])
                count += 1
        else:
            handle.write('<?xml version="1.0" encoding="UTF-8"?><records>')
            for record in records:
                parts = io.StringIO()
                for name in names:
                    parts.write(f"<{name}>{escape(XML_ILLEGAL.sub('', _text(record.get(name))))}</{name}>")
                handle.write(f"<record>{parts.getvalue()}</record>")
                count += 1
            handle.write("</records>")
    return count


# The worker ---------------------------------------------------------------------------------


def store_push(unit: UnitOfWork, exchange_pk: int) -> bool:
    """Store one accepted push's records, all or nothing; False if it was not this worker's to do."""
    exchange = unit.session.scalar(select(Exchange).where(Exchange.id == exchange_pk))
    if exchange is None or exchange.status not in (ACCEPTED, PROCESSING) or exchange.file_path is None:
        return False
    # Still this worker's: its lease (the due time the claim set) not taken over by another.
    mine = unit.connection.execute(
        update(Exchange)
        .where(
            Exchange.id == exchange_pk,
            Exchange.status.in_((ACCEPTED, PROCESSING)),
            Exchange.due_at == exchange.due_at,
        )
        .values(status=PROCESSING)
    )
    if mine.rowcount != 1:
        return False
    path = Path(exchange.file_path)
    records = Records(unit, exchange.tenant_id)
    now = utcnow()
    checked: list[list[Any]] = json.loads(path.read_text())
    batch = 1000
    for start in range(0, len(checked), batch):
        records.store(
            [
                {
                    "integration_id": exchange.integration_id,
                    "contract_id": exchange.contract_id,
                    "exchange_id": exchange.exchange_id,
                    "fields": fields,
                    "consents": consents,
                    "created_at": now,
                }
                for fields, consents in checked[start : start + batch]
            ]
        )
    exchange.status, exchange.completed_at, exchange.record_count = COMPLETED, utcnow(), len(checked)
    count_records(unit, API_NAME, "push", len(checked))
    exchange.file_path = exchange.due_at = None
    unit.after_commit(lambda: path.unlink(missing_ok=True))
    exchange_event(unit, EXCHANGE_COMPLETED, exchange)
    return True


def fail_push(unit: UnitOfWork, exchange_pk: int, reason: str) -> None:
    exchange = unit.session.scalar(select(Exchange).where(Exchange.id == exchange_pk))
    if exchange is None or exchange.status not in (ACCEPTED, PROCESSING):
        return  # stored meanwhile (by another worker), or already given up
    path = Path(exchange.file_path) if exchange.file_path else None
    exchange.status, exchange.completed_at = FAILED, utcnow()
    exchange.failure = {"type": "about:blank", "detail": reason, "record_errors": []}
    exchange.file_path = exchange.due_at = None
    if path is not None:
        unit.after_commit(lambda: path.unlink(missing_ok=True))
    exchange_event(unit, EXCHANGE_FAILED, exchange)


def expired_outputs(unit: UnitOfWork, now: datetime) -> list[tuple[int, str]]:
    query = select(Exchange.id, Exchange.file_path).where(
        Exchange.direction == PULL, Exchange.file_path.is_not(None), Exchange.received_at < now - OUTPUT_RETENTION
    )
    return [(row.id, row.file_path) for row in unit.connection.execute(query.limit(200))]


def push_job(batch: int = 5) -> Job:
    """The worker's part of a push: store each accepted one, all or nothing, or mark it failed."""

    def run(context: JobContext) -> int:
        with context.unit() as unit:
            due = claim_due(
                unit,
                Exchange,
                due=Exchange.due_at,
                where=[Exchange.direction == PUSH, Exchange.status.in_((ACCEPTED, PROCESSING))],
                limit=batch,
            )
            unit.commit()
        for exchange_pk in due:
            try:
                with context.unit() as unit:
                    store_push(unit, exchange_pk)
                    unit.commit()
            except Exception as fault:
                logger.exception("could not store push %s", exchange_pk)
                with context.unit() as unit:
                    fail_push(unit, exchange_pk, f"The records could not be stored ({type(fault).__name__}).")
                    unit.commit()
        return len(due)

    waiting = [Exchange.direction == PUSH, Exchange.status.in_((ACCEPTED, PROCESSING))]
    return Job("scp-push", run, interval=1.0, backlog=Backlog(Exchange, Exchange.due_at, Exchange.received_at, waiting))


def outputs_job() -> Job:
    """Forget the output files of pulls older than 24 hours."""

    def run(context: JobContext) -> int:
        with context.unit() as unit:
            expired = expired_outputs(unit, utcnow())
            if expired:
                ids = [exchange_pk for exchange_pk, _ in expired]
                unit.connection.execute(update(Exchange).where(Exchange.id.in_(ids)).values(file_path=None))
            unit.commit()
        for _, path in expired:
            Path(path).unlink(missing_ok=True)
        return len(expired)

    return Job("scp-pull-outputs", run, interval=600.0)
