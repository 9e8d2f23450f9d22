"""Reading a file a user names, without trusting it to be small or to be a file at all."""

import os
import stat
from pathlib import Path

from ssas_deploy.errors import InvalidInputError, Problem


def read_regular_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of `path`, at most `limit` of them.

    A device (/dev/zero), a FIFO or a directory is refused at once instead of being read
    forever; a file over `limit` bytes is refused after reading `limit` + 1 bytes, whatever
    size its metadata claims. `what` names the kind of file in the message ("a profile or
    inventory"). Raises InvalidInputError naming the file.
    """
    path = Path(path)

    def refuse(message: str) -> InvalidInputError:
        return InvalidInputError([Problem(path, None, "", message)])

    try:
        # O_NONBLOCK: a FIFO opens at once (then is refused) instead of waiting for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise refuse("is not a regular file (a directory, device or pipe?)")
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise refuse("no such file") from None
    except IsADirectoryError:
        raise refuse("is a directory, not a file") from None
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise refuse(f"file is larger than {limit:,} bytes; {what} is at most {limit:,} bytes")
    return data
