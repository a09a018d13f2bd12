"""The moto server, with DynamoDB requests applied one at a time, AWS's
limits enforced, and DynamoDB faults injected on demand (the control API).

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

AWS's limits, where our code relies on them, are enforced here as AWS
enforces them (moto is more forgiving), with AWS's error codes:

  SQS  ChangeMessageVisibility(Batch): the visibility may end at most 43,200 s
       after the receive that returned the receipt handle (counted to the
       millisecond; moto counts from the send): InvalidParameterValue, "...
       Total VisibilityTimeout for the message is beyond the limit [43200
       seconds]." (a failed entry in a batch). VisibilityTimeout outside
       0..43,200 (also on ReceiveMessage): InvalidParameterValue.
       DelaySeconds > 900: InvalidParameterValue (moto); as a queue attribute
       (CreateQueue, SetQueueAttributes; also VisibilityTimeout,
       MessageRetentionPeriod, ReceiveMessageWaitTimeSeconds out of range):
       InvalidAttributeValue. A message over 262,144 bytes, body plus
       attributes: InvalidParameterValue; a SendMessageBatch over it in all:
       AWS.SimpleQueueService.BatchRequestTooLong. More than 10 entries in a
       Send/Delete/ChangeMessageVisibility batch:
       AWS.SimpleQueueService.TooManyEntriesInBatchRequest. MaxNumberOfMessages
       outside 1..10: InvalidParameterValue (moto).
  DynamoDB  An item over 409,600 bytes as AWS sizes it (names + values; a
       number 1 byte per 2 significant digits + 1; a list or map 3 bytes + 1 a
       element): ValidationException "Item size has exceeded the maximum
       allowed size" (PutItem, BatchWriteItem, a transaction's Put), "Item size
       to update has exceeded the maximum allowed size" (UpdateItem, undone);
       a transaction's Update that would grow an item too large cancels it
       (TransactionCanceledException, reason ValidationError). TransactWriteItems
       of more than 100 actions or over 4 MB of items: ValidationException.
       TransactWriteItems' ClientRequestToken: the same token within 10
       minutes of a success answers that success again, applying nothing;
       with another request, IdempotentParameterMismatchException.

The control API (tests only; same port, loopback only, plain JSON):

  POST   /_emulator/faults  {"table": T, "operation": "TransactWriteItems",
         "cancellation_reason": R, "count": N}: the next N TransactWriteItems
         naming table T are not applied and answer TransactionCanceledException
         with reason R (ThrottlingError, TransactionConflict,
         ProvisionedThroughputExceeded, ValidationError,
         ConditionalCheckFailed, ItemCollectionSizeLimitExceeded) on every item.
         {"table": T, "operation": OP, "error": E, "count": N}: the next N
         calls of OP (GetItem, PutItem, UpdateItem, ... any DynamoDB action) on
         T answer E: ProvisionedThroughputExceededException or
         ThrottlingException (400), InternalServerError (500).
  GET    /_emulator/faults?table=T  {"table", "pending": [faults, "count" =
         what is left], "injected": n, "calls": {operation: calls naming T}}
  DELETE /_emulator/faults?table=T  forgets T's faults and counters
  POST   /_emulator/sqs/visibility-window  {"queue_name": Q, "seconds": S}:
         messages received from Q from now on have a window of S s instead of
         43,200 (null: back to 43,200); GET ...?queue_name=Q reads it.

Usage: moto_server.py HOST PORT
"""

import base64
import collections
import copy
import decimal
import functools
import gc
import json
import logging
import os
import sys
import threading
import time
import urllib.parse
import zlib

from collections import deque

