"""How `--remote [URL]` and the one argument of series, story and origin are told apart."""

from __future__ import annotations

import click
import pytest

from patchtrail.cli.remote_opts import split_remote_target

MSG_URL = "https://lore.kernel.org/kvm/1464274345-28379-1-git-send-email-x@example.com/"


def test_a_message_url_alone_after_remote_is_the_target_not_the_server() -> None:
    assert split_remote_target(MSG_URL, None) == ("", MSG_URL)
    # A server, then the target; the default server, then a target that is no URL.
    assert split_remote_target("https://lore.kernel.org/kvm", MSG_URL) == (
        "https://lore.kernel.org/kvm", MSG_URL)
    assert split_remote_target("enable_preemption_timer", None) == ("", "enable_preemption_timer")
    # A server URL alone still lacks its target.
    with pytest.raises(click.UsageError, match="Missing argument 'TARGET'"):
        split_remote_target("https://lore.kernel.org/kvm", None)
