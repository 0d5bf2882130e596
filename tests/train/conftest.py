"""Small paired QA datasets built in code, with the columns of ``spatialforge generate``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageOps

OBJECTS = ["chair", "table", "lamp", "sofa", "plant", "mug"]


def pair_rows(num_pairs: int = 8, seed: int = 0, size: tuple[int, int] = (56, 56)) -> list[dict]:
    """``num_pairs`` original/mirrored pairs; the mirrored image is the flipped original."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(num_pairs):
        img = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
        a, b = OBJECTS[i % len(OBJECTS)], OBJECTS[(i + 1) % len(OBJECTS)]
        kind = ("yesno", "numeric", "choice")[i % 3]
        for view, im in (("original", img), ("mirrored", ImageOps.mirror(img))):
            left = (i % 2 == 0) == (view == "original")
            if kind == "yesno":
                q, ans, struct, task, fmt = f"Is the {a} to the left of the {b}?", "yes" if left else "no", \
                    {"kind": "boolean", "value": left}, "relative_direction", "tf"
            elif kind == "numeric":
                d = round(0.5 + i * 0.25, 2)
                q, ans, struct, task, fmt = f"How far is the {a} from the {b}?", f"{d} m", \
                    {"kind": "length", "value": d}, "relative_distance", "free"
            else:
                letter = "A" if left else "B"
                q = f"Which is further left, the {a} or the {b}? (A) the {a} (B) the {b}"
                ans, struct, task, fmt = letter, {"kind": "choice", "value": letter}, "relational_comparison", "mcq"
            rows.append({
                "id": f"q{i}-{view}", "pair_id": f"q{i}", "view": view, "scene_id": f"s{i}", "image": im,
                "question": q, "answer": ans, "answer_struct": json.dumps(struct), "task": task,
                "level": 2, "format": fmt, "eval_type": kind, "reasoning": "",
            })
    return rows


def make_pair_dataset(num_pairs: int = 8, seed: int = 0):
    from datasets import Dataset, Features, Image as HFImage, Value

    s = Value("string")
    feats = Features({"id": s, "pair_id": s, "view": s, "scene_id": s, "image": HFImage(), "question": s,
                      "answer": s, "answer_struct": s, "task": s, "level": Value("int64"), "format": s,
                      "eval_type": s, "reasoning": s})
    return Dataset.from_list(pair_rows(num_pairs, seed), features=feats)


@pytest.fixture
def pair_dataset():
    return make_pair_dataset()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tiny models' ops are too small to split across threads; on a busy 2-core machine two
    OpenMP threads waiting for each other make a GRPO step ~40x slower (measured: 33 s vs 0.8 s)."""
    import torch

    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)
