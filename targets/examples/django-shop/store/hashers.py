"""A PBKDF2 hasher with few iterations — for this example only, NOT for production.

Why: golive's load tests sign in the whole pool of seeded shoppers (shopper01…shopper50)
at once, and Django's default PBKDF2 (1,000,000 iterations in Django 5.2) spends about a
second of CPU per login on a small machine; the seed would take as long per user. With
2,000 iterations a login costs a few milliseconds, so the load the harness measures is the
shop's, not the password hashing's.

A real deployment removes this hasher from PASSWORD_HASHERS (Django's own PBKDF2 stays
listed after it, so hashes made here keep verifying, and Django re-hashes them with the
strong hasher at the next login once it is first).
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class DemoPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_demo"  # its own name, so its hashes are never mistaken
    iterations = 2_000
