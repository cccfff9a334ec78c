"""Deterministic, database-backed operations: one module per agent domain."""

import importlib

DOMAIN_MODULES = (
    "monitoring", "orders", "products", "marketplace", "customers", "inventory", "transport",
    "payments", "warehouse", "documents", "fraud", "risk", "knowledge", "after_sales",
    "backoffice", "quality", "events",
)  # fmt: skip


def load_tools() -> None:
    """Import every domain module so each registers its tools."""
    for name in DOMAIN_MODULES:
        importlib.import_module(f"tools.{name}")
