"""The artifact store: model files and documents kept by content address, copied in while hashed.

:class:`ArtifactStore` ingests a folder's files into ``blobs/`` and returns their
:class:`~modelsteward.core.Manifest`; :meth:`ArtifactStore.materialize` lays a manifest out as a
read-only folder, the ``Snapshot.root`` the checks read. :func:`hash_tree` computes the same manifest
of a folder without copying it.
"""

from modelsteward.store._store import ArtifactStore
from modelsteward.store._transfer import DEFAULT_SHARD_SIZE, StoreError, hash_tree

__all__ = ["DEFAULT_SHARD_SIZE", "ArtifactStore", "StoreError", "hash_tree"]
