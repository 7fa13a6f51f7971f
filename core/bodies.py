"""Request bodies: size limits, media types, parsing and validation, with a clear 4xx for bad input.

A body larger than its operation's limit answers 413 before it is read (by its
Content-Length) or as soon as it grows past the limit (a chunked body). Media types are
compared without regard to case, as RFC 9110 says. JSON is parsed strictly: valid UTF-8,
no `NaN` or `Infinity`, no number too large for a float, no lone UTF-16 surrogate, no NUL
character (PostgreSQL's text cannot hold one), nesting
no deeper than the parser allows; each of these answers 400, like a schema violation. A
body of more than `OFFLOAD_BYTES` is parsed and validated in the handler pool, so a large
one never stalls the event loop. A check an API names for an operation (`Api.body_checks`)
sees the parsed JSON before the schema does, for a rule whose answer must win over the
schema's 400. The exact bytes of a non-form body stay available to the handler
(`raw_body()`), for signatures computed over them.
"""

from __future__ import annotations

import contextvars
import json
import math
import re
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from connexion.datastructures import MediaTypeDict
from connexion.operations import AbstractOperation
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import Receive

from core.concurrency import HandlerPool
from core.problems import FieldErrors, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from core.validation import BODY_ROOT, SchemaValidator, form_value, too_deep

OFFLOAD_BYTES = 64 * 1024
MAX_FORM_FIELDS = 1000
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_NUL_ESCAPE = re.compile(rb"\\u0000")
_raw_body: contextvars.ContextVar[bytes | None] = contextvars.ContextVar("raw_body", default=None)


def raw_body() -> bytes:
    """The exact bytes of the request body being handled (not available for form bodies)."""
    body = _raw_body.get()
    if body is None:
        raise LookupError("this request's body was not kept: it had none, or it was a form")
    return body


def invalid(message: str) -> ValidationFailed:
    """A 400 about the body as a whole."""
    return ValidationFailed(message, errors={BODY_ROOT: [message]})


@dataclass
class Body:
    """What a request carried: its parsed value, its exact bytes (not for multipart forms), and its files."""

    value: Any = None
    raw: bytes | None = None
    files: dict[str, list[UploadFile]] = field(default_factory=dict)

    def keep_raw(self) -> None:
        """Make the exact bytes `raw_body()` for the rest of this request (its own context)."""
        _raw_body.set(self.raw)

    def close(self) -> None:
        """Release the temporary files a multipart body was spooled into."""
        for uploads in self.files.values():
            for upload in uploads:
                upload.file.close()


class _NotANumberError(ValueError):
    """A value JSON has no number for."""


def _reject_constant(name: str) -> Any:
    raise _NotANumberError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotANumberError(f"the number {text[:40]} is out of range")
    return number


MAX_NESTING = 256  # levels of arrays and objects, as deep as the validator reads


def parse_json(raw: bytes) -> Any:
    """The JSON value of `raw`, or a 400 that says plainly what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("The request body is not valid UTF-8.") from None
    text = text.removeprefix("\ufeff")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise invalid(f"Invalid JSON: {exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno}.") from None
    except RecursionError:
        raise invalid("Invalid JSON: it is nested too deeply.") from None
    except _NotANumberError as exc:  # NaN, Infinity, 1e999
        raise invalid(f"Invalid JSON: {exc}.") from None
    except ValueError:  # an integer of thousands of digits
        raise invalid("Invalid JSON: a number has too many digits.") from None
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise invalid("Invalid JSON: a string holds a lone UTF-16 surrogate.")
    if _NUL_ESCAPE.search(raw) and _has_nul(value):
        raise invalid("A string holds a NUL character (\\u0000), which no text column can store.")
    if raw.count(b"[") + raw.count(b"{") > MAX_NESTING and _deeper_than(value, MAX_NESTING):
        raise too_deep()
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels; iterative, so depth costs no
    recursion. A body is refused that deep whatever its schema says of the member holding it,
    as the validator (jsonschema-rs) stops at that depth."""
    pending = [(value, 0)] if isinstance(value, dict | list) else []
    while pending:
        item, depth = pending.pop()
        if depth >= limit:
            return True
        members = item.values() if isinstance(item, dict) else item
        pending.extend((member, depth + 1) for member in members if isinstance(member, dict | list))
    return False


