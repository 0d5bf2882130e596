"""Format reward r^f (SVQA-R1 section 3.2) and the completion-to-text helper all rewards use.

TRL passes ``completions`` as strings (standard prompts) or as lists of messages
(conversational prompts: ``[{"role": "assistant", "content": "..."}]``, where ``content``
may also be a list of ``{"type": "text", "text": ...}`` parts).
"""

from __future__ import annotations

from typing import Any

from ..eval.parse import has_think_answer_format


def completion_to_text(completion: Any) -> str:
    """The generated text of one completion, whatever TRL's representation."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    parts: list[str] = []
    for message in completion or []:
        if message.get("role", "assistant") != "assistant":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text") or "" for p in content if isinstance(p, dict) and p.get("type", "text") == "text")
    return "".join(parts)


class FormatReward:
    """1.0 when the output is ``<think>...</think> <answer>...</answer>``, else 0.0.

    The check is :func:`spatialforge.eval.parse.has_think_answer_format`, the one evaluation uses.
    """

    def __init__(self) -> None:
        self.__name__ = "format"

    def __call__(self, completions: list[Any], **kwargs: Any) -> list[float]:
        return [1.0 if has_think_answer_format(completion_to_text(c)) else 0.0 for c in completions]


format_reward = FormatReward()
