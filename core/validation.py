"""Request validators that report every invalid field by its path, e.g. `items[0].quantity`.

Connexion's own validators stop at the first error and describe it in one string; clients
of these APIs want each field's messages so they can show them beside the field. These
subclasses keep Connexion's schemas and strictness and only change how errors are reported.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionRequest
from connexion.utils import is_null, is_nullable
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, MultiPartFormDataValidator, ParameterValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from jsonschema.exceptions import relevance
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from core.problems import FieldErrors, ValidationFailed

BODY_ROOT = "$"

# JSON Schema's format checker knows no integer widths; OpenAPI's int32 and int64 are bounds.
FORMAT_CHECKER = FormatChecker(Draft4Validator.FORMAT_CHECKER.checkers)
_INTEGER_BOUNDS = {"int32": 2**31, "int64": 2**63}


def _within(bound: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        return not isinstance(value, int) or isinstance(value, bool) or -bound <= value < bound

    return check


for _name, _bound in _INTEGER_BOUNDS.items():
    FORMAT_CHECKER.checks(_name)(_within(_bound))


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    """OpenAPI's `date` (RFC 3339 full-date), which draft 4's checker does not know."""
    if not isinstance(value, str):
        return True
    if not _ISO_DATE.match(value):
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
    datetime.date.fromisoformat(value)
    return True


_COMPILED: dict[tuple[int, Any], tuple[Any, Any]] = {}


def compiled(schema: dict[str, Any], make: Callable[..., Any]) -> Any:
    """The validator `make` builds for `schema`, built once per schema.

    Connexion creates its validators on every request; the schemas are the specification's
    own long-lived dicts, so the compiled validator is kept beside them (the dict is held
    too, so its id cannot be reused).
    """
    key = (id(schema), make)
    entry = _COMPILED.get(key)
    if entry is None:
        entry = _COMPILED[key] = (schema, make(schema, format_checker=FORMAT_CHECKER))
    return entry[1]


def field_path(parts: Iterable[str | int]) -> str:
    """Render a JSON path as `items[0].quantity`; the body itself is `$`."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or BODY_ROOT


def describe(error: ValidationError) -> str:
    """A sentence a person can act on, for the common JSON Schema keywords."""
    value: Any = error.validator_value
    schema: Any = error.schema if isinstance(error.schema, dict) else {}
    messages: dict[str, Callable[[], str]] = {
        "type": lambda: f"Must be of type {_one_of(value)}.",
        "minimum": lambda: f"Must be greater than {'' if schema.get('exclusiveMinimum') else 'or equal to '}{value}.",
        "maximum": lambda: f"Must be less than {'' if schema.get('exclusiveMaximum') else 'or equal to '}{value}.",
        "minLength": lambda: f"Must be at least {value} characters long.",
        "maxLength": lambda: f"Must be at most {value} characters long.",
        "minItems": lambda: f"Must contain at least {value} item(s).",
        "maxItems": lambda: f"Must contain at most {value} item(s).",
        "pattern": lambda: f"Must match the pattern {value}.",
        "enum": lambda: f"Must be one of: {', '.join(map(str, value))}.",
        "format": lambda: f"Must be a valid {value}.",
        "uniqueItems": lambda: "Items must be unique.",
    }
    message = messages.get(str(error.validator))
    return message() if message else str(error.message)


def _one_of(value: Any) -> str:
    return " or ".join(value) if isinstance(value, list) else str(value)


def collect(errors: Iterable[ValidationError], prefix: Sequence[str | int] = ()) -> FieldErrors:
    """Group validation errors by field path; a missing or unknown property is its own field."""
    result: FieldErrors = {}

    def add(field: str, message: str) -> None:
        # Some validators report once per missing or unknown name, others once for all.
        messages = result.setdefault(field, [])
        if message not in messages:
            messages.append(message)

    for error in sorted(errors, key=relevance):
        path = [*prefix, *error.absolute_path]
        if error.validator == "required" and isinstance(error.instance, dict):
            required: Any = error.validator_value
            for name in required:
                if name not in error.instance:
                    add(field_path([*path, name]), "This field is required.")
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            schema: Any = error.schema
            known = set(schema.get("properties", {}))
            for name in error.instance:
                if name not in known:
                    add(field_path([*path, name]), "Unknown property.")
        else:
            add(field_path(path), describe(error))
    return result


