"""Names that cross layers and reach the IR: permanent once released.

Only constants live here, so any layer may import it.
"""

STALENESS_VARIABLE = "DAGYARD_MAX_CACHE_STALENESS"
"""A task's own maximum cache staleness in seconds. KFP's IR has no field for it, so it
travels as a container environment variable (other engines ignore it) and is left out of
the cache fingerprint."""

CREATE_PVC_IMAGE = "argostub/createpvc"
DELETE_PVC_IMAGE = "argostub/deletepvc"
"""The images of kfp-kubernetes' CreatePVC and DeletePVC components: markers, never
pulled. KFP's driver does the work of such a task itself (makes or deletes the volume
claim); Dagyard's engine does too, and so must recognise them by image."""

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
"""Kubernetes' image pull policies (kfp-kubernetes' `set_image_pull_policy`); a task that
runs in its image is pulled as its policy says, IfNotPresent when it sets none."""
