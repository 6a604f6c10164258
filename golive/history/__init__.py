"""A run compared with earlier ones: `golive diff`, `golive gate --baseline` and `--history`.

diff.py compares two RunResults item by item; measures.py finds the numbers checks measured
against thresholds; store.py loads results.json files and keeps the history folder; trend.py
turns the kept runs into per-item trends; render.py writes a diff for the terminal and for
Markdown; cli.py holds `golive diff` and the gate's options.
"""
