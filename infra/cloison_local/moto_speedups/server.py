"""The speed-up of moto's server itself: how it finds the backend of a request."""

from __future__ import annotations

from cloison_local.moto_speedups.internals import _module


def _server_lists_moto_modules_once() -> None:
    """The server lists moto's service packages once, not at every request.

    moto: to find the backend of a request, `DomainDispatcherApplication.get_backend_for_host`
    tests `host in backends.list_of_moto_modules()`, a generator that lists moto's package
    directory and stats each of its 150-odd entries: a sixth of a GetItem's time in the server.

    Patch: the listing is made once and kept as a tuple, which the membership test reads the
    same way. The listing only changes if moto's own installed files change under a running
    server.
    """
    backends = _module("moto.backends")

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