def _has_nul(value: Any) -> bool:
    """Whether any string (key or value) holds U+0000; iterative, so depth costs no recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any string (key or value) holds a surrogate that is not part of a pair; iterative,
    so depth costs no recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """`type/subtype` in lower case, and the parameters (names in lower case)."""
    kind, *params = content_type.split(";")
    parameters: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        parameters[name.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), parameters


def _is_file(schema: Mapping[str, Any]) -> bool:
    """A form property that takes a file (or files): a string in binary format."""
    item = schema.get("items", {}) if schema.get("type") == "array" else schema
    return item.get("type") == "string" and item.get("format") in ("binary", "base64")


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


class BodyReader:
    """Reads, checks and parses the request body of one operation."""

    def __init__(
        self,
        operation: AbstractOperation,
        *,
        limit: int,
        pool: HandlerPool,
        check: Callable[[Any], None] | None = None,
    ) -> None:
        self.operation = operation
        self.limit = limit
        self.check = check
        self.pool = pool
        self.required = bool(operation.request_body.get("required", False))
        self.consumes = [media_type.lower() for media_type in operation.consumes]
        self._by_type = MediaTypeDict([(media_type, media_type) for media_type in self.consumes])
        self._validators: dict[str, SchemaValidator | None] = {}

    def _validator(self, declared: str) -> SchemaValidator | None:
        if declared not in self._validators:
            schema = self.operation.body_schema(declared)
            self._validators[declared] = SchemaValidator(schema) if schema else None
        return self._validators[declared]

    async def read(self, headers: Headers, receive: Receive) -> Body:
        length = _content_length(headers)
        if length is not None and length > self.limit:
            raise self._too_large()
        has_body = (length or 0) > 0 or "transfer-encoding" in headers
        if not has_body:
            if self.required:
                raise invalid("A request body is required.")
            return Body()
        content_type = headers.get("content-type")
        if not content_type:
            raise UnsupportedMediaType(f"The request body has no Content-Type; expected {self._expected()}.")
        media_type, parameters = _media_type(content_type)
        declared = self._by_type.get(media_type) if media_type else None
        if declared is None:
            raise UnsupportedMediaType(f"Content-Type {media_type or content_type!r} is not {self._expected()}.")
        if media_type == "multipart/form-data":
            return await self._read_multipart(headers, declared, receive)
        charset = parameters.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"The request body must be UTF-8, not {charset or 'unnamed'}.")
        raw = b"".join([chunk async for chunk in self._chunks(receive)])
        body = Body(raw=raw)
        if media_type == "application/x-www-form-urlencoded":
            return self._read_urlencoded(body, declared)
        if not raw:
            if self.required:
                raise invalid("A request body is required.")
            return body
        if is_json(media_type):
            parse = _Parse(raw, self._validator(declared), self.check)
            body.value = await self.pool.run(parse) if len(raw) > OFFLOAD_BYTES else parse()
        else:
            body.value = raw
        return body

    async def _read_multipart(self, headers: Headers, declared: str, receive: Receive) -> Body:
        try:
            form = await MultiPartParser(headers, self._chunks(receive)).parse()
        except MultiPartException as exc:
            raise invalid(f"The form cannot be read: {exc.message}") from exc
        body = Body()
        fields: dict[str, list[str]] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                body.files.setdefault(name, []).append(value)
            else:
                fields.setdefault(name, []).append(value)
        try:
            body.value = self._check_form(fields, body.files, declared)
        except Exception:
            body.close()
            raise
        return body

    def _read_urlencoded(self, body: Body, declared: str) -> Body:
        """A url-encoded form, read strictly: UTF-8 after percent-decoding, at most `MAX_FORM_FIELDS`."""
        assert body.raw is not None
        try:
            pairs = parse_qsl(
                body.raw.decode("ascii"),
                keep_blank_values=True,
                errors="strict",
                max_num_fields=MAX_FORM_FIELDS,
            )
        except UnicodeDecodeError:
            raise invalid("The form is not valid UTF-8.") from None
        except ValueError:
            raise invalid(f"The form has more than {MAX_FORM_FIELDS} fields.") from None
        fields: dict[str, list[str]] = {}
        for name, value in pairs:
            fields.setdefault(name, []).append(value)
        body.value = self._check_form(fields, {}, declared)
        return body

    def _check_form(
        self, fields: Mapping[str, list[str]], files: Mapping[str, list[UploadFile]], declared: str
    ) -> dict[str, Any]:
        """The form's fields, typed as the schema says, after checking them and the files' presence."""
        schema = self.operation.body_schema(declared) or {}
        properties: Mapping[str, Any] = schema.get("properties", {})
        errors: FieldErrors = {}
        value: dict[str, Any] = {}
        closed = schema.get("additionalProperties") is False
        for name, texts in fields.items():
            if name not in properties:
                if closed:  # an open schema ignores what it does not name, as JSON Schema does
                    errors[name] = ["Unknown form part."]
            elif any("\x00" in text for text in texts):
                errors[name] = ["Must not contain a NUL character."]
            elif _is_file(properties[name]):
                errors[name] = ["Must be a file (a part with a filename)."]
            elif len(texts) > 1 and properties[name].get("type") != "array":
                errors[name] = ["Given more than once."]
            else:
                value[name] = form_value(texts, properties[name])
        for name, parts in files.items():
            if name not in properties:
                if closed:
                    errors[name] = ["Unknown form part."]
            elif not _is_file(properties[name]):
                errors[name] = ["Must be text, not a file."]
            elif len(parts) > 1 and properties[name].get("type") != "array":
                errors[name] = ["Given more than once."]
        # A file stands for itself in validation: a string (or a list of strings, when repeated).
        checked = {
            **value,
            **{
                name: "" if len(parts) == 1 else [""] * len(parts)
                for name, parts in files.items()
                if name in properties
            },
        }
        validator = self._validator(declared)
        if validator is not None and not validator.is_valid(checked):
            for field, messages in validator.errors(checked).items():
                errors.setdefault(field, messages)
        if errors:
            raise ValidationFailed("The form is invalid.", errors=errors)
        return value

    async def _chunks(self, receive: Receive) -> AsyncGenerator[bytes, None]:
        """The body's chunks, refused with 413 as soon as they add up to more than the limit."""
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise invalid("The client went away before sending the whole body.")
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                raise self._too_large()
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    def _too_large(self) -> PayloadTooLarge:
        message = f"The request body is larger than {self.limit} bytes."
        return PayloadTooLarge(message, errors={BODY_ROOT: [message]})

    def _expected(self) -> str:
        return " or ".join(self.consumes)


@dataclass(frozen=True)
class _Parse:
    """Parsing and validating one JSON body: a callable, so it can run in the pool."""

    raw: bytes
    validator: SchemaValidator | None
    check: Callable[[Any], None] | None = None

    def __call__(self) -> Any:
        value = parse_json(self.raw)
        if self.check is not None:
            self.check(value)
        if self.validator is not None and not self.validator.is_valid(value):
            raise ValidationFailed("The request body is invalid.", errors=self.validator.errors(value))
        return value


def _content_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        raise invalid("The Content-Length header is not a number.") from None
    if length < 0:
        raise invalid("The Content-Length header is negative.")
    return length
