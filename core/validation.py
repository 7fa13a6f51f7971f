"""Request validation against the spec's schemas, reporting every invalid field by its path.

Schemas are checked by jsonschema-rs (compiled once per schema, from OpenAPI 3.0 to JSON
Schema draft 4: `nullable` and the integer formats become plain keywords). Clients of these
APIs want each field's messages so they can show them beside the field, so errors are
grouped by path (`items[0].quantity`, `$` for the body as a whole) and described in
sentences. At most `MAX_ERRORS` problems are reported: a huge rejected body costs no
more to refuse than a small one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jsonschema_rs
from connexion.lifecycle import ConnexionRequest
from connexion.uri_parsing import OpenAPIURIParser
from connexion.utils import is_null, is_nullable

from core.problems import FieldErrors, ValidationFailed

BODY_ROOT = "$"
MAX_ERRORS = 100
MAX_QUERY_PARAMETERS = 100
_INTEGER_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_WEAK_KEYWORDS = frozenset({"anyOf", "oneOf"})
_NOT_KEYWORDS = frozenset({"nullable", "components"})


def to_json_schema(schema: Any) -> Any:
    """Translate an (already dereferenced) OpenAPI 3.0 schema into plain JSON Schema draft 4."""
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    # Connexion writes the spec's `components` into the (shared) schemas it validates responses
    # with; they are no keyword, and through them a schema would contain itself.
    converted = {key: to_json_schema(value) for key, value in schema.items() if key not in _NOT_KEYWORDS}
    if schema.get("nullable") is True:
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
    bounds = _INTEGER_RANGES.get(str(schema.get("format")))
    if bounds and schema.get("type") == "integer":
        low, high = bounds
        converted["minimum"] = max(converted.get("minimum", low), low)
        converted["maximum"] = min(converted.get("maximum", high), high)
    return converted


SMALL = 256  # an instance of fewer nodes than this is checked whole
# Keywords a large container's own check may keep: they look at its shape, not its members.
_SHAPE_KEYWORDS = frozenset(
    {"type", "minItems", "maxItems", "required", "minProperties", "maxProperties", "properties",
     "additionalProperties", "title", "description", "example", "default", "format"}
)  # fmt: skip


@dataclass(frozen=True)
class _Found:
    """One problem: where in the instance, and jsonschema-rs's error against `schema` there."""

    path: list[str | int]
    schema: dict[str, Any]
    error: Any

    @property
    def keyword(self) -> str:
        return str(self.error.schema_path[-1]) if self.error.schema_path else ""


