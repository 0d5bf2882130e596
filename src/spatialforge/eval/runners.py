"""Model runners: turn ``GenRequest``s (prompt + images + video frames) into generated text.

Kinds (``make_runner(kind, model, **kwargs)``):
- ``transformers``: any ``AutoModelForImageTextToText`` + processor; batched with left padding,
  chat template applied, greedy unless ``temperature > 0``, only the new tokens decoded.
- ``vllm``: vLLM's offline ``LLM.generate`` with multi-modal data (optional dependency).
- ``openai``: any OpenAI-compatible ``/v1/chat/completions`` endpoint, images as data URLs.

Several images go into one prompt in order (one image placeholder each).  A video arrives as
frames already sampled (:mod:`spatialforge.eval.frames`); a runner gives them to the model as
its video input where the processor has one (``video_input="video"``: Qwen2.5-VL with a video
processor), else as that many images (``"frames"``: PaliGemma, RGB-D models, OpenAI-compatible
endpoints, Qwen2.5-VL without torchvision).  ``runner.video_input`` says which was used.

A runner whose requests fail one by one (an HTTP endpoint) raises :class:`GenerationError`
carrying the outputs that did succeed, so callers keep those and count the rest.
"""

from __future__ import annotations

import copy
import importlib.util
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from PIL import Image
import numpy as np

from ..errors import ConfigError
from ..llm_client import ChatClient, EndpointError, user_message


@dataclass
class GenRequest:
    """One generation: ``id`` is unique within a run (it keys the prediction cache).

    ``images``: every image of the prompt, in order.  ``video``: the sampled frames of one
    video (empty: none).  ``extra`` carries model-specific inputs (e.g. a ``point_map`` for
    RGB-D models).
    """

    id: str
    prompt: str
    images: list[Image.Image] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    video: list[Image.Image] = field(default_factory=list)


VIDEO_INPUTS = ("auto", "video", "frames")


def as_frames(request: GenRequest) -> GenRequest:
    """The request with its video frames appended to its images (for models without video input)."""
    if not request.video:
        return request
    return replace(request, images=[*request.images, *request.video], video=[])


def resolve_video_input(processor: Any, video_input: str) -> str:
    """``video`` when frames go to the processor's video input, ``frames`` when they go in as images."""
    if video_input not in VIDEO_INPUTS:
        raise ConfigError(f"video_input must be one of {VIDEO_INPUTS}, got {video_input!r}")
    has_video = getattr(processor, "video_processor", None) is not None
    if video_input == "video" and not has_video:
        raise ConfigError(f"video_input='video': the processor {type(processor).__name__} has no video processor "
                          "(Qwen2.5-VL's needs torchvision); use video_input='frames'")
    if video_input == "auto":
        return "video" if has_video else "frames"
    return video_input


class GenerationError(RuntimeError):
    """Some requests of a batch failed; ``outputs[i]`` is None exactly where ``errors[i]`` is set."""

    def __init__(self, outputs: list[str | None], errors: dict[int, str]):
        super().__init__(f"{len(errors)} of {len(outputs)} requests failed; first: {next(iter(errors.values()), '')}")
        self.outputs = outputs
        self.errors = errors


@runtime_checkable
class Runner(Protocol):
    name: str

    def generate(self, requests: Sequence[GenRequest], *, max_new_tokens: int, temperature: float = 0.0) -> list[str]: ...


RUNNERS: dict[str, Callable[..., Runner]] = {}


def register_runner(kind: str) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        if kind in RUNNERS:
            raise ValueError(f"runner kind {kind!r} is already registered")
        RUNNERS[kind] = cls
        return cls

    return deco


def make_runner(kind: str, model: Any, **kwargs: Any) -> Runner:
    """A runner of the given kind.  ``model``: a loaded model, a path/hub id, or a served model name."""
    if kind not in RUNNERS:
        raise KeyError(f"unknown runner kind {kind!r}; choose from: {', '.join(sorted(RUNNERS))}")
    return RUNNERS[kind](model, **kwargs)


