"""Reading settings from the environment, with `<NAME>_FILE` variants (operations contract)."""

import os
from pathlib import Path


def env_str(name: str, default: str = "") -> str:
    """Value of `name`, else the content of the file named by `<name>_FILE`, else `default`."""
    value = os.environ.get(name)
    if value is not None:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise RuntimeError(f"{name}_FILE points at {path!r}, which cannot be read: {exc.strerror}") from None
    return default


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name, "")
    if raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise RuntimeError(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name, "")
    if raw == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]