import moto.backends as moto_backends
from moto.core import responses as moto_responses
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing.expressions import UpdateExpressionParser
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodb.models import table as moto_table
from moto.dynamodb.models import dynamo_type as moto_dynamo_type
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    DynamodbException,
    ItemSizeTooLarge,
    ItemSizeToUpdateTooLarge,
    MockValidationException,
    TransactionCanceledException,
)
import moto.dynamodb.models as moto_dynamodb
from moto.sqs.exceptions import (
    EmptyBatchRequest,
    InvalidAttributeValue,
    InvalidParameterValue as SQSInvalidParameterValue,
    ReceiptHandleIsInvalid,
    SQSException,
    TooManyEntriesInBatchRequest,
)
from moto.sqs.models import Message as SQSMessage, SQSBackend
from moto.sqs.responses import SQSResponse
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
    _in_transaction.active = True
    try:
        return _original_transact(self, transact_items)
    except Exception:
        _restore(saved)
        raise
    finally:
        _in_transaction.active = False


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

# --- AWS's limits, where our code relies on them and moto is more forgiving.
#
# Each answer is the one AWS gives (error code, HTTP status, message shape), so
# a test that breaks a limit here fails the way production would. Everything
# below is raised as moto's own exception types, so moto renders it in the
# protocol the client speaks (DynamoDB: JSON 1.0; SQS: JSON 1.0 with the
# x-amzn-query-error code, or the query protocol).

# SQS: a message's visibility can end at most 12 hours after the receive that
# returned the receipt handle; a visibility timeout is 0..43,200 s.
SQS_VISIBILITY_WINDOW_S = 43_200
SQS_MAX_DELAY_S = 900
# 256 KiB, body plus message attributes. AWS raised its own ceiling to 1 MiB
# in 2025 (and moto 5.2 follows); the emulator keeps the stricter 256 KiB the
# issue sets, so a message that passes here passes on any queue.
SQS_MAX_MESSAGE_BYTES = 262_144
SQS_MAX_BATCH_ENTRIES = 10
# DynamoDB: 400 KB an item, counted as AWS counts it (_item_size), and a
# TransactWriteItems of at most 100 actions and 4 MB of items.
DYNAMODB_MAX_ITEM_BYTES = 409_600
DYNAMODB_MAX_TRANSACT_ACTIONS = 100
DYNAMODB_MAX_TRANSACT_BYTES = 4 * 1024 * 1024

# Queue name -> visibility window (s) for messages received from it from now
# on; set through POST /_emulator/sqs/visibility-window for scaled-down tests.
_visibility_windows = {}


def _sqs_invalid(message):
    return SQSInvalidParameterValue(message)


def _check_visibility_timeout(value):
    if not 0 <= value <= SQS_VISIBILITY_WINDOW_S:
        raise _sqs_invalid(
            f"Value {value} for parameter VisibilityTimeout is invalid. "
            f"Reason: Must be between 0 and {SQS_VISIBILITY_WINDOW_S}, if provided."
        )


def _validated_visibility_timeout(self, timeout=None):
    """moto's, which checks only the upper bound: TypeError when absent (its
    callers rely on that), AWS's InvalidParameterValue when out of range."""
    value = timeout if timeout is not None else self._get_param("VisibilityTimeout")
    if value is None:
        raise TypeError("no VisibilityTimeout")
    value = int(value)
    _check_visibility_timeout(value)
    return value


SQSResponse._get_validated_visibility_timeout = _validated_visibility_timeout

# Each receive stamps the receipt handle it hands out with the end of its
# window, on the message itself: the record lives and dies with the message
# (a deleted message takes its records with it), and only a message's last
# few handles are kept.
_receiving = threading.local()
_RECORDS_PER_MESSAGE = 8
_original_receive_message = SQSBackend.receive_message


def _receive_message(self, queue_name, *args, **kwargs):
    _receiving.window = _visibility_windows.get(queue_name, SQS_VISIBILITY_WINDOW_S)
    try:
        return _original_receive_message(self, queue_name, *args, **kwargs)
    finally:
        _receiving.window = None


_original_mark_received = SQSMessage.mark_received


def _mark_received(self, visibility_timeout=None):
    _original_mark_received(self, visibility_timeout)
    window = getattr(_receiving, "window", None) or SQS_VISIBILITY_WINDOW_S
    records = self.__dict__.setdefault("_window_ends", {})
    records[self.receipt_handle] = (time.time() + window, window)
    while len(records) > _RECORDS_PER_MESSAGE:
        del records[next(iter(records))]


