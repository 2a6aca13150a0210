"""Landing page and the en/日本語 switch every page shows."""

from __future__ import annotations

import pytest

from tests.support.browser import artifact_path

PAGES = ["/", "/phone", "/manual", "/devices", "/room/i18n-check"]


def test_landing_links_and_room_form(app_server, new_context):
    page = new_context(locale="en-US").new_page()
    page.goto(app_server.url("/"))
    assert page.locator("h1").inner_text() == "Video calls with signaling over plain HTTP"
    for link, href in (("#link-phone", "/phone"), ("#link-manual", "/manual"), ("#link-devices", "/devices")):
        assert page.locator(link).get_attribute("href") == href
    page.fill("#room-name", "bad name!")
    page.click("#room-go")
    assert "letters or digits" in page.locator("#room-error").inner_text()
    page.fill("#room-name", "standup-1")
    page.fill("#display-name", "Ada")
    page.click("#room-go")
    page.wait_for_url("**/room/standup-1")
    assert page.locator("#join-name").input_value() == "Ada"


def test_landing_takes_an_emoji_room_as_the_server_does(app_server, new_context):
    """The form once refused rooms the server accepts (its own, stricter rule); now it is the server's pattern."""
    page = new_context(locale="en-US").new_page()
    page.goto(app_server.url("/"))
    page.fill("#room-name", "🎉party")
    page.fill("#display-name", "Ada")
    page.click("#room-go")
    page.wait_for_url("**/room/%F0%9F%8E%89party")
    assert page.locator("#join-name").input_value() == "Ada"


def test_browser_language_picks_japanese_and_switch_changes_text(app_server, new_context):
    page = new_context(locale="ja-JP").new_page()
    page.goto(app_server.url("/"))
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "普通の HTTP でシグナリングするビデオ通話"
    page.screenshot(path=str(artifact_path("landing-ja.png")), full_page=True)
    page.click(".lang-button[data-lang=en]")
    assert page.locator("h1").inner_text() == "Video calls with signaling over plain HTTP"
    assert page.locator(".lang-button[data-lang=en]").get_attribute("aria-pressed") == "true"
    # remembered across pages
    page.goto(app_server.url("/manual"))
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_switch_and_no_untranslated_keys(app_server, new_context, path):
    context = new_context(locale="en-US")
    page = context.new_page()
    errors, bad_responses = [], []
    page.on(
        "console",
        lambda m: m.type == "error" and not m.text.startswith("Failed to load resource") and errors.append(m.text),
    )
    page.on(
        "response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and bad_responses.append(r.url)
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_server.url(path))
    page.wait_for_selector(".lang-button[data-lang=ja]")
    english = page.locator("body").inner_text()
    page.click(".lang-button[data-lang=ja]")
    japanese = page.locator("body").inner_text()
    assert english != japanese
    assert page.title()
    # every table has both languages: no English left behind in Japanese (and the reverse)
    untranslated = page.evaluate(
        """async () => {
          const i18n = await import('/static/js/i18n.js');
          const en = i18n.keys('en'), ja = new Set(i18n.keys('ja'));
          return en.filter(k => !ja.has(k)).concat(i18n.keys('ja').filter(k => !en.includes(k)));
        }"""
    )
    assert untranslated == []
    # every data-i18n key resolved in both languages (t() returns the key itself when missing)
    missing = page.evaluate(
        """() => [...document.querySelectorAll('[data-i18n]')].map(e => e.dataset.i18n)
                 .filter(k => document.querySelector(`[data-i18n="${k}"]`).textContent === k)"""
    )
    assert missing == []
    assert not errors, errors
    assert not bad_responses, bad_responses
