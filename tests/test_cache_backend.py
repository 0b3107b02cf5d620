"""The cache backend keeps one Redis client per connection pool (`core.cache`, issue 13) and
still reads and writes as Django's Redis cache does."""

from __future__ import annotations

from django.core.cache import cache, caches

from partnerportal.core.cache import PortalRedisCache


def test_the_cache_keeps_its_client_and_reads_what_it_wrote() -> None:
    backend = caches["default"]
    assert isinstance(backend, PortalRedisCache)
    client = backend._cache.get_client("a", write=True)

    cache.set("core-cache-test", {"x": 1}, 30)
    assert cache.get("core-cache-test") == {"x": 1}
    assert cache.get_or_set("core-cache-test-2", lambda: "made", 30) == "made"
    cache.delete_many(["core-cache-test", "core-cache-test-2"])
    assert cache.get("core-cache-test") is None

    assert backend._cache.get_client("b") is client
