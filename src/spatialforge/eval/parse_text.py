"""Answer spans and discrete answers: the <answer> span, format check, yes/no, choice
letters, counts, labels (left/right/closer/... with synonyms) and orderings."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

from .parse_common import WORDINT, ParseFailure, as_text, pick_stated, words_to_number

# ---------------------------------------------------------------- answer span
_ANSWER_TAG = re.compile(r"<\s*answer\s*>(.*?)<\s*/\s*answer\s*>", re.I | re.S)
_ANSWER_OPEN = re.compile(r"<\s*answer\s*>", re.I)
_THINK_BLOCK = re.compile(r"<\s*think\s*>.*?<\s*/\s*think\s*>", re.I | re.S)
_ANY_TAG = re.compile(r"<\s*/?\s*(?:answer|think)\s*>", re.I)
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_ANSWER_CUE = re.compile(r"\b(?:the\s+)?(?:final\s+|correct\s+)?answer\s*(?:is\b\s*:?|:|=)\s*", re.I)
_STRICT_FORMAT = re.compile(r"\s*<think>(.*?)</think>\s*<answer>(.*?)</answer>\s*", re.S)
_TAGS = ("<think>", "</think>", "<answer>", "</answer>")


def extract_answer(text: str | None) -> str | ParseFailure:
    """The answer part of a model output.

    Order: the last complete ``<answer>...</answer>`` span (tags in any case, spaces inside
    tags allowed); an unclosed ``<answer>`` (the text after it); then, outside think blocks,
    the last ``\\boxed{...}``; the text after the last "Answer:" / "The answer is" (to the
    end of that line); else the whole text stripped.
    """
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    if "<" in t:
        spans = _ANSWER_TAG.findall(t)
        if spans:
            span = _ANSWER_OPEN.split(spans[-1])[-1].strip()  # "<answer>a<answer>b</answer>" -> b
            return span if span else ParseFailure("empty <answer> span")
        opens = list(_ANSWER_OPEN.finditer(t))
        if opens:
            span = _ANY_TAG.sub(" ", t[opens[-1].end():]).strip()
            return span if span else ParseFailure("empty <answer> span (no closing tag)")
        outside = _ANY_TAG.sub(" ", _THINK_BLOCK.sub(" ", t)).strip()
        if outside:
            t = outside
    if "boxed" in t:
        boxed = _BOXED.findall(t)
        if boxed and boxed[-1].strip():
            return boxed[-1].strip()
    if "nswer" in t or "NSWER" in t:
        cues = list(_ANSWER_CUE.finditer(t))
        if cues:
            rest = t[cues[-1].end():].strip()
            line = rest.split("\n", 1)[0].strip()
            if line:
                return line
    return t


def has_think_answer_format(text: str | None) -> bool:
    """The format reward's check: ``<think>…</think> <answer>…</answer>`` and nothing else.

    Strict: lowercase tags, think first, exactly one of each, only whitespace around and
    between them, both parts non-blank (an empty think block is a way to skip reasoning).
    """
    if not isinstance(text, str):
        return False
    m = _STRICT_FORMAT.fullmatch(text)
    if m is None:
        return False
    think, answer = m.groups()
    if any(tag in think or tag in answer for tag in _TAGS):
        return False
    return bool(think.strip()) and bool(answer.strip())


# ---------------------------------------------------------------- yes / no
# SVQA-R1 App. B aliases (see tasktypes.YES_ALIASES / NO_ALIASES) plus common synonyms.
# The earliest phrase decides (longest phrase at a position, so "not sure" beats "not").
# The paper's hedged yes-aliases ("it is", "looks like", ...) yield to a negation later in
# the same clause: "it looks like the cup is not on the left" is a no.
_YES_STRONG = ("yes", "yeah", "yep", "yup", "true", "correct", "affirmative", "indeed",
               "definitely", "certainly", "absolutely", "of course")
_YES_WEAK = ("it is", "it's", "appears to be", "looks like", "seems like", "seems to be", "likely")
_NO = ("no", "nope", "nah", "not", "false", "incorrect", "wrong", "negative", "never",
       "doesn't", "does not", "isn't", "is not", "aren't", "are not", "wasn't", "was not",
       "don't", "do not", "cannot", "can't", "unlikely", "i don't think", "i do not think",
       "probably not", "definitely not", "certainly not", "not likely", "it is not", "it's not",
       "it isn't")
_UNSURE = ("not sure", "unsure", "uncertain", "not certain", "not clear", "unclear", "unknown",
           "cannot determine", "can't determine", "cannot be determined", "can't be determined",
           "cannot tell", "can't tell", "don't know", "do not know", "impossible to tell",
           "impossible to determine", "hard to say", "hard to tell", "i'm not sure", "maybe")
_YN_KIND = {**dict.fromkeys(_YES_STRONG, "yes"), **dict.fromkeys(_YES_WEAK, "weak"),
            **dict.fromkeys(_NO, "no"), **dict.fromkeys(_UNSURE, "unsure")}
_YN = re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+")
                                             for p in sorted(_YN_KIND, key=len, reverse=True))
                 + r")(?![\w'])", re.I)
_CLAUSE_NEGATION = re.compile(r"\b(?:not|no|never)\b|n't\b", re.I)
_CLAUSE_END = re.compile(r"[,.;!?\n]|\bbut\b", re.I)
_YN_FAST = {"yes": True, "no": False, "true": True, "false": False}


def parse_yes_no(text: str | None) -> bool | ParseFailure:
    """True for yes, False for no, by the first decisive phrase; hedges fail."""
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    fast = _YN_FAST.get(t.lower().rstrip(" .!"))
    if fast is not None:
        return fast
    if "’" in t:
        t = t.replace("’", "'")
    m = _YN.search(t)
    if m is None:
        return ParseFailure("no yes/no word")
    kind = _YN_KIND[" ".join(m.group(0).lower().split())]
    if kind == "unsure":
        return ParseFailure(f"undecided answer ({m.group(0)!r})")
    if kind == "weak":
        end = _CLAUSE_END.search(t, m.end())
        clause = t[m.end(): end.start() if end else len(t)]
        return _CLAUSE_NEGATION.search(clause) is None
    return kind == "yes"


# ---------------------------------------------------------------- counts
_COUNT_DIGITS = re.compile(r"(?<![\w.,\-−])(\d{1,3}(?:,\d{3})+|\d+)(?![\w]|[.,]\d)")
_DECIMAL = re.compile(r"(?<![\w.])\d*\.\d+")
_ZERO = re.compile(r"\b(?:none|zero|nothing|nobody|no\s+(?=[a-z]))", re.I)
_RE_WORDINT = re.compile(WORDINT, re.I)


def parse_count(text: str | None) -> int | ParseFailure:
    """A whole number in digits or words ("3", "three", "twenty-one"); "none"/"no X" = 0."""
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    s = t.rstrip(" .!")
    if s.isdecimal():  # not isdigit: "²" is a digit that int() rejects
        return int(s)
    mentions = [(m.start(), m.end(), int(m.group(1).replace(",", ""))) for m in _COUNT_DIGITS.finditer(t)]
    for m in _RE_WORDINT.finditer(t):
        v = words_to_number(m.group(0))
        if v is not None and m.group(0).strip().lower() != "and":
            mentions.append((m.start(), m.end(), int(v)))
    if not mentions:
        if _DECIMAL.search(t):
            return ParseFailure("not a whole number")
        m = _ZERO.search(t)
        if m:
            return 0
        return ParseFailure("no count found")
    mentions.sort()
    return pick_stated(mentions, t, "count")


# ---------------------------------------------------------------- multiple choice
_OK_AFTER_LETTER = r"(?:is|was|seems|appears|would|should|could|matches|fits|because|since|as|or|and|with)\b"
_WHOLE_LETTER = re.compile(r"[\s*_`'\"“(\[{<]*([A-Za-z])[\s*_`'\"”)\]}>.:,;!]*")
_LEAD = re.compile(r"[\s*_`'\"“]*[(\[]?([A-Za-z])[*_]*\s*[).:\]](?![A-Za-z]\.)\s*(?=\S)")  # not "i.e."
_CUE = re.compile(
    r"\b(answers?|options?|choices?)\b(?:\s+(?:is|would\s+be|should\s+be|will\s+be))?\s*[:=\-–]?\s*"
    r"(?:option\s+|choice\s+)?"
    r"(?:[(\[*\"'“]+\s*([A-Za-z])\s*[)\]*\"'”]+|([A-Za-z])(?![\w'’-]))", re.I)
_ALT_AFTER = re.compile(r"\s*[)\]*\"'”]*\s*(?:or|/)\s*[(\[*]*[A-Za-z](?![\w'’])", re.I)
_WRAPPED = re.compile(r"[(\[]\s*([A-Za-z])\s*[)\]]|\*\*\s*([A-Za-z])\s*\*\*|(?<![\w'’(\[])([A-Z])\)")
_BARE = re.compile(r"(?<![\w'’.\-])([A-Z])(?![\w'’]|-\w|\.\w)")
_ARTICLE_LIKE = re.compile(r"\s+(?!" + _OK_AFTER_LETTER + r")[a-z]")
_OPT_PREFIX = re.compile(r"^\s*\(?[A-Za-z][.):]\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z.]+|(?<!\d)\.|\.(?!\d)")
_ARTICLES = re.compile(r"^(?:the|a|an)\s+")


def _norm_option(s: str) -> str:
    s = _NON_ALNUM.sub(" ", s.lower()).strip()
    return _ARTICLES.sub("", s)


def parse_choice(text: str | None, options: Sequence[str] | None = None,
                 letters: str = "ABCDEFGHIJ") -> str | ParseFailure:
    """The chosen option letter (upper case).

    Tiers, first that yields letters wins: (1) the whole answer is one letter ("B", "(b)",
    "**B**", "B."); (2) strong: a leading "B) chair" / "B. chair", or a letter after
    "answer is" / "answer:" / "option" / "choice"; (3) weak: "(B)", "**B**", standalone
    capitals (an "A"/"I" that starts a phrase like "A chair" is an article, not a letter);
    (4) the answer quotes exactly one option's text. Two different letters in a tier, or
    "A or B", is a failure. Letters are limited to ``letters[:len(options)]``.
    """
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    valid = (letters[: len(options)] if options else letters).upper()
    m = _WHOLE_LETTER.fullmatch(t)
    if m:
        letter = m.group(1).upper()
        return letter if letter in valid else ParseFailure(f"letter {letter} is not an option ({valid})")
    strong: list[str] = []
    lead = _LEAD.match(t)
    if lead:
        strong.append(lead.group(1).upper())
    for c in _CUE.finditer(t):
        letter = c.group(2) or c.group(3)
        if c.group(3):  # bare letter after the cue: reject articles ("the answer is a chair")
            is_option_cue = c.group(1).lower().startswith(("option", "choice"))
            if letter.islower() and not is_option_cue and not re.match(r"\s*(?:$|[.,;:!?)])", t[c.end():]):
                continue
            if letter in "AI" and not is_option_cue and _ARTICLE_LIKE.match(t, c.end()):
                continue
        if _ALT_AFTER.match(t, c.end()):
            return ParseFailure(f"ambiguous choice: {t[c.start(2) if c.group(2) else c.start(3):][:20]!r}")
        strong.append(letter.upper())
    out_of_range = None  # "Option E" of four: reported if nothing valid is found
    for found in (strong, None):
        if found is None:
            found = [(w.group(1) or w.group(2) or w.group(3)).upper() for w in _WRAPPED.finditer(t)]
            for b in _BARE.finditer(t):  # bare capitals outside the options are just words ("I", "X-axis")
                if b.group(1) in valid and not (b.group(1) in "AI" and _ARTICLE_LIKE.match(t, b.end())):
                    found.append(b.group(1))
        out_of_range = out_of_range or next((f for f in found if f not in valid), None)
        found = [f for f in found if f in valid]
        if found:
            distinct = sorted(set(found))
            if len(distinct) > 1:
                return ParseFailure(f"ambiguous choice: letters {', '.join(distinct)}")
            return distinct[0]
    if options:
        by_text = _choice_by_text(t, options, valid)
        if not (isinstance(by_text, ParseFailure) and out_of_range):
            return by_text
    if out_of_range:
        return ParseFailure(f"letter {out_of_range} is not an option ({valid})")
    return ParseFailure("no option letter found")


def _choice_by_text(t: str, options: Sequence[str], valid: str) -> str | ParseFailure:
    ans = _norm_option(t)
    normed = [_norm_option(_OPT_PREFIX.sub("", o)) for o in options]
    exact = [i for i, o in enumerate(normed) if o and o == ans]
    if len(exact) == 1:
        return valid[exact[0]]
    padded = f" {ans} "
    hits = [i for i, o in enumerate(normed) if o and f" {o} " in padded]
    # an option inside a longer quoted option ("chair" in "red chair") is not a second hit
    hits = [i for i in hits if not any(j != i and f" {normed[i]} " in f" {normed[j]} " and
                                       normed[j] != normed[i] for j in hits)]
    if len(hits) == 1:
        return valid[hits[0]]
    if len(hits) > 1:
        return ParseFailure("answer quotes several options: " + ", ".join(valid[i] for i in hits))
    return ParseFailure("no option letter or option text found")


# ---------------------------------------------------------------- labels
# Synonym groups; a vocabulary label takes the phrases of the group it belongs to. Inside
# multi-word labels ("facing left") each word takes its group's phrases.
LABEL_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("left", "to the left", "on the left", "left side", "left-hand side", "left-hand", "leftward", "leftwards"),
    ("right", "to the right", "on the right", "right side", "right-hand side", "right-hand", "rightward", "rightwards"),
    ("above", "on top of", "on top", "higher than", "higher up", "higher", "over"),
    ("below", "under", "underneath", "beneath", "lower than", "lower down", "lower"),
    ("front", "in front of", "in front", "ahead of", "ahead"),
    ("behind", "in back of", "at the back", "back", "rear"),
    ("closer", "nearer", "closest", "nearest", "less far"),
    ("farther", "further", "farthest", "furthest", "more distant", "further away", "farther away"),
    ("bigger", "larger", "biggest", "largest", "greater"),
    ("smaller", "smallest", "tinier"),
    ("taller", "tallest"),
    ("shorter", "shortest"),
    ("wider", "widest", "broader"),
    ("narrower", "narrowest", "thinner"),
    ("similar", "same direction", "the same", "parallel", "aligned"),
    ("orthogonal", "perpendicular", "at right angles", "at a right angle"),
    ("opposite", "opposite directions", "facing each other", "antiparallel"),
    ("facing", "faces", "facing towards", "facing toward", "pointing", "points", "oriented", "turned"),
    ("towards", "toward", "facing the camera", "facing toward the camera", "facing towards the camera",
     "toward the camera", "towards the camera", "facing the viewer", "toward the viewer", "towards the viewer"),
    ("away", "facing away", "away from the camera", "away from the viewer"),
)
_GROUP_OF = {p: g for g in LABEL_SYNONYMS for p in g}
_NEGATED = re.compile(r"(?:\bnot|n't|\bnever)\s+(?:\w+\s+){0,2}$", re.I)
_CLAUSE_BREAK = re.compile(r"[,.;:!?\n]")


def _phrase_pattern(phrase: str) -> str:
    return re.escape(phrase).replace(r"\ ", r"\s+").replace(r"\-", r"[\s-]?")


def _label_patterns(label: str) -> list[str]:
    """Regex alternatives for one vocabulary label, the label itself first."""
    low = " ".join(label.lower().split())
    group = _GROUP_OF.get(low)
    if group is not None:
        return [_phrase_pattern(low)] + [_phrase_pattern(p) for p in sorted(group, key=len, reverse=True)]
    words = low.split(" ")
    if len(words) == 1:
        return [_phrase_pattern(low)]
    slots = []
    for w in words:
        opts = sorted(_GROUP_OF.get(w, (w,)), key=len, reverse=True)
        slots.append("(?:" + "|".join(_phrase_pattern(o) for o in opts) + ")")
    return [_phrase_pattern(low), r"\s+".join(slots)]


@lru_cache(maxsize=256)
def _label_regex(vocabulary: tuple[str, ...]) -> re.Pattern:
    # multi-word labels first, so "facing left" wins over "left" at the same place
    order = sorted(range(len(vocabulary)), key=lambda i: -len(vocabulary[i].split()))
    return re.compile("|".join(rf"(?P<L{i}>(?<![\w-])(?:{'|'.join(_label_patterns(vocabulary[i]))})(?![\w-]))"
                               for i in order), re.I)


def parse_label(text: str | None, vocabulary: Sequence[str]) -> str | ParseFailure:
    """The vocabulary label an answer states ("on the left side" -> "left").

    Negated mentions ("not on the left") are dropped; several different labels follow
    the stated-answer rule of :func:`pick_stated`.
    """
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    if not vocabulary:
        raise ValueError("parse_label needs a non-empty vocabulary")
    vocab = tuple(vocabulary)
    low = t.lower().rstrip(" .!")
    for v in vocab:
        if low == v.lower():
            return v
    rx = _label_regex(vocab)
    mentions = []
    for m in rx.finditer(t):
        head = t[max(0, m.start() - 40): m.start()]
        head = _CLAUSE_BREAK.split(head)[-1]
        if _NEGATED.search(head):
            continue
        mentions.append((m.start(), m.end(), vocab[int(m.lastgroup[1:])]))
    return pick_stated(mentions, t, "label")


# ---------------------------------------------------------------- orderings
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)


def parse_order(text: str | None, items: Sequence[str]) -> tuple[str, ...] | ParseFailure:
    """``items`` in the order the answer first names them (all must be named).

    Items are matched case-insensitively with or without a leading article; a longer item
    wins over one it contains ("red chair" over "chair").
    """
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    if len(set(items)) != len(items):
        raise ValueError(f"parse_order: duplicate items in {list(items)}")
    cores = [_LEADING_ARTICLE.sub("", " ".join(i.split())) for i in items]
    order = sorted(range(len(items)), key=lambda i: -len(cores[i]))
    rx = re.compile("|".join(rf"(?P<I{i}>(?<!\w)(?:(?:the|a|an)\s+)?{_phrase_pattern(cores[i])}(?!\w))"
                             for i in order), re.I)
    seen: list[int] = []
    for m in rx.finditer(t):
        k = int(m.lastgroup[1:])
        if k not in seen:
            seen.append(k)
    missing = [items[i] for i in range(len(items)) if i not in seen]
    if missing:
        return ParseFailure(f"order does not name {', '.join(map(repr, missing))}")
    return tuple(items[i] for i in seen)
