"""Sentences with offsets into the article text.

News text breaks sentences at ". " except after abbreviations news uses all the time ("Oct. 9",
"Lt. Gen.", "U.S. officials"); a line break always ends one, since headlines and captions carry no
full stop.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_BREAK = re.compile(r"[.!?]+['\"\u2019\u201d)]*(?=\s)|\n")
ABBREVIATIONS = frozenset(
    "mr mrs ms dr gen lt col sgt capt maj gov sen rep st no vs etc jr sr prof rev ft mt inc corp co ltd "
    "jan feb mar apr jun jul aug sep sept oct nov dec adm brig cpl pvt cmdr insp supt approx est".split())
_INITIALS = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]?$")  # "U.S", "a.m", "J"


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int


def split_sentences(text: str) -> list[Sentence]:
    sentences = []
    start = 0
    for m in _BREAK.finditer(text):
        if m.group() != "\n" and not _ends_sentence(text, m.start()):
            continue
        _append(text, start, m.end(), sentences)
        start = m.end()
    _append(text, start, len(text), sentences)
    return sentences


def _ends_sentence(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return True
    floor = max(0, dot - 40)  # the word before the dot; a bounded look back keeps long lines linear
    space = max(text.rfind(" ", floor, dot), text.rfind("\n", floor, dot), floor - 1)
    w = text[space + 1:dot].lstrip("(\"'\u201c\u2018")
    if not w:
        return True
    if w.lower() in ABBREVIATIONS or _INITIALS.match(w) or (len(w) == 1 and w.isupper()):
        return False
    return True


def _append(text: str, start: int, end: int, out: list[Sentence]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start, end))
