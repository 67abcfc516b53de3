"""The chat panel of either page, as a person sees and uses it."""

from __future__ import annotations

from typing import Any

CHAT = "#chat"

MESSAGES = """() => [...document.querySelectorAll('#chat .chat-message')].map((item) => ({
  id: item.dataset.id,
  senderId: item.dataset.sender,
  role: item.dataset.role,
  sender: item.querySelector('.chat-sender').textContent,
  hostBadge: Boolean(item.querySelector('.chat-host')),
  time: item.querySelector('.chat-time').textContent,
  sentAt: item.querySelector('.chat-time').dateTime,
  timeTitle: item.querySelector('.chat-time').title,
  text: item.querySelector('.chat-text').textContent,
  mine: item.classList.contains('is-mine'),
  actions: [...item.querySelectorAll('.chat-actions button')].map((b) => b.dataset.action),
}))"""


class ChatPanel:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def state(self) -> str:
        return str(self.page.evaluate("() => document.getElementById('chat').dataset.chatState"))

    def wait_for_state(self, state: str, timeout: float = 10_000) -> None:
        self.page.wait_for_function(
            "state => document.getElementById('chat').dataset.chatState === state",
            arg=state,
            timeout=timeout,
        )

    def join(self, name: str) -> None:
        self.wait_for_state("name")
        self.page.fill("#chatName", name)
        with self.page.expect_response("**/chat_token"):
            self.page.press("#chatName", "Enter")
        self.wait_for_state("open")
        self.wait_until_connected()

    def wait_until_connected(self) -> None:
        self.page.wait_for_function(
            "() => document.getElementById('chat').dataset.connection === 'connected'"
        )

    def send(self, text: str) -> int:
        """Types ``text`` and presses Enter; the HTTP status the send got."""
        self.page.fill("#chatText", text)
        with self.page.expect_response("**/chat/send") as reply:
            self.page.press("#chatText", "Enter")
        # the form is ready for the next message once the reply is handled
        self.page.wait_for_function("() => !document.querySelector('[data-chat=send]').disabled")
        return int(reply.value.status)

    def messages(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.page.evaluate(MESSAGES)
        return found

    def wait_for_message(self, text: str, timeout: float = 5_000) -> dict[str, Any]:
        self.page.wait_for_function(
            """text => [...document.querySelectorAll('#chat .chat-text')]
                .some((p) => p.textContent === text)""",
            arg=text,
            timeout=timeout,
        )
        return next(m for m in self.messages() if m["text"] == text)

    def wait_until_gone(self, message_id: str, timeout: float = 5_000) -> None:
        self.page.wait_for_function(
            "id => !document.querySelector(`#chat .chat-message[data-id='${id}']`)",
            arg=message_id,
            timeout=timeout,
        )

    def click_action(self, message_id: str, action: str) -> None:
        self.page.click(f"#chat .chat-message[data-id='{message_id}'] [data-action={action}]")

    def note(self) -> str:
        return str(
            self.page.evaluate(
                """() => {
                  const note = document.querySelector('[data-chat=note]');
                  return note.hidden ? '' : note.textContent;
                }"""
            )
        )

    def wait_for_note(self, text: str, timeout: float = 10_000) -> None:
        self.page.wait_for_function(
            """text => {
              const note = document.querySelector('[data-chat=note]');
              return (note.hidden ? '' : note.textContent) === text;
            }""",
            arg=text,
            timeout=timeout,
        )

    def alert(self) -> dict[str, str]:
        found: dict[str, str] = self.page.evaluate(
            """() => {
              const alert = document.querySelector('[data-chat=alert]');
              return alert.hidden ? {} : { kind: alert.dataset.kind, text: alert.textContent };
            }"""
        )
        return found

    def wait_for_alert(self, kind: str, timeout: float = 5_000) -> str:
        self.page.wait_for_function(
            """kind => {
              const alert = document.querySelector('[data-chat=alert]');
              return !alert.hidden && alert.dataset.kind === kind;
            }""",
            arg=kind,
            timeout=timeout,
        )
        return self.alert()["text"]

    def box(self, selector: str) -> dict[str, float]:
        found: dict[str, float] = self.page.locator(selector).bounding_box()
        return found
