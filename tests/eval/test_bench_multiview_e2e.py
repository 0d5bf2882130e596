"""Multi-image benchmarks end to end on the tiny Qwen2.5-VL: every image reaches the model, report thumbnails."""

from __future__ import annotations

import json

from spatialforge.eval.evaluate import evaluate
from tests.eval.benchfix_multiview import write_mmsi, write_spar
from tests.fixtures_models import tiny_qwen_path  # noqa: F401


def test_multi_image_samples_on_tiny_qwen(tmp_path, tiny_qwen_path):
    res = evaluate(str(tiny_qwen_path), "mmsi_bench,sparbench", sources={"mmsi_bench": write_mmsi(tmp_path),
                   "sparbench": write_spar(tmp_path)}, out=tmp_path / "eval", max_new_tokens=4, batch_size=2)
    assert res["benchmarks"]["mmsi_bench"]["n"] == 3 and res["benchmarks"]["sparbench"]["n"] == 5
    for name in ("mmsi_bench", "sparbench"):
        overall = res["benchmarks"][name]["overall"]
        assert overall is not None and -1.0 <= overall <= 1.0
    html = (tmp_path / "eval" / "report.html").read_text()
    assert html.count("class='thumb'") == (2 + 3 + 2) + (1 + 3 + 1 + 2 + 2)
    rows = [json.loads(line) for line in (tmp_path / "eval" / "per_sample" / "mmsi_bench.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all(not r["missing"] for r in rows)


def test_vsibench_video_samples_on_tiny_qwen(tmp_path, tiny_qwen_path):
    """VSI-Bench rows point at real .mp4 files: each is decoded, 3 frames sampled, answered and scored."""
    import cv2
    import numpy as np

    from tests.eval.benchfix_multiview import VSI_ROWS, write_vsibench

    root = write_vsibench(tmp_path)
    rng = np.random.default_rng(0)
    for row in VSI_ROWS:
        path = root / row["dataset"] / f"{row['scene_name']}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (32, 24))
        for _ in range(6):
            writer.write(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
        writer.release()
    res = evaluate(str(tiny_qwen_path), "vsibench", sources={"vsibench": root}, out=tmp_path / "eval",
                   max_new_tokens=4, batch_size=2, num_frames=3)
    assert res["benchmarks"]["vsibench"]["n"] == len(VSI_ROWS) and res["meta"]["num_frames"] == 3
    rows = [json.loads(line) for line in (tmp_path / "eval" / "per_sample" / "vsibench.jsonl").read_text().splitlines()]
    # a random-weight model's text does not parse; what matters is that every video was answered
    assert len(rows) == len(VSI_ROWS) and all(not r["missing"] for r in rows)
    assert not any(str(r.get("error", "")).startswith("generation failed") for r in rows)
