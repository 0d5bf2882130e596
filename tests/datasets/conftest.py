"""Fixtures for the dataset tests: tiny hand-built scenes on disk and a stub QA generator.

The stub stands in for ``spatialforge.tasks.generate_qa`` (same signature, same
``GenerationResult``-like return) so these tests do not depend on the task engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from spatialforge import Box3D, Camera, Object3D, Scene
from spatialforge.files import write_depth, write_image
from spatialforge.tasks.record import QARecord

W, H = 64, 48


def make_scene(folder: Path, index: int, *, with_depth: bool = True) -> Path:
    """Write ``folder/scene_XXX.json`` + images/ + depth/; two objects in front of the camera."""
    rng = np.random.default_rng(index)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "depth").mkdir(parents=True, exist_ok=True)
    sid = f"scene_{index:03d}"
    img = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    img[:, : W // 3] = (200, 40, 40)  # asymmetric, so a flip is visible
    write_image(folder / "images" / f"{sid}.png", img)
    if with_depth:
        write_depth(folder / "depth" / f"{sid}.npy", rng.uniform(1.0, 4.0, (H, W)).astype(np.float32))
    cam = Camera(60.0, 60.0, 30.5, 24.0, W, H)
    objects = (
        # world: x right, y forward, z up (camera at the origin)
        Object3D(1, "chair", Box3D((-0.6, 2.5, -0.3), (0.5, 0.9, 0.5), 0.2), box2d=(5.0, 10.0, 25.0, 40.0),
                 references=("the left chair",)),
        Object3D(2, "mug", Box3D((0.4, 2.0, -0.1), (0.1, 0.12, 0.1), 0.0), box2d=(40.0, 20.0, 50.0, 30.0)),
    )
    scene = Scene(sid, f"images/{sid}.png", cam, objects,
                  depth_path=f"depth/{sid}.npy" if with_depth else None, source="test")
    return scene.save(folder / f"{sid}.json")


@pytest.fixture
def scene_folder(tmp_path) -> Path:
    folder = tmp_path / "scenes_src"
    for i in range(3):
        make_scene(folder, i)
    return folder


TASKS = [("object_size", 1), ("relative_direction", 2), ("relative_distance", 2), ("point_query", 0)]


def stub_generate(scene, *, seed, qa_per_scene=20, tasks=None, ratios=None, formats=("free", "mcq", "tf"),
                  mirror=False):
    """Deterministic fake QA: one left/right question per slot, exact mirrored partners."""
    rng = np.random.default_rng(seed)
    views = [("original", scene)] + ([("mirrored", scene.mirrored())] if mirror else [])
    records = []
    for k in range(qa_per_scene):
        task, level = TASKS[k % len(TASKS)]
        if tasks and task not in tasks:
            continue
        fmt = formats[k % len(formats)]
        oid = scene.objects[k % len(scene.objects)].id
        pair = f"{scene.id}-{k:03d}"
        noise = int(rng.integers(0, 1000))
        for view, sc in views:
            o = sc.object(oid)
            side = "left" if o.box3d.center[0] < 0 else "right"
            q = f"Is {o.references[0] if o.references else 'the ' + o.category} on the left or the right? ({noise})"
            kw = {}
            if fmt == "mcq":
                kw["choices"] = ("left", "right")
                ans, struct, et = ("A" if side == "left" else "B"), {"kind": "choice", "value": "A" if side == "left" else "B"}, "choice"
            elif fmt == "tf":
                ans, struct, et = "yes" if side == "left" else "no", {"kind": "boolean", "value": side == "left"}, "yesno"
            else:
                ans, struct, et = side, {"kind": "label", "value": side}, "label"
            records.append(QARecord(
                id=f"{pair}-{view[0]}", scene_id=scene.id, question=q, answer=ans, answer_struct=struct,
                task=task, level=level, format=fmt, eval_type=et, object_ids=(oid,), pair_id=pair, view=view,
                flipped=view == "mirrored", meta={"unit": "m"}, reasoning=f"x = {o.box3d.center[0]:.2f} m", **kw))
    return SimpleNamespace(records=records, skipped=[("spatial_counting", "needs at least 3 objects")])


@pytest.fixture
def stub():
    return stub_generate


def read_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture
def scene_writer():
    return make_scene


@pytest.fixture
def manifest_of():
    return read_manifest
