"""Left <-> right in text.  One table of side words; each user takes the part it needs.

- :func:`swap_left_right`: free text (referring expressions, questions), case kept;
- :func:`mirror_side`: plan values and option labels (``left_of``, ``front+left``);
- :func:`mirror_label`: a parsed answer label, normalised to lower case (also ``leftward``
  and the turning senses ``clockwise`` <-> ``counterclockwise``).
"""

from __future__ import annotations

import re

#: side words and their mirror images (the table is closed under the swap)
_SIDES = {"left": "right", "leftmost": "rightmost"}
_SIDES.update({v: k for k, v in list(_SIDES.items())})

_TEXT_RE = re.compile(r"\b(?:[Ll]eftmost|[Rr]ightmost|[Ll]eft|[Rr]ight)\b")

#: plan values / option labels: the side words and the relations ``left_of`` <-> ``right_of``
_PLAN_SWAP = {**_SIDES, "left_of": "right_of", "right_of": "left_of"}

#: answer labels: the side words, directions and turning senses
_LABEL_SWAP = {**_SIDES, "leftward": "rightward", "rightward": "leftward", "leftwards": "rightwards",
               "rightwards": "leftwards", "clockwise": "counterclockwise", "counterclockwise": "clockwise",
               "counter-clockwise": "clockwise", "anticlockwise": "clockwise", "anti-clockwise": "clockwise"}
_LABEL_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _LABEL_SWAP), key=len, reverse=True)) + r")\b",
                       re.I)


def _swap_word(m: re.Match[str]) -> str:
    word = m.group(0)
    out = _SIDES[word.lower()]
    return out.capitalize() if word[0].isupper() else out


def swap_left_right(text: str) -> str:
    """Swap left/right words (an involution); used to mirror referring expressions and questions."""
    return _TEXT_RE.sub(_swap_word, text)


def mirror_side(value: str) -> str:
    """A side-bearing plan value or label after a horizontal flip: left <-> right, left_of <->
    right_of (each part of a "+"-joined label: "front+left" -> "front+right"); others unchanged."""
    if "+" in value:
        return "+".join(_PLAN_SWAP.get(p, p) for p in value.split("+"))
    return _PLAN_SWAP.get(value, value)


def mirror_label(label: str) -> str:
    """A label after a horizontal flip: left <-> right (leftmost, leftward, clockwise ...)."""
    return _LABEL_RE.sub(lambda m: _LABEL_SWAP[m.group(1).lower()], " ".join(label.lower().split()))


#: free text of other datasets: every side form and turning sense (a superset of ``_SIDES``);
#: "counter-clockwise" and "anti-clockwise" map to "clockwise", whose image is "counterclockwise"
_TEXT_SWAP = {**_SIDES, "leftward": "rightward", "rightward": "leftward", "leftwards": "rightwards",
              "rightwards": "leftwards", "clockwise": "counterclockwise", "counterclockwise": "clockwise",
              "counter-clockwise": "clockwise", "anticlockwise": "clockwise", "anti-clockwise": "clockwise"}
#: longest first so "counter-clockwise" is one word, not "counter-" + "clockwise"
TEXT_SIDE_RE = re.compile(r"(?<!\w)(" + "|".join(sorted(map(re.escape, _TEXT_SWAP), key=len, reverse=True))
                          + r")(?!\w)", re.I)


def mirror_word(word: str) -> str:
    """One side word or turning sense of :data:`TEXT_SIDE_RE`, mirrored, its capitalisation kept."""
    out = _TEXT_SWAP[word.lower()]
    if word.isupper() and len(word) > 1:
        return out.upper()
    return out.capitalize() if word[0].isupper() else out
