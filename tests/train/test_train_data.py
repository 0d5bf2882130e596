"""Dataset conversion to TRL's conversational vision format, task resampling, general mixing."""

from collections import Counter

import pytest
from PIL import Image

from spatialforge.prompts import format_prompt
from spatialforge.train.data import (
    load_qa_dataset,
    mix_general,
    prepare_datasets,
    resample_by_task,
    to_grpo_dataset,
    to_sft_dataset,
)
from spatialforge.train.config import DataConfig
from spatialforge.train.sampler import find_pairs


def test_grpo_rows_carry_prompt_image_and_reward_columns(pair_dataset):
    ds = to_grpo_dataset(pair_dataset, "think")
    row = ds[0]
    assert row["prompt"] == [{"role": "user", "content": format_prompt("think", pair_dataset[0]["question"])}]
    assert row["prompt"][0]["content"].endswith("final answer in <answer> </answer> tags.")
    assert isinstance(row["image"], Image.Image)
    for col in ("pair_id", "view", "question", "answer", "answer_struct", "eval_type", "task"):
        assert row[col] == pair_dataset[0][col]
    assert "reasoning" not in ds.column_names and "scene_id" not in ds.column_names


def test_sft_rows_have_think_answer_completion(pair_dataset):
    from spatialforge.eval.parse import extract_answer, has_think_answer_format

    ds = to_sft_dataset(pair_dataset, "think")
    assert set(ds.column_names) == {"image", "prompt", "completion"}
    text = ds[0]["completion"][0]["content"]
    assert has_think_answer_format(text) and extract_answer(text) == pair_dataset[0]["answer"]
    plain = to_sft_dataset(pair_dataset, "plain")
    assert plain[0]["completion"][0]["content"] == pair_dataset[0]["answer"]
    assert plain[0]["prompt"][0]["content"] == pair_dataset[0]["question"]


def test_resample_by_task_hits_the_shares_and_keeps_pairs_whole(pair_dataset):
    ratios = {"relative_direction": 3, "relative_distance": 1, "not_in_data": 5}
    with pytest.warns(UserWarning, match="not_in_data"):
        out = resample_by_task(pair_dataset, ratios, num_samples=64, seed=1)
    counts = Counter(out["task"])
    assert set(counts) == {"relative_direction", "relative_distance"}  # tasks without a ratio are dropped
    assert len(out) == 64 and counts["relative_direction"] == 48 and counts["relative_distance"] == 16
    pairs, unpaired = find_pairs(list(out["pair_id"]), list(out["view"]))  # oversampled pairs are renamed
    assert len(pairs) == 32 and not unpaired
    for o, m in pairs:
        assert out[o]["pair_id"] == out[m]["pair_id"] and out[o]["question"] == out[m]["question"]


def test_general_mixing_is_one_to_seven(pair_dataset):
    spatial = to_sft_dataset(pair_dataset, "think")  # 16 rows
    general = to_sft_dataset(pair_dataset.select(range(2)).map(lambda q: {"question": "What is it? " + q},
                                                               input_columns=["question"]), "think")
    mixed = mix_general(spatial, general, ratio=1 / 7, seed=0)
    n_general = sum(r[0]["content"].startswith("What is it?") for r in mixed["prompt"])
    assert len(mixed) == 16 + 2 and n_general == 2  # round(16 / 7) = 2


def test_load_and_prepare_from_parquet(tmp_path, pair_dataset):
    pair_dataset.to_parquet(str(tmp_path / "qa.parquet"))
    ds = load_qa_dataset(tmp_path / "qa.parquet")
    assert len(ds) == len(pair_dataset) and isinstance(ds[0]["image"], Image.Image)
    train, evald = prepare_datasets(DataConfig(train=str(tmp_path / "*.parquet"), max_samples=6), "grpo")
    assert len(train) == 6 and evald is None and "prompt" in train.column_names
    with pytest.raises(FileNotFoundError, match="no Parquet"):
        load_qa_dataset(tmp_path / "missing")
    with pytest.raises(ValueError, match="general-VQA"):
        prepare_datasets(DataConfig(train=str(tmp_path / "qa.parquet"), general=str(tmp_path / "qa.parquet")), "grpo")


def test_multi_image_rows_are_rejected_not_truncated(tmp_path):
    from datasets import Dataset, Features, Image as HFImage, Sequence, Value

    from spatialforge.errors import ConfigError

    im = Image.new("RGB", (8, 8))
    feats = Features({"images": Sequence(HFImage()), "question": Value("string"), "answer": Value("string")})
    rows = [{"images": [im], "question": "q", "answer": "a"}, {"images": [im, im], "question": "q", "answer": "a"}]
    Dataset.from_list(rows, features=feats).to_parquet(str(tmp_path / "multi.parquet"))
    with pytest.raises(ConfigError, match=r"multi.parquet: row 1 has 2 images .*one image per row"):
        load_qa_dataset(tmp_path / "multi.parquet")
    Dataset.from_list(rows[:1], features=feats).to_parquet(str(tmp_path / "one.parquet"))
    ds = load_qa_dataset(tmp_path / "one.parquet")  # one image per row: read as the 'image' column
    assert "image" in ds.column_names and "images" not in ds.column_names
