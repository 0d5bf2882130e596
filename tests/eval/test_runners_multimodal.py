"""Several images and video frames through every runner: tiny Qwen2.5-VL and PaliGemma 2
(transformers), vLLM's input dicts (built without vLLM), an OpenAI-compatible server."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from spatialforge.errors import ConfigError
from spatialforge.eval.runners import GenRequest, make_runner, render_prompt, vllm_input
from tests.fixtures_http import fake_openai  # noqa: F401
from tests.fixtures_models import make_image, tiny_paligemma_path, tiny_qwen_path  # noqa: F401

VISION = "<|vision_start|><|image_pad|><|vision_end|>"
VIDEO = "<|vision_start|><|video_pad|><|vision_end|>"


@pytest.fixture(scope="module")
def qwen(tiny_qwen_path):
    return make_runner("transformers", tiny_qwen_path)


@pytest.fixture(scope="module")
def paligemma(tiny_paligemma_path):
    return make_runner("transformers", tiny_paligemma_path)


class SeenImages:
    """Records how many images each call of a model's vision tower encoded (a forward hook, no mock)."""

    def __init__(self, model):
        self.counts: list[int] = []
        tower = getattr(model.model, "visual", None) or model.model.vision_tower
        self._h = tower.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs):
        grid = kwargs.get("grid_thw")  # Qwen: one (t, h, w) row per image
        pixels = kwargs.get("pixel_values", args[0] if args else None)
        self.counts.append(len(grid) if grid is not None else len(pixels))

    def close(self):
        self._h.remove()


def mixed_requests() -> list[GenRequest]:
    return [
        GenRequest("one", "How far is the lamp?", [make_image(0)]),
        GenRequest("two", "Which image shows the sofa?", [make_image(1), make_image(2, (84, 56))]),
        GenRequest("vid", "How many chairs are in the room?", [], video=[make_image(3), make_image(4), make_image(5)]),
        GenRequest("both", "Is the chair in the video?", [make_image(6)], video=[make_image(7), make_image(8)]),
        GenRequest("none", "Say yes."),
    ]


def test_qwen_without_video_processor_takes_frames_as_images(qwen):
    assert qwen.video_input == "frames"  # no torchvision here: no Qwen2.5-VL video processor
    seen = SeenImages(qwen.model)
    try:
        outs = qwen.generate(mixed_requests()[2:3], max_new_tokens=4)
    finally:
        seen.close()
    assert seen.counts == [3] and isinstance(outs[0], str)


def test_qwen_prompt_lists_every_image(qwen):
    req = mixed_requests()[1]
    text = render_prompt(qwen.processor, req)
    assert text.count(VISION) == 2 and text.index(VISION) < text.index(req.prompt)
    seen = SeenImages(qwen.model)
    try:
        qwen.generate([req], max_new_tokens=4)
    finally:
        seen.close()
    assert seen.counts == [2]


@pytest.mark.parametrize("runner_name", ["qwen", "paligemma"])
def test_mixed_batch_matches_one_by_one(runner_name, request):
    runner = request.getfixturevalue(runner_name)
    reqs = mixed_requests()[: 5 if runner_name == "qwen" else 4]  # PaliGemma's processor needs an image
    seen = SeenImages(runner.model)
    try:
        batched = runner.generate(reqs, max_new_tokens=6)
    finally:
        seen.close()
    # Batches are split by what they carry; the images per group: 1+2+3+3 (frames folded in), then none.
    assert sorted(seen.counts) == [9]  # one group with images; its processor call took all nine
    assert batched == [runner.generate([r], max_new_tokens=6)[0] for r in reqs]


def test_paligemma_prompt_has_one_image_token_per_image(paligemma):
    seen = SeenImages(paligemma.model)
    try:
        paligemma.generate([mixed_requests()[1]], max_new_tokens=3)
    finally:
        seen.close()
    assert seen.counts == [2]
    assert paligemma.video_input == "frames"


def test_video_input_option_is_checked(tiny_qwen_path):
    with pytest.raises(ConfigError, match="no video processor .*torchvision"):
        make_runner("transformers", tiny_qwen_path, video_input="video")
    with pytest.raises(ConfigError, match="video_input must be one of"):
        make_runner("transformers", tiny_qwen_path, video_input="clips")


def test_vllm_inputs_for_images_and_video(qwen):
    proc = qwen.processor
    single, two, vid = mixed_requests()[0], mixed_requests()[1], mixed_requests()[2]
    item = vllm_input(proc, single)
    assert item["multi_modal_data"] == {"image": single.images[0]} and item["prompt"].count(VISION) == 1
    item = vllm_input(proc, two)
    assert item["multi_modal_data"]["image"] == two.images and item["prompt"].count(VISION) == 2
    # Native video: one <|video_pad|> placeholder and a (T, H, W, 3) uint8 array.
    item = vllm_input(proc, vid, video_input="video")
    assert item["prompt"].count(VIDEO) == 1 and VISION not in item["prompt"]
    arr = item["multi_modal_data"]["video"]
    assert arr.shape == (3, 56, 56, 3) and arr.dtype == np.uint8
    np.testing.assert_array_equal(arr[2], np.asarray(vid.video[2]))
    # Frames: three images.
    item = vllm_input(proc, vid, video_input="frames")
    assert item["prompt"].count(VISION) == 3 and "video" not in item["multi_modal_data"]
    assert "multi_modal_data" not in vllm_input(proc, GenRequest("t", "text only"))
    with pytest.raises(ConfigError, match=r"'vid' has 3 images .*allows 2 per prompt: pass max_images_per_prompt=3"):
        vllm_input(proc, vid, video_input="frames", max_images=2)
    assert vllm_input(proc, vid, video_input="video", max_images=2)["multi_modal_data"]["video"].shape[0] == 3


def test_openai_runner_sends_every_image_then_the_frames(fake_openai):  # noqa: F811
    runner = make_runner("openai", "served", base_url=fake_openai.base_url, api_key="k", max_workers=1)
    req = mixed_requests()[3]  # one image + two frames
    assert runner.generate([req], max_new_tokens=5) == [f"echo: {req.prompt}"]
    parts = fake_openai.requests[-1]["json"]["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["image_url"] * 3 + ["text"]
    sent = [Image.open(io.BytesIO(base64.b64decode(p["image_url"]["url"].split(",", 1)[1]))) for p in parts[:3]]
    assert [im.tobytes() for im in sent] == [im.tobytes() for im in [*req.images, *req.video]]  # order kept
