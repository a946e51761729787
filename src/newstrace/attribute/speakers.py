"""Speakers: resolve each source mention to a person or organisation, within an article and across.

Within an article: a named source is itself; a pronoun takes the speaker of the closest attribution
before it (else the closest person named before it); a description ("the Russian leader", "the
adviser", "an adviser to President X") takes the person in the article whose own description shares
its words (titles before the name, appositions), nearest first; an organisation is its name.

Across articles, one person is one entry: a person is a transliteration-folded surname (Zelensky,
Zelenskyy and Zelenskiy fold together) with a first name, so Bill and Hillary Clinton are two people
and "Democrat Hillary Clinton", "Hilary Clinton" and "Hillary Rodham Clinton" one; a name with a title
joins the full name it folds to, a surname alone the person the article names in full (else the one
most often named), and the most frequent full spelling is the canonical one. A name whose surname is a
near match of a better attested one with the same first name ("Mykhailo Polyak" / "Mykhailo Podolyak")
is linked to it and flagged as a probable misspelling, and so is that surname written alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from ..model import Quote
from .extract import Attribution, Mention

_PRONOUNS = {"he", "she", "him", "her", "i", "we", "they", "it", "you"}
_PERSONAL = {"he", "she", "i", "him", "her"}
_TITLES = re.compile(r"^(?:(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Prof|President|Prime Minister|Minister|Senator|"
                     r"Secretary|Chancellor|King|Queen|Pope|Sir|Lord|Lady)\.?\s+)+")
# Words that name the same role, so that "the Russian leader" finds "Russian President Vladimir Putin".
_ROLE = {"leader": "head", "president": "head", "chief": "head", "head": "head", "premier": "head",
         "chancellor": "head", "advisor": "adviser", "aide": "adviser", "spokesperson": "spokesman",
         "spokeswoman": "spokesman", "minister": "minister", "secretary": "minister"}
_STOP = {"the", "a", "an", "of", "to", "'s", "and", "who", "which", "that", "on", "in", "for", "with", "his", "her"}


def _norm(w: str) -> str:
    return _ROLE.get(w, w)


# strip_title, fold and name_parts run on every name of every article (a tenth of the rules' time in
# `newstrace quotes`), and news names the same people again and again: they are cached
@lru_cache(maxsize=1 << 16)
def strip_title(name: str) -> str:
    """Drop titles and possessive endings from a name ("President Putin's" -> "Putin")."""
    name = re.sub(r"[’']s$", "", name.strip())
    return _TITLES.sub("", name).strip(" ,.")


@lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """A surname key that survives transliteration variants: Zelenskyy, Zelenskiy, Zelensky -> zelensk."""
    w = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()
    w = re.sub(r"[^a-z]", "", w)
    w = re.sub(r"(?:iy|yy|yi|ii|y|i)$", "", w)
    return w.replace("kh", "h").replace("ck", "k")


def org_key(name: str) -> frozenset[str]:
    """Content-word stems of an organisation's name, order and case ignored."""
    words = re.findall(r"[a-z]+", unicodedata.normalize("NFKD", name).lower())
    # seven letters, not five: "commi" made the Commission and the Committee one body
    return frozenset(re.sub(r"(?<=[a-z]{3})s$", "", w)[:7] for w in words if w not in _STOP and w != "s")


def _score(desc: frozenset[str], other: frozenset[str]) -> int:
    a = {_norm(w) for w in desc - _STOP}
    b = {_norm(w) for w in other - _STOP}
    return len(a & b)


