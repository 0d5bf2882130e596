"""Format and semantic rewards, and their weighted sum, against hand-computed values."""

import pytest

from spatialforge.rewards.combine import WeightedReward, build_rewards, paper_reward
from spatialforge.rewards.format import completion_to_text, format_reward
from spatialforge.rewards.semantic import SemanticReward, SentenceEncoder

GOOD = "<think>The chair is left of the table.</think> <answer>left</answer>"


def conv(text):
    return [{"role": "assistant", "content": text}]


@pytest.fixture(scope="module")
def semantic():
    return SemanticReward()  # the offline all-MiniLM-L6-v2


def test_completion_text_accepts_every_trl_form():
    assert completion_to_text("abc") == "abc"
    assert completion_to_text(conv("abc")) == "abc"
    assert completion_to_text([{"role": "assistant", "content": [{"type": "text", "text": "a"},
                                                                 {"type": "text", "text": "b"}]}]) == "ab"
    assert completion_to_text([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]) == "a"


@pytest.mark.parametrize("text,expected", [
    (GOOD, 1.0),
    ("  <think>x</think>\n<answer>2 m</answer>\n", 1.0),
    ("<answer>left</answer>", 0.0),  # no think block
    ("<think></think> <answer>left</answer>", 0.0),  # empty think
    ("<answer>left</answer> <think>x</think>", 0.0),  # wrong order
    ("<think>x</think> <answer>left</answer> and more", 0.0),
    ("left", 0.0),
])
def test_format_reward(text, expected):
    assert format_reward([text, conv(text)]) == [expected, expected]
    assert format_reward.__name__ == "format"


def test_semantic_identical_is_one_and_order_is_meaningful(semantic):
    r = semantic([conv(GOOD), "<think>x</think> <answer>right</answer>", "", "<answer>  </answer>"],
                 answer=["left", "left", "left", "left"])
    assert r[0] == pytest.approx(1.0, abs=1e-5)
    assert -1.0 <= r[1] < 0.95  # "right" vs "left": related words, not the same answer
    assert r[2] == 0.0 and r[3] == 0.0  # nothing to compare
    # without tags the whole output is the answer (eval.parse.extract_answer)
    assert semantic(["The answer is 2 m"], answer=["2 m"])[0] == pytest.approx(1.0, abs=1e-5)
    assert semantic.__name__ == "semantic"


def test_semantic_matches_a_direct_cosine_and_caches_references(semantic):
    import torch

    enc = semantic.encoder
    a, b = "the sofa is next to the couch", "the couch is beside the sofa"
    e = enc.model.encode([a, b], convert_to_tensor=True, normalize_embeddings=True)
    assert semantic([f"<think>t</think> <answer>{a}</answer>"], answer=[b])[0] == pytest.approx(
        float(torch.dot(e[0], e[1])), abs=1e-5)
    assert b in enc._cache and a not in enc._cache  # references cached, predictions not


def test_encoder_cache_is_bounded():
    enc = SentenceEncoder(cache_size=2)
    enc.encode(["a", "b", "c"], cache=True)
    assert list(enc._cache) == ["b", "c"]


def test_weighted_sum_is_eq_1(semantic):
    funcs, weights = build_rewards()
    assert [f.__name__ for f in funcs] == ["format", "semantic"] and weights == [0.5, 0.5]
    total = WeightedReward([format_reward, semantic], [0.5, 0.5])
    r = total([GOOD, "<answer>left</answer>", "nonsense"], answer=["left"] * 3)
    assert r[0] == pytest.approx(1.0, abs=1e-5)  # 0.5 * 1 + 0.5 * 1
    assert r[1] == pytest.approx(0.5, abs=1e-5)  # 0.5 * 0 + 0.5 * 1
    assert total.components(["<answer>left</answer>"], answer=["left"])["format"] == [0.0]
    assert paper_reward().weights == [0.5, 0.5]