def _change_message_visibility(self, queue_name, receipt_handle, visibility_timeout):
    """moto's, with the 12-hour rule counted from the receive that returned
    `receipt_handle` (moto counts from the send) and the window per queue."""
    queue = self.get_queue(queue_name)
    visibility_timeout = int(visibility_timeout)
    _check_visibility_timeout(visibility_timeout)
    for message in queue._messages:
        if message.had_receipt_handle(receipt_handle):
            record = message.__dict__.get("_window_ends", {}).get(receipt_handle)
            if record is not None and time.time() + visibility_timeout > record[0]:
                raise _sqs_invalid(
                    f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. "
                    f"Reason: Total VisibilityTimeout for the message is beyond the limit [{record[1]} seconds]."
                )
            message.change_visibility(visibility_timeout)
            if message.visible and message in queue.pending_messages:
                queue.pending_messages.remove(message)
            return
    raise ReceiptHandleIsInvalid()


def _check_batch_size(entries, action):
    if not entries:
        raise EmptyBatchRequest(action=action)
    if len(entries) > SQS_MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest(len(entries))


def _change_message_visibility_batch(self, queue_name, entries):
    """Each entry as ChangeMessageVisibility answers it; a refused entry is a
    failed entry of the batch, as AWS reports it."""
    _check_batch_size(entries, "ChangeMessageVisibility")
    self.get_queue(queue_name)
    success, failed = [], []
    for entry in entries:
        try:
            self.change_message_visibility(queue_name, entry["ReceiptHandle"], int(entry["VisibilityTimeout"]))
        except (SQSInvalidParameterValue, ReceiptHandleIsInvalid) as error:
            failed.append({"Id": entry["Id"], "SenderFault": True, "Code": error.code, "Message": error.message})
        except (KeyError, TypeError, ValueError):
            failed.append(
                {
                    "Id": entry.get("Id"),
                    "SenderFault": True,
                    "Code": "InvalidParameterValue",
                    "Message": "Value for parameter VisibilityTimeout is invalid.",
                }
            )
        else:
            success.append(entry["Id"])
    return success, failed


_original_delete_message_batch = SQSBackend.delete_message_batch


def _delete_message_batch(self, queue_name, receipts):
    _check_batch_size(receipts, "Delete")
    return _original_delete_message_batch(self, queue_name, receipts)


def _utf8_len(value):
    if isinstance(value, bytes):
        return len(value)
    return len(str(value).encode("utf-8"))


def _message_size(body, attributes):
    """A message's size as AWS counts it: the body and, for each message
    attribute, its name, its data type and its value."""
    size = _utf8_len(body or "")
    for name, attribute in (attributes or {}).items():
        size += _utf8_len(name) + _utf8_len(attribute.get("DataType", ""))
        if attribute.get("StringValue") is not None:
            size += _utf8_len(attribute["StringValue"])
        elif attribute.get("BinaryValue") is not None:
            value = attribute["BinaryValue"]
            size += len(value) if isinstance(value, bytes) else len(base64.b64decode(value))
    return size


def _max_message_bytes(queue):
    return min(int(queue.maximum_message_size), SQS_MAX_MESSAGE_BYTES)


_original_send_message = SQSBackend.send_message


