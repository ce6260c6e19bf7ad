"""Row ids as clients send them: within the database's INTEGER range, so an id no row can have
is refused naming the field rather than overflowing in the database driver.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ID = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
