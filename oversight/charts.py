"""Charts of the oversight pages: pygal drawn on the server as inline SVG (no script, no CDN),
each placed above its data table by the template."""

from __future__ import annotations

import re

CJK_FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif'
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def style(colors: tuple[str, ...], *, text_size: int = 13):
    """The portal's look: Bootstrap's text colours on white, a CJK font, ``colors`` for the series."""
    from pygal.style import Style

    return Style(
        font_family=CJK_FONTS,
        background="white",
        plot_background="white",
        foreground="#212529",
        foreground_strong="#212529",
        foreground_subtle="#6c757d",
        colors=colors,
        title_font_size=16,
        label_font_size=text_size,
        major_label_font_size=text_size,
        legend_font_size=text_size,
        value_font_size=text_size - 1,
    )


def svg(chart) -> str:
    """The chart as inline SVG without pygal's config script (the Content-Security-Policy allows
    no inline script)."""
    return _SCRIPT.sub("", chart.render(is_unicode=True, disable_xml_declaration=True))
