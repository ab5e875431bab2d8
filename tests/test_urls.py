"""The one URL check (`services.urls`) and the allow list, case by case (issue 11), then
the cases that matter to users through the sidebar (AppTest)."""

from __future__ import annotations

import logging
import re

import anyio
import httpx
import pytest

from services.client.allowlist import AllowList
from services.errors import InvalidUrl, NotAllowed
from services.urls import ECHO_LENGTH, check_agent_url, shorten
from tests.test_app import last_bubble, page_text, send

HUGE = "http://127.0.0.1:9999/" + "a" * 70_000  # a 70,000-character URL
ECHO = ECHO_LENGTH + 5  # the most of a URL any sentence may show, with some slack


def unescaped(text: str) -> str:
    """What a person reads of an element's markdown (backslash escapes undone)."""
    return re.sub(r"\\(.)", r"\1", str(text))


def sidebar_errors(at) -> list[str]:
    return [unescaped(e.value) for e in at.sidebar.error]


def refused(text: str) -> str:
    with pytest.raises(InvalidUrl) as error:
        check_agent_url(text)
    sentence = str(error.value)
    assert sentence.count(". ") == 0 and sentence.endswith(".")  # one sentence
    assert "a" * ECHO not in sentence
    return sentence


# --- check_agent_url ------------------------------------------------------------------


def test_an_empty_url_says_so():
    assert "is empty" in refused("   ")


def test_a_url_longer_than_2048_characters_says_how_long_and_is_not_echoed():
    sentence = refused(HUGE)
    assert "70,022 characters long" in sentence and "2,048" in sentence
    assert len(sentence) < 200


def test_2048_characters_is_still_fine():
    url = "http://127.0.0.1:9999/" + "a" * (2048 - 22)
    assert check_agent_url(url) == url


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\t", "\n", "\r"])
def test_a_control_character_is_refused(char):
    assert f"U+{ord(char):04X}" in refused(f"http://127.0.0.1:9999/a{char}b")


@pytest.mark.parametrize("char", [" ", "\u00a0", "\u3000"])
def test_whitespace_inside_is_refused(char):
    assert "space" in refused(f"http://127.0.0.1:9999/a{char}b")


