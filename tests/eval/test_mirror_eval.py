"""eval --mirror: mirror consistency on CV-Bench-, 3DSRBench- and RoboSpatial-format inputs.

The fixtures are tiny files in each benchmark's own format whose image has a red bar in its
left columns, so a runner that *looks* at the image answers right on both views, and the
numbers below are counted by hand from the rows.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from spatialforge.eval.evaluate import evaluate
from spatialforge.eval.mirror_eval import build_mirrored, mirrored_benchmark, pair_consistent
from spatialforge.eval.benchmarks import get_benchmark
from tests.fixtures_models import tiny_qwen_path  # noqa: F401

REL_Q = "Considering the relative positions, where is the red bar located with respect to the picture's centre?"


def _bar_png() -> bytes:
    img = np.full((24, 32, 3), 255, np.uint8)
    img[:, :4] = (255, 0, 0)  # a red bar in the left columns
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def _red_on_left(image: Image.Image) -> bool:
    a = np.asarray(image).astype(int)
    red = (a[..., 0] > 200) & (a[..., 1] < 50)
    return red[:, : a.shape[1] // 2].sum() > red[:, a.shape[1] // 2:].sum()


class AlwaysRunner:
    """Answers the same text to everything."""

    def __init__(self, text: str):
        self.name, self.text, self.system_prompt = f"always-{text}", text, None

    def generate(self, requests, *, max_new_tokens, temperature=0.0):
        return [self.text for _ in requests]


class LookingRunner:
    """Reads the red bar's side off the image and answers each question kind correctly."""

    name, system_prompt = "looking", None

    def generate(self, requests, *, max_new_tokens, temperature=0.0):
        out = []
        for r in requests:
            left = _red_on_left(r.images[0])
            p = r.prompt.lower()
            if "how many" in p:
                out.append("2")
            elif "pinpoint" in p:
                out.append("[(0.05, 0.5)]" if left else "[(0.95, 0.5)]")
            elif m := re.search(r"is the red bar (?:on|to) the (left|right)", p):
                out.append("yes" if (m.group(1) == "left") == left else "no")
            else:
                out.append("left" if left else "right")
        return out


def write_cvbench(folder):
    root = folder / "cvbench"
    (root / "img").mkdir(parents=True)
    (root / "img" / "bar.png").write_bytes(_bar_png())
    rows = [  # (task, question, choices, answer)
        ("Relation", REL_Q, ["left", "right"], "(A)"),
        ("Relation", "Which side of the picture is the red bar on?", ["right", "left"], "(B)"),
        ("Count", "How many red bars are in the image?", ["1", "2"], "(A)"),
        ("Relation", "What does the sign on the left say?", ["stop", "go"], "(A)"),  # text in the image: rejected
    ]
    with (root / "test_2d.jsonl").open("w") as f:
        for i, (task, q, ch, ans) in enumerate(rows):
            prompt = q + " Select from the following choices.\n" + "\n".join(f"({'AB'[j]}) {c}" for j, c in enumerate(ch))
            f.write(json.dumps({"idx": i, "type": "2D", "task": task, "question": q, "choices": ch, "answer": ans,
                                "prompt": prompt, "filename": "img/bar.png", "source": "COCO"}) + "\n")
    return root


def write_threedsr(folder):
    img = base64.b64encode(_bar_png()).decode()
    rows = [("K1", "Is the red bar on the left of the picture?", "yes", "no", "A", "orientation_on_the_left"),
            ("K1-1", "Is the red bar on the left of the picture?", "no", "yes", "B", "orientation_on_the_left"),
            ("H1", "How many red bars are there?", "2", "3", "B", "height_higher")]
    path = folder / "3dsr" / "3dsrbench_v1_vlmevalkit_circular.tsv"
    path.parent.mkdir(parents=True)
    cols = ["index", "qid", "question", "A", "B", "C", "D", "answer", "category", "image"]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, cols, delimiter="\t")
        w.writeheader()
        for i, (qid, q, a, b, ans, cat) in enumerate(rows):
            w.writerow({"index": i, "qid": qid, "question": q, "A": a, "B": b, "C": "", "D": "", "answer": ans,
                        "category": cat, "image": img})
    return path