def resolve_article(atts: list[Attribution], mentions: list[Mention]) -> None:
    """Give every attribution of one article the speaker its source refers to (a surface name)."""
    mentions = sorted(mentions, key=lambda m: m.start)
    surnames = {fold(m.name.split()[-1]) for m in mentions if m.label == "PERSON" and m.name.split()}
    for i, att in enumerate(atts):
        if att.source is None:
            continue
        at = att.source[0]
        head = att.head.lower()
        if att.mention:
            att.speaker = strip_title(att.mention)
            # one word ("Moscow", "Zelenskyy"): a person when the article names a person so
            person = att.mention_label == "PERSON" or fold(att.speaker.split()[-1] if att.speaker else "") in surnames
            att.speaker_kind = "person" if person else "organisation"
            if not person and att.speaker in _CAPITALS:
                att.speaker = _CAPITALS[att.speaker]  # "Kyiv says" is Ukraine speaking: one body, two words
        elif head in _PRONOUNS:
            personal = head in _PERSONAL
            att.speaker = _previous_speaker(atts[:i], mentions, at, "person" if personal else "organisation")
            att.speaker_kind = "person" if personal else next(
                (p.speaker_kind for p in reversed(atts[:i]) if p.speaker == att.speaker), "organisation")
        else:
            att.speaker = _by_description(att, mentions, at)
            name = re.sub(r"^(?:the|a|an)\s+", "", att.source_text, flags=re.I).strip(" ,")
            if att.speaker is None and _ORG_HEAD.search(att.head.lower()) and " " in name:
                # a named body ("Ukraine's general staff", "the fire department"), not "the company"
                att.speaker_kind = "organisation"
                att.speaker = name


# A capital said to speak is its country's government (metonymy, the usage of every news desk):
# "Kyiv says …" and "Ukraine says …" report one speaker. Capitals of the countries most in the news.
_CAPITALS = {
    "Kyiv": "Ukraine", "Kiev": "Ukraine", "Moscow": "Russia", "Beijing": "China", "London": "Britain",
    "Paris": "France", "Berlin": "Germany", "Tokyo": "Japan", "Tehran": "Iran", "Pyongyang": "North Korea",
    "Seoul": "South Korea", "Ankara": "Turkey", "Damascus": "Syria", "Baghdad": "Iraq", "Kabul": "Afghanistan",
    "Minsk": "Belarus", "Warsaw": "Poland", "Ottawa": "Canada", "New Delhi": "India", "Islamabad": "Pakistan",
    "Riyadh": "Saudi Arabia", "Cairo": "Egypt", "Taipei": "Taiwan", "Havana": "Cuba", "Caracas": "Venezuela",
    "Budapest": "Hungary", "Rome": "Italy", "Madrid": "Spain", "Canberra": "Australia", "Mexico City": "Mexico",
}

_ORG_HEAD = re.compile(r"^(?:staff|ministry|government|kremlin|command|military|army|office|department|agency|"
                       r"council|committee|commission|court|police|service|administration|campaign|company|"
                       r"party|embassy|white house|spokes\w*)$")


_PARTICLES = frozenset("de del della der di da van von le la du st bin al el ben".split())


def full_name(name: str | None, mentions: list[Mention]) -> str | None:
    """The article's full name for a surname said alone ("Clinton" in an article about Bill Clinton): of
    the people of that surname the article names in full, the one it names most, the first named on a
    tie (news names a person in full first, by surname after); None when ``name`` is not a surname alone
    or the article never names the person in full."""
    parts = name_parts(name or "")
    # a surname may open with a particle ("de Blasio", "Van Hollen")
    if not parts or any(w.lower() not in _PARTICLES for w in parts[:-1]):
        return None
    key = [fold(w) for w in parts]
    seen: dict[str, list] = {}  # folded first name -> [mentions, first position, the name]
    for m in sorted(mentions, key=lambda m: m.start):
        words = name_parts(m.name)
        if m.label == "PERSON" and len(words) > len(key) and [fold(w) for w in words[-len(key):]] == key:
            entry = seen.setdefault(fold(words[0]), [0, m.start, " ".join(words)])
            entry[0] += 1
    if not seen:
        return None
    return max(seen.values(), key=lambda e: (e[0], -e[1]))[2]


def _text_name(att: Attribution) -> str:
    return att.mention or att.head


def _previous_speaker(before: list[Attribution], mentions: list[Mention], at: int, want: str) -> str | None:
    """The speaker of the closest attribution before (of the kind a pronoun asks: "he" a person, "it" an
    organisation), else the closest name of that kind before."""
    for prev in reversed(before):
        if prev.speaker and prev.speaker_kind == want:
            return prev.speaker
    label = "PERSON" if want == "person" else "ORG"
    for m in reversed(mentions):
        if m.start < at and m.label == label:
            return strip_title(m.name)
    return None


