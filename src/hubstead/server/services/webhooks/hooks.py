"""`WebhookService`: users' webhooks — what they watch, where they send — and their delivery log.

A webhook belongs to the user whose token created it; nobody else sees or changes it (another
user's webhook answers as a missing one). What it may watch is checked when it is set: a repo
the owner can see, a user or an organization that exists. What it is told is checked again at
each event (`dispatch.py`): a repo that turned private after it was watched tells nothing.

Limits, each refused with a 400: 100 webhooks per user, 1 to 100 watched entries, a URL of at
most 2,048 characters (`targets.py`), a secret of 1 to 256 printable ASCII characters.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.webhooks import (
    DeliveryRecord,
    DeliveryState,
    Domain,
    NewWebhook,
    Watch,
    WatchKind,
    WebhookRecord,
)
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.pages import Page
from hubstead.server.services.repos import RepoService
from hubstead.server.services.webhooks.deliveries import DeliveryQueue
from hubstead.server.services.webhooks.targets import TargetPolicy
from hubstead.server.storage.errors import AlreadyExistsError, CapacityError
from hubstead.server.storage.webhooks import WebhookStore

MAX_WEBHOOKS = 100
MAX_WATCHED = 100
MAX_SECRET = 256
# The Hub's client names the discussion domain in the plural in places.
_DOMAIN_ALIASES = {"discussions": Domain.DISCUSSION}
_ACCOUNT_KINDS = {WatchKind.USER: AccountKind.USER, WatchKind.ORG: AccountKind.ORG}


class WebhookService:
    """Webhooks of the calling user."""

    def __init__(
        self,
        store: WebhookStore,
        repos: RepoService,
        auth: AuthService,
        policy: TargetPolicy,
        queue: DeliveryQueue,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._repos = repos
        self._auth = auth
        self._policy = policy
        self._queue = queue
        self._clock = clock

    def create(
        self,
        identity: Identity,
        *,
        url: str,
        watched: Sequence[Watch],
        domains: Sequence[str] | None = None,
        secret: str | None = None,
    ) -> WebhookRecord:
        """Add a webhook of the caller's, told of the events recorded from now on.

        Raises:
            AuthenticationError, AuthorizationError: no token, or a read token.
            InvalidRequestError: a refused URL, watched entry, domain or secret, or too many
                webhooks.
        """
        owner = _owner(identity, "create a webhook")
        new = NewWebhook(
            object_id=secrets.token_hex(12),
            owner_id=owner,
            url=self._policy.check_url(url).url,
            secret=_secret(secret),
            domains=_domains(domains),
            watched=self._watched(identity, watched),
            created_at=self._clock(),
        )
        try:
            return self._store.create(new, MAX_WEBHOOKS)
        except CapacityError as exc:
            raise errors.InvalidRequestError(
                f"A user has at most {MAX_WEBHOOKS} webhooks; delete one first"
            ) from exc
        except AlreadyExistsError as exc:  # 96 random bits: never in practice
            raise errors.ConflictError("Could not give the webhook an id; retry") from exc

    def list(self, identity: Identity) -> list[WebhookRecord]:
        """The caller's webhooks, oldest first.

        Raises:
            AuthenticationError: no token.
        """
        if identity.account is None:
            raise errors.AuthenticationError("You must be authenticated to list your webhooks")
        return self._store.list_owned(identity.account.id)

    def get(self, identity: Identity, webhook_id: str) -> WebhookRecord:
        """One of the caller's webhooks.

        Raises:
            AuthenticationError: no token.
            NotFoundError: no webhook of the caller's has this id.
        """
        if identity.account is None:
            raise errors.AuthenticationError("You must be authenticated to read a webhook")
        found = self._store.get(webhook_id)
        if found is None or found.owner_id != identity.account.id:
            raise errors.NotFoundError(f"Webhook {webhook_id} not found")
        return found

    def update(
        self,
        identity: Identity,
        webhook_id: str,
        *,
        url: str | None = None,
        watched: Sequence[Watch] | None = None,
        domains: Sequence[str] | None = None,
        secret: str | None = None,
    ) -> WebhookRecord:
        """Change what is given.

        An empty `watched` keeps the watched entries (the client always sends one); an empty
        `secret` removes the secret.

        Raises:
            as `create`, and NotFoundError: no webhook of the caller's has this id.
        """
        _owner(identity, "change a webhook")
        found = self.get(identity, webhook_id)
        return self._replace(
            found,
            url=found.url if url is None else self._policy.check_url(url).url,
            secret=found.secret if secret is None else _secret(secret or None),
            domains=found.domains if domains is None else _domains(domains),
            watched=self._watched(identity, watched) if watched else found.watched,
            disabled=found.disabled,
        )

    def set_disabled(self, identity: Identity, webhook_id: str, disabled: bool) -> WebhookRecord:
        """Disable a webhook (its pending deliveries are cancelled) or enable it again.

        Raises:
            AuthenticationError, AuthorizationError, NotFoundError: as `update`.
        """
        _owner(identity, "enable or disable a webhook")
        found = self.get(identity, webhook_id)
        return self._replace(
            found,
            url=found.url,
            secret=found.secret,
            domains=found.domains,
            watched=found.watched,
            disabled=disabled,
        )

    def delete(self, identity: Identity, webhook_id: str) -> None:
        """Delete a webhook and its delivery log.

        Raises:
            AuthenticationError, AuthorizationError, NotFoundError: as `update`.
        """
        _owner(identity, "delete a webhook")
        if not self._store.delete(self.get(identity, webhook_id).id):
            raise errors.NotFoundError(f"Webhook {webhook_id} not found")

    def deliveries(
        self, identity: Identity, webhook_id: str, *, offset: int, limit: int
    ) -> Page[DeliveryRecord]:
        """A page of the webhook's deliveries, newest first.

        Raises:
            AuthenticationError, NotFoundError: as `get`.
        """
        found = self.get(identity, webhook_id)
        return Page.of(self._store.list_deliveries(found.id, offset, limit + 1), limit)

    def redeliver(self, identity: Identity, webhook_id: str, delivery_id: str) -> DeliveryRecord:
        """Send a finished delivery again, with the same payload.

        Raises:
            AuthenticationError, AuthorizationError: as `update`.
            NotFoundError: no such webhook of the caller's, or no such delivery of it.
            ConflictError: the delivery is still pending, or the webhook is disabled.
        """
        _owner(identity, "redeliver a webhook delivery")
        found = self.get(identity, webhook_id)
        delivery = self._store.find_delivery(found.id, delivery_id)
        if delivery is None:
            raise errors.NotFoundError(f"Delivery {delivery_id} of webhook {webhook_id} not found")
        if found.disabled:
            raise errors.ConflictError(f"Webhook {webhook_id} is disabled: enable it first")
        if delivery.state is DeliveryState.PENDING:
            raise errors.ConflictError(f"Delivery {delivery_id} is still pending")
        reset = self._store.reset(delivery.id)
        if reset is None:
            raise errors.NotFoundError(f"Delivery {delivery_id} of webhook {webhook_id} not found")
        self._queue.send(reset)
        return reset

    def _replace(
        self,
        found: WebhookRecord,
        *,
        url: str,
        secret: str | None,
        domains: tuple[Domain, ...],
        watched: tuple[Watch, ...],
        disabled: bool,
    ) -> WebhookRecord:
        record = self._store.replace(
            found.id,
            url=url,
            secret=secret,
            domains=domains,
            watched=watched,
            disabled=disabled,
            at=self._clock(),
        )
        if record is None:
            raise errors.NotFoundError(f"Webhook {found.object_id} not found")
        return record

    def _watched(self, identity: Identity, watched: Sequence[Watch]) -> tuple[Watch, ...]:
        """The entries, each checked: an account of its kind, a repo the caller can see."""
        if not watched:
            raise errors.InvalidRequestError("A webhook must watch at least one user, org or repo")
        if len(watched) > MAX_WATCHED:
            raise errors.InvalidRequestError(f"A webhook watches at most {MAX_WATCHED} entries")
        checked: dict[tuple[WatchKind, str], Watch] = {}
        for watch in watched:
            if watch.kind.is_account:
                account = self._auth.get_account(watch.name, _ACCOUNT_KINDS[watch.kind])
                entry = Watch(watch.kind, account.name)
            else:
                repo = self._repos.locate(
                    identity, RepoType(watch.kind.value), watch.name, Action.READ
                )
                entry = Watch(watch.kind, repo.repo_id)
            checked.setdefault((entry.kind, entry.name.lower()), entry)
        return tuple(checked.values())


def parse_watch(kind: object, name: object) -> Watch:
    """A watched entry from the wire's `{"type", "name"}`.

    Raises:
        InvalidRequestError: an unknown type, or a name that is not a string.
    """
    if kind not in set(WatchKind):
        raise errors.InvalidRequestError(
            f"Cannot watch a {kind!r}: the type is one of {', '.join(WatchKind)}"
        )
    if not isinstance(name, str) or not name or len(name) > 200:
        raise errors.InvalidRequestError(f"A watched {kind} needs a name, not {name!r}")
    return Watch(WatchKind(str(kind)), name)


def _owner(identity: Identity, what: str) -> int:
    access.check_write_token(identity, what)
    assert identity.account is not None
    return identity.account.id


def _domains(domains: Sequence[str] | None) -> tuple[Domain, ...]:
    if domains is None:
        return (Domain.REPO, Domain.DISCUSSION)
    found: list[Domain] = []
    for name in domains:
        domain = _DOMAIN_ALIASES.get(name) or (Domain(name) if name in set(Domain) else None)
        if domain is None:
            raise errors.InvalidRequestError(
                f"Unknown webhook domain {name!r}: one of {', '.join(Domain)}"
            )
        if domain not in found:
            found.append(domain)
    if not found:
        raise errors.InvalidRequestError("A webhook needs at least one domain: repo, discussion")
    return tuple(found)


def _secret(secret: str | None) -> str | None:
    if secret is None:
        return None
    if not 1 <= len(secret) <= MAX_SECRET or not all(" " <= c <= "~" for c in secret):
        raise errors.InvalidRequestError(
            f"A webhook secret has 1 to {MAX_SECRET} printable ASCII characters "
            "(it is sent in the X-Webhook-Secret header)"
        )
    return secret
