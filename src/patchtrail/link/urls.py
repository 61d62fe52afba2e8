"""lore-style URLs for messages: the address a kernel developer pastes into a Link: trailer."""

from __future__ import annotations

import os
from urllib.parse import quote

LORE_ENV = "PATCHTRAIL_LORE_URL"
DEFAULT_LORE = "https://lore.kernel.org"


def lore_base() -> str:
    return os.environ.get(LORE_ENV, DEFAULT_LORE).rstrip("/")


def message_url(list_name: str, msgid: str) -> str:
    """`https://lore.kernel.org/<list>/<msgid>/`, escaping what public-inbox escapes."""
    return f"{lore_base()}/{quote(list_name, safe='')}/{quote(msgid, safe='@!$&()*+,;=:~-._')}/"
