"""Every endpoint of the app through ``gradio_client``, as a script or another page would call it,
checked against the files the project wrote (Parquet rows, eval results)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from tests.fixtures_http import fake_openai, last_user_text  # noqa: F401


def _rows(dataset):
    return [r for p in sorted((dataset / "data").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]


def _choices(update):
    return [c[0] for c in update["choices"]]


def test_load_dataset_counts_every_record(client, dataset):
    rows = _rows(dataset)
    summary, task, level, fmt, view, record, count = client.predict(str(dataset), api_name="/load_dataset")
    assert summary.startswith(f"**{len(rows)} records**") and count == f"{len(rows)} records match"
    assert _choices(record) == [r["id"] for r in rows] and record["value"] == rows[0]["id"]
    assert _choices(task) == ["all"] + sorted({r["task"] for r in rows})
    assert _choices(view) == ["all", "mirrored", "original"]
    # the dataset's parent works too (make demo writes demo_out/data)
    assert client.predict(str(dataset.parent), api_name="/load_dataset")[-1] == count


def test_filter_records_matches_the_rows(client, dataset):
    rows = _rows(dataset)
    record, count = client.predict(str(dataset), "direction", "all", "all", "mirrored", api_name="/filter_records")
    want = [r["id"] for r in rows if r["task"] == "direction" and r["view"] == "mirrored"]
    assert want and _choices(record) == want and count == f"{len(want)} records match"
    record, count = client.predict(str(dataset), "all", "0", "all", "all", api_name="/filter_records")
    assert _choices(record) == [r["id"] for r in rows if r["level"] == 0]


def test_show_record_is_the_parquet_row_and_its_partner(client, dataset):
    import trimesh

    rows = _rows(dataset)
    row = next(r for r in rows if r["task"] == "direction" and r["view"] == "original")
    partner = next(r for r in rows if r["pair_id"] == row["pair_id"] and r["id"] != row["id"])
    img, q, a, p_img, pq_, pa, info, glb = client.predict(str(dataset), row["id"], api_name="/show_record")
    assert (q, a) == (row["question"], row["answer"]) and (pq_, pa) == (partner["question"], partner["answer"])
    assert f"task **{row['task']}**" in info
    raw = np.asarray(Image.open(__import__("io").BytesIO(row["image"]["bytes"])).convert("RGB"))
    shown = np.asarray(Image.open(img).convert("RGB"))
    k = shown.shape[1] // raw.shape[1]  # small views are shown scaled up by a whole factor
    drawn = shown[::k, ::k]
    assert k >= 1 and shown.shape == (raw.shape[0] * k, raw.shape[1] * k, 3)
    assert (drawn != raw).any(axis=-1).mean() > 0.01  # boxes drawn on the view
    mirrored = np.asarray(Image.open(p_img).convert("RGB"))[::k, ::k].astype(int)
    # the partner shows the flipped view (its boxes aside)
    assert np.abs(mirrored - raw[:, ::-1]).mean() < 0.5 * np.abs(mirrored - raw).mean()
    mesh = trimesh.load(glb, force="mesh")
    assert len(mesh.vertices) == 8 * 2  # both objects of the scene, 8 corners each


@pytest.mark.parametrize("call, message", [
    (lambda c, ds: c.predict(str(ds / "scenes"), api_name="/load_dataset"), "not a dataset folder"),
    (lambda c, ds: c.predict(str(ds / "nope"), api_name="/load_dataset"), "not a folder"),
    (lambda c, ds: c.predict(str(ds), "no-such-id", api_name="/show_record"), "record 'no-such-id': not in"),
])
def test_explore_bad_input_is_one_line(client, dataset, call, message):
    with pytest.raises(AppError) as e:
        call(client, dataset)
    assert message in str(e.value) and "Traceback" not in str(e.value)


def test_ask_generates_the_engines_questions(client, photo, perception_cfg, tmp_path):
    from spatialforge.datasets.parquet import iter_rows
    from spatialforge.sources.images import generate_from_images

    boxes, depth, table, status = client.predict(handle_file(str(photo)), 4, "", "", api_name="/ask")
    (tmp_path / "images").mkdir()
    shutil.copy(photo, tmp_path / "images" / "image.png")  # the name the app gives the upload
    generate_from_images(tmp_path / "images", perception_cfg, tmp_path / "ds", mirror=True, qa_per_scene=4, seed=0)
    want = [[r["id"], r["view"], r["task"], r["format"], r["question"], r["answer"]]
            for r in iter_rows(tmp_path / "ds", columns=["id", "view", "task", "format", "question", "answer"])]
    assert want and table["data"] == want
    assert table["headers"] == ["id", "view", "task", "format", "question", "generated answer"]
    assert status.startswith(f"{len(want)} questions ({len(want) // 2} mirrored pairs)")
    d = np.asarray(Image.open(depth).convert("RGB"))
    assert d.shape == (240, 320, 3) and len(np.unique(d.reshape(-1, 3), axis=0)) > 20  # 160x120 shown x2
    assert np.asarray(Image.open(boxes)).shape[:2] == (240, 320)


def _view_of(payload, photo: np.ndarray) -> str:
    """Which view the request shows: the uploaded photo or its mirror (the closer one)."""
    import base64
    import io

    url = next(p["image_url"]["url"] for p in payload["messages"][-1]["content"] if p.get("type") == "image_url")
    im = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"), float)
    return "original" if np.abs(im - photo).mean() <= np.abs(im - photo[:, ::-1]).mean() else "mirrored"


def test_ask_scores_a_served_model_on_the_image_and_its_mirror(client, photo, fake_openai, monkeypatch):  # noqa: F811
    pixels = np.asarray(Image.open(photo).convert("RGB"), float)
    truth = {}  # (question, view) -> the generated answer: this model answers every question right
    fake_openai.responder = lambda payload: truth.get((last_user_text(payload).strip(), _view_of(payload, pixels)),
                                                      "no idea")
    _, _, table, _ = client.predict(handle_file(str(photo)), 3, "", "", api_name="/ask")
    truth.update({(row[4], row[1]): row[5] for row in table["data"]})
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-in-env")
    _, _, table, verdict = client.predict(handle_file(str(photo)), 3, "served-model", fake_openai.base_url,
                                          api_name="/ask")
    n = len(table["data"])
    assert table["headers"][-3:] == ["model answer", "correct", "mirror consistent"]
    assert [r[6] for r in table["data"]] == [r[5] for r in table["data"]]  # model answer == generated answer
    assert all(r[7] is True and r[8] is True for r in table["data"])
    assert f"correct on the image: {n // 2}/{n // 2}; on its mirror: {n // 2}/{n // 2}" in verdict
    assert f"mirror-consistent pairs: {n // 2}/{n // 2}" in verdict
    assert "sk-secret-in-env" not in json.dumps(table) + verdict
    assert fake_openai.requests[0]["headers"].get("Authorization") == "Bearer sk-secret-in-env"
    # a model that answers nothing usable: every row wrong, no pair consistent
    truth.clear()
    _, _, table, verdict = client.predict(handle_file(str(photo)), 3, "served-model", fake_openai.base_url,
                                          api_name="/ask")
    assert all(r[6] == "no idea" and r[7] is False and r[8] is False for r in table["data"])
    assert f"mirror-consistent pairs: 0/{n // 2}" in verdict


def test_ask_bad_inputs_are_one_line(client, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_text("not an image")
    with pytest.raises(AppError, match="^uploaded image: broken.png: unreadable image") as e:
        client.predict(handle_file(str(bad)), 2, "", "", api_name="/ask")
    assert "\n" not in str(e.value).strip() and "spatialforge-ask-" not in str(e.value)
    with pytest.raises(AppError, match="no such checkpoint folder"):
        client.predict(handle_file(str(bad)), 2, str(tmp_path / "missing"), "", api_name="/ask")


def test_compare_shows_the_results_numbers_and_the_differing_samples(client, eval_runs):
    a, b, wrong = eval_runs
    metrics, samples, status = client.predict(str(a), str(b), api_name="/compare")
    agg_b = json.loads((b / "results.json").read_text())["benchmarks"]["synthetic"]["aggregate"]
    rows = {(r[1], r[2]): r for r in metrics["data"]}
    overall = rows[("overall", "accuracy")]
    assert overall[4] == 1.0 and overall[5] == pytest.approx(agg_b["overall"]) and agg_b["overall"] < 1
    assert overall[6] == pytest.approx(agg_b["overall"] - 1.0)
    for task, t in agg_b["by_task"].items():
        assert rows[("per task", task)][3:6] == [t["n"], 1.0, pytest.approx(t["accuracy"])]
    assert rows[("per task", "distance")][5] < 1 and rows[("per task", "counting")][5] == 1.0
    assert {r[1] for r in samples["data"]} == wrong
    assert all(r[6] is True and r[8] is False and r[7] == "I cannot tell" for r in samples["data"])
    assert status.endswith(f"{len(wrong)} samples differ")


def test_compare_needs_eval_folders(client, dataset, eval_runs):
    with pytest.raises(AppError, match="no results.json"):
        client.predict(str(dataset), str(eval_runs[1]), api_name="/compare")


def test_ask_a_local_tiny_checkpoint(client, photo, tmp_path, monkeypatch):
    """The transformers runner on ``tiny:qwen2_5_vl`` (random weights: answers are noise, so the
    check is that every row is scored and the verdict counts the table's own verdicts)."""
    monkeypatch.setenv("SPATIALFORGE_CACHE", str(tmp_path / "cache"))
    _, _, table, verdict = client.predict(handle_file(str(photo)), 2, "tiny:qwen2_5_vl", "", api_name="/ask")
    rows = table["data"]
    assert rows and all(isinstance(r[6], str) and isinstance(r[7], bool) and isinstance(r[8], bool) for r in rows)
    right = {v: sum(r[7] for r in rows if r[1] == v) for v in ("original", "mirrored")}
    half = len(rows) // 2
    assert f"correct on the image: {right['original']}/{half}; on its mirror: {right['mirrored']}/{half}" in verdict
    assert f"mirror-consistent pairs: {sum(r[8] for r in rows if r[1] == 'original')}/{half}" in verdict
