"""Re-export of :mod:`spatialforge.prompts` (the prompt styles moved there: eval and train share them).

Kept for the ``train/`` modules that still import from here (``train/config.py``,
``train/data.py``); new code imports :mod:`spatialforge.prompts`.
"""

from ..prompts import (PLACEHOLDER, PROMPT_STYLES, SPATIAL_TEMPLATE, THINK_TEMPLATE, PromptStyle, format_prompt,
                       get_prompt_style, register_prompt_style)

__all__ = ["PLACEHOLDER", "PROMPT_STYLES", "SPATIAL_TEMPLATE", "THINK_TEMPLATE", "PromptStyle", "format_prompt",
           "get_prompt_style", "register_prompt_style"]
