"""HTTP handlers: one sub-package per API, one function per operationId."""
