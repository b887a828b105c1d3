"""The registry of a team server (``steward server``), over its REST API.

:class:`RemoteRegistry` answers the registry methods the command line uses with the same values as a
local :class:`modelsteward.registry.Registry`, so that every command prints the same either way;
:class:`RegistryAPI` is that common shape. :func:`submit` and :func:`follow` run a server's
job (an admission, a verification). :class:`ApiSession` is the connection all of them use.
"""

from modelsteward.client._api import RegistryAPI
from modelsteward.client._http import ApiSession
from modelsteward.client._jobs import follow, submit
from modelsteward.client._remote import RemoteRegistry

__all__ = ["ApiSession", "RegistryAPI", "RemoteRegistry", "follow", "submit"]
