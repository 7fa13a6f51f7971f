"""Schemathesis over every operation of every mounted spec, in-process against the ASGI app.

For each API, on each request path (fast and stock): one stateless test per operation
(examples, coverage and fuzzing phases with positive and negative data) and one stateful
test that follows the spec's links, so that
`use_after_free` and `ensure_resource_availability` have a history to check. Every built-in
check runs, `ignored_auth` included, with credentials supplied the way a client would.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import OperationConfig

from contract_tests import harness

COMMON: dict[str, Any] = {"database": None, "deadline": None, "suppress_health_check": list(HealthCheck)}


def load_schema(prefix: str, identity: harness.Identity, request_path: str) -> Any:
    schema = schemathesis.openapi.from_asgi(f"{prefix}/openapi.json", harness.app(request_path))
    schema.config.seed = harness.SEED
    schema.config.generation.update(modes=list(schemathesis.GenerationMode), max_examples=harness.EXAMPLES)
    # A schema-valid request may still break a business rule the schema cannot state (no
    # approver's limit covers the total, a cost code that is not the project's): the specs
    # document 422 for exactly that, so it does not count as rejecting valid data.
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]
    for operation_id, statuses in harness.STATE_DEPENDENT_STATUSES.items():
        override = {
            "checks": {"positive_data_acceptance": {"expected-statuses": [*acceptance.expected_statuses, *statuses]}}
        }
        schema.config.operations.operations.append(
            OperationConfig.from_dict({"include-operation-id": operation_id, **override})
        )

    @schema.auth(refresh_interval=None)
    class ClientCredentials:
        def get(self, case: Any, context: Any) -> str:
            return identity.authorization_for(case.operation.definition.raw.get("operationId"))

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}

    return schema


def stateless_test(schema: Any) -> Any:
    @schema.parametrize()
    @settings(max_examples=harness.EXAMPLES, **COMMON)
    def test(case: Any) -> None:
        case.call_and_validate()

    return test


def stateful_test(schema: Any, identity: harness.Identity) -> Any:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            identity.renew()

    case = hypothesis.seed(harness.SEED)(Workflow).TestCase
    case.settings = settings(
        case.settings, max_examples=harness.EXAMPLES, stateful_step_count=harness.STATEFUL_STEPS, **COMMON
    )
    return case


for _mount in harness.mounts():
    for _path in harness.PATHS:
        _identity = harness.IDENTITIES[_mount.name](harness.settings())
        _schema = load_schema(_mount.prefix, _identity, _path)
        _name = _mount.name.title().replace("_", "")
        globals()[f"test_{_mount.name}_operations_{_path}"] = stateless_test(_schema)
        globals()[f"Test{_name}Workflows{_path.title()}"] = stateful_test(_schema, _identity)