class FieldParameterValidator(ParameterValidator):
    """Validates path, query, header and cookie parameters, reporting each by name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._validators = {
            (param["in"], param["name"]): compiled(param.get("schema", param), Draft4Validator)
            for params in self.parameters.values()
            for param in params
        }

    def validate_request(self, request: ConnexionRequest) -> None:
        errors: FieldErrors = {}
        if self.strict_validation:
            for name in sorted(self.validate_query_parameter_list(request, self.security_query_params)):
                errors[name] = ["Unknown query parameter."]
        for location, params in self.parameters.items():
            for param in params:
                value = _parameter_value(request, location, param["name"])
                message = self._check(location, param, value)
                if message:
                    errors.setdefault(param["name"], []).append(message)
        if errors:
            raise ValidationFailed("One or more parameters are invalid.", errors=errors)

    def _check(self, location: str, param: dict[str, Any], value: Any) -> str | None:
        if is_nullable(param) and is_null(value):
            return None
        if value is None:
            return f"The {location} parameter is required." if param.get("required") else None
        validator = self._validators[(location, param["name"])]
        if validator.is_valid(value):
            return None
        return describe(sorted(validator.iter_errors(value), key=relevance)[0])


def _parameter_value(request: ConnexionRequest, location: str, name: str) -> Any:
    if location == "query":
        return request.query_params.get(name)
    if location == "path":
        return request.path_params.get(name.replace("-", "_"))
    if location == "header":
        return request.headers.get(name)
    if location == "cookie":
        return request.cookies.get(name)
    return None


class FieldJSONBodyValidator(JSONRequestBodyValidator):
    """Validates JSON bodies, reporting every invalid field by its path."""

    @property
    def _validator(self) -> Any:
        return self._compiled

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compiled = compiled(self._schema, Draft4RequestValidator)

    async def _parse(self, stream: Any, scope: Any) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            return json.loads(raw.decode(self._encoding))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationFailed(
                "The request body is not valid JSON.", errors={BODY_ROOT: [f"Invalid JSON: {exc}."]}
            ) from exc

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is None and not self._required:
            return None  # an optional body that was left out
        if body is None and not self._nullable:
            raise ValidationFailed("A request body is required.", errors={BODY_ROOT: ["A request body is required."]})
        errors = collect(self._compiled.iter_errors(body))
        if errors:
            raise ValidationFailed("The request body is invalid.", errors=errors)
        return None


class _ClosingMultiPartParser(MultiPartParser):
    """Parses a multipart body for validation only, and releases its spooled files at once.

    Validation looks at which parts exist, never at a file's bytes; the handler reads the
    body again for itself. Without this, each upload left a temporary file to the garbage
    collector.
    """

    async def parse(self) -> FormData:
        form = await super().parse()
        for _, value in form.multi_items():
            if isinstance(value, UploadFile):
                await value.close()
        return form


class FieldMultiPartValidator(MultiPartFormDataValidator):
    """Validates multipart bodies, reporting every invalid part by name."""

    @property
    def _form_parser_cls(self) -> type[MultiPartParser]:
        return _ClosingMultiPartParser

    async def _parse(self, stream: Any, scope: Any) -> Any:
        try:
            return await super()._parse(stream, scope)
        except MultiPartException as exc:
            raise ValidationFailed(
                "The multipart body cannot be read.", errors={BODY_ROOT: [f"{exc.message}."]}
            ) from exc

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if not isinstance(body, dict):
            raise ValidationFailed("The form is invalid.", errors={BODY_ROOT: ["The form could not be read."]})
        errors: FieldErrors = {}
        if self._strict_validation:
            known = set(self._schema.get("properties", {}))
            errors.update({name: ["Unknown form part."] for name in body if name not in known})
        errors.update(collect(compiled(self._schema, Draft4RequestValidator).iter_errors(body)))
        if errors:
            raise ValidationFailed("The form is invalid.", errors=errors)
        return None


def field_validator_map() -> dict[str, Any]:
    """Connexion's validator map with the field-reporting validators swapped in."""
    body = MediaTypeDict(dict(VALIDATOR_MAP["body"]))
    body["*/*json"] = FieldJSONBodyValidator
    body["multipart/form-data"] = FieldMultiPartValidator
    return {**VALIDATOR_MAP, "parameter": FieldParameterValidator, "body": body}
