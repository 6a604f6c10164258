"""What a bundle holds, by name: shared by the writer (bundle.py) and the reader (verdict.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from golive.results import RunMeta

FORMAT = "golive-evidence/1"
INDEX = "bundle.json"
REPORT_DIR = "report"  # every file the run wrote to its report folder, under its own name
RESULTS = f"{REPORT_DIR}/results.json"
CHECKLIST = "inputs/checklist.yaml"
PROFILE = "inputs/profile.yaml"
ATTESTATIONS_DIR = "inputs/attestations"  # one file per profile entry: 01-NAME, 02-NAME, …
WAIVERS = "inputs/waivers.yaml"
SETUP = "inputs/setup.json"  # {"commands": [...]}: the profile's setup commands

# Member kinds recorded in bundle.json.
KIND_REPORT, KIND_CHECKLIST, KIND_PROFILE = "report", "checklist", "profile"
KIND_ATTESTATIONS, KIND_WAIVERS, KIND_SETUP = "attestations", "waivers", "setup"

# A member name: relative, forward slashes, no `..`, nothing hidden.
SAFE_NAME = re.compile(r"^(?!.*(?:^|/)\.)[A-Za-z0-9_.+@=-]+(?:/[A-Za-z0-9_.+@=-]+)*$")
SHA_LENGTH = 12  # as report.html shows the target's commit


def bundle_name(meta: RunMeta) -> str:
    """`golive-evidence-<commit>.tar.gz`: the target's git commit, short; without a git
    repository, the run's start time in UTC (`golive-evidence-20261126T120003Z.tar.gz`)."""
    if meta.target_git_sha:
        tag = re.sub(r"[^0-9A-Za-z]", "", meta.target_git_sha)[:SHA_LENGTH]
    else:
        tag = ""
    return f"golive-evidence-{tag or stamp(meta.started_at)}.tar.gz"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