def chat_messages(request: GenRequest, system_prompt: str | None = None) -> list[dict[str, Any]]:
    """The request as a one-turn conversation in the processor chat format (images, video, text)."""
    content: list[dict[str, Any]] = [{"type": "image"} for _ in request.images]
    if request.video:
        content.append({"type": "video"})
    content.append({"type": "text", "text": request.prompt})
    msgs: list[dict[str, Any]] = []
    if system_prompt:
        msgs.append({"role": "system", "content": [{"type": "text", "text": system_prompt}]})
    msgs.append({"role": "user", "content": content})
    return msgs


def render_prompt(processor: Any, request: GenRequest, system_prompt: str | None = None) -> str:
    """Chat-templated prompt text; without a template, image tokens (if the processor has one) + prompt."""
    if getattr(processor, "chat_template", None):
        return processor.apply_chat_template(
            chat_messages(request, system_prompt), add_generation_prompt=True, tokenize=False
        )
    image_token = getattr(processor, "image_token", None) or ""
    video_token = (getattr(processor, "video_token", None) or "") if request.video else ""
    return image_token * len(request.images) + video_token + request.prompt


@register_runner("transformers")
class TransformersRunner:
    """Local generation with transformers.

    ``model``: a loaded model (its processor is loaded from ``model.name_or_path`` unless given)
    or a path / hub id (loaded with :func:`~spatialforge.models.loading.load_vlm`).
    ``seed`` makes sampled generation (``temperature > 0``) repeatable.
    """

    def __init__(
        self,
        model: Any,
        processor: Any = None,
        *,
        device: str | None = None,
        dtype: Any = None,
        system_prompt: str | None = None,
        seed: int | None = 0,
        local_files_only: bool | None = None,
        point_map_estimator: Callable[[Image.Image], Any] | None = None,
        video_input: str = "auto",
    ):
        import torch

        from ..models.loading import load_processor, load_vlm

        if isinstance(model, (str, os.PathLike)):
            name = str(model)
            model = load_vlm(name, dtype=dtype, device=device, local_files_only=local_files_only)
        else:
            name = getattr(model, "name_or_path", "") or type(model).__name__
            if dtype is not None:
                model = model.to(getattr(torch, dtype) if isinstance(dtype, str) else dtype)
            if device is not None:
                model = model.to(device)
        if processor is None:
            processor = load_processor(name, local_files_only=local_files_only)
        self.model = model.eval()
        self.processor = processor
        self.tokenizer = getattr(processor, "tokenizer", processor)
        self.name = name
        self.system_prompt = system_prompt
        self.seed = seed
        self.point_map_estimator = point_map_estimator  # RGB-D models: image -> point map when extra has none
        from ..models.rgbd import takes_point_maps

        # RGB-D models take a point map per image, so their video frames go in as images.
        self.video_input = "frames" if takes_point_maps(model) else resolve_video_input(processor, video_input)

    def _generation_config(self, max_new_tokens: int, temperature: float):
        # Keep the checkpoint's eos ids and repetition penalty; the sampling mode is ours: greedy, or
        # plain temperature sampling (a checkpoint's top_k=1 / top_p=0.001 would silently make it greedy).
        gc = copy.deepcopy(self.model.generation_config)
        gc.max_new_tokens = max_new_tokens
        gc.do_sample = temperature > 0
        if temperature > 0:
            gc.temperature, gc.top_p, gc.top_k = temperature, 1.0, 0  # top_k 0: no top-k filter
        else:
            gc.temperature, gc.top_p, gc.top_k = None, None, None
        if gc.pad_token_id is None:
            eos = gc.eos_token_id[0] if isinstance(gc.eos_token_id, list) else gc.eos_token_id
            gc.pad_token_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos
        return gc

    def generate(self, requests: Sequence[GenRequest], *, max_new_tokens: int = 256, temperature: float = 0.0) -> list[str]:
        if self.video_input == "frames":
            requests = [as_frames(r) for r in requests]
        # Processors want every sample of a batch to have images (videos), or none: split mixed batches.
        outputs: list[str | None] = [None] * len(requests)
        for kind in ((True, True), (True, False), (False, True), (False, False)):
            idx = [i for i, r in enumerate(requests) if (bool(r.images), bool(r.video)) == kind]
            if idx:
                for i, text in zip(idx, self._generate([requests[i] for i in idx], max_new_tokens, temperature), strict=True):
                    outputs[i] = text
        return outputs  # type: ignore[return-value]

    def _generate(self, requests: list[GenRequest], max_new_tokens: int, temperature: float) -> list[str]:
        import torch

        from ..models.rgbd import takes_point_maps
        from ..models.rgbd_processor import point_maps_for_requests

        texts = [render_prompt(self.processor, r, self.system_prompt) for r in requests]
        images = [list(r.images) for r in requests] if requests[0].images else None
        videos = {"videos": [list(r.video) for r in requests]} if requests[0].video else {}
        inputs = self.processor(text=texts, images=images, **videos, padding=True, padding_side="left",
                                return_tensors="pt")
        inputs.pop("labels", None)  # PaliGemma's processor adds them for training
        if images is not None and takes_point_maps(self.model):  # RGB-D model: GenRequest.extra["point_map"]
            inputs["point_maps"] = point_maps_for_requests(self.processor, requests, inputs, self.point_map_estimator)
        device, dtype = self.model.device, self.model.dtype
        # Point maps stay float32 (metres at cm resolution); the model encodes them in float32.
        inputs = {k: v.to(device, dtype) if torch.is_floating_point(v) and k != "point_maps" else v.to(device)
                  for k, v in inputs.items()}
        if temperature > 0 and self.seed is not None:
            torch.manual_seed(self.seed)
        with torch.inference_mode():
            out = self.model.generate(**inputs, generation_config=self._generation_config(max_new_tokens, temperature))
        new_tokens = out[:, inputs["input_ids"].shape[1] :]
        return [t.strip() for t in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


@register_runner("vllm")
class VLLMRunner:
    """vLLM offline inference (GPU machines; ``pip install 'spatialforge[vllm]'``).

    The prompt text comes from the checkpoint's processor chat template, as in the
    transformers runner, so both runners see identical prompts.
    """

    def __init__(
        self,
        model: str,
        *,
        processor: Any = None,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        max_model_len: int | None = None,
        max_images_per_prompt: int = 4,
        system_prompt: str | None = None,
        seed: int = 0,
        video_input: str = "auto",
        **llm_kwargs: Any,
    ):
        if importlib.util.find_spec("vllm") is None:
            raise ImportError(
                "the 'vllm' runner needs vLLM, which is not installed: `pip install 'spatialforge[vllm]'` "
                "on a CUDA machine, or use the 'transformers' runner"
            )
        if not isinstance(model, (str, os.PathLike)):
            raise TypeError("the 'vllm' runner takes a model path or hub id, not a loaded model")
        from vllm import LLM

        from ..models.loading import load_processor

        self.name = str(model)
        self.processor = processor if processor is not None else load_processor(self.name)
        self.system_prompt = system_prompt
        self.seed = seed
        self.video_input = resolve_video_input(self.processor, video_input)
        self.max_images = max_images_per_prompt  # in "frames" mode a video's frames count as images
        limits = {"image": max_images_per_prompt, **({"video": 1} if self.video_input == "video" else {})}
        self.llm = LLM(
            model=self.name, dtype=dtype, tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
            limit_mm_per_prompt=limits, seed=seed, **llm_kwargs,
        )  # fmt: skip

    def generate(self, requests: Sequence[GenRequest], *, max_new_tokens: int = 256, temperature: float = 0.0) -> list[str]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=max_new_tokens, temperature=temperature, seed=self.seed)
        inputs = [vllm_input(self.processor, r, self.system_prompt, self.video_input, self.max_images)
                  for r in requests]  # fmt: skip
        results = self.llm.generate(inputs, params, use_tqdm=False)
        return [res.outputs[0].text.strip() for res in results]