def _send_message(self, queue_name, message_body, message_attributes=None, delay_seconds=None, *args, **kwargs):
    queue = self.get_queue(queue_name)
    limit = _max_message_bytes(queue)
    if _message_size(message_body, message_attributes) > limit:
        raise _sqs_invalid(f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes.")
    return _original_send_message(self, queue_name, message_body, message_attributes, delay_seconds, *args, **kwargs)


_original_send_message_batch = SQSBackend.send_message_batch


def _send_message_batch(self, queue_name, entries):
    """AWS refuses a batch of more than 10 before anything else, and one whose
    messages together exceed the message limit (moto: 1 MiB)."""
    queue = self.get_queue(queue_name)
    if len(entries) > SQS_MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest(len(entries))
    total = sum(_message_size(e.get("MessageBody"), e.get("MessageAttributes")) for e in entries.values())
    limit = _max_message_bytes(queue)
    if total > limit:
        raise SQSException(
            "BatchRequestTooLong",
            f"Batch requests cannot be longer than {limit} bytes. You have sent {total} bytes.",
        )
    return _original_send_message_batch(self, queue_name, entries)


# A queue's own attributes, checked as AWS checks them (moto takes any value).
_QUEUE_ATTRIBUTE_RANGES = {
    "DelaySeconds": (0, SQS_MAX_DELAY_S),
    "VisibilityTimeout": (0, SQS_VISIBILITY_WINDOW_S),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
}


def _check_queue_attributes(attributes):
    for name, (low, high) in _QUEUE_ATTRIBUTE_RANGES.items():
        if name in attributes:
            try:
                ok = low <= int(attributes[name]) <= high
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise InvalidAttributeValue(name)


_original_create_queue = SQSBackend.create_queue


def _create_queue(self, name, tags=None, **kwargs):
    _check_queue_attributes(kwargs)
    return _original_create_queue(self, name, tags, **kwargs)


_original_set_queue_attributes = SQSBackend.set_queue_attributes


def _set_queue_attributes(self, queue_name, attributes):
    _check_queue_attributes(attributes)
    return _original_set_queue_attributes(self, queue_name, attributes)


SQSBackend.receive_message = _receive_message
SQSMessage.mark_received = _mark_received
SQSBackend.change_message_visibility = _change_message_visibility
SQSBackend.change_message_visibility_batch = _change_message_visibility_batch
SQSBackend.delete_message_batch = _delete_message_batch
SQSBackend.send_message = _send_message
SQSBackend.send_message_batch = _send_message_batch
SQSBackend.create_queue = _create_queue
SQSBackend.set_queue_attributes = _set_queue_attributes


def _number_size(text):
    """~1 byte per two significant digits, plus 1."""
    try:
        digits = len(decimal.Decimal(str(text)).normalize().as_tuple().digits)
    except decimal.InvalidOperation:
        digits = len(str(text))
    return (digits + 1) // 2 + 1


def _binary_size(value):
    if isinstance(value, bytes):
        return len(value)
    try:
        return len(base64.b64decode(value))
    except (ValueError, TypeError):
        return _utf8_len(value)


def _value_size(value):
    """An attribute value's size as DynamoDB counts it, from its wire form
    ({"S": "..."}) or moto's DynamoType."""
    if isinstance(value, DynamoType):
        kind, data = value.type, value.value
    else:
        kind, data = next(iter(value.items()))
    if kind == "S":
        return _utf8_len(data)
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return _binary_size(data)
    if kind == "SS":
        return sum(_utf8_len(v) for v in data)
    if kind == "NS":
        return sum(_number_size(v) for v in data)
    if kind == "BS":
        return sum(_binary_size(v) for v in data)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + _utf8_len(k) + _value_size(v) for k, v in data.items())
    return 1  # BOOL, NULL


def _item_size(attributes):
    """An item's size as DynamoDB counts it: each attribute's name (UTF-8
    bytes) and value (_value_size)."""
    return sum(_utf8_len(name) + _value_size(value) for name, value in attributes.items())


# moto's own check (405,000 of a count of its own, redone for every attribute
# set) is replaced by AWS's, below: the item a write would leave.
moto_dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__


class ValidationError(Exception):
    """An item of a transaction that breaks a validation rule: moto files
    any exception it does not know under its class name, as the
    cancellation reason's Code, with str(error) as its Message."""


_in_transaction = threading.local()
_original_update_item = DynamoDBBackend.update_item


