"""Repo cards: the YAML front matter of `README.md`, and what the Hub derives from it.

`library_name`, `pipeline_tag` and `tags` come from the card first, then from `config.json`
(for transformers models), so that `transformers.pipeline(model=...)` works without a task.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import yaml

from hubstead.protocol import MAX_JSON_DEPTH, load_json
from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.storage.git_objects import GitObjectStore

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.DOTALL)

# Architecture suffixes of transformers model classes and the task each one serves.
_ARCHITECTURE_TASKS = (
    ("ForCausalLM", "text-generation"),
    ("ForMaskedLM", "fill-mask"),
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForImageClassification", "image-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForCTC", "automatic-speech-recognition"),
    ("ForSpeechSeq2Seq", "automatic-speech-recognition"),
    ("ForConditionalGeneration", "text2text-generation"),
    ("Model", "feature-extraction"),
)

# Card keys whose values become `key:value` tags, per repo type.
_PREFIXED_TAG_KEYS = {
    "model": ("license", "language", "datasets", "base_model"),
    "dataset": (
        "license",
        "language",
        "task_categories",
        "task_ids",
        "size_categories",
        "multilinguality",
        "language_creators",
    ),
    "space": ("license",),
}
# How a card key's values are written as tags; "" means bare (model languages are `en`, not
# `language:en`, on the Hub, while dataset languages keep the prefix).
_TAG_PREFIX = {
    "model": {"language": "", "datasets": "dataset:"},
}


# The longest tag, and the longest `library_name` or `pipeline_tag`, that a card may set; longer
# values are ignored (the metadata store keeps them in columns of these sizes).
MAX_TAG_LENGTH = 255
MAX_NAME_LENGTH = 64
_TOO_DEEP = f"The README front matter is nested more than {MAX_JSON_DEPTH} deep"


_ALIASES = (
    "The README front matter uses a YAML alias (*name): cards may not, because each alias "
    "repeats what it names and a few lines of them can expand to gigabytes"
)


class CardError(errors.InvalidRequestError):
    """The front matter is not valid YAML, or not a mapping."""


@dataclasses.dataclass(frozen=True)
class CardFacts:
    """What the Hub derives from a revision's card and config."""

    card_data: dict[str, Any] | None
    library_name: str | None
    pipeline_tag: str | None
    tags: tuple[str, ...]


class _CardLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases (a "billion laughs" card would expand in memory)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose the next node; an alias is refused before it is expanded."""
        if self.check_event(yaml.AliasEvent):
            raise CardError(_ALIASES)
        return super().compose_node(parent, index)


def parse_front_matter(text: str) -> dict[str, Any] | None:
    """The card's metadata, or None when the README has no front matter.

    Raises:
        CardError: the front matter is not a YAML mapping.
    """
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None
    try:
        data = yaml.load(match.group(1) or "", Loader=_CardLoader)  # noqa: S506  # a safe loader
    except yaml.YAMLError as exc:
        raise CardError(f"Invalid YAML in the README front matter: {exc}") from exc
    except RecursionError:  # PyYAML composes nested collections recursively
        raise CardError(_TOO_DEEP) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CardError("The README front matter must be a YAML mapping")
    try:
        normalized: dict[str, Any] = load_json(json.dumps(data, default=str))
    except (ValueError, RecursionError):
        raise CardError(_TOO_DEEP) from None
    return normalized


def strip_front_matter(text: str) -> str:
    """The README's text without its front matter (the card's body)."""
    match = _FRONT_MATTER.match(text)
    return text if match is None else text[match.end() :]


def read_facts(git: GitObjectStore, repo: RepoRecord, commit_id: str) -> CardFacts:
    """What a repo's `README.md` (and a model's `config.json`) say at a commit."""

    def optional(path: str) -> bytes | None:
        entry = git.entry(repo.storage_key, commit_id, path)
        if entry is None or entry.kind != "file":
            return None
        return git.read_blob(repo.storage_key, entry.oid)

    config = optional("config.json") if repo.type == "model" else None
    return derive(repo.type, optional("README.md"), config)


def derive(repo_type: str, readme: bytes | None, config: bytes | None) -> CardFacts:
    """Card data, library, task and tags of a revision; an unreadable card counts as none."""
    card: dict[str, Any] | None = None
    if readme is not None:
        try:
            card = parse_front_matter(readme.decode("utf-8", errors="replace"))
        except CardError:
            card = None
    config_data = _json_object(config)
    library = _string(card, "library_name")
    pipeline = _string(card, "pipeline_tag")
    tags: list[str] = []
    if repo_type == "model":
        if library is None and config_data is not None and _is_transformers(config_data):
            library = "transformers"
        if pipeline is None and config_data is not None:
            pipeline = _task_from_architectures(config_data)
        model_type = config_data.get("model_type") if config_data else None
        tags.extend(t for t in (library, model_type) if isinstance(t, str))
    if repo_type == "space" and (sdk := _string(card, "sdk")):
        tags.append(sdk)
    tags.extend(_list(card, "tags"))
    if pipeline:
        tags.append(pipeline)
    for key in _PREFIXED_TAG_KEYS.get(repo_type, ()):
        prefix = _TAG_PREFIX.get(repo_type, {}).get(key, f"{key}:")
        tags.extend(f"{prefix}{value}" for value in _list(card, key))
    kept = (t for t in tags if _is_label(t, MAX_TAG_LENGTH))
    return CardFacts(card, library, pipeline, tuple(dict.fromkeys(kept)))


def _json_object(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        value = load_json(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _is_label(value: str, max_length: int) -> bool:
    # Labels are short printable words; anything else (a NUL, a paragraph) is not a tag.
    return 0 < len(value) <= max_length and value.isprintable()


def _string(card: dict[str, Any] | None, key: str) -> str | None:
    value = (card or {}).get(key)
    return value if isinstance(value, str) and _is_label(value, MAX_NAME_LENGTH) else None


def _list(card: dict[str, Any] | None, key: str) -> list[str]:
    value = (card or {}).get(key)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float)]
    return []


def _is_transformers(config: dict[str, Any]) -> bool:
    return "transformers_version" in config or (
        "model_type" in config and "architectures" in config
    )


def _task_from_architectures(config: dict[str, Any]) -> str | None:
    architectures = config.get("architectures")
    if not isinstance(architectures, list) or not architectures:
        return None
    first = str(architectures[0])
    for suffix, task in _ARCHITECTURE_TASKS:
        if first.endswith(suffix):
            return task
    return None
