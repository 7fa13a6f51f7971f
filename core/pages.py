"""Browser pages an API serves beside its spec: an ASGI app of its own under a path of the API.

Requests under `prefix + path` go to the API's pages app, with `root_path` set to that
mount (as Starlette's `Mount` does), so its routes and `url_for` see their own paths. They
never reach the spec's routing, validation or security: the pages answer HTML and guard
themselves (a session, CSRF tokens). Everything else goes on to the operations.
"""

from __future__ import annotations

from typing import Any

Scope = dict[str, Any]


class PagesMount:
    def __init__(self, app: Any, mount: str, pages: Any) -> None:
        self.app = app
        self.mount = mount.rstrip("/")
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] in {"http", "websocket"} and (path == self.mount or path.startswith(self.mount + "/")):
            child = dict(scope)
            child["root_path"] = scope.get("root_path", "") + self.mount
            if path == self.mount:  # the mount itself is its app's "/"
                child["path"] = path + "/"
                child["raw_path"] = (path + "/").encode()
            await self.pages(child, receive, send)
            return
        await self.app(scope, receive, send)
