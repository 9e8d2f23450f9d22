"""Import files as one uncompressed tar stream: how they travel to a web host's
`import_data --archive -` and how the admin keeps an upload between preview and confirm."""

import io
import tarfile
from collections.abc import Iterable, Iterator
from typing import BinaryIO

MAX_BYTES = 512 * 1024 * 1024


class ArchiveError(ValueError):
    """Not a tar stream, or its files are over MAX_BYTES in all."""


def pack(files: Iterable[tuple[str, bytes]]) -> bytes:
    """(name, bytes) pairs -> a tar stream, each member named as given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack(stream: BinaryIO) -> Iterator[tuple[str, bytes]]:
    """The regular files of a tar stream as (name, bytes), read in memory (nothing is
    written to disk). ArchiveError when it is not a tar stream or holds over MAX_BYTES."""
    total = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                total += member.size
                if total > MAX_BYTES:
                    raise ArchiveError(f"the files are over {MAX_BYTES // 2**20} MiB in all")
                yield member.name, archive.extractfile(member).read()
    except tarfile.TarError as exc:
        raise ArchiveError(f"not a tar stream ({exc})") from None
