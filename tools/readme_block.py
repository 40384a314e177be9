"""One block of README.md that a tool writes, between two HTML comments.

`make docs` writes each block (argspec.py: the role variables;
platforms.py: the platforms table) and `make lint` fails when one is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path


def rewrite(path: Path, markers: tuple[str, str], content: str, what: str, check_only: bool) -> int:
    """Put content (the block, its markers included) in place of the block
    of path, or with check_only only tell whether it is there already. 0: up to date (or rewritten);
    1: the markers are missing, or (check_only) the block is stale."""
    begin, end = markers
    text = path.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        print(f"{path}: markers '{begin}' and '{end}' are missing", file=sys.stderr)
        return 1
    head, rest = text.split(begin, 1)
    _unused, tail = rest.split(end, 1)
    new = head + content + tail
    if new == text:
        return 0
    if check_only:
        print(f"{path}: {what} is stale; run 'make docs'", file=sys.stderr)
        return 1
    path.write_text(new, encoding="utf-8")
    print(f"{path}: {what} rewritten")
    return 0