def _update_item(self, table_name, key, *args, **kwargs):
    """moto's update, refused (and undone) if it leaves the item over 400 KB:
    alone, ValidationException; in a transaction, a ValidationError reason."""
    transaction = getattr(_in_transaction, "active", False)
    saved = None if transaction else _touched_items(self, [{"Update": {"TableName": table_name, "Key": key}}])
    item = _original_update_item(self, table_name, key, *args, **kwargs)
    if item is not None and _item_size(item.attrs) > DYNAMODB_MAX_ITEM_BYTES:
        if transaction:
            raise ValidationError(ItemSizeToUpdateTooLarge.item_size_to_update_too_large_msg)
        _restore(saved)
        raise ItemSizeToUpdateTooLarge()
    return item


DynamoDBBackend.update_item = _update_item

def _check_put_items(items):
    for item in items:
        if _item_size(item) > DYNAMODB_MAX_ITEM_BYTES:
            raise ItemSizeTooLarge()


def _check_transact_write(body):
    actions = body.get("TransactItems") or []
    if len(actions) > DYNAMODB_MAX_TRANSACT_ACTIONS:
        shown = ", ".join(f"com.amazonaws.dynamodb.v20120810.TransactWriteItem@{i:08x}" for i in range(len(actions)))
        raise MockValidationException(
            f"1 validation error detected: Value '[{shown}]' at 'transactItems' failed to satisfy "
            f"constraint: Member must have length less than or equal to {DYNAMODB_MAX_TRANSACT_ACTIONS}"
        )
    total = 0
    for action in actions:
        kind, op = next(iter(action.items()))
        if kind == "Put":
            size = _item_size(op.get("Item") or {})
            if size > DYNAMODB_MAX_ITEM_BYTES:
                raise ItemSizeTooLarge()
            total += size
        else:
            total += _item_size(op.get("Key") or {})
            total += sum(_value_size(v) for v in (op.get("ExpressionAttributeValues") or {}).values())
    if total > DYNAMODB_MAX_TRANSACT_BYTES:
        raise MockValidationException("Transaction request cannot be larger than 4 MB")


def _check_batch_write(body):
    for requests in (body.get("RequestItems") or {}).values():
        _check_put_items(r["PutRequest"].get("Item") or {} for r in requests if "PutRequest" in r)


# Request-level checks, before moto looks at the request.
_REQUEST_CHECKS = {
    "PutItem": lambda body: _check_put_items([body.get("Item") or {}]),
    "BatchWriteItem": _check_batch_write,
    "TransactWriteItems": _check_transact_write,
}

# --- Fault injection: the control API's answers in place of DynamoDB's.

_DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"
# Cancellation reasons a test may ask for, with AWS's message for each.
CANCELLATION_REASONS = {
    "ThrottlingError": "Throughput exceeds the current capacity of your table or index.",
    "TransactionConflict": "Transaction is ongoing for the item.",
    "ProvisionedThroughputExceeded": "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API.",
    "ValidationError": "One or more parameter values were invalid.",
    "ConditionalCheckFailed": "The conditional request failed",
    "ItemCollectionSizeLimitExceeded": "Collection size exceeded.",
}
# Whole-call errors a test may ask for: (__type, HTTP status, message).
INJECTABLE_ERRORS = {
    "ProvisionedThroughputExceededException": (
        _DYNAMODB_ERROR + "ProvisionedThroughputExceededException",
        400,
        "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    ),
    "ThrottlingException": (
        "com.amazon.coral.availability#ThrottlingException",
        400,
        "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling "
        "your table or index so please try again shortly.",
    ),
    "InternalServerError": (_DYNAMODB_ERROR + "InternalServerError", 500, "Internal server error"),
}


class _TableFaults:
    def __init__(self):
        self.pending = []  # [{"operation", "cancellation_reason" | "error", "count"}]
        self.injected = 0
        self.calls = {}


_faults = {}  # table name -> _TableFaults; read and written under dynamodb_lock


def _tables_named(action, body):
    if action in ("TransactWriteItems", "TransactGetItems"):
        ops = (next(iter(a.values()), None) for a in body.get("TransactItems") or [] if isinstance(a, dict))
        names = (op.get("TableName") for op in ops if isinstance(op, dict))
        return list(dict.fromkeys(n for n in names if isinstance(n, str)))
    if action in ("BatchWriteItem", "BatchGetItem"):
        return list(body.get("RequestItems") or {})
    name = body.get("TableName")
    return [name] if isinstance(name, str) else []


def _injected_fault(action, body):
    """Counts the call for each table it names; the error to answer instead,
    if a fault is pending for one of them."""
    tables = _tables_named(action, body)
    for table in tables:
        state = _faults.setdefault(table, _TableFaults())
        state.calls[action] = state.calls.get(action, 0) + 1
    for table in tables:
        state = _faults[table]
        for fault in state.pending:
            if fault["operation"] != action:
                continue
            fault["count"] -= 1
            if fault["count"] <= 0:
                state.pending.remove(fault)
            state.injected += 1
            if "cancellation_reason" in fault:
                code = fault["cancellation_reason"]
                reasons = [(code, CANCELLATION_REASONS[code], None)] * len(body.get("TransactItems") or [None])
                return TransactionCanceledException(reasons)
            error_type, status, message = INJECTABLE_ERRORS[fault["error"]]
            error = DynamodbException(error_type, message)
            error.code = status
            return error
    return None


_original_dynamodb_call_action = DynamoHandler.call_action


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self):
        super().__init__(
            ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
            message="The request uses the same client token as a previous, but non-identical request.",
        )


