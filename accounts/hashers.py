"""Password hashing: Argon2id with OWASP's recommended parameters.

Django's Argon2 defaults (100 MiB, 2 passes, 8 lanes) cost ~255 ms of CPU and 100 MiB per login here: the QA
report's 200 ms login target could not be met even on an idle core, and a burst of concurrent logins took the
server to ~1 GB of RSS. OWASP's Password Storage Cheat Sheet lists m=19 MiB, t=2, p=1 as an equivalent Argon2id
configuration (~30 ms here). Hashes made with other parameters still verify and are rehashed at the next login
(`must_update`).

It lives in accounts (moved from config): the users' passwords are accounts' business; settings name it by path.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2PasswordHasher


class Argon2PasswordHasher(DjangoArgon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
