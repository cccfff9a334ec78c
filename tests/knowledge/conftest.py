from tests.tools.conftest import api, call, sql

__all__ = ["api", "call", "sql"]