# TransactWriteItems' ClientRequestToken (the SDK fills one in and keeps it
# across its retries): within 10 minutes of a successful call, the same token
# with the same request answers that success again without applying anything;
# with another request, IdempotentParameterMismatchException. moto ignores the
# token, so a retry after a lost answer would fail its conditions here where
# AWS answers success. Calls are serialised, so no call is "in progress".
TRANSACT_TOKEN_WINDOW_S = 600
# token -> (expires at, the request without its token, the answer), oldest
# first: every entry lives the same window, so the expired ones are at the
# front and each call drops only those (not a walk over every token).
_transact_tokens = collections.OrderedDict()


def _transact_with_token(self, body):
    token = body.get("ClientRequestToken")
    now = time.monotonic()
    while _transact_tokens and next(iter(_transact_tokens.values()))[0] <= now:
        _transact_tokens.popitem(last=False)
    request = json.dumps({k: v for k, v in body.items() if k != "ClientRequestToken"}, sort_keys=True)
    seen = _transact_tokens.get(token)
    if seen is not None:
        if seen[1] != request:
            raise IdempotentParameterMismatch()
        return seen[2]
    answer = _original_dynamodb_call_action(self)
    if answer[0] == 200:
        _transact_tokens[token] = (now + TRANSACT_TOKEN_WINDOW_S, request, answer)
    return answer


def _dynamodb_call_action(self):
    body = getattr(self, "params", None) or {}
    action = self._get_action()
    try:
        error = _injected_fault(action, body)
        if error is not None:
            raise error
        check = _REQUEST_CHECKS.get(action)
        if check is not None:
            try:
                check(body)
            except DynamodbException:
                raise
            except Exception:  # a malformed request: moto answers it
                pass
        if action == "TransactWriteItems" and body.get("ClientRequestToken"):
            return _transact_with_token(self, body)
    except DynamodbException as error:
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amzn-ErrorType": error.relative_error_type}
        headers, body = DynamoHandler._enrich_response(headers, error.description)
        headers["X-Amz-Crc32"] = str(zlib.crc32(body.encode("utf-8")) & 0xFFFFFFFF)
        return error.code, headers, body
    return _original_dynamodb_call_action(self)


DynamoHandler.call_action = _dynamodb_call_action

moto_app = DomainDispatcherApplication(create_backend_app)
dynamodb_lock = threading.Lock()


# --- The control API (tests only): see the module docstring.


def _json_response(start_response, status, payload):
    body = json.dumps(payload).encode("utf-8")
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _BadRequest(Exception):
    pass


