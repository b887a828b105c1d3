"""The registry of a team server (``steward server``), over its REST API.

:class:`RemoteRegistry` answers the registry methods the command line uses with the same values as a
local :class:`modelsteward.registry.Registry`, so that every command prints the same either way;
:class:`RegistryAPI` is that common shape.
"""

from modelsteward.client._api import RegistryAPI
from modelsteward.client._remote import RemoteRegistry

__all__ = ["RegistryAPI", "RemoteRegistry"]
