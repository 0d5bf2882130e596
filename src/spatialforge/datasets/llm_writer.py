"""The optional LLM writer of a dataset run: rewrites free-form problem-solving records."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..scene import Scene
from ..tasks.llm import rewrite_record, writer_client
from ..tasks.view import get_view

if TYPE_CHECKING:  # pragma: no cover
    from ..llm_client import ChatClient
    from ..tasks.llm import LLMWriterConfig


class LLMRewriter:
    """Passes a scene's free-form problem-solving records through ``tasks.llm.rewrite_record``.

    A failed rewrite (server down, HTTP error, bad reply, a dropped object reference, no API
    key) keeps the template record and returns an ``(item, reason)`` note for the manifest.
    After ``max_consecutive_failures`` transport failures in a row the writer stops calling
    the server for the rest of this worker's run (one note says so).  The API key is read
    from the environment by ``rewrite_record`` and scrubbed from every reason.
    """

    def __init__(self, config: "LLMWriterConfig", max_consecutive_failures: int = 5) -> None:
        self.config = config
        self.max_consecutive_failures = max_consecutive_failures
        self._fails = 0
        self._disabled: str | None = None
        self._client: "ChatClient | None" = None  # made on first use (needs the key)

    def _scrub(self, text: str) -> str:
        key = os.environ.get(self.config.api_key_env) if self.config.api_key_env else None
        text = text.replace(key, "***") if key else text
        return text[:300]

    def rewrite_scene(self, scene: Scene, records: list[Any]) -> tuple[list[Any], list[tuple[str, str]], dict[str, int]]:
        out, notes, counts = [], [], {"rewritten": 0, "failed": 0}
        views: dict[bool, Any] = {}
        for rec in records:
            if rec.task != "problem_solving" or rec.format != "free":
                out.append(rec)
                continue
            item = f"{rec.id}/llm_writer"
            if self._disabled is not None:
                counts["failed"] += 1
                notes.append((item, f"LLM writer not called, kept the template question: {self._disabled}"))
                out.append(rec)
                continue
            flip = bool(rec.flipped)
            if flip not in views:  # the view the record talks about (its references are that view's)
                views[flip] = get_view(scene.mirrored() if flip != bool(scene.flipped) else scene)
            v = views[flip]
            errors: list[str] = []
            try:
                refs = [v.ref_text[v.idx(o)] for o in rec.object_ids]
                if self._client is None:
                    self._client = writer_client(self.config)
                new = rewrite_record(rec, refs, self.config, client=self._client, errors=errors)
            except RuntimeError as e:  # the key's environment variable is unset; an object without reference
                new, errors = rec, [f"{type(e).__name__}: {e}"]
                self._disabled = self._scrub(errors[0])
            if new is not rec:
                self._fails = 0
                counts["rewritten"] += 1
                out.append(new)
                continue
            counts["failed"] += 1
            if errors:
                reason = f"request failed ({self._scrub(errors[-1])})"
                self._fails += 1
                if self._fails >= self.max_consecutive_failures and self._disabled is None:
                    self._disabled = f"{self._fails} requests in a row failed, last: {self._scrub(errors[-1])}"
            else:
                reason = "reply rejected (not JSON with a question, or an object reference was dropped)"
            notes.append((item, f"LLM writer failed, kept the template question: {reason}"))
            out.append(rec)
        return out, notes, counts
