"""The one bridge between Streamlit and the services: typed access to session state.

Pages never spell `st.session_state[...]`; they call `session.<name>(...)`, and every name
they use is listed here. This package is the only part of `services/` that imports
Streamlit, and it only runs on the script thread.

Its modules import downward only, in this order:

- `_keys`: the session-state keys (typed) and URL parameters; the pages' widget helpers.
- `_settings`: `Settings`, the deployment's configuration, read once per session from
  the environment and secrets (its docstring lists every setting and its default).
- `_resources`: the session's redactor, traffic recorder, allow list, credentials and
  client certificates (mutual TLS).
- `_runtime`: the session's runtime (its event loop) and the loop's health.
- `_store`: the process's store, whose workspace this is, and the writes to it.
- `_agents`: the workspace's agents, the current one and its conversation; stopping a reply.
- `_extensions`: the card's extensions, the conversation's activated ones.
- `_side_by_side`: the Side by side page's runs: one prompt to several agents at once.
- `_conversations`, `_share`, `_tasks`, `_inspector`: what the Chat, Your data, Tasks and
  Streaming inspector pages do.
- `_push`: push notifications: the webhook's URL, background sends, the inbox, a task's
  notifications as a stream for the inspector.
- `_chat`: the Chat page's fragment: replies streamed in a run of the whole page, and
  what the chat input's Stop does.

A name here is a copy of the binding in the module that owns it: to replace one in a
test, patch it there (`services.session._store._store_slot`), not here.
"""

from services.session._agent_check import (
    AgentCheckRun,
    agent_check_runs,
    check_is_against_demo,
    finish_agent_check,
    running_agent_check,
    start_agent_check,
)
from services.session._agents import (
    agent_error,
    agent_info,
    agent_url,
    agents,
    connect,
    conversation,
    current_agent,
    remove_agent,
    select_agent,
    set_binding,
    set_credentials,
    set_tenant,
    stop_reply,
    workspace,
)
from services.session._chat import (
    ReplyStop,
    begin_run,
    reply_pending,
    reply_stop,
    rerun_chat,
    settle_stopped_reply,
)
from services.session._conversations import (
    HISTORY_PAGE,
    composer_draft,
    conversations,
    delete_conversation,
    export_current_conversation,
    follow_conversation_link,
    has_queued_prompt,
    history_start,
    import_conversation_file,
    new_conversation,
    queue_prompt,
    rename_conversation,
    reply_writer,
    select_conversation,
    send,
    set_conversation_options,
    show_earlier_history,
    take_queued_prompt,
)
from services.session._extensions import (
    agent_extensions,
    extension_refusals,
    set_conversation_extensions,
)
from services.session._inspector import (
    replay_comparison,
    replay_stream,
    send_probe,
    show_stream,
    take_stream_request,
)
from services.session._keys import (
    CONVERSATION_PARAM,
    SHARE_PARAM,
    STREAM_PARAM,
    preset_widget,
    reset_widget,
    widget_value,
)
from services.session._oauth import (
    AUTH_PAGE_PATH,
    begin_sign_in,
    can_keep_sign_ins,
    finish_redirect,
    oauth_client_defaults,
    poll_device_sign_in,
    redirect_uri,
    refresh_sign_in,
    restore_sign_in,
    sign_in,
    sign_in_schemes,
    sign_out,
    take_finished_sign_in,
    token_keeper,
)
from services.session._push import (
    add_task_push_config,
    catch_up,
    delete_task_push_config,
    push_inbox,
    push_record,
    push_refusal,
    push_tasks,
    push_url_for,
    send_in_background,
    task_push_configs,
)
from services.session._resources import (
    allow_list,
    max_upload_bytes,
    recorder,
    redact,
    redactor,
    stream_kept,
)
from services.session._runtime import (
    checkpoint,
    health_report,
    last_reproduction,
    last_self_test,
    loop_status,
    restart_runtime,
    run_reproduction,
    run_self_test,
    runtime,
    runtime_rebuilds,
    session_active,
)
from services.session._settings import Settings, configured_agent_url, settings
from services.session._share import (
    WORKSPACE_FORMAT,
    export_workspace,
    forget_workspace,
    revoke_share,
    share_conversation,
    shared,
    shares,
)
from services.session._side_by_side import (
    SideBySideRun,
    finish_side_by_side,
    open_side_by_side_run,
    shown_side_by_side,
    side_by_side_agents,
    side_by_side_runs,
    start_side_by_side,
)
from services.session._store import (
    TURN_WAIT,
    database_url,
    route_store,
    save_stream,
    store,
    store_problem,
    take_resumable,
    workspace_id,
    workspace_kind,
)
from services.session._tasks import (
    cancel_task,
    get_task,
    list_tasks,
    open_task_in_chat,
    queue_reconnect,
    reconnect,
    set_tasks_page_token,
    subscribe_task,
    take_queued_reconnect,
    tasks_page_token,
)

