"""Evidence bundles: one run's reports and inputs in a single redacted archive.

`golive gate --bundle` (and `golive smoke`/`golive load`) writes
`golive-evidence-<commit>.tar.gz` once every report is written (bundle.py): the files the
run wrote to its report folder, the inputs it judged with (checklist, profile, attestation
and waiver files as read after the setup commands, the setup commands' texts), all passed
through the run's Redactor, and an index, bundle.json. `golive verdict BUNDLE` (verdict.py)
recomputes the verdict from the bundle alone. docs/evidence.md describes the layout.
"""
