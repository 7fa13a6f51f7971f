"""Domain layer: one sub-package per API with its tables, repositories and services."""
