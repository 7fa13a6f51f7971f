"""SCIM 2.0 (RFC 7644) under /api/scim/v2: users, groups and what the service says of itself.

Thin: each handler reads its query parameters and headers, calls the directory
(models/mihwar/scim/), and writes the resource as `application/scim+json` with its ETag.
The directory raises scim2-models' exceptions, which `scim_errors` turns into SCIM errors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from connexion import request
from connexion.lifecycle import ConnexionResponse
from pydantic import ValidationError
from scim2_models import (
    Context,
    ListResponse,
    ResponseParameters,
    SCIMException,
)

from core.responses import Json, location, no_content
from core.unit_of_work import current_unit
from handlers.mihwar.context import mihwar_settings
from handlers.mihwar.scim_errors import MEDIA_TYPE, SCIM_PATH, problem_of
from models.mihwar.scim import discovery
from models.mihwar.scim.changes import Provisioning, refusal
from models.mihwar.scim.discovery import MAX_RESULTS
from models.mihwar.scim.groups import ScimGroups
from models.mihwar.scim.resources import ScimGroup, ScimUser
from models.mihwar.scim.search import search_everything
from models.mihwar.scim.tokens import Provisioner
from models.mihwar.scim.users import ScimUsers

P = ParamSpec("P")
T = TypeVar("T")
LARGEST_INDEX = 2**31 - 1  # a startIndex past any page there can be


def scim_errors(handler: Callable[P, T]) -> Callable[P, T]:
    """The directory's exceptions as SCIM errors (their status and `scimType`)."""

    @functools.wraps(handler)
    def answer(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return handler(*args, **kwargs)
        except SCIMException as exc:
            raise problem_of(exc) from None

    return answer


def scim_body(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Json:
    return body, status, {"Content-Type": MEDIA_TYPE, **(headers or {})}


def _provisioning(principal: Provisioner) -> Provisioning:
    return Provisioning(principal.organization_id, principal.token_id, location(SCIM_PATH))


def _users(principal: Provisioner) -> ScimUsers:
    return ScimUsers(current_unit(), _provisioning(principal))


def _groups(principal: Provisioner) -> ScimGroups:
    return ScimGroups(current_unit(), _provisioning(principal), mihwar_settings().scim_admin_groups)


def _selection(
    model: Any, attributes: str | list[str] | None, excluded: str | list[str] | None
) -> ResponseParameters[Any]:
    """RFC 7644 §3.9's `attributes` and `excludedAttributes` (the first wins when both are
    given); a malformed path answers 400 `invalidPath`."""
    if attributes:
        excluded = None
    try:
        return ResponseParameters[model].model_validate(
            {"attributes": attributes or None, "excludedAttributes": excluded or None}
        )
    except ValidationError as exc:
        raise refusal(exc, default="invalidPath") from None


def _page(start_index: int, count: int) -> tuple[int, int]:
    """RFC 7644 §3.4.2.4: a startIndex below 1 is 1; a count below 0 is 0, above the maximum the maximum."""
    return max(1, min(start_index, LARGEST_INDEX)), max(0, min(count, MAX_RESULTS))


def _resource(resource: ScimUser | ScimGroup, selection: ResponseParameters[Any], status: int = 200) -> Json:
    assert resource.meta is not None  # the directory always gives it
    headers = {"ETag": str(resource.meta.version)}
    if status == 201:
        headers["Location"] = str(resource.meta.location)
    body = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=selection)
    return scim_body(body, status, headers)


def _not_modified(resource: ScimUser | ScimGroup) -> ConnexionResponse | None:
    """A 304 when `If-None-Match` names the resource's current version (RFC 7644 §3.14)."""
    wanted = request.headers.get("If-None-Match")
    version = str(resource.meta.version) if resource.meta else None
    if wanted is None or version is None:
        return None
    tags = {tag.strip() for tag in wanted.split(",")}
    if "*" in tags or version in tags or version.removeprefix("W/") in tags:
        return ConnexionResponse(status_code=304, headers={"ETag": version})
    return None


def _search_arguments(body: Mapping[str, Any]) -> dict[str, Any]:
    """A SearchRequest body (RFC 7644 §3.4.3) as the list operation's parameters."""
    arguments = {"startIndex": body.get("startIndex", 1), "count": body.get("count", MAX_RESULTS)}
    for name in ("filter", "attributes", "excludedAttributes"):
        arguments[name] = body.get(name)
    return arguments


def _listed(model: Any, total: int, start: int, resources: list[Any], selection: ResponseParameters[Any]) -> Json:
    listing = ListResponse[model](
        total_results=total, start_index=start, items_per_page=len(resources), resources=resources
    )
    return scim_body(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=selection))


# Discovery ------------------------------------------------------------------------------


@scim_errors
def scim_get_service_provider_config(principal: Provisioner) -> Json:
    return scim_body(discovery.service_provider_config(_provisioning(principal)))


