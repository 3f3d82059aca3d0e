from __future__ import annotations

from gitcoord.events import Event


def test_a_commit_subject_escapes_what_a_terminal_would_obey() -> None:
    title = "fix \x1b]0;pwned\x07 the \u202eroot\u202c bug\x1b[2J"
    subject = Event("task.add", "instance-1", "task_1", f"instance-1 adds task_1: {title}").message().splitlines()[0]
    assert "\x1b" not in subject
    assert "\x07" not in subject
    assert "\u202e" not in subject
    assert subject == (
        "coord(task): instance-1 adds task_1: fix \\u001b]0;pwned\\u0007 the \\u202eroot\\u202c bug\\u001b[2J"
    )
