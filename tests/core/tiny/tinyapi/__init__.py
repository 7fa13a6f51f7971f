"""Handlers of the tiny API: one function per operationId, as in any API's handler package."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
import time
from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse
from sqlalchemy import delete

from core.bodies import raw_body
from core.concurrency import inline
from core.outbox import Outbox
from core.problems import NotFound
from core.responses import Json, created, json_body, location, no_content
from core.security import TokenPrincipal
from core.unit_of_work import current_unit

from .tables import Note

SIGNING_KEY = b"tiny-signing-key"


def create_note(principal: TokenPrincipal, body: dict[str, Any]) -> Json:
    """Write a note, and tell the outbox."""
    unit = current_unit()
    note = Note(text=body["text"])
    unit.session.add(note)
    unit.session.flush()
    Outbox(unit, "tiny").publish("note.created", {"id": note.id, "by": principal.subject}, key=f"note:{note.id}")
    if body["text"] == "fail after the event":
        raise RuntimeError("the request fails after publishing")
    return created({"id": note.id, "text": note.text}, location("/notes/{id}", id=note.id))


@inline
def get_note(id: int) -> Json:  # noqa: A002 - the spec names it `id`
    """Read a note, on the event loop."""
    note = current_unit().session.get(Note, id)
    if note is None:
        raise NotFound(f"Note {id} was not found.")
    return json_body({"id": note.id, "text": note.text})


def touch_note(id: int, body: dict[str, Any] | None = None) -> Json:  # noqa: A002
    """Change a note's text, if a text is given."""
    note = current_unit().session.get(Note, id)
    if note is None:
        raise NotFound(f"Note {id} was not found.")
    if body and "text" in body:
        note.text = body["text"]
    return json_body({"id": note.id, "text": note.text})


def check_signature() -> Json:
    """Whether X-Signature is the HMAC of the exact bytes received."""
    expected = hmac.new(SIGNING_KEY, raw_body(), hashlib.sha256).hexdigest()
    return json_body({"valid": hmac.compare_digest(expected, request.headers["X-Signature"])})


def post_form(body: dict[str, Any], attachment: Any = None) -> Json:
    """What the handler got from a form: its typed fields, and the file's name and bytes."""
    got: dict[str, Any] = {"fields": body}
    if attachment is not None:
        got["attachment"] = {"filename": attachment.filename, "size": len(attachment.file.read())}
    return json_body(got)


def who_am_i(principal: TokenPrincipal) -> Json:
    """The caller, and where the handler ran."""
    return json_body(
        {"subject": principal.subject, "scopes": sorted(principal.scopes), "thread": threading.current_thread().name}
    )


@inline
def where_am_i() -> Json:
    """Where an inline handler runs: on the thread of the event loop."""
    try:
        asyncio.get_running_loop()
        on_loop = True
    except RuntimeError:
        on_loop = False
    return json_body({"thread": threading.current_thread().name, "on_loop": on_loop})


def purge_notes() -> ConnexionResponse:
    """Delete every note (the spec asks for the notes:purge permission)."""
    current_unit().session.execute(delete(Note))
    return no_content()


def slow_down(seconds: float) -> Json:
    """Block for a while: run in the handler pool, it must not stall anything else."""
    time.sleep(seconds)
    return json_body({"slept": seconds})
