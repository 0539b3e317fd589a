"""Incidents: what happened, where, when, to whom, and who says so, coded as ACLED codes events.

A pipeline component after recognition and resolution. Each sentence is cut into clauses at the words
that join two events ("after", "following", "which", ", including"); a clause with an event word
("clashes", "airstrike", "protesters", "ceasefire") is a candidate incident, and takes the casualty
counts, dates and places of its clause. Candidates then become incidents in text order:

- a clause that refers back ("the shooting", "this account") or only adds a toll continues the last
  violent incident: it may give it its place, mark it contested, or widen its range;
- a candidate that states nothing of its own (no toll, no place below the country, no date) is not an
  event ("militants who carry out cross-border attacks");
- the same event told twice (same type, compatible place and date) is one incident;
- events dated months before publication are background, not news.

The incident's place is the most specific place of its clause, preferring one after "in", "near",
"at"; never an actor ("mediation by Qatar", "Israeli Air Force"), never the dateline. With no place
below the country, the point stays null.
"""
from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from datetime import date
from typing import Any

import numpy as np

from .casualties import Count
from .dates import MONTHS, WEEKDAYS, DateMention, find_dates
from .document import Document, ResolvedPlace
from ..places.gazetteer import Gazetteer
from ..places.normalize import lower_same_length
from ..places.geodesy import km
from .sentences import Sentence, split_sentences
from .tolls import TollModel, read_counts, shipped_model

EVENT_TYPES = ("battle", "explosion_remote_violence", "violence_against_civilians", "protest", "riot",
               "strategic_development")
VIOLENT = frozenset(EVENT_TYPES[:3]) | {"riot"}

# Event words, by what they usually code as: (words, words too vague alone, phrases). The weak ones
# ("attack", "targeted") take their type from the clause and need more before they make an event.
_LEXICON = {
    "explosion_remote_violence": (
        "airstrike airstrikes air-strike air-strikes missile missiles rocket rockets shelling shelled artillery "
        "shells mortar mortars bomb bombs bombing bombings bombed bomber bombers explosion explosions explode explodes "
        "exploded exploding explosive explosives blast blasts ied ieds grenade grenades landmine landmines "
        "bombardment bombardments bombard bombards bombarded warplane warplanes gunship gunships chlorine sarin",
        "drone drones targeted struck strike strikes jets helicopter helicopters choppers",
        ["air strike", "air strikes", "air raid", "air raids", "drone strike", "drone strikes", "drone attack",
         "drone attacks", "car bomb", "car bombing", "poison gas", "toxic gas", "chemical weapons",
         "chemical attack", "nerve agent", "mustard gas", "sulfur mustard"]),
    "battle": (
        "clash clashes clashed fighting fought battle battles firefight firefights gunfight gunfights gunbattle "
        "shootout shootouts shoot-out shoot-outs ambush ambushed ambushes siege sieges besiege besieged offensive "
        "overran overrun overruns recapture recaptures recaptured capture captures captured skirmish skirmishes",
        "",
        ["exchange of fire", "exchanges of fire", "exchanged fire", "cross-border fire", "gun battle",
         "gun battles", "regained control", "regained territory", "regain territory", "taken over", "took over",
         "pushed out", "drove out", "driven out"]),
    "violence_against_civilians": (
        "massacre massacres massacred abduct abducts abducted abduction abductions kidnap kidnaps kidnapped "
        "kidnapping kidnappings execute executes executed execution executions lynch lynches lynched lynching "
        "stabbing stabbings behead beheads beheaded killings assassinate assassinates assassinated assassination "
        "rape rapes raped gang-raped torture tortured",
        "shooting shootings gunmen gunfire attack attacks attacked",
        ["shot dead", "gunned down", "shot and killed", "hacked to death", "stabbed to death", "beaten to death",
         "burned alive", "burnt alive"]),
    "protest": ("protest protests protesters protestors protested protesting demonstrate demonstrates "
                "demonstration demonstrations demonstrators demonstrated demonstrating rally rallies rallied marched "
                "marchers marching sit-in sit-ins die-in", "",
                ["tear gas", "teargas", "rubber bullets", "water cannon"]),
    "riot": ("riot riots rioted rioting rioters mob mobs", "", []),
    "strategic_development": (
        "ceasefire cease-fire truce talks negotiations discussions deadlock deadlocked stalemate accord agreement "
        "withdrew withdrawn withdrawal deployed deployment arrested arrests detained detains rounded defected "
        "defection looted looting looters cache stash defused confiscated reinforced reinforcements surrendered",
        "seized",
        ["border closure", "border closures", "closed the border", "set up", "took control", "taken control",
         "seized control", "pulled out", "pulled back", "prisoner swap", "prisoner exchange", "in exchange for",
         "handed over", "taken into custody"]),
}
_WEAK_PHRASES = {"open fire": "violence_against_civilians", "opened fire": "violence_against_civilians"}
_TRIGGER_WORDS: dict[str, tuple[str, bool]] = {}
_TRIGGER_PHRASES: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
for _type, (_strong, _weak, _phrases) in _LEXICON.items():
    _TRIGGER_WORDS.update({w: (_type, False) for w in _strong.split()})
    _TRIGGER_WORDS.update({w: (_type, True) for w in _weak.split()})
    for _phrase, _weakness in [(ph, False) for ph in _phrases] + [(ph, True) for ph, t in _WEAK_PHRASES.items()
                                                                   if t == _type]:
        _first, *_rest = _phrase.split()
        _TRIGGER_PHRASES.setdefault(_first, []).append((tuple(_rest), _type, _weakness))
_TRIGGER_KEYS = frozenset(_TRIGGER_WORDS) | frozenset(_TRIGGER_PHRASES)
TRIGGER_WORDS = frozenset(_TRIGGER_WORDS)  # single event words, for highlighting them in an article
# Words before an event word that make it hypothetical or alleged, not reported: "fears of renewed
# fighting", "could attack", "accusations of border clashes".
_HYPOTHETICAL_WORDS = frozenset("threaten threatens threatened threatening could would may might will if without no "
                                "prevent avoid possible potential likely probably possibly".split())
_HYPOTHETICAL_PAIRS = frozenset({("accusations", "of"), ("accusation", "of"), ("fears", "of"), ("fear", "of"),
                                 ("threat", "of"), ("risk", "of"), ("plan", "to"), ("plans", "to"),
                                 ("vowed", "to"), ("vows", "to"), ("vow", "to"), ("warned", "of"),
                                 ("warns", "of"), ("pledged", "to"), ("pledges", "to"), ("called", "for"),
                                 ("calls", "for"), ("call", "for")})
_CASUALTY_WORDS = frozenset("kill kills killed killing dead died deaths fatalities bodies slain wounded wound wounds "
                            "wounding injured injure injures injuring injuries hurt toll casualties lives "
                            "nobody death murdered murders lynched beheaded executed massacred perished hacked shot "
                            "stabbed gunned die dies".split())
_DATE_WORDS = frozenset(list(MONTHS) + list(WEEKDAYS) + "yesterday today tonight ago overnight night morning "
                        "afternoon evening month year".split())
_ANAPHOR_WORDS = frozenset("account accounts report claim shooting attack attacks clash clashes fighting strike "
                           "strikes incident violence explosion explosions blast bombing ambush assault raid siege "
                           "exchange killings deaths toll".split())
_DISPUTE_WORDS = frozenset("dispute disputed disputes denied denies deny rejected rejects refuted contradicted "
                           "dismissed blamed accused traded trading initiated fired provoked".split())
_SAY_WORDS = frozenset("says said claims claimed reports reported confirms confirmed stated states announced "
                       "announces told tells attribute attributes attributed estimated maintained added echoed "
                       "according".split())
