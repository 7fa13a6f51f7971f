"""Bad input gets a clear 4xx in the API's own format, at once: never a 500, never a stalled worker.

Every operation with a request body, of every mounted API, is sent the whole class of
malformed bodies: larger than its limit, nested too deeply, non-finite numbers, a lone
surrogate, invalid UTF-8, media types spelled in odd case or with a foreign charset, no
media type, and `null` for a body that must be an object. Each call is authenticated as
that API's demo client would, so the body, not the credential, is what gets judged. An
API added later is covered as soon as it is mounted.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from connexion.spec import Specification
from starlette.testclient import TestClient

from core.api import Api, DemoClient, Mounted, configure, mounted, registered
from core.config import Settings
from core.database import Database
from core.factory import create_app

QUICK = 1.0  # seconds: a refusal takes no longer than this


@dataclass(frozen=True)
class BodyOperation:
    api: Api[Any]
    operation_id: str
    method: str
    path: str
    media_types: tuple[str, ...]
    required: bool
    takes_objects_only: bool  # its JSON body's schema says `type: object`
    file_part: str = "file"  # the name of its multipart form's file part

    @property
    def is_json(self) -> bool:
        return any(media.endswith("json") for media in self.media_types)

    def __str__(self) -> str:
        return f"{self.api.name}.{self.operation_id}"


def _example(parameter: dict[str, Any]) -> str:
    """A valid value of a path parameter: its example, else one its schema admits."""
    schema = parameter.get("schema", {})
    example = parameter.get("example", schema.get("example"))
    if example is not None:
        return str(example)
    if schema.get("type") == "integer":
        return str(max(int(schema.get("minimum", 1)), 1))
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    return "x"


def _operations() -> list[BodyOperation]:
    settings = Settings.from_env({"INSTANCE_DIR": "/nonexistent"})
    found = []
    for api in mounted(settings, registered()):
        document = Specification.load(api.spec_path(settings))  # with every $ref resolved
        for template, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method, operation in item.items():
                if not isinstance(operation, dict) or "requestBody" not in operation:
                    continue
                if not api.serves(operation["operationId"]):
                    continue
                path, query = template, []
                for parameter in [*shared, *operation.get("parameters", [])]:
                    if parameter.get("in") == "path":
                        path = path.replace("{" + parameter["name"] + "}", _example(parameter))
                    elif parameter.get("in") == "query" and parameter.get("required"):  # a valid one
                        query.append(f"{parameter['name']}={_example(parameter)}")
                path += f"?{'&'.join(query)}" if query else ""
                body = operation["requestBody"]
                schemas = [media.get("schema", {}) for media in body.get("content", {}).values()]
                found.append(
                    BodyOperation(
                        api,
                        operation["operationId"],
                        method.upper(),
                        api.prefix + path,
                        tuple(body.get("content", {})),
                        bool(body.get("required")),
                        all(schema.get("type") == "object" for schema in schemas),
                        next(
                            (
                                name
                                for media, content in body.get("content", {}).items()
                                if media == "multipart/form-data"
                                for name, prop in content.get("schema", {}).get("properties", {}).items()
                                if prop.get("format") == "binary"
                            ),
                            "file",
                        ),
                    )
                )
    return found


OPERATIONS = _operations()
JSON_OPERATIONS = [operation for operation in OPERATIONS if operation.is_json]
# Those refusing a body that is no object (a webhook receiver may take any JSON and keep it).
OBJECT_OPERATIONS = [operation for operation in JSON_OPERATIONS if operation.takes_objects_only]


@pytest.fixture(scope="module")
def callers(database: Settings) -> Iterator[dict[str, DemoClient]]:
    db = Database(database.database_url)
    yield {
        api.name: api.demo_client(Mounted(api, database, db))
        for api in mounted(database, registered())
        if api.demo_client is not None
    }
    db.dispose()


def send(
    client: TestClient,
    callers: dict[str, DemoClient],
    operation: BodyOperation,
    content: bytes,
    content_type: str | None,
) -> Any:
    headers = (
        dict(callers[operation.api.name].headers_for(operation.operation_id)) if operation.api.name in callers else {}
    )
    if content_type is not None:
        headers["Content-Type"] = content_type
    started = time.perf_counter()
    response = client.request(operation.method, operation.path, content=content, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code < 500, (str(operation), response.status_code, response.text[:500])
    assert elapsed < QUICK, (str(operation), elapsed)
    return response


def errors_of(response: Any) -> Any:
    """The field errors by field, wherever the API's format keeps them (a list of RFC 9457
    `{pointer, detail}` members, a mapping of field to messages, a SCIM error's `detail`, or an OAuth error's
    `error_description`)."""
    body = response.json()
    if "urn:ietf:params:scim:api:messages:2.0:Error" in body.get("schemas", []):  # says them in `detail`
        return {"$": [body["detail"]]} if "detail" in body else None
    if isinstance(body.get("error"), str):  # an OAuth 2.0 token error says them in `error_description`
        return {"$": [body["error_description"]]} if "error_description" in body else None
    errors = body["errors"] if "errors" in body else body.get("error", {}).get("details", {}).get("errors")
    if isinstance(errors, list):
        grouped: dict[str, list[str]] = {}
        for error in errors:
            where, said = (
                (error["pointer"], error["detail"]) if "pointer" in error else (error["field"], error["message"])
            )
            where = "$" if where in ("", "body") else where.removeprefix("body.")  # "body" is the whole body
            grouped.setdefault(where, []).append(said)
        return grouped
    return errors


def status_and_message(response: Any) -> tuple[int, str]:
    return response.status_code, " ".join(
        message for messages in (errors_of(response) or {}).values() for message in messages
    )


MALFORMED_JSON = [
    pytest.param(b"[" * 1000 + b"]" * 1000, "nested too deeply", id="nested-1000-deep"),
    pytest.param(b"[" * 800 + b"]" * 800, "nested too deeply", id="nested-800-deep"),
    pytest.param(b'{"a": ' + b"[" * 300 + b"]" * 300 + b"}", "nested too deeply", id="member-nested-300-deep"),
    pytest.param(b'{"n": NaN}', "NaN is not a JSON number", id="nan"),
    pytest.param(b'{"n": Infinity}', "Infinity is not a JSON number", id="infinity"),
    pytest.param(b'{"n": -Infinity}', "-Infinity is not a JSON number", id="minus-infinity"),
    pytest.param(b'{"n": 1e999}', "out of range", id="float-overflow"),
    pytest.param(b'{"n": ' + b"9" * 5000 + b"}", "Invalid JSON", id="five-thousand-digits"),
    pytest.param(b'{"s": "\\ud800"}', "lone UTF-16 surrogate", id="lone-surrogate"),
    pytest.param(b'{"\\udfff": 1}', "lone UTF-16 surrogate", id="lone-surrogate-key"),
    pytest.param(b'{"s": "\xff\xfe"}', "not valid UTF-8", id="invalid-utf-8"),
    pytest.param(b'{"s": "a\\u0000b"}', "NUL character", id="nul-in-a-string"),
    pytest.param(b'{"a\\u0000": 1}', "NUL character", id="nul-in-a-key"),
    pytest.param(b'{"s": ', "Invalid JSON", id="truncated"),
]


@pytest.mark.parametrize("operation", JSON_OPERATIONS, ids=str)
@pytest.mark.parametrize(("content", "said"), MALFORMED_JSON)
def test_malformed_json_is_400(
    client: TestClient, callers: dict[str, DemoClient], operation: BodyOperation, content: bytes, said: str
) -> None:
    response = send(client, callers, operation, content, "application/json")

    status, message = status_and_message(response)
    assert status == 400, response.text
    assert said in message
    assert "codec" not in response.text, "the decoder's own words stay inside"


@pytest.mark.parametrize("operation", OBJECT_OPERATIONS, ids=str)
@pytest.mark.parametrize("spelling", ["APPLICATION/JSON", "Application/Json", "application/json; charset=UTF-8"])
def test_a_media_type_in_any_case_is_validated_as_json(
    client: TestClient, callers: dict[str, DemoClient], operation: BodyOperation, spelling: str
) -> None:
    response = send(client, callers, operation, b"[]", spelling)

    assert response.status_code == 400, response.text
    assert errors_of(response) == {"$": ["Must be of type object."]}


@pytest.mark.parametrize("operation", OBJECT_OPERATIONS, ids=str)
def test_null_is_not_an_object(client: TestClient, callers: dict[str, DemoClient], operation: BodyOperation) -> None:
    response = send(client, callers, operation, b"null", "application/json")

    assert response.status_code == 400, response.text
    assert errors_of(response) == {"$": ["Must be of type object."]}


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(None, id="none"),
        pytest.param("application/json; charset=latin-1", id="foreign-charset"),
        pytest.param("text/x-unheard-of", id="undeclared"),
    ],
)
def test_an_unsupported_media_type_is_415(
    client: TestClient, callers: dict[str, DemoClient], operation: BodyOperation, content_type: str | None
) -> None:
    if content_type and content_type.startswith("application/json") and not operation.is_json:
        content_type = "text/x-unheard-of"
    response = send(client, callers, operation, b'{"a": 1}', content_type)

    assert response.status_code == 415, response.text


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_body_over_the_limit_is_413_before_it_is_read(
    client: TestClient, callers: dict[str, DemoClient], operation: BodyOperation, database: Settings
) -> None:
    limit = operation.api.body_limit_of(configure(database, [operation.api]), operation.operation_id)
    media_type = "application/json" if operation.is_json else operation.media_types[0] + "; boundary=x"

    response = send(client, callers, operation, b" " * (limit + 1), media_type)

    assert response.status_code == 413, response.text


@pytest.mark.parametrize("operation", [operation for operation in OPERATIONS if not operation.required], ids=str)
def test_an_optional_body_may_be_left_out(
    client: TestClient, callers: dict[str, DemoClient], operation: BodyOperation
) -> None:
    response = send(client, callers, operation, b"", None)

    assert response.status_code not in (400, 413, 415), response.text


def test_every_mounted_api_with_bodies_has_its_operations_here() -> None:
    """The list above is made from the specs: every mounted API that takes bodies is in it."""
    settings = Settings.from_env({"INSTANCE_DIR": "/nonexistent"})
    with_bodies = {
        api.name
        for api in mounted(settings, registered())
        if any(
            isinstance(operation, dict) and "requestBody" in operation
            for item in Specification.load(api.spec_path(settings))["paths"].values()
            for operation in item.values()
        )
    }

    assert with_bodies
    assert {operation.api.name for operation in OPERATIONS} == with_bodies


def test_a_50_mb_body_is_refused_at_once_while_the_worker_keeps_serving(database: Settings) -> None:
    """Read in chunks, with no Content-Length to trust: refused as soon as it passes the limit."""
    app = create_app(database)
    order_accept = next(api for api in mounted(database, registered()) if api.name == "order_accept")
    db = Database(database.database_url)
    assert order_accept.demo_client is not None
    headers = order_accept.demo_client(Mounted(order_accept, database, db)).headers_for("createOrder")
    db.dispose()
    chunk = b'{"productId":"AZ-700","quantity":1},' * 1000

    def body() -> Any:
        yield b'{"items":['
        for _ in range(50 * 1024 * 1024 // len(chunk)):
            yield chunk
        yield b"]}"

    with TestClient(app) as client:
        started = time.perf_counter()
        refused = client.post(
            "/order-accept/api/orders", content=body(), headers={**headers, "Content-Type": "application/json"}
        )
        elapsed = time.perf_counter() - started
        served = client.get("/order-accept/api/products/AZ-700", headers=headers)

    assert refused.status_code == 413
    assert elapsed < QUICK
    assert served.status_code == 200


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_the_spec_documents_these_answers(operation: BodyOperation, settings: Settings) -> None:
    spec = Specification.load(operation.api.spec_path(settings))
    documented = next(
        item[operation.method.lower()]["responses"]
        for item in spec["paths"].values()
        if operation.method.lower() in item
        and item[operation.method.lower()].get("operationId") == operation.operation_id
    )

    assert {"400", "413", "415"} <= set(documented)


MULTIPART_OPERATIONS = [operation for operation in OPERATIONS if "multipart/form-data" in operation.media_types]


@pytest.mark.parametrize("operation", MULTIPART_OPERATIONS, ids=str)
@pytest.mark.parametrize(
    ("content", "field"),
    [
        pytest.param(b'--b\r\nContent-Disposition: form-data; name="{file}"\r\n\r\nnot a file\r\n--b--\r\n', "{file}",
                     id="file-part-without-a-filename"),
        pytest.param(b'--b\r\nContent-Disposition: form-data; name="stranger"\r\n\r\nx\r\n--b--\r\n', "stranger",
                     id="unknown-part"),
        pytest.param(b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n", "$", id="part-without-a-name"),
        pytest.param(b"--b\r\n", "{file}", id="truncated"),
    ],
)  # fmt: skip
def test_a_malformed_form_is_400(
    client: TestClient, callers: dict[str, DemoClient], operation: BodyOperation, content: bytes, field: str
) -> None:
    content = content.replace(b"{file}", operation.file_part.encode())  # the operation's own file part
    field = field.replace("{file}", operation.file_part)
    response = send(client, callers, operation, content, "Multipart/Form-Data; boundary=b")

    assert response.status_code == 400, response.text
    assert field in errors_of(response), response.text
