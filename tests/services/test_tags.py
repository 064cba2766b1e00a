"""The tag vocabulary: which type each tag in use gets, per repo type."""

from __future__ import annotations

from hubstead.protocol import RepoType
from hubstead.server.domain.repos import TagUsage
from hubstead.server.services.tags import HubTag, vocabulary


def test_prefixes_rows_and_language_codes_decide_the_type() -> None:
    usage = TagUsage(
        tags=frozenset({"license:mit", "en", "eng", "fill-mask", "peft", "base_model:x", "c:"}),
        pipeline_tags=frozenset({"fill-mask"}),
        libraries=frozenset({"peft", "timm"}),
    )

    assert vocabulary(RepoType.MODEL, usage) == {
        "language": [HubTag("en", "en", "language")],
        "library": [HubTag("peft", "peft", "library"), HubTag("timm", "timm", "library")],
        "license": [HubTag("license:mit", "mit", "license")],
        "other": [
            HubTag("base_model:x", "base_model:x", "other"),
            HubTag("c:", "c:", "other"),
            HubTag("eng", "eng", "other"),
        ],
        "pipeline_tag": [HubTag("fill-mask", "Fill Mask", "pipeline_tag")],
    }


def test_dataset_card_keys_are_types_and_bare_codes_are_not_languages() -> None:
    usage = TagUsage(
        tags=frozenset({"task_categories:translation", "language:de", "de"}),
        pipeline_tags=frozenset(),
        libraries=frozenset(),
    )

    assert vocabulary(RepoType.DATASET, usage) == {
        "language": [HubTag("language:de", "de", "language")],
        "other": [HubTag("de", "de", "other")],
        "task_categories": [
            HubTag("task_categories:translation", "translation", "task_categories")
        ],
    }
    assert vocabulary(RepoType.SPACE, TagUsage(frozenset(), frozenset(), frozenset())) == {}
