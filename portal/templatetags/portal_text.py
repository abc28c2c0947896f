"""``{% load portal_text %}`` — ``{{ value|shown }}`` shows stored text in the reader's language."""

from django import template

from portal.i18n import shown as _shown

register = template.Library()


@register.filter
def shown(value) -> str:
    return _shown(value)
