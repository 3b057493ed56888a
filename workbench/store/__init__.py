"""Durable state under one data directory: atomic, lock-serialized, safe across processes."""

from workbench.store.invocations import InvocationLog
from workbench.store.locks import FileLock, LockBusy
from workbench.store.metadata import MetadataStore
from workbench.store.secrets import SecretStore

__all__ = ["FileLock", "InvocationLog", "LockBusy", "MetadataStore", "SecretStore"]
