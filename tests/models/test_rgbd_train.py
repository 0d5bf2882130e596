"""RGB-D integration: SFT with point maps from the dataset's depth columns, evaluation runner."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import TrainerCallback

from spatialforge.errors import ConfigError
from spatialforge.eval.runners import GenRequest, TransformersRunner
from spatialforge.models.loading import load_processor, load_vlm
from spatialforge.models.rgbd import MissingPointMapsError, convert_base_checkpoint, from_base
from spatialforge.scene import Camera
from spatialforge.train.config import LoraOptions
from spatialforge.train.recipes import recipe_from_dict
from spatialforge.train.sft import build_sft_trainer
from tests.fixtures_models import make_image, tiny_paligemma_path, tiny_qwen_path  # noqa: F401

W, H = 56, 42
CAM = Camera(fx=60.0, fy=60.0, cx=28.0, cy=21.0, width=W, height=H)


def write_depth_dataset(root, n: int = 8):
    """A ``spatialforge generate``-like folder: data/shard-00000.parquet rows referencing
    depth/*.npy by relative path, with the view's intrinsics and ``flipped``."""
    from datasets import Dataset

    (root / "depth").mkdir(parents=True)
    rows = []
    rng = np.random.default_rng(0)
    for i in range(n):
        depth = rng.uniform(1.0, 4.0, (H, W)).astype(np.float32)
        depth[: H // 4] = 0.0  # a band of missing depth
        np.save(root / "depth" / f"s{i}.npy", depth)
        rows.append({"image": make_image(i, (W, H)), "question": f"How far is the chair {i}?",
                     "answer": f"{1 + i * 0.5:.1f} m", "task": "relative_distance", "depth_path": f"depth/s{i}.npy",
                     "fx": CAM.fx, "fy": CAM.fy, "cx": CAM.cx if i % 2 == 0 else W - CAM.cx, "cy": CAM.cy,
                     "flipped": i % 2 == 1})  # fmt: skip
    (root / "data").mkdir()
    Dataset.from_list(rows).to_parquet(str(root / "data" / "shard-00000.parquet"))
    return root


def sft_recipe(model_dir, data_dir, out_dir, **training):
    return recipe_from_dict({
        "kind": "sft",
        "model": {"name_or_path": str(model_dir), "dtype": "float32"},
        "data": {"train": str(data_dir), "prompt": "plain"},
        "training": {"output_dir": str(out_dir), "use_cpu": True, "bf16": False, "gradient_checkpointing": False,
                     "per_device_train_batch_size": 4, "learning_rate": 1e-2, "max_steps": 2, "max_length": None,
                     "logging_steps": 1, "save_strategy": "no", "report_to": "none", **training},
    })  # fmt: skip


class Snapshot(TrainerCallback):
    def __init__(self, model):
        self.model, self.steps = model, []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append({n: p.detach().clone() for n, p in self.model.named_parameters()})


@pytest.mark.parametrize("fixture", ["tiny_qwen_path", "tiny_paligemma_path"])
def test_sft_steps_with_point_maps_train_the_point_branch(fixture, request, tmp_path):
    model_dir = convert_base_checkpoint(request.getfixturevalue(fixture), tmp_path / "rgbd")
    data_dir = write_depth_dataset(tmp_path / "ds")
    trainer = build_sft_trainer(sft_recipe(model_dir, data_dir, tmp_path / "out"))
    batch = next(iter(trainer.get_train_dataloader()))
    pm = batch["point_maps"]
    if "image_grid_thw" in batch:  # Qwen: one 28 px unit per image token
        assert pm.shape[1:] == (4, 28, 28) and pm.shape[0] == int((batch["image_grid_thw"].prod(-1) // 4).sum())
    else:  # PaliGemma: one map per image, at the processed size
        assert pm.shape == (batch["pixel_values"].shape[0], 4, *batch["pixel_values"].shape[-2:])
    share_valid = pm[:, 3].mean().item()
    assert 0.5 < share_valid < 0.95  # the zero-depth band is invalid, the rest valid

    model = trainer.model
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    snap = Snapshot(model)
    trainer.add_callback(snap)
    trainer.train()
    point_half, conv = "model.point_projector.weight", "model.point_encoder.patchify.weight"
    first, second = snap.steps
    assert not torch.equal(first[point_half], before[point_half])  # step 1: the zero point half moves
    assert torch.equal(first[conv], before[conv])  # (its gradient passes through the zero point half)
    assert not torch.equal(second[conv], before[conv])  # step 2: now the conv learns too
    projector = "model.visual.merger.mlp.0.weight" if "image_grid_thw" in batch else "model.multi_modal_projector.linear.weight"
    for name in (projector, "model.language_model.layers.0.mlp.up_proj.weight"):
        assert not torch.equal(second[name], before[name]), name
    frozen = [n for n in before if n.startswith(("model.visual.", "model.vision_tower.")) and ".merger." not in n]
    assert frozen and all(torch.equal(second[n], before[n]) for n in frozen)


def test_sft_without_depth_needs_an_estimator(tmp_path, tiny_qwen_path):
    from datasets import Dataset

    model_dir = convert_base_checkpoint(tiny_qwen_path, tmp_path / "rgbd")
    Dataset.from_list([{"image": make_image(i), "question": "How far?", "answer": "1 m"} for i in range(4)]
                      ).to_parquet(str(tmp_path / "plain.parquet"))  # fmt: skip
    recipe = sft_recipe(model_dir, tmp_path / "plain.parquet", tmp_path / "out", max_steps=1)
    with pytest.raises(ConfigError, match=r"data.train: 4 of 4 rows \(e.g. row 0\) have no depth.*estimator"):
        build_sft_trainer(recipe)  # at start-up, not when the first row is drawn
    calls = []

    def estimator(image):
        calls.append(image.size)
        return np.dstack([np.zeros((image.size[1], image.size[0], 2)), np.full((image.size[1], image.size[0]), 2.0)])

    trainer = build_sft_trainer(recipe, point_map_estimator=estimator)
    trainer.train()
    assert len(calls) == 4 and trainer.state.global_step == 1


@pytest.mark.parametrize("fixture", ["tiny_paligemma_path", "tiny_qwen_path"])
def test_runner_feeds_point_maps_from_the_request(fixture, request):
    path = request.getfixturevalue(fixture)
    image = make_image(3, (W, H))
    depth = np.random.default_rng(1).uniform(1, 3, (H, W))
    reqs = [GenRequest("a", "How far is the chair?", [image], extra={"point_map": {"depth": depth, "camera": CAM}}),
            GenRequest("b", "How tall is the lamp?", [make_image(4)], extra={"point_map": np.ones((56, 56, 3))})]
    rgbd = TransformersRunner(from_base(path), load_processor(path))
    base = TransformersRunner(load_vlm(path), load_processor(path))
    # At initialisation the RGB-D model answers exactly like its base.
    assert rgbd.generate(reqs, max_new_tokens=6) == base.generate(reqs, max_new_tokens=6)

    missing = [GenRequest("d", "Where?", [image])]
    with pytest.raises(MissingPointMapsError, match="estimator"):
        rgbd.generate(missing, max_new_tokens=2)
    seen = []
    rgbd.point_map_estimator = lambda im: seen.append(im) or np.ones((im.size[1], im.size[0], 3))
    assert len(rgbd.generate(missing, max_new_tokens=2)) == 1 and seen == [image]


@pytest.mark.parametrize("fixture", ["tiny_qwen_path", "tiny_paligemma_path"])
def test_lora_trains_the_point_branch(fixture, request, tmp_path):
    model_dir = convert_base_checkpoint(request.getfixturevalue(fixture), tmp_path / "rgbd")
    recipe = sft_recipe(model_dir, write_depth_dataset(tmp_path / "ds", n=4), tmp_path / "out")
    recipe.lora = LoraOptions(r=4, alpha=8, dropout=0.0)
    trainer = build_sft_trainer(recipe)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()  # 2 steps: the zero point half moves first, then the conv behind it
    changed = {n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])}
    for name in ("point_projector.modules_to_save.default.weight",
                 "point_encoder.modules_to_save.default.patchify.weight"):
        assert any(n.endswith(name) for n in changed), name
    assert not any("point_" in n and "lora_" in n for n in before)  # no adapters on the branch
    assert any("lora_" in n for n in changed)


def test_general_vqa_rows_get_an_all_invalid_point_map(tmp_path, tiny_qwen_path):
    from datasets import Dataset

    model_dir = convert_base_checkpoint(tiny_qwen_path, tmp_path / "rgbd")
    Dataset.from_list([{"image": make_image(10 + i), "question": "What colour is it?", "answer": "red"}
                       for i in range(4)]).to_parquet(str(tmp_path / "general.parquet"))  # fmt: skip
    recipe = sft_recipe(model_dir, write_depth_dataset(tmp_path / "ds"), tmp_path / "out", max_steps=1,
                        per_device_train_batch_size=9)
    recipe.data.general = str(tmp_path / "general.parquet")
    trainer = build_sft_trainer(recipe)  # no estimator: general rows are marked, spatial rows have depth
    rows = list(trainer.train_dataset)
    general = [r for r in rows if r["no_depth"]]
    assert len(rows) == 9 and len(general) == 1  # 1 general : 7 spatial (8 spatial rows)
    pm = trainer.data_collator(general)["point_maps"]
    assert pm.shape[0] == 4 and pm.abs().sum() == 0  # xyz 0 and validity 0 for each of its 4 image tokens
    spatial = trainer.data_collator([r for r in rows if not r["no_depth"]][:1])["point_maps"]
    assert spatial[:, 3].mean() > 0.5
    trainer.train()  # one step over all 9 rows
    assert trainer.state.global_step == 1
