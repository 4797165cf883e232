from tests.shinsei.conftest import file_dir

__all__ = ["file_dir"]
