"""Where the data directories live: inside an installed wheel, or at the checkout's root."""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Path of `templates`, `sizing_profiles`, `roles` or `playbooks`."""
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


def import_templates_dir() -> Path:
    """The data import's column reference and template files (README.md and one CSV per
    kind): app/docs/import-templates in a checkout, its copy in an installed wheel."""
    return data_dir("templates").parent / "app" / "docs" / "import-templates"
