"""The problems SCP's rules raise, each with the `urn:scp:problem:*` type its spec names."""

from __future__ import annotations

from core.problems import Conflict, FieldErrors, Forbidden, Unprocessable, ValidationFailed

PREFIX = "urn:scp:problem:"


def _typed(name: str) -> dict[str, str]:
    return {"type": PREFIX + name}


def type_of(status: int) -> str:
    """The type of a problem raised without one: a refused body or parameter is a validation error."""
    return PREFIX + "validation-error" if status == 400 else "about:blank"


def invalid_input(errors: FieldErrors) -> ValidationFailed:
    count = sum(len(messages) for messages in errors.values())
    detail = "The request has 1 invalid field." if count == 1 else f"The request has {count} invalid fields."
    return ValidationFailed(detail, errors=errors, extensions=_typed("validation-error"))


def invalid_transition(detail: str) -> Conflict:
    return Conflict(detail, extensions=_typed("invalid-status-transition"))


def invalid_window(detail: str) -> Conflict:
    return Conflict(detail, extensions=_typed("invalid-active-window"))


def version_conflict(detail: str) -> Conflict:
    return Conflict(detail, extensions=_typed("version-conflict"))


def template_not_active(detail: str) -> Conflict:
    return Conflict(detail, extensions=_typed("template-not-active"))


def tenant_mismatch(detail: str) -> Forbidden:
    return Forbidden(detail, extensions=_typed("tenant-mismatch"))


def separation_of_duties(detail: str) -> Forbidden:
    return Forbidden(detail, extensions=_typed("separation-of-duties"))


def unknown_verticals(unknown: list[str], field: str = "vertical_ids") -> Unprocessable:
    named = ", ".join(unknown)
    return Unprocessable(
        f"Unknown vertical(s): {named}; every vertical id must be in the vertical catalogue.",
        errors={f"body.{field}": [f"Unknown vertical {vertical!r}." for vertical in unknown]},
        extensions=_typed("unknown-vertical"),
    )


def idempotency_key_in_use(retry_after: str) -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still being processed; retry after it ends.",
        headers={"Retry-After": retry_after},
        extensions=_typed("idempotency-key-in-use"),
    )


def idempotency_key_reused() -> Unprocessable:
    return Unprocessable(
        "This Idempotency-Key was already used for a different request (method, path, query or body).",
        extensions=_typed("idempotency-key-reused"),
    )


def not_exchanging(detail: str) -> Conflict:
    return Conflict(detail, extensions=_typed("integration-not-exchanging"))


def contract_not_active(detail: str) -> Conflict:
    return Conflict(detail, extensions=_typed("contract-not-active"))


def filter_not_allowed(detail: str) -> Unprocessable:
    return Unprocessable(detail, extensions=_typed("filter-not-allowed"))