def _by_description(att: Attribution, mentions: list[Mention], at: int) -> str | None:
    desc = att.descriptor
    best: tuple[int, int, str] | None = None
    for m in mentions:
        if m.label != "PERSON" or not m.descriptor:
            continue
        s = _score(desc, m.descriptor)
        # the head noun ("adviser", "leader") must be shared: "an adviser to X" is not X
        if s == 0 or _norm(att.head.lower()) not in {_norm(w) for w in m.descriptor}:
            continue
        if att.source and att.source[0] <= m.start < att.source[1]:
            continue  # the name inside the description ("an adviser to Zelenskyy") is not the speaker
        dist = at - m.start if m.start < at else (m.start - at) * 2  # earlier mentions first
        cand = (s, -dist, strip_title(m.name))
        if best is None or cand[:2] > best[:2]:
            best = cand
    if best:
        return best[2]
    if att.mention_label == "ORG" and att.mention:
        return att.mention
    return None


@dataclass
class Person:
    """One canonical speaker and how it was written."""

    name: str
    kind: str  # person or organisation
    variants: Counter[str]
    flagged: dict[str, str]  # variant -> why it was linked (a probable misspelling)


_SUFFIX = re.compile(r",?\s+(?:Jr|Sr|II|III|IV)\.?$")


# Words news writes before a name that are not part of it ("Democrat Hillary Clinton", "Rival Hillary
# Clinton" at the start of a sentence): a person's first word is the first name only without them
# (titles, wherever they stand, are _INNER_TITLE's).
_DESCRIPTORS = frozenset("""democrat democratic republican gop independent libertarian rival former late candidate nominee
presumptive incumbent challenger vice deputy acting chief speaker rev reverend sheriff congressman
congresswoman officer detective coach father sister brother mother saint st ex""".split())


# A title inside a run of capitalised words ends what comes before it: "U.S. Air Force Gen. Norman Ham",
# "Pennsylvania Gov. Ed Rendell", "What Mr. Obama" (a sentence's first word) are Norman Ham, Ed Rendell
# and Obama.
_INNER_TITLE = frozenset("""mr mrs ms dr sen rep gov gen lt col adm capt sgt prof president senator secretary
minister chancellor judge justice mayor governor chairman chairwoman director ambassador""".split())
# Capitalised words that open a sentence before a name and are no one's first name ("What Mr. Obama",
# "Now Bloomberg", "Other Republicans").
OPENERS = frozenset("""what when while where why how who the a an and but as if after before since though
although because then so yet or nor for with without about said says during however meanwhile still unlike
until like now even only both either neither every many most some other few several all each any another such
here today yesterday also instead later earlier""".split())


@lru_cache(maxsize=1 << 16)
def name_parts(name: str) -> tuple[str, ...]:
    """The words of a person's name without titles, descriptors, possessive and generational suffix
    ("Democrat Hillary Clinton's" -> ("Hillary", "Clinton"), "Donald Trump Jr." -> ("Donald", "Trump"),
    "Pennsylvania Gov. Ed Rendell" -> ("Ed", "Rendell")): the first is the first name, the last the surname."""
    words = _SUFFIX.sub("", strip_title(name)).split()
    cut = max((i for i, w in enumerate(words[:-1]) if w.lower().rstrip(".") in _INNER_TITLE), default=-1)
    words = words[cut + 1:]
    while len(words) > 1 and words[0].lower() in OPENERS:
        words = words[1:]
    while len(words) > 2 and words[0].lower().strip(".") in _DESCRIPTORS:
        words = words[1:]
    return tuple(words)


def clean_name(name: str) -> str:
    """A person's name as the speaker table shows it: no title, descriptor or possessive, the
    generational suffix kept ("Pennsylvania Gov. Ed Rendell" -> "Ed Rendell", "Donald Trump Jr.")."""
    suffix = _suffix(name)
    tail = {"jr": " Jr.", "sr": " Sr."}.get(suffix, f" {suffix.upper()}" if suffix else "")
    return " ".join(name_parts(name)) + tail


