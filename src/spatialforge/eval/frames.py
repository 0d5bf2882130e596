"""Video input for benchmarks: uniform frame sampling from a video file or a folder of frames.

A video sample is turned into ``num_frames`` PIL frames before it reaches a runner, so every
runner (transformers, vLLM, an OpenAI-compatible endpoint) sees the same frames.

Sampling follows lmms-eval, the harness VSI-Bench's official evaluation runs on: frame
indices ``np.linspace(0, total - 1, num_frames, dtype=int)`` (first and last frame always
included, the rest evenly spaced, fractions truncated).  A video with fewer frames than asked
gives each frame once (no repeats).  :data:`DEFAULT_NUM_FRAMES` is 32: VSI-Bench's
``evaluate_all_in_one.sh`` (vision-x-nyu/thinking-in-space) passes ``num_frames=32`` as
``max_num_frames`` to the open-source models it reports.

Decoding uses OpenCV (``cv2``, a dependency of the perception stack): frames are grabbed in
order and only the sampled ones are decoded to pixels.  A folder of pre-extracted frames is
read in natural name order (``frame_2.jpg`` before ``frame_10.jpg``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

DEFAULT_NUM_FRAMES = 32
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def uniform_indices(total: int, num_frames: int) -> list[int]:
    """``num_frames`` evenly spaced frame indices of a ``total``-frame video (all of them if fewer)."""
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if total <= num_frames:
        return list(range(total))
    return np.linspace(0, total - 1, num_frames, dtype=int).tolist()


def _natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def frame_files(folder: Path) -> list[Path]:
    """The image files of a frame folder, in natural name order."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES]
    return sorted(files, key=lambda p: _natural_key(p.name))


def sample_frames(video: Any, num_frames: int) -> tuple[list, list[int]]:
    """``(frames, indices)``: ``num_frames`` uniformly sampled RGB PIL frames of ``video`` and
    their indices.  ``video``: a video file, a folder of frame images, or a list of frame
    references (paths, bytes, PIL images).  Errors name the video."""
    from .benchmarks.base import BenchmarkError, open_image  # deferred: benchmarks.base imports frames

    if isinstance(video, (list, tuple)):
        idx = uniform_indices(len(video), num_frames)
        return [open_image(video[i]) for i in idx], idx
    path = Path(video)
    if path.is_dir():
        files = frame_files(path)
        if not files:
            raise BenchmarkError(f"video folder {path} holds no frame images ({'/'.join(FRAME_SUFFIXES)})")
        idx = uniform_indices(len(files), num_frames)
        return [open_image(str(files[i])) for i in idx], idx
    if not path.is_file():
        raise BenchmarkError(f"video {path} not found")
    return _decode(path, num_frames)


def _decode(path: Path, num_frames: int) -> tuple[list, list[int]]:
    import cv2

    from .benchmarks.base import BenchmarkError  # deferred: benchmarks.base imports frames

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise BenchmarkError(f"video {path} is unreadable (OpenCV cannot open it)")
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if total <= 0:  # some containers carry no frame count: count by grabbing
            while cap.grab():
                total += 1
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        idx = uniform_indices(total, num_frames)
        wanted, frames = set(idx), {}
        for i in range(idx[-1] + 1 if idx else 0):
            if not cap.grab():
                break
            if i in wanted:
                ok, bgr = cap.retrieve()
                if ok:
                    frames[i] = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
    if not frames:
        raise BenchmarkError(f"video {path}: no frame could be decoded")
    if len(frames) < len(idx):  # a truncated file or a header that over-counts: say so, never guess
        raise BenchmarkError(f"video {path}: header says {total} frames but frame {min(set(idx) - set(frames))} "
                             "could not be decoded; re-encode it or pass a folder of extracted frames")
    return [frames[i] for i in idx], idx
