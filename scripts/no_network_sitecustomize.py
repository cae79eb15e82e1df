"""Network guard for the dry run's fallback isolation mode, installed as `sitecustomize.py` into the simulated
image: Python sockets may reach loopback and local (AF_UNIX) addresses only; connects, `sendto` and name
lookups of anything else raise. It cannot stop C code that opens its own sockets (`unshare -rn` can)."""

import errno
import ipaddress
import socket


def _local(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX path
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(address: object) -> OSError:
    return OSError(errno.ENETUNREACH, f"network disabled for the dry run: {address!r}")


def _guard(real):
    def call(self, address, *args):
        if not _local(address):
            raise _refuse(address)
        return real(self, address, *args)
    return call


_real_getaddrinfo = socket.getaddrinfo
_real_sendto = socket.socket.sendto


def _getaddrinfo(host, *args, **kw):
    if host is not None and not _local((host, 0)):
        raise socket.gaierror(socket.EAI_NONAME, f"name resolution disabled for the dry run: {host!r}")
    return _real_getaddrinfo(host, *args, **kw)


def _sendto(self, data, *args):
    if not _local(args[-1]):
        raise _refuse(args[-1])
    return _real_sendto(self, data, *args)


socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)
socket.socket.sendto = _sendto
socket.getaddrinfo = _getaddrinfo
