"""The folders manifest: one Grafana folder per namespace, and the dashboards that go in it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opsplane.render.grafana.ids import folder_uid

MANIFEST_VERSION = 1


def folders_manifest(placed: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Group dashboard uids by folder.

    Args:
        placed: ``(namespace, dashboard uid)`` pairs, in output order.

    Returns:
        ``{"version": 1, "folders": [{"uid", "title", "dashboards": [uid, ...]}, ...]}``.
        Each folder's ``uid`` and ``title`` are the body of Grafana's ``POST /api/folders``
        (folder title = namespace); ``dashboards`` lists the uids to import into it, in output
        order. Folders are sorted by title.
    """
    by_namespace: dict[str, list[str]] = {}
    for namespace, uid in placed:
        by_namespace.setdefault(namespace, []).append(uid)
    folders = [
        {"uid": folder_uid(namespace), "title": namespace, "dashboards": uids}
        for namespace, uids in sorted(by_namespace.items())
    ]
    return {"version": MANIFEST_VERSION, "folders": folders}