def _request_json(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except (ValueError, KeyError) as error:
        raise _BadRequest(f"the body is not JSON: {error}")
    if not isinstance(payload, dict):
        raise _BadRequest("the body must be a JSON object")
    return payload


def _query(environ, name):
    values = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get(name)
    if not values:
        raise _BadRequest(f"the query must name ?{name}=")
    return values[0]


def _new_fault(payload):
    table, operation = payload.get("table"), payload.get("operation")
    if not isinstance(table, str) or not table:
        raise _BadRequest("'table' (a table name) is required")
    if not isinstance(operation, str) or not operation:
        raise _BadRequest("'operation' (a DynamoDB action, e.g. TransactWriteItems) is required")
    count = payload.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise _BadRequest("'count' must be a positive integer")
    fault = {"operation": operation, "count": count}
    reason, error = payload.get("cancellation_reason"), payload.get("error")
    if (reason is None) == (error is None):
        raise _BadRequest("give exactly one of 'cancellation_reason' (TransactWriteItems) or 'error'")
    if reason is not None:
        if operation != "TransactWriteItems":
            raise _BadRequest("'cancellation_reason' is for TransactWriteItems; use 'error' for other operations")
        if reason not in CANCELLATION_REASONS:
            raise _BadRequest(f"'cancellation_reason' must be one of {sorted(CANCELLATION_REASONS)}")
        fault["cancellation_reason"] = reason
    else:
        if error not in INJECTABLE_ERRORS:
            raise _BadRequest(f"'error' must be one of {sorted(INJECTABLE_ERRORS)}")
        fault["error"] = error
    return table, fault


def _faults_report(table):
    state = _faults.get(table) or _TableFaults()
    return {"table": table, "pending": [dict(f) for f in state.pending], "injected": state.injected, "calls": dict(state.calls)}


def control_app(environ, start_response):
    """/_emulator/...: plain JSON over HTTP, from loopback only."""
    if environ.get("REMOTE_ADDR") not in ("127.0.0.1", "::1"):
        return _json_response(start_response, 403, {"error": "the control API answers loopback only"})
    method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
    try:
        if path == "/_emulator/faults":
            if method == "POST":
                table, fault = _new_fault(_request_json(environ))
                with dynamodb_lock:
                    _faults.setdefault(table, _TableFaults()).pending.append(fault)
                    return _json_response(start_response, 200, _faults_report(table))
            if method == "GET":
                table = _query(environ, "table")
                with dynamodb_lock:
                    return _json_response(start_response, 200, _faults_report(table))
            if method == "DELETE":
                table = _query(environ, "table")
                with dynamodb_lock:
                    _faults.pop(table, None)
                    return _json_response(start_response, 200, _faults_report(table))
            return _json_response(start_response, 405, {"error": f"{method} {path}: use POST, GET or DELETE"})
        if path == "/_emulator/sqs/visibility-window":
            if method == "POST":
                payload = _request_json(environ)
                queue, seconds = payload.get("queue_name"), payload.get("seconds")
                if not isinstance(queue, str) or not queue:
                    raise _BadRequest("'queue_name' (a queue name) is required")
                if seconds is None:
                    _visibility_windows.pop(queue, None)
                elif isinstance(seconds, int) and not isinstance(seconds, bool) and 1 <= seconds <= SQS_VISIBILITY_WINDOW_S:
                    _visibility_windows[queue] = seconds
                else:
                    raise _BadRequest(f"'seconds' must be an integer in 1..{SQS_VISIBILITY_WINDOW_S} (or null: the default)")
            elif method != "GET":
                return _json_response(start_response, 405, {"error": f"{method} {path}: use POST or GET"})
            else:
                queue = _query(environ, "queue_name")
            seconds = _visibility_windows.get(queue, SQS_VISIBILITY_WINDOW_S)
            return _json_response(start_response, 200, {"queue_name": queue, "seconds": seconds})
    except _BadRequest as error:
        return _json_response(start_response, 400, {"error": str(error)})
    return _json_response(start_response, 404, {"error": f"no control endpoint {method} {path}"})


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
    if environ.get("PATH_INFO", "").startswith("/_emulator/"):
        return control_app(environ, start_response)
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
