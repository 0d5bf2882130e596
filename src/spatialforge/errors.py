"""The errors spatialforge expects, in one hierarchy.

Catch these (and only these) where one bad input must not stop a batch: a scene, image or
record that fails with a ``DataError`` is skipped and its message recorded in the run
manifest. Anything else (``TypeError``, ``KeyError`` from our own code, ...) is a bug and
propagates. The CLI turns a ``SpatialforgeError`` into a one-line message and exit code 2
(``ConfigError``) or 1; it never prints a traceback for them.
"""

from __future__ import annotations


class SpatialforgeError(Exception):
    """Base of every error that is the input's fault, not the code's; its message names the file or field."""


class DataError(SpatialforgeError, ValueError):
    """One input item (file, scene, record, sample) is unreadable or malformed: skip it, record why."""


class ConfigError(SpatialforgeError, ValueError):
    """A command-line option, config file or model path is wrong: nothing was started."""


class SceneError(DataError):
    """A scene record or one of its files is invalid; the message says which and why."""
