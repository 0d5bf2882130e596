import json
import re

import numpy as np
import pytest
from PIL import Image

from spatialforge.datasets import THINK_SUFFIX, export_llava, export_trl, generate_dataset, load_trl_dataset


def _helpers():
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location("_sf_ds_conftest", pathlib.Path(__file__).with_name("conftest.py"))
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    return helpers


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    # module-scoped: build once (fixtures from conftest are function-scoped, so import the helpers)
    helpers = _helpers()
    tmp = tmp_path_factory.mktemp("export")
    for i in range(2):
        helpers.make_scene(tmp / "src", i)
    out = tmp / "ds"
    generate_dataset(out, source="folder", scenes_dir=tmp / "src", qa_per_scene=3, mirror=True,
                     generator=helpers.stub_generate)
    return out


def _tiny_chat_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    template = (
        "{% for m in messages %}<|{{ m.role }}|>{% if m.content is string %}{{ m.content }}{% else %}"
        "{% for p in m.content %}{% if p.type == 'image' %}<image>{% else %}{{ p.text }}{% endif %}{% endfor %}"
        "{% endif %}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", chat_template=template)


def test_trl_export_matches_trl_vision_format(built, tmp_path):
    from trl.data_utils import is_conversational, maybe_apply_chat_template, prepare_multimodal_messages

    files = export_trl(built)
    assert [f.name for f in files] == ["shard-00000.parquet"]
    ds = load_trl_dataset(built, cache_dir=tmp_path / "cache")
    assert len(ds) == 12
    ex = ds[0]
    assert isinstance(ex["images"][0], Image.Image) and ex["images"][0].size == (64, 48)
    user, = ex["prompt"]
    assert user["role"] == "user" and user["content"][0]["type"] == "image"
    assert user["content"][1] == {"type": "text", "text": ex["question"]}
    assert ex["completion"] == [{"role": "assistant", "content": [{"type": "text", "text": ex["answer"]}]}]
    assert is_conversational(ex)
    # TRL's collators fill the placeholders with the images
    filled = prepare_multimodal_messages(ex["prompt"], images=ex["images"])
    assert filled[0]["content"][0]["image"] is ex["images"][0]
    out = maybe_apply_chat_template({k: ex[k] for k in ("prompt", "completion")}, _tiny_chat_tokenizer())
    assert out["prompt"] == f"<|user|><image>{ex['question']}<|assistant|>"  # HF jinja: trim_blocks
    assert ex["answer"] in out["completion"]
    # reward columns travel along; the mirrored example carries the flipped image
    rows = {r["id"]: r for r in ds}
    m, o = rows["scene_000-001-m"], rows["scene_000-001-o"]
    assert m["pair_id"] == o["pair_id"] and m["view"] == "mirrored"
    assert (np.asarray(m["images"][0]) == np.asarray(o["images"][0])[:, ::-1]).all()
    assert json.loads(m["answer_struct"])["kind"] in ("label", "choice", "boolean")


def test_trl_think_suffix(built, tmp_path):
    files = export_trl(built, tmp_path / "trl_think", think=True)
    import pyarrow.parquet as pq

    row = pq.read_table(files[0], columns=["prompt", "completion", "answer"]).to_pylist()[0]
    assert row["prompt"][0]["content"][1]["text"].endswith(THINK_SUFFIX)
    text = row["completion"][0]["content"][0]["text"]
    assert text.startswith("<think>x = ") and text.endswith(f"<answer>{row['answer']}</answer>")


def test_llava_export(built):
    path = export_llava(built)
    data = json.loads(path.read_text())
    assert len(data) == 12
    e = next(d for d in data if d["id"] == "scene_001-002-m")
    assert set(e) == {"id", "image", "conversations"}
    human, gpt = e["conversations"]
    assert human["from"] == "human" and human["value"].startswith("<image>\n")
    assert gpt["from"] == "gpt" and gpt["value"] in ("left", "right", "A", "B", "yes", "no")
    assert re.fullmatch(r"images/scene_001_mirrored_[0-9a-f]{16}\.png", e["image"])
    o = next(d for d in data if d["id"] == "scene_001-002-o")
    a = np.asarray(Image.open(path.parent / o["image"]))
    b = np.asarray(Image.open(path.parent / e["image"]))
    assert a.shape == (48, 64, 3) and (b == a[:, ::-1]).all()
    assert len(list((path.parent / "images").glob("*.png"))) == 4  # one file per scene view


@pytest.fixture(scope="module")
def highlighted(tmp_path_factory):
    """A dataset whose first mirrored pair of each scene names the chair by a red box."""
    from dataclasses import replace

    helpers = _helpers()
    tmp = tmp_path_factory.mktemp("export_hl")
    for i in range(2):
        helpers.make_scene(tmp / "src", i)

    def gen(scene, **kw):
        res = helpers.stub_generate(scene, **kw)
        out = []
        for r in res.records:
            if r.id.startswith(f"{scene.id}-000"):
                o = scene.mirrored().object(1) if r.flipped else scene.object(1)
                hl = [{"object_id": 1, "color": "red", "rgb": [255, 0, 0], "box2d": [float(v) for v in o.box2d]}]
                r = replace(r, meta={**r.meta, "highlight": hl})
            out.append(r)
        return type(res)(records=out, skipped=res.skipped)

    out = tmp / "ds"
    generate_dataset(out, source="folder", scenes_dir=tmp / "src", qa_per_scene=3, mirror=True, generator=gen)
    return out


def _expected_pixels(root, row):
    """The view's pixels, with the record's highlighted boxes drawn (``tasks.highlight``)."""
    from spatialforge.tasks.highlight import draw_highlights

    src = np.asarray(Image.open(root / "scenes" / "images" / f"{row['scene_id']}.png").convert("RGB"))
    view = np.ascontiguousarray(src[:, ::-1]) if row["flipped"] else src
    hl = json.loads(row["meta"]).get("highlight")
    return draw_highlights(view, hl) if hl else view


def test_highlighted_records_get_their_own_image_in_both_exports(highlighted, tmp_path):
    from spatialforge.datasets import iter_rows

    rows = {r["id"]: r for r in iter_rows(highlighted)}
    hl_ids = {i for i, r in rows.items() if '"highlight"' in r["meta"]}
    assert len(hl_ids) == 4  # 2 scenes x (original + mirrored)
    data = json.loads(export_llava(highlighted).read_text())
    assert len(data) == len(rows) == 12
    for e in data:  # every entry's file holds exactly its record's image
        img = np.asarray(Image.open(highlighted / "exports" / "llava" / e["image"]).convert("RGB"))
        assert (img == _expected_pixels(highlighted, rows[e["id"]])).all(), e["id"]
    assert len({e["image"] for e in data}) == 8  # 2 scenes x 2 views x (plain, highlighted)
    ds = load_trl_dataset(highlighted, cache_dir=tmp_path / "cache")
    assert len(ds) == 12
    for ex in ds:
        img = np.asarray(ex["images"][0].convert("RGB"))
        assert (img == _expected_pixels(highlighted, rows[ex["id"]])).all(), ex["id"]
        assert (img == (255, 0, 0)).all(-1).any() == (ex["id"] in hl_ids)
