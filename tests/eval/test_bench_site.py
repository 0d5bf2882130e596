"""SITE: image, multi-image and video samples, prompt snapshots, chance-adjusted accuracy by hand."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from spatialforge.eval.benchmarks.official_multiview import site_letter
from tests.eval.benchfix_multiview import write_site


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("site")
    return bench, bench.load(write_site(tmp_path)), tmp_path


def test_visuals(bench_samples):
    bench, samples, tmp_path = bench_samples
    assert [len(s.images) for s in samples] == [1, 2, 0, 1]
    video = samples[2]
    assert video.video == str(tmp_path / "site" / "videos" / "walk.mp4") and video.images == []
    assert bench.frame_count(video) == 32 and all(s.video is None for i, s in enumerate(samples) if i != 2)


def test_prompt_snapshots(bench_samples):
    bench, samples, _ = bench_samples
    assert bench.build_prompt(samples[1]) == (
        "Question: Is the second view taken from the left?\nOptions:\nA: no\nB: yes\n"
        "Give me the answer letter directly. The best answer is:")
    assert bench.build_prompt(samples[2]) == (
        "Select the best answer to the following multiple-choice question based on the video. "
        "Respond with only the letter of the correct option.\nQuestion: Where will the person go next?\n"
        "Options:\nA: left\nB: right\nC: forward\nD: back\nGive me the answer letter directly. The best answer is:")


def test_chance_adjusted_aggregate_hand_computed(bench_samples):
    bench, samples, _ = bench_samples
    rows = [bench.score(s, p) for s, p in zip(samples, ["A", "(B)", "C", "B"])]
    agg = bench.aggregate(rows)
    # 3 of 4 right; chance 1/4 + 1/2 + 1/4 + 1/4 = 1.25 -> (3 - 1.25) / (4 - 1.25) = 7/11
    assert agg["metric"] == "chance_adjusted_accuracy" and agg["overall"] == pytest.approx(7 / 11)
    assert agg["metrics"]["accuracy"] == 0.75
    caa = agg["metrics"]["caa_by_category"]
    assert caa["spatial relationship reasoning"]["score"] == pytest.approx(-1 / 3)  # (0 - 1/4) / (1 - 1/4)
    assert caa["multi-view & cross-image reasoning"]["score"] == 1.0
    assert agg["official"]["overall"] == pytest.approx(7 / 11)


def test_unparsable_is_wrong_not_random(bench_samples):
    bench, samples, _ = bench_samples
    r = bench.score(samples[0], "I am not sure")
    assert r["correct"] is False and r["official_parsed"] == "" and r["official_correct"] is False


def test_official_mmmu_tiers():
    assert site_letter("(B) is it", 4) == "B"
    assert site_letter("it is C.", 4) == "C"
    assert site_letter("answer:D", 4) == "D"
    assert site_letter("A or B", 4) == "B"  # several: the last one found
    assert site_letter("E", 4) == ""


def test_interleaved_image_placeholders_are_dropped(tmp_path):
    import json

    root = write_site(tmp_path)
    rows = [json.loads(line) for line in (root / "test.jsonl").read_text().splitlines()]
    rows[1]["question"] = "<image> is view one, <image> is view two. Is the second view taken from the left?"
    (root / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    bench = get_benchmark("site")
    text = bench.build_prompt(bench.load(root)[1])
    assert text.startswith("Question: is view one,  is view two. Is the second view") and "<image>" not in text
