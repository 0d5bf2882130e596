"""Tiny benchmark fixtures written to disk in each benchmark's official schema.

Each ``write_<benchmark>(folder)`` returns the source path to pass to ``Benchmark.load`` and
uses small PIL images, so the loaders, prompts and scoring run on the real file layouts.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

from PIL import Image


def png(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def save_png(path: Path, colour=(40, 160, 40), size=(32, 24)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(colour, size))


def write_parquet(path: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


# ---------------------------------------------------------------- Q-Spatial (HF parquet export)
QSPATIAL_ROWS = [  # (question, value, unit)
    ("What is the minimum distance between the coffee grinder and the kettle?", 96.0, "centimeters"),
    ("How far is the chair from the table?", 2.0, "meters"),
    ("What is the distance between the two stools?", 30.0, "inches"),
    ("How far apart are the lamp and the sofa?", 5.0, "feet"),
]


def write_qspatial(folder: Path) -> Path:
    rows = [
        {"question": q, "answer_value": v, "answer_unit": u, "question_type": "horizontal_distance",
         "image_path": f"images/{i}.jpg", "image": {"bytes": png((i * 40, 90, 90)), "path": f"{i}.png"}}
        for i, (q, v, u) in enumerate(QSPATIAL_ROWS)
    ]
    return write_parquet(folder / "qspatial" / "QSpatial_plus-00000-of-00001.parquet", rows)


# ---------------------------------------------------------------- SpatialRGPT-Bench (annotation JSON + images)
def write_spatialrgpt(folder: Path) -> Path:
    root = folder / "srgpt"
    items = [
        ("quantitative", "width_data", "Measure the width of Region [0].", "The width of Region [0] is 1.02 meters."),
        ("quantitative", "distance_data", "How far away is Region [0] from Region [1]?", "Region [0] and Region [1] are 11.4 meters apart."),
        ("quantitative", "direction", "If you are at Region [0], where will you find Region [1]?",
         "Region [0] will find Region [1] around the 2 o'clock direction."),
        ("qualitative", "left_predicate", "Is Region [0] to the left of Region [1]?", "Yes, Region [0] is to the left of Region [1]."),
        ("qualitative", "tall_choice", "Who is taller, Region [0] or Region [1]?", "Standing taller between the two is Region [1]."),
    ]
    data = []
    for i, (typ, cat, q, a) in enumerate(items):
        save_png(root / "images" / f"{i}.png", size=(40, 30))
        data.append({
            "id": f"srgpt{i}", "image_info": {"file_path": f"images/{i}.png", "height": 30, "width": 40},
            "text_q": q,
            "conversations": [{"from": "human", "value": "<image>\n" + q.replace("Region [0]", "<mask>")},
                              {"from": "gpt", "value": a}],
            "bbox": [[2, 2, 15, 20], [20, 5, 38, 28]], "qa_info": {"type": typ, "category": cat},
        })
    (root / "SpatialRGPT-Bench_v1.json").write_text(json.dumps(data))
    return root / "SpatialRGPT-Bench_v1.json"


# ---------------------------------------------------------------- CV-Bench (test_2d/3d.jsonl + img/)
CVBENCH_ROWS = [  # (type, task, source, answer)
    ("2D", "Count", "ADE20K", "(C)"),
    ("2D", "Relation", "ADE20K", "(A)"),
    ("2D", "Count", "COCO", "(B)"),
    ("3D", "Depth", "Omni3D", "(A)"),
    ("3D", "Distance", "Omni3D", "(B)"),
]


def write_cvbench(folder: Path) -> Path:
    root = folder / "cvbench"
    for i, (typ, task, source, answer) in enumerate(CVBENCH_ROWS):
        choices = ["3", "2", "1", "0"] if task == "Count" else ["yes", "no"] if task == "Relation" else ["lamp", "chair"]
        q = f"Question {i} about {task.lower()}?"
        prompt = q + " Select from the following choices.\n" + "\n".join(f"({'ABCD'[j]}) {c}" for j, c in enumerate(choices))
        fname = f"img/{typ}/{task.lower()}/{source.lower()}_{i}.png"
        save_png(root / fname)
        row = {"idx": i, "type": typ, "task": task, "question": q, "choices": choices, "answer": answer,
               "prompt": prompt, "filename": fname, "source": source, "source_dataset": source + " val",
               "source_filename": f"{i}.jpg", "target_class": None, "target_size": None, "bbox": None}
        with (root / f"test_{typ.lower()}.jsonl").open("a") as f:
            f.write(json.dumps(row) + "\n")
    return root


# ---------------------------------------------------------------- EmbSpatial-Bench (annotation JSON, base64 images)
def write_embspatial(folder: Path) -> Path:
    rows = [
        {"data_source": "mp3d", "objects": [], "question_id": "mp3d_0", "relation": "left",
         "question": "Which object is on the left of the bed?", "answer_options": ["lamp", "chair", "table", "door"],
         "answer": 1, "image": base64.b64encode(png((10, 20, 30), (64, 48))).decode()},
        {"data_source": "scannet", "objects": [], "question_id": "scannet_1", "relation": "close",
         "question": "Which object is closest to the sofa?", "answer_options": ["tv", "rug", "plant", "shelf"],
         "answer": 3, "image": base64.b64encode(png((30, 20, 10), (64, 48))).decode()},
    ]
    path = folder / "embspatial" / "embspatial_bench.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(rows))
    return path


# ---------------------------------------------------------------- 3DSRBench (VLMEvalKit circular TSV)
def write_threedsr(folder: Path) -> Path:
    img = base64.b64encode(png((90, 90, 200), (64, 48))).decode()
    rows = []
    q1 = "Consider the real-world 3D locations of the objects. Which object has a higher location?"
    for qid, a, b, ans in [("VIN6MS3J", "baseball glove", "red hat", "B"), ("VIN6MS3J-1", "red hat", "baseball glove", "A"),
                           ("VIN6MS3J-flip", "baseball glove", "red hat", "B"), ("VIN6MS3J-flip-1", "red hat", "baseball glove", "A")]:
        rows.append({"qid": qid, "question": q1, "A": a, "B": b, "C": "", "D": "", "answer": ans, "category": "height_higher"})
    q2 = "Is the dog on the left of the person from the person's viewpoint?"
    for qid, a, b, ans in [("K2P7QX1A", "yes", "no", "A"), ("K2P7QX1A-1", "no", "yes", "B")]:
        rows.append({"qid": qid, "question": q2, "A": a, "B": b, "C": "", "D": "", "answer": ans, "category": "orientation_on_the_left"})
    path = folder / "3dsr" / "3dsrbench_v1_vlmevalkit_circular.tsv"
    path.parent.mkdir(parents=True)
    cols = ["index", "qid", "question", "A", "B", "C", "D", "answer", "category", "image", "image_source", "image_url"]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, cols, delimiter="\t")
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow({**r, "index": i, "image": img, "image_source": "MS-COCO", "image_url": "http://images.cocodataset.org/x.jpg"})
    return path


# ---------------------------------------------------------------- RoboSpatial-Home (download_benchmark.py layout)
def write_robospatial(folder: Path) -> Path:
    root = folder / "robospatial"
    rows = [
        {"category": "configuration", "question": "Is the mug to the left of the plate? Answer yes or no.", "answer": "Yes"},
        {"category": "compatibility", "question": "Can the box fit in front of the lamp? Answer yes or no.", "answer": "no"},
        {"category": "context", "question": "In the image, there is a bowl. Pinpoint several points within the vacant space "
         "situated to the left of the bowl. Your answer should be formatted as a list of tuples, i.e. [(x1, y1), ...].",
         "answer": "[(0.1, 0.1), (0.5, 0.1), (0.5, 0.5), (0.1, 0.5)]"},
    ]
    for i, r in enumerate(rows):
        r.update(img=f"images/img_{r['category']}_{i}.png", depth_image=None, mask=None)
        save_png(root / r["img"])
    (root / "annotations.json").write_text(json.dumps(rows))
    return root


# ---------------------------------------------------------------- VQASynth / OpenSpaces (HF parquet: images + messages)
def write_openspaces(folder: Path) -> Path:
    def msg(role, text, with_image=False):
        content = ([{"index": 0, "text": None, "type": "image"}] if with_image else []) + [{"index": None, "text": text, "type": "text"}]
        return {"content": content, "role": role}

    rows = [
        {"images": [{"bytes": png((1, 2, 3)), "path": None}], "messages": [
            msg("user", "How far is the chair from the table?", True), msg("assistant", "The chair is 2 meters from the table."),
            msg("user", "Is the lamp above the desk?"), msg("assistant", "Yes, the lamp is above the desk."),
        ]},
        {"images": [{"bytes": png((3, 2, 1)), "path": None}], "messages": [
            msg("user", "Give the bounding box coordinates of the cup.", True), msg("assistant", "[10, 10, 50, 50]"),
            msg("user", "Describe the color of the wall."), msg("assistant", "The wall is white."),
        ]},
    ]
    return write_parquet(folder / "openspaces" / "data" / "test-00000-of-00001.parquet", rows)


# ---------------------------------------------------------------- our synthetic datasets (spatialforge generate shards)
def synthetic_records():
    from spatialforge.tasks.record import QARecord

    def rec(i, task, level, fmt, eval_type, question, answer, struct, pair, view, choices=()):
        return QARecord(id=f"q{i}", scene_id="scene_000", question=question, answer=answer, answer_struct=struct,
                        task=task, level=level, format=fmt, eval_type=eval_type, choices=tuple(choices),
                        pair_id=pair, view=view, flipped=view == "mirrored", image_path="scenes/images/scene_000.png")

    return [
        rec(0, "object_size", 1, "free", "numeric", "How wide is the sofa?", "1.8 m", {"kind": "length", "value": 1.8}, "p0", "original"),
        rec(1, "object_size", 1, "free", "numeric", "How wide is the sofa?", "1.8 m", {"kind": "length", "value": 1.8}, "p0", "mirrored"),
        rec(2, "relative_direction", 2, "tf", "yesno", "Is the lamp to the left of the sofa?", "Yes", {"kind": "boolean", "value": True}, "p1", "original"),
        rec(3, "relative_direction", 2, "tf", "yesno", "Is the lamp to the right of the sofa?", "Yes", {"kind": "boolean", "value": True}, "p1", "mirrored"),
        rec(4, "relational_comparison", 2, "mcq", "choice", "Which object is closest to the camera?", "B",
            {"kind": "choice", "value": "B"}, "p2", "original", choices=("the lamp", "the mug", "the sofa")),
        rec(5, "spatial_counting", 3, "free", "count", "How many chairs are left of the table?", "2", {"kind": "count", "value": 2}, "", "original"),
    ]


def write_synthetic(folder: Path) -> Path:
    """A dataset folder with ``data/shard-00000.parquet`` rows in the generate schema."""
    from spatialforge.datasets.parquet import shard_name, write_shard

    root = folder / "synthetic"
    rows = []
    for r in synthetic_records():
        row = r.to_row()
        row.update(scene_path="scenes/scene_000.json", image={"bytes": png((r.flipped * 200, 80, 80)), "path": None},
                   width=32, height=24, fx=30.0, fy=30.0, cx=16.0, cy=12.0, R_world_cam=[1.0, 0, 0, 0, 1, 0, 0, 0, 1],
                   depth_path=None, point_map_path=None)
        rows.append(row)
    write_shard(rows, root / "data" / shard_name(0))
    return root
