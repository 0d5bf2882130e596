"""Tiny random-weight perception models built offline (tests, ``tiny_cpu.yaml``).

``build_tiny_perception(folder)`` writes ``clip/``, ``siglip/``, ``depth_anything/``, ``depth_pro/``,
``owlv2/``, ``grounding_dino/``, ``sam/``, ``sam_hq/``, ``sam2/`` and ``orientation/`` (a DINOv2
backbone + a random azimuth head, ``orientation.py``): the real transformers classes from tiny configs (after
transformers' own ``*ModelTester`` configs), with their PIL image processors (Depth Pro: its
config file only) and tiny CLIP / BERT tokenizers for CLIP and OWLv2 / Grounding DINO, saved with
``save_pretrained`` so the backends load them through ``from_pretrained`` as they would a hub
checkpoint.  Weights are random under a fixed seed: outputs are meaningless but shaped like
real ones.  A finished build is marked by ``spatialforge_tiny.json``; a second call returns at once.

    python -m spatialforge.perception.tiny DIR
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from .hf import pil_processor

BUILD_VERSION = 7
MARKER = "spatialforge_tiny.json"
SEED = 0


def _tokenizer(folder: Path):
    """A CLIP tokenizer over single characters (no merges): enough for category prompts."""
    from transformers import CLIPTokenizer

    chars = [chr(c) for c in range(33, 127)]
    vocab = {tok: i for i, tok in enumerate(chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"])}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token="<|endoftext|>")


def _depth_anything(out: Path) -> None:
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    backbone = Dinov2Config(image_size=28, patch_size=14, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=32, out_indices=[1, 2], reshape_hidden_states=False)
    cfg = DepthAnythingConfig(backbone_config=backbone, patch_size=14, reassemble_hidden_size=16, reassemble_factors=[2, 1],
                              neck_hidden_sizes=[8, 16], fusion_hidden_size=8, head_hidden_size=8,
                              depth_estimation_type="metric", max_depth=20)
    torch.manual_seed(SEED)
    model = DepthAnythingForDepthEstimation(cfg)
    with torch.no_grad():  # default init makes the head's output constant; spread it so depth varies
        for p in model.head.parameters():
            p.normal_(0.0, 0.5)
    model.save_pretrained(out)
    processor = pil_processor("DPTImageProcessor")(size={"height": 28, "width": 28}, keep_aspect_ratio=True,
                                                   ensure_multiple_of=14)
    processor.save_pretrained(out)


def _two_tower(tok, max_positions: int) -> dict:
    """Tiny text + vision tower settings shared by OWLv2 and CLIP (projection = hidden size, as OWLv2 needs)."""
    return dict(
        text_config=dict(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=max_positions, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id),
        vision_config=dict(image_size=32, patch_size=8, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                           num_attention_heads=2),
        projection_dim=16)


def _owlv2(out: Path) -> None:
    import torch
    from transformers import Owlv2Config, Owlv2ForObjectDetection

    tok = _tokenizer(out)
    cfg = Owlv2Config(**_two_tower(tok, max_positions=16))
    torch.manual_seed(SEED)
    model = Owlv2ForObjectDetection(cfg)
    with torch.no_grad():  # boxes = the model's per-patch prior (one grid cell each), not degenerate slivers
        model.box_head.dense2.weight.zero_()
        model.box_head.dense2.bias.zero_()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    pil_processor("Owlv2ImageProcessor")(size={"height": 32, "width": 32}).save_pretrained(out)


def _tiny_sam_parts(**decoder: Any) -> dict[str, dict[str, Any]]:
    """SAM's three sub-configs at test size (SAM-HQ adds ``vit_dim`` to the decoder)."""
    return dict(
        vision_config=dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, image_size=64,
                           patch_size=8, output_channels=16, global_attn_indexes=[1], window_size=4, mlp_dim=32,
                           num_pos_feats=8),
        prompt_encoder_config=dict(hidden_size=16, image_size=64, patch_size=8, mask_input_channels=4),
        mask_decoder_config=dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, mlp_dim=16,
                                 iou_head_hidden_dim=8, **decoder))


def _sam(out: Path) -> None:
    import torch
    from transformers import SamConfig, SamModel

    cfg = SamConfig(**_tiny_sam_parts())
    torch.manual_seed(SEED)
    SamModel(cfg).save_pretrained(out)
    pil_processor("SamImageProcessor")(size={"longest_edge": 64}, pad_size={"height": 64, "width": 64}).save_pretrained(out)


