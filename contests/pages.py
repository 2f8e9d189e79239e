"""What apps above contests add to the contest's public page (``contests:detail``).

Link previews (Open Graph and Twitter card tags) belong to the sharing app, which sits at the top of the
layers: it registers a provider here in its ``AppConfig.ready`` (``register_head_meta``), and the page renders
the tags the providers return in its ``<head>``. Without a provider the page has no such tags.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

META_ATTRIBUTES = frozenset({"property", "name"})


@dataclass(frozen=True)
class MetaTag:
    """``<meta {attribute}="{term}" content="{content}">``: attribute is "property" (Open Graph) or "name"."""

    attribute: str
    term: str
    content: str

    def __post_init__(self) -> None:
        if self.attribute not in META_ATTRIBUTES:
            raise ValueError(f"meta attribute must be one of {sorted(META_ATTRIBUTES)}, not {self.attribute!r}")


HeadMetaProvider = Callable[[Any, Any], list[MetaTag]]
_providers: list[HeadMetaProvider] = []


def register_head_meta(provider: HeadMetaProvider) -> HeadMetaProvider:
    """``provider(request, contest)`` returns the meta tags of a published contest's public page."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def head_meta(*, request: Any, contest: Any) -> list[MetaTag]:
    tags: list[MetaTag] = []
    for provider in _providers:
        tags.extend(provider(request, contest))
    return tags