def vllm_input(processor: Any, request: GenRequest, system_prompt: str | None = None,
               video_input: str = "frames", max_images: int | None = None) -> dict[str, Any]:
    """One vLLM prompt dict (``LLM.generate``'s documented multi-modal input): the chat-templated
    text plus ``multi_modal_data``: ``"image"`` a PIL image or a list of them (several images),
    ``"video"`` the frames as one uint8 array of shape (T, H, W, 3).  More images than
    ``max_images`` (vLLM's ``limit_mm_per_prompt``) is a ``ConfigError`` naming the limit."""
    if video_input == "frames":
        request = as_frames(request)
    if max_images is not None and len(request.images) > max_images:
        raise ConfigError(f"request {request.id!r} has {len(request.images)} images (video frames included) but the "
                          f"vllm runner allows {max_images} per prompt: pass max_images_per_prompt={len(request.images)} "
                          "or more (or fewer --num-frames)")
    item: dict[str, Any] = {"prompt": render_prompt(processor, request, system_prompt)}
    data: dict[str, Any] = {}
    if request.images:
        data["image"] = list(request.images) if len(request.images) > 1 else request.images[0]
    if request.video:
        data["video"] = np.stack([np.asarray(f.convert("RGB")) for f in request.video])
    if data:
        item["multi_modal_data"] = data
    return item


