"""`HfApi` methods about gated repos' access requests: ask, list, accept, reject, cancel, grant.

Users ask for access with `request_access` (a hubstead extension: the Hub takes requests in its
web form, which this posts); a gated repo's managers (writers of its namespace) list the
requests by status and decide them. A decision takes effect at the user's next download.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from hubstead.client import models
from hubstead.client._api_base import ApiBase
from hubstead.client._urls import api_repo_path, repo_type_of, validate_repo_id
from hubstead.errors import HFValidationError

AccessStatus = Literal["pending", "accepted", "rejected"]


class AccessRequestMethods(ApiBase):
    """Access request methods of `HfApi`."""

    def request_access(
        self,
        repo_id: str,
        *,
        fields: dict[str, str] | None = None,
        repo_type: str | None = None,
        token: bool | str | None = None,
    ) -> models.AccessRequest:
        """Ask for access to a gated repo's files, with the answers to its gate form.

        In `auto` mode the request is accepted at once; in `manual` mode it waits for the
        repo's managers. Asking again returns your request as it stands (a rejection stays).

        Raises:
            BadRequestError: the repo is not gated, or the fields break a limit.
            RepositoryNotFoundError: no such repo (or not visible to you).
            HfHubHTTPError: 401 without a token, 403 with a read token.
        """
        prefix = repo_type_of(repo_type).url_prefix
        answer = self._send(
            "POST",
            f"{prefix}{validate_repo_id(repo_id)}/ask-access",
            data=fields or {},
            token=token,
            action=f"ask for access to {repo_id}",
        )
        return models.AccessRequest.from_json(answer)

    def list_pending_access_requests(
        self, repo_id: str, *, repo_type: str | None = None, token: bool | str | None = None
    ) -> Iterator[models.AccessRequest]:
        """The repo's requests waiting for a decision, oldest first (managers only).

        Raises:
            BadRequestError: the repo is not gated.
            HfHubHTTPError: 403 if you may not manage its requests.
        """
        return self._list_access_requests(repo_id, "pending", repo_type, token)

    def list_accepted_access_requests(
        self, repo_id: str, *, repo_type: str | None = None, token: bool | str | None = None
    ) -> Iterator[models.AccessRequest]:
        """The users who may read the repo's files through a request, oldest first.

        Raises:
            BadRequestError: the repo is not gated.
            HfHubHTTPError: 403 if you may not manage its requests.
        """
        return self._list_access_requests(repo_id, "accepted", repo_type, token)

    def list_rejected_access_requests(
        self, repo_id: str, *, repo_type: str | None = None, token: bool | str | None = None
    ) -> Iterator[models.AccessRequest]:
        """The repo's rejected requests, oldest first.

        Raises:
            BadRequestError: the repo is not gated.
            HfHubHTTPError: 403 if you may not manage its requests.
        """
        return self._list_access_requests(repo_id, "rejected", repo_type, token)

    def accept_access_request(
        self,
        repo_id: str,
        user: str | None = None,
        *,
        request_id: str | None = None,
        repo_type: str | None = None,
        token: bool | str | None = None,
    ) -> models.AccessRequest:
        """Accept a pending or rejected request: the user may read the repo's files.

        Raises:
            HFValidationError: neither or both of `user` and `request_id` (nothing is sent).
            HfHubHTTPError: 404 no such user or request, or it is accepted already; 403 if
                you may not manage the repo's requests.
        """
        return self._handle(repo_id, user, request_id, "accepted", repo_type, None, token)

    def reject_access_request(
        self,
        repo_id: str,
        user: str | None = None,
        *,
        request_id: str | None = None,
        repo_type: str | None = None,
        rejection_reason: str | None,
        token: bool | str | None = None,
    ) -> models.AccessRequest:
        """Reject a pending or accepted request, with a reason of at most 200 characters.

        Raises:
            HFValidationError: neither or both of `user` and `request_id` (nothing is sent).
            BadRequestError: a reason over 200 characters.
            HfHubHTTPError: 404 no such user or request, or it is rejected already; 403 if
                you may not manage the repo's requests.
        """
        return self._handle(
            repo_id, user, request_id, "rejected", repo_type, rejection_reason, token
        )

    def cancel_access_request(
        self,
        repo_id: str,
        user: str | None = None,
        *,
        request_id: str | None = None,
        repo_type: str | None = None,
        token: bool | str | None = None,
    ) -> models.AccessRequest:
        """Put an accepted or rejected request back to pending (access ends).

        Raises:
            HFValidationError: neither or both of `user` and `request_id` (nothing is sent).
            HfHubHTTPError: 404 no such user or request, or it is pending already; 403 if you
                may not manage the repo's requests.
        """
        return self._handle(repo_id, user, request_id, "pending", repo_type, None, token)

    def grant_access(
        self,
        repo_id: str,
        user: str,
        *,
        repo_type: str | None = None,
        token: bool | str | None = None,
    ) -> models.AccessRequest:
        """Give a user access without a request of theirs.

        Raises:
            BadRequestError: the repo is not gated, or the user has access already.
            HfHubHTTPError: 404 no such user; 403 if you may not manage the repo's requests.
        """
        answer = self._send(
            "POST",
            f"{api_repo_path(repo_type, repo_id)}/user-access-request/grant",
            json={"user": user},
            token=token,
            action=f"grant {user} access to {repo_id}",
        )
        return models.AccessRequest.from_json(answer)

    def _list_access_requests(
        self,
        repo_id: str,
        status: AccessStatus,
        repo_type: str | None,
        token: bool | str | None,
    ) -> Iterator[models.AccessRequest]:
        path = f"{api_repo_path(repo_type, repo_id)}/user-access-request/{status}"
        for item in self.session.paginate(path, token=token):
            yield models.AccessRequest.from_json(item)

    def _handle(
        self,
        repo_id: str,
        user: str | None,
        request_id: str | None,
        status: AccessStatus,
        repo_type: str | None,
        rejection_reason: str | None,
        token: bool | str | None,
    ) -> models.AccessRequest:
        if (user is None) == (request_id is None):
            raise HFValidationError("Name the request by exactly one of user, request_id")
        payload: dict[str, Any] = {"status": status}
        if user is not None:
            payload["user"] = user
        else:
            payload["requestId"] = request_id
        if rejection_reason is not None:
            payload["rejectionReason"] = rejection_reason
        verb = {"accepted": "accept", "rejected": "reject", "pending": "cancel"}[status]
        answer = self._send(
            "POST",
            f"{api_repo_path(repo_type, repo_id)}/user-access-request/handle",
            json=payload,
            token=token,
            action=f"{verb} the access request of {user or request_id} to {repo_id}",
        )
        return models.AccessRequest.from_json(answer)
