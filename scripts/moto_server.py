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

moto is also slow, ~2-6 ms per DynamoDB call, which caps what `make dev` can
carry; the patches under "Speed" below take out the parts that are the same for
every call (each was profiled; none changes an answer: see MOTO_FAST_CHECK).

Usage: moto_server.py HOST PORT
"""

import copy
import functools
import gc
import json
import logging
import os
import sys
import threading

from collections import deque

import moto.backends as moto_backends
from moto.core import responses as moto_responses
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodb.models import table as moto_table
import moto.dynamodb.models as moto_dynamodb
from moto.moto_server.werkzeug_app import BackendRequest, DomainDispatcherApplication, create_backend_app
from werkzeug.wrappers import Response
from waitress import serve


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

# --- Speed: moto spends most of a DynamoDB call on work that never changes.
#
# 1. Every request lists moto's package directory (~60 stat calls) to route it,
#    and looks its handler's methods up with `inspect`: both are fixed for the
#    life of the process, so they are computed once.
_modules = tuple(moto_backends.list_of_moto_modules())
moto_backends.list_of_moto_modules = lambda: _modules
moto_responses.method_names_from_class = functools.cache(moto_responses.method_names_from_class)

# 2. moto turns each result into its response through botocore's model of the
#    operation, member by member: ~1 ms for a small item, tens of ms for an
#    item holding a list of maps (a transaction with its refunds). A DynamoDB
#    result is already in wire form (AttributeValues, plain JSON types), so it
#    is dumped as is. Anything json cannot dump as is (a table description's
#    datetimes) and every error take moto's own path.
_model_serialized = DynamoHandler.serialized
# MOTO_FAST_CHECK=1 (when moving to a new moto): both ways, and a 500 with
# both answers wherever they differ, so the test suite shows any difference.
_CHECK = os.environ.get("MOTO_FAST_CHECK")


def _serialized(self, action_result):
    result = action_result.result
    if isinstance(result, dict):
        try:
            body = json.dumps(result, separators=(",", ":"))
        except TypeError:
            pass
        else:
            if _CHECK:
                ref = _model_serialized(self, action_result)
                if ref[0] != 200 or json.loads(ref[2]) != json.loads(body):
                    message = f"moto_server: {self._get_action()} answered {body} where moto answers {ref[2]}"
                    return 500, {"Content-Type": "text/plain"}, message
            headers = {"Content-Type": "application/x-amz-json-1.0"}
            headers.update(self.response_headers)
            return 200, headers, body
    return _model_serialized(self, action_result)


DynamoHandler.serialized = _serialized

# 3. Every condition expression is lexed afresh, with ~20 regular expressions
#    per token. The tokens depend on the expression's text alone (names and
#    values are bound later), and the store sends the same few texts.
_lex = ConditionExpressionParser._lex_condition_expression


@functools.lru_cache(maxsize=1024)
def _lexed(expression):
    return tuple(_lex(ConditionExpressionParser(expression, None, None)))


ConditionExpressionParser._lex_condition_expression = lambda self: deque(_lexed(self.condition_expression))

# 4. An update expression is parsed twice per call (once to validate the
#    request, once to apply it), also from its text alone. The tree is only
#    read: moto's validator works on a deep copy of it.
UpdateExpressionParser.make = classmethod(functools.lru_cache(maxsize=1024)(UpdateExpressionParser.make.__func__))


# 5. Python's full collections walk every object the emulator holds, every
#    item of every table: 100–300 ms each once a few thousand transactions are
#    stored, a stall for every request queued behind it. What has survived two
#    collections (the tables' items, mostly) is frozen out of the next ones,
#    so that each walks only the young objects; acyclic garbage among the
#    frozen is still freed by reference counts.
def _freeze_survivors(phase, info):
    if phase == "stop" and info["generation"] >= 1:
        gc.freeze()


gc.callbacks.append(_freeze_survivors)

moto_app = DomainDispatcherApplication(create_backend_app)
dynamodb_lock = threading.Lock()


def dynamodb_app(environ, start_response):
    """A DynamoDB call straight to moto's DynamoDB handler: what moto's Flask
    app does for it, without the per-request routing by host, Flask's request
    context and the CORS headers (a third of a GetItem's cost)."""
    request = BackendRequest(environ)
    try:
        status, headers, body = DynamoHandler.dispatch(request, request.raw_url, dict(request.headers))
    except ClientError as error:  # as moto's Flask adapter answers it
        status, headers, body = 400, {}, error.response["Error"]["Message"]
    return Response(body, status=status, headers=headers)(environ, start_response)


def app(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with dynamodb_lock:
            # Produce the whole response inside the lock.
            return list(dynamodb_app(environ, start_response))
    return moto_app(environ, start_response)


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    # With every thread busy (long polls, calls waiting for the DynamoDB lock)
    # waitress logs "Task queue depth" for each request it queues: 7 % of the
    # emulator's CPU under load, for a message that only says it is loaded.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    gc.freeze()  # moto's own modules, loaded: nothing there to collect
    # waitress, not werkzeug's development server: a third of the cost per
    # request. Its threads run the application: SQS long polls (up to 20 s)
    # each hold one, so there are plenty; idle keep-alive connections hold none.
    print(f"moto (waitress) on http://{host}:{port}", flush=True)
    serve(app, host=host, port=port, threads=64, connection_limit=1000, asyncore_use_poll=True, _quiet=True)