@pytest.mark.parametrize("code", [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
def test_a_bidi_override_or_isolate_is_refused(code):
    sentence = refused(f"http://exa{chr(code)}mple.com/")
    assert f"text-direction control (U+{code:04X})" in sentence


@pytest.mark.parametrize("code", [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD])
def test_a_zero_width_character_is_refused(code):
    assert f"invisible character (U+{code:04X})" in refused(f"http://exa{chr(code)}mple.com/")


def test_a_backslash_is_refused():
    assert "backslash" in refused("http://127.0.0.1:9999\\@evil.example/")


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/"])
def test_a_scheme_other_than_http_or_https_is_refused(url):
    assert "is not an http(s) URL" in refused(url)


@pytest.mark.parametrize("url", ["127.0.0.1:9999", "localhost:9999", "javascript:alert(1)"])
def test_a_url_without_http_in_front_says_to_add_it(url):
    assert "does not start with http:// or https://" in refused(url)


@pytest.mark.parametrize("url", ["http://", "http:///card.json", "http://:9999/"])
def test_a_url_without_a_host_is_refused(url):
    assert "has no host name" in refused(url)


def test_an_ipv6_literal_without_its_closing_bracket_is_refused():
    assert "has no closing ]" in refused("http://[::1")


def test_an_ipv6_literal_that_is_not_an_address_is_refused():
    assert "[zz] is not a valid IPv6 address" in refused("http://[zz]/")


def test_an_ipv6_literal_is_kept_and_compressed():
    assert check_agent_url("http://[0:0::1]:9999/a") == "http://[::1]:9999/a"


@pytest.mark.parametrize("port", ["99999", "65536", "0"])
def test_a_port_out_of_range_is_refused(port):
    assert f"The port {port} is out of range" in refused(f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize("port", ["abc", "9o", "٩٩"])
def test_a_port_that_is_not_a_number_is_refused(port):
    assert "is not a number" in refused(f"http://127.0.0.1:{port}/")


def test_an_internationalised_host_becomes_its_xn_form():
    assert check_agent_url("http://Bücher.example/a2a") == "http://xn--bcher-kva.example/a2a"
    assert httpx.URL(check_agent_url("https://bücher.example")).raw_host == b"xn--bcher-kva.example"


def test_a_host_that_is_not_valid_idna_is_refused():
    assert "not a valid international domain name" in refused("http://☃--x.example/")


def test_a_host_with_a_character_no_host_name_has_is_refused():
    assert "contains '<'" in refused("http://a<b/")


def test_user_info_is_refused_with_the_password_masked():
    sentence = refused("http://user:pw@127.0.0.1:1/")
    assert "http://user:***@127.0.0.1:1/" in sentence
    assert "Credentials in the sidebar" in sentence
    assert not re.search(r"\bpw\b", sentence)


def test_a_user_name_alone_is_masked_too():
    # A token is often put where the user name goes.
    sentence = refused("https://ghp_token1234@example.com/")
    assert "https://***@example.com/" in sentence and "ghp_token1234" not in sentence


@pytest.mark.parametrize(
    ("typed", "used"),
    [
        ("http://127.0.0.1:9999", "http://127.0.0.1:9999"),
        ("  https://agent.example.com/a2a/  ", "https://agent.example.com/a2a/"),
        ("HTTP://Agent.Example.COM:080/A2A?x=1#f", "http://agent.example.com:80/A2A?x=1#f"),
        ("http://my_agent:8000/.well-known/agent-card.json",
         "http://my_agent:8000/.well-known/agent-card.json"),
    ],
)  # fmt: skip
def test_an_ordinary_url_is_kept_as_typed_but_normalised(typed, used):
    assert check_agent_url(typed) == used


def test_shorten_cuts_masks_and_shows_invisibles():
    assert len(shorten(HUGE)) == ECHO_LENGTH and shorten(HUGE).endswith("…")
    assert shorten("http://u:" + "p" * 500 + "@h/") == "http://u:***@h/"
    assert shorten("http://a\u202eb/") == "http://a\ufffdb/"


# --- the allow list -----------------------------------------------------------------


ENTRY = "http://127.0.0.1:9999/a2a"


@pytest.mark.parametrize(
    "path",
    ["/a2a/%2E%2E/%2E%2E/admin", "/a2a/%2e%2e/admin", "/a2a/.%2E/admin", "/a2a/%2F..%2Fadmin",
     "/a2a/..%2fadmin", "/a2a/..%5Cadmin", "/a2a/%5c", "/a2a/%2e/x"],
)  # fmt: skip
def test_encoded_dots_and_separators_are_refused(path):
    assert not AllowList([ENTRY]).allows(f"http://127.0.0.1:9999{path}")


@pytest.mark.parametrize("path", ["/a2a/../admin", "/a2a/x/../../admin", "/a2ab", "/"])
def test_a_path_outside_the_prefix_after_dot_segments_is_refused(path):
    assert not AllowList([ENTRY]).allows(f"http://127.0.0.1:9999{path}")


@pytest.mark.parametrize("path", ["/a2a", "/a2a/", "/a2a/x", "/a2a/x/../y", "/%61%32%61/x"])
def test_a_path_under_the_prefix_is_allowed(path):
    assert AllowList([ENTRY]).allows(f"http://127.0.0.1:9999{path}")


def test_scheme_host_and_port_must_match():
    allow = AllowList([ENTRY, "https://bücher.example"])
    assert not allow.allows("https://127.0.0.1:9999/a2a")
    assert not allow.allows("http://127.0.0.1:9998/a2a")
    assert allow.allows("https://xn--bcher-kva.example/x")  # the entry went through IDNA


def test_a_bad_entry_is_skipped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="services.client.allowlist"):
        allow = AllowList(["http://[::1", "ftp://x", ENTRY, "http://h/%2e%2e/"])
    assert allow.allows(f"{ENTRY}/x")
    assert len(caplog.records) == 3 and "http://[::1" in caplog.records[0].getMessage()


def test_a_list_of_only_bad_entries_refuses_everything():
    allow = AllowList(["http://[::1"])
    assert allow and not allow.allows("http://127.0.0.1:9999/")


def test_a_refusal_names_no_entry_and_shortens_the_url():
    allow = AllowList(["http://127.0.0.1:41234", "http://10.1.2.3:8080/internal"])
    with pytest.raises(NotAllowed) as error:
        allow.check(HUGE.replace("127.0.0.1:9999", "evil.example"))
    sentence = str(error.value)
    assert "41234" not in sentence and "10.1.2.3" not in sentence
    assert "is not an agent this deployment may contact" in sentence
    assert "allowed_agent_urls" in sentence and "a" * ECHO not in sentence


def test_the_hop_guard_names_no_entry_either():
    allow = AllowList(["http://127.0.0.1:41234"])
    hop = httpx.Request("GET", "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(NotAllowed) as error:
        anyio.run(allow.guard, hop)
    sentence = str(error.value)
    assert "41234" not in sentence and "was stopped" in sentence
    assert "169.254.169.254" in sentence and "allowed_agent_urls" in sentence


# --- through the sidebar (AppTest, the demo agent on loopback) ---------------------------

SIDEBAR_CASES = [
    ("http://[::1", "has no closing ]"),
    ("http://[zz]/", "is not a valid IPv6 address"),
    ("http://127.0.0.1:99999/", "The port 99999 is out of range"),
    ("http://bücher.example", "Could not reach the agent at http://xn--bcher-kva.example"),
    ("http://☃--x.example", "is not a valid international domain name"),
    ("http://user:pw@127.0.0.1:1/", "http://user:***@127.0.0.1:1/ has a user name"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("typed", "sentence"), SIDEBAR_CASES, ids=[c[0] for c in SIDEBAR_CASES])
def test_a_bad_url_in_the_sidebar_gets_one_sentence_and_changes_nothing(app, typed, sentence):
    app.run()
    before = app.session_state["workspace"].current
    app.sidebar.text_input(key="sidebar_agent_url").set_value(typed)
    next(b for b in app.sidebar.button if b.label == "Connect").click().run()
    assert not app.exception
    assert len(sidebar_errors(app)) == 1 and sentence in sidebar_errors(app)[0]
    shown = page_text(app) + "\n".join(
        str(e.value) for e in [*app.sidebar.markdown, *app.sidebar.caption, *app.sidebar.code]
    )
    assert not re.search(r"\bpw\b", shown)
    assert app.session_state["workspace"].current == before  # still with its agent
    send(app, "hello")
    assert not app.exception and "You said" in last_bubble(app)


CONFIGURED_CASES = [
    ("http://[::1", "has no closing ]"),
    ("http://127.0.0.1:99999", "The port 99999 is out of range"),
    ("http://user:pw@127.0.0.1:1/", "http://user:***@127.0.0.1:1/ has a user name"),
    (HUGE, "The URL is 70,022 characters long"),
    ("http://127.0.0.1:1/\u202eevil", "text-direction control (U+202E)"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("configured", "sentence"), CONFIGURED_CASES, ids=["ipv6", "port", "userinfo", "huge", "bidi"]
)
@pytest.mark.parametrize("allowed", ["", "http://127.0.0.1:1"])
def test_a_bad_configured_url_gets_the_same_sentence_in_the_sidebar(
    app, monkeypatch, configured, sentence, allowed
):
    monkeypatch.setenv("A2A_AGENT_URL", configured)
    monkeypatch.setenv("A2A_ALLOWED_AGENT_URLS", allowed)
    app.run()
    assert not app.exception
    assert len(sidebar_errors(app)) == 1 and sentence in sidebar_errors(app)[0]
    shown = page_text(app) + "\n".join(str(e.value) for e in app.sidebar.markdown)
    assert not re.search(r"\bpw\b", shown) and "a" * ECHO not in shown
    assert not re.search(r"\bpw\b", app.sidebar.text_input(key="sidebar_agent_url").value)


@pytest.mark.timeout(60)
def test_a_bad_secrets_agent_url_is_listed_with_its_sentence(app, monkeypatch, demo_agent):
    monkeypatch.delenv("A2A_AGENT_URL")  # the [[agents]] entries only, the broken one first
    app.secrets["agents"] = [{"url": "http://[zz]/", "name": "Broken"},
                             {"url": demo_agent.url, "name": "Demo"}]  # fmt: skip
    app.run()
    assert not app.exception
    assert "is not a valid IPv6 address" in sidebar_errors(app)[0]
    app.sidebar.text_input(key="sidebar_agent_url").set_value(demo_agent.url)
    next(b for b in app.sidebar.button if b.label == "Connect").click().run()
    send(app, "hello")
    assert not app.exception and "You said" in last_bubble(app)


# --- other input the app checks first: credentials --------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("line", ["X Tenant: acme", "X-Tenant\x01: acme"])
def test_a_header_that_cannot_be_sent_is_not_saved_and_says_why(app, line):
    app.run()
    url = app.session_state["workspace"].current
    app.sidebar.text_area(key=f"sidebar_headers_{url}").set_value(line)
    next(b for b in app.sidebar.button if b.label == "Save and reconnect").click().run()
    app.run()  # the form saves after the sidebar's error slot is drawn: it shows next run
    assert not app.exception
    assert "cannot be sent" in sidebar_errors(app)[0]
    assert "unexpectedly" not in sidebar_errors(app)[0]
    assert not app.session_state["workspace"].agent.credentials  # not saved
    send(app, "hello")
    assert not app.exception and "You said" in last_bubble(app)
