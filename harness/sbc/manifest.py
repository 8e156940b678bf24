"""``manifest.json`` of an SBC run: provenance of its first session; each resumed session is appended."""

from __future__ import annotations

import json

from harness import provenance
from harness.results import write_json_atomic
from harness.sbc.plan import SBCPlan
from harness.sbc.store import SBCStore
from harness.threads import worker_env


def store_manifest(store: SBCStore, plan: SBCPlan, command: list[str] | None, execution: dict | None = None) -> None:
    """Provenance of the first session; a resumed session is appended to ``sessions``.

    ``execution``: where the replicates run ({"scheduler": ..., "workers": ...}), per session.
    """
    settings = {**plan.to_dict(), "thread_env": worker_env(1, plan.settings.device, {})}
    manifest = provenance.collect(settings, command)
    if execution is not None:
        manifest["execution"] = execution
    path = store.root / "manifest.json"
    if path.exists():
        try:
            first = json.loads(path.read_text())
        except json.JSONDecodeError:
            first = None
        if isinstance(first, dict):
            session = {k: manifest[k] for k in ("created", "command", "machine", "git", "execution") if k in manifest}
            manifest = {**first, "settings": settings, "sessions": first.get("sessions", []) + [session]}
    write_json_atomic(path, manifest)
