"""The print room: batches of letters (one PDF each, with cover, manifest and labels), letter
states and reprints. Imports only the core and the ledger; see `service.PrintRoom`."""

from hundred.service.printroom.service import BatchResult, PrintRoom, QueueDay, Refusal, Unknown

__all__ = ["BatchResult", "PrintRoom", "QueueDay", "Refusal", "Unknown"]