_BACKGROUND = re.compile(r"\b(?:in|over|during|throughout)\s+(?:recent|the\s+past|the\s+last|past)\s+(?:few\s+)?"
                         r"(?:days|weeks|months|years|decades?)\b|\bso\s+far\s+this\s+(?:year|month)\b|"
                         r"\bsince\s+the\s+(?:start|beginning)\s+of\b|\bstepped\s+up\b|"
                         r"\b(?:the|this|that)\s+(?:violence|conflict|war|insurgency|fighting|crisis|unrest)\s+"
                         r"(?:has|have|had)\s+(?:\w+\s+)?(?:killed|left|claimed|displaced)\b|"
                         r"\bfor\s+(?:more\s+than\s+|over\s+|nearly\s+)?(?:a|two|three|several)\s+(?:decades?|years)\b")
_BETWEEN = re.compile(r"\bbetween\b")
_VIOLENT_DEMONSTRATORS = re.compile(r"\b(?:violent|violently|violence|clashing|scuffles?|scuffled|aggressive|"
                                    r"turned\s+ugly)\b|"
                                    r"\b(?:threw|throwing|hurled|hurling|pelted|pelting)\s+(?:\w+\s+)?(?:stones|rocks|"
                                    r"bricks|molotov|petrol\s+bombs|bottles)|\b(?:torched|vandali[sz]ed|ransacked|"
                                    r"stormed|breached|set\s+(?:fire|ablaze)|burning\s+tyres|burning\s+tires|"
                                    r"barricades?)\b")
_GENERIC = re.compile(r"\b(?:are|is|remain|remains)\s+(?:\w+\s+)?(?:common|commonplace|frequent|rare|routine|"
                      r"regular|widespread|endemic)\b|\b(?:often|frequently|regularly|routinely|usually|"
                      r"typically|increasingly)\s+(?:\w+\s+)?(?:target|targets|targeted|attack|attacks|hit|hits|"
                      r"kill|kills|clash|clashes)\b")
_NOT_FIRED = re.compile(r"\s+(?:tests?|testing|launch(?:es)?|programs?|programmes?|technology|defen[cs]es?|"
                        r"systems?|sales?|deals?)\b")
_WEAPONS_FOUND = re.compile(r"\b(?:found|discovered|seized|confiscated|recovered|intercepted|defused|cleared|"
                            r"uncovered|cache|caches|stash|haul|displayed?|smuggl\w*)\b")
_BLAST_WORDS = frozenset("explosion explosions explode explodes exploded exploding blast blasts".split())
# Accidents and disasters are no political violence (ACLED codes neither): a gas blast, a plane crash.
_ACCIDENT = re.compile(r"\b(?:accident|accidental|accidentally|crash|crashed|gas\s+leak|gas\s+cylinder|industrial|"
                       r"factory|furnace|boiler|short\s+circuit|warehouse|ammonium\s+nitrate|chemical\s+plant|"
                       r"volcano|earthquake|floods?|flooding|landslides?|cyclone|hurricane|typhoon|wildfires?|"
                       r"stampede|collapsed?|derailed|capsized|drowned|drowning|electrocuted|lightning|heatwave|"
                       r"food\s+poisoning|pest\s+control|outbreak|cholera|epidemic)\b")
_AIR = re.compile(r"\b(?:air|drone|missile|rocket|strike|struck|warplane|jet)")
_HAND_WEAPONS = re.compile(r"\b(?:gunmen|gunfire|shot|shooting|stabbed|knife|machete|opened\s+fire|open\s+fire)\b")
_TOPIC = (("ceasefire", re.compile(r"cease-?fire|truce", re.I)),
          ("talks", re.compile(r"talks|negotiations|discussions|deadlock|stalemate", re.I)),
          ("agreement", re.compile(r"accord|agreement|deal", re.I)),
          ("troops", re.compile(r"withdr|deploy|pulled|reinforc|defect", re.I)),
          ("arrests", re.compile(r"arrest|detain|rounded|custody", re.I)),
          ("weapons", re.compile(r"seiz|cache|stash|defus|confiscat", re.I)),
          ("bases", re.compile(r"set\s+up", re.I)),
          ("territory", re.compile(r"control|handed", re.I)),
          ("property", re.compile(r"loot", re.I)),
          ("border", re.compile(r"border", re.I)))
# A strategic development is an event when something happens to it, not when it is named.
_STRATEGIC_EVENT = re.compile(
    r"\b(?:agreed|agree|agrees|signed|signs|sign|reached|reach|deadlock(?:ed)?|stalled|stall|collapsed|"
    r"broke\s+down|ended|end|ends|failed|fail|began|begin|begins|resumed|resume|held|hold|opened|announced|"
    r"declared|declares|established|brokered|mediated|violated|closed|closes|withdrew|deployed|are\s+over|"
    r"is\s+over|halted|suspended|launched|took\s+effect|arrested|detained|rounded\s+up|defected|looted|seized|"
    r"confiscated|defused|set\s+up|took\s+control|taken\s+control|pulled\s+(?:out|back)|reinforced|"
    r"handed\s+over|released|found|discovered)\b")
_MODAL_BEFORE = re.compile(r"\b(?:could|would|may|might|will|shall|to|if|not|never|should|must)\s+(?:\w+\s+)?$")
_CLAUSE_BREAK = re.compile(r"\s+(?:after|following|amid|before|since|despite|due\s+to|because\s+of)\s+|"
                           r",\s+(?:which|who|where|while|but|adding|as)\b|;\s*|\s+[\u2014\u2013]\s+|"
                           r",\s+including\s+")
_BREAK_WORDS = frozenset("after following amid before since despite due because which who where while but adding "
                         "including".split())  # not "as": a substring of too many words to look for
_BREAK_MARKS = re.compile(r"[;\u2014\u2013]")
_ANAPHOR = re.compile(r"\b(?:the|this|that|these|those)\s+(?:\w+\s+){0,2}?(?:account|accounts|report|claim|"
                      r"shooting|attack|attacks|clash|clashes|fighting|strike|strikes|incident|violence|"
                      r"explosion|explosions|blast|bombing|ambush|assault|raid|siege|exchange\s+of\s+fire|"
                      r"killings|deaths|toll)\b")
_DISPUTE = re.compile(r"\b(?:disputed?|disputes|denied|denies|deny|rejected|rejects|refuted|contradicted|"
                      r"dismissed|blamed\s+each\s+other|accused\s+each\s+other|traded\s+accusations|"
                      r"trading\s+accusations|initiated|fired\s+first|provoked)\b")
_DATELINE = re.compile(r"^[A-Z][A-Z .'\u2019-]{2,40}(?:,\s*[A-Z][\w .]{1,30})?\s*(?:\([\w .]+\)\s*)?[\u2014\u2013-]+\s",
                       re.MULTILINE)
_PREPOSITIONS = frozenset("in near at on outside across throughout into inside around of from within".split())
_TWO_WORD_PREPOSITIONS = frozenset({("close", "to"), ("outskirts", "of")})
_FEATURE_NOUNS = frozenset("city town village province region district".split())
_PLACE_MODIFIERS = frozenset("the rural southern northern eastern western central southwest southeast northwest "
                             "northeast southwestern southeastern northwestern northeastern occupied besieged "
                             "remote".split())
_AGENT_WORDS_BEFORE = frozenset({"by", "from", "with"})
_NEAR = frozenset({"near", "outside", "around", "close to", "outskirts of"})
_SPREAD = frozenset({"across", "throughout"})
_ORG_AFTER = re.compile(r"(?:['\u2019]s)?\s*(?:-\s*)?(?:Air\s+Force|Armed\s+Forces|Defen[cs]e\s+Forces|Army|Navy|"
                        r"Police|Ministry|Government|National\s+Army|Observatory|brokered|backed|led|based)\b")