def write_robospatial(folder):
    root = folder / "robospatial"
    (root / "images").mkdir(parents=True)
    (root / "images" / "bar.png").write_bytes(_bar_png())
    rows = [
        {"category": "configuration", "question": "Is the red bar to the left of the image centre? Answer yes or no.",
         "answer": "Yes"},
        {"category": "context", "question": "Pinpoint several points within the vacant space situated to the left of "
         "the centre. Your answer should be formatted as a list of tuples, i.e. [(x1, y1), ...].",
         "answer": "[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]"},
        {"category": "compatibility", "question": "Is the brand on the box readable? Answer yes or no.", "answer": "no"},
    ]
    for r in rows:
        r.update(img="images/bar.png", depth_image=None, mask=None)
    (root / "annotations.json").write_text(json.dumps(rows))
    return root


WRITERS = {"cvbench": write_cvbench, "threedsr": write_threedsr, "robospatial": write_robospatial}


def _run(tmp_path, name, runner):
    src = WRITERS[name](tmp_path / runner.name)
    res = evaluate("m", [name], runner=runner, sources={name: str(src)}, out=tmp_path / f"out-{runner.name}", mirror=True)
    return res["benchmarks"][name]["mirror"], res


def test_cvbench_mirrored_samples_prompts_and_images(tmp_path):
    bench = get_benchmark("cvbench")
    samples = bench.load(str(write_cvbench(tmp_path)))
    mirrored, rejected = build_mirrored(bench, samples)
    assert rejected == {"3": "text in the image (a flip mirrors the glyphs; reading and writing direction)"}
    m = {s.id: s for s in mirrored}
    assert m["0-m"].choices == ["right", "left"] and m["0-m"].answer == "A"  # options rewritten in place
    mb = mirrored_benchmark(bench)
    assert mb.build_prompt(m["0-m"]).splitlines()[1:3] == ["(A) right", "(B) left"]
    assert m["2-m"].meta["mirror_status"] == "unchanged"
    assert _red_on_left(bench.load_images(samples[0])[0]) and not _red_on_left(mb.load_images(m["0-m"])[0])
    assert bench.build_prompt(samples[0]).splitlines()[1] == "(A) left"  # the original is untouched


def test_cvbench_always_left_is_inconsistent_and_looking_is_consistent(tmp_path):
    block, _ = _run(tmp_path, "cvbench", AlwaysRunner("left"))
    # Relation: "left" is option A then B on the mirrored options; Count: "left" parses to no option
    assert (block["n_pairs"], block["n_rejected"], block["consistency"]) == (3, 1, 0.0)
    assert block["by_task"]["Relation"]["consistency"] == 0.0 and block["by_task"]["Relation"]["n_rejected"] == 1
    assert block["rejected_reasons"] == {"text in the image (a flip mirrors the glyphs; reading and writing direction)": 1}
    block, _ = _run(tmp_path, "cvbench", LookingRunner())
    assert block["consistency"] == 1.0 and block["accuracy"] == 2 / 3 and block["mirrored_accuracy"] == 2 / 3
    # always "A": the same letter on both views is the mirrored option, so it is consistent
    block, _ = _run(tmp_path, "cvbench", AlwaysRunner("A"))
    assert block["consistency"] == 1.0 and block["by_task"]["Relation"]["accuracy"] == 0.5


