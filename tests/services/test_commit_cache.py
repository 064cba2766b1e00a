"""`CommitCache`: per-commit values kept within a budget, failures never kept."""

from __future__ import annotations

import pytest

from hubstead.server.services.commit_cache import CommitCache


class Counting:
    """A computation that says how often it ran."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.runs = 0

    def __call__(self) -> object:
        self.runs += 1
        return self.value


def test_a_value_is_computed_once_per_commit_and_repo() -> None:
    cache = CommitCache(10)
    card = Counting({"license": "mit"})

    first = cache.get("card", "repo-a", "c1", card)
    again = cache.get("card", "repo-a", "c1", card)
    other_commit = cache.get("card", "repo-a", "c2", Counting("c2"))
    other_repo = cache.get("card", "repo-b", "c1", Counting("b"))
    other_kind = cache.get("files", "repo-a", "c1", Counting([]))

    assert first is again and card.runs == 1
    assert (other_commit, other_repo, other_kind) == ("c2", "b", [])


def listing(*paths: str) -> list[str]:
    return list(paths)


def test_the_least_recently_used_go_beyond_the_budget() -> None:
    cache = CommitCache(5)
    cache.get("files", "r", "old", lambda: listing("a", "b"), len)
    cache.get("files", "r", "used", lambda: listing("a", "b"), len)
    cache.get("files", "r", "used", lambda: listing("recomputed"), len)
    cache.get("files", "r", "new", lambda: listing("a", "b"), len)

    assert cache.get("files", "r", "old", lambda: listing("again"), len) == ["again"]
    assert cache.get("files", "r", "used", lambda: listing("recomputed"), len) == ["a", "b"]


def test_a_value_heavier_than_the_budget_is_returned_not_kept() -> None:
    cache = CommitCache(3)
    runs: list[int] = []

    def big() -> list[str]:
        runs.append(1)
        return listing(*"abcdefghij")

    cache.get("files", "r", "c", big, len)
    cache.get("files", "r", "c", big, len)

    assert len(runs) == 2


def test_a_computation_that_raises_keeps_nothing() -> None:
    cache = CommitCache(10)

    def missing() -> object:
        raise LookupError("the LFS object is not stored yet")

    with pytest.raises(LookupError):
        cache.get("safetensors", "r", "c", missing)
    assert cache.get("safetensors", "r", "c", lambda: "stored now") == "stored now"


def test_none_is_a_value_like_any_other() -> None:
    cache = CommitCache(10)
    nothing = Counting(None)

    assert cache.get("gguf", "r", "c", nothing) is None
    assert cache.get("gguf", "r", "c", nothing) is None
    assert nothing.runs == 1