_SPECIFICITY = {"city": 3.0, "feature": 3.0, "admin2": 2.5, "admin1": 2.0, "region": 1.5, "water": 1.0}
_RETELLING_WINDOW = 40  # incidents back in the article where the same event may be told again
_BACKGROUND_DAYS = 90  # an event dated this long before publication is history the article recalls

_FORCE_AFTER = re.compile(r"(?:\s*(?:,|and|or)\s*[A-Z][\w-]+)*\s+(?P<noun>security\s+forces|forces|troops|"
                          r"soldiers|army|military|police|government|air\s+force|air\s?strikes?|strikes?|drones?|"
                          r"missiles?|gunfire|shelling|fighters|militants|jets|warplanes|navy|officials|"
                          r"authorities|rebels|militias?)\b")
_FORCE_NAME = re.compile(r"\b(?:[A-Z][\w'\u2019-]+\s+(?:(?:of|for|and)\s+)?){1,5}(?:Armed\s+Forces|Defen[cs]e\s+"
                         r"Forces|Air\s+Force|Army|Navy|Forces|Militia|Brigades?|Guards?|Corps|Front|Jihad|"
                         r"Mission|Movement)\b")
_GROUP_NAMES = re.compile(
    r"\b(?:Afghan\s+Taliban|Taliban|Al[- ]Shabaab|Hamas|Hezbollah|Houthis?|Islamic\s+State|ISIS|ISIL|Boko\s+Haram|"
    r"ISWAP|Tehrik-e-Taliban\s+Pakistan|TTP|Rapid\s+Support\s+Forces|RSF|Wagner(?:\s+Group)?|M23|al-Qaeda|"
    r"Al\s+Qaeda|AQAP|PKK|YPG|SDF|HTS|Hayat\s+Tahrir\s+al-Sham|ELN|FARC|JNIM|ADF|Janjaweed|Fulani\s+militias?|"
    r"Sinaloa\s+Cartel|CJNG|Jalisco\s+(?:New\s+Generation\s+)?Cartel|Baloch\s+Liberation\s+Army|BLA)\b")
# Lower-case words without which the patterns below cannot match, to skip them cheaply.
_GROUP_WORDS = frozenset("taliban al-shabaab shabaab hamas hezbollah houthi houthis islamic isis isil boko iswap "
                         "tehrik-e-taliban ttp rapid rsf wagner m23 al-qaeda qaeda aqap pkk ypg sdf hts hayat eln farc "
                         "jnim adf janjaweed fulani sinaloa cjng jalisco baloch bla".split())
_FORCE_WORDS = frozenset("forces force army navy militia brigade brigades guard guards corps front jihad mission "
                         "movement".split())
_AGENT_WORDS = frozenset("gunmen bandits militants insurgents rebels attackers jihadists police security troops "
                         "soldiers protesters demonstrators rioters gang gangs".split())
_ARTICLE = re.compile(r"^(?:The|A|An)\s+")
_AGENT_ADJECTIVES = frozenset("islamist suspected armed unidentified unknown jihadist separatist".split())
_ACCUSER_AFTER = re.compile(r"\s+(?:[\w-]+\s+)?(?:blamed|blames|accused|accuses|denied|denies|vowed)\b")
_GENERIC_AGENT = re.compile(r"(?:\bby\s+(?:unidentified\s+|unknown\s+|suspected\s+|armed\s+)?|\b)(?P<agent>"
                            r"gunmen|bandits|militants|insurgents|rebels|attackers|jihadists|police|"
                            r"security\s+forces|troops|soldiers|protesters|demonstrators|rioters|gang\s+members|"
                            r"gangs?)\b")
_FORCE_CANON = {"soldiers": "forces", "troops": "forces", "army": "forces", "military": "forces",
                "security forces": "forces", "air force": "forces", "airstrike": "forces", "airstrikes": "forces",
                "air strike": "forces", "air strikes": "forces", "strike": "forces", "strikes": "forces",
                "drone": "forces", "drones": "forces", "missile": "forces", "missiles": "forces",
                "gunfire": "forces", "shelling": "forces", "jets": "forces", "warplanes": "forces",
                "navy": "forces", "officials": "government", "authorities": "government", "militia": "militias"}
_SAY = re.compile(r"\b(?:says|said|claims|claimed|reports|reported|confirms|confirmed|stated|states|announced|"
                  r"announces|told|tells|attributes?|attributed|estimated|maintained|added|echoed)\b")
_ACCORDING = re.compile(r"\baccording\s+to\s+(?P<src>[^,.;:\u2014]{3,70})", re.IGNORECASE)
_CLAUSE_START = re.compile(r"[,;:(\u2014\"\u201c]|(?<![A-Za-z])['\u2018\u2019]|\bthat\b")
_SELF_CLAIM = re.compile(r"\b(?:says|said|claims|claimed|confirms|confirmed|announced)\s+(?:that\s+)?(?:it|its|they|"
                         r"their)\b|\bclaim(?:s|ed)?\s+responsibility\b")
_VOCABULARY = (_TRIGGER_KEYS | _CASUALTY_WORDS | _DISPUTE_WORDS | _DATE_WORDS | _SAY_WORDS | _ANAPHOR_WORDS
               | _GROUP_WORDS | _FORCE_WORDS | _AGENT_WORDS | _BREAK_WORDS)
_PASSIVE_AUX = re.compile(r"\b(?:are|is|was|were|been|be|being)\s+$", re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
_SOURCE_WORDS = frozenset("witnesses officials official residents police sources source medics doctors activists "
                          "journalists paramedics rescuers ministry army military government authorities spokesman "
                          "spokeswoman spokesperson governor mayor".split())
_SAID_AFTER = re.compile(r"(?:\s+(?:on|late|early)\s+\w+)?,?\s+(?:said|says|told|tell|reported|report|confirmed|"
                         r"stated|announced|added)\b")
_NON_SPACE = re.compile(r"\S")
_PRONOUNS = frozenset("he she it they we i who which this that there one".split())


@dataclass(slots=True)
class IncidentPlace:
    """Where an incident happened: a gazetteer entry, or only a country."""

    name: str
    geonameid: int | None
    country: str | None
    lat: float | None
    lon: float | None
    kind: str | None = None
    admin1: str | None = None
    start: int | None = None  # the mention in the article, when there is one
    end: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "geonameid": self.geonameid, "country": self.country,
                "lat": self.lat, "lon": self.lon}

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None


@dataclass(slots=True)
class Span:
    start: int
    end: int
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(slots=True)
class Incident:
    """One event as ACLED would code it, with UCDP-style ranges and the sentence that states it."""

    event_type: str
    place: IncidentPlace | None
    geo_precision: int
    date: date | None
    date_precision: str | None
    evidence: Span
    date_from: str | None = None       # "text" when the article dates it, "publication" by default
    killed: int | None = None
    killed_low: int | None = None
    killed_high: int | None = None
    wounded: int | None = None
    wounded_low: int | None = None
    wounded_high: int | None = None
    killed_text: list[str] = field(default_factory=list)   # the wording of each count, as stated
    wounded_text: list[str] = field(default_factory=list)
    victims: list[str] = field(default_factory=list)       # "civilians", "soldiers", "police", "militants"
    actors: list[str] = field(default_factory=list)
    claimed_by: list[str] = field(default_factory=list)
    contested: bool = False
    topic: str | None = None            # for strategic developments: "talks", "ceasefire", ...
    sentences: list[Span] = field(default_factory=list)    # every sentence that tells of it
    sources: list[str] = field(default_factory=list)       # article ids
    notes: list[str] = field(default_factory=list)

    @property
    def country(self) -> str | None:
        return self.place.country if self.place else None

    @property
    def point(self) -> tuple[float, float] | None:
        return (self.place.lat, self.place.lon) if self.place and self.place.has_point else None

    def as_json(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "geo_precision": self.geo_precision,
                "place": self.place.as_json() if self.place else
                {"name": None, "geonameid": None, "country": None, "lat": None, "lon": None},
                "date": self.date.isoformat() if self.date else None, "date_precision": self.date_precision,
                "killed": self.killed, "killed_low": self.killed_low, "killed_high": self.killed_high,
                "wounded": self.wounded, "wounded_low": self.wounded_low, "wounded_high": self.wounded_high,
                "actors": self.actors, "claimed_by": self.claimed_by, "contested": self.contested,
                "evidence": self.evidence.as_json(),
                "date_from": self.date_from, "killed_text": self.killed_text, "wounded_text": self.wounded_text,
                "victims": self.victims, "sentences": [s.as_json() for s in self.sentences],
                "sources": self.sources, "notes": self.notes}


