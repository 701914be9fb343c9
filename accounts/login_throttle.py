"""Failed-login limits, per account and per client address, counted before the password is checked.

Only failures count, so a school of hundreds behind one address can sign in at once, while guessing one
account's password stops after a few tries. Windows open at the first failure and live in the shared cache.

An attempt first takes a place in both counters (`LoginAttempt.begin`, an atomic increment each, config/counters.py)
and is refused when either count is then over its limit; only an attempt holding both places goes on to the
password hash. So however many guesses arrive at once, at most LOGIN_FAILURES_PER_ACCOUNT of them reach the hash
of one account per window (and LOGIN_FAILURES_PER_ADDRESS from one address), where checking first and counting
after the hash let every parallel guess through. What happens to the places afterwards:

- a failure keeps them: the place is the failure's count;
- a success gives the address's place back and clears the account's count (a success forgives the account's
  failures before it, as it always did); its own place never blocks it, since an attempt is refused only when
  its count is over the limit, and the count includes itself;
- a refused attempt gives back what it took (it reached no hash), and so does an attempt that ended in an error.

Hence a right password is refused once the failures fill the account's limit. While a correct login is being
checked it holds a place like any attempt, so an attempt arriving when every place is taken (by failures and by
attempts in progress) is refused; a place is held only for the length of one hash.

If the cache is unreachable the limits fail open and the outage is logged (see config/throttling.py).
"""

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from config import counters

logger = logging.getLogger("thebot.throttling")

T = TypeVar("T")


class LoginThrottled(Exception):
    """A login attempt refused before its password was checked: a failure limit is reached."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins; retry after {retry_after} s")
        self.retry_after = retry_after


def client_address(request) -> str:
    """The client's address, honouring NUM_PROXIES the same way DRF's throttles do."""
    return BaseThrottle().get_ident(request)


def _account_key(email: str) -> str:
    return "login:acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _address_key(address: str) -> str:
    return f"login:addr:{address}"


class LoginAttempt:
    """One login attempt's places in the failure counters: `begin()` before the password is checked, then
    `succeeded()` or `abandon()` (an error, not a wrong password); a failure needs no call."""

    def __init__(self, email: str, address: str):
        self.email = email
        self.limits = [
            (_address_key(address), settings.LOGIN_FAILURES_PER_ADDRESS),
            (_account_key(email), settings.LOGIN_FAILURES_PER_ACCOUNT),
        ]
        self.held: dict[str, counters.Window] = {}

    def begin(self) -> int | None:
        """Take a place in each counter; the seconds to wait when a limit is reached (nothing is held then),
        else None: the attempt may check the password."""
        window_length = settings.LOGIN_FAILURE_WINDOW_SECONDS
        for key, limit in self.limits:
            try:
                window = counters.hit(key, window_length)
            except Exception:
                logger.exception("login throttle cache unavailable; attempt allowed")
                continue
            self.held[key] = window
            if window.count > limit:
                self.abandon()
                return window.retry_after()
        return None

    def succeeded(self) -> None:
        account = _account_key(self.email)
        try:
            for key, window in self.held.items():
                if key == account:
                    counters.reset(key)
                else:
                    counters.release(key, window.start)
        except Exception:
            logger.exception("login throttle cache unavailable")
        self.held = {}

    def abandon(self) -> None:
        """Give back every place taken: the attempt reached no verdict on the password."""
        try:
            for key, window in self.held.items():
                counters.release(key, window.start)
        except Exception:
            logger.exception("login throttle cache unavailable")
        self.held = {}


def throttled_login(request, email: str, check: Callable[[], T], *, succeeded: Callable[[T], bool]) -> T:
    """The password check `check()` of a login by `email` from `request`'s client, under the failure limits: the
    attempt takes its places first (LoginThrottled, with the seconds to wait, when a limit is reached; `check` is
    not called then), gives them back if `check` raises, and counts as a failure unless `succeeded(result)`. The
    one orchestration of the API login (accounts/views.py) and the admin site's (accounts/admin_site.py)."""
    attempt = LoginAttempt(email, client_address(request))
    wait = attempt.begin()
    if wait is not None:
        raise LoginThrottled(wait)
    try:
        result = check()
    except BaseException:
        attempt.abandon()
        raise
    if succeeded(result):
        attempt.succeeded()
    return result
