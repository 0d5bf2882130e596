"""Tiny, deterministic Qwen2.5-VL and PaliGemma 2 checkpoints built offline.

Tests and the demo need real model classes without the Hugging Face Hub.  These builders
train a byte-level BPE tokenizer on a few hundred generated spatial-QA sentences, wrap it in
the model's real processor (with a chat template), initialise the real
``*ForConditionalGeneration`` class from a tiny config under a fixed seed, and save
everything with ``save_pretrained``.  The result loads with
``AutoModelForImageTextToText.from_pretrained(path)`` and ``load_processor(path)``.

A finished build is marked by ``spatialforge_tiny.json`` (written last): a second call with
the same path and parameters returns at once.  Builds go to a sibling temp folder and are
renamed into place, so a crash or a concurrent build never leaves a half-written model.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, trainers
from tokenizers.models import BPE
from transformers import (
    GenerationConfig,
    PaliGemmaConfig,
    PaliGemmaForConditionalGeneration,
    PaliGemmaProcessor,
    PreTrainedTokenizerFast,
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
)
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

from ..errors import ConfigError
from .loading import ImageOnlyQwen2_5_VLProcessor

# Bump when a builder's output changes, so cached builds are rebuilt.
BUILD_VERSION = 1
MARKER = "spatialforge_tiny.json"
SEED = 0

QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]  # fmt: skip

# The chat template shipped with the Qwen2-VL / Qwen2.5-VL instruct checkpoints.
QWEN_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

PALIGEMMA_SPECIAL_TOKENS = ["<pad>", "<eos>", "<bos>", "<unk>", "<image>"]

# PaliGemma checkpoints ship no chat template.  This one renders the user turn the way the
# processor expects a prefix: one <image> per image, then the text (the processor inserts
# <bos> after the last <image> and the "\n" separator).  Assistant turns end with <eos>.
PALIGEMMA_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['content'] is string %}"
    "{% if message['role'] == 'assistant' %}{{ message['content'] }}<eos>"
    "{% elif message['role'] == 'user' %}{{ message['content'] }}{% endif %}"
    "{% else %}{% if message['role'] == 'user' %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content %}<image>{% endif %}{% endfor %}{% endif %}"
    "{% for content in message['content'] %}{% if content['type'] == 'text' %}{{ content['text'] }}"
    "{% endif %}{% endfor %}{% if message['role'] == 'assistant' %}<eos>{% endif %}{% endif %}{% endfor %}"
)

# Qwen2's pre-tokenizer split: digits one by one, words with their leading space.
_QWEN_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def spatial_corpus(n: int = 400, seed: int = SEED) -> list[str]:
    """``n`` short spatial-QA sentences (questions, answers, think/answer tags, numbers)."""
    rng = random.Random(seed)
    objects = ["chair", "table", "sofa", "lamp", "bed", "door", "window", "shelf", "cabinet", "television",
               "plant", "mug", "book", "laptop", "monitor", "car", "bicycle", "person", "dog", "cat", "box",
               "bottle", "pillow", "desk", "counter", "sink", "refrigerator", "oven", "stool", "bench"]  # fmt: skip
    colors = ["red", "blue", "green", "white", "black", "brown", "gray", "yellow", "wooden", "small", "large"]
    relations = ["to the left of", "to the right of", "in front of", "behind", "above", "below", "next to",
                 "on top of", "under", "closer to the camera than", "farther from the camera than"]  # fmt: skip
    units = ["meters", "centimeters", "inches", "feet", "m", "cm"]
    questions = [
        "Is the {c1} {o1} {rel} the {c2} {o2}?",
        "How far is the {o1} from the {o2}?",
        "What is the distance between the {o1} and the {o2}?",
        "How tall is the {c1} {o1}?",
        "How wide is the {o1} in {unit}?",
        "Which is closer to the camera, the {o1} or the {o2}?",
        "Where is the {o1} relative to the {o2}?",
        "If you are at the {o1}, where will you find the {o2}?",
        "Which object is higher, the {o1} or the {o2}? (A) the {o1} (B) the {o2}",
        "Give the bounding box of the {c1} {o1}.",
    ]
    answers = [
        "Yes, the {c1} {o1} is {rel} the {c2} {o2}.",
        "No, the {o1} is not {rel} the {o2}.",
        "The {o1} is {num} {unit} from the {o2}.",
        "The {c1} {o1} is about {num} {unit} tall.",
        "The answer is ({letter}).",
        "The {o2} is around the {clock} o'clock direction.",
        "[{b0}, {b1}, {b2}, {b3}]",
        "<think> The {o1} is about {num} {unit} wide, so the {o2} is {rel} it. </think> <answer> {num} {unit} </answer>",
        "<think> Step 1: find the {o1}. Step 2: compare it with the {o2}. </think> <answer> {letter} </answer>",
    ]
    out = ["0 1 2 3 4 5 6 7 8 9 10 11 12 0.5 1.5 2.25 100 1000", "<think> </think> <answer> </answer>"]
    while len(out) < n:
        o1, o2 = rng.sample(objects, 2)
        fields: dict[str, Any] = dict(
            o1=o1, o2=o2, c1=rng.choice(colors), c2=rng.choice(colors), rel=rng.choice(relations),
            unit=rng.choice(units), num=rng.choice([rng.randint(1, 300), round(rng.uniform(0.1, 9.9), 2)]),
            letter=rng.choice("ABCD"), clock=rng.randint(1, 12),
            b0=rng.randint(0, 500), b1=rng.randint(0, 500), b2=rng.randint(500, 999), b3=rng.randint(500, 999),
        )  # fmt: skip
        out.append(rng.choice(questions if len(out) % 2 else answers).format(**fields))
    return out


def train_bpe_tokenizer(special_tokens: list[str], vocab_size: int = 1024, seed: int = SEED):
    """Byte-level BPE (``tokenizers.Tokenizer``) trained on :func:`spatial_corpus`."""
    tok = Tokenizer(BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_QWEN_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(spatial_corpus(seed=seed), trainer)
    return tok


def _is_built(path: Path, params: dict[str, Any]) -> bool:
    try:
        marker = json.loads((path / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return marker == params and (path / "config.json").is_file()


def _build_cached(path: str | os.PathLike, params: dict[str, Any], build: Callable[[Path], None], force: bool) -> Path:
    path = Path(path).expanduser().resolve()
    if not force and _is_built(path, params):
        return path
    if path.exists() and any(path.iterdir()) and not (path / MARKER).exists():
        raise FileExistsError(f"{path} exists, is not empty and is not a spatialforge tiny model; refusing to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        build(tmp)
        (tmp / MARKER).write_text(json.dumps(params, indent=1, sort_keys=True))
        if path.exists():  # an old version, or an empty folder (a pytest tmp dir)
            shutil.rmtree(path)
        try:
            tmp.rename(path)
        except OSError:
            if not _is_built(path, params):  # not a concurrent builder that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _fast_tokenizer(tok, **special):
    return PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=8192, **special)


def build_tiny_qwen2_5_vl(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Build (or reuse) a ~0.4 M-parameter ``Qwen2_5_VLForConditionalGeneration`` at ``path``.

    Vision: patch 14, spatial merge 2, images resized to 56²..112² pixels (4..16 image tokens).
    Text: hidden 64, 2 layers, 4 heads (head_dim 16, ``mrope_section`` [2, 3, 3]).
    """
    params = {"builder": "qwen2_5_vl", "version": BUILD_VERSION, "seed": SEED}

    def build(out: Path) -> None:
        tokenizer = _fast_tokenizer(
            train_bpe_tokenizer(QWEN_SPECIAL_TOKENS), eos_token="<|im_end|>", pad_token="<|endoftext|>"
        )
        image_processor = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=112 * 112)
        processor = ImageOnlyQwen2_5_VLProcessor(image_processor, tokenizer, chat_template=QWEN_CHAT_TEMPLATE)
        ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
        config = Qwen2_5_VLConfig(
            text_config=dict(
                vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]},
                bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"],
            ),
            vision_config=dict(
                depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=56,
                fullatt_block_indexes=[1],
            ),
            image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
            vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        )  # fmt: skip
        torch.manual_seed(SEED)
        model = Qwen2_5_VLForConditionalGeneration(config).eval()
        model.generation_config = GenerationConfig(
            eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]], pad_token_id=ids["<|endoftext|>"],
            bos_token_id=ids["<|endoftext|>"], do_sample=False,
        )  # fmt: skip
        model.save_pretrained(out)
        processor.save_pretrained(out)
        # Name the real class, so machines with torchvision get the full processor from AutoProcessor.
        _set_processor_class(out, "Qwen2_5_VLProcessor")

    return _build_cached(path, params, build, force)


