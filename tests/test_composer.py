"""The composer (Advanced send): drafts, the schema check's sentences, sending a composed
request to the real demo agent on loopback over both HTTP bindings, and the Chat page."""

from __future__ import annotations

import base64
import json

import pytest
from google.protobuf.json_format import MessageToDict

from app_pages.ui.composer import SEND_KEY, draft_key
from services.client import agent, resources
from services.client.composer import (
    MAX_PROBLEMS,
    RequestRejected,
    draft_request,
    parse_request,
    request_turn,
)
from services.demo_agent import DemoAgentServer
from services.replies import Conversation, PartView, Reply
from services.runtime import SessionRuntime
from tests.test_app import conversation

BINDINGS = ["JSONRPC", "HTTP+JSON"]


def problems(text: str) -> list[str]:
    with pytest.raises(RequestRejected) as caught:
        parse_request(text)
    return caught.value.problems


def composed(text: str = "hello composer", **configuration: object) -> dict:
    draft = json.loads(draft_request(agent.SendOptions(), text))
    draft["message"]["parts"].append({"data": {"city": "Kyoto", "nights": 3}})
    draft["configuration"] = dict(configuration)
    return draft


# --- drafts and the schema check -------------------------------------------------------


def test_the_draft_is_what_the_chat_would_send():
    options = agent.SendOptions(
        context_id="ctx-1",
        task_id="task-1",
        accepted_output_modes=("text/plain", "application/json"),
        history_length=4,
    )
    draft = json.loads(draft_request(options, "hi"))
    chat = MessageToDict(options.request("hi"))
    draft["message"].pop("messageId"), chat["message"].pop("messageId")  # new each time
    assert draft == chat
    assert draft["message"]["contextId"] == "ctx-1" and draft["message"]["taskId"] == "task-1"
    assert draft["configuration"] == {
        "acceptedOutputModes": ["text/plain", "application/json"],
        "historyLength": 4,
    }
    # With no text yet, a text part to fill in; and the draft itself passes the check.
    empty = json.loads(draft_request(agent.SendOptions()))
    assert empty["message"]["parts"] == [{"text": ""}]
    assert parse_request(draft_request(options, "hi")).message.parts[0].text == "hi"


def test_broken_json_is_one_sentence():
    assert problems('{"message": ') == [
        "The request is not JSON (line 1, column 13: expecting value)."
    ]
    assert problems("[1, 2]") == [
        "The request should be a JSON object (a SendMessageRequest), not an array."
    ]


def test_each_problem_names_its_field_path():
    text = json.dumps(
        {
            "mesage": {},
            "message": {
                "role": "user",
                "messageId": 3,
                "parts": [{"text": "a", "url": "https://x"}, {"raw": "%%%"}, {"txt": "b"}],
            },
            "configuration": {"historyLength": True, "returnImmediately": "yes"},
            "metadata": [],
        }
    )
    assert problems(text) == [
        "`mesage` is not a field of SendMessageRequest (did you mean `message`?).",
        "`message.role` should be one of ROLE_UNSPECIFIED, ROLE_USER, ROLE_AGENT, "
        'not a string ("user").',
        "`message.messageId` should be a string, not a number (3).",
        "`message.parts[0]` sets `text` and `url`, but a Part holds only one of text, raw, "
        "url, data.",
        '`message.parts[1].raw` should be base64 text, and "%%%" is not valid base64.',
        "`message.parts[2].txt` is not a field of Part (did you mean `text`?).",
        "`configuration.historyLength` should be a whole number, not a boolean (true).",
        '`configuration.returnImmediately` should be true or false, not a string ("yes").',
        "`metadata` should be an object, not an array.",
    ]


def test_missing_required_fields_are_named_after_the_strict_parse():
    text = json.dumps(
        {
            "message": {"parts": [{"text": "hi"}]},
            "configuration": {"taskPushNotificationConfig": {"token": "t"}},
        }
    )
    assert problems(text) == [
        "`message.messageId` is required, and it is missing or empty.",
        "`message.role` is required, and it is missing or empty.",
        "`configuration.taskPushNotificationConfig.url` is required, and it is missing or empty.",
    ]


def test_problems_are_bounded_and_so_is_the_size():
    many = {"message": {f"unknown{i}": 1 for i in range(25)}}
    found = problems(json.dumps(many))
    assert len(found) == MAX_PROBLEMS + 1 and found[-1] == "… and 15 more problems."
    huge = json.dumps({"message": {"parts": [{"text": "x" * (1024 * 1024)}]}})
    assert problems(huge) == ["The request is 1.0 MB, more than the 1.0 MB this app reads."]


def test_every_editable_field_parses():
    raw = base64.b64encode(b"hello file").decode()
    request = parse_request(
        json.dumps(
            {
                "message": {
                    "messageId": "m-1",
                    "role": "ROLE_USER",
                    "contextId": "c-1",
                    "taskId": "t-1",
                    "referenceTaskIds": ["t-0"],
                    "metadata": {"source": "composer"},
                    "parts": [
                        {"text": "see attached"},
                        {"data": {"rows": [1, 2]}},
                        {"raw": raw, "mediaType": "text/plain", "filename": "a.txt"},
                        {"url": "https://example.com/b.pdf", "mediaType": "application/pdf"},
                    ],
                },
                "configuration": {
                    "acceptedOutputModes": ["text/plain"],
                    "historyLength": 2,
                    "returnImmediately": False,
                    "taskPushNotificationConfig": {"url": "https://example.com/hook", "token": "x"},
                },
                "metadata": {"trace": "abc"},
            }
        )
    )
    assert list(request.message.reference_task_ids) == ["t-0"]
    assert request.configuration.history_length == 2
    assert request.configuration.task_push_notification_config.url == "https://example.com/hook"
    text, files = request_turn(request)
    assert text == 'see attached\n\n[data part: {"rows":[1.0,2.0]}]'
    assert [(f.filename, f.raw, f.url) for f in files] == [
        ("a.txt", b"hello file", ""),
        ("", None, "https://example.com/b.pdf"),
    ]


