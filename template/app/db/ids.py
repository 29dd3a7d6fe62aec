"""Primary keys: UUIDs whose leading bits are the time they were made (UUID version 7).

Random (version 4) keys land anywhere in a primary-key index, so every insert into a big
table touches a page no one has read lately; keys that grow with time land at its end.
They also sort in the order rows were made, which is what keyset paging walks.
"""

import os
import time
import uuid

_VERSION_7 = 0x7 << 76
_RFC_4122_VARIANT = 0x2 << 62


def new_id() -> uuid.UUID:
    """48 bits of Unix milliseconds, then the version, the variant and 74 random bits."""
    milliseconds = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10), "big")
    value = (milliseconds & 0xFFFF_FFFF_FFFF) << 80 | random_bits
    value &= ~(0xF << 76) & ~(0x3 << 62)  # make room for the version and the variant
    return uuid.UUID(int=value | _VERSION_7 | _RFC_4122_VARIANT)
