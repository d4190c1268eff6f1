"""The roles a data row can have (docs/reference/data-schema.md); at the bottom of the package so that
``config.py`` can check role names without importing the data layer."""
from __future__ import annotations

RETAIN_ROLES: tuple[str, ...] = ("direct", "indirect", "general", "retain")
TEST_ROLES: tuple[str, ...] = tuple(f"{r}_test" for r in RETAIN_ROLES)
EVAL_ROLES: tuple[str, ...] = ("real_authors", "world_facts")
ROLES: tuple[str, ...] = ("forget", *RETAIN_ROLES, *TEST_ROLES, "holdout", *EVAL_ROLES)