@dataclass
class _Candidate:
    """One clause that tells of an event, before candidates are joined into incidents. Who acted and who
    says so are read only for the candidates that need them."""

    sentence_index: int
    sentence: Span
    start: int
    end: int
    event_type: str | None
    topic: str | None
    counts: list[Count]
    date: DateMention | None
    place: IncidentPlace | None
    precision: int
    scan: _Scan
    places: list[ResolvedPlace]
    anaphoric: bool
    disputed: bool
    strategic_event: bool
    triggered: bool          # holds an event word (else only a toll)
    weak: bool               # its event words are all ones like "attack" or "targeted"

    @cached_property
    def _who(self) -> tuple[list[str], list[str]]:
        scan, sentence = self.scan, self.sentence
        vocabulary = scan.words[self.sentence_index]
        claimants = scan.claimants(self.sentence_index, sentence)
        # Who reports an event is not one of its actors, unless it claims the deed ("Al-Shabaab claims
        # that its fighters", "The Israeli Air Force says it has targeted").
        self_claim = claimants and _SELF_CLAIM.search(scan.low, sentence.start, sentence.end)
        actors = [a for a in _actors(scan.text, scan.low, self.start, self.end, self.places, vocabulary)
                  if self_claim or not any(a.lower() in c.lower() for c in claimants)]
        return actors, claimants

    @property
    def actors(self) -> list[str]:
        return self._who[0]

    @property
    def claimed_by(self) -> list[str]:
        return self._who[1]

    @property
    def thin(self) -> bool:
        """States nothing of its own: no toll, no place below the country, no date; or, with only a word
        like "attacks", neither a toll, a date nor an armed actor at a place."""
        if self.event_type == "strategic_development":
            return not (self.strategic_event or self.date)
        if self.scan.published is None and self.triggered and not self.weak:
            return False  # undated text: no "on Friday" can date it, so a plain event word must do
        dated = self.date is not None and self.date.rank >= 2
        if self.weak:  # "attacks": an event only with a toll, a date, or an armed actor at a place
            return not (self.counts or dated or (self.actors and self.place and self.place.has_point))
        return not (self.counts or (self.place and self.place.has_point) or dated)


class IncidentExtractor:
    """Pipeline component: fills `doc.incidents` from the sentences and the resolved places. The
    gazetteer names the country of an incident the text places only by its article's country."""

    def __init__(self, gazetteer: Gazetteer | None = None, tolls: TollModel | None | str = "shipped") -> None:
        self.gazetteer = gazetteer
        self.tolls = shipped_model() if tolls == "shipped" else tolls

    def __call__(self, doc: Document) -> Document:
        doc.incidents = extract_incidents(doc, self.gazetteer, self.tolls)
        return doc


def extract_incidents(doc: Document, gazetteer: Gazetteer | None = None,
                      tolls: TollModel | None = None) -> list[Incident]:
    """The incidents of a document; `tolls` reads which numbers count the dead and wounded (None: the
    hand rules alone)."""
    text = doc.text
    published = doc.article.published
    sentences = split_sentences(text)
    low = lower_same_length(text)
    candidates = _candidates(doc, sentences, published, tolls, low)
    incidents = _assemble(candidates, doc, published, gazetteer)
    if any(not inc.point for inc in incidents):
        _place_from_next_sentences(incidents, doc, sentences, low)
    for inc in incidents:
        inc.sources = [doc.article.id]
    return incidents


def _place_from_next_sentences(incidents: list[Incident], doc: Document, sentences: list[Sentence],
                               low: str) -> None:
    """A violent incident its own sentences do not place is often placed by the next one ("... killed
    in northern Kenya. The attack on a school in Lokichogio ..."): the most specific place of the next
    two sentences, in the incident's country, not an agent's."""
    starts = [s.start for s in sentences]
    places = [p for p in doc.places if p.place is not None]
    place_starts = [p.mention.start for p in places]
    for inc in incidents:
        if inc.point or inc.event_type not in VIOLENT:
            continue
        si = bisect.bisect_right(starts, inc.sentences[-1].start)
        if si >= len(sentences):
            continue
        last = sentences[min(si + 1, len(sentences) - 1)]
        span = Span(sentences[si].start, last.end, doc.text[sentences[si].start:last.end])
        near = places[bisect.bisect_left(place_starts, span.start):bisect.bisect_left(place_starts, span.end)]
        place, precision = _place(doc, low, span, span.start, span.end, span.start, near)
        if place is not None and place.has_point and (inc.country is None or place.country == inc.country):
            inc.place, inc.geo_precision = place, precision


# -- candidates ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Trigger:
    """An event word or phrase: "clashes", "air strikes", "opened fire"."""

    start: int
    end: int
    event_type: str
    weak: bool


@dataclass(slots=True)
class _Scan:
    """What one pass over the lower-cased text tells about each sentence: its words and event words.
    The costlier patterns then run only on the sentences whose words can match them."""

    text: str
    low: str
    published: date | None
    words: list[frozenset[str]]   # the words of the vocabulary each sentence holds
    triggers: list[list[_Trigger]]
    _claimants: dict[int, list[str]] = field(default_factory=dict)

    def has(self, si: int, vocabulary: frozenset[str]) -> bool:
        return not vocabulary.isdisjoint(self.words[si])

    def claimants(self, si: int, sentence: Span) -> list[str]:
        """Who a sentence says states it; every clause of the sentence asks."""
        if si not in self._claimants:
            self._claimants[si] = _claimants(self.text, sentence.start, sentence.end, self.words[si]) \
                if self.has(si, _SAY_WORDS) else []
        return self._claimants[si]


def _scan(text: str, low: str, sentences: list[Sentence], published: date | None) -> _Scan:
    """One Aho-Corasick pass over the lower-cased text finds every word the extractor looks for (event,
    casualty, date, dispute, claim and actor words); each sentence gets the set of them it holds, and
    the costlier patterns run only where those words are."""
    words: list[set[str]] = [set() for _ in sentences]
    hits: list[list[tuple[int, str]]] = [[] for _ in sentences]
    starts = [s.start for s in sentences]
    size = len(low)
    for last, word in _automaton().iter(low):
        at = last - len(word) + 1
        if (at and _is_word_char(low[at - 1])) or (last + 1 < size and _is_word_char(low[last + 1])):
            continue
        si = bisect.bisect_right(starts, at) - 1
        if si >= 0 and at < sentences[si].end:
            words[si].add(word)
            if word in _TRIGGER_KEYS:
                hits[si].append((at, word))
    triggers = [_sentence_triggers(low, sentences[si], h) if h else [] for si, h in enumerate(hits)]
    return _Scan(text, low, published, [frozenset(w) for w in words], triggers)


