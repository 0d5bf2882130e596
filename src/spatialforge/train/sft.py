"""SFT recipe on TRL's ``SFTTrainer``: our QA data with task sampling ratios, optional
general-VQA mixing (1 general : 7 spatial by default), optional LoRA, optional think/answer
prompt.  Loss is on the completion only (TRL's default for prompt-completion data).

PaliGemma is a prefix-LM (full attention over image + prompt, causal over the answer,
``token_type_ids`` 0 / 1), which TRL 1.16's prompt-completion collator does not build (it
runs the processor on the completions alone, and PaliGemma's processor requires images).
For PaliGemma the trainer gets :class:`PrefixLMCollator`, the processor's own ``suffix=``
path: labels on the answer and its ``<eos>`` only.
"""

from __future__ import annotations

from typing import Any

from trl import SFTTrainer
from trl.data_utils import prepare_multimodal_messages

from ..models.rgbd import base_model_type
from ..models.rgbd_processor import add_point_maps_to_trainer
from ..rewards.format import completion_to_text
from .data import prepare_datasets, single_image_reason
from .recipes import Recipe, model_and_processor
from .resume import ResumeWeightsMixin


class SpatialSFTTrainer(ResumeWeightsMixin, SFTTrainer):
    """TRL's ``SFTTrainer`` whose resume restores the trained weights (see :mod:`.resume`)."""


class PrefixLMCollator:
    """Batches for prefix-LM VLMs (PaliGemma): ``processor(text=prompt, images, suffix=answer)``.

    Examples are TRL prompt-completion rows with one ``image`` (or ``images``); the prompt is
    rendered with the processor's chat template (image tokens, then the text).
    """

    def __init__(self, processor: Any, max_length: int | None = None):
        self.processor = processor
        self.max_length = max_length

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        prompts, answers, images = [], [], []
        for ex in examples:
            imgs = ex["images"] if "images" in ex else [ex["image"]]
            msgs = prepare_multimodal_messages(ex["prompt"], images=imgs)
            prompts.append(self.processor.apply_chat_template(msgs, tokenize=False, add_generation_prompt=False))
            answers.append(completion_to_text(ex["completion"]))
            images.append([im.convert("RGB") for im in imgs])
        kw = {"truncation": True, "max_length": self.max_length} if self.max_length else {}
        return self.processor(text=prompts, images=images, suffix=answers, padding="longest",
                              return_tensors="pt", **kw)


def build_sft_trainer(recipe: Recipe, model: Any = None, processor: Any = None, callbacks: list | None = None,
                      point_map_estimator: Any = None):
    """An ``SFTTrainer`` for ``recipe`` (model and processor loaded from the recipe unless given).

    RGB-D models get point maps from the rows' depth columns; ``point_map_estimator`` (image ->
    point map) covers rows without depth, which are an error otherwise.
    """
    if recipe.kind != "sft":
        raise ValueError(f"build_sft_trainer needs an sft recipe, got kind={recipe.kind!r}")
    args = recipe.training_args()  # before loading the model: DeepSpeed ZeRO-3 init needs it
    model, processor = model_and_processor(recipe.model, model, processor)
    train, evald = prepare_datasets(recipe.data, "sft", single_image=single_image_reason(model))
    collator = None
    if base_model_type(model.config) == "paligemma":  # an RGB-D PaliGemma is a prefix-LM too
        collator = PrefixLMCollator(processor, args.max_length)
        args.remove_unused_columns = False
    trainer = SpatialSFTTrainer(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train,
        eval_dataset=evald,
        processing_class=processor,
        peft_config=recipe.lora.to_peft(model) if recipe.lora else None,
        callbacks=callbacks,
    )
    if getattr(model.config, "point_branch", None) is not None:  # RGB-D model (models/rgbd.py): add point maps
        add_point_maps_to_trainer(trainer, point_map_estimator)
    return trainer


def run_sft(recipe: Recipe, **kwargs: Any):
    """Build the trainer, train (resuming when ``training.resume_from_checkpoint`` says so), save."""
    trainer = build_sft_trainer(recipe, **kwargs)
    trainer.train(resume_from_checkpoint=recipe.resume_arg)
    trainer.save_model()
    return trainer
