#!/usr/bin/env bash
# The test command of README.md: installs what the tests need on a fresh machine, then
# runs the whole suite. .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v git >/dev/null 2>&1 || need_apt+=(git)
# The web UI and HTML report tests drive Debian's chromium through Playwright.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# tests/test_remote_httpd.py serves the demo archive with a real public-inbox-httpd
command -v public-inbox-httpd >/dev/null 2>&1 || need_apt+=(public-inbox)
if [ ${#need_apt[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check -e '.[test]'
python3 -m pytest -q "$@"