@lru_cache(maxsize=1)
def _automaton():
    import ahocorasick
    automaton = ahocorasick.Automaton()
    for word in _VOCABULARY:
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


def _sentence_triggers(low: str, sent: Sentence, hits: list[tuple[int, str]]) -> list[_Trigger]:
    """The event words and phrases of a sentence, from the positions of their first words."""
    found = []
    for at, word in hits:
        end = at + len(word)
        hit = _TRIGGER_WORDS.get(word)
        for rest, event_type, weak in _TRIGGER_PHRASES.get(word, ()):
            tail = " " + " ".join(rest)
            if low.startswith(tail, end) and not _is_word_char(low[end + len(tail):end + len(tail) + 1]):
                hit, end = (event_type, weak), end + len(tail)
                break
        if hit and not _hypothetical(low, sent.start, at):
            found.append(_Trigger(at, end, hit[0], hit[1]))
    # A phrase's later words are not event words of their own: "drone strikes", "car bomb".
    return [t for n, t in enumerate(found) if n == 0 or t.start >= found[n - 1].end]


def _is_word_char(c: str) -> bool:
    """Letters, digits and hyphens make words ("cease-fire"); an apostrophe ends one ("yesterday's")."""
    return c.isalnum() or c == "-"


def _hypothetical(low: str, floor: int, at: int) -> bool:
    before = _words_before(low, at, floor, 50)[:4][::-1]  # the last four words, in reading order
    if not _HYPOTHETICAL_WORDS.isdisjoint(before):
        return True
    pairs = set(zip(before, before[1:]))
    return not _HYPOTHETICAL_PAIRS.isdisjoint(pairs) or (len(before) >= 3 and before[-3] == "accused"
                                                        and before[-1] == "of")


def _candidates(doc: Document, sentences: list[Sentence], published: date | None,
                tolls: TollModel | None, low: str) -> list[_Candidate]:
    text = doc.text
    scan = _scan(text, low, sentences, published)
    places = [p for p in doc.places if p.place is not None]
    out: list[_Candidate] = []
    p = 0
    told = False  # an earlier sentence gave a toll
    for si, sent in enumerate(sentences):
        while p < len(places) and places[p].mention.start < sent.start:
            p += 1
        q = p
        while q < len(places) and places[q].mention.end <= sent.end:
            q += 1
        sent_triggers = scan.triggers[si]
        has_counts = scan.has(si, _CASUALTY_WORDS)
        if not (sent_triggers or has_counts or scan.has(si, _DISPUTE_WORDS)) or _is_heading(text, sent):
            continue
        sent_places = places[p:q]
        span = Span(sent.start, sent.end, text[sent.start:sent.end])
        counts = read_counts(text, sent.start, sent.end, scan.low, tolls, told) if has_counts else []
        told = told or any(c.value for c in counts)
        dateline = _DATELINE.match(text, sent.start)  # "BEIRUT, April 2 (Reuters) -": when it was filed
        dates = find_dates(text, published, dateline.end() if dateline else sent.start, sent.end, scan.low,
                           scan.words[si])
        if sent_triggers:
            for seg_start, seg_end, seg_triggers in _segments(scan.low, sent, sent_triggers, scan.words[si]):
                candidate = _candidate(doc, scan, si, span, seg_start, seg_end, seg_triggers, sent_places,
                                       [c for c in counts if seg_start <= c.start < seg_end],
                                       [d for d in dates if seg_start <= d.start < seg_end])
                if candidate is not None:
                    out.append(candidate)
        elif counts or _disputed(scan, si, sent) and _anaphoric(scan, si, sent.start, sent.end):
            candidate = _candidate(doc, scan, si, span, sent.start, sent.end, [], sent_places, counts, dates)
            if candidate is not None:
                out.append(candidate)
    return out


def _disputed(scan: _Scan, si: int, sent: Sentence | Span) -> bool:
    return scan.has(si, _DISPUTE_WORDS) and bool(_DISPUTE.search(scan.low, sent.start, sent.end))


def _anaphoric(scan: _Scan, si: int, start: int, end: int) -> bool:
    return scan.has(si, _ANAPHOR_WORDS) and bool(_ANAPHOR.search(scan.low, start, end))


def _is_heading(text: str, sent: Sentence) -> bool:
    """A headline or section title: a whole short line with no closing punctuation. It repeats what the
    body tells, with neither the date nor the sentence an analyst would cite."""
    whole_line = (sent.start == 0 or text[sent.start - 1] == "\n") and text.startswith("\n", sent.end) \
        or sent.end == len(text)
    if not whole_line or text[sent.end - 1] in ".!?'\"\u2019\u201d" or text.count(" ", sent.start, sent.end) >= 15:
        return False
    # The whole text heads nothing (searched, not sliced: a huge text has many lines).
    return bool(_NON_SPACE.search(text, 0, sent.start) or _NON_SPACE.search(text, sent.end))


def _segments(low: str, sent: Sentence, triggers: list[_Trigger], vocabulary: frozenset[str]):
    """Clauses of a sentence, each holding at least one event word (clauses without one join the
    clause before, or the first clause after)."""
    if len(triggers) == 1:
        return [(sent.start, sent.end, triggers)]
    breaks = _CLAUSE_BREAK.finditer(low, sent.start, sent.end) if not _BREAK_WORDS.isdisjoint(vocabulary) \
        or _BREAK_MARKS.search(low, sent.start, sent.end) else ()
    cuts = [sent.start] + [m.end() for m in breaks] + [sent.end]
    segments: list[list] = []
    for a, b in zip(cuts, cuts[1:]):
        inside = [t for t in triggers if a <= t.start < b]
        if inside or not segments:
            segments.append([a, b, inside])
        else:
            segments[-1][1] = b
    if len(segments) > 1 and not segments[0][2]:
        first = segments.pop(0)
        segments[0][0] = first[0]
    return [tuple(s) for s in segments if s[2]]


def _event_type(triggers: list[_Trigger], counts: list[Count], low: str, start: int, end: int) -> str:
    types = {t.event_type for t in triggers}
    if "protest" in types or "riot" in types:  # police firing on protesters is still a protest (ACLED)
        # ACLED: demonstrators who clash, burn, vandalise or storm make it a violent demonstration, a riot
        violent = "riot" in types or "battle" in types or _VIOLENT_DEMONSTRATORS.search(low, start, end)
        return "riot" if violent else "protest"
    if "explosion_remote_violence" in types and not counts and types <= {"explosion_remote_violence",
                                                                          "strategic_development"} \
            and _WEAPONS_FOUND.search(low, start, end):
        return "strategic_development"  # grenades found, mines cleared: weapons kept from use (ACLED)
    strong = {t.event_type for t in triggers if not t.weak}
    for event_type in ("explosion_remote_violence", "battle", "violence_against_civilians"):
        if event_type in strong:
            return event_type
    if types <= {"strategic_development"} and any(c.value for c in counts):
        types = set()  # "arrested over the killing of 10": the killing is the event
    if types & VIOLENT:
        # "attack", "shooting", "struck": an armed clash when armed men fall, else violence against civilians
        victims = {v for c in counts for v in c.victims}
        if "explosion_remote_violence" in types and not counts:
            return "explosion_remote_violence"
        if victims & {"soldiers", "police", "militants"} or _BETWEEN.search(low, start, end):
            return "battle"
        if "explosion_remote_violence" in types and _AIR.search(low, start, end) \
                and not _HAND_WEAPONS.search(low, start, end):
            return "explosion_remote_violence"
        return "violence_against_civilians"
    if not types:  # a toll with no event word: armed men killed suggests a clash
        victims = {v for c in counts for v in c.victims}
        return "battle" if victims & {"soldiers", "police", "militants"} else "violence_against_civilians"
    return "strategic_development"


