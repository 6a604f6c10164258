"""golive: a deployment-readiness gate for web apps that take payments with Stripe.

The design card keeps `checks/`, `smoke/`, `loadtests/` and `reports/` at the top of the
repository, and the wheel maps them under `golive.` (pyproject.toml) so an installed golive
puts no generic top-level package into site-packages. In a source checkout those folders
sit beside this package instead: adding the checkout to `__path__` makes `golive.checks`,
`golive.reports`, … import from them, so the code has one name for each in both layouts.
"""

from pathlib import Path as _Path

__version__ = "0.1.0"

_HERE = _Path(__file__).resolve().parent
if not (_HERE / "checklist.yaml").is_file() and (_HERE.parent / "checklist.yaml").is_file():
    __path__.append(str(_HERE.parent))
