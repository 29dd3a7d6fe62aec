"""The bench's targets, in one table: `make bench` checks its figures against it, and
docs/performance.md's table of targets is held to it by a test (tests/render/test_bench_goals.py).

Each is a ratio of two figures measured in the same run, so that the host's speed cancels,
except where it says "absolute"."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    label: str  # as the bench prints it and the page names it (the page adds code spans)
    relation: str  # ">=" or "<="
    limit: float

    def met(self, value: float) -> bool:
        return value >= self.limit if self.relation == ">=" else value <= self.limit

    @property
    def stated(self) -> str:
        """The limit as the page writes it: `≥ 0.6`."""
        return f"{'≥' if self.relation == '>=' else '≤'} {self.limit:g}"


GOALS: dict[str, Goal] = {
    "me": Goal("/users/me requests/s, ours ÷ raw app", ">=", 0.6),
    "me_p99": Goal("/users/me p99, ours ÷ raw app", "<=", 1.5),
    "me_quiet": Goal("/users/me requests/s, ours ÷ raw app without a log", ">=", 0.6),
    "live": Goal("/health/live requests/s, ours ÷ bare app", ">=", 0.8),
    "live_quiet": Goal("/health/live requests/s, ours ÷ bare app without a log", ">=", 0.6),
    "refresh_quiet": Goal("/auth/refresh requests/s, ours ÷ raw asyncpg without a log", ">=", 0.5),
    # Only with --before REF: what the changes since REF cost.
    "now_and_then": Goal("/users/me requests/s, now ÷ before", ">=", 0.95),
    "busy": Goal("/users/me p50, 1 connection, during 8 logins ÷ quiet", "<=", 5),
    # A login is a bcrypt hash on a thread: the cores bound them, less the event loop's share.
    "logins": Goal("logins/s alone ÷ (0.85 x cores ÷ hash time)", ">=", 1),
    "logins_busy": Goal("logins/s beside /users/me ÷ (0.85 x cores ÷ hash time)", ">=", 1),
    # The worst of /users/me, login, refresh and the admin list.
    "big_tables": Goal("requests/s, small ÷ big tables, the worst route", "<=", 1.2),
    "last_page": Goal("admin list requests/s, first ÷ last page", "<=", 2),
    "memory": Goal("worker memory, after the run ÷ after warm-up", "<=", 1.25),
    "reset_mail": Goal("reset e-mail p99 s, 202 to SMTP, bursts (absolute)", "<=", 2),
    "failures": Goal("answers that were not 2xx, or failed (absolute)", "<=", 0),
}
