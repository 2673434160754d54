"""Jack The Butler: the host application and the contract its plugins implement."""

from jack_host.contract.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["hookimpl", "__version__"]
