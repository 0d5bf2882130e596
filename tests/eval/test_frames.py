"""Uniform frame sampling from a video file (built here with OpenCV, lossless FFV1), a frame
folder and a list of frames: the sampled indices are hand-computed, the pixels compared."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from spatialforge.eval.benchmarks.base import BenchmarkError, BenchSample, file_ref
from spatialforge.eval.benchmarks.openended import OpenSpaces
from spatialforge.eval.frames import DEFAULT_NUM_FRAMES, sample_frames, uniform_indices


def frames_rgb(n: int = 10, size: tuple[int, int] = (32, 24), seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) for _ in range(n)]


def write_video(path, frames: list[np.ndarray], fps: int = 5):
    """A lossless FFV1 AVI of RGB ``frames`` (so decoded pixels must match exactly)."""
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.mark.parametrize(("total", "n", "expected"), [
    (10, 4, [0, 3, 6, 9]),  # linspace 0, 3, 6, 9
    (10, 3, [0, 4, 9]),  # 0, 4.5 -> 4, 9
    (11, 4, [0, 3, 6, 10]),  # 0, 3.33, 6.67, 10: truncated, as lmms-eval's dtype=int
    (100, 5, [0, 24, 49, 74, 99]),  # 0, 24.75, 49.5, 74.25, 99
    (3, 5, [0, 1, 2]),  # fewer frames than asked: each once
    (1, 1, [0]),
])  # fmt: skip
def test_uniform_indices_hand_computed(total, n, expected):
    assert uniform_indices(total, n) == expected


def test_uniform_indices_rejects_zero_frames():
    with pytest.raises(ValueError, match="num_frames must be >= 1"):
        uniform_indices(10, 0)


def test_video_file_frames_and_pixels(tmp_path):
    src = frames_rgb(10)
    path = write_video(tmp_path / "clip.avi", src)
    frames, idx = sample_frames(str(path), 4)
    assert idx == [0, 3, 6, 9]
    assert all(f.mode == "RGB" and f.size == (32, 24) for f in frames)
    for f, i in zip(frames, idx, strict=True):
        np.testing.assert_array_equal(np.asarray(f), src[i])  # RGB order, right frame


def test_frame_folder_in_natural_order(tmp_path):
    src = frames_rgb(12, seed=1)
    for i, f in enumerate(src):  # frame_2 must come before frame_10
        Image.fromarray(f).save(tmp_path / f"frame_{i}.png")
    (tmp_path / "notes.txt").write_text("not a frame")
    frames, idx = sample_frames(tmp_path, 3)
    assert idx == [0, 5, 11]  # 0, 5.5, 11
    for f, i in zip(frames, idx, strict=True):
        np.testing.assert_array_equal(np.asarray(f), src[i])


def test_list_of_frames(tmp_path):
    src = frames_rgb(5, seed=2)
    frames, idx = sample_frames([Image.fromarray(f) for f in src], 2)
    assert idx == [0, 4]
    np.testing.assert_array_equal(np.asarray(frames[1]), src[4])


def test_bad_videos_name_the_file(tmp_path):
    with pytest.raises(BenchmarkError, match="missing.mp4 not found"):
        sample_frames(str(tmp_path / "missing.mp4"), 4)
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all")
    with pytest.raises(BenchmarkError, match="junk.mp4"):
        sample_frames(str(tmp_path / "junk.mp4"), 4)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchmarkError, match="empty holds no frame images"):
        sample_frames(tmp_path / "empty", 4)


def test_benchmark_frame_count_order_and_default(tmp_path):
    bench = OpenSpaces()
    assert bench.num_frames == DEFAULT_NUM_FRAMES == 32
    path = write_video(tmp_path / "v.avi", frames_rgb(40))
    s = BenchSample(id="v", question="q", answer="a", video=file_ref("v.avi", tmp_path))
    assert s.video == str(tmp_path / "v.avi")
    assert len(bench.load_video(s)) == 32  # the benchmark default
    s.num_frames = 5
    assert len(bench.load_video(s)) == 5  # the sample's own count
    assert len(bench.load_video(s, num_frames=3)) == 3  # a run option wins
    assert bench.load_video(BenchSample(id="x", question="q", answer="a")) == []
    assert path.is_file()
