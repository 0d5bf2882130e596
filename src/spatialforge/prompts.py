"""Prompt styles that wrap a question before it reaches a model, shared by evaluation (``eval/``)
and training (``train/``: the SFT / GRPO rows use the same styles).

- ``plain``: the question as it is.
- ``think``: SVQA-R1's training/inference prompt (Table 9 "Original"; also SPEC §7).
- ``spatial``: SVQA-R1 Table 9's 4-step "Spatial Reasoning Prompt", copied from the paper
  text (Appendix E).  The paper prints ``{ Question }``; that placeholder is the question.

Templates hold one ``{question}`` placeholder, substituted literally (questions may contain
braces).  Tests snapshot the exact text of each style.
"""

from __future__ import annotations

from dataclasses import dataclass

PLACEHOLDER = "{question}"


@dataclass(frozen=True)
class PromptStyle:
    name: str
    template: str
    source: str = ""

    def __post_init__(self) -> None:
        if self.template.count(PLACEHOLDER) != 1:
            raise ValueError(f"prompt style {self.name!r}: template needs exactly one {PLACEHOLDER} placeholder")

    def format(self, question: str) -> str:
        return self.template.replace(PLACEHOLDER, question)


PROMPT_STYLES: dict[str, PromptStyle] = {}


def register_prompt_style(name: str, template: str, source: str = "") -> PromptStyle:
    if name in PROMPT_STYLES:
        raise ValueError(f"prompt style {name!r} is already registered")
    PROMPT_STYLES[name] = style = PromptStyle(name, template, source)
    return style


def get_prompt_style(name: str) -> PromptStyle:
    try:
        return PROMPT_STYLES[name]
    except KeyError:
        raise KeyError(f"unknown prompt style {name!r}; choose from: {', '.join(sorted(PROMPT_STYLES))}") from None


def format_prompt(style: str, question: str) -> str:
    """``question`` wrapped in the named prompt style."""
    return get_prompt_style(style).format(question)


THINK_TEMPLATE = (
    "{question} First output the thinking process in <think> </think> tags and then output the final "
    "answer in <answer> </answer> tags."
)

SPATIAL_TEMPLATE = (
    "Question: {question} Use the following 4 steps sequentially to answer the question: "
    "Step 1 **Analyze the question** "
    "Step 2 **Identify up to 10 reference scales in the image, ranging from large to small sizes, and list "
    "them in the specified format** "
    "- A reference scale must be typical in size. "
    "- A reference scale can be the dimensions of an object or an object part. "
    "- A reference scale must NOT be floor tiles or floor planks. "
    "- Formulate the reference scales using the format: \"\"\"The [choose from front-to-back, side-to-side, "
    "left-to-right, diameter, height (top to bottom edge), or mounting height (bottom edge to floor)] of "
    "[object or object part] is approximately [dimension estimate].\"\"\" "
    "Step 3 **Propose a robust step-by-step plan to answer the question by using the reference scales in "
    "Step 2** "
    "- A robust step-by-step plan performs the estimation in a coarse-to-fine manner. "
    "- First, use a reliable and large-sized reference scale as the primary reference for estimation. "
    "- Then, gradually use a reliable and smaller-sized reference scale for adjustment. "
    "- Repeat until the estimation is precise enough. "
    "- When performing visual comparison, be aware of perspective distortion. "
    "- Do NOT rely on pixel measurements from the images. "
    "Step 4 **Focus on the image and follow the plan in Step 3 to answer the question**"
)

register_prompt_style("plain", PLACEHOLDER, "the benchmark question unchanged")
register_prompt_style("think", THINK_TEMPLATE, "SVQA-R1 Table 9 (a) / SPEC §7")
register_prompt_style("spatial", SPATIAL_TEMPLATE, "SVQA-R1 Table 9 (b), Appendix E")

