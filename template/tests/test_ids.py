"""Primary keys are UUID version 7: unique, and sorted by the time they were made."""

import time

from app.db.ids import new_id


def test_ids_are_version_7_with_the_standard_variant() -> None:
    made = new_id()
    assert made.version == 7
    assert made.variant == "specified in RFC 4122"


def test_ids_sort_in_the_order_they_were_made() -> None:
    earlier = [new_id() for _ in range(50)]
    time.sleep(0.002)  # the order is by millisecond; within one it is random
    later = [new_id() for _ in range(50)]
    assert max(earlier) < min(later)
    assert max(earlier).bytes < min(later).bytes  # as PostgreSQL compares them


def test_ids_carry_the_time_they_were_made() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= made.int >> 80 <= after


def test_ids_do_not_repeat() -> None:
    assert len({new_id() for _ in range(10_000)}) == 10_000
