"""Template context: `shard_query`, what links to school pages append to keep the school."""

from .context import current


def shard(request) -> dict:
    """{"shard_query": "?school=CODE"} while a request runs on a school's shard, else ""
    (unsharded pages are unchanged)."""
    here = current()
    return {"shard_query": f"?school={here.school}" if here and here.school else ""}
