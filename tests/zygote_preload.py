"""What a `golive gate` imports, done once in the tests' zygote (tests/zygote.py) before
it forks a child per command."""

import golive.cli  # noqa: F401
import golive.gate  # noqa: F401
import golive.plugin  # noqa: F401
import golive.reports.writer  # noqa: F401
import golive.sandbox.server  # noqa: F401
from golive import registry

registry.discover()  # every check module, under the names the gate's pytest gives them