def _candidate(doc: Document, scan: _Scan, si: int, sentence: Span, start: int, end: int,
               triggers: list[_Trigger], places: list[ResolvedPlace], counts: list[Count],
               dates: list[DateMention]) -> _Candidate | None:
    text, low = scan.text, scan.low
    if all(low[t.start:t.end] in _BLAST_WORDS for t in triggers) and _ACCIDENT.search(low, sentence.start,
                                                                                        sentence.end):
        return None  # a blast or a toll in an accident or a disaster
    counts = [c for c in counts if not c.subset or _SUBSET_OPENS(text, start, c.start)]
    event_type = _event_type(triggers, counts, low, start, end)
    if _GENERIC.search(low, start, end):
        return None  # "bombings are common in Quetta": how things go there, not an event
    if triggers and all(_NOT_FIRED.match(low, t.end) for t in triggers):
        return None  # "missile tests", "rocket programme": weapons named, none fired at anyone
    anchors = [t.start for t in triggers] or [c.start for c in counts]
    if any(min(abs(m.start() - a) for a in anchors) <= 80 for m in _BACKGROUND.finditer(low, start, end)) \
            if anchors else False:
        return None  # "attacks in recent months", "the violence has killed thousands": a tally, not an event
    topic = None
    anchor = triggers[0].start if triggers else start
    best_date = max(dates, key=lambda d: (d.rank, -abs(d.start - anchor)), default=None)
    strategic_event = False
    if event_type == "strategic_development":
        strategic_event = _strategic_event(low, start, end)
        if not (strategic_event or best_date):
            return None  # a truce or talks named, nothing happening to them
        joined = " ".join(low[t.start:t.end] for t in triggers)
        topic = next((name for name, rx in _TOPIC if rx.search(joined)), "other")
    place, precision = _place(doc, low, sentence, start, end, anchor, places)
    return _Candidate(si, sentence, start, end, event_type, topic, counts, best_date, place, precision,
                      scan, places, _anaphoric(scan, si, start, end), _disputed(scan, si, sentence),
                      strategic_event,
                      bool(triggers), bool(triggers) and all(t.weak for t in triggers))


def _strategic_event(low: str, start: int, end: int) -> bool:
    """Something happens to the talks or the truce ("stalled", "signed"), and not only might ("could fail")."""
    return any(not _MODAL_BEFORE.search(low, max(start, m.start() - 25), m.start())
               for m in _STRATEGIC_EVENT.finditer(low, start, end))


def _SUBSET_OPENS(text: str, start: int, count_start: int) -> bool:
    """A count after "including" belongs to the clause only when the clause opens with it."""
    return text[start:count_start].strip().lower() in ("", "including")


def _place(doc: Document, low: str, sentence: Span, start: int, end: int, anchor: int,
           places: list[ResolvedPlace]) -> tuple[IncidentPlace | None, int]:
    text = doc.text
    dateline = _DATELINE.match(text, sentence.start)
    floor = dateline.end() if dateline else sentence.start
    best, best_key, best_prep = None, None, None
    countries: dict[str, ResolvedPlace] = {}
    # The countries of the provinces and districts the clause names ("Rodat district of Nangarhar"): a town
    # elsewhere is a namesake abroad, never where it happened.
    divisions = {rp.place.country for rp in places if rp.place.kind in ("admin1", "admin2")
                 and rp.mention.role != "demonym" and start <= rp.mention.start < end}
    for rp in places:
        m = rp.mention
        if m.start < max(start, floor) or m.end > end or m.role == "demonym":
            continue
        before = _words_before(low, m.start)
        if _is_agent(before) or _ORG_AFTER.match(text, m.end) or _where_a_source_speaks(before, low, m.end):
            continue
        kind = rp.place.kind
        if kind == "country":
            countries.setdefault(rp.place.country, rp)
            continue
        if kind not in _SPECIFICITY or (divisions and rp.place.country not in divisions):
            continue
        p = _preposition(before)
        key = (_SPECIFICITY[kind] + (1.0 if p and p not in ("of", "from") else 0.0), -abs(m.start - anchor))
        if best_key is None or key > best_key:
            best, best_key, best_prep = rp, key, p
    if best is not None:
        pl = _city_of_division(best)
        kind = best.mention.feature or pl.kind
        if best_prep in _SPREAD or kind in ("admin1", "region", "water"):
            precision = 3
        elif best_prep in _NEAR or kind == "admin2":
            precision = 2
        else:
            precision = 1
        return IncidentPlace(pl.name, pl.geonameid, pl.country, pl.lat, pl.lon, pl.kind, pl.admin1,
                             best.mention.start, best.mention.end), precision
    if len(countries) == 1:
        rp = next(iter(countries.values()))
        return IncidentPlace(rp.place.name, rp.place.geonameid, rp.place.country, None, None, "country",
                             None, rp.mention.start, rp.mention.end), 3
    return None, 3


def _words_before(low: str, at: int, floor: int = 0, width: int = 60) -> list[str]:
    """The words in the `width` characters before a position (not before `floor`), nearest first,
    without their punctuation."""
    return [w.strip(".,;:'\"()\u2019\u201c\u201d") for w in reversed(low[max(floor, at - width):at].split())]


def _where_a_source_speaks(before: list[str], low: str, end: int) -> bool:
    """"officials in Kyiv said", "a spokesman in Kabul told": where the news is told, not where it happened."""
    return len(before) >= 2 and before[0] in ("in", "from", "at") and \
        any(w in _SOURCE_WORDS for w in before[1:4]) and bool(_SAID_AFTER.match(low, end))


def _is_agent(before: list[str]) -> bool:
    """"mediation by Qatar", "by Turkey and Qatar": the place acts or helps, it is not where."""
    return bool(before) and (before[0] in _AGENT_WORDS_BEFORE or (
        len(before) > 2 and before[0] == "and" and before[2] in _AGENT_WORDS_BEFORE))


def _preposition(before: list[str]) -> str | None:
    """The preposition a place follows, past words like "the", "rural", "city of": "in", "near"."""
    k = 0
    while k < len(before):
        w = before[k]
        if w == "of" and k + 1 < len(before) and before[k + 1] in _FEATURE_NOUNS:
            return "in"  # "the town of Kyaukphyu", "the city of Goma": a place, named as such
        if k + 1 < len(before) and (before[k + 1], w) in _TWO_WORD_PREPOSITIONS:
            return f"{before[k + 1]} {w}"
        if w in _PREPOSITIONS:
            return w
        if w not in _PLACE_MODIFIERS:
            return None
        k += 1
    return None


def _city_of_division(rp: ResolvedPlace):
    """"In Istanbul" names the city, not the province of the same name it resolved to, unless the text
    says "province"; an event happens at a point."""
    place = rp.place
    if place.kind not in ("admin1", "admin2") or rp.mention.feature in ("admin1", "admin2"):
        return place
    for alt, _score in rp.alternatives:
        # The alternatives are other readings of the same words, so a city among them nearby is the
        # city of that name ("Jenin" the governorate, "Janīn" the city).
        if alt.kind == "city" and alt.country == place.country and km((alt.lat, alt.lon), (place.lat, place.lon)) < 60:
            return alt
    return place


