"""Failed-login throttling in Redis, per account and per client IP.

A fixed window per key: the first failure starts a window of LOGIN_WINDOW_SECONDS; once
LOGIN_MAX_FAILURES failures are in it, further attempts are refused until it ends. When Redis
is unreachable the check is skipped (logged): a broken cache must not lock everyone out.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError

from portal.extensions import redis_client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThrottleState:
    blocked: bool
    retry_after: int = 0


def _keys(email: str, ip: str | None) -> list[str]:
    # Hash the address so Redis holds no personal data.
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    keys = [f"postroom:login-fail:acct:{account}"]
    if ip:
        keys.append(f"postroom:login-fail:ip:{ip}")
    return keys


def login_throttle_state(email: str, ip: str | None) -> ThrottleState:
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    try:
        redis = redis_client()
        for key in _keys(email, ip):
            count = int(redis.get(key) or 0)
            if count >= limit:
                return ThrottleState(True, max(int(redis.ttl(key)), 1))
    except RedisError:
        log.warning("login throttle unavailable: Redis did not answer")
    return ThrottleState(False)


def record_login_failure(email: str, ip: str | None) -> None:
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    try:
        pipe = redis_client().pipeline()
        for key in _keys(email, ip):
            pipe.incr(key)
            pipe.expire(key, window, nx=True)
        pipe.execute()
    except RedisError:
        log.warning("login throttle unavailable: Redis did not answer")


def clear_account_failures(email: str) -> None:
    try:
        redis_client().delete(_keys(email, None)[0])
    except RedisError:
        pass
