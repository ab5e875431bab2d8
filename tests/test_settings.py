"""`Settings.load` without Streamlit: the environment first, then secrets, then defaults,
and a value that does not parse named in one sentence (its default kept)."""

from __future__ import annotations

from services.inspector.capture import DEFAULT_MAX_BYTES, DEFAULT_MAX_STREAMS
from services.session import Settings


def test_with_nothing_set_every_setting_has_its_default():
    loaded = Settings.load({}, {})
    assert loaded == Settings()
    assert (loaded.read_timeout, loaded.max_upload_mb) == (60, 10)
    assert (loaded.inspector_max_streams, loaded.inspector_max_bytes) == (
        DEFAULT_MAX_STREAMS,
        DEFAULT_MAX_BYTES,
    )
    assert (loaded.max_conversations, loaded.max_workspace_mb, loaded.keep_file_mb) == (500, 200, 2)
    assert loaded.retention_days is None and loaded.data_dir == ".a2a-streamlit"
    assert not loaded.problems


def test_the_environment_wins_over_secrets_and_an_empty_variable_counts_as_unset():
    secrets = {"agent_url": "https://from-secrets.example", "max_upload_mb": 3, "read_timeout": 9}
    environ = {"A2A_AGENT_URL": " https://from-env.example ", "A2A_MAX_UPLOAD_MB": "7",
               "A2A_READ_TIMEOUT": ""}  # fmt: skip
    loaded = Settings.load(environ, secrets)
    assert loaded.agent_url == "https://from-env.example"
    assert loaded.max_upload_mb == 7
    assert loaded.read_timeout == 9  # from secrets: the variable is empty


def test_a_bad_number_keeps_its_default_and_one_sentence_names_the_key():
    loaded = Settings.load({"A2A_MAX_UPLOAD_MB": "ten"}, {"retention_days": "a week"})
    assert loaded.max_upload_mb == 10 and loaded.retention_days is None
    assert loaded.problems == (
        "A2A_MAX_UPLOAD_MB in the environment is 'ten', not a whole number: using the default, 10.",
        "`retention_days` in secrets is 'a week', not a number of days: no limit is set.",
    )


def test_lists_agents_and_secret_values_come_from_secrets():
    secrets = {
        "allowed_agent_urls": ["https://a.example", "https://b.example"],
        "agents": [{"url": "https://a.example", "token": "tok-a1b2"}, {"name": "no url"}],
        "agent_token": "tok-main",
    }
    loaded = Settings.load({"A2A_ALLOWED_AGENT_URLS": ""}, secrets)
    assert loaded.allowed_agent_urls == ("https://a.example", "https://b.example")
    assert [a["url"] for a in loaded.agents] == ["https://a.example"]  # one without a url: skipped
    assert set(loaded.secret_values) == {"tok-a1b2", "tok-main"}
    assert "tok-" not in repr(loaded)  # secrets stay out of a logged or shown repr
    env = Settings.load({"A2A_ALLOWED_AGENT_URLS": "https://c.example,https://d.example"}, secrets)
    assert env.allowed_agent_urls == ("https://c.example", "https://d.example")
