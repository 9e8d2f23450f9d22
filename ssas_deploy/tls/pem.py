"""Reading PEM files: their blocks, located by number and line, with errors that name both."""

import re
from dataclasses import dataclass
from pathlib import Path

from ssas_deploy.bounded_read import read_regular_file
from ssas_deploy.errors import InvalidInputError, Problem

# A certificate chain or a key is a few KiB; anything far larger is not one.
MAX_PEM_BYTES = 1024 * 1024
_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\n(.*?)-----END ([A-Z0-9 ]+)-----",
                    re.DOTALL)


@dataclass(frozen=True)
class PemBlock:
    """One `-----BEGIN LABEL-----` ... `-----END LABEL-----` block of a file.

    `number` counts blocks from 1, `line` is the BEGIN line (1-based); `text` is the block
    itself with `\\n` line ends and a final newline (what is stored or decoded).
    """

    label: str
    number: int
    line: int
    text: str

    @property
    def where(self) -> str:
        """'block 2 (line 31)', for messages."""
        return f"block {self.number} (line {self.line})"


def read_pem_text(path: Path) -> str:
    """The file's text with `\\n` line ends. InvalidInputError naming the file when it cannot
    be read, is larger than MAX_PEM_BYTES, or is not text (a DER file, anything binary)."""
    path = Path(path)
    data = read_regular_file(path, MAX_PEM_BYTES, "a PEM file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(path, f"is not a PEM text file (byte {exc.start} is not text; a DER file? "
                         "convert it with `openssl x509 -inform der -in FILE -out FILE.pem` "
                         "or `openssl pkey -inform der ...`)") from None
    if "\0" in text:
        raise _bad(path, "is not a PEM text file (it holds NUL bytes)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def pem_blocks(path: Path, text: str) -> list[PemBlock]:
    """Every PEM block of `text` (read from `path`, named in errors), in file order.

    Text between blocks (e.g. openssl's `subject=` lines) is ignored. InvalidInputError when
    there is no block at all, or a BEGIN line has no matching END line.
    """
    blocks = []
    for number, match in enumerate(_BLOCK.finditer(text), start=1):
        begin, body, end = match.groups()
        line = text.count("\n", 0, match.start()) + 1
        block = PemBlock(begin, number, line, f"-----BEGIN {begin}-----\n{body}"
                                              f"-----END {end}-----\n")
        if begin != end:
            raise _bad(path, f"{block.where}: BEGIN {begin} ends with END {end}", block.line)
        if "-----BEGIN " in body:
            raise _bad(path, f"{block.where}: BEGIN {begin} has no END line before the next "
                             "BEGIN", block.line)
        blocks.append(block)
    ends = text.count("-----END ")
    if text.count("-----BEGIN ") != len(blocks) or ends != len(blocks):
        line = _first_unmatched_line(text, blocks)
        raise _bad(path, "this BEGIN or END line has no partner (a cut-off copy?)", line)
    if not blocks:
        raise _bad(path, "is not PEM: no '-----BEGIN ...-----' block")
    return blocks


def _first_unmatched_line(text: str, blocks: list[PemBlock]) -> int:
    inside = set()
    for block in blocks:
        inside.update(range(block.line, block.line + block.text.count("\n")))
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith(("-----BEGIN ", "-----END ")) and number not in inside:
            return number
    return 1  # pragma: no cover (a count mismatch always has such a line)


def _bad(path: Path, message: str, line: int | None = None) -> InvalidInputError:
    return InvalidInputError([Problem(Path(path), line, "", message)])
