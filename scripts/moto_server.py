"""The moto server, with DynamoDB requests applied one at a time.

Real DynamoDB applies every write, and every TransactWriteItems, atomically.
moto's threaded server does not: two concurrent transactions can interleave, and
a cancelled one rolls back by restoring a snapshot of the table, which can erase
a neighbour's committed write. Our money rules (no over-refund, one transaction
per Tiki id) rest on that atomicity, so DynamoDB calls are serialised here.
Other services stay concurrent: an SQS long poll must not stall the table.

moto also snapshots a transaction's whole tables (a deep copy) before it runs,
which makes every TransactWriteItems cost as much as the table is large. With
calls serialised, a snapshot of just the items the transaction names restores
the same state, so that is what is taken here.

Usage: moto_server.py HOST PORT
"""

import copy
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import table as moto_table
import moto.dynamodb.models as moto_dynamodb
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class _TablesNotCopied:
    """Stands in for the `copy` module inside moto's DynamoDB backend: tables
    are not deep-copied (the items a transaction touches are, below)."""

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, moto_table.Table):
            return value
        return copy.deepcopy(value, memo)


def _touched_items(backend, transact_items):
    """(table, hash, range, item or None) for each item a transaction names."""
    saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        if "Item" in op:
            key = {table.hash_key_attr: op["Item"].get(table.hash_key_attr)}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"].get(table.range_key_attr)
        else:
            key = op.get("Key", {})
        try:
            hash_value, range_value = backend.get_keys_value(table, key)
        except Exception:  # moto reports a bad key itself
            continue
        item = table.get_item(hash_value, range_value)
        saved.append((table, hash_value, range_value, copy.deepcopy(item)))
    return saved


def _restore(saved):
    for table, hash_value, range_value, item in reversed(saved):
        if range_value:
            if item is None:
                table.items[hash_value].pop(range_value, None)
            else:
                table.items[hash_value][range_value] = item
        elif item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item


_original_transact = DynamoDBBackend.transact_write_items


def _transact_write_items(self, transact_items):
    saved = _touched_items(self, transact_items)
    try:
        return _original_transact(self, transact_items)
    except Exception:
        _restore(saved)
        raise


moto_dynamodb.copy = _TablesNotCopied
DynamoDBBackend.transact_write_items = _transact_write_items

moto_app = DomainDispatcherApplication(create_backend_app)
dynamodb_lock = threading.Lock()


def app(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with dynamodb_lock:
            # Produce the whole response inside the lock.
            return list(moto_app(environ, start_response))
    return moto_app(environ, start_response)


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    run_simple(host, port, app, threaded=True)