def _grounding_dino(out: Path) -> None:
    import torch
    from transformers import BertTokenizer, GroundingDinoConfig, GroundingDinoForObjectDetection, SwinConfig

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "?"]
    words += [chr(c) for c in range(97, 123)] + ["##" + chr(c) for c in range(97, 123)]
    (out / "vocab.txt").write_text("\n".join(words) + "\n")
    tok = BertTokenizer(str(out / "vocab.txt"))
    swin = SwinConfig(window_size=7, embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], image_size=98,
                      out_features=["stage2", "stage3", "stage4"], out_indices=[2, 3, 4])
    cfg = GroundingDinoConfig(
        d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
        encoder_ffn_dim=4, decoder_ffn_dim=4, num_queries=8, num_feature_levels=4, encoder_n_points=2,
        decoder_n_points=6, use_timm_backbone=False, backbone_config=swin, max_text_len=256,
        text_config={"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "intermediate_size": 8, "max_position_embeddings": 256, "vocab_size": len(words)})
    torch.manual_seed(SEED)
    GroundingDinoForObjectDetection(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    pil_processor("GroundingDinoImageProcessor")(size={"shortest_edge": 98, "longest_edge": 98}).save_pretrained(out)


def _depth_pro(out: Path) -> None:
    import torch
    from transformers import DepthProConfig, DepthProForDepthEstimation

    cfg = DepthProConfig(
        patch_size=8, fusion_hidden_size=16, intermediate_hook_ids=[1, 0], intermediate_feature_dims=[10, 8],
        scaled_images_ratios=[0.5, 1.0], scaled_images_overlap_ratios=[0.0, 0.2], scaled_images_feature_dims=[12, 12],
        use_fov_model=True,
        image_model_config={"model_type": "dinov2", "num_hidden_layers": 2, "hidden_size": 16, "num_attention_heads": 1,
                            "patch_size": 4},
        patch_model_config={"model_type": "vit", "num_hidden_layers": 2, "hidden_size": 24, "num_attention_heads": 2,
                            "patch_size": 6},
        fov_model_config={"model_type": "vit", "num_hidden_layers": 2, "hidden_size": 8, "num_attention_heads": 2,
                          "patch_size": 6})
    torch.manual_seed(SEED)
    model = DepthProForDepthEstimation(cfg)
    with torch.no_grad():  # a random FOV head predicts ~0 degrees; start it near 60
        last = model.fov_model.head.layers[-1]
        last.weight.mul_(0.01)
        last.bias.fill_(60.0)
    model.save_pretrained(out)
    # DepthProImageProcessor needs torchvision; the backend reads only this file
    (out / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "DepthProImageProcessor", "size": {"height": 64, "width": 64},
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "rescale_factor": 1 / 255}))


def _clip(out: Path) -> None:
    import torch
    from transformers import CLIPConfig, CLIPModel

    tok = _tokenizer(out)
    cfg = CLIPConfig(**_two_tower(tok, max_positions=32))
    torch.manual_seed(SEED)
    CLIPModel(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    pil_processor("CLIPImageProcessor")(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(out)


def _siglip(out: Path) -> None:
    import torch
    from transformers import SiglipConfig, SiglipModel

    tok = _tokenizer(out)
    towers = _two_tower(tok, max_positions=16)
    towers.pop("projection_dim")  # SigLIP has no projection: both towers' hidden sizes match
    cfg = SiglipConfig(**towers)
    torch.manual_seed(SEED)
    SiglipModel(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    pil_processor("SiglipImageProcessor")(size={"height": 32, "width": 32}).save_pretrained(out)


def _sam_hq(out: Path) -> None:
    import torch
    from transformers import SamHQConfig, SamHQModel

    cfg = SamHQConfig(**_tiny_sam_parts(vit_dim=16))
    torch.manual_seed(SEED)
    SamHQModel(cfg).save_pretrained(out)
    pil_processor("SamImageProcessor")(size={"longest_edge": 64}, pad_size={"height": 64, "width": 64}).save_pretrained(out)


def _sam2(out: Path) -> None:
    """After transformers' Sam2ModelTester, smaller: 64 px input, Hiera stages of 1, 1, 2, 1 blocks (a global-attention block must not open a pooled stage: its window size 0 is divided by the query stride)."""
    import torch
    from transformers import Sam2Config, Sam2HieraDetConfig, Sam2Model, Sam2VisionConfig

    backbone = Sam2HieraDetConfig(hidden_size=8, image_size=64, patch_stride=4, patch_kernel_size=7, patch_padding=3,
                                  blocks_per_stage=[1, 1, 2, 1], embed_dim_per_stage=[8, 16, 32, 64],
                                  num_attention_heads_per_stage=[1, 1, 2, 2], window_size_per_stage=[4, 4, 4, 2],
                                  global_attention_blocks=[3], window_positional_embedding_background_size=[4, 4])
    vision = Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=[64, 32, 16, 8],
                              backbone_feature_sizes=[[16, 16], [8, 8], [4, 4]], fpn_hidden_size=16)
    cfg = Sam2Config(vision_config=vision, image_size=64,
                     prompt_encoder_config=dict(hidden_size=16, image_size=64, patch_size=16, mask_input_channels=4),
                     mask_decoder_config=dict(hidden_size=16, mlp_dim=32, num_hidden_layers=2, num_attention_heads=2,
                                              iou_head_hidden_dim=16))
    torch.manual_seed(SEED)
    Sam2Model(cfg).save_pretrained(out)
    # Sam2ImageProcessor needs torchvision; the backend reads only this file
    (out / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "Sam2ImageProcessorFast", "size": {"height": 64, "width": 64},
        "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "rescale_factor": 1 / 255}))


def _orientation(out: Path) -> None:
    from .orientation import build_tiny_orientation

    build_tiny_orientation(out, seed=SEED)


BUILDERS = {"siglip": _siglip, "sam_hq": _sam_hq, "sam2": _sam2, "orientation": _orientation, "clip": _clip, "depth_pro": _depth_pro, "depth_anything": _depth_anything, "owlv2": _owlv2, "sam": _sam,
            "grounding_dino": _grounding_dino}


def build_tiny_perception(folder: str | Path) -> Path:
    """Build (or reuse) the tiny perception models under ``folder``; returns it."""
    folder = Path(folder)
    marker = folder / MARKER
    spec = {"version": BUILD_VERSION, "seed": SEED, "models": sorted(BUILDERS)}
    if marker.exists() and json.loads(marker.read_text()) == spec:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-perception-", dir=folder.parent))
    try:
        for name, build in BUILDERS.items():
            (tmp / name).mkdir()
            build(tmp / name)
        (tmp / MARKER).write_text(json.dumps(spec))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


if __name__ == "__main__":  # pragma: no cover
    print(build_tiny_perception(sys.argv[1] if len(sys.argv) > 1 else ".cache/perception-tiny"))
