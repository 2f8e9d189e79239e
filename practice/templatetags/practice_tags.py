"""Small template helpers of the practice pages."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ feedback.option_feedback|get_item:o.id }}``: option ids are string keys in the stored key."""
    if not isinstance(mapping, dict):
        return ""
    return mapping.get(str(key), "")
