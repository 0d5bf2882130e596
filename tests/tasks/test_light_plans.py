"""What the light tasks keep per scene view holds what a fresh computation gives."""

from __future__ import annotations

from spatialforge.tasks import TASKS
from spatialforge.tasks.orientation import _facing_labels
from spatialforge.tasks.plan import Stream
from spatialforge.tasks.relations import facing
from spatialforge.tasks.view import SceneView

from taskscenes import random_scene


def test_orientation_labels_kept_per_view_match_fresh_ones():
    task, asked = TASKS["orientation"], 0
    for seed in range(12):
        scene = random_scene(seed, n=9)
        for sc in (scene, scene.mirrored()):
            warm = SceneView(sc)
            if task.unsupported(warm):
                continue
            for _ in range(3):  # the second and third calls read the kept labels
                assert _facing_labels(warm) == {i: facing(warm, i) for i in warm.fronted
                                                if facing(warm, i) is not None}
            for k in range(20):  # plans from the warm view are those of a fresh view
                assert task.plan(warm, Stream.of(k), "mcq") == task.plan(SceneView(sc), Stream.of(k), "mcq")
                asked += 1
    assert asked >= 100
