"""The browser test fails in CI when Chromium is missing, and skips elsewhere."""

from __future__ import annotations

import pytest

from tests.support import browser


def test_missing_chromium_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed"):
        browser.chromium()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        browser.chromium()
