"""Installed package versions, read from their metadata without importing them (torch's
import alone takes seconds)."""

from __future__ import annotations

import importlib.metadata


def installed_version(package: str, missing: str = "") -> str:
    """`package`'s installed version, or `missing` when it is not installed."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return missing
