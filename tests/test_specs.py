"""Every spec in specs/ is valid OpenAPI, and every example in it matches its schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30Validator, OAS31Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from core.config import PROJECT_ROOT

SPECS = sorted((PROJECT_ROOT / "specs").glob("*.yaml"))
SPEC_URI = "urn:spec"


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def examples(node: Any, pointer: str = "", root: Any = None) -> Iterator[tuple[str, str, Any]]:
    """(pointer of the schema, where the example is, the example) for every example in the document."""
    root = node if root is None else root
    if isinstance(node, dict):
        if "example" in node and isinstance(node.get("schema"), dict):
            yield f"{pointer}/schema", f"{pointer}/example", node["example"]
        elif "example" in node and _is_schema(pointer):
            yield pointer, f"{pointer}/example", node["example"]
        for name, example in (node.get("examples") or {}).items() if "schema" in node else []:
            if "$ref" in example:  # a shared example under components/examples
                example = _resolve(root, example["$ref"])
            yield f"{pointer}/schema", f"{pointer}/examples/{name}", example.get("value")
        for key, value in node.items():
            yield from examples(value, f"{pointer}/{_escape(key)}", root)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from examples(value, f"{pointer}/{index}", root)


def _resolve(root: Any, ref: str) -> Any:
    """The node a local `$ref` (`#/components/examples/Name`) points at."""
    node = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _is_schema(pointer: str) -> bool:
    parts = pointer.split("/")
    return "schemas" in parts or "schema" in parts or "properties" in parts or "items" in parts


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


@pytest.mark.parametrize("path", SPECS, ids=[path.name for path in SPECS])
def test_spec_is_valid_openapi(path: Path) -> None:
    validate(load(path))


@pytest.mark.parametrize("path", SPECS, ids=[path.name for path in SPECS])
def test_every_example_matches_its_schema(path: Path) -> None:
    document = load(path)
    validator_class = OAS31Validator if str(document["openapi"]).startswith("3.1") else OAS30Validator
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document))
    found = list(examples(document))
    assert found, "the spec has examples"
    failures = []
    for schema_pointer, example_pointer, example in found:
        validator = validator_class(
            {"$ref": f"{SPEC_URI}#{schema_pointer}"}, registry=registry, format_checker=validator_class.FORMAT_CHECKER
        )
        error = best_match(validator.iter_errors(example))
        if error is not None:
            failures.append(f"{example_pointer}: {error.message}")
    assert not failures, "\n".join(failures)


def test_every_operation_id_is_unique_and_every_operation_is_secured() -> None:
    for path in SPECS:
        document = load(path)
        operations = [
            (operation["operationId"], operation.get("security", document.get("security")))
            for item in document["paths"].values()
            for method, operation in item.items()
            if method in {"get", "put", "post", "delete", "patch"}
        ]
        ids = [operation_id for operation_id, _ in operations]
        assert len(ids) == len(set(ids)), path.name
        if path.name == "order_accept.yaml":
            assert all(security == [{"bearerAuth": []}] for _, security in operations)
