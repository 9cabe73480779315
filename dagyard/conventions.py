"""Names that cross layers and reach the IR: permanent once released.

Only constants live here, so any layer may import it.
"""

STALENESS_VARIABLE = "DAGYARD_MAX_CACHE_STALENESS"
"""A task's own maximum cache staleness in seconds. KFP's IR has no field for it, so it
travels as a container environment variable (other engines ignore it) and is left out of
the cache fingerprint."""
