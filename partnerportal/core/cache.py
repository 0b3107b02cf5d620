"""The cache backend: Django's Redis cache, with one Redis client kept per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every operation (the
connection pool is shared; the client object and its table of response callbacks are not):
165 us of a 280 us `cache.get` here, and a signed-in page makes two to five cache operations
(its session, cached fragments and bodies). A `redis.Redis` is safe to share between threads
and follows its pool across a fork, so one per pool is kept (issue 13, speed under load)."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _ReusedClients(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]  # one per server
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class PortalRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache`, keeping its clients."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusedClients
