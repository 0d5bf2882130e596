"""Tiny fixtures of the video / multi-view benchmarks, each in the benchmark's own file format.

Every ``write_<benchmark>(folder)`` returns the source to pass to ``Benchmark.load``. Videos
are referenced by path only (scoring never opens them); images are tiny PNGs.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.eval.benchfix import png, save_png, write_parquet


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# ---------------------------------------------------------------- VSI-Bench (test.jsonl beside the unpacked videos)
VSI_ROWS = [
    {"id": 1, "dataset": "scannet", "scene_name": "scene0000_00", "question_type": "object_counting",
     "question": "How many chair(s) are in this room?", "options": None, "ground_truth": "4"},
    {"id": 2, "dataset": "arkitscenes", "scene_name": "41069025", "question_type": "object_abs_distance",
     "question": "Measuring from the closest point of each object, what is the distance between the sofa and the tv (in meters)?",
     "options": None, "ground_truth": "2.0"},
    {"id": 3, "dataset": "scannetpp", "scene_name": "0a5c013435", "question_type": "object_rel_direction_easy",
     "question": "If I am standing by the bed and facing the door, is the lamp to my left or right?",
     "options": ["A. left", "B. right"], "ground_truth": "A"},
    {"id": 4, "dataset": "scannet", "scene_name": "scene0000_00", "question_type": "object_rel_direction_hard",
     "question": "If I am standing by the sink and facing the stove, is the fridge to my front-left, front-right, back-left, or back-right?",
     "options": ["A. front-left", "B. front-right", "C. back-left", "D. back-right"], "ground_truth": "C"},
    {"id": 5, "dataset": "scannet", "scene_name": "scene0001_01", "question_type": "route_planning",
     "question": "You are a robot beginning at the door facing the bed. How do you reach the desk?",
     "options": ["A. Turn right", "B. Turn left", "C. Go forward", "D. Turn back"], "ground_truth": "B"},
    {"id": 6, "dataset": "arkitscenes", "scene_name": "41069025", "question_type": "object_size_estimation",
     "question": "What is the length of the longest dimension (length, width, or height) of the table, measured in centimeters?",
     "options": None, "ground_truth": "80"},
]


def write_vsibench(folder: Path, pruned: list[bool] | None = None) -> Path:
    root = folder / "vsibench"
    rows = [dict(r) for r in VSI_ROWS]
    if pruned is not None:
        for r, p in zip(rows, pruned):
            r["pruned"] = p
    _jsonl(root / "test.jsonl", rows)
    return root


# ---------------------------------------------------------------- MMSI-Bench (HF parquet: images as a list of image structs)
def write_mmsi(folder: Path) -> Path:
    def imgs(n):
        return [{"bytes": png((40 * i, 80, 120)), "path": None} for i in range(n)]

    rows = [
        {"id": 0, "images": imgs(2), "question_type": "Positional Relationship (Cam.-Obj.)",
         "question": "Where is the lamp relative to the camera of image 1? Options: A: left, B: right, C: front, D: behind",
         "answer": "B", "thought": ""},
        {"id": 1, "images": imgs(3), "question_type": "Motion (Cam.)",
         "question": "How did the camera move from image 1 to image 3? Options: A: forward, B: backward, C: left, D: right",
         "answer": "A", "thought": ""},
        {"id": 2, "images": imgs(2), "question_type": "MSR",
         "question": "Which object is between the two chairs? Options: A: sofa, B: lamp, C: rug, D: table",
         "answer": "D", "thought": ""},
    ]
    return write_parquet(folder / "mmsi" / "test-00000-of-00001.parquet", rows)


# ---------------------------------------------------------------- OmniSpatial (rows of the lmms-eval port, image_path relative)
def write_omnispatial(folder: Path) -> Path:
    root = folder / "omnispatial"
    spec = [("Perspective_Taking", "Egocentric", "B"), ("Perspective_Taking", "Allocentric", "A"),
            ("Dynamic_Reasoning", "Manipulation", "C"), ("Complex_Logic", "Geometric_Reasoning", "D")]
    rows = []
    for i, (dim, sub, gt) in enumerate(spec):
        save_png(root / "image_files" / f"{i}.png")
        rows.append({"id": f"{sub}_{i}", "question": f"Question {i} about {sub.lower()}?",
                     "options": ["left", "right", "front", "back"], "gt": gt, "task_type": dim,
                     "sub_task_type": sub, "image_path": f"image_files/{i}.png"})
    _jsonl(root / "test.jsonl", rows)
    return root


# ---------------------------------------------------------------- ViewSpatial-Bench (ViewSpatial-Bench.json, image_path lists)
def write_viewspatial(folder: Path) -> Path:
    root = folder / "viewspatial"
    rows = [
        {"question_type": "Camera perspective - Relative Direction", "image_path": ["scannet/a.png"],
         "question": "Where is the lamp relative to the sofa?", "answer": "A. left",
         "choices": "A. left\nB. right\nC. front\nD. back"},
        {"question_type": "Person perspective - Object View Orientation", "image_path": ["coco/b.png"],
         "question": "From the woman's view, which way does the dog face?", "answer": "B. facing right",
         "choices": "A. facing left\nB. facing right"},
        {"question_type": "Person perspective - Relative Direction", "image_path": ["coco/c.png"],
         "question": "From the man's view, where is the bicycle?", "answer": "C. front",
         "choices": "A. left\nB. right\nC. front\nD. back"},
    ]
    for r in rows:
        save_png(root / r["image_path"][0])
    (root / "ViewSpatial-Bench.json").write_text(json.dumps(rows))
    return root


# ---------------------------------------------------------------- SITE (jsonl rows, visual paths relative; one video)
def write_site(folder: Path) -> Path:
    root = folder / "site"
    rows = [
        {"id": "s0", "visual": ["images/0.png"], "question": "How many cups are there?", "options": ["3", "2", "1", "0"],
         "answer": "A", "category": "counting & existence", "dataset": "CountBench"},
        {"id": "s1", "visual": ["images/1a.png", "images/1b.png"], "question": "Is the second view taken from the left?",
         "options": ["no", "yes"], "answer": "B", "category": "multi-view & cross-image reasoning", "dataset": "MMSI"},
        {"id": "s2", "visual": ["videos/walk.mp4"], "question": "Where will the person go next?",
         "options": ["left", "right", "forward", "back"], "answer": "C",
         "category": "movement prediction & navigation", "dataset": "VSI"},
        {"id": "s3", "visual": ["images/3.png"], "question": "Which object is above the table?",
         "options": ["lamp", "cup", "book", "plant"], "answer": "D", "category": "spatial relationship reasoning",
         "dataset": "CV-Bench"},
    ]
    for r in rows:
        for v in r["visual"]:
            if v.endswith(".png"):
                save_png(root / v)
    _jsonl(root / "test.jsonl", rows)
    return root


# ---------------------------------------------------------------- SPAR-Bench (HF parquet: image lists)
def write_spar(folder: Path) -> Path:
    def imgs(n):
        return [{"bytes": png((90, 30 * i, 60)), "path": None} for i in range(n)]

    rows = [
        {"id": "p0", "image": imgs(1), "task": "depth_prediction_oc", "answer": "2.0",
         "question": "What is the depth of the chair's centre (in meters)?"},
        {"id": "p1", "image": imgs(3), "task": "distance_prediction_oo_mv", "answer": "4.0",
         "question": "How far apart are the bed and the desk across these views (in meters)?"},
        {"id": "p2", "image": imgs(1), "task": "obj_spatial_relation_oo", "answer": "B",
         "question": "Which object is closer to the camera?\nA. chair\nB. table"},
        {"id": "p3", "image": imgs(2), "task": "position_matching", "answer": "A",
         "question": "Where is the box of image 1 in image 2?\nA. [100, 200, 300, 400]\nB. [500, 100, 700, 300]"},
        {"id": "p4", "image": imgs(2), "task": "view_change_infer", "answer": "move_right:0.5,rotate_left:30",
         "question": "How did the camera move from image 1 to image 2?"},
    ]
    return write_parquet(folder / "spar" / "test-00000-of-00001.parquet", rows)
