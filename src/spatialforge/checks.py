"""Checks of user-given paths and model ids, run before any work starts.

Each raises :class:`~spatialforge.errors.ConfigError` with a one-line message naming the
option or file and the problem. Nothing here imports torch or transformers, so a bad path
fails in milliseconds, and a hub id that cannot be reached fails in seconds instead of after
a minute of download retries.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from pathlib import Path

from .errors import ConfigError

HUB_TIMEOUT_S = 5.0  # one metadata request to the hub; no retries
# "org/name": letters, digits, '-', '_', '.'; the hub's own rules (validate_repo_id) are checked too.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _blocking_file(path: Path) -> Path | None:
    """The first existing ancestor of ``path`` (or itself) that is a file, not a folder."""
    for p in [path, *path.parents]:
        if p.exists():
            return None if p.is_dir() else p
    return None


def out_folder(path: str | os.PathLike, option: str = "--out", shown: Path | None = None) -> Path:
    """Create the output folder ``path`` if needed and prove it is writable (``shown``: the path
    the user gave, when ``path`` is its folder)."""
    path = Path(path)
    shown = shown or path
    blocker = _blocking_file(path)
    if blocker is not None:
        where = "is a file" if blocker == shown else f"is under {blocker}, which is a file"
        raise ConfigError(f"{option} {shown}: {where}, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise ConfigError(f"{option} {shown}: cannot write {'there' if shown == path else path} "
                          f"({e.strerror or e})") from None
    return path


def out_file(path: str | os.PathLike, option: str = "--out") -> Path:
    """An output file path: not a folder, and its folder can be created and written."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a folder; give a file name (e.g. {path / 'show.html'})")
    out_folder(path.parent, option, shown=path)
    return path


def in_folder(path: str | os.PathLike, what: str) -> Path:
    """An existing input folder."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{what} {path}: no such folder")
    if not path.is_dir():
        raise ConfigError(f"{what} {path}: is a file, not a folder")
    return path


def data_path(spec: str | os.PathLike, what: str) -> str:
    """A dataset given as a folder, a file or a glob: it must exist (a glob must match)."""
    text = str(spec)
    if any(c in text for c in "*?["):
        if not glob.glob(os.path.expanduser(text)):
            raise ConfigError(f"{what} {text}: no file matches this pattern")
    elif not Path(text).expanduser().exists():
        raise ConfigError(f"{what} {text}: no such file or folder")
    return text


def looks_like_path(name: str) -> bool:
    """Hub ids are ``org/name``; anything absolute, explicitly relative or deeper is a path."""
    return name.startswith(("/", "./", "../", "~", ".\\")) or name.count("/") > 1 or (os.sep != "/" and os.sep in name)


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The network errors a hub request can raise (huggingface_hub's HTTP client varies by version)."""
    from huggingface_hub.errors import HfHubHTTPError  # deferred: see model_source

    errors: list[type[BaseException]] = [HfHubHTTPError, OSError]
    for module in ("httpx2", "httpx", "requests"):
        try:
            mod = __import__(module)
        except ImportError:
            continue
        for name in ("TransportError", "HTTPError", "RequestException"):
            cls = getattr(mod, name, None)
            if isinstance(cls, type) and issubclass(cls, BaseException):
                errors.append(cls)
    return tuple(errors)


def model_source(name: str, what: str = "--model", *, timeout: float = HUB_TIMEOUT_S) -> str:
    """A local model folder or a hub id that can be loaded from here; checked without loading it.

    A hub id must be in the local cache, or (when the hub is not switched off by
    ``HF_HUB_OFFLINE``) known to the hub: one metadata request with ``timeout`` seconds.
    """
    name = str(name)
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local)
    if local.exists():
        raise ConfigError(f"{what} {name}: is a file; give a model folder (with config.json) or a hub id org/name")
    if looks_like_path(name):
        raise ConfigError(f"{what} {name}: no such local model folder")
    # Deferred: huggingface_hub (httpx, tqdm) takes ~0.1-0.3 s to import; only hub ids pay it,
    # so the path checks above stay milliseconds (this module's promise).
    from huggingface_hub import constants, model_info, try_to_load_from_cache
    from huggingface_hub.errors import GatedRepoError, HFValidationError, RepositoryNotFoundError
    from huggingface_hub.utils import validate_repo_id

    try:
        if not _HUB_ID.match(name):
            raise HFValidationError("expected org/name")
        validate_repo_id(name)
    except HFValidationError:
        raise ConfigError(f"{what} {name!r}: neither a local model folder nor a Hugging Face hub id like org/name") from None
    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        return name
    fix = f"download it where the hub is reachable (`hf download {name} --local-dir DIR`) and pass DIR"
    if constants.HF_HUB_OFFLINE:
        raise ConfigError(f"{what} {name}: not in the local Hugging Face cache and HF_HUB_OFFLINE is set; {fix}")
    try:
        model_info(name, timeout=timeout)
    except GatedRepoError:
        return name  # exists; loading reports whether this token may read it
    except RepositoryNotFoundError:
        raise ConfigError(f"{what} {name}: no such model on the Hugging Face hub (or it is private)") from None
    except _transport_errors() as e:
        raise ConfigError(f"{what} {name}: not in the local Hugging Face cache and the hub is unreachable "
                          f"({type(e).__name__}: {e}); {fix}") from None
    return name
