"""`pyrepr` for Ansible 2.19+: plain Python values first, then ssas-deploy's own filter.

ansible-core 2.19 hands filters lazy/tagged dict and list subclasses, which pprint prints
on one line (it only pretty-prints exact dicts and lists), so the rendered settings would
differ from `ssas-deploy render`. Copying them into builtin types restores the same bytes.
"""

from collections.abc import Mapping

from ssas_deploy.jinja_filters import pyrepr as _pyrepr


def _plain(value):
    if isinstance(value, Mapping):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def pyrepr(value):
    return _pyrepr(_plain(value))


class FilterModule:
    def filters(self):
        return {"pyrepr": pyrepr}
