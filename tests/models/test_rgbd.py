"""RGB-D VLMs on tiny real PaliGemma 2 and Qwen2.5-VL checkpoints built offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModelForImageTextToText

from spatialforge.models.loading import load_processor, load_vlm
from spatialforge.models.rgbd import (
    MissingPointMapsError,
    RGBDPaliGemmaForConditionalGeneration,
    RGBDQwen2_5_VLForConditionalGeneration,
    from_base,
    register_auto_classes,
    rgbd_config_from_base,
    takes_point_maps,
)
from spatialforge.models.rgbd_processor import RGBDProcessor
from tests.fixtures_models import make_image, tiny_paligemma_path, tiny_qwen_path  # noqa: F401

MODELS = ["tiny_paligemma_path", "tiny_qwen_path"]


def random_point_map(image, seed: int, invalid_share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) metric points in front of the camera + (H, W) validity, at the image's size."""
    rng = np.random.default_rng(seed)
    w, h = image.size
    pts = rng.normal(size=(h, w, 3)).astype(np.float32) * 2
    pts[..., 2] = np.abs(pts[..., 2]) + 0.5
    return pts, rng.random((h, w)) > invalid_share


def batch_for(path, seed: int = 0, sizes=((56, 56), (84, 56))):
    """A two-sample batch (different image sizes) with random point maps: the processor's
    output plus ``point_maps``."""
    proc = RGBDProcessor(load_processor(path))
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "How far is the chair?"}]}]
    text = proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    images = [make_image(seed + i, size) for i, size in enumerate(sizes)]
    pms = [random_point_map(im, seed + 10 + i) for i, im in enumerate(images)]
    batch = proc(text=[text] * len(images), images=[[im] for im in images], point_maps=pms, padding=True,
                 padding_side="left", return_tensors="pt")  # fmt: skip
    batch.pop("labels", None)
    return dict(batch)


def without_points(batch):
    return {k: v for k, v in batch.items() if k != "point_maps"}


@pytest.fixture(params=MODELS)
def path(request):
    return request.getfixturevalue(request.param)


def test_fused_model_starts_exactly_at_the_base_model(path):
    base, rgbd = load_vlm(path), from_base(path).eval()
    assert takes_point_maps(rgbd) and not takes_point_maps(base)
    for seed in (0, 1):  # any point map: the point half of the projector is zero
        batch = batch_for(path, seed)
        with torch.no_grad():
            ref = base(**without_points(batch)).logits
            out = rgbd(**batch).logits
        assert torch.allclose(out, ref, rtol=1e-6, atol=1e-6), (out - ref).abs().max()
    gen_kw = dict(max_new_tokens=5, do_sample=False)
    assert torch.equal(rgbd.generate(**batch, **gen_kw), base.generate(**without_points(batch), **gen_kw))


def test_the_point_branch_is_used_once_trained(path):
    rgbd = from_base(path).eval()
    with torch.no_grad():
        rgbd.model.point_projector.weight.normal_(0, 0.1)  # stands in for training
        a = rgbd(**batch_for(path, seed=0)).logits
        b_batch = batch_for(path, seed=0)
        b_batch["point_maps"] = batch_for(path, seed=5)["point_maps"]  # same images, other points
        b = rgbd(**b_batch).logits
    assert not torch.allclose(a, b)


def test_gradients_reach_the_branch_and_not_the_vision_encoder(path):
    torch.manual_seed(0)
    rgbd = from_base(path).train()
    batch = batch_for(path)
    labels = batch["input_ids"].clone()
    rgbd(**batch, labels=labels).loss.backward()
    conv, point_half = rgbd.model.point_encoder.patchify.weight, rgbd.model.point_projector.weight
    assert point_half.grad is not None and point_half.grad.abs().sum() > 0
    # The conv's gradient flows through the zero point half: exactly 0 on the first step (as
    # with zero-initialised LoRA B), non-zero once the point half has moved.
    assert conv.grad is not None and torch.all(conv.grad == 0)
    frozen = list(rgbd.vision_encoder_parameters())
    assert frozen and all(not p.requires_grad and p.grad is None for p in frozen)
    projector = rgbd.model.multi_modal_projector if hasattr(rgbd.model, "multi_modal_projector") else rgbd.model.visual.merger
    assert all(p.requires_grad and p.grad is not None for p in projector.parameters())
    assert rgbd.lm_head.weight.grad is not None

    rgbd.zero_grad()
    with torch.no_grad():
        point_half.add_(1e-2 * torch.randn_like(point_half))
    rgbd(**batch, labels=labels).loss.backward()
    assert conv.grad.abs().sum() > 0 and rgbd.model.point_encoder.patchify.bias.grad.abs().sum() > 0