def _actors(text: str, low: str, start: int, end: int, places: list[ResolvedPlace],
            vocabulary: frozenset[str]) -> list[str]:
    found: list[tuple[int, str]] = []
    if not _GROUP_WORDS.isdisjoint(vocabulary):
        for m in _GROUP_NAMES.finditer(text, start, end):
            found.append((m.start(), m.group().replace("Al Shabaab", "Al-Shabaab")))
    if not _FORCE_WORDS.isdisjoint(vocabulary):
        for m in _FORCE_NAME.finditer(text, start, end):
            found.append((m.start(), _ARTICLE.sub("", m.group())))
    for rp in places:
        mention = rp.mention
        if not (mention.role == "demonym" or rp.place.kind == "country") or not (start <= mention.start < end):
            continue
        f = _FORCE_AFTER.match(text, mention.end)
        if f:
            noun = " ".join(f.group("noun").lower().split())
            found.append((mention.start, f"{mention.text} {_FORCE_CANON.get(noun, noun)}"))
    dateline = _DATELINE.match(text, start)
    opening = dateline.end() if dateline else start
    for m in _GENERIC_AGENT.finditer(low, start, end) if not _AGENT_WORDS.isdisjoint(vocabulary) else ():
        # "by bandits"; "Police open fire"; "NIAMEY (Reuters) - Islamist militants killed"
        if m.start() != m.start("agent") or not text[opening:m.start()].strip() or \
                text[opening:m.start()].strip().lower() in _AGENT_ADJECTIVES:
            found.append((m.start("agent"), m.group("agent")))
    actors: list[str] = []
    for at, name in sorted(found):
        if _ACCUSER_AFTER.match(text, at + len(name)):
            continue  # "which the Taliban government blamed on Pakistan": an accuser, not an actor
        if not any(name.lower() in a.lower() for a in actors):
            actors = [a for a in actors if a.lower() not in name.lower()] + [name]
    return actors


def _claimants(text: str, start: int, end: int, vocabulary: frozenset[str]) -> list[str]:
    """Who states it: "according to the ministry", "An Afghan official claimed", "Witnesses attribute"."""
    dateline = _DATELINE.match(text, start)
    start = dateline.end() if dateline else start  # "BEIRUT, April 2 (Reuters) - Israel said": Israel
    out = []
    if "according" in vocabulary:
        out.extend(m.group("src") for m in _ACCORDING.finditer(text, start, end))
    for m in _SAY.finditer(text, start, end):
        if _PASSIVE_AUX.search(text, max(start, m.start() - 12), m.start()):
            continue  # "are confirmed killed"
        before = _PARENTHESES.sub("", text[max(start, m.start() - 90):m.start()])
        clause = _CLAUSE_START.split(before)[-1]
        words = clause.split()
        if words and words[-1].lower() in ("and", "or"):  # "X denied the account and reported": X
            words = list(itertools.takewhile(lambda w: w[:1].isupper(), words))
        while words and words[0].lower() in ("and", "but", "however", "also", "then", "while", "the", "an", "a"):
            words.pop(0)
        if not words or len(words) > 8 or words[0].lower() in _PRONOUNS:
            continue
        if not (any(w[0].isupper() for w in words[1:] + words[:1]) or words[-1].lower() in _SOURCE_WORDS):
            continue
        out.append(" ".join(words))
    cleaned: list[str] = []
    for src in out:
        src = re.sub(r"^(?:the|an?|its|his|her)\s+", "", src.strip(), flags=re.IGNORECASE).rstrip(" .")
        if not src or src.split()[0].lower() in _PRONOUNS:
            continue
        if any(src.lower() in c.lower() for c in cleaned):
            continue  # "ministry" after "defence ministry": the same source, said again
        cleaned = [c for c in cleaned if c.lower() not in src.lower()] + [src]
    return cleaned


# -- assembly -----------------------------------------------------------------------------------
def _assemble(candidates: list[_Candidate], doc: Document, published: date | None,
              gazetteer: Gazetteer | None) -> list[Incident]:
    incidents: list[Incident] = []
    last_violent: tuple[Incident, int] | None = None
    dominant = _dominant_country(doc, gazetteer) if candidates else None
    for c in candidates:
        when = c.date.date if c.date else None
        if when and published and not _recent(when, published):
            if c.date.precision != "year" or when.year < published.year:
                continue
        if c.date and c.date.precision == "year" and (c.event_type in VIOLENT or published is None):
            continue  # "since 2021", "the 2021 accord": history, not an event
        continues = last_violent is not None and (
            (c.anaphoric and (c.event_type in VIOLENT or not c.triggered or c.disputed)
             and _places_compatible(last_violent[0], c))
            or (not c.triggered and c.counts and c.sentence_index - last_violent[1] <= 2
                and _places_compatible(last_violent[0], c) and not _new_toll(last_violent[0], c))
            or (c.disputed and not c.triggered))
        if continues and c.event_type == "strategic_development":
            continues = False
        if continues:
            inc = last_violent[0]
            _continue(inc, c)
            last_violent = (inc, c.sentence_index)
            continue
        if c.event_type is None or c.thin or not (c.triggered or c.place is not None or c.sentence_index <= 1
                                                  or (c.date is not None and c.date.rank >= 2)):
            continue  # a toll alone makes an incident where the sentence places or dates it, or in the lede
        # The same event told again is looked for among the last incidents only, so that a huge text costs
        # time in proportion to its length (a retelling further back stays apart; the store merges it).
        near = last_violent[0] if last_violent and c.sentence_index - last_violent[1] <= 2 else None
        # (Type and topic are compared here first: most of the window differs in them.)
        target = next((inc for inc in itertools.islice(reversed(incidents), _RETELLING_WINDOW)
                       if inc.topic == c.topic and (inc.event_type == c.event_type or inc is near)
                       and _same_event(inc, c, retold=inc is near)), None)
        if target is None:
            target = _new_incident(c, doc, published, dominant, gazetteer)
            incidents.append(target)
        else:
            _join(target, c)
        if target.event_type != "strategic_development":  # tolls and disputes follow violence and protests
            last_violent = (target, c.sentence_index)
    return incidents


def _recent(when: date, published: date) -> bool:
    """Within the days before publication an article reports as news (not history, not the future)."""
    days = (published - when).days
    return -1 <= days <= _BACKGROUND_DAYS


def _dominant_country(doc: Document, gazetteer: Gazetteer | None) -> IncidentPlace | None:
    """The country most places of the article are in, when one clearly leads: where an incident the
    text does not place happened, at country precision and with no point."""
    tally: dict[str, float] = {}
    names: dict[str, tuple[str, int | None]] = {}
    for rp in doc.places:
        if rp.place is not None and rp.place.country:  # a demonym ("Saudi-led") hints, a place states
            tally[rp.place.country] = tally.get(rp.place.country, 0) + (0.5 if rp.mention.role == "demonym" else 1)
            if rp.place.kind == "country":
                names[rp.place.country] = (rp.place.name, rp.place.geonameid)
    if not tally:
        return None
    ranked = sorted(tally.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] < 2 * ranked[1][1]:
        return None
    code = ranked[0][0]
    if code not in names and gazetteer is not None and code in gazetteer.country_places:
        country = gazetteer.place(gazetteer.country_places[code])
        names[code] = (country.name, country.geonameid)
    name, geonameid = names.get(code, (code, None))
    return IncidentPlace(name, geonameid, code, None, None, "country")


def _new_incident(c: _Candidate, doc: Document, published: date | None, dominant: IncidentPlace | None,
                  gazetteer: Gazetteer | None) -> Incident:
    place, geo_precision = c.place, c.precision
    if place is None and dominant:
        place = dominant
    if (place is None or not place.has_point) and gazetteer is not None:
        capital = _capital(c, place.country if place else None, gazetteer)
        if capital is not None:
            place, geo_precision = capital, 1
    if c.date:
        when, precision, source = c.date.date, c.date.precision, "text"
    elif published:
        when, precision, source = published, "day", "publication"
    else:
        when = precision = source = None
    inc = Incident(c.event_type, place, geo_precision, when, precision, c.sentence, date_from=source,
                   topic=c.topic, sentences=[c.sentence])
    _take_counts(inc, c.counts)
    inc.actors = list(c.actors)
    inc.claimed_by = list(c.claimed_by)
    inc.contested = c.disputed and bool(re.search(r"each\s+other", c.sentence.text))
    return inc


