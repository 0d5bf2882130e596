"""EmbSpatial-Bench: base64 images, index answers, prompt snapshot, accuracy by relation/source."""

from __future__ import annotations

from spatialforge.eval.benchmarks import get_benchmark
from tests.eval.benchfix import write_embspatial


def test_embspatial_end_to_end(tmp_path):
    bench = get_benchmark("embspatial")
    samples = bench.load(write_embspatial(tmp_path))
    assert [s.answer for s in samples] == ["B", "D"]
    assert bench.load_images(samples[0])[0].size == (64, 48)
    assert bench.build_prompt(samples[0]) == (
        "Which object is on the left of the bed?\nA) lamp\nB) chair\nC) table\nD) door\n"
        "Answer with the option's letter from the given choices directly."
    )
    rows = [bench.score(samples[0], "B) chair"), bench.score(samples[1], "The answer is the rug.")]
    assert rows[0]["correct"] and rows[1]["parsed"] == "B" and not rows[1]["correct"]
    agg = bench.aggregate(rows)
    assert agg["overall"] == 0.5
    assert agg["by_task"] == {"close": {"n": 1, "accuracy": 0.0}, "left": {"n": 1, "accuracy": 1.0}}
    assert agg["metrics"]["by_data_source"]["mp3d"]["accuracy"] == 1.0
    assert agg["metrics"]["by_relation_group"]["distance"]["accuracy"] == 0.0