class SchemaValidator:
    """One schema, compiled once, checked quickly and described field by field when it fails.

    jsonschema-rs lists every error of an instance at once, each with the failing value in
    its message, so listing the errors of a large rejected body whole would take seconds.
    A small instance is checked whole; a large one is walked: its own keywords checked on a
    stand-in of its shape, then its members one by one, skipping the valid ones, until
    `MAX_ERRORS` problems are found.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = to_json_schema(schema)
        # By the id of each (sub)schema; every one is part of `self.schema` or kept in `_shapes`.
        self._compiled: dict[int, Any] = {}
        self._shapes: dict[int, dict[str, Any] | None] = {}

    def _validator(self, schema: dict[str, Any]) -> Any:
        validator = self._compiled.get(id(schema))
        if validator is None:
            validator = self._compiled[id(schema)] = jsonschema_rs.Draft4Validator(schema)
        return validator

    def is_valid(self, instance: Any) -> bool:
        try:
            return bool(self._validator(self.schema).is_valid(instance))
        except ValueError as exc:  # jsonschema-rs stops at 256 levels of nesting
            raise too_deep() from exc

    def errors(self, instance: Any, prefix: Sequence[str | int] = ()) -> FieldErrors:
        """The first `MAX_ERRORS` problems with `instance`, most specific first, by field path."""
        found: list[_Found] = []
        try:
            self._walk(self.schema, instance, [], found)
        except ValueError as exc:
            raise too_deep() from exc
        found.sort(key=_relevance)
        result: FieldErrors = {}

        def add(path: Sequence[str | int], message: str) -> None:
            # Some keywords report once per missing or unknown name, others once for all.
            messages = result.setdefault(field_path([*prefix, *path]), [])
            if message not in messages:
                messages.append(message)

        for problem in found:
            kind = problem.error.kind
            if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
                add([*problem.path, kind.property], "This field is required.")
            elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
                for name in kind.unexpected:
                    add([*problem.path, name], "Unknown property.")
            elif (
                conditional := required_when(problem.keyword, _at(problem.schema, problem.error.schema_path))
            ) is not None:
                name, message = conditional
                add([*problem.path, name], message)
            else:
                parent = _at(problem.schema, problem.error.schema_path[:-1])
                add(problem.path, describe(problem.keyword, parent.get(problem.keyword), parent, problem.error.message))
        return result

    def _walk(self, schema: dict[str, Any], instance: Any, path: list[str | int], found: list[_Found]) -> None:
        if len(found) >= MAX_ERRORS:
            return
        validator = self._validator(schema)
        if validator.is_valid(instance):
            return
        shape = self._shape(schema)
        if shape is None or _nodes(instance) < SMALL:
            self._check_whole(schema, instance, path, found)
            return
        before = len(found)
        if isinstance(instance, list):
            self._check_whole(shape, [None] * len(instance), path, found)
            items = schema.get("items")
            if len(found) == before and isinstance(items, dict):
                for index, item in enumerate(instance):
                    self._walk(items, item, [*path, index], found)
        elif isinstance(instance, dict):
            self._check_whole(shape, dict.fromkeys(instance), path, found)
            properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
            for name, value in instance.items():
                member = properties.get(name, extra if isinstance(extra, dict) else None)
                if member is not None:
                    self._walk(member, value, [*path, name], found)
        if len(found) == before:  # a keyword the walk does not split (uniqueItems, say): its first error
            try:
                validator.validate(instance)
            except jsonschema_rs.ValidationError as error:
                found.append(_Found([*path, *error.instance_path], schema, error))

    def _check_whole(self, schema: dict[str, Any], instance: Any, path: list[str | int], found: list[_Found]) -> None:
        for error in self._validator(schema).iter_errors(instance):
            found.append(_Found([*path, *error.instance_path], schema, error))
            if len(found) >= MAX_ERRORS:
                return

    def _shape(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        """`schema`'s own keywords, to check a container's shape on a stand-in (its members as
        null); None when a keyword would need the members themselves."""
        if id(schema) not in self._shapes:
            kept: dict[str, Any] | None = {
                key: value
                for key, value in schema.items()
                if key not in ("items", "properties", "additionalProperties")
            }
            if kept is not None and set(kept) - _SHAPE_KEYWORDS - {"uniqueItems"}:
                kept = None
            elif kept is not None:
                kept.pop("uniqueItems", None)
                kept["properties"] = {name: {} for name in schema.get("properties", {})}
                if schema.get("additionalProperties") is False:
                    kept["additionalProperties"] = False
            self._shapes[id(schema)] = kept
        return self._shapes[id(schema)]


def too_deep() -> ValidationFailed:
    message = "The request body is nested too deeply."
    return ValidationFailed(message, errors={BODY_ROOT: [message]})


def _nodes(instance: Any, limit: int = SMALL) -> int:
    """How many values `instance` holds, counted up to `limit`."""
    count, pending = 0, [instance]
    while pending and count < limit:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return count


def _relevance(found: _Found) -> tuple[Any, ...]:
    """Deeper first, then siblings in path order, a weak keyword (anyOf, oneOf) last: as jsonschema sorts."""
    path = [(0, part) if isinstance(part, int) else (1, str(part)) for part in found.path]
    return (-len(path), path, found.keyword in _WEAK_KEYWORDS)


def _at(schema: Any, path: Iterable[str | int]) -> dict[str, Any]:
    node = schema
    for part in path:
        node = node[part]
    return node if isinstance(node, dict) else {}


def field_path(parts: Iterable[str | int]) -> str:
    """Render a JSON path as `items[0].quantity`; the body itself is `$`."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or BODY_ROOT


def required_when(keyword: str, negated: Any) -> tuple[str, str] | None:
    """The field, and a sentence, of OpenAPI 3.0's way of writing "B is required when A is V"
    (it has no if/then): `not: {required: [A], properties: {A: {enum: [V]}}, not: {required: [B]}}`."""
    if keyword != "not" or not isinstance(negated, Mapping):
        return None
    condition, inner = negated.get("required"), negated.get("not")
    if not (isinstance(condition, list) and len(condition) == 1 and isinstance(inner, Mapping)):
        return None
    needed = inner.get("required")
    values = negated.get("properties", {}).get(condition[0], {}).get("enum")
    if not (isinstance(needed, list) and len(needed) == 1 and isinstance(values, list) and len(values) == 1):
        return None
    return str(needed[0]), f"{needed[0]} is required when {condition[0]} is {values[0]}."