# --- sending, against the demo agent -------------------------------------------------------


@pytest.mark.parametrize("binding", BINDINGS)
def test_a_composed_request_goes_as_written_and_its_reply_streams(
    runtime: SessionRuntime, demo_agent: DemoAgentServer, binding: str
):
    agent.connect(runtime, demo_agent.url, binding)
    request = parse_request(
        json.dumps(composed(historyLength=2, acceptedOutputModes=["text/plain"]))
    )
    reply = Reply()
    for event in agent.send_message(runtime, demo_agent.url, "label", request=request):
        reply.apply(event)
    assert reply.text.startswith('You said: "hello composer".')

    record = resources.recorder(runtime).streams()[-1]
    body = json.loads(record.exchanges[0].request_body)
    sent = body["params"] if binding == "JSONRPC" else body
    assert sent["message"]["parts"][1] == {"data": {"city": "Kyoto", "nights": 3}}
    assert sent["configuration"] == {"acceptedOutputModes": ["text/plain"], "historyLength": 2}
    assert record.label == "label" and record.binding == binding


def test_a_composed_raw_file_reaches_the_agent_byte_for_byte(runtime, demo_agent):
    payload = bytes(range(256))
    draft = json.loads(draft_request(agent.SendOptions(), "a file"))
    draft["message"]["parts"].append(
        {
            "raw": base64.b64encode(payload).decode(),
            "mediaType": "application/octet-stream",
            "filename": "bytes.bin",
        }
    )
    request = parse_request(json.dumps(draft))
    reply = Reply()
    for event in agent.send_message(runtime, demo_agent.url, "a file", request=request):
        reply.apply(event)
    assert reply.state == "completed"
    echoed = [p for a in reply.artifacts.values() for p in a.parts if p.kind == "file"]
    assert [p.raw for p in echoed] == [payload]


# --- the Chat page ---------------------------------------------------------------------------


def composer_area(at):
    areas = [t for t in at.text_area if str(t.key).startswith("chat_composer-")]
    assert len(areas) == 1
    return areas[0]


def test_advanced_send_puts_a_composed_request_and_its_reply_in_the_conversation(app):
    app.run()
    area = composer_area(app)
    assert area.key == draft_key(conversation(app))
    draft = json.loads(area.value)
    assert draft["message"]["parts"] == [{"text": ""}] and draft["message"]["role"] == "ROLE_USER"
    draft["message"]["parts"] = [{"text": "hello composer"}, {"data": {"city": "Kyoto"}}]
    draft["configuration"] = {"historyLength": 3}
    area.set_value(json.dumps(draft))
    app.button(key=SEND_KEY).click().run()
    assert not app.exception and not app.error

    user, agent_turn = conversation(app).turns
    assert user.text == 'hello composer\n\n[data part: {"city":"Kyoto"}]'
    assert agent_turn.reply is not None
    assert agent_turn.reply.text.startswith('You said: "hello composer".')
    recorder = app.session_state["traffic_recorder"]
    sent = json.loads(recorder.streams()[-1].exchanges[0].request_body)["params"]
    assert sent["configuration"] == {"historyLength": 3}

    # The next draft continues the conversation: its context, a new message id.
    app.run()
    follow_up = json.loads(composer_area(app).value)
    assert follow_up["message"]["contextId"] == agent_turn.reply.context_id
    assert follow_up["message"]["messageId"] != draft["message"]["messageId"]


@pytest.mark.parametrize(
    ("edit", "sentences"),
    [
        (lambda d: '{"message": {', ["Not sent: The request is not JSON"]),
        (
            lambda d: json.dumps({**d, "configration": {}}),
            [
                "Not sent: `configration` is not a field of SendMessageRequest (did you mean "
                "`configuration`?)."
            ],
        ),  # fmt: skip
        (
            lambda d: json.dumps({**d, "configuration": {"historyLength": "three"}}),
            [
                "Not sent: `configuration.historyLength` should be a whole number, not a string "
                '("three").'
            ],
        ),  # fmt: skip
    ],
    ids=["broken-json", "unknown-field", "wrong-type"],
)
def test_advanced_send_refuses_a_bad_request_with_its_sentences_and_sends_nothing(
    app, edit, sentences
):
    app.run()
    area = composer_area(app)
    area.set_value(edit(json.loads(area.value)))
    app.button(key=SEND_KEY).click().run()
    assert not app.exception
    errors = [e.value.replace("\\`", "`") for e in app.error]  # shown as plain text
    assert len(errors) == len(sentences)
    for shown, expected in zip(errors, sentences, strict=True):
        assert shown.startswith(expected)
    assert conversation(app).turns == []
    assert app.session_state["traffic_recorder"].streams() == []


def test_request_turn_keeps_plain_chat_turns_unchanged():
    request = agent.SendOptions(files=(PartView("file", raw=b"x", filename="x.txt"),)).request("hi")
    text, files = request_turn(request)
    assert (text, [f.filename for f in files]) == ("hi", ["x.txt"])
    conv = Conversation()
    conv.add_user(text, files)
    assert conv.label == "hi"
