"""What Prefect runs again of a touch that failed, on the session's real Prefect server.

A touch that failed for a reason a second try may cure (the SMTP server refused, a template
error fixed since) is retried by Prefect. A touch whose email may already have left is not: a
retry would find it in doubt again, and while it ran the touch would be `running`, so the
operator's `hundred retry --delivered` would be refused for the ~20 s of two retries. The
runtime underneath is replaced by one that counts its calls: what is tested is Prefect's retry
decision about hundred's outcome (the in-doubt outcome itself: test_in_doubt.py, and the kill in
test_up_runs_right.py).
"""

from __future__ import annotations

import pytest

from hundred.service.outcomes import TouchOutcome

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


class Counting:
    def __init__(self, in_doubt: bool):
        self.in_doubt, self.calls = in_doubt, 0

    def run_touch(self, deal: str, touch: str, *, holder: str | None = None) -> TouchOutcome:
        self.calls += 1
        detail = "may already have been delivered" if self.in_doubt else "not sent: 451 try again later"
        return TouchOutcome(deal, touch, "failed", detail, in_doubt=self.in_doubt)


def _deliver_once(runtime: Counting, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, str]:
    from prefect import flow

    import flows.journey as journey

    monkeypatch.setattr(journey, "runtime", lambda: runtime)
    task_ = journey.deliver_touch.with_options(retry_delay_seconds=0)

    @flow(name="deliver-retries-test")
    def one() -> tuple[bool, str]:
        state = task_("D-1", "check-in", "test", return_state=True)
        return state.is_failed(), state.message or ""

    return one()


@pytest.mark.parametrize(
    ("in_doubt", "calls"),
    [(True, 1), (False, 3)],
    ids=["in-doubt-waits-for-the-operator", "plain-failure-retried-twice"],
)
def test_only_a_failure_a_retry_may_cure_is_retried(prefect_server, monkeypatch, in_doubt, calls):
    runtime = Counting(in_doubt)
    failed, message = _deliver_once(runtime, monkeypatch)
    assert failed and runtime.calls == calls
    assert ("may already have been delivered" if in_doubt else "451") in message
