"""Operation handlers, one sub-package per API.

`APIS` is the mount table: the modules that declare each served API (`API = Api(...)`),
in the order they are mounted. Adding an API adds its line here, and nothing to `core/`.
"""

APIS = (
    "handlers.order_accept.api",
    "handlers.idl.api",
    "handlers.mihwar.api",
    "handlers.cpras.api",
    "handlers.scp.api",
)
