"""The tag vocabulary (`get_model_tags`, `get_dataset_tags`): the tags this hub's repos use.

The Hub answers with its curated vocabulary, grouped by type (`pipeline_tag`, `library`,
`language`, `license`, ...). A self-hosted hub has no curators, and a vocabulary copied from
the Hub would list thousands of tags that find nothing here. So the vocabulary is built from
the repos the caller can see (the official client sends no token: the public ones), in the
Hub's shape: `{type: [{"id", "label", "type"}]}`, where `id` is the tag as repos carry it (the
value `list_models(filter=...)` takes).

A tag's type comes from its prefix (`license:mit` is a license labelled `mit`), else from the
rows (a task a repo has as `pipeline_tag`, a library one has as `library_name`), else, for
models, whose cards' languages become bare tags (`en`), from the ISO 639-1 codes; everything
else is `other`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from hubstead.protocol import RepoType
from hubstead.server.domain.repos import TagUsage

# The `key:value` tags whose key is a tag type, per repo type (as the Hub groups them).
_PREFIX_TYPES = {
    RepoType.MODEL: frozenset({"dataset", "language", "license", "arxiv", "doi", "region"}),
    RepoType.DATASET: frozenset(
        {
            "task_categories",
            "task_ids",
            "language",
            "license",
            "size_categories",
            "multilinguality",
            "language_creators",
            "annotations_creators",
            "source_datasets",
            "modality",
            "format",
            "library",
            "benchmark",
            "arxiv",
            "doi",
            "region",
        }
    ),
}
_ISO_639_1 = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv "
    "cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr "
    "ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw "
    "ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv "
    "ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr "
    "ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi "
    "yo za zh zu"
)
_LANGUAGES = frozenset(_ISO_639_1.split())


@dataclasses.dataclass(frozen=True)
class HubTag:
    """A tag as the vocabulary lists it: the tag itself, what to show, and its type."""

    id: str
    label: str
    type: str


def vocabulary(repo_type: RepoType, usage: TagUsage) -> Mapping[str, Sequence[HubTag]]:
    """The tags in use, grouped by type (types without a tag left out), each sorted by id."""
    grouped: dict[str, list[HubTag]] = {}
    for tag in sorted(usage.tags | usage.pipeline_tags | usage.libraries):
        found = _classify(repo_type, usage, tag)
        grouped.setdefault(found.type, []).append(found)
    return dict(sorted(grouped.items()))


def _classify(repo_type: RepoType, usage: TagUsage, tag: str) -> HubTag:
    prefix, colon, value = tag.partition(":")
    if colon and value and prefix in _PREFIX_TYPES.get(repo_type, frozenset()):
        return HubTag(tag, value, prefix)
    if tag in usage.pipeline_tags:
        return HubTag(tag, tag.replace("-", " ").title(), "pipeline_tag")
    if tag in usage.libraries:
        return HubTag(tag, tag, "library")
    if repo_type is RepoType.MODEL and tag in _LANGUAGES:
        return HubTag(tag, tag, "language")
    return HubTag(tag, tag, "other")
