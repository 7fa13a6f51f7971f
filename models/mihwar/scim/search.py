"""A search of users and groups at once (RFC 7644 §3.4.3, `POST /.search` at the root).

The filter is applied to each resource type, an attribute a type lacks being false there,
as §3.4.2.1 says; one that no type has is a 400 `invalidFilter`. The results are the
users (by `userName`) followed by the groups (by `displayName`), one page cut across both.
"""

from __future__ import annotations

from models.mihwar.scim.changes import Page
from models.mihwar.scim.filters import check_across_types
from models.mihwar.scim.groups import ScimGroups
from models.mihwar.scim.resources import ScimGroup, ScimUser
from models.mihwar.scim.users import ScimUsers


def search_everything(
    users: ScimUsers, groups: ScimGroups, filter_text: str | None, start_index: int, count: int
) -> Page[ScimUser | ScimGroup]:
    if filter_text:
        check_across_types(filter_text)
    found_users = users.search(filter_text, start_index, count, across_types=True)
    group_start = max(1, start_index - found_users.total)
    found_groups = groups.search(filter_text, group_start, count - len(found_users.resources), across_types=True)
    return Page(found_users.total + found_groups.total, [*found_users.resources, *found_groups.resources])
