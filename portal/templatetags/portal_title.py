"""``{% page_title %}…{% endpage_title %}``: the page's own title, a separator, then the portal's name.

``base.html`` wraps its ``title`` block in it, so a page that sets a title reads "学校 · 平台名" and a page
without one reads just the portal's name (Django sets no ``self.title`` to test against).
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import conditional_escape

register = template.Library()
SEPARATOR = " · "


class PageTitleNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context) -> str:
        own = " ".join(self.nodelist.render(context).split())
        portal = conditional_escape(settings.PORTAL_NAME)
        return f"{own}{SEPARATOR}{portal}" if own else str(portal)


@register.tag
def page_title(parser, token) -> PageTitleNode:
    nodelist = parser.parse(("endpage_title",))
    parser.delete_first_token()
    return PageTitleNode(nodelist)
