"""Tiny offline VLM builders, processor and model loading."""

from __future__ import annotations

import os

import pytest
import torch
from transformers import AutoModelForImageTextToText, ProcessorMixin

from spatialforge.models.loading import ImageOnlyQwen2_5_VLProcessor, ModelLoadError, load_processor, load_vlm
from spatialforge.models.tiny import MARKER, build_tiny_paligemma, build_tiny_qwen2_5_vl, count_parameters
from tests.fixtures_models import make_image, tiny_paligemma_path, tiny_qwen_path  # noqa: F401

MODELS = ["tiny_qwen_path", "tiny_paligemma_path"]


def _generate(model, processor, prompt: str, image) -> torch.Tensor:
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
    text = processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], images=[[image]], return_tensors="pt")
    inputs.pop("labels", None)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    return out[:, inputs["input_ids"].shape[1] :]


@pytest.mark.parametrize("fixture", MODELS)
def test_tiny_model_reloads_and_generates_deterministically(fixture, request):
    path = request.getfixturevalue(fixture)
    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    processor = load_processor(path)
    assert isinstance(processor, ProcessorMixin)
    assert 100_000 < count_parameters(model) < 500_000
    expected_cls = "Qwen2_5_VLForConditionalGeneration" if "qwen" in fixture else "PaliGemmaForConditionalGeneration"
    assert type(model).__name__ == expected_cls

    image = make_image(0)
    first = _generate(model, processor, "How far is the chair from the table?", image)
    second = _generate(load_vlm(path), load_processor(path), "How far is the chair from the table?", image)
    assert first.shape[1] > 0
    assert torch.equal(first, second)
    # The image is really used: another image changes the next-token logits.
    assert not torch.allclose(_next_logits(model, processor, image), _next_logits(model, processor, make_image(7)))


def _next_logits(model, processor, image) -> torch.Tensor:
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]}]
    text = processor.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], images=[[image]], return_tensors="pt")
    inputs.pop("labels", None)
    with torch.inference_mode():
        return model(**inputs).logits[0, -1]


def test_qwen_processor_is_image_only_fallback_with_real_chat_template(tiny_qwen_path):
    proc = load_processor(tiny_qwen_path)
    assert isinstance(proc, ImageOnlyQwen2_5_VLProcessor)
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hi"}]}]
    assert proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False) == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Hi<|im_end|>\n<|im_start|>assistant\n"
    )
    # 56x56 image -> 4x4 patches of 14 px -> 2x2 merged tokens.
    batch = proc(text=["<|vision_start|><|image_pad|><|vision_end|>x"], images=[make_image(0)], return_tensors="pt")
    assert batch["image_grid_thw"].tolist() == [[1, 4, 4]]
    assert (batch["input_ids"] == proc.image_token_id).sum().item() == 4


def test_paligemma_prompt_layout(tiny_paligemma_path):
    proc = load_processor(tiny_paligemma_path)
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Is it left?"}]}]
    text = proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert text == "<image>Is it left?"
    batch = proc(text=[text], images=[[make_image(0, (28, 28))]], return_tensors="pt")
    ids = batch["input_ids"][0].tolist()
    tok = proc.tokenizer
    assert ids[:4] == [tok.convert_tokens_to_ids("<image>")] * 4  # (28 / 14)^2 image tokens
    assert ids[4] == tok.bos_token_id
    assert tok.decode(ids[5:]) == "Is it left?\n"


@pytest.mark.parametrize("fixture", MODELS)
def test_tokenizer_round_trips_spatial_text(fixture, request):
    tok = load_processor(request.getfixturevalue(fixture)).tokenizer
    text = "<think> The sofa is 1.85 meters to the left. </think> <answer> 1.85 m </answer>"
    assert tok.decode(tok(text)["input_ids"]) == text
    assert tok.decode(tok("Ünïcode → 3°")["input_ids"]) == "Ünïcode → 3°"  # byte-level: nothing is unknown


def test_build_is_cached_and_byte_deterministic(tmp_path):
    a = build_tiny_qwen2_5_vl(tmp_path / "a")
    stamp = (a / "model.safetensors").stat().st_mtime_ns
    assert build_tiny_qwen2_5_vl(tmp_path / "a") == a
    assert (a / "model.safetensors").stat().st_mtime_ns == stamp  # reused, not rebuilt
    b = build_tiny_qwen2_5_vl(tmp_path / "b", force=True)
    for name in ("model.safetensors", "tokenizer.json", "config.json", "processor_config.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_build_rebuilds_on_param_change_and_refuses_foreign_dirs(tmp_path):
    p = build_tiny_paligemma(tmp_path / "pg", image_size=28)
    assert AutoModelForImageTextToText.from_pretrained(p).config.vision_config.image_size == 28
    build_tiny_paligemma(tmp_path / "pg", image_size=56)
    assert AutoModelForImageTextToText.from_pretrained(p).config.vision_config.image_size == 56
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="refusing"):
        build_tiny_qwen2_5_vl(foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    assert not (foreign / MARKER).exists()
    with pytest.raises(ValueError, match="multiple of the patch size"):
        build_tiny_paligemma(tmp_path / "bad", image_size=30)


def test_load_errors_name_the_model():
    with pytest.raises(ModelLoadError, match="no-such-org/no-such-model") as e:
        load_vlm("no-such-org/no-such-model", local_files_only=True)
    assert "hf download" in str(e.value)
    with pytest.raises(ModelLoadError, match="no-such-org/no-such-model"):
        load_processor("no-such-org/no-such-model", local_files_only=True)
    missing = os.path.join(os.sep, "nonexistent", "models", "tiny")
    with pytest.raises(ModelLoadError, match="no such local model directory"):
        load_vlm(missing)


def test_load_vlm_dtype_and_device(tiny_qwen_path):
    model = load_vlm(tiny_qwen_path, dtype="bfloat16", device="cpu")
    assert model.dtype == torch.bfloat16 and model.device.type == "cpu" and not model.training


def test_load_processor_falls_back_on_a_hub_style_qwen_checkpoint(tiny_qwen_path, tmp_path):
    """Hub Qwen2.5-VL repos keep a flat preprocessor_config.json and chat_template.json; without
    torchvision AutoProcessor fails on the video processor there, and load_processor must cope."""
    import json
    import shutil

    hub = tmp_path / "hub_layout"
    shutil.copytree(tiny_qwen_path, hub)
    image_proc = json.loads((hub / "processor_config.json").read_text())["image_processor"]
    (hub / "preprocessor_config.json").write_text(json.dumps({**image_proc, "processor_class": "Qwen2_5_VLProcessor"}))
    (hub / "processor_config.json").unlink()
    (hub / "chat_template.json").write_text(json.dumps({"chat_template": (hub / "chat_template.jinja").read_text()}))
    (hub / "chat_template.jinja").unlink()
    proc = load_processor(hub)
    assert isinstance(proc, ProcessorMixin)
    assert proc.chat_template == load_processor(tiny_qwen_path).chat_template
