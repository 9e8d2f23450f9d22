"""`ssas-manage` console script: Django's manage.py for an installed venv."""

import sys


def main() -> None:
    from ssas._env import require_settings_module

    try:
        require_settings_module()
    except RuntimeError as exc:
        sys.stderr.write(f"ssas-manage: {exc}\n")
        raise SystemExit(2) from None

    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