def test_invalid_points_do_not_change_the_features(path):
    rgbd = from_base(path).eval()
    with torch.no_grad():
        rgbd.model.point_projector.weight.normal_(0, 0.1)
    batch = batch_for(path)
    pm = batch["point_maps"]
    invalid = (pm[:, 3] == 0).unsqueeze(1).expand(-1, 3, -1, -1)
    assert invalid.any()
    moved = pm.clone()
    moved[:, :3][invalid] = torch.randn(int(invalid.sum())) * 50
    kw = {k: v for k, v in batch.items() if k in ("pixel_values", "image_grid_thw")}
    with torch.no_grad():
        a = rgbd.model.get_image_features(point_maps=pm, **kw).pooler_output
        b = rgbd.model.get_image_features(point_maps=moved, **kw).pooler_output
        valid_moved = pm.clone()
        valid_moved[:, 2][pm[:, 3] > 0] += 1.0
        c = rgbd.model.get_image_features(point_maps=valid_moved, **kw).pooler_output
    cat = (lambda x: torch.cat(x) if isinstance(x, (tuple, list)) else x)
    assert torch.equal(cat(a), cat(b))
    assert not torch.allclose(cat(a), cat(c))


def test_save_and_load_round_trip(path, tmp_path):
    rgbd = from_base(path, point_encoding="relative_depth", depth_levels=128).eval()
    with torch.no_grad():
        rgbd.model.point_projector.weight.normal_(0, 0.1)
    rgbd.save_pretrained(tmp_path)
    load_processor(path).save_pretrained(tmp_path)
    register_auto_classes()  # the Auto classes below load an RGB-D checkpoint
    config = AutoConfig.from_pretrained(tmp_path)
    assert config.point_branch["encoding"] == "relative_depth" and config.point_branch["depth_levels"] == 128
    again = AutoModelForImageTextToText.from_pretrained(tmp_path).eval()
    assert type(again) is type(rgbd)
    assert all(not p.requires_grad for p in again.vision_encoder_parameters())
    batch = batch_for(path)
    with torch.no_grad():
        assert torch.equal(rgbd(**batch).logits, again(**batch).logits)
        assert torch.equal(rgbd(**batch).logits, load_vlm(tmp_path)(**batch).logits)


def test_missing_point_maps_error_or_rgb_only(path):
    batch = without_points(batch_for(path))
    with pytest.raises(MissingPointMapsError, match="point_maps"):
        from_base(path)(**batch)
    base, rgb_only = load_vlm(path), from_base(path, missing_point_maps="rgb_only").eval()
    with torch.no_grad():
        assert torch.allclose(rgb_only(**batch).logits, base(**batch).logits, rtol=1e-6, atol=1e-6)
    bad = batch_for(path)
    bad["point_maps"] = bad["point_maps"][:1]
    with pytest.raises(ValueError, match="point_maps"):
        from_base(path)(**bad)


def test_from_base_picks_the_variant_and_refuses_nonsense(tiny_paligemma_path, tiny_qwen_path, tmp_path):
    assert isinstance(from_base(tiny_paligemma_path), RGBDPaliGemmaForConditionalGeneration)
    qwen = from_base(tiny_qwen_path, variant="qwen2_5_vl")
    assert isinstance(qwen, RGBDQwen2_5_VLForConditionalGeneration)
    assert qwen.model.point_encoder.patch == 28  # patch 14 x spatial merge 2: one feature per image token
    with pytest.raises(ValueError, match="variant"):
        from_base(tiny_qwen_path, variant="paligemma")
    with pytest.raises(ValueError, match="already RGB-D"):
        rgbd_config_from_base(qwen.config)
    with pytest.raises(ValueError, match="encoding"):
        from_base(tiny_qwen_path, point_encoding="disparity")


def test_loaders_register_the_rgbd_auto_classes(tiny_qwen_path, monkeypatch):
    """Registration is explicit: ``load_vlm`` / ``load_processor`` call ``register_auto_classes``
    (idempotent: a second call changes nothing) before loading."""
    import spatialforge.models.rgbd as rgbd

    calls = []
    real = rgbd.register_auto_classes
    monkeypatch.setattr(rgbd, "register_auto_classes", lambda: (calls.append(1), real()))
    load_processor(tiny_qwen_path)
    load_vlm(tiny_qwen_path, device="cpu")
    assert len(calls) == 2
    real()
    assert rgbd._registered and AutoConfig.for_model("spatialforge_rgbd_qwen2_5_vl").model_type == "spatialforge_rgbd_qwen2_5_vl"
