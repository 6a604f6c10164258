"""Registers the golive pytest plugin for runs from the repository root.

`pytest checks/ --golive-target targets/demo/target.yaml` runs the checks as plain pytest;
without `--golive-target` the plugin stays inert, so `pytest` runs golive's own tests.
"""

pytest_plugins = ["golive.plugin"]
