"""The sandbox's call counts are what was sent after the last reset: a call still being
answered at a reset (an earlier test's slow fault, a connection held open) must not show
up in the next window, or a test comparing the auditor's count with the sandbox's fails
depending on what ran before it (seen once in CI: 13 Kubernetes calls counted, 12 sent)."""

from __future__ import annotations

from sandbox.faults import KUBERNETES, Call, CallRecorder

CALL = Call(KUBERNETES, "list:pods", "eu-west-1", "prod", None, "123456789012")


def counted(recorder: CallRecorder) -> int:
    return sum(row["count"] for row in recorder.snapshot()["calls"])


def test_a_call_that_began_before_a_reset_is_not_counted_after_it() -> None:
    recorder = CallRecorder()
    window = recorder.enter()
    recorder.reset()
    recorder.leave(CALL, 200, window)
    assert counted(recorder) == 0


def test_a_call_made_after_the_reset_is_counted() -> None:
    recorder = CallRecorder()
    recorder.reset()
    window = recorder.enter()
    recorder.leave(CALL, 200, window)
    assert counted(recorder) == 1
