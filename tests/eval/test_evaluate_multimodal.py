"""A multi-image sample and a video sample end to end on the tiny Qwen2.5-VL: evaluate() and the
CLI, frames sampled per the sample / the run option, the cache keyed by every image."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from spatialforge.cli import app
from spatialforge.eval.benchmarks import BenchSample, get_benchmark
from spatialforge.eval.evaluate import cache_id, evaluate
from spatialforge.eval.runners import make_runner
from tests.eval.test_frames import frames_rgb, write_video
from tests.eval.test_runners_multimodal import SeenImages
from tests.fixtures_models import make_image, tiny_qwen_path  # noqa: F401


def write_fixture(folder):
    """Flat open-ended rows (the openspaces local format): one with two images, one with a
    10-frame video sampled at 4 frames."""
    folder.mkdir(parents=True, exist_ok=True)
    make_image(1).save(folder / "left.png")
    make_image(2, (84, 56)).save(folder / "right.png")
    write_video(folder / "clip.avi", frames_rgb(10, size=(56, 56)))
    rows = [
        {"images": ["left.png", "right.png"], "question": "How far is the chair from the table?", "answer": "2 meters"},
        {"video": "clip.avi", "num_frames": 4, "question": "Is there a lamp in the room?", "answer": "Yes."},
    ]
    path = folder / "multi.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_fixture_loads_as_multi_image_and_video_samples(tmp_path):
    samples = get_benchmark("openspaces").load(write_fixture(tmp_path / "src"))
    assert samples[0].images == [str(tmp_path / "src" / "left.png"), str(tmp_path / "src" / "right.png")]
    assert samples[0].video is None
    assert samples[1].images == [] and samples[1].video == str(tmp_path / "src" / "clip.avi")
    assert samples[1].num_frames == 4


def test_cache_id_covers_every_image_and_the_frame_count():
    bench = get_benchmark("openspaces")
    one = BenchSample(id="a", question="q", answer="x", images=["/d/1.png"])
    assert cache_id(bench, one) == "a"  # single-image keys unchanged: caches written before still resume
    two = BenchSample(id="a", question="q", answer="x", images=["/d/1.png", "/d/2.png"])
    other = BenchSample(id="a", question="q", answer="x", images=["/d/1.png", "/d/3.png"])
    moved = BenchSample(id="a", question="q", answer="x", images=["/e/1.png", "/e/2.png"])
    assert cache_id(bench, two).startswith("a@") and cache_id(bench, two) != cache_id(bench, other)
    assert cache_id(bench, two) == cache_id(bench, moved)  # file names, not folders
    vid = BenchSample(id="v", question="q", answer="x", video="/d/clip.mp4", num_frames=8)
    assert cache_id(bench, vid) != cache_id(bench, vid, num_frames=16)
    assert cache_id(bench, vid) == cache_id(bench, vid, num_frames=8)


@pytest.fixture(scope="module")
def qwen(tiny_qwen_path):
    return make_runner("transformers", tiny_qwen_path)


def test_evaluate_multi_image_and_video_on_tiny_qwen(tmp_path, qwen):
    src, out = write_fixture(tmp_path / "src"), tmp_path / "out"
    kw = dict(runner=qwen, sources={"openspaces": str(src)}, out=out, batch_size=1, max_new_tokens=6)
    seen = SeenImages(qwen.model)
    try:
        res = evaluate("tiny-qwen", "openspaces", **kw)
        first = list(seen.counts)
        evaluate("tiny-qwen", "openspaces", **kw)  # resumed: nothing runs again
        resumed = list(seen.counts)
        res3 = evaluate("tiny-qwen", "openspaces", num_frames=3, **kw)  # another frame count: the video reruns
        third = seen.counts[len(resumed):]
    finally:
        seen.close()
    assert first == [2, 4]  # two images; the video's own num_frames (4), frames as images
    assert resumed == first and third == [3]
    agg = res["benchmarks"]["openspaces"]
    assert agg["n"] == 2 and agg["n_generation_failed"] == 0
    assert res["meta"]["video_input"] == "frames" and res3["meta"]["num_frames"] == 3
    rows = [json.loads(line) for line in (out / "per_sample" / "openspaces.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["0-0", "1-0"] and not any(r["missing"] for r in rows)
    cache = next((out / "predictions").rglob("plain.jsonl")).read_text().splitlines()
    assert len(cache) == 3 and all("@" in json.loads(line)["id"] for line in cache)


def test_cli_eval_video_and_multi_image(tmp_path, monkeypatch):
    monkeypatch.setenv("SPATIALFORGE_CACHE", str(tmp_path / "cache"))  # tiny:qwen2_5_vl is built here
    src, out = write_fixture(tmp_path / "src"), tmp_path / "eval"
    res = CliRunner().invoke(app, [
        "eval", "--model", "tiny:qwen2_5_vl", "--benchmarks", "openspaces", "--source", f"openspaces={src}",
        "--out", str(out), "--max-new-tokens", "6", "--num-frames", "2",
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "results.json").read_text())
    assert summary["benchmarks"]["openspaces"]["aggregate"]["n"] == 2
    assert summary["meta"]["num_frames"] == 2 and summary["meta"]["video_input"] == "frames"
    bad = CliRunner().invoke(app, ["eval", "--model", "tiny:qwen2_5_vl", "--benchmarks", "openspaces",
                                   "--source", f"openspaces={src}", "--out", str(out), "--num-frames", "0"])
    assert bad.exit_code == 2
