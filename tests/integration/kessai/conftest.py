from tests.kessai.console.conftest import admin, viewer

__all__ = ["admin", "viewer"]
