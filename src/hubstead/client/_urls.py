"""Where things live on a hub: API paths, resolve URLs, and checks on what goes into them."""

from __future__ import annotations

from urllib.parse import quote

from hubstead.errors import HFValidationError
from hubstead.protocol import DEFAULT_BRANCH, RepoType, name_problem

REPO_TYPES = tuple(t.value for t in RepoType)


def repo_type_of(repo_type: str | None) -> RepoType:
    """The repo type named by a caller (`None` means model).

    Raises:
        HFValidationError: an unknown type.
    """
    try:
        return RepoType(repo_type or "model")
    except ValueError:
        raise HFValidationError(
            f"Invalid repo_type {repo_type!r}: one of {', '.join(REPO_TYPES)}"
        ) from None


def validate_repo_id(repo_id: str) -> str:
    """`repo_id` if it is `name` or `namespace/name` under the Hub's rules.

    Raises:
        HFValidationError: anything else (nothing is sent).
    """
    parts = repo_id.split("/") if isinstance(repo_id, str) else []
    if not 1 <= len(parts) <= 2:
        raise HFValidationError(f"Repo id must be 'name' or 'namespace/name': {repo_id!r}")
    for part in parts:
        problem = name_problem(part)
        if problem is not None:
            raise HFValidationError(f"Invalid repo id {repo_id!r}: {part!r} {problem}")
    return repo_id


def api_repo_path(repo_type: str | None, repo_id: str) -> str:
    """`api/{models|datasets|spaces}/{repo_id}`."""
    return f"api/{repo_type_of(repo_type).api_segment}/{validate_repo_id(repo_id)}"


def quote_revision(revision: str) -> str:
    """A revision as one path segment (`refs/pr/1` → `refs%2Fpr%2F1`)."""
    return quote(revision, safe="")


def revision_segment(revision: str | None) -> str:
    """A revision (default: the default branch) as one path segment."""
    return quote_revision(revision or DEFAULT_BRANCH)


def resolve_url(
    endpoint: str, repo_id: str, filename: str, *, repo_type: str | None, revision: str
) -> str:
    """The download URL of a file at a revision."""
    prefix = repo_type_of(repo_type).url_prefix
    return (
        f"{endpoint}/{prefix}{validate_repo_id(repo_id)}/resolve/"
        f"{quote_revision(revision)}/{quote(filename)}"
    )
