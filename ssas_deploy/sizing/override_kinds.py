"""The kinds of value an override may give: each checks a profile's value and says the
accepted form when it refuses one."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kind:
    """One kind of derived value.

    `form` is the accepted form in words (for error messages and the schema's description),
    `schema` the JSON Schema of a value, `normalise` turns an accepted YAML value into the
    one the templates get (e.g. YAML's `off` read as False -> "off").
    """

    form: str
    schema: dict
    normalise: Callable[[Any], Any]

    def check(self, value: Any) -> Any:
        """The value the templates get; raises ValueError naming `form` when refused."""
        try:
            out = self.normalise(value)
        except (TypeError, ValueError):
            out = None
        if out is None:
            raise ValueError(f"{_shown(value)} is not {self.form}")
        return out


def _shown(value: Any) -> str:
    """The value as the profile's YAML wrote it (true, null), not as Python prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return f"'{value}'" if isinstance(value, str) else repr(value)


def integer(low: int, high: int | None = None) -> Kind:
    """A whole number in low..high (YAML's true/false and 1.5 are refused)."""
    span = f"from {low} to {high}" if high is not None else f">= {low}"

    def normalise(value: Any) -> int | None:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return value if ok and value >= low and (high is None or value <= high) else None

    schema = {"type": "integer", "minimum": low, **({"maximum": high} if high else {})}
    return Kind(f"a whole number {span}", schema, normalise)


def number(low: float, high: float | None = None) -> Kind:
    """A number (int or float) in low..high."""
    span = f"from {low:g} to {high:g}" if high is not None else f">= {low:g}"

    def normalise(value: Any) -> float | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return value if ok and value >= low and (high is None or value <= high) else None

    schema = {"type": "number", "minimum": low, **({"maximum": high} if high else {})}
    return Kind(f"a number {span}", schema, normalise)


def pattern(regex: str, form: str, lower: bool = False) -> Kind:
    """A string matching all of `regex` (then lower-cased when `lower`)."""
    compiled = re.compile(regex)

    def normalise(value: Any) -> str | None:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            return None
        return value.lower() if lower else value

    return Kind(form, {"type": "string", "pattern": f"^(?:{regex})$"}, normalise)


def choice(*options: str, true: str | None = None, false: str | None = None) -> Kind:
    """One of `options`; YAML 1.1 reads on/off and yes/no as booleans, so True and False
    stand for `true` and `false` when given."""

    def normalise(value: Any) -> str | None:
        if isinstance(value, bool):
            return true if value else false
        return value if value in options else None

    schema = {"enum": [*options, *([True, False] if true or false else [])]}
    return Kind(f"one of {', '.join(options)}", schema, normalise)


# PostgreSQL's memory units are case-sensitive (postgresql.conf, "Parameter Names and
# Values"): B, kB, MB, GB, TB.
PG_SIZE = pattern(r"[1-9][0-9]*(kB|MB|GB|TB)", "a PostgreSQL size: a whole number and kB, MB, "
                  "GB or TB, no space (e.g. 16MB, 512kB, 2GB)")
_PG_UNIT_KB = {"kB": 1, "MB": 1024, "GB": 1024 ** 2, "TB": 1024 ** 3}


def pg_size(low_kb: int, high_kb: int) -> Kind:
    """A PostgreSQL size (see PG_SIZE) within the setting's own range, low_kb..high_kb in kB
    (PostgreSQL 15's guc.c ranges: the server refuses to start outside them)."""
    compiled = re.compile(r"([1-9][0-9]*)(kB|MB|GB|TB)")

    def shown(kb: int) -> str:
        for unit in ("TB", "GB", "MB"):
            if kb % _PG_UNIT_KB[unit] == 0:
                return f"{kb // _PG_UNIT_KB[unit]}{unit}"
        return f"{kb}kB"

    def normalise(value: Any) -> str | None:
        match = compiled.fullmatch(value) if isinstance(value, str) else None
        if not match:
            return None
        kb = int(match[1]) * _PG_UNIT_KB[match[2]]
        return value if low_kb <= kb <= high_kb else None

    form = (f"a PostgreSQL size from {shown(low_kb)} to {shown(high_kb)}: a whole number and "
            "kB, MB, GB or TB, no space (e.g. 16MB, 512kB, 2GB)")
    return Kind(form, PG_SIZE.schema, normalise)


# redis.conf memory units are case-insensitive; kept lower case as sizing writes them.
REDIS_SIZE = pattern(r"[1-9][0-9]*[kKmMgG][bB]", "a Redis memory size: a whole number and kb, "
                     "mb or gb, no space (e.g. 512mb, 2gb)", lower=True)
REDIS_SAVE = pattern(r'""|[1-9][0-9]* [1-9][0-9]*( [1-9][0-9]* [1-9][0-9]*)*',
                     'a Redis save rule: "" (no snapshots) or pairs of seconds and changes '
                     '(e.g. "3600 1 300 100")')
NGINX_RATE = pattern(r"[1-9][0-9]*r/[sm]", "an nginx rate: requests per second or minute "
                     "(e.g. 20r/s, 30r/m)")
NGINX_TIME = pattern(r"[1-9][0-9]*(ms|s|m|h)", "an nginx time: a whole number and ms, s, m "
                     "or h (e.g. 60s, 2m)")
