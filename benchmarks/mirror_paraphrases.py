"""Paraphrases for benchmarks/mirror_agreement.py: spatial questions as people write them.

Written from how spatial VQA sets and people phrase things (CV-Bench "where is X located with
respect to Y", SpatialRGPT "to the left of", forum-style "left hand side", "2 o clock", MCQ
instructions of lmms-eval / VLMEvalKit), not from our templates' wording, so the rules are not
measured only on the text they were written next to.  Each pattern treats left and right
alike (a captured side is reused, never fixed), so applying it to a record and to its exact
mirror partner keeps them a mirror pair.

``scope``: ``q`` rewrites the question and the options; ``qa`` also the answer (only where the
project's parsers still read the reworded answer the same way).
"""

from __future__ import annotations

import re

_S = r"(left|right)"
PARAPHRASES: tuple[tuple[str, str, str], ...] = (  # (pattern, replacement, scope)
    # ---- left / right
    (r"\bthat are to the\b", r"located to the", "q"),
    (rf"\bto the {_S} of\b", r"\1 of", "q"),
    (rf"\bon the {_S}\b(?! side| or|-hand)", r"on the \1 hand side", "q"),
    (rf"\bon its {_S}\b(?! or)", r"to its \1", "q"),
    (rf"\bon your {_S}\b(?! or)", r"to your \1", "q"),
    (rf"\bfacing {_S}\b", r"turned \1ward", "q"),
    (rf"\b{_S}most\b", r"furthest \1", "q"),
    (rf"\bfrom the {_S}\b", r"counting from the \1", "q"),
    (rf"\bviewer's {_S}\b", r"\1 of the viewer", "q"),
    (rf"\bto the {_S}\b(?! of)", r"over to the \1", "q"),
    (rf"\bon its {_S} or on its (left|right)\b", r"to its \1 or to its \2", "q"),
    (rf"\bto your {_S} or to your (left|right)\b", r"on your \1 hand side or on your \2 hand side", "q"),
    (rf"\bis {_S} of\b", r"sits on the \1 side of", "q"),
    (rf"\bto its {_S}\b(?! or| side)", r"on its \1-hand side", "q"),
    (rf"\bturned {_S}ward\b", r"turned towards the \1", "q"),
    (r"\bRelative to the front of ([^,]+), ", r"From \1's point of view, ", "q"),
    (r"\bLooking in the direction (.+?) faces, ", r"If you face the way \1 faces, ", "q"),
    (r"\bin front of it and ", r"ahead of it, ", "q"),
    (r"\bbehind it and ", r"behind it, ", "q"),
    # ---- clock directions
    (r"\(12 = ahead, 3 = right\)", r"(on a clock face: 12 is straight ahead, 3 is right)", "q"),
    (r"\bclock directions?\b", r"clock position", "q"),
    (r"\bwhere is (the [\w ]+?)\?$", r"at what o'clock is \1?", "q"),
    (r"(\d{1,2}) o'clock\b", r"\1 o clock", "qa"),
    (r"(\d{1,2}) o clock\b", "\\1 o\u2019clock direction", "q"),
    # ---- camera frame and x coordinates
    (r"\bcamera frame\b", r"camera's frame", "q"),
    (r"\bin camera coordinates\b", r"in the camera's coordinate system", "q"),
    (r"\bcamera-frame coordinates\b", r"coordinates in the camera coordinate system", "q"),
    (r"\bat approximately \((-?[\d.]+), (-?[\d.]+), (-?[\d.]+)\) m\b", r"at about x = \1, y = \2, z = \3 m", "q"),
    (r"\bmoving along roughly\b", r"heading roughly along", "q"),
    # ---- MCQ and true/false wording
    (r"\n([A-D])\. ", r"\n(\1) ", "q"),
    (r"\bChoose the correct option \(A, B, C or D\)\.", r"Pick one of A, B, C, D.", "q"),
    (r"\bReply with the letter of the correct answer\.", r"Respond with just the letter.", "q"),
    (r"\bSelect one option\.", r"Only one answer is correct; give the letter.", "q"),
    (r"\bWhich option is correct\? Answer with its letter\.", r"Which choice is right? Give its letter.", "q"),
    (r"\bAnswer with the option's letter\.", r"Answer with the letter of your choice.", "q"),
    (r"^True or false: ", r"Is it true or false that ", "q"),
    (r"^Decide whether the following is true or false: ", r"Say whether this holds: ", "q"),
    (r"^Is the following correct\? ", r"Is the following right? ", "q"),
    (r"\bIs this statement correct\?", r"Is that claim right?", "q"),
    (r"\bas seen from the camera\b", r"from where the camera stands", "q"),
)
COMPILED = tuple((re.compile(p, re.M), r, scope) for p, r, scope in PARAPHRASES)


def paraphrase(text: str, scope: str = "q", fired: dict[int, int] | None = None) -> str:
    """``text`` reworded by every pattern of ``scope`` (``q``: question/options, ``a``: answer)."""
    for i, (rx, rep, sc) in enumerate(COMPILED):
        if scope == "a" and sc != "qa":
            continue
        text, n = rx.subn(rep, text)
        if fired is not None and n:
            fired[i] = fired.get(i, 0) + n
    return text
