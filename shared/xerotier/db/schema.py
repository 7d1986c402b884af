"""Every table of the registry: import this (not a single models module) to get the full metadata.

Areas that add tables put them in their own module and import it here.
"""

from __future__ import annotations

import xerotier.db.registry_models
import xerotier.db.sharing_models
import xerotier.db.versioning_models  # noqa: F401  (versioning tables)
from xerotier.db import models  # noqa: F401
from xerotier.db.models import Base

metadata = Base.metadata
