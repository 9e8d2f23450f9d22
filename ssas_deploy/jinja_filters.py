"""The project's own Jinja filters, shared by the CLI and Ansible (see filter_plugins/)."""

import json
import pprint
from typing import Any


def pyrepr(value: Any) -> str:
    """A Python literal for rendered settings modules (JSON's true/null are not Python)."""
    return pprint.pformat(value, width=88, sort_dicts=False)


def canonical_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


FILTERS = {"pyrepr": pyrepr, "canonical_json": canonical_json}
