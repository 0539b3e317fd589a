"""Name normalisation shared by the gazetteer index and the recogniser.

Both sides must fold names the same way, so that "Spin Boldak" in an article meets GeoNames'
"Spīn Bōldak", "St. Louis" meets "St Louis" and "Khyber-Pakhtunkhwa" meets "Khyber Pakhtunkhwa".
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DROP = str.maketrans({"'": None, "\u2019": None, "\u2018": None, "`": None, "\u02bb": None,
                       "\u02bc": None, "\u02be": None, "\u02bf": None, ".": None})
_SPACE = re.compile(r"[\s\-\u2010-\u2015_/]+")
# Letters NFKD does not decompose into a base letter plus a mark.
_SPECIAL = str.maketrans({"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ß": "ss",
                          "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i", "þ": "th", "ð": "d"})


@lru_cache(maxsize=262144)
def fold(name: str) -> str:
    """Case-fold, strip diacritics and punctuation, collapse hyphens and spaces."""
    name = name.translate(_SPECIAL)
    if not name.isascii():
        name = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    name = name.translate(_DROP).casefold()
    return _SPACE.sub(" ", name).strip(" ,;:()")


def is_latin(name: str) -> bool:
    """True when a folded name is written in Latin letters (what English news prints)."""
    return bool(name) and name.isascii() and any(c.isalpha() for c in name)


def lower_same_length(text: str) -> str:
    """`text.lower()`, except that the few characters whose lower case is longer ("İ") stay as they are,
    so offsets in the lowered text are offsets in the text. Patterns then match without IGNORECASE,
    which Python's re runs several times faster."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