@scim_errors
def scim_list_resource_types(principal: Provisioner) -> Json:
    return scim_body(discovery.listed(discovery.resource_types(_provisioning(principal))))


@scim_errors
def scim_get_resource_type(principal: Provisioner, id: str) -> Json:  # noqa: A002 - the spec names it
    return scim_body(discovery.resource_type(_provisioning(principal), id))


@scim_errors
def scim_list_schemas(principal: Provisioner) -> Json:
    return scim_body(discovery.listed(discovery.schemas(_provisioning(principal))))


@scim_errors
def scim_get_schema(principal: Provisioner, id: str) -> Json:  # noqa: A002 - the spec names it
    return scim_body(discovery.schema(_provisioning(principal), id))


@scim_errors
def scim_search_all(principal: Provisioner, body: dict[str, Any]) -> Json:
    """Users and groups at once, the filter applied to each type."""
    arguments = _search_arguments(body)
    selection = _selection(ScimUser | ScimGroup, arguments["attributes"], arguments["excludedAttributes"])
    start, count = _page(arguments["startIndex"], arguments["count"])
    found = search_everything(_users(principal), _groups(principal), arguments["filter"], start, count)
    return _listed(ScimUser | ScimGroup, found.total, start, list(found.resources), selection)


# Users and groups -----------------------------------------------------------------------


class Endpoints:
    """The operations of one resource type: users and groups answer alike. Parameter names are
    the spec's (`startIndex`, `excludedAttributes`), as Connexion passes them."""

    def __init__(self, model: Any, directory: Callable[[Provisioner], ScimUsers | ScimGroups]) -> None:
        self.model = model
        self.directory = directory

    def list(
        self,
        principal: Provisioner,
        filter: str | None = None,  # noqa: A002
        startIndex: int = 1,  # noqa: N803
        count: int = MAX_RESULTS,
        attributes: str | list[str] | None = None,
        excludedAttributes: str | list[str] | None = None,  # noqa: N803
    ) -> Json:
        selection = _selection(self.model, attributes, excludedAttributes)
        start, count = _page(startIndex, count)
        found = self.directory(principal).search(filter, start, count)
        return _listed(self.model, found.total, start, list(found.resources), selection)

    def search(self, principal: Provisioner, body: dict[str, Any]) -> Json:
        return self.list(principal, **_search_arguments(body))

    def create(
        self,
        principal: Provisioner,
        body: dict[str, Any],
        attributes: str | None = None,
        excludedAttributes: str | None = None,  # noqa: N803
    ) -> Json:
        selection = _selection(self.model, attributes, excludedAttributes)
        return _resource(self.directory(principal).create(body), selection, 201)

    def get(
        self,
        principal: Provisioner,
        id: str,  # noqa: A002
        attributes: str | None = None,
        excludedAttributes: str | None = None,  # noqa: N803
    ) -> Json | ConnexionResponse:
        selection = _selection(self.model, attributes, excludedAttributes)
        found = self.directory(principal).get(id)
        return _not_modified(found) or _resource(found, selection)

    def replace(
        self,
        principal: Provisioner,
        id: str,  # noqa: A002
        body: dict[str, Any],
        attributes: str | None = None,
        excludedAttributes: str | None = None,  # noqa: N803
    ) -> Json:
        selection = _selection(self.model, attributes, excludedAttributes)
        return _resource(self.directory(principal).replace(id, body, request.headers.get("If-Match")), selection)

    def patch(
        self,
        principal: Provisioner,
        id: str,  # noqa: A002
        body: dict[str, Any],
        attributes: str | None = None,
        excludedAttributes: str | None = None,  # noqa: N803
    ) -> Json:
        selection = _selection(self.model, attributes, excludedAttributes)
        return _resource(self.directory(principal).patch(id, body, request.headers.get("If-Match")), selection)

    def delete(self, principal: Provisioner, id: str) -> ConnexionResponse:  # noqa: A002
        self.directory(principal).delete(id, request.headers.get("If-Match"))
        return no_content()


USERS = Endpoints(ScimUser, _users)
GROUPS = Endpoints(ScimGroup, _groups)

scim_list_users = scim_errors(USERS.list)
scim_search_users = scim_errors(USERS.search)
scim_create_user = scim_errors(USERS.create)
scim_get_user = scim_errors(USERS.get)
scim_replace_user = scim_errors(USERS.replace)
scim_patch_user = scim_errors(USERS.patch)
scim_delete_user = scim_errors(USERS.delete)

scim_list_groups = scim_errors(GROUPS.list)
scim_search_groups = scim_errors(GROUPS.search)
scim_create_group = scim_errors(GROUPS.create)
scim_get_group = scim_errors(GROUPS.get)
scim_replace_group = scim_errors(GROUPS.replace)
scim_patch_group = scim_errors(GROUPS.patch)
scim_delete_group = scim_errors(GROUPS.delete)
