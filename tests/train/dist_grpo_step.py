"""One Spatial-GRPO step in every process of a real multi-process (gloo, CPU) run.

Launched by ``test_train_distributed.py`` with ``torch.distributed.run``; each rank writes
what it saw (the gathered pair layout, its local advantages, the gathered rewards) to
``OUT/rank{r}.json`` for the test to compare.
"""

import json
import sys
from pathlib import Path

import torch


def main(out: str, model_path: str, mode: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from transformers import AutoModelForImageTextToText

    from spatialforge.models.loading import load_processor
    from spatialforge.train.config import SpatialGRPOConfig
    from spatialforge.train.data import to_grpo_dataset
    from spatialforge.train.grpo import SpatialGRPOTrainer
    from tests.train.conftest import make_pair_dataset

    seen = []

    class Recording(SpatialGRPOTrainer):
        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            n = len(self._logs["prompt"])
            seen.append({
                "pairs": [list(p) for p in self.last_layout.pairs], "unpaired": list(self.last_layout.unpaired),
                "local_advantages": output["advantages"].tolist(),
                "rewards": {k: list(v)[-n:] for k, v in self._logs["rewards"].items()},
                "local_pair_ids": [x["pair_id"] for x in inputs], "local_views": [x["view"] for x in inputs],
            })
            return output

    args = SpatialGRPOConfig(
        output_dir=str(Path(out) / "trainer"), use_cpu=True, bf16=False, gradient_checkpointing=False,
        report_to=[], save_strategy="no", per_device_train_batch_size=2, gradient_accumulation_steps=2,
        num_generations=4, max_completion_length=4, max_steps=2, learning_rate=1e-3, consistency=mode,
        reward_weights=[0.5, 0.5], seed=0, disable_tqdm=True, logging_steps=1,
    )

    def format(completions, **kw):  # noqa: A001
        return [1.0] * len(completions)

    def semantic(completions, view, **kw):
        return [(0.9 if v == "original" else 0.3) + 0.01 * (len(c[0]["content"]) % 7)
                for c, v in zip(completions, view)]

    model = AutoModelForImageTextToText.from_pretrained(model_path)
    trainer = Recording(model=model, reward_funcs=[format, semantic], args=args,
                        train_dataset=to_grpo_dataset(make_pair_dataset(8), "think"),
                        processing_class=load_processor(model_path))
    trainer.train()
    rank = trainer.accelerator.process_index
    info = {"world": trainer.accelerator.num_processes, "generation_batch_size": args.generation_batch_size,
            "batches": seen, "logs": trainer.state.log_history}
    (Path(out) / f"rank{rank}.json").write_text(json.dumps(info))


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(*sys.argv[1:4])