def build_tiny_paligemma(path: str | os.PathLike, *, image_size: int = 28, force: bool = False) -> Path:
    """Build (or reuse) a tiny PaliGemma 2 (SigLIP + Gemma 2) ``PaliGemmaForConditionalGeneration``.

    ``image_size`` must be a multiple of the patch size 14; (image_size / 14)² image tokens.
    """
    if image_size % 14:
        raise ValueError(f"image_size must be a multiple of the patch size 14, got {image_size}")
    params = {"builder": "paligemma2", "version": BUILD_VERSION, "seed": SEED, "image_size": image_size}

    def build(out: Path) -> None:
        tokenizer = _fast_tokenizer(
            train_bpe_tokenizer(PALIGEMMA_SPECIAL_TOKENS),
            pad_token="<pad>", eos_token="<eos>", bos_token="<bos>", unk_token="<unk>",
        )  # fmt: skip
        num_image_tokens = (image_size // 14) ** 2
        image_processor = SiglipImageProcessorPil(size={"height": image_size, "width": image_size})
        image_processor.image_seq_length = num_image_tokens
        # The processor adds <image> and the <locNNNN>/<segNNN> tokens: size the vocab after it.
        processor = PaliGemmaProcessor(image_processor, tokenizer, chat_template=PALIGEMMA_CHAT_TEMPLATE)
        ids = {t: tokenizer.convert_tokens_to_ids(t) for t in PALIGEMMA_SPECIAL_TOKENS}
        vocab = len(tokenizer)
        config = PaliGemmaConfig(
            text_config=dict(
                model_type="gemma2", vocab_size=vocab, hidden_size=64, intermediate_size=128,
                num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1, head_dim=16,
                query_pre_attn_scalar=16, max_position_embeddings=4096, sliding_window=256,
                pad_token_id=ids["<pad>"], eos_token_id=ids["<eos>"], bos_token_id=ids["<bos>"],
            ),
            vision_config=dict(
                model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, image_size=image_size, patch_size=14, vision_use_head=False,
            ),
            image_token_index=ids["<image>"], vocab_size=vocab, projection_dim=64, hidden_size=64,
        )  # fmt: skip
        torch.manual_seed(SEED)
        model = PaliGemmaForConditionalGeneration(config).eval()
        model.generation_config = GenerationConfig(
            eos_token_id=ids["<eos>"], pad_token_id=ids["<pad>"], bos_token_id=ids["<bos>"], do_sample=False
        )
        model.save_pretrained(out)
        processor.save_pretrained(out)

    return _build_cached(path, params, build, force)


def _set_processor_class(out: Path, name: str) -> None:
    for fname in ("processor_config.json", "tokenizer_config.json", "preprocessor_config.json"):
        p = out / fname
        if p.is_file():
            d = json.loads(p.read_text())
            if "processor_class" in d:
                d["processor_class"] = name
                p.write_text(json.dumps(d, indent=2, sort_keys=True) + "\n")


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


TINY_MODELS = ("qwen2_5_vl", "paligemma2")


def resolve_model_path(name: str) -> str:
    """``tiny:qwen2_5_vl`` / ``tiny:paligemma2`` build (once) the offline tiny model and return
    its folder (under ``$SPATIALFORGE_CACHE``, default ``~/.cache/spatialforge``); other names
    are returned unchanged. Recipes and ``spatialforge eval --model`` both accept these names."""
    if not str(name).startswith("tiny:"):
        return str(name)
    which = str(name)[len("tiny:"):]
    if which not in TINY_MODELS:
        raise ConfigError(f"unknown tiny model {name!r}; choose from {[f'tiny:{t}' for t in TINY_MODELS]}")
    root = Path(os.environ.get("SPATIALFORGE_CACHE", Path.home() / ".cache" / "spatialforge")) / "tiny_models"
    builder = build_tiny_qwen2_5_vl if which == "qwen2_5_vl" else build_tiny_paligemma
    return str(builder(root / which))