def describe(keyword: str, value: Any, schema: Mapping[str, Any], fallback: str = "Invalid value.") -> str:
    """A sentence a person can act on, for the common JSON Schema keywords."""
    if keyword == "type":
        types = [name for name in (value if isinstance(value, list) else [value]) if name != "null"]
        if isinstance(value, list) and "null" in value:
            types.append("null")
        return f"Must be of type {' or '.join(map(str, types))}."
    bounds = _INTEGER_RANGES.get(str(schema.get("format")))
    if bounds and keyword in ("minimum", "maximum") and value in bounds:
        return f"Must be a valid {schema['format']}."
    if keyword in ("minimum", "exclusiveMinimum"):
        exclusive = schema.get("exclusiveMinimum") is True
        return f"Must be greater than {'' if exclusive else 'or equal to '}{schema.get('minimum')}."
    if keyword in ("maximum", "exclusiveMaximum"):
        exclusive = schema.get("exclusiveMaximum") is True
        return f"Must be less than {'' if exclusive else 'or equal to '}{schema.get('maximum')}."
    messages = {
        "minLength": f"Must be at least {value} characters long.",
        "maxLength": f"Must be at most {value} characters long.",
        "minItems": f"Must contain at least {value} item(s).",
        "maxItems": f"Must contain at most {value} item(s).",
        "pattern": f"Must match the pattern {value}.",
        "format": f"Must be a valid {value}.",
        "uniqueItems": "Items must be unique.",
        "multipleOf": f"Must be a multiple of {value}.",
        "minProperties": f"Must have at least {value} member(s).",
        "maxProperties": f"Must have at most {value} member(s).",
    }
    if keyword == "enum" and isinstance(value, list):
        return f"Must be one of: {', '.join(map(str, value))}."
    return messages.get(keyword, fallback)


# Parameters -------------------------------------------------------------------------------

# What a number in a URL may look like; Python's int() and float() also take " 1", "1_0",
# other scripts' digits, "nan" and "inf", which no client means as a number.
_STRICT_NUMBERS = {
    "integer": re.compile(r"-?[0-9]+"),
    "number": re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?"),
}


def form_value(texts: list[str], schema: Mapping[str, Any]) -> Any:
    """A form field's value as its schema types it: numbers and booleans only when written as
    such (anything else stays text, for validation to refuse), the last value unless an array."""
    if schema.get("type") == "array":
        return [_scalar(text, schema.get("items", {})) for text in texts]
    return _scalar(texts[-1], schema)


def _scalar(text: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type", "")
    pattern = _STRICT_NUMBERS.get(kind)
    if pattern is not None and pattern.fullmatch(text) and math.isfinite(float(text)):
        return int(text) if kind == "integer" else float(text)
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


class StrictURIParser(OpenAPIURIParser):
    """Connexion's URI parser, converting to a number only what is written as one.

    Anything else stays the string it was, so validation refuses it with a type error.
    """

    def resolve_params(self, params: dict[str, Any], _in: str) -> dict[str, Any]:
        resolved: dict[str, Any] = super().resolve_params(params, _in)
        for name, values in params.items():
            schema = self.param_schemas.get(name) or {}
            pattern = _STRICT_NUMBERS.get(schema.get("type", ""))
            raw = values if _in == "path" else (values[-1] if values else None)
            if pattern is None or not isinstance(raw, str):
                continue
            if not pattern.fullmatch(raw) or not math.isfinite(float(raw)):
                resolved[name] = raw
        return resolved


PARAMETERS_INVALID = "One or more parameters are invalid."  # the detail of a refusal of parameters


class ParameterValidator:
    """Validates path, query, header and cookie parameters, reporting each by name.

    A query parameter the spec does not name is refused, and so is a query of more than
    `MAX_QUERY_PARAMETERS` parameters, before the query is resolved (Connexion resolves it in
    time that grows with the square of the number of names).
    """

    def __init__(self, parameters: Sequence[Mapping[str, Any]], *, security_query: Sequence[str] = ()) -> None:
        self.parameters = [(param, SchemaValidator(param.get("schema", param))) for param in parameters]
        self.known_query = {param["name"] for param in parameters if param["in"] == "query"} | set(security_query)

    def validate(self, request: ConnexionRequest) -> None:
        errors: FieldErrors = {}
        query = request.scope.get("query_string", b"")
        if query:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            if len(pairs) > MAX_QUERY_PARAMETERS:
                too_many = f"The query has more than {MAX_QUERY_PARAMETERS} parameters."
                raise ValidationFailed(too_many, errors={"$query": [too_many]})
            for name in sorted({name for name, _ in pairs} - self.known_query):
                errors[name] = ["Unknown query parameter."]
        for param, validator in self.parameters:
            value = _value(request, param["in"], param["name"])
            if isinstance(value, str) and "\x00" in value:
                errors.setdefault(param["name"], []).append("Must not contain a NUL character.")
                continue
            message = self._check(param, validator, value)
            if message:
                errors.setdefault(param["name"], []).append(message)
        if errors:
            raise ValidationFailed(PARAMETERS_INVALID, errors=errors)

    @staticmethod
    def _check(param: Mapping[str, Any], validator: SchemaValidator, value: Any) -> str | None:
        if is_nullable(param) and is_null(value):
            return None
        if value is None:
            return f"The {param['in']} parameter is required." if param.get("required") else None
        if validator.is_valid(value):
            return None
        errors = validator.errors(value)
        return next(iter(errors.values()))[0] if errors else "Invalid value."


def _value(request: ConnexionRequest, location: str, name: str) -> Any:
    if location == "query":
        return request.query_params.get(name)
    if location == "path":
        return request.path_params.get(name.replace("-", "_"))
    if location == "header":
        return request.headers.get(name)
    if location == "cookie":
        return request.cookies.get(name)
    return None
