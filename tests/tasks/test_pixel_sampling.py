"""Valid-depth pixels drawn by rejection (tasks/pixel_sampling.py) and the camera rotation check."""

from __future__ import annotations

import numpy as np
import pytest

from spatialforge.scene import Camera, SceneError
from spatialforge.tasks.pixel_sampling import sample_valid, valid_index
from spatialforge.tasks.plan import Stream


def _depth(valid_fraction: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.5, 5.0, (48, 64)).astype(np.float32)
    bad = rng.random(d.shape) >= valid_fraction
    d[bad] = rng.choice(np.array([0.0, -1.0, np.nan, np.inf], dtype=np.float32), bad.sum())
    return d


def test_draws_only_valid_pixels_uniformly_and_deterministically():
    d = _depth(0.5)
    rs = Stream.of(7)
    hits = [sample_valid(d, rs) for _ in range(20_000)]
    assert all(d[r, c] > 0 and np.isfinite(d[r, c]) for c, r in hits)
    counts = np.zeros(d.size)
    for c, r in hits:
        counts[r * d.shape[1] + c] += 1
    valid = valid_index(d)
    assert counts[np.setdiff1d(np.arange(d.size), valid)].sum() == 0
    # uniform over the valid pixels: each expects 20000/len(valid) ~ 13; no pixel far off
    per = counts[valid]
    assert per.mean() == pytest.approx(20_000 / len(valid))
    assert per.std() < 2 * np.sqrt(per.mean())  # Poisson-like spread, not a biased subset
    assert [sample_valid(d, s) for s in [Stream.of(7)] for _ in range(50)] == hits[:50]


def test_rare_valid_pixels_fall_back_to_the_index_and_none_when_empty():
    d = np.zeros((48, 64), np.float32)
    d[40, 3] = 2.0  # one valid pixel in 3072: rejection misses, the index finds it
    calls = []

    def index():
        calls.append(1)
        return valid_index(d)

    assert sample_valid(d, Stream.of(0), index) == (3, 40)
    assert calls == [1]
    assert sample_valid(np.zeros((4, 4), np.float32), Stream.of(0)) is None
    assert sample_valid(np.full((4, 4), np.nan, np.float32), Stream.of(0)) is None


def test_camera_rotation_check_in_plain_floats():
    c, s = np.cos(0.3), np.sin(0.3)
    Camera(1, 1, 0, 0, 10, 10, ((c, -s, 0), (s, c, 0), (0, 0, 1)))  # a rotation passes
    Camera(1, 1, 0, 0, 10, 10, ((1 + 5e-7, 0, 0), (0, 1, 0), (0, 0, 1)))  # within allclose's tolerance
    for bad in (((1, 0, 0), (0, 1, 0), (0, 0, -1)),  # reflection: det -1
                ((1.01, 0, 0), (0, 1, 0), (0, 0, 1)),  # not orthonormal
                ((1, 1e-4, 0), (0, 1, 0), (0, 0, 1))):  # off-diagonal error above 1e-6
        with pytest.raises(SceneError, match="rotation"):
            Camera(1, 1, 0, 0, 10, 10, bad)


def test_pixel_tasks_read_a_memory_map_and_build_no_index(tmp_path):
    import mmap

    from spatialforge.tasks import clear_caches, generate_qa
    from spatialforge.tasks.view import get_view

    from taskscenes import rich_scene

    clear_caches()
    scene = rich_scene(tmp_path)
    res = generate_qa(scene, seed=3, qa_per_scene=40, tasks=["point_query", "depth_order"])
    assert len(res.records) > 10
    view = get_view(scene)
    assert view._valid is None  # rejection found every pixel: the full valid index was never built
    base = view.depth()
    while isinstance(base, (np.ndarray, memoryview)):  # an array over a buffer over the mapped file
        base = base.obj if isinstance(base, memoryview) else base.base
    assert isinstance(base, mmap.mmap)  # the depth file is mapped, not read whole
    assert [repr(r) for r in res.records] == [
        repr(r) for r in generate_qa(rich_scene(tmp_path), seed=3, qa_per_scene=40,
                                         tasks=["point_query", "depth_order"]).records]

