"""Reward functions with TRL's signature ``fn(completions, **dataset_columns) -> list[float]``.

- :data:`format_reward` (r^f): 1 for ``<think>...</think> <answer>...</answer>``, else 0;
- :class:`SemanticReward` (r^s): Sentence-BERT cosine of the extracted and the reference answer;
- :class:`TypedReward`: the evaluation's typed score by ``eval_type`` (sBERT for open answers);
- :class:`NumericMRAReward` (``numeric_mra``): typed, with numbers and counts scored by MRA;
- :func:`build_rewards` / :class:`WeightedReward`: r = lambda_1 r^f + lambda_2 r^s (SVQA-R1 eq. 1).
"""

from .combine import WeightedReward, answer_reward, build_rewards, paper_reward
from .format import FormatReward, completion_to_text, format_reward
from .numeric import NumericMRAReward, mra_score
from .semantic import SemanticReward, SentenceEncoder
from .typed import TypedReward, typed_score

__all__ = [
    "FormatReward", "NumericMRAReward", "SemanticReward", "SentenceEncoder", "TypedReward", "WeightedReward", "answer_reward",
    "build_rewards", "completion_to_text", "format_reward", "mra_score", "paper_reward", "typed_score",
]