__all__ = [
    "AUTH_PAGE_PATH",
    "begin_sign_in",
    "can_keep_sign_ins",
    "finish_redirect",
    "oauth_client_defaults",
    "poll_device_sign_in",
    "redirect_uri",
    "refresh_sign_in",
    "restore_sign_in",
    "sign_in",
    "sign_in_schemes",
    "sign_out",
    "take_finished_sign_in",
    "token_keeper",
    # the URL and the Chat page's paging
    "CONVERSATION_PARAM",
    "HISTORY_PAGE",
    "SHARE_PARAM",
    "STREAM_PARAM",
    "TURN_WAIT",
    "WORKSPACE_FORMAT",
    # configuration
    "Settings",
    "allow_list",
    "configured_agent_url",
    "database_url",
    "max_upload_bytes",
    "settings",
    # the runtime and its health
    "checkpoint",
    "health_report",
    "last_reproduction",
    "last_self_test",
    "loop_status",
    "restart_runtime",
    "run_reproduction",
    "run_self_test",
    "runtime",
    "runtime_rebuilds",
    "session_active",
    # secrets and recorded traffic
    "recorder",
    "redact",
    "redactor",
    "stream_kept",
    # the store and the workspace
    "route_store",
    "store",
    "store_problem",
    "save_stream",
    "take_resumable",
    "workspace",
    "workspace_id",
    "workspace_kind",
    # agents
    "agent_error",
    "agent_info",
    "agent_url",
    "agents",
    "connect",
    "current_agent",
    "remove_agent",
    "select_agent",
    "set_binding",
    "set_credentials",
    "set_tenant",
    # extensions
    "agent_extensions",
    "extension_refusals",
    "set_conversation_extensions",
    # conversations and the chat
    "composer_draft",
    "conversation",
    "conversations",
    "delete_conversation",
    "export_current_conversation",
    "follow_conversation_link",
    "history_start",
    "import_conversation_file",
    "new_conversation",
    "queue_prompt",
    "rename_conversation",
    "reply_writer",
    "select_conversation",
    "send",
    "set_conversation_options",
    "show_earlier_history",
    "stop_reply",
    "take_queued_prompt",
    "has_queued_prompt",
    # the Agent check page
    "AgentCheckRun",
    "agent_check_runs",
    "check_is_against_demo",
    "finish_agent_check",
    "running_agent_check",
    "start_agent_check",
    # push notifications
    "add_task_push_config",
    "catch_up",
    "delete_task_push_config",
    "push_inbox",
    "push_record",
    "push_refusal",
    "push_tasks",
    "push_url_for",
    "send_in_background",
    "task_push_configs",
    # the Chat page's fragment and the chat input's Stop
    "ReplyStop",
    "begin_run",
    "rerun_chat",
    "reply_pending",
    "reply_stop",
    "settle_stopped_reply",
    # share and own your data
    "export_workspace",
    "forget_workspace",
    "revoke_share",
    "share_conversation",
    "shared",
    "shares",
    # tasks and reconnect
    "cancel_task",
    "get_task",
    "list_tasks",
    "open_task_in_chat",
    "queue_reconnect",
    "reconnect",
    "set_tasks_page_token",
    "subscribe_task",
    "take_queued_reconnect",
    "tasks_page_token",
    # the Side by side page
    "SideBySideRun",
    "finish_side_by_side",
    "open_side_by_side_run",
    "shown_side_by_side",
    "side_by_side_agents",
    "side_by_side_runs",
    "start_side_by_side",
    # the Streaming inspector
    "replay_comparison",
    "replay_stream",
    "send_probe",
    "show_stream",
    "take_stream_request",
    # the pages' widgets
    "preset_widget",
    "reset_widget",
    "widget_value",
]
