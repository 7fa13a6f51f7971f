"""Schemathesis over every operation of every mounted spec, in-process against the ASGI app.

For each API: one stateless test per operation (examples, coverage and fuzzing phases
with positive and negative data) and, once its spec has links, one stateful test that follows them, so
that `use_after_free` and `ensure_resource_availability` have a history to check. Every
built-in check runs, `ignored_auth` included, with credentials supplied the way a client
of that API would (its `demo_client`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import OperationConfig
from schemathesis.config._phases import InferenceConfig
from schemathesis.core import NotSet

from contract_tests import harness
from core.api import Api, DemoClient
from core.config import PROJECT_ROOT

COMMON: dict[str, Any] = {"database": None, "deadline": None, "suppress_health_check": list(HealthCheck)}


def load_schema(api: Api[Any], client: DemoClient) -> Any:
    schema = schemathesis.openapi.from_asgi(f"{api.prefix}/openapi.json", harness.app())
    schema.config.seed = harness.SEED
    # No string holds U+0000: every spec says so (PostgreSQL's text cannot hold it), and such a
    # request answers 400 (tests/test_bad_input.py checks that).
    schema.config.generation.update(
        modes=list(schemathesis.GenerationMode), max_examples=harness.EXAMPLES, allow_x00=False
    )
    # A schema-valid request may still break a business rule the schema cannot state (no
    # approver's limit covers the total, a cost code that is not the project's): the specs
    # document 422 for exactly that, so it does not count as rejecting valid data.
    # More lines than an import takes is refused as too large (413), as the source document says.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]
    # The workflows follow the links the specs declare and the ones a 201's Location implies;
    # links inferred from list bodies name whatever item a shared, growing database lists
    # first, so a replayed example would meet another resource (hypothesis calls that flaky).
    schema.config.phases.stateful.inference = InferenceConfig(algorithms=["location-headers"])
    for operation_id, statuses in api.state_dependent_statuses.items():
        override = {
            "checks": {"positive_data_acceptance": {"expected-statuses": [*acceptance.expected_statuses, *statuses]}}
        }
        schema.config.operations.operations.append(
            OperationConfig.from_dict({"include-operation-id": operation_id, **override})
        )

    @schema.auth(refresh_interval=None)
    class ClientCredentials:
        def get(self, case: Any, context: Any) -> dict[str, str]:
            return client.headers_for(case.operation.definition.raw.get("operationId"))

        def set(self, case: Any, data: dict[str, str], context: Any) -> None:
            case.headers = {**(case.headers or {}), **data}

    CLIENTS[api.prefix] = client

    return schema


CLIENTS: dict[str, DemoClient] = {}  # each API's client, by the API's prefix


@schemathesis.hook("before_call")
def sign_bodies(context: Any, case: Any, **kwargs: Any) -> None:
    """Right before a request goes, when its case is final: name the deployment's own reference
    data in a valid body, and sign the body, if its client does either."""
    for prefix, client in CLIENTS.items():
        if case.operation.full_path.startswith(prefix + "/"):
            _refer(client, case)
            _sign(client, case)


def _positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    positive = schemathesis.GenerationMode.POSITIVE
    return meta is None or (
        meta.generation.mode == positive and all(part.mode == positive for part in meta.components.values())
    )


def _refer(client: DemoClient, case: Any) -> None:
    """A valid body names what the deployment has (a vertical of its catalogue, the caller's own
    tenant), as a real client's would: ids the schema admits but no deployment holds are
    refused (422, 403), and would keep every workflow from getting past its first step."""
    refer = getattr(client, "refer", None)
    if refer is not None and isinstance(case.body, dict) and _positive(case):
        refer(case.operation.definition.raw.get("operationId"), case.body)
    # A client's new request gets a key of its own: a generated key met again would replay an
    # earlier example's answer, naming a resource that example has since moved on (archived,
    # say), and a replayed example would take another path than it did the first time.
    keys = [name for name in case.headers or {} if name.lower() == "idempotency-key"]
    if getattr(client, "fresh_idempotency_keys", False) and keys and _positive(case):
        case.headers[keys[0]] = str(uuid.uuid4())


def _sign(client: DemoClient, case: Any) -> None:
    """Sign a valid JSON body as the API's client would (a webhook sender's signature over the
    exact bytes), when the client signs bodies: the body is serialised here, so the signed
    bytes are the bytes sent. Cases made to be refused stay unsigned."""
    signed_headers = getattr(client, "signed_headers", None)
    if signed_headers is None or case.media_type != "application/json":
        return
    meta = getattr(case, "meta", None)
    positive = schemathesis.GenerationMode.POSITIVE
    if meta is not None and (
        meta.generation.mode != positive
        or any(part.mode != positive for part in meta.components.values())
        # Only the spec's own examples: a generated case may be judged invalid by a made-up
        # header whose value the signature replaces.
        or meta.phase.name != "examples"
    ):
        return  # unsigned, it is refused with 403
    if isinstance(case.body, bytes | NotSet) or case.body is None:
        return
    try:
        raw = json.dumps(case.body, allow_nan=False).encode()
    except (TypeError, ValueError):
        return
    signature = signed_headers(case.operation.definition.raw.get("operationId"), raw)
    if signature:  # in place of any made-up one: a valid signature is as positive as any string
        named = {name.lower() for name in signature}
        kept = {name: value for name, value in (case.headers or {}).items() if name.lower() not in named}
        case.body = raw
        case.headers = {**kept, **signature}


def stateless_test(schema: Any) -> Any:
    @schema.parametrize()
    @settings(max_examples=harness.EXAMPLES, **COMMON)
    def test(case: Any) -> None:
        case.call_and_validate()

    return test


def stateful_test(schema: Any, client: DemoClient) -> Any:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            client.renew()

    case = hypothesis.seed(harness.SEED)(Workflow).TestCase
    case.settings = settings(
        case.settings, max_examples=harness.EXAMPLES, stateful_step_count=harness.STATEFUL_STEPS, **COMMON
    )
    return case


def has_links(document: Any) -> bool:
    """Whether any response of the served spec links to another operation (a workflow to follow)."""
    return any(
        "links" in response
        for item in document.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
    )


for _api in harness.apis():
    _client = harness.client_of(_api)
    _schema = load_schema(_api, _client)
    _name = _api.name.title().replace("_", "")
    globals()[f"test_{_api.name}_operations"] = stateless_test(_schema)
    if has_links(_api.served_document(harness.settings())):  # an API serving one operation has no workflow yet
        globals()[f"Test{_name}Workflows"] = stateful_test(_schema, _client)


def load_ops_schema() -> Any:
    """The operations spec (probes and metrics), which every node serves beside the APIs."""
    schema = schemathesis.openapi.from_path(PROJECT_ROOT / "specs" / "ops.yaml")
    schema.app = harness.app()
    schema.config.seed = harness.SEED
    schema.config.generation.update(
        modes=list(schemathesis.GenerationMode), max_examples=harness.EXAMPLES, allow_x00=False
    )
    return schema


test_ops_operations = stateless_test(load_ops_schema())
