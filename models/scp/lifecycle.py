"""The integration lifecycle as the spec's state table has it: which operation moves an
integration from which statuses to which, when each status was entered, and what an
integration may exchange in each.

Deprecation keeps an integration exchanging what it could just before, and never more: a
suspended integration that is deprecated stays silent, a restricted one may still only push.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT, REQUESTED, REVIEWED, APPROVED = "draft", "requested", "reviewed", "approved"
ACTIVE, RESTRICTED, SUSPENDED, DEPRECATED, ARCHIVED = "active", "restricted", "suspended", "deprecated", "archived"
STATUSES = (DRAFT, REQUESTED, REVIEWED, APPROVED, ACTIVE, RESTRICTED, SUSPENDED, DEPRECATED, ARCHIVED)
PUSH, PULL = "push", "pull"


@dataclass(frozen=True)
class Transition:
    operation: str  # as the path names it
    verb: str  # as a sentence does
    sources: tuple[str, ...]
    target: str

    @property
    def stamp(self) -> str:
        """The column of when the integration last entered `target`."""
        return "activated_at" if self.target == ACTIVE else f"{self.target}_at"


TRANSITIONS = {
    transition.operation: transition
    for transition in (
        Transition("request-review", "submitted for review", (DRAFT,), REQUESTED),
        Transition("review", "reviewed", (REQUESTED,), REVIEWED),
        Transition("approve", "approved", (REVIEWED,), APPROVED),
        Transition("activate", "activated", (APPROVED, RESTRICTED, SUSPENDED), ACTIVE),
        Transition("restrict", "restricted", (ACTIVE,), RESTRICTED),
        Transition("suspend", "suspended", (ACTIVE, RESTRICTED), SUSPENDED),
        Transition("deprecate", "deprecated", (ACTIVE, RESTRICTED, SUSPENDED), DEPRECATED),
        Transition("archive", "archived", tuple(status for status in STATUSES if status != ARCHIVED), ARCHIVED),
    )
}

_EXCHANGE = {ACTIVE: (PUSH, PULL), RESTRICTED: (PUSH,)}


def exchange_directions(status: str, deprecated_from: str | None) -> tuple[str, ...]:
    """What an integration in `status` may exchange; deprecated, what it could before."""
    if status == DEPRECATED:
        return _EXCHANGE.get(deprecated_from or "", ())
    return _EXCHANGE.get(status, ())


def refusal(transition: Transition, status: str) -> str:
    needs = " or ".join(transition.sources) if len(transition.sources) < 4 else "any status but archived"
    return (
        f"An integration in status {status} cannot be {transition.verb}; {transition.operation} needs status {needs}."
    )
