"""Guangdong's 政府信息公开目录平台 gkmlpt (domain.md §3): details /gkmlpt/content/0/NNN/post_NNN.html, and
/<column>/content/post_NNN.html on the province's county and district sites (haizhu, zhanjiang, lw in
shared/real). Only recognised so far: no container, pager or metadata label of its own is known from a
saved page, so its pages go through the generic rules."""
from __future__ import annotations

import re

from .family import Family, Marker

FAMILY = Family(
    name="gkmlpt",
    label="广东 政府信息公开目录平台 (gkmlpt)",
    markers=(Marker("gkmlpt", re.compile(r"/gkmlpt/")),
             Marker("content/post_N.html details", re.compile(r"/content/(?:\d+/\d+/)?post_\d+\.html"))),
)
