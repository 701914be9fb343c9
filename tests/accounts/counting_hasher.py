"""The suite's password hasher, set once for the whole run (tests/conftest.py PASSWORD_HASHERS): a real hasher that
counts the hashes it computes and can hold them at a gate (open unless a test closes it).

It is Django's MD5 hasher (fast, where Argon2 is deliberately slow) with `encode` counted:
`verify`, `set_password` and the dummy hash Django computes for an unknown email all go through it. While the gate
is closed each hash waits there, so a test can gather every parallel request that got as far as the hash before
letting any of them finish: a limit checked before the hash but counted after it lets them all in.
"""

import threading

from django.contrib.auth.hashers import MD5PasswordHasher

PATH = "tests.accounts.counting_hasher.CountingMD5PasswordHasher"


class CountingMD5PasswordHasher(MD5PasswordHasher):
    _condition = threading.Condition()
    _gate = threading.Event()
    calls = 0  # hashes computed since the last hold()
    waiting = 0  # hashes waiting at the gate now

    @classmethod
    def hold(cls) -> None:
        """Close the gate and start counting from zero."""
        with cls._condition:
            cls.calls = 0
            cls._gate.clear()

    @classmethod
    def open(cls) -> None:
        cls._gate.set()

    @classmethod
    def wait_until(cls, predicate, timeout: float = 120) -> bool:
        """Wait until predicate(waiting) holds; it is evaluated again whenever a hash arrives or `notify` is called."""
        with cls._condition:
            return cls._condition.wait_for(lambda: predicate(cls.waiting), timeout=timeout)

    @classmethod
    def notify(cls) -> None:
        with cls._condition:
            cls._condition.notify_all()

    def encode(self, password, salt):
        cls = type(self)
        with cls._condition:
            cls.calls += 1
            cls.waiting += 1
            cls._condition.notify_all()
        try:
            cls._gate.wait(timeout=120)
        finally:
            with cls._condition:
                cls.waiting -= 1
        return super().encode(password, salt)


CountingMD5PasswordHasher.open()
