"""The total reward r = lambda_1 * r^f + lambda_2 * r^s (SVQA-R1 eq. 1).

Inside TRL the weighted sum is TRL's own (``reward_weights``), so Spatial-GRPO can correct
the r^s column before it is weighted: :func:`build_rewards` returns the functions and the
weights.  :class:`WeightedReward` is the same sum as one reward function, for use outside
a trainer (evaluation, benchmarks).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .format import FormatReward
from .semantic import SemanticReward, SentenceEncoder
from .numeric import NumericMRAReward
from .typed import TypedReward

RewardFunc = Callable[..., list[float]]


def answer_reward(kind: str = "semantic", semantic_model: Any = None, encoder: SentenceEncoder | None = None) -> RewardFunc:
    """The r^s reward: ``"semantic"`` (paper), ``"typed"`` (parsers by ``eval_type``, sBERT otherwise)
    or ``"numeric_mra"`` (typed, with numbers and counts scored by MRA)."""
    encoder = encoder or SentenceEncoder(semantic_model)
    if kind == "semantic":
        return SemanticReward(encoder=encoder)
    if kind == "typed":
        return TypedReward(semantic=SemanticReward(encoder=encoder))
    if kind == "numeric_mra":
        return NumericMRAReward(TypedReward(semantic=SemanticReward(encoder=encoder)))
    raise ValueError(f"answer reward must be 'semantic', 'typed' or 'numeric_mra', got {kind!r}")


def build_rewards(
    answer: str = "semantic", semantic_model: Any = None, format_weight: float = 0.5, answer_weight: float = 0.5
) -> tuple[list[RewardFunc], list[float]]:
    """``([format, answer], [lambda_1, lambda_2])`` ready for ``GRPOTrainer(reward_funcs=..., reward_weights=...)``."""
    return [FormatReward(), answer_reward(answer, semantic_model)], [float(format_weight), float(answer_weight)]


class WeightedReward:
    """``sum_k w_k * f_k(completions, **columns)`` as one TRL-style reward function."""

    def __init__(self, funcs: Sequence[RewardFunc], weights: Sequence[float]):
        if len(funcs) != len(weights):
            raise ValueError(f"{len(funcs)} reward functions for {len(weights)} weights")
        self.funcs, self.weights = list(funcs), [float(w) for w in weights]
        self.__name__ = "reward"

    def components(self, completions: list[Any], **columns: Any) -> dict[str, list[float]]:
        """Each function's rewards, by function name."""
        return {getattr(f, "__name__", type(f).__name__): f(completions, **columns) for f in self.funcs}

    def __call__(self, completions: list[Any], **columns: Any) -> list[float]:
        parts = [f(completions, **columns) for f in self.funcs]
        return [sum(w * r[i] for w, r in zip(self.weights, parts)) for i in range(len(completions))]


def paper_reward(semantic_model: Any = None) -> WeightedReward:
    """r = 0.5 * format + 0.5 * semantic (SVQA-R1 section 4.1)."""
    funcs, weights = build_rewards("semantic", semantic_model)
    return WeightedReward(funcs, weights)