_THE_CAPITAL = re.compile(r"\bthe\s+(?:(?P<who>[a-z][\w-]*)(?:['\u2019]s)?\s+)?capital\b(?!\s+(?:of|city\s+of)\b)")


def _capital(c: _Candidate, country: str | None, gazetteer: Gazetteer) -> IncidentPlace | None:
    """"In the Somali capital", "south of the capital": the national capital of the country the words
    name (a demonym before "capital"), else of the country the incident is in."""
    m = _THE_CAPITAL.search(c.scan.low, c.start, c.end)
    if m is None:
        return None
    if m.group("who"):
        named = next((rp.place.country for rp in c.places if rp.mention.start == m.start("who")), None)
        country = named or (country if m.group("who") in ("country", "nation", "nation's") else None)
    index = _capitals(gazetteer).get(country)
    if index is None:
        return None
    p = gazetteer.place(index)
    return IncidentPlace(p.name, p.geonameid, p.country, p.lat, p.lon, p.kind, p.admin1, m.start(), m.end())


@lru_cache(maxsize=2)
def _capitals(gazetteer: Gazetteer) -> dict[str, int]:
    """Country code -> the gazetteer index of its capital (the most populous entry flagged capital)."""
    rows = gazetteer.places
    found: dict[str, int] = {}
    flagged = map(int, np.flatnonzero(np.asarray(rows["capital"]) == 1))
    for i in sorted(flagged, key=lambda i: -int(rows[i]["population"])):
        found.setdefault(gazetteer.countries[int(rows[i]["country"])], i)
    return found


def _new_toll(inc: Incident, c: _Candidate) -> bool:
    """A toll for what the incident already counts, told without referring back ("An Israeli soldier is
    killed ..." after "airstrikes kill 15"): another event, not more of the same."""
    if c.anaphoric or c.disputed:
        return False
    return any((inc.killed_text if k.kind == "killed" else inc.wounded_text) for k in c.counts if not k.more)


def _places_compatible(inc: Incident, c: _Candidate) -> bool:
    """The same place, or one of them not placed below the country."""
    if inc.point and c.place and c.place.has_point:
        limit = 25 if max(inc.geo_precision, c.precision) == 1 else 100
        return km(inc.point, (c.place.lat, c.place.lon)) <= limit
    return not (inc.country and c.place and c.place.country and inc.country != c.place.country)


def _same_event(inc: Incident, c: _Candidate, retold: bool = False) -> bool:
    """Another clause telling of the same event: same type and topic (or, for the violent incident told
    in the sentences just before, `retold` in other words), compatible place and date, and not two
    different tolls."""
    if inc.topic != c.topic or (inc.event_type != c.event_type and not (retold and _retold(inc, c))):
        return False
    if inc.killed_text and c.counts and not _same_tolls(inc, c):
        return False
    if not _places_compatible(inc, c) and not (inc.event_type == "strategic_development"
                                               and not (inc.point and c.place and c.place.has_point)):
        return False
    if c.date and inc.date_from == "text" and inc.date:
        if c.date.precision == "day" and inc.date_precision == "day":
            return abs((c.date.date - inc.date).days) <= 1
        return (c.date.date.year, c.date.date.month) == (inc.date.year, inc.date.month)
    return True


def _same_tolls(inc: Incident, c: _Candidate) -> bool:
    """The clause repeats the incident's toll ("100 killed ... the attack that killed 100")."""
    return all(k.value is not None and k.value == getattr(inc, k.kind) for k in c.counts)


def _retold(inc: Incident, c: _Candidate) -> bool:
    """A violent event told again in the next sentences in other words ("a terrorist attack" then "the
    suicide bomber"): no toll of its own, or the same toll."""
    placed_apart = c.place is not None and c.place.has_point and not inc.point  # a place of its own
    return inc.event_type in VIOLENT and c.event_type in VIOLENT and "protest" not in (inc.event_type, c.event_type) \
        and (not c.counts or _same_tolls(inc, c)) and not placed_apart


def _join(inc: Incident, c: _Candidate) -> None:
    if inc.sentences[-1] != c.sentence:  # candidates come in text order
        inc.sentences.append(c.sentence)
    if (c.date and c.date.rank == 3 and inc.date_from != "text") or (c.counts and not inc.killed_text
                                                                      and not inc.wounded_text):
        inc.evidence = c.sentence  # the sentence that dates it or counts its dead is the one to cite
    _take_place(inc, c)
    if c.date and (inc.date_from != "text" or c.date.precision == "day" and inc.date_precision != "day"):
        inc.date, inc.date_precision, inc.date_from = c.date.date, c.date.precision, "text"
    _take_counts(inc, c.counts)
    _union(inc.actors, c.actors)
    _union(inc.claimed_by, c.claimed_by)


def _continue(inc: Incident, c: _Candidate) -> None:
    """A later sentence about the last violent incident: its place, another account, a new toll."""
    if inc.sentences[-1] != c.sentence:  # candidates come in text order
        inc.sentences.append(c.sentence)
    _take_place(inc, c)
    # Another account of the toll (disputed, or revised) widens or replaces it; a count of something the
    # incident does not count yet adds it; any other count is of other people ("the assailants").
    counts = [k for k in c.counts if c.disputed or k.revised or k.more or not (
        inc.killed_text if k.kind == "killed" else inc.wounded_text)]
    disputed = c.disputed or any(_differs(inc, k) for k in counts)
    _take_counts(inc, counts)
    if disputed:
        inc.contested = True
    _union(inc.actors, c.actors)
    _union(inc.claimed_by, c.claimed_by)


def _take_place(inc: Incident, c: _Candidate) -> None:
    if c.place is None:
        return
    better = (c.place.has_point and not inc.point) or (inc.place is None) or \
             (c.place.has_point and inc.point and c.precision < inc.geo_precision)
    if better:
        inc.place, inc.geo_precision = c.place, c.precision


def _differs(inc: Incident, count: Count) -> bool:
    current = inc.killed if count.kind == "killed" else inc.wounded
    return current is not None and count.value is not None and count.value != current and not count.revised


def _take_counts(inc: Incident, counts: list[Count]) -> None:
    """Add counts to an incident: a first count sets it; a different account keeps the lower number as
    the count and both in the range (UCDP's low and high); "the toll rose to" replaces it."""
    for c in counts:
        if c.rejected:
            inc.notes.append(c.rejected)
            continue
        kind = c.kind
        texts = inc.killed_text if kind == "killed" else inc.wounded_text
        if c.text in texts:
            continue
        texts.append(c.text)
        _union(inc.victims, list(c.victims))
        value, low, high = getattr(inc, kind), getattr(inc, kind + "_low"), getattr(inc, kind + "_high")
        if len(texts) == 1 or c.revised:
            value, low, high = c.value, c.low, c.high
        elif c.more:  # one more of the same: added to the toll
            value = None if value is None or c.value is None else value + c.value
            low = (low or 0) + (c.low or 0)
            high = None if high is None or c.high is None else high + c.high
        else:
            stated = [x for x in (value, c.value) if x is not None]
            value = min(stated) if stated else None
            lows = [x for x in (low, c.low) if x is not None]
            low = min(lows) if lows else None
            highs = [x for x in (high, c.high, getattr(inc, kind), c.value) if x is not None]
            high = max(highs) if highs else None
        setattr(inc, kind, value)
        setattr(inc, kind + "_low", low)
        setattr(inc, kind + "_high", high)


def _union(into: list[str], more: list[str]) -> None:
    for x in more:
        if x not in into:
            into.append(x)
