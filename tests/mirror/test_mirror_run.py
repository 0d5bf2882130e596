"""`spatialforge mirror`: every input format round-trips into originals + mirrored partners."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from spatialforge.datasets.parquet import iter_rows
from spatialforge.errors import ConfigError
from spatialforge.mask_rle import MaskRLE
from spatialforge.mirror.regions import coco_counts_from_string, coco_counts_to_string
from spatialforge.mirror.run import run_mirror

Q, A = "Is the red bar on the left of the image?", "Yes, it is on the left."


def _image() -> np.ndarray:
    img = np.zeros((4, 6, 3), np.uint8)
    img[:, 0] = (255, 0, 0)  # a red bar in the first column
    return img


def _png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_image()).save(buf, format="PNG")
    return buf.getvalue()


def _write(kind, d):
    Image.fromarray(_image()).save(d / "a.png")
    sign = ("What does the sign say?", "STOP")
    if kind == "osd":  # SpatialRGPT Open Spatial Dataset: <mask> tokens name the regions in order
        p = d / "osd.json"
        conv = [{"from": "human", "value": "<image>\n" + Q.replace("the red bar", "<mask>")},
                {"from": "gpt", "value": A}, {"from": "human", "value": sign[0]}, {"from": "gpt", "value": sign[1]}]
        bar = MaskRLE.encode(_image()[..., 1] == 0)  # the red column
        p.write_text(json.dumps([{"id": "r", "filename": "a.png", "conversations": conv, "bbox": [[0, 0, 1, 4]],
                                  "rle": [{"size": [4, 6], "counts": coco_counts_to_string(bar.counts)}]}]))
    elif kind == "llava":
        p = d / "in.json"
        conv = [{"from": "human", "value": "<image>\n" + Q}, {"from": "gpt", "value": A},
                {"from": "human", "value": sign[0]}, {"from": "gpt", "value": sign[1]}]
        p.write_text(json.dumps([{"id": "r", "image": "a.png", "conversations": conv}]))
    elif kind in ("messages", "hf_messages"):
        msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": Q}]},
                {"role": "assistant", "content": [{"type": "text", "text": A}]},
                {"role": "user", "content": [{"type": "text", "text": sign[0]}]},
                {"role": "assistant", "content": [{"type": "text", "text": sign[1]}]}]
        if kind == "messages":
            p = d / "in.jsonl"
            p.write_text(json.dumps({"id": "r", "messages": msgs, "images": ["a.png"]}) + "\n")
        else:
            import datasets

            p = d / "hf"
            datasets.Dataset.from_dict({"id": ["r"], "messages": [msgs], "images": [[_png()]]}).save_to_disk(str(p))
    elif kind == "jsonl":
        p = d / "in.jsonl"
        p.write_text("\n".join(json.dumps({"id": i, "image": "a.png", "question": q, "answer": a})
                               for i, (q, a) in (("r-t0", (Q, A)), ("r-t1", sign))) + "\n{broken\n")
    elif kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        p = d / "in.parquet"
        pq.write_table(pa.Table.from_pylist([{"id": "r-t0", "image": {"bytes": _png(), "path": None}, "question": Q,
                                              "answer": A},
                                             {"id": "r-t1", "image": {"bytes": _png(), "path": None},
                                              "question": sign[0], "answer": sign[1]}]), p)
    elif kind == "hf":
        import datasets

        p = d / "hf"
        ds = datasets.Dataset.from_dict({"id": ["r-t0", "r-t1"], "image": [str(d / "a.png")] * 2,
                                         "question": [Q, sign[0]], "answer": [A, sign[1]]})
        ds.cast_column("image", datasets.Image()).save_to_disk(str(p))
    return p


FORMATS = ["llava", "messages", "jsonl", "parquet", "hf", "hf_messages", "osd"]


@pytest.mark.parametrize("kind", FORMATS)
def test_each_format_round_trips(kind, tmp_path):
    src = _write(kind, tmp_path)
    m = run_mirror(src, tmp_path / "out")
    rows = {r["id"]: r for r in iter_rows(tmp_path / "out")}
    assert set(rows) == {"r-t0", "r-t0-m", "r-t1"}  # the sign question keeps its original, no partner
    orig, mir = rows["r-t0"], rows["r-t0-m"]
    q = Q.replace("the red bar", "<mask>") if kind == "osd" else Q
    assert (orig["question"], orig["answer"]) == (q, A)
    assert mir["question"] == q.replace("left", "right") and mir["answer"] == "Yes, it is on the right."
    assert mir["pair_id"] == orig["pair_id"] == "r-t0" and (orig["view"], mir["view"]) == ("original", "mirrored")
    pix = np.asarray(Image.open(io.BytesIO(mir["image"]["bytes"])))
    assert (pix[:, -1] == (255, 0, 0)).all() and (pix[:, 0] == 0).all()  # flipped: the bar is now on the right
    assert json.loads(mir["meta"])["mirror"]["status"] == "exact-rule"
    assert json.loads(rows["r-t1"]["meta"])["mirror"]["status"] == "rejected"
    assert "text in the image" in m.skipped["r-t1"] and m.done == ["r-t0"]
    assert m.stats["exact-rule"] == 1 and m.stats["rejected"] == 1
    if kind == "jsonl":  # a broken line is listed, not fatal
        assert m.stats["unreadable"] == 1 and any("not JSON" in r for r in m.skipped.values())


def test_osd_regions_are_mirrored_in_place(tmp_path):
    run_mirror(_write("osd", tmp_path), tmp_path / "out", fmt="osd")
    rows = {r["id"]: r for r in iter_rows(tmp_path / "out")}
    orig, mir = (json.loads(rows[i]["meta"])["regions"] for i in ("r-t0", "r-t0-m"))
    assert orig["bbox"] == [[0, 0, 1, 4]] and mir["bbox"] == [[5, 0, 6, 4]]
    runs = coco_counts_from_string(mir["rle"][0]["counts"])  # written back in COCO's string form
    assert (MaskRLE(4, 6, tuple(runs)).decode() == (_image()[..., 1] == 0)[:, ::-1]).all()
    assert json.loads(rows["r-t0"]["meta"])["mirror"]["source"]["format"] == "osd"


def test_osd_images_from_an_image_root(tmp_path):
    src = _write("osd", tmp_path)
    (tmp_path / "imgs").mkdir()
    (tmp_path / "a.png").rename(tmp_path / "imgs" / "a.png")
    m = run_mirror(src, tmp_path / "o1")
    assert m.stats["unreadable"] == 2  # both turns: a.png is not next to the JSON any more
    m = run_mirror(src, tmp_path / "o2", image_root=tmp_path / "imgs")
    assert m.done == ["r-t0"]
    with pytest.raises(ConfigError, match="--image-root"):
        run_mirror(src, tmp_path / "o3", image_root=tmp_path / "nope")


def test_osd_with_more_masks_than_regions_is_listed(tmp_path):
    conv = [{"from": "human", "value": "<image>\nIs <mask> left of <mask>?"}, {"from": "gpt", "value": "yes"}]
    Image.fromarray(_image()).save(tmp_path / "a.jpg")
    (tmp_path / "osd.json").write_text(json.dumps([{"id": "x", "filename": "a", "conversations": conv,
                                                     "bbox": [[0, 0, 1, 1]]}]))
    m = run_mirror(tmp_path / "osd.json", tmp_path / "out")  # auto-detected as osd; "a" -> a.jpg
    assert "2 <mask> tokens but 1 regions" in m.skipped["x"]


@pytest.mark.parametrize("kind", FORMATS)
def test_mirror_twice_is_the_original(kind, tmp_path):
    run_mirror(_write(kind, tmp_path), tmp_path / "out")
    run_mirror(tmp_path / "out" / "data" / "shard-00000.parquet", tmp_path / "back", fmt="parquet")
    first = {r["id"]: r for r in iter_rows(tmp_path / "out")}
    back = {r["id"]: r for r in iter_rows(tmp_path / "back")}
    accepted = [i for i, r in first.items() if r["view"] == "original" and i + "-m" in first]
    assert accepted == ["r-t0"]
    for i in accepted:
        a, b = first[i], back[i + "-m-m"]
        assert (a["question"], a["answer"], a["choices"]) == (b["question"], b["answer"], b["choices"])
        pix = [np.asarray(Image.open(io.BytesIO(r["image"]["bytes"]))) for r in (a, b)]
        assert (pix[0] == pix[1]).all()
        assert json.loads(a["meta"]).get("regions") == json.loads(b["meta"]).get("regions")


def test_our_output_mirrors_back_to_the_original(tmp_path):
    run_mirror(_write("llava", tmp_path), tmp_path / "out")
    run_mirror(tmp_path / "out" / "data" / "shard-00000.parquet", tmp_path / "back", fmt="parquet")
    rows = {r["id"]: r for r in iter_rows(tmp_path / "back")}
    assert rows["r-t0-m-m"]["question"] == Q and rows["r-t0-m-m"]["answer"] == A


def test_output_loads_as_records_and_mcq_letters_stay(tmp_path):
    from spatialforge.datasets.parquet import load_records

    Image.fromarray(_image()).save(tmp_path / "a.png")
    row = {"id": "c", "image": "a.png", "question": "Where is the bar?\nA. left\nB. right", "answer": "A",
           "choices": ["left", "right"]}
    (tmp_path / "in.jsonl").write_text(json.dumps(row))
    run_mirror(tmp_path / "in.jsonl", tmp_path / "out")
    recs = {r.id: r for r in load_records(tmp_path / "out")}
    assert recs["c-m"].answer_struct == {"kind": "choice", "value": "A"} and recs["c-m"].eval_type == "choice"
    assert recs["c-m"].choices == ("right", "left") and recs["c-m"].question.endswith("A. right\nB. left")


def test_unreadable_image_and_bad_options(tmp_path):
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "x", "image": "missing.png", "question": Q, "answer": A}))
    m = run_mirror(tmp_path / "in.jsonl", tmp_path / "out")
    assert "missing.png" in m.skipped["x"] and m.stats["unreadable"] == 1
    with pytest.raises(ConfigError, match="--mode"):
        run_mirror(tmp_path / "in.jsonl", tmp_path / "o2", mode="magic")
    with pytest.raises(ConfigError, match="needs an LLM"):
        run_mirror(tmp_path / "in.jsonl", tmp_path / "o2", mode="llm")
    with pytest.raises(ConfigError, match="not found"):
        run_mirror(tmp_path / "nope.json", tmp_path / "o2")


def test_cli_mirror(tmp_path):
    from typer.testing import CliRunner

    from spatialforge.cli import app

    src = _write("llava", tmp_path)
    res = CliRunner().invoke(app, ["mirror", str(src), "--out", str(tmp_path / "out"), "--format", "llava"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["num_skipped"] == 1
    res = CliRunner().invoke(app, ["mirror", str(src), "--out", str(tmp_path / "o"), "--coords2d", "inch"])
    assert res.exit_code == 2 and "coords2d must be one of" in res.output
    res = CliRunner().invoke(app, ["mirror", str(src), "--out", str(tmp_path / "o"), "--box-format", "ltrb"])
    assert res.exit_code == 2 and "box_format must be one of xyxy, xywh" in res.output


def test_same_input_same_bytes(tmp_path):
    src = _write("llava", tmp_path)
    run_mirror(src, tmp_path / "a")
    run_mirror(src, tmp_path / "b")
    shard = "data/shard-00000.parquet"
    assert (tmp_path / "a" / shard).read_bytes() == (tmp_path / "b" / shard).read_bytes()