def _canonical_spelling(names: Counter[str], spread: Mapping[str, int]) -> str:
    """The spelling of a person most articles write (then the commonest), without titles: one interview
    full of "he said" should not outvote the spelling of every other outlet."""
    articles: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for n, c in names.items():
        articles[clean_name(n)] += spread.get(n, 0)
        count[clean_name(n)] += c
    return max(count, key=lambda n: (articles[n], count[n], n))


def _suffix(name: str) -> str:
    m = _SUFFIX.search(strip_title(name))
    return m.group(0).strip(" ,.").lower() if m else ""


@lru_cache(maxsize=1 << 16)
def same_first(a: str, b: str) -> bool:
    """Whether two first names can be one person's: the same once folded, one the initial of the other
    ("D." / "Donald"), or a near spelling ("Hillary" / "Hilary", "Mykhailo" / "Mikhail"). "Bill" and
    "Hillary" Clinton are two people."""
    fa, fb = fold(a), fold(b)
    if fa == fb:
        return True
    if len(a.rstrip(".")) == 1 or len(b.rstrip(".")) == 1 or fa[:1] != fb[:1]:
        return fa[:1] == fb[:1]
    # a ratio of 0.75 needs the shorter to be at least 0.6 of the longer
    return 5 * min(len(fa), len(fb)) >= 3 * max(len(fa), len(fb)) and SequenceMatcher(None, fa, fb).ratio() >= 0.75


@dataclass
class _Person:
    key: str  # folded surname
    suffix: str  # "jr", "sr", "ii" ...: Donald Trump Jr. is not Donald Trump
    firsts: set[str]
    names: Counter[str]  # full spellings and their counts

    def holds(self, first: str, suffix: str) -> bool:
        return suffix == self.suffix and any(same_first(first, f) for f in self.firsts)


