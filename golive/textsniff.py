"""Tell how a file's bytes hold text, for the secret scan: which encoding, or binary.

git (and so the scan before) calls a file binary when a NUL byte is in its first 8000
bytes. That also hides text written as UTF-16 or UTF-32 (Windows PowerShell 5 writes
UTF-16LE by default; every ASCII character has a NUL beside it) and text with a stray
NUL byte. This module tells those apart from real binaries by a sample of the start:

* a byte-order mark names the encoding;
* without one, NUL bytes in the high byte of most UTF-16/32 code units, and a sample that
  then decodes strictly into text, identify UTF-16/32;
* a sample whose bytes other than NUL are UTF-8 text is text with stray NULs.

No general charset detector (charset-normalizer is installed) is used: it is slow on a
repository's every file and answers a different question (which 8-bit code page).
"""

from __future__ import annotations

import codecs
import re

__all__ = ["ASCII_COMPATIBLE", "SNIFF_BYTES", "text_encoding"]

# Text whose ASCII characters are single bytes as they are (UTF-8, Latin-1, ..., and
# text with stray NULs): an ASCII key is found in the bytes without decoding anything.
ASCII_COMPATIBLE = "ascii-compatible"

# git's own sample size for its binary test.
SNIFF_BYTES = 8000

# Longest first: the UTF-32LE mark begins with the UTF-16LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Without a mark: (codec, code unit width, offset of the high byte in a unit).
_WIDE = (
    ("utf-32-le", 4, 3),
    ("utf-32-be", 4, 0),
    ("utf-16-le", 2, 1),
    ("utf-16-be", 2, 0),
)
# Text in Latin scripts has a NUL high byte in nearly every code unit; ask for half.
_MIN_NUL_HIGH_BYTES = 0.5
# C0 controls that do not occur in text (tab, newlines, form feed, backspace and escape
# do), and NUL after decoding.
_CONTROL = re.compile("[\x00-\x07\x0e-\x1a\x1c-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.01


def text_encoding(data: bytes) -> str | None:
    """The codec to read `data` with, `ASCII_COMPATIBLE`, or None for a binary."""
    sample = data[:SNIFF_BYTES]
    for bom, codec in _BOMS:
        if sample.startswith(bom) and _is_text(sample[len(bom) :], codec):
            return codec
    if b"\0" not in sample:
        return ASCII_COMPATIBLE
    for codec, width, high in _WIDE:
        highs = sample[high::width]
        if highs.count(0) >= _MIN_NUL_HIGH_BYTES * len(highs) and _is_text(sample, codec):
            return codec
    without_nuls = sample.replace(b"\0", b"")
    if without_nuls and _is_text(without_nuls, "utf-8"):
        return ASCII_COMPATIBLE
    return None


def _is_text(sample: bytes, codec: str) -> bool:
    """`sample` decodes strictly (a character cut at its end aside) into text."""
    try:
        text = codecs.getincrementaldecoder(codec)("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return len(_CONTROL.findall(text)) <= _MAX_CONTROL_SHARE * len(text)