@register_runner("openai")
class OpenAIRunner:
    """Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM serve, SGLang, TGI, ...).

    ``model``: the served model name.  ``base_url`` (with its ``/v1``) and ``api_key`` default
    to ``$SPATIALFORGE_BASE_URL``/``$OPENAI_BASE_URL`` and ``$SPATIALFORGE_API_KEY``/
    ``$OPENAI_API_KEY``.  Requests of a batch go out on ``max_workers`` threads.
    ``max_tokens_field``: "max_completion_tokens" for OpenAI reasoning models.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_workers: int = 4,
        system_prompt: str | None = None,
        max_tokens_field: str = "max_tokens",
        extra_body: dict[str, Any] | None = None,
    ):
        self.name = str(model)
        self.client = ChatClient(base_url, api_key, timeout=timeout, max_retries=max_retries, backoff=backoff)
        self.max_workers = max(1, max_workers)
        self.system_prompt = system_prompt
        self.max_tokens_field = max_tokens_field
        self.extra_body = dict(extra_body or {})
        self.video_input = "frames"  # chat completions take images: a video goes in as its frames

    def __repr__(self) -> str:
        return f"OpenAIRunner(model={self.name!r}, base_url={self.client.base_url!r})"

    def _payload(self, r: GenRequest, max_new_tokens: int, temperature: float) -> dict[str, Any]:
        msgs = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        msgs.append(user_message(r.prompt, [*r.images, *r.video]))  # video frames as images, in order
        return {"model": self.name, "messages": msgs, self.max_tokens_field: max_new_tokens,
                "temperature": temperature, **self.extra_body}  # fmt: skip

    def generate(self, requests: Sequence[GenRequest], *, max_new_tokens: int = 256, temperature: float = 0.0) -> list[str]:
        def one(r: GenRequest) -> str | EndpointError:
            try:
                return self.client.complete(self._payload(r, max_new_tokens, temperature)).strip()
            except EndpointError as e:
                return e

        with ThreadPoolExecutor(min(self.max_workers, max(1, len(requests)))) as pool:
            results = list(pool.map(one, requests))
        errors = {i: str(res) for i, res in enumerate(results) if isinstance(res, EndpointError)}
        outputs = [None if isinstance(res, EndpointError) else res for res in results]
        if errors:
            raise GenerationError(outputs, errors)
        return outputs  # type: ignore[return-value]