class SpeakerIndex:
    """Canonical speakers across a set of articles (see the module docstring)."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self._map: dict[str, str] = {}
        self._groups_of: dict[str, list[_Person]] = {}  # folded surname -> the people of that surname
        self._canon: dict[int, str] = {}  # id of a person -> its canonical name
        self._by_key: dict[str, str] = {}  # folded surname -> the canonical name of a surname alone

    def build(self, names: Iterable[tuple[str, str]], spread: Mapping[str, int] | None = None) -> SpeakerIndex:
        """names: (surface name, kind) pairs, one per mention; spread: how many articles write each name.

        A person is a folded surname with a first name (two first names that :func:`same_first` tells
        apart are two people of one family). A person's canonical spelling is the one most articles write
        (then the commonest): one interview full of "he said" should not outvote the spelling of every
        other outlet. A surname alone is the person of that surname most often named."""
        spread = spread or {}
        counts: Counter[tuple[str, str]] = Counter((strip_title(n), k) for n, k in names if n and strip_title(n))
        groups: dict[str, list[_Person]] = defaultdict(list)
        for (n, k), c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            parts = name_parts(n)
            if k != "person" or len(parts) < 2:
                continue
            key, suffix = fold(parts[-1]), _suffix(n)
            g = next((g for g in groups[key] if g.holds(parts[0], suffix)), None)
            if g is None:
                g = _Person(key, suffix, set(), Counter())
                groups[key].append(g)
            g.firsts.add(parts[0])
            g.names[n] += c
        people = [g for key in groups for g in groups[key]]
        total = {id(g): sum(g.names.values()) for g in people}
        # near-identical surnames with the same first name: a misspelling, linked to the commoner person;
        # only people who share a first name are compared (an index, not every pair: a crawl names
        # thousands of people)
        ranked = sorted(people, key=lambda g: (-total[id(g)], min(g.names)))
        rank = {id(g): i for i, g in enumerate(ranked)}
        by_first: dict[str, list[_Person]] = defaultdict(list)
        for g in ranked:
            for f in {fold(f) for f in g.firsts}:
                by_first[f].append(g)
        merged: dict[int, tuple[_Person, float]] = {}
        for g in ranked:
            peers = {id(g2): g2 for f in {fold(f) for f in g.firsts} for g2 in by_first[f]
                     if rank[id(g2)] < rank[id(g)]}
            for g2 in sorted(peers.values(), key=lambda x: rank[id(x)]):
                k, k2 = g.key, g2.key
                if id(g2) in merged or k == k2 or g.suffix != g2.suffix or \
                        abs(len(k) - len(k2)) > max(len(k), len(k2)) * 0.5:
                    continue
                if min(len(k), len(k2)) < 4:
                    continue
                sm = SequenceMatcher(None, k, k2)
                if sm.quick_ratio() >= 0.7 and sm.ratio() >= 0.7:  # the letters first: cheap, and an upper bound
                    merged[id(g)] = (g2, sm.ratio())
                    break
        canon = {id(g): _canonical_spelling(g.names, spread) for g in people}

        def target(g: _Person) -> _Person:
            return merged[id(g)][0] if id(g) in merged else g

        # a surname alone: the person of that surname most often named
        bare = {key: max(gs, key=lambda g: (total[id(g)], -rank[id(g)])) for key, gs in groups.items()}
        self._groups_of = groups
        self._by_key = {key: canon[id(target(g))] for key, g in bare.items()}
        self._canon = {id(g): canon[id(target(g))] for g in people}
        # an organisation is its content words, in any order: "Ukrainian armed forces' general staff" and
        # "general staff of the Ukrainian Armed Forces" are one; the most frequent wording names it
        orgs: dict[frozenset[str], Counter[str]] = defaultdict(Counter)
        for (n, k), c in counts.items():
            if k != "person":
                orgs[org_key(n)][n] += c
        org_canon = {key: names.most_common(1)[0][0] for key, names in orgs.items()}
        for (n, k), c in counts.items():
            parts = name_parts(n)
            key = fold(parts[-1]) if parts else ""
            if len(parts) == 1 and key in bare:
                k = "person"  # "Zelenskyy" alone, or tagged as an organisation: the person of that surname
            flag, name = "", n
            if k == "person":
                g = bare.get(key) if len(parts) == 1 else self._person(parts, _suffix(n))
                if g is not None:
                    name = canon[id(target(g))]
                    if id(g) in merged:
                        flag = f"probable misspelling of {name} (similarity {merged[id(g)][1]:.2f})"
            else:
                name = org_canon.get(org_key(n), n)
            p = self.people.setdefault(name, Person(name, k, Counter(), {}))
            if k == "person":
                p.kind = "person"
            p.variants[n] += c
            if flag:
                p.flagged[n] = flag
            self._map[n] = name
        return self

    def _person(self, parts: Sequence[str], suffix: str = "") -> _Person | None:
        return next((g for g in self._groups_of.get(fold(parts[-1]), ()) if g.holds(parts[0], suffix)), None)

    def canonical(self, name: str | None) -> str | None:
        """The canonical name for a surface name; an unseen spelling of a known person ("Zelensky",
        "Volodymyr Zelenskiy") goes to that person, anything else unknown is itself."""
        if not name:
            return None
        n = strip_title(name)
        if n in self._map:
            return self._map[n]
        parts = name_parts(n)
        if not parts:
            return n
        if len(parts) == 1:
            return self._by_key.get(fold(parts[0]), n)
        g = self._person(parts, _suffix(n))
        return self._canon[id(g)] if g is not None else n


def speaker_table(quotes: Iterable[Quote]) -> list[Person]:
    """One entry per canonical speaker of the quotes, with the spellings its quotes use; a spelling
    whose surname does not fold to the canonical one is flagged as a probable misspelling (for an
    organisation: whose content words differ; "the general staff of the armed forces" and "the armed
    forces' general staff" are one name in two word orders, not a misspelling)."""
    people: dict[str, Person] = {}
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for q in quotes:
        if not q.speaker:
            continue
        p = people.setdefault(q.speaker, Person(q.speaker, "person", Counter(), {}))
        mention = q.mention or q.speaker
        p.variants[mention] += 1
        kinds[q.speaker][q.speaker_kind or "person"] += 1
        if (q.speaker_kind or "person") == "organisation":
            differs = org_key(mention) != org_key(q.speaker)
        else:
            differs = bool(mention.split()) and fold(mention.split()[-1]) != fold(q.speaker.split()[-1])
        if differs:
            p.flagged[mention] = f"probable misspelling of {q.speaker}"
    for name, p in people.items():
        p.kind = kinds[name].most_common(1)[0][0]
    return sorted(people.values(), key=lambda p: (-sum(p.variants.values()), p.name))