def test_threedsr_hand_counted(tmp_path):
    block, _ = _run(tmp_path, "threedsr", LookingRunner())
    assert block["n_pairs"] == 3 and block["by_task"]["orientation_on_the_left"]["consistency"] == 1.0
    assert block["by_task"]["orientation_on_the_left"]["mirrored_accuracy"] == 1.0
    # per main type too: "How many red bars" -> "2" is option A of (2, 3), the answer is B
    assert block["by_type"]["height"] == {"n_pairs": 1, "n_rejected": 0, "accuracy": 0.0, "mirrored_accuracy": 0.0,
                                          "consistency": 1.0}
    block, _ = _run(tmp_path, "threedsr", AlwaysRunner("left"))
    assert block["consistency"] == 0.0  # "left" is no option of a yes/no or count question


def test_robospatial_points_and_yes_no(tmp_path):
    block, res = _run(tmp_path, "robospatial", LookingRunner())
    # configuration and context mirror; the brand question is text in the image
    assert (block["n_pairs"], block["n_rejected"], block["consistency"]) == (2, 1, 1.0)
    assert block["by_task"]["context"]["mirrored_accuracy"] == 1.0  # the polygon was mirrored with the image
    block, _ = _run(tmp_path, "robospatial", AlwaysRunner("left"))
    assert block["consistency"] == 0.0  # two wrong answers that do not map onto each other
    block, _ = _run(tmp_path, "robospatial", AlwaysRunner("yes"))
    assert block["by_task"]["configuration"]["consistency"] == 1.0  # the same truth value on both views


def test_reports_show_consistency(tmp_path):
    _, res = _run(tmp_path, "cvbench", LookingRunner())
    out = tmp_path / "out-looking"
    summary = json.loads((out / "results.json").read_text())
    assert summary["benchmarks"]["cvbench"]["aggregate"]["mirror"]["consistency"] == 1.0
    html = (out / "report.html").read_text()
    assert "mirror consistency" in html and "text in the image" in html
    md = (out / "results.md").read_text()
    assert "| Relation | 2 | 1 | 100.00 | 100.00 | 100.00 |" in md and "| Count | 1 | 0 | 0.00 | 0.00 | 100.00 |" in md
    assert (out / "per_sample" / "cvbench-mirrored.jsonl").is_file()


@pytest.mark.parametrize("o, m, same", [
    ({"parsed": "A"}, {"parsed": "A"}, True),
    ({"parsed": "left"}, {"parsed": "right"}, True),  # a label answer is mapped back
    ({"parsed": "left"}, {"parsed": "left"}, False),
    ({"pred_value": 2.0}, {"pred_value": 3.9}, True),  # within the default factor 2
    ({"pred_value": 2.0}, {"pred_value": 4.0}, False),
    ({"correct": True}, {"correct": True}, True),
    ({"correct": True}, {"correct": False}, False),
    ({"correct": False, "prediction": "no"}, {"correct": False, "prediction": "No."}, True),
    ({"correct": False, "prediction": "on the left"}, {"correct": False, "prediction": "on the left"}, False),
    ({"correct": False, "prediction": "on the left"}, {"correct": False, "prediction": "on the right"}, True),
    ({"parsed": "A", "missing": True}, {"parsed": "A"}, False),
])
def test_pair_consistency_rules(o, m, same):
    assert pair_consistent(o, m) is same


def test_cli_eval_mirror_on_tiny_qwen(tmp_path, tiny_qwen_path):
    from typer.testing import CliRunner

    from spatialforge.cli import app

    src = write_cvbench(tmp_path)
    res = CliRunner().invoke(app, ["eval", "--model", str(tiny_qwen_path), "--benchmarks", "cvbench", "--source",
                                   f"cvbench={src}", "--out", str(tmp_path / "out"), "--mirror", "--max-new-tokens", "4"])
    assert res.exit_code == 0, res.output
    block = json.loads((tmp_path / "out" / "results.json").read_text())["benchmarks"]["cvbench"]["aggregate"]["mirror"]
    assert block["n_pairs"] == 3 and block["n_rejected"] == 1 and 0.0 <= block["consistency"] <= 1.0
    assert "mirror consistency" in res.output
