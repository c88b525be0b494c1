"""Text from outside (NetSuite's rows, pushed requests) made storable in PostgreSQL. Its text and jsonb
columns refuse NUL, and a lone surrogate (what JSON's "\\ud800" escape decodes to) is not UTF-8 at all: one
such character in a memo would otherwise fail the whole page or request that carries it."""

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` with each unstorable character replaced by U+FFFD, the mark for "a character was lost here"."""
    return _UNSTORABLE.sub("\ufffd", text)
